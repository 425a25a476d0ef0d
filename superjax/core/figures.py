"""One figure style and one saver for every family.

Figures are drawn from saved results into matplotlib Figures; `save` writes each as PNG
(for reading) and PDF (for papers) in the style below.
"""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt

STYLE = {"font.size": 9, "axes.titlesize": 9, "figure.dpi": 150, "savefig.bbox": "tight",
         "axes.spines.top": False, "axes.spines.right": False}
plt.rcParams.update(STYLE)


def save(fig, stem: Path) -> Path:
  """Writes `stem`.png and `stem`.pdf, closes the figure and returns the PNG's path."""
  stem = Path(stem)
  stem.parent.mkdir(parents=True, exist_ok=True)
  for suffix in (".png", ".pdf"):
    fig.savefig(stem.with_suffix(suffix))
  plt.close(fig)
  return stem.with_suffix(".png")
