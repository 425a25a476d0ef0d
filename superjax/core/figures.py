"""One figure style and one saver for every family.

Figures are matplotlib `Figure` objects made without pyplot, so drawing one changes no
global state: a notebook shows the ones a call returns and nothing else, and a long
sweep of figures leaks no open windows. Each family's figure functions take saved results
and return a Figure; `styled` draws them in the house style, `save` writes PNG (for
reading) and PDF (for papers).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from pathlib import Path

import matplotlib
from matplotlib.figure import Figure

from superjax.core import host

STYLE = {"font.size": 9, "axes.titlesize": 9, "figure.dpi": 150, "savefig.bbox": "tight",
         "axes.spines.top": False, "axes.spines.right": False}


def _show_inline_in_notebooks() -> None:
  """In a Jupyter kernel, display Figures as PNG even where pyplot was never imported (it
  is pyplot's inline backend that otherwise registers the formatter)."""
  if host.in_notebook():
    from IPython import get_ipython
    from IPython.core.pylabtools import select_figure_formats
    select_figure_formats(get_ipython(), {"png"})


def figure(figsize=None) -> Figure:
  _show_inline_in_notebooks()
  return Figure(figsize=figsize)


def subplots(nrows: int = 1, ncols: int = 1, *, figsize=None, **kwargs):
  """A new Figure and its axes, as pyplot.subplots makes them (squeeze, sharex, ...)."""
  fig = figure(figsize=figsize)
  return fig, fig.subplots(nrows, ncols, **kwargs)


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
