"""The U-AND report: the hidden width each construction needs against the number of
features n, its fitted scaling exponent with a bootstrap interval, and the trained circuit
beside the constructions, from saved results."""

from __future__ import annotations

import numpy as np
import xarray as xr

from superjax.core.experiment import config_of

# Theory's log-log slopes of width against n: polylog for basis inputs, sqrt(n) as stated
# for superposed inputs (and n^(2/3) for the first version's construction).
THEORY_SLOPES = {"basis": (0.0,), "superposed": (0.5, 2 / 3)}


def smallest_width(errors: xr.DataArray, target: float) -> xr.DataArray:
  """The smallest width on `errors`' m axis whose error is at most `target` (NaN where
  none is), with the m axis reduced."""
  widths = xr.DataArray(errors.m.values.astype(np.float32), dims="m", coords={"m": errors.m})
  return widths.where(errors <= target).min("m")


def fit_slope(n: np.ndarray, width: np.ndarray) -> float:
  """Least-squares slope of log(width) against log(n) over finite points (NaN if < 2)."""
  ok = np.isfinite(width)
  if np.sum(ok) < 2 or len(np.unique(n[ok])) < 2:
    return float("nan")
  return float(np.polyfit(np.log(n[ok]), np.log(width[ok]), 1)[0])


def geometric_mean(values: np.ndarray, axis: int) -> np.ndarray:
  """Geometric mean along `axis`; NaN wherever a value is NaN (a width never reached)."""
  with np.errstate(all="ignore"):
    return np.exp(np.mean(np.log(values), axis=axis))


def bootstrap_slope(n: np.ndarray, needed: np.ndarray, samples: int = 1000,
                    seed: int = 0) -> tuple[float, float, float]:
  """Slope of the seed-mean log width against log n, with a 95% bootstrap interval over
  seeds (seeds resampled with replacement; n where any drawn seed failed are dropped).

  Args:
    n: (K,) feature counts. needed: (K, seeds) width needed, NaN where not reached.
  """
  def slope(rows: np.ndarray) -> float:
    return fit_slope(n, geometric_mean(rows, axis=1))

  rng = np.random.default_rng(seed)
  draws = [slope(needed[:, rng.integers(0, needed.shape[1], needed.shape[1])])
           for _ in range(samples)]
  draws = np.asarray([d for d in draws if np.isfinite(d)])
  if len(draws) == 0:
    return slope(needed), float("nan"), float("nan")
  return slope(needed), float(np.percentile(draws, 2.5)), float(np.percentile(draws, 97.5))


def _fmt(v: float) -> str:
  return "-" if not np.isfinite(v) else f"{v:,.0f}"


def render(dataset: xr.Dataset) -> str:
  cfg = config_of(dataset)
  n = dataset.n.values.astype(float)
  tested = ("every input with s features on" if cfg.every_input
            else f"{cfg.test_inputs} test inputs each")
  lines = [(f"{cfg.name}: U-AND of n features, s active ({cfg.active}); {cfg.seeds} seeds, "
            f"{tested}, every pair; target max error {cfg.target:g}")]
  if "superposed" in dataset.inputs.values:
    lines.append("superposed inputs: d0 = " + ", ".join(
        f"{int(a)} (n={int(b)})" for a, b in zip(dataset.d0.values, n))
        + ("; d0 >= n: the features interfere but are not compressed"
           if np.any(dataset.d0.values >= n) else ""))
  lines += _setting_lines(dataset, cfg) + [""]
  for s in dataset.s.values:
    sub = dataset.sel(s=s)
    for inputs in dataset.inputs.values:
      cell = sub.sel(inputs=inputs)
      lines.append(f"s={int(s)}, {inputs} inputs: hidden width m needed (geometric mean over "
                   "seeds; '-' none of the tested widths is enough)")
      lines.append("  " + f"{'n':>6} {'n(n-1)/2':>10} " + " ".join(
          f"{c!s:>11}" for c in dataset.construction.values))
      for k, count in enumerate(n):
        row = [_fmt(float(geometric_mean(
            cell["width_needed"].sel(construction=c).isel(n=k).values, axis=0)))
            for c in dataset.construction.values]
        lines.append("  " + f"{int(count):>6} {int(dataset.naive_width.values[k]):>10,} "
                     + " ".join(f"{r:>11}" for r in row))
      lines.append("  fitted slope of log width needed against log n (95% bootstrap over "
                   f"seeds); theory: {', '.join(f'{t:.2f}' for t in THEORY_SLOPES[str(inputs)])}"
                   + (" (polylog n)" if inputs == "basis" else " (sqrt n as stated; n^(2/3))"))
      for c in dataset.construction.values:
        needed = cell["width_needed"].sel(construction=c).transpose("n", "seed").values
        slope, low, high = bootstrap_slope(n, needed)
        reached = np.isfinite(needed).all(axis=1)
        lines.append(f"    {c!s:<11} slope {slope:6.2f}  [{low:.2f}, {high:.2f}]  "
                     f"(over n = {', '.join(str(int(v)) for v in n[reached]) or 'none'})")
      last = cell["width_needed"].isel(n=-1)
      ratio = (float(dataset.naive_width.values[-1]) / float(geometric_mean(
          last.sel(construction="uand").values, axis=0))
          if "uand" in dataset.construction else np.nan)
      if np.isfinite(ratio):
        lines.append(f"  at n={int(n[-1])}: U-AND needs "
                     + (f"{ratio:.1f}x fewer" if ratio >= 1 else f"{1 / ratio:.1f}x more")
                     + f" neurons than the naive {int(dataset.naive_width.values[-1]):,}")
      elif "uand" in dataset.construction:
        lines.append(f"  at n={int(n[-1])}: U-AND does not reach max error {cfg.target:g} at "
                     f"any tested width (up to {max(cfg.m):,}) for every seed")
      lines.append("")
    lines += _trained_lines(sub)
  lines += _eps_lines(dataset, cfg)
  return "\n".join(lines).rstrip()


def _eps_lines(ds: xr.Dataset, cfg) -> list[str]:
  """U-AND's width needed at every eps of the epsilon study, per s (first n, basis inputs)."""
  if not cfg.eps or "uand" not in ds.construction.values or "basis" not in ds.inputs.values:
    return []
  errors = ds["uand_max_error"].sel(inputs="basis").isel(n=0)
  lines = [(f"U-AND width needed at each eps (n = {int(ds.n.values[0])}, basis inputs, best p "
            "per seed; geometric mean over seeds; '-' a seed never reaches it)"),
           "  " + f"{'s':>3} " + " ".join(f"{f'eps={e:g}':>10}" for e in cfg.eps)]
  for s in ds.s.values:
    row = [_fmt(float(geometric_mean(smallest_width(errors.sel(s=s), e).min("p").values,
                                     axis=0))) for e in cfg.eps]
    lines.append("  " + f"{int(s):>3} " + " ".join(f"{r:>10}" for r in row))
  return lines + [""]


def _setting_lines(ds: xr.Dataset, cfg) -> list[str]:
  """The p rule's probabilities, and how well the superposed features read themselves."""
  lines = []
  if cfg.p_exponent > 0 and "p_value" in ds:
    lines.append(f"U-AND p = c * n^-{cfg.p_exponent:g}: " + "; ".join(
        f"c={c:g}: " + ", ".join(f"{float(v):.3f}" for v in ds["p_value"].sel(p=c).values)
        for c in ds.p.values) + " (over n)")
  if "superposed" in ds.inputs.values and "input_max_error" in ds:
    err = ds["input_max_error"].sel(inputs="superposed").isel(s=0).mean("seed").values
    lines.append("superposed features read by r_i = e_i (max error, seed mean; a floor for "
                 "any readout): " + ", ".join(
                     f"{float(v):.2f} (n={int(k)}, d0/n={int(d) / k:.1f})"
                     for v, k, d in zip(err, ds.n.values, ds.d0.values)))
  return lines


def _trained_lines(ds: xr.Dataset) -> list[str]:
  if "trained" not in ds.construction.values:
    return []
  lines = []
  for inputs in ds.inputs.values:
    cell = ds.sel(inputs=inputs)
    trained = cell.sel(construction="trained")
    measured = trained["max_error"].notnull().any("seed")
    for k in np.nonzero(measured.any("m").values)[0]:
      lines.append(f"trained vs constructions, {inputs} inputs, n={int(cell.n.values[k])}, "
                   f"s={int(ds.s)}: max error (mean over seeds) and features read per neuron "
                   "(participation ratio)")
      lines.append(f"  {'m':>6} " + " ".join(
          f"{c!s:>11} {'reads':>6}" for c in cell.construction.values))
      for wi, width in enumerate(cell.m.values):
        if not bool(measured.isel(n=k, m=wi)):
          continue
        row = []
        for c in cell.construction.values:
          sel = cell.sel(construction=c).isel(n=k, m=wi)
          row.append(f"{float(sel['max_error'].mean('seed')):11.3f} "
                     f"{float(sel['features_per_neuron'].mean('seed')):6.1f}")
        lines.append(f"  {int(width):>6} " + " ".join(row))
      single = trained["feature_max_error"].isel(n=k).mean("seed")
      lines.append("  trained single-feature max error (matched readouts): "
                   + ", ".join(f"{float(v):.2f}" for v in single.values if np.isfinite(v)))
      lines.append("")
  return lines

