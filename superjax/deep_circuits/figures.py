"""The depth figures, from saved results: epsilon against depth with and without error
correction, one panel per width, seed spread as a band."""

from __future__ import annotations

import xarray as xr
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from superjax.core import figures
from superjax.core.experiment import config_of
from superjax.deep_circuits.config import DeepCircuitsConfig
from superjax.deep_circuits.report import CORRECTABLE

_STYLE = {"uncorrected": ("#dd8452", "-", "without correction"),
          "corrected": ("#4c72b0", "-", "with correction (U-AND readouts)"),
          "cleaned": ("#55a868", ":", "after each correction layer")}


@figures.styled
def error_vs_depth(ds: xr.Dataset, cfg: DeepCircuitsConfig, kind: str) -> Figure:
  """`kind` ("max" or "mean") error against layer, one panel per width m; lines: seed mean,
  bands: seed min to max."""
  fig, axes = figures.subplots(1, len(ds.m), squeeze=False, sharey=True,
                               figsize=(2.6 * len(ds.m) + 0.6, 2.6))
  layers = ds.layer.values
  for c, m in enumerate(ds.m.values):
    ax = axes[0, c]
    for readout in ds.readout.values:
      colour, style, label = _STYLE[str(readout)]
      err = ds[f"{kind}_error"].sel(readout=readout, m=m).transpose("layer", "seed").values
      ax.plot(layers, err.mean(axis=1), color=colour, ls=style, marker="o", ms=2.5, lw=1.1,
              label=label if c == 0 else None)
      ax.fill_between(layers, err.min(axis=1), err.max(axis=1), color=colour, alpha=0.2, lw=0)
    if kind == "max":
      ax.axhline(CORRECTABLE, color="k", lw=0.6, ls="--")
    ax.set_title(f"m = {int(m):,}")
    ax.set_xlabel("circuit layer")
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_ylim(bottom=0)
  axes[0, 0].set_ylabel(f"{kind} |readout - truth|")
  fig.legend(frameon=False, loc="upper center", ncol=3, bbox_to_anchor=(0.5, 1.08))
  fig.suptitle(f"{cfg.name}: {kind} error per layer, n = {cfg.n}, s = {cfg.s}, p = "
               f"{float(ds.p):g}" + (f" (dashed: {CORRECTABLE:g}, the correction's margin)"
                                     if kind == "max" else ""), y=1.16)
  return fig


def draw(dataset: xr.Dataset) -> dict[str, Figure]:
  """Max and mean error against depth, for every p."""
  cfg = config_of(dataset)
  out = {}
  for p in dataset.p.values:
    suffix = "" if len(dataset.p) == 1 else f"_p{float(p):g}"
    for kind in ("max", "mean"):
      out[f"deep_circuits_{kind}_error_vs_depth{suffix}"] = error_vs_depth(
          dataset.sel(p=p), cfg, kind)
  return out
