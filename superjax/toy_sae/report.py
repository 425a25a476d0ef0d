"""The toy-SAE study's report: four questions answered with numbers and seed spreads, from
saved results.

SAE sparsity is compared at the config's targets of L0 (config.TARGETS): "matched" (the
expected number of active features, n x density, capped at the latents) and "fixed"
(fixed_k). Kinds controlled by k train at each; kinds controlled by a penalty train at
several coefficients, and for each toy model the coefficient whose clean L0 is nearest the
target (in log ratio) stands in. The effective-feature study's report is at the end.
"""

from __future__ import annotations

import numpy as np
import xarray as xr

from superjax.claims.stats import spearman
from superjax.core.experiment import config_of
from superjax.sae.kinds import KINDS
from superjax.toy_sae import effective

# Bins of true features per dimension for the recovery table.
FPD_BINS = (0.0, 1.5, 3.0, np.inf)


def target_l0(dataset: xr.Dataset, target: str, expansion: int) -> xr.DataArray:
  """The L0 aimed at, per density: n x density (capped at the latents), or fixed_k."""
  cfg = config_of(dataset)
  if target == "fixed":
    return xr.full_like(dataset["density"], float(cfg.fixed_k), dtype=float)
  return np.minimum(np.maximum(np.round(cfg.n * dataset["density"]), 1), expansion * cfg.m)


def targets(dataset: xr.Dataset) -> tuple[str, ...]:
  """The L0 targets the study trained at (config.TARGETS, in the config's order)."""
  return config_of(dataset).targets


def at_target(dataset: xr.Dataset, kind: str, expansion: int, target: str) -> xr.Dataset:
  """One SAE per toy model (dims alpha, density, seed): the kind's SAE at the target L0."""
  sae = dataset.sel(sae_kind=kind, expansion=expansion)
  if KINDS[kind].control == "k":
    return sae.isel(setting=targets(dataset).index(target))
  distance = np.abs(np.log(sae["l0"] / target_l0(dataset, target, expansion)))
  best = distance.fillna(np.inf).argmin("setting")
  return sae.isel(setting=best)


def _spread(values) -> str:
  values = np.asarray(values, float)
  values = values[np.isfinite(values)]
  if not len(values):
    return "n/a"
  return f"{np.mean(values):+.2f} [{np.min(values):+.2f}, {np.max(values):+.2f}]"


def _per_seed(dataset: xr.Dataset, a: xr.DataArray, b: xr.DataArray) -> list[float]:
  """Spearman of a against b across densities, clean toy models (alpha = 1), per seed."""
  clean = {"alpha": 1.0} if 1.0 in dataset["alpha"].values else {"alpha": dataset["alpha"][0]}
  out = []
  for s in dataset["seed"].values:
    x, y = a.sel(**clean, seed=s).values, b.sel(**clean, seed=s).values
    # A constant side (e.g. nothing recovered anywhere) has no ranking: no correlation.
    out.append(spearman(x, y) if np.ptp(x) > 0 and np.ptp(y) > 0 else float("nan"))
  return out


def _within_density(a: xr.DataArray, b: xr.DataArray) -> list[float]:
  """Spearman of a against b among the models of each density (alphas x seeds), one per
  density: the density, hence the number of active features, held fixed."""
  out = []
  for density in a["density"].values:
    x, y = a.sel(density=density).values.ravel(), b.sel(density=density).values.ravel()
    ok = np.isfinite(x) & np.isfinite(y)
    if ok.sum() >= 3 and np.ptp(x[ok]) > 0 and np.ptp(y[ok]) > 0:
      out.append(spearman(x[ok], y[ok]))
  return out


def answers(dataset: xr.Dataset) -> dict:
  """Every number the report states, keyed (kind, expansion, target)."""
  fpd = dataset["features_per_dim"]
  out = {}
  for kind in dataset["sae_kind"].values:
    for expansion in dataset["expansion"].values:
      for target in targets(dataset):
        sae = at_target(dataset, str(kind), int(expansion), target)
        clean_only = {"alpha": 1.0} if 1.0 in dataset["alpha"].values else {}
        row = {"nmse_rho": _per_seed(dataset, fpd, sae["nmse"]),
               "nmse_rho_within": _within_density(fpd, sae["nmse"]),
               "recovered_rho": _per_seed(dataset, fpd, sae["recovered"]),
               "l0_over_target": float((sae["l0"] / target_l0(dataset, target, int(expansion)))
                                       .median()),
               "recovered_bins": [], "l0_ratio": (sae["l0_attacked"] / sae["l0"]),
               "clean_l0": float(sae["l0"].sel(**clean_only).mean())}
        for lo, hi in zip(FPD_BINS[:-1], FPD_BINS[1:]):
          inside = (fpd > lo) & (fpd <= hi)
          row["recovered_bins"].append((float(sae["recovered"].where(inside).mean()),
                                        int(inside.sum())))
        if len(dataset["alpha"]) > 1:
          robust = dataset["alpha"].values.min()
          diff = (sae["nmse"].sel(alpha=robust) - sae["nmse"].sel(alpha=1.0))
          row["adv_minus_clean"] = diff
          row["fpd_adv_minus_clean"] = float((fpd.sel(alpha=robust) - fpd.sel(alpha=1.0)).mean())
        out[str(kind), int(expansion), target] = row
  return out


def render(dataset: xr.Dataset) -> str:
  cfg = config_of(dataset)
  found = answers(dataset)
  fpd = dataset["features_per_dim"]
  lines = [f"{cfg.name}: SAEs on {dataset['W'].shape[0] * dataset['W'].shape[1] * cfg.seeds} "
           f"toy models (n={cfg.n}, m={cfg.m}; {len(cfg.density)} densities x alpha "
           f"{', '.join(f'{a:g}' for a in cfg.alpha)} x {cfg.seeds} seeds); kinds "
           f"{', '.join(cfg.sae_kinds)}; expansions {', '.join(map(str, cfg.expansions))}",
           f"true features per dimension: {float(fpd.min()):.2f} to {float(fpd.max()):.2f}; "
           f"active features per input {float(dataset['active_features'].min()):.1f} to "
           f"{float(dataset['active_features'].max()):.1f}",
           "numbers: mean [min, max] over seeds unless said otherwise; 'matched' = L0 aimed "
           "at n x density, 'fixed' = L0 aimed at fixed_k; penalty kinds: the coefficient "
           "nearest the target per toy model (median L0 / target given)", ""]

  lines.append("Q1. Does SAE nMSE rise with true features per dimension? Spearman(features "
               "per dim, nMSE) across densities, clean toy models, per seed; and within each "
               "density (alphas x seeds: active features held fixed), mean over densities")
  for (kind, expansion, target), row in found.items():
    lines.append(f"  {kind:<10} x{expansion:<3} {target:<8} across {_spread(row['nmse_rho'])}"
                 f"   within-density {_spread(row['nmse_rho_within'])}"
                 f"   L0/target {row['l0_over_target']:.2f}")
  lines += ["  Across densities, features per dimension and the number of active features "
            "rise together (both follow 1/density), so the across-density Spearman cannot "
            "tell them apart; at matched L0 the SAE's budget also grows with density. The "
            "fixed-L0 rows hold the SAE's budget fixed, and the within-density rows hold the "
            "input distribution fixed while adversarial training and seeds move superposition.",
            ""]

  lines.append("Q2. Recovered fraction of represented features (best cosine >= 0.9) by true "
               "features per dimension (pooled over alphas and seeds; count of toy models), "
               "and Spearman(features per dim, recovered) per seed")
  bins = [f"({lo:g}, {hi:g}]" for lo, hi in zip(FPD_BINS[:-1], FPD_BINS[1:])]
  for (kind, expansion, target), row in found.items():
    cells = "  ".join(f"{b} {v:.2f} (n={c})" for b, (v, c) in zip(bins, row["recovered_bins"]))
    lines.append(f"  {kind:<10} x{expansion:<3} {target:<8} {cells}   rho "
                 f"{_spread(row['recovered_rho'])}")
  lines.append("")

  if len(dataset["alpha"]) > 1:
    robust = float(dataset["alpha"].values.min())
    lines.append(f"Q3. Do adversarially trained toy models (alpha={robust:g}) give lower SAE "
                 "nMSE than clean ones (alpha=1) at the same density? nMSE(adv) - nMSE(clean), "
                 "mean over densities per seed, and the share of (density, seed) cells where "
                 "it is negative")
    for (kind, expansion, target), row in found.items():
      diff = row["adv_minus_clean"]
      share = float((diff < 0).sum() / np.isfinite(diff).sum())
      lines.append(f"  {kind:<10} x{expansion:<3} {target:<8} "
                   f"{_spread(diff.mean('density').values)}   lower in {share:.0%}")
    row = next(iter(found.values()))
    lines += [f"  (features per dimension, adv - clean, mean over cells: "
              f"{row['fpd_adv_minus_clean']:+.2f})", ""]
  else:
    lines += ["Q3. not measured: the study trained one alpha only", ""]

  lines.append("Q4. Do attacks raise SAE L0? L0 on attacked / clean held-out inputs, mean over "
               "toy models per seed; clean L0 beside the true active features per input")
  active = float(dataset["active_features"].mean())
  for (kind, expansion, target), row in found.items():
    ratio = row["l0_ratio"]
    note = "  (L0 = k by construction)" if KINDS[kind].fixed_l0 else ""
    lines.append(f"  {kind:<10} x{expansion:<3} {target:<8} "
                 f"{_spread(ratio.mean(('alpha', 'density')).values)}   clean L0 "
                 f"{row['clean_l0']:.1f} vs true active {active:.1f}{note}")
  diverged = int(dataset["sae_diverged"].sum())
  if diverged:
    lines.append(f"warning: {diverged} SAE(s) hit a non-finite loss and were frozen")
  return "\n".join(lines)


# --- the effective-feature study (toy_sae_effective) ----------------------------------


def clean_and_robust(dataset: xr.Dataset) -> tuple[float, float]:
  """(clean, robust) alphas: 1 and the smallest alpha trained."""
  return 1.0, float(dataset["alpha"].values.min())


def effective_change(dataset: xr.Dataset) -> xr.DataArray:
  """(features, seed): the relative change of the effective feature count under
  adversarial training, (F_robust - F_clean) / F_clean, each seed's toy models alone,
  averaged over densities and L1 coefficients."""
  found = effective.of_results(dataset)
  clean, robust = clean_and_robust(dataset)
  change = (found.sel(alpha=robust) - found.sel(alpha=clean)) / found.sel(alpha=clean)
  return change.mean(("setting", "density"))


def render_effective(dataset: xr.Dataset) -> str:
  cfg = config_of(dataset)
  clean, robust = clean_and_robust(dataset)
  found = effective.of_results(dataset).mean(("setting", "density"))
  change = effective_change(dataset)
  lines = [f"{cfg.name}: effective features F = exp(entropy of the SAE activation mass) "
           f"(Bereska et al. 2025) of ReLU SAEs (x{cfg.expansion}, L1 "
           f"{', '.join(f'{v:g}' for v in cfg.l1)}) on toy models of n features at width "
           f"m = {cfg.m}, density {', '.join(f'{d:g}' for d in cfg.density)}, clean (alpha "
           f"{clean:g}) and adversarially trained (alpha {robust:g}), {cfg.seeds} seeds",
           "numbers: mean [min, max] over seeds; each seed's clean and robust toy models "
           "compared with each other", "",
           f"{'n':>5}{'n/m':>6}  {'features/dim clean':<22}{'robust':<22}{'F clean':<22}"
           f"{'F robust':<22}(F robust - F clean) / F clean"]
  fpd = dataset["features_per_dim"].mean("density")
  for n in dataset["features"].values:
    cells = [fpd.sel(features=n, alpha=clean), fpd.sel(features=n, alpha=robust),
             found.sel(features=n, alpha=clean), found.sel(features=n, alpha=robust)]
    lines.append(f"{n:>5}{n / cfg.m:>6.2g}  " + "".join(f"{_spread(c.values):<22}"
                                                       for c in cells)
                 + f"{_spread(change.sel(features=n).values)}")
  l0 = dataset["l0"].mean(("setting", "density"))
  nmse = dataset["nmse"].mean(("setting", "density"))
  lines += ["", "SAE L0 and nMSE on clean held-out inputs, clean / robust toy models:"]
  for n in dataset["features"].values:
    lines.append(f"{n:>5}  L0 {_spread(l0.sel(features=n, alpha=clean).values)} / "
                 f"{_spread(l0.sel(features=n, alpha=robust).values)}   nMSE "
                 f"{_spread(nmse.sel(features=n, alpha=clean).values)} / "
                 f"{_spread(nmse.sel(features=n, alpha=robust).values)}")
  diverged = int(dataset["sae_diverged"].sum() + dataset["toy_diverged"].sum())
  if diverged:
    lines.append(f"warning: {diverged} model(s) hit a non-finite loss; left out")
  return "\n".join(lines)
