"""The depth report: the epsilon of every layer with and without error correction, the
fitted growth per layer, and whether the corrected error stays bounded, from saved results."""

from __future__ import annotations

import numpy as np
import xarray as xr

from superjax.core.experiment import config_of

# The correction layer maps a value within this distance of {0, 1} exactly onto it.
CORRECTABLE = 0.25


def slopes(errors: np.ndarray) -> np.ndarray:
  """Least-squares slope of error against layer for every row: (..., L) -> (...)."""
  layers = np.arange(1, errors.shape[-1] + 1, dtype=float)
  centred = layers - layers.mean()
  return np.sum((errors - errors.mean(axis=-1, keepdims=True)) * centred, axis=-1) / np.sum(
      centred ** 2)


def summary(ds: xr.Dataset, m, p) -> dict:
  """One (m, p) cell's numbers: per seed, the max error at the first and last layer, its
  fitted slope per layer, and the largest over layers, for every readout."""
  out = {}
  for readout in ds.readout.values:
    err = ds["max_error"].sel(readout=readout, m=m, p=p).transpose("seed", "layer").values
    out[str(readout)] = {"first": err[:, 0], "last": err[:, -1], "slope": slopes(err),
                         "largest": err.max(axis=1)}
  return out


def bounded(cell: dict) -> np.ndarray:
  """(seeds,) whether the corrected network stays correctable at every layer: its U-AND
  readouts within CORRECTABLE of the truth everywhere, so every correction is exact."""
  return (cell["corrected"]["largest"] < CORRECTABLE) & (cell["cleaned"]["largest"] == 0.0)


def _spread(values: np.ndarray, fmt: str = "{:.3f}") -> str:
  return (fmt.format(np.mean(values)) + " [" + fmt.format(np.min(values)) + ", "
          + fmt.format(np.max(values)) + "]")


def render(dataset: xr.Dataset) -> str:
  cfg = config_of(dataset)
  lines = [(f"{cfg.name}: a random comparator circuit (AND and OR of paired features) of depth "
            f"{cfg.depth} on n = {cfg.n} features, s = {cfg.s} active ({cfg.active}); "
            f"{cfg.seeds} seeds x "
            + ("every input" if cfg.every_input else f"{cfg.test_inputs} test inputs")),
           ("each circuit layer: one U-AND layer of m neurons (features read out linearly, in "
            "superposition); corrected: plus a correction layer 2 ReLU(v - 1/4) - 2 ReLU(v - 3/4) "
            f"after each (2n = {2 * cfg.n} neurons, features in a basis, not in superposition)"),
           ("epsilon = max over test inputs and features of |readout - true value|; mean "
            "[min, max] over seeds"), ""]
  for p in dataset.p.values:
    for m in dataset.m.values:
      cell = dataset.sel(p=p, m=m)
      lines.append(f"m = {int(m):,} neurons per U-AND layer, p = {float(p):g}")
      lines.append(f"  {'layer':>5}  {'uncorrected':>22}  {'corrected (U-AND)':>22}  "
                   f"{'after correction':>22}  {'mean err unc/cor':>16}")
      for k, layer in enumerate(cell.layer.values):
        row = [_spread(cell["max_error"].sel(readout=r).isel(layer=k).values)
               for r in dataset.readout.values]
        means = [float(cell["mean_error"].sel(readout=r).isel(layer=k).mean())
                 for r in ("uncorrected", "corrected")]
        lines.append(f"  {int(layer):>5}  " + "  ".join(f"{v:>22}" for v in row)
                     + f"  {means[0]:7.4f}/{means[1]:.4f}")
      s = summary(dataset, m, p)
      for readout in ("uncorrected", "corrected"):
        r = s[readout]
        lines.append(f"  {readout:<11} max error: layer 1 {np.mean(r['first']):.3f}, layer "
                     f"{cfg.depth} {np.mean(r['last']):.3f} ({np.mean(r['last']) / max(np.mean(r['first']), 1e-12):.2f}x); "
                     f"fitted growth {_spread(r['slope'], '{:+.4f}')} per layer")
      ok = bounded(s)
      lines.append(f"  bounded with correction (U-AND error < {CORRECTABLE:g} at every layer, "
                   f"so every correction is exact): {int(ok.sum())} of {len(ok)} seeds"
                   + ("" if ok.all() else f"; largest corrected U-AND error "
                      f"{np.max(s['corrected']['largest']):.3f}"))
      if bool(cell["diverged"].any()):
        lines.append(f"  {int(cell['diverged'].sum())} run(s) turned non-finite and were frozen")
      lines.append("")
  return "\n".join(lines).rstrip()
