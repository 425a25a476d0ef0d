"""One figure style and one saver for every family.

Figures are matplotlib `Figure` objects made without pyplot, so drawing one changes no
global state: a notebook shows the ones a call returns and nothing else, and a long
sweep of figures leaks no open windows. Each family's figure functions take saved results
and return a Figure; `styled` draws them in the house style, `save` writes PNG (for
reading) and PDF (for papers).
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Callable

import matplotlib
from matplotlib.figure import Figure

STYLE = {"font.size": 9, "axes.titlesize": 9, "figure.dpi": 150, "savefig.bbox": "tight",
         "axes.spines.top": False, "axes.spines.right": False}


def subplots(nrows: int = 1, ncols: int = 1, *, figsize=None, **kwargs):
  """A new Figure and its axes, as pyplot.subplots makes them (squeeze, sharex, ...)."""
  fig = Figure(figsize=figsize)
  return fig, fig.subplots(nrows, ncols, **kwargs)


def figure(figsize=None) -> Figure:
  return Figure(figsize=figsize)


def colormap(name: str):
  return matplotlib.colormaps[name]


def styled(draw: Callable[..., Figure]) -> Callable[..., Figure]:
  """Wraps a figure function so it draws in STYLE, whatever the caller's rcParams."""
  @functools.wraps(draw)
  def wrapper(*args, **kwargs):
    with matplotlib.rc_context(STYLE):
      return draw(*args, **kwargs)
  return wrapper


def save(fig: Figure, stem: Path) -> Path:
  """Writes `stem`.png and `stem`.pdf; returns the PNG's path."""
  stem = Path(stem)
  stem.parent.mkdir(parents=True, exist_ok=True)
  with matplotlib.rc_context(STYLE):
    for suffix in (".png", ".pdf"):
      fig.savefig(stem.with_suffix(suffix))
  return stem.with_suffix(".png")


def save_all(figures: dict[str, Figure], out_dir: Path) -> list[Path]:
  """Saves every figure as `out_dir`/<name>.png and .pdf; returns the PNG paths."""
  return [save(fig, Path(out_dir) / name) for name, fig in figures.items()]
