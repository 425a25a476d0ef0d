"""The toy-SAE claims on hand-built results: the premise of Gorton & Lewis 2025 (SAE loss
tracks superposition within a density) and Bereska et al. 2025's effective features, each
rule just inside and just outside its band, numbers against independent numpy and scipy
recomputations."""

import re

import numpy as np
import pytest
import scipy.stats
import xarray as xr

from superjax.toy_sae import claims, effective, report
from superjax.toy_sae.config import EffectiveConfig, ToySAEConfig

SEEDS = 5


# --- effective features ----------------------------------------------------------------


def test_effective_features_is_exp_entropy_of_the_mass_shares():
  rng = np.random.default_rng(0)
  mass = rng.exponential(size=(3, 7))
  want = np.exp([scipy.stats.entropy(row / row.sum()) for row in mass])
  np.testing.assert_allclose(effective.features(mass), want, rtol=1e-12)
  # Even mass over k latents counts k; all of it on one latent counts 1; silent latents
  # and missing ones (NaN padding) add nothing; no mass at all has no count.
  assert effective.features(np.r_[np.ones(6), np.zeros(4)]) == pytest.approx(6.0)
  assert effective.features(np.r_[0.0, 3.0, 0.0]) == pytest.approx(1.0)
  assert effective.features(np.r_[np.ones(4), np.full(3, np.nan)]) == pytest.approx(4.0)
  assert np.isnan(effective.features(np.zeros(5)))
  # The sign of an activation does not matter, nor the scale of the mass.
  assert effective.features(-2 * mass[0]) == pytest.approx(want[0])


# --- the premise: hand-built toy-SAE results -------------------------------------------


def _premise_results(agree: np.ndarray, fpd_extra=None, alphas=(1.0, 0.5),
                     kind="topk") -> xr.Dataset:
  """Results of `len(agree[0])` superposed densities x SEEDS seeds: in cell (seed, d) the
  clean model has more superposition than the robust one, and its SAE the higher nMSE
  where agree[seed, d] is True (the lower where False)."""
  agree = np.asarray(agree, bool)
  seeds, densities = agree.shape
  rng = np.random.default_rng(1)
  fpd = np.empty((len(alphas), densities, seeds))
  fpd[0] = rng.uniform(2.0, 4.0, (densities, seeds))
  nmse = np.empty_like(fpd)
  nmse[0] = rng.uniform(0.2, 0.4, (densities, seeds))
  if len(alphas) > 1:
    fpd[1] = fpd[0] - rng.uniform(0.1, 0.5, (densities, seeds))
    step = rng.uniform(0.01, 0.05, (densities, seeds))
    nmse[1] = np.where(agree.T, nmse[0] - step, nmse[0] + step)
  density = np.geomspace(0.5, 0.1, densities)
  if fpd_extra is not None:  # one more density, denser, with the given features/dim
    fpd = np.concatenate([np.full((len(alphas), 1, seeds), fpd_extra), fpd], axis=1)
    fpd[1:, 0] -= 0.04  # the clean model a little more superposed, its SAE's loss lower
    wrong = np.stack([np.full((1, seeds), 0.1), np.full((1, seeds), 0.9)])[:len(alphas)]
    nmse = np.concatenate([wrong, nmse], axis=1)
    density = np.r_[1.0, density]
  cfg = ToySAEConfig(name="toy_sae_ground_truth", density=tuple(density.tolist()),
                     alpha=alphas, seeds=seeds, sae_kinds=(kind,), expansions=(10,),
                     targets=("fixed",), toy_steps=2000, sae_batch=256)
  sae_dims = ("sae_kind", "expansion", "setting", "alpha", "density", "seed")
  toy_dims = ("alpha", "density", "seed")
  sae = lambda v: (sae_dims, v[None, None, None])
  return xr.Dataset(
      {"features_per_dim": (toy_dims, fpd), "toy_diverged": (toy_dims, np.zeros_like(fpd, bool)),
       "nmse": sae(nmse), "l0": sae(np.full_like(fpd, 4.0)),
       "sae_diverged": sae(np.zeros_like(fpd, bool))},
      coords={"sae_kind": [kind], "expansion": [10], "setting": [0], "alpha": list(alphas),
              "density": density, "seed": np.arange(seeds)},
      attrs={"experiment": "toy_sae", "sweep": cfg.name, "config": cfg.to_json()})


def _agree(counts, densities=10) -> np.ndarray:
  """(seeds, densities): seed s agrees in its first counts[s] densities."""
  return np.arange(densities)[None, :] < np.asarray(counts)[:, None]


def _reference(ds: xr.Dataset) -> np.ndarray:
  """Per seed: mean over superposed densities of scipy's Spearman over the alphas."""
  fpd = ds["features_per_dim"].values
  nmse = ds["nmse"].values[0, 0, 0]
  out = []
  for s in range(fpd.shape[2]):
    rhos = [scipy.stats.spearmanr(fpd[:, d, s], nmse[:, d, s])[0]
            for d in range(fpd.shape[1]) if fpd[:, d, s].max() > claims.SUPERPOSED_FPD]
    out.append(np.mean(rhos))
  return np.array(out)


@pytest.mark.parametrize("counts, verdict", [
    ((8, 8, 8, 8, 8), "holds"),          # 0.6 every seed: inside [0.5, 1]
    ((8, 9, 10, 8, 9), "holds"),
    ((7, 7, 7, 7, 7), "partly"),          # 0.4: an effect, short of 'large'
    ((7, 8, 6, 7, 8), "partly"),          # the interval straddles 0.5
    ((5, 6, 4, 5, 5), "does not hold"),   # about 0: within 0.25, no effect of the paper's size
    ((5, 8, 4, 5, 2), "inconclusive"),    # about 0, too spread to rule out the paper's size
    ((2, 2, 2, 2, 2), "does not hold"),   # -0.6: superposition and loss move apart
])
def test_premise_rule_at_its_edges(counts, verdict):
  ds = _premise_results(_agree(counts))
  found = claims.premise("topk")(ds)
  assert found.verdict == verdict, found
  want = _reference(ds)
  np.testing.assert_allclose(want, (2 * np.asarray(counts) - 10) / 10)
  np.testing.assert_allclose(claims.within_density(
      ds["features_per_dim"].values, ds["nmse"].values[0, 0, 0],
      np.ones((10, SEEDS), bool)), want)
  if abs(want.mean()) > 0.005:  # (a mean of 0 may print as -0.00)
    assert f"{want.mean():+.2f}" in found.measured


def test_premise_leaves_out_densities_without_superposition():
  with_extra = _premise_results(_agree((8,) * SEEDS), fpd_extra=1.05)
  assert claims.premise("topk")(with_extra).verdict == "holds"
  # The same density superposed counts, and its discordant cell drags each seed to 5/11.
  counted = _premise_results(_agree((8,) * SEEDS), fpd_extra=1.5)
  found = claims.premise("topk")(counted)
  np.testing.assert_allclose(_reference(counted), (8 - 3) / 11)
  assert found.verdict == "partly"


def test_permutation_p_matches_the_exact_sign_flip_null():
  # One seed, three superposed cells, all concordant: under the null each cell's sign is
  # a fair coin, so P(all three +1) = 1/8.
  fpd = np.array([[[3.0], [2.5], [2.0]], [[2.0], [1.5], [1.2]]])
  loss = np.array([[[0.3], [0.2], [0.1]], [[0.2], [0.1], [0.05]]])
  p = claims.permutation_p(fpd, loss, np.ones((3, 1), bool), permutations=20_000)
  assert p == pytest.approx(1 / 8, abs=0.01)


def test_a_holding_interval_with_a_permutation_p_above_005_is_inconclusive():
  # Four seeds, one superposed density each, all concordant: the bootstrap interval is
  # [1, 1], but four coin flips all coming up +1 has probability 1/16.
  ds = _premise_results(np.ones((4, 1), bool))
  found = claims.premise("topk")(ds)
  assert found.verdict == "inconclusive"
  p = float(re.search(r"permutation test within densities gives p = ([0-9.]+)",
                      found.reason).group(1))
  assert p == pytest.approx(1 / 16, abs=0.015)


def test_premise_is_not_tested_outside_its_regime():
  one_alpha = _premise_results(_agree((8,) * SEEDS), alphas=(1.0,))
  assert claims.premise("topk")(one_alpha).verdict == "not tested"
  ds = _premise_results(_agree((8,) * SEEDS))
  assert claims.premise("relu")(ds).verdict == "not tested"  # no relu SAEs trained
  flat = ds.assign(features_per_dim=ds["features_per_dim"] * 0 + 1.0)
  assert claims.premise("topk")(flat).verdict == "not tested"


def test_premise_names_its_deviations():
  found = claims.premise("batchtopk")(_premise_results(_agree((8,) * SEEDS),
                                                      kind="batchtopk"))
  text = "; ".join(found.deviations)
  for phrase in ("10 densities", "2,000 steps, not 150,000", "SAE batch 256, not 4,096",
                 "10x expansion, not 8x", "not among the preprint's kinds"):
    assert phrase in text, phrase


# --- Bereska et al.: hand-built effective-feature results -------------------------------


def _mass(count: int, latents: int) -> np.ndarray:
  """Even mass over `count` latents: exactly `count` effective features."""
  return np.r_[np.ones(count), np.zeros(latents - count)]


def _effective_results(clean, robust, features=(10, 100), m=20, fpd=(0.5, 4.0)) -> xr.Dataset:
  """clean, robust: (features, seeds) effective feature counts, as even masses."""
  clean, robust = np.asarray(clean), np.asarray(robust)
  latents = 8 * m
  mass = np.zeros((len(features), 1, 2, 1, clean.shape[1], latents))
  for i in range(len(features)):
    for s in range(clean.shape[1]):
      mass[i, 0, 0, 0, s] = _mass(clean[i, s], latents)
      mass[i, 0, 1, 0, s] = _mass(robust[i, s], latents)
  cfg = EffectiveConfig(name="bereska_effective_features", features=features, m=m,
                        seeds=clean.shape[1])
  sae_dims = ("features", "setting", "alpha", "density", "seed")
  toy_dims = ("features", "alpha", "density", "seed")
  toy_shape = (len(features), 2, 1, clean.shape[1])
  features_per_dim = np.broadcast_to(np.asarray(fpd)[:, None, None, None], toy_shape)
  return xr.Dataset(
      {"latent_mass": (sae_dims + ("latent",), mass),
       "sae_diverged": (sae_dims, np.zeros(mass.shape[:-1], bool)),
       "toy_diverged": (toy_dims, np.zeros(toy_shape, bool)),
       "features_per_dim": (toy_dims, features_per_dim.copy())},
      coords={"features": list(features), "setting": [0], "l1": ("setting", [1.0]),
              "alpha": [1.0, 0.5], "density": [0.1], "seed": np.arange(clean.shape[1])},
      attrs={"experiment": "toy_sae_effective", "sweep": cfg.name, "config": cfg.to_json()})


def _counts(abundant_robust, scarce_robust):
  clean = np.array([[10] * SEEDS, [50] * SEEDS])
  return clean, np.array([abundant_robust, scarce_robust])


@pytest.mark.parametrize("abundant, scarce, verdict", [
    ((11,) * 5, (49,) * 5, "holds"),                   # +10% and -2% every seed
    ((11, 12, 10, 11, 11), (45, 48, 47, 48, 46), "holds"),
    ((11,) * 5, (51,) * 5, "partly"),                  # scarcity raises F too
    ((9,) * 5, (51,) * 5, "does not hold"),            # both signs reversed
    ((9, 11, 10, 11, 9), (49,) * 5, "partly"),         # the abundant end straddles 0
    ((9, 11, 10, 11, 9), (50, 51, 49, 50, 50), "inconclusive"),
])
def test_effective_rule_at_its_edges(abundant, scarce, verdict):
  clean, robust = _counts(abundant, scarce)
  ds = _effective_results(clean, robust)
  found = claims.effective_features_change(ds)
  assert found.verdict == verdict, found
  # The per-seed relative changes against a scipy recomputation from the masses.
  ent = lambda k: np.exp(scipy.stats.entropy(np.ones(k)))
  change = np.array([[(ent(r) - ent(c)) / ent(c) for c, r in zip(cs, rs)]
                     for cs, rs in zip(clean, robust)])
  np.testing.assert_allclose(report.effective_change(ds).values, change, atol=1e-12)
  assert f"{change[1].mean():+.1%}" in found.measured


def test_effective_claim_is_not_tested_without_both_regimes():
  clean, robust = _counts((11,) * 5, (49,) * 5)
  # No feature count with a dimension for every feature: the smallest n/m is 2.
  found = claims.effective_features_change(_effective_results(clean, robust,
                                                               features=(40, 100)))
  assert found.verdict == "not tested" and "n <= m" in found.reason
  # The clean models at the largest n do not superpose: capacity is not scarce.
  found = claims.effective_features_change(_effective_results(clean, robust, fpd=(0.5, 1.05)))
  assert found.verdict == "not tested" and "scarcity" in found.reason
  assert any("stand in for classifiers" in d for d in found.deviations)
