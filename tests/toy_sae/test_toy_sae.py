"""The toy-SAE study at a few steps: its saved results against independent references
(closed forms, recovery recomputed from the saved arrays), its selection of SAEs at a
target L0, and its refusals."""

import numpy as np
import pytest

import superjax
from superjax.core.config import ConfigError
from superjax.sae import recovery
from superjax.toy_sae import effective, report
from superjax.toy_sae.config import ToySAEConfig, tiny

pytestmark = pytest.mark.slow  # whole runs from the CLI or several processes


@pytest.fixture(scope="module")
def study(tiny_run):
  """The session's run of the tiny study (the contract test's too)."""
  return tiny(), superjax.load(tiny_run("toy_sae")[1])


def test_results_hold_every_toy_model_and_sae(study):
  cfg, ds = study
  assert ds.attrs["experiment"] == "toy_sae"
  assert ds["W"].dims == ("alpha", "density", "seed", "hidden", "feature")
  assert ds["W"].shape == (2, 3, 2, cfg.m, cfg.n)
  assert ds["nmse"].dims == ("sae_kind", "expansion", "setting", "alpha", "density", "seed")
  assert not ds["sae_diverged"].any() and not ds["toy_diverged"].any()
  for kind in cfg.sae_kinds:
    count = len(cfg.settings_of(kind))
    sae = ds.sel(sae_kind=kind)
    assert np.isfinite(sae["nmse"].isel(setting=slice(0, count))).all()
    assert np.isnan(sae["nmse"].isel(setting=slice(count, None))).all()  # padding


def test_active_features_match_the_closed_form(study):
  """Each feature is on with probability density, so E[active] = n x density."""
  cfg, ds = study
  expected = cfg.n * ds["density"]
  spread = np.sqrt(cfg.n * ds["density"] * (1 - ds["density"]) / cfg.eval_tokens)
  assert (np.abs(ds["active_features"] - expected) <= 5 * spread + 1e-6).all()


def test_matched_k_is_the_expected_active_count_capped_at_the_latents(study):
  cfg, ds = study
  k = ds["k"].sel(sae_kind="topk", setting=0).isel(alpha=0, seed=0).values.ravel()
  latents = cfg.expansions[0] * cfg.m
  np.testing.assert_array_equal(k, np.minimum(np.round(cfg.n * np.asarray(cfg.density)), latents))
  assert (ds["k"].sel(sae_kind="topk", setting=1) == cfg.fixed_k).all()
  # TopK's L0 is at most k on any input.
  assert (ds["l0"].sel(sae_kind="topk") <= ds["k"].sel(sae_kind="topk") + 1e-6).all()


def test_recovery_is_recomputable_from_saved_dictionaries_and_toy_weights(study):
  cfg, ds = study
  for kind in cfg.sae_kinds:
    for setting in range(len(cfg.settings_of(kind))):
      for alpha in ds["alpha"].values:
        cell = ds.sel(sae_kind=kind, expansion=cfg.expansions[0], setting=setting, alpha=alpha,
                      density=ds["density"].values[-1], seed=1)
        rows = cell["dictionary"].values
        rows = rows[np.isfinite(rows).all(axis=1)]
        again = recovery.recovery(cell["W"].values, rows)
        for name in ("mmcs", "matched", "recovered"):
          assert float(cell[name]) == pytest.approx(again[name], abs=1e-6)


def test_penalty_kinds_stand_in_with_the_setting_nearest_the_target(study):
  cfg, ds = study
  sae = report.at_target(ds, "relu", cfg.expansions[0], "fixed")
  l0 = ds["l0"].sel(sae_kind="relu", expansion=cfg.expansions[0])
  settings = len(cfg.settings_of("relu"))
  gaps = np.abs(np.log(l0.isel(setting=slice(0, settings)) / cfg.fixed_k))
  np.testing.assert_allclose(np.abs(np.log(sae["l0"] / cfg.fixed_k)), gaps.min("setting"))


def test_latent_mass_is_kept_for_every_latent_and_padded_beyond(study):
  cfg, ds = study
  mass = ds["latent_mass"].sel(expansion=cfg.expansions[0])
  latents = cfg.expansions[0] * cfg.m
  for kind in cfg.sae_kinds:
    count = len(cfg.settings_of(kind))
    real = mass.sel(sae_kind=kind).isel(setting=slice(0, count), latent=slice(0, latents))
    assert np.isfinite(real).all() and (real >= 0).all()
    # Effective features lie between 1 and the latents wherever anything fired.
    found = effective.features(real.values)
    assert ((found >= 1 - 1e-9) & (found <= latents + 1e-9)).all()


@pytest.mark.parametrize("changes, field", [
    ({"sae_kinds": ("relu", "sparse")}, "sae_kinds"),
    ({"m": 0}, "m"),
    ({"targets": ("median",)}, "targets"),
    ({"fixed_k": 100}, "fixed_k"),
    ({"density": (1.5,)}, "density"),
    ({"l0": (-1.0,)}, "l0"),
    ({"sae_batch": 10**6}, "sae_batch"),
])
def test_bad_settings_are_refused_naming_the_field(changes, field):
  with pytest.raises(ConfigError, match=f"^{field}: "):
    ToySAEConfig(**{**tiny().to_dict(), "name": "x", **changes})
