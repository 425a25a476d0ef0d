"""The claims the toy-SAE studies test where the features are known (`superjax scorecard`):

- Gorton & Lewis 2025's premise (Sec. 5) that SAE loss tracks superposition, one claim per
  SAE kind, from toy_sae_ground_truth;
- Bereska et al. 2025's counter-claim that adversarial training raises the effective
  feature count where capacity is ample and lowers it where it is scarce, from
  bereska_effective_features.

Every number is measured on each toy-model seed alone (its clean and adversarially trained
models compared with each other) and judged by the interval of its mean over seeds
(superjax.claims.verdicts).
"""

from __future__ import annotations

import dataclasses

import numpy as np
import scipy.stats
import xarray as xr

from superjax.claims import verdicts
from superjax.claims.scorecard import Claim, Finding, seed_range
from superjax.claims.stats import spearman
from superjax.core.experiment import config_of
from superjax.sae.kinds import KINDS
from superjax.toy_sae import effective, report
from superjax.toy_sae.config import EffectiveConfig, ToySAEConfig

GORTON = "Gorton & Lewis 2025"
BERESKA = "Bereska et al. 2025"

# A toy model with at most 1.1 features per dimension holds about one feature per
# dimension: no superposition (norms settle a little above 1 without it; Elhage et al.
# 2022). Densities where neither of a seed's models superposes are left out of the premise.
SUPERPOSED_FPD = 1.1

# --- Gorton & Lewis 2025, Sec. 5: SAE loss tracks superposition ------------------------

# The preprint gives no number: "SAEs are designed to model superposition and will
# naturally have a higher loss when there is more superposition". For a proxy to track
# superposition we ask for a large rank correlation by Cohen's (1988) convention, 0.5;
# above 0 (no relation) is partly.
TRACKS = 0.5
PREMISE_RULE = verdicts.Rule(
    band=(TRACKS, 1.0), null=0.0, support=verdicts.CORRELATION,
    text="within-density Spearman(features/dim, SAE nMSE at L0 = fixed_k), mean over seeds, "
         f"in [{TRACKS}, 1] holds (Cohen's 'large'; the preprint gives no number: SAEs 'will "
         "naturally have a higher loss when there is more superposition'), above 0 partly; a "
         "one-sided permutation p >= 0.05 (nMSE permuted within densities) is inconclusive")
# The permutation test: nMSE permuted among the alphas of each (density, seed), a fixed
# generator so the scorecard reads the same each time.
PERMUTATIONS = 2000
PERMUTATION_SEED = 0
SIGNIFICANCE = 0.05
# The kinds of the premise claims (one claim each); the preprint trains the first two.
PREPRINT_KINDS = ("relu", "topk")
PREMISE_KINDS = ("relu", "topk", "jumprelu", "batchtopk")

PREMISE_PROTOCOL = (
    "The preprint asserts the premise (Sec. 5) and measures it nowhere the superposition is "
    "known. Its toy grid (Sec. 3): n = 100, m = 20, ReLU output, 30 densities 1 -> 0.1, clean "
    "and adversarially trained (alpha 0.5, noise + gradient attack at eps 0.1 ||x||, 150,000 "
    "steps, lr 1e-3); its SAEs (App. A): batch 4096, lr 5e-4, 8x expansion, activations "
    "standardised per model, TopK with k_aux 512 and aux weight 1, ReLU + L1 per Conerly et "
    "al. 2024; SAE losses compared at one sparsity.")


def _centred_ranks(values: np.ndarray) -> np.ndarray:
  """Ranks along axis 0 (ties share their mean rank), minus their mean."""
  ranks = scipy.stats.rankdata(values, axis=0)
  return ranks - ranks.mean(axis=0, keepdims=True)


def _cell_correlations(fpd_ranks: np.ndarray, loss_ranks: np.ndarray,
                       keep: np.ndarray) -> np.ndarray:
  """Pearson correlations of centred ranks along the alpha axis (-3): (..., alpha, density,
  seed) -> (..., density, seed), NaN where a cell is left out or has no spread."""
  num = np.sum(fpd_ranks * loss_ranks, axis=-3)
  den = np.sqrt(np.sum(fpd_ranks ** 2, axis=-3) * np.sum(loss_ranks ** 2, axis=-3))
  rho = np.divide(num, den, out=np.full(np.broadcast(num, den).shape, np.nan), where=den > 0)
  return np.where(keep, rho, np.nan)


def _seed_means(rho: np.ndarray) -> np.ndarray:
  """(..., density, seed) -> (..., seed): mean over the densities kept (NaN if none)."""
  kept = np.isfinite(rho)
  total = np.sum(np.where(kept, rho, 0.0), axis=-2)
  count = np.sum(kept, axis=-2)
  return np.divide(total, count, out=np.full(total.shape, np.nan), where=count > 0)


def within_density(fpd, loss, keep) -> np.ndarray:
  """Each seed's mean over densities of the Spearman correlation, among that seed's models
  of one density (its alphas), between features per dimension and SAE loss.

  Args:
    fpd, loss: (alpha, density, seed).
    keep: (density, seed) the cells to use; cells with a non-finite value are left out.

  Returns:
    (seed,): NaN for a seed with no cell to use. With two alphas a cell's correlation is
    +1 when the model with more superposition has the higher loss, -1 when the lower.
  """
  fpd, loss = np.asarray(fpd, np.float64), np.asarray(loss, np.float64)
  keep = np.asarray(keep, bool) & np.all(np.isfinite(fpd) & np.isfinite(loss), axis=0)
  fpd_ranks = _centred_ranks(np.nan_to_num(fpd))
  loss_ranks = _centred_ranks(np.nan_to_num(loss))
  return _seed_means(_cell_correlations(fpd_ranks, loss_ranks, keep))


def permutation_p(fpd, loss, keep, permutations: int = PERMUTATIONS,
                  seed: int = PERMUTATION_SEED) -> float:
  """One-sided p of the mean over seeds of `within_density` against losses permuted among
  the alphas of each (density, seed): (1 + permutations at or above it) / (1 + count)."""
  fpd, loss = np.asarray(fpd, np.float64), np.asarray(loss, np.float64)
  keep = np.asarray(keep, bool) & np.all(np.isfinite(fpd) & np.isfinite(loss), axis=0)
  fpd_ranks = _centred_ranks(np.nan_to_num(fpd))
  loss_ranks = _centred_ranks(np.nan_to_num(loss))
  observed = np.nanmean(_seed_means(_cell_correlations(fpd_ranks, loss_ranks, keep)))
  if not np.isfinite(observed):
    return float("nan")
  # Permuting the losses of a cell permutes their ranks the same way.
  rng = np.random.default_rng(seed)
  order = np.argsort(rng.random((permutations,) + loss.shape), axis=1)
  shuffled = np.take_along_axis(np.broadcast_to(loss_ranks, order.shape), order, axis=1)
  means = _seed_means(_cell_correlations(fpd_ranks[None], shuffled, keep))
  with np.errstate(invalid="ignore"):
    null = np.nanmean(means, axis=-1)
  return float((1 + np.sum(null >= observed - 1e-12)) / (1 + permutations))


def premise_deviations(cfg: ToySAEConfig, kind: str) -> list[str]:
  """How the study departs from the preprint's toy grid and SAE recipe (PREMISE_PROTOCOL)."""
  out = []
  if (cfg.n, cfg.m) != (100, 20):
    out.append(f"n = {cfg.n}, m = {cfg.m}, not 100, 20")
  densities = np.asarray(cfg.density)
  if len(densities) != 30 or not np.allclose(np.sort(densities)[::-1],
                                             np.geomspace(1.0, 0.1, 30)):
    out.append(f"{len(densities)} densities {densities.max():g} to {densities.min():g}, not 30 "
               "from 1 to 0.1")
  if cfg.toy_steps != 150_000:
    out.append(f"toy models trained {cfg.toy_steps:,} steps, not 150,000")
  if min(cfg.alpha) != 0.5:
    out.append(f"adversarial training at alpha {min(cfg.alpha):g}, not 0.5")
  if cfg.attack_eps != 0.1:
    out.append(f"attack budget {cfg.attack_eps:g} x mean ||x||, not 0.1")
  if cfg.sae_batch != 4096:
    out.append(f"SAE batch {cfg.sae_batch:,}, not 4,096")
  if cfg.sae_lr != 5e-4:
    out.append(f"SAE lr {cfg.sae_lr:g}, not 5e-4")
  expansion = max(cfg.expansions)
  if expansion != 8:
    out.append(f"{expansion}x expansion, not 8x")
  out.append("inputs scaled by one scale per toy model, not standardised per dimension")
  if KINDS[kind].control == "k" and expansion * cfg.m < 512:
    out.append(f"AuxK over all {expansion * cfg.m} latents (fewer than the preprint's k_aux "
               "512)")
  if kind not in PREPRINT_KINDS:
    out.append(f"{kind} SAEs are not among the preprint's kinds (ReLU + L1, TopK)")
  out.append(f"SAEs trained {cfg.sae_steps:,} steps, batch {cfg.sae_batch} (the preprint "
             "gives no step count)")
  return out


def _premise_cells(dataset: xr.Dataset, kind: str):
  """(fpd, nMSE) of every toy model, (alpha, density, seed), and the cells kept: the
  kind's SAE at the fixed L0 target (largest expansion); diverged models are NaN."""
  expansion = int(dataset["expansion"].values.max())
  sae = report.at_target(dataset, kind, expansion, "fixed")
  order = ("alpha", "density", "seed")
  bad = (sae["sae_diverged"] | dataset["toy_diverged"]).transpose(*order)
  fpd = dataset["features_per_dim"].transpose(*order).where(~bad)
  loss = sae["nmse"].transpose(*order).where(~bad)
  keep = (fpd.max("alpha") > SUPERPOSED_FPD).transpose("density", "seed")
  return sae, fpd, loss, keep, expansion


def premise(kind: str):
  """The measure of the premise claim for one SAE kind."""

  def measure(dataset: xr.Dataset) -> Finding:
    cfg = config_of(dataset)
    deviations = premise_deviations(cfg, kind)
    if kind not in cfg.sae_kinds:
      return Finding.not_tested("-", f"the run trained no {kind} SAEs", deviations)
    if "fixed" not in cfg.targets:
      return Finding.not_tested("-", "no SAE was trained or picked at the fixed L0", deviations)
    if len(cfg.alpha) < 2:
      return Finding.not_tested(
          "-", "one alpha: nothing moves superposition at a fixed density (needs clean and "
          "adversarially trained toy models)", deviations)
    sae, fpd, loss, keep, expansion = _premise_cells(dataset, kind)
    if not bool(keep.any()):
      return Finding.not_tested(
          f"features per dimension at most {float(fpd.max()):.2f}",
          f"no toy model holds more than {SUPERPOSED_FPD} features per dimension: no "
          "superposition to track", deviations)
    values = within_density(fpd.values, loss.values, keep.values)
    p = permutation_p(fpd.values, loss.values, keep.values)
    clean = dataset["alpha"].values.max()
    across = [spearman(fpd.sel(alpha=clean, seed=s).values, loss.sel(alpha=clean, seed=s).values)
              for s in dataset["seed"].values]
    l0_ratio = float((sae["l0"] / cfg.fixed_k).median())
    part = verdicts.Part(f"{kind} within-density Spearman(features/dim, nMSE)", values,
                         PREMISE_RULE, fmt="+.2f")
    context = (f"one-sided permutation p = {p:.4f} ({PERMUTATIONS} permutations of nMSE "
               f"within each density and seed); {int(keep.sum())} of {keep.size} (density, "
               f"seed) cells superpose; across densities, clean models: Spearman "
               f"{seed_range(across, '+.2f')}; x{expansion}, L0 target {cfg.fixed_k} "
               f"(median L0 / target {l0_ratio:.2f})")
    finding = Finding.judged([part], context, deviations)
    if finding.verdict in (verdicts.HOLDS, verdicts.PARTLY) and not p < SIGNIFICANCE:
      finding = dataclasses.replace(
          finding, verdict=verdicts.INCONCLUSIVE,
          reason=f"{finding.reason}; the permutation test within densities gives p = "
                 f"{p:.3f}, not below {SIGNIFICANCE}")
    return finding

  return measure


def _premise_claim(kind: str) -> Claim:
  return Claim(
      f"gorton.sae_loss_premise.{kind}", GORTON, "Sec. 5 (premise)",
      "SAEs 'will naturally have a higher loss when there is more superposition': SAE loss "
      "is a proxy for superposition. Tested here with " + kind + " SAEs on toy models whose "
      "superposition is known, at one density (the input distribution fixed) while "
      "adversarial training moves superposition.",
      "toy_sae_ground_truth", premise(kind), rule=PREMISE_RULE.text,
      protocol=PREMISE_PROTOCOL)


CLAIMS: tuple[Claim, ...] = tuple(_premise_claim(kind) for kind in PREMISE_KINDS)

# --- Bereska et al. 2025: adversarial training and effective features -------------------

# The paper: "simple tasks with ample capacity allow feature expansion (abundance regime),
# while complex tasks or limited capacity force reduction (scarcity regime)". In a toy
# model the task's demand is its n features and its capacity the width m: capacity is
# ample where n <= m (every feature can have a dimension of its own) and scarce where the
# clean model must superpose. The paper gives no size of the change for toy models: the
# rule is its sign, the interval of the mean relative change over seeds on the paper's side
# of 0.
AMPLE_CAPACITY = 1.0
ABUNDANT_RULE = verdicts.Rule(
    band=(0.0, np.inf),
    text="(F_robust - F_clean) / F_clean, mean over seeds, above 0 at the smallest n/m (n "
         "<= m, 'simple tasks with ample capacity allow feature expansion')")
SCARCE_RULE = verdicts.Rule(
    band=(-np.inf, 0.0),
    text="below 0 at the largest n/m (the clean models superpose, 'limited capacity "
         "force[s] reduction')")

EFFECTIVE_PROTOCOL = (
    "Bereska et al. 2025: classifiers (MLPs and CNNs on MNIST with 2 to 10 classes, "
    "ResNet-18 on CIFAR-10) trained standard and with FGSM or PGD adversarial training "
    "(MNIST eps 0.1-0.3), 3 runs per eps; tied ReLU SAEs (L1 0.1, 4x expansion, lr 1e-3, "
    "batch 128, up to 800 epochs) on a layer's activations; F = exp(H(p)), p_j = latent j's "
    "share of the summed |activation|; task complexity against width sets the regime.")


def effective_deviations(cfg: EffectiveConfig) -> list[str]:
  """How the study departs from Bereska et al.'s protocol (EFFECTIVE_PROTOCOL)."""
  return [
      "toy autoencoders (n features through width m, ReLU output) stand in for classifiers: "
      "demand = n features, capacity = m",
      f"adversarial training mixes clean and attacked loss (alpha {min(cfg.alpha):g}) with "
      f"the Gorton & Lewis attack at {cfg.attack_eps:g} x mean ||x||, not FGSM or PGD",
      f"untied ReLU SAEs, L1 {', '.join(f'{v:g}' for v in cfg.l1)} on inputs scaled per toy "
      f"model, {cfg.expansion}x expansion, {cfg.sae_steps:,} steps of batch {cfg.sae_batch} "
      "(the paper: tied, L1 0.1, 4x, up to 800 epochs of batch 128)",
      f"{cfg.seeds} seeds (the paper: 3 runs per eps); one budget, not a range of eps",
      f"toy models {cfg.toy_steps:,} steps at density "
      f"{', '.join(f'{d:g}' for d in cfg.density)}"]


def effective_features_change(dataset: xr.Dataset) -> Finding:
  cfg = config_of(dataset)
  deviations = effective_deviations(cfg)
  change = report.effective_change(dataset)
  n = dataset["features"].values
  few, many = int(n.min()), int(n.max())
  clean, robust = report.clean_and_robust(dataset)
  found = effective.of_results(dataset).mean(("setting", "density"))
  fpd = dataset["features_per_dim"].sel(alpha=clean).mean("density")
  ends = "; ".join(
      f"n/m = {k / cfg.m:g}: F clean {float(found.sel(features=k, alpha=clean).mean()):.1f}, "
      f"robust {float(found.sel(features=k, alpha=robust).mean()):.1f}, clean features/dim "
      f"{float(fpd.sel(features=k).mean()):.2f}" for k in n)
  if few / cfg.m > AMPLE_CAPACITY:
    return Finding.not_tested(ends, f"the smallest n/m is {few / cfg.m:g}: no feature count "
                              "with a dimension for every feature (n <= m), so no abundance "
                              "regime", deviations)
  scarce_fpd = float(fpd.sel(features=many).mean())
  if len(n) < 2 or scarce_fpd <= SUPERPOSED_FPD:
    return Finding.not_tested(ends, f"the clean models at the largest n hold {scarce_fpd:.2f} "
                              "features per dimension: no superposition, so no scarcity "
                              "regime", deviations)
  parts = [verdicts.Part(f"relative change of F at n/m = {few / cfg.m:g}",
                         change.sel(features=few).values, ABUNDANT_RULE, fmt="+.1%"),
           verdicts.Part(f"at n/m = {many / cfg.m:g}", change.sel(features=many).values,
                         SCARCE_RULE, fmt="+.1%")]
  return Finding.judged(parts, ends, deviations)


EFFECTIVE_CLAIMS: tuple[Claim, ...] = (
    Claim("bereska.effective_features", BERESKA, "abstract; adversarial-training experiments",
          "Adversarial training does not uniformly reduce superposition: it raises the "
          "effective feature count F = exp(H(p)) of SAE activations where capacity is ample "
          "for the task (abundance) and lowers it where capacity is scarce (scarcity).",
          "bereska_effective_features", effective_features_change,
          rule=f"{ABUNDANT_RULE.text}; {SCARCE_RULE.text}", protocol=EFFECTIVE_PROTOCOL),
)
