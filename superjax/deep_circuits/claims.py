"""Hänni et al. 2024's claims about depth that the hanni_depth sweep tests, measured at
its widest width (the regime where one U-AND layer's error is below the correction's
margin, which Theorem 8 assumes) and at the p whose first-layer error is lowest there."""

from __future__ import annotations

import numpy as np
import xarray as xr

from superjax.core.scorecard import Claim, Finding
from superjax.deep_circuits.report import CORRECTABLE, bounded, summary

# Without correction the error must at least double from the first to the last layer:
# the correction layers exist because composed readout errors compound, so a growth that
# is smaller than the spread between seeds (about 1.2x at depth 12) would not show it.
GROWTH_FACTOR = 2.0
# A weaker growth, still beyond the seeds' spread, counts as partial support.
PARTLY_GROWTH_FACTOR = 1.2


def _widest(ds: xr.Dataset):
  """(m, p): the widest width and, there, the p with the lowest seed-mean layer-1 error."""
  m = ds.m.values[-1]
  first = ds["max_error"].sel(readout="corrected", m=m).isel(layer=0).mean("seed")
  return m, ds.p.values[int(np.argmin(first.values))]


def bounded_with_correction(ds: xr.Dataset) -> Finding:
  m, p = _widest(ds)
  s = summary(ds, m, p)
  ok = bounded(s)
  largest = s["corrected"]["largest"]
  measured = (f"m={int(m):,}: corrected U-AND max error, largest of {ds.layer.size} layers: "
              f"{np.mean(largest):.3f} [{np.min(largest):.3f}, {np.max(largest):.3f}]; "
              f"exact after correction in {int(ok.sum())}/{ok.size} seeds")
  if ok.all():
    return Finding(measured, "holds", f"every layer's error < {CORRECTABLE:g}, so each "
                   "correction is exact and the error does not grow")
  if ok.mean() >= 0.5:
    return Finding(measured, "partly", "bounded in most seeds; some layer's error reached "
                   f"{CORRECTABLE:g} and leaked through the correction")
  return Finding(measured, "does not hold", f"errors reach {CORRECTABLE:g}: the correction "
                 "is not exact at this width")


def grows_without_correction(ds: xr.Dataset) -> Finding:
  m, p = _widest(ds)
  r = summary(ds, m, p)["uncorrected"]
  growth = float(np.mean(r["last"]) / max(float(np.mean(r["first"])), 1e-12))
  measured = (f"m={int(m):,}: uncorrected max error {np.mean(r['first']):.3f} (layer 1) -> "
              f"{np.mean(r['last']):.3f} (layer {ds.layer.size}), {growth:.1f}x; slope "
              f"{np.mean(r['slope']):+.3f} [{np.min(r['slope']):+.3f}, {np.max(r['slope']):+.3f}]"
              "/layer")
  if growth >= GROWTH_FACTOR and (r["slope"] > 0).all():
    return Finding(measured, "holds", f"grows >= {GROWTH_FACTOR:g}x with depth in every seed")
  if growth >= PARTLY_GROWTH_FACTOR:
    return Finding(measured, "partly", f"grows {growth:.1f}x, less than {GROWTH_FACTOR:g}x "
                   "or not in every seed")
  return Finding(measured, "does not hold", "no growth beyond the seeds' spread")


CLAIMS = (
    Claim(key="hanni.depth_bounded_with_correction", paper="Hänni et al. 2024",
          where="Thm. 8",
          states="error stays bounded with depth when error-correction layers alternate with "
                 "U-AND layers",
          sweep="hanni_depth", measure=bounded_with_correction),
    Claim(key="hanni.depth_grows_without_correction", paper="Hänni et al. 2024",
          where="Sec. on error correction (motivation)",
          states="without correction the error grows with depth",
          sweep="hanni_depth", measure=grows_without_correction),
)
