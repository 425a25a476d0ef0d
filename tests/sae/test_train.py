"""SAE training through the core loop: dead-latent counts, grids of SAEs on data from a
known sparse dictionary, and settings validation."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from superjax.core.config import ConfigError
from superjax.sae import train
from superjax.sae.metrics import evaluate
from superjax.sae.model import Settings, hparams


def test_dead_latent_tracking_counts_tokens():
  settings = Settings(kind="topk", d_in=4, expansion=2, k_max=2, k_aux=4, batch=8, steps=10,
                      dead_tokens=20)
  acts = np.asarray(jax.random.normal(jax.random.key(0), (1, 64, 4)))
  hp, _ = hparams(settings)
  hp = jax.tree.map(lambda v: jnp.asarray(v[0]), hp)
  data = {"acts": acts, "mean": np.zeros((1, 4), np.float32), "scale": np.ones((1, 4), np.float32)}
  state = jax.jit(lambda key: train.init_state(settings, key, hp, data))(jax.random.key(1))
  params = dict(state.sae.params, b_enc=state.sae.params["b_enc"].at[3].set(-1e3))
  state = state.replace(sae=state.sae.replace(params=params))
  step_fn = jax.jit(lambda state, step: train.train_step(settings, state, hp, step, data))
  counts = []
  for step in range(4):
    state, _ = step_fn(state, jnp.int32(step))
    counts.append(int(state.since_fired[3]))
  # Latent 3 never fires: 8 more inputs per step, saturating at dead_tokens.
  assert counts == [8, 16, 20, 20]
  assert int(state.since_fired.min()) == 0


@pytest.fixture(scope="module")
def sparse_data():
  """(2, tokens, 16) activations from 32 unit-norm dictionary vectors, each active with
  probability 0.06 at a U[0, 1] magnitude; source 1 is source 0 scaled and shifted."""
  rng = np.random.default_rng(6)
  dictionary = rng.normal(size=(32, 16))
  dictionary /= np.linalg.norm(dictionary, axis=1, keepdims=True)
  coefficients = (rng.random((6144, 32)) < 0.06) * rng.random((6144, 32))
  x = (coefficients @ dictionary).astype(np.float32)
  return np.stack([x, 3.0 * x + 5.0])


def test_grid_of_relu_saes_monotone_l0_and_reconstructs(sparse_data, tmp_path):
  acts, held_out = sparse_data[:, :4096], sparse_data[:, 4096:]
  settings = Settings(kind="relu", d_in=16, expansion=4, batch=256, steps=800)
  hp, shape = hparams(settings, penalty=(0.03, 0.3, 3.0), lr=(3e-3,), source=(0, 1))
  trained = train.sae_pass(settings, hp, acts, tmp_path, eval_acts={"held_out": held_out}).train()
  assert trained.history["loss"].shape == (6, 8) and not trained.diverged.any()
  out = {m: trained.outputs[f"held_out.{m}"].reshape(shape[:3]) for m in ("l0", "nmse")}
  # (source, k, l1): more penalty, fewer active latents.
  l0 = out["l0"][:, 0, :]
  assert np.all(np.diff(l0, axis=1) < 0), l0
  assert np.all(out["nmse"][:, 0, 0] < 0.1), out["nmse"]
  assert np.all(out["nmse"][:, 0, :] < 0.6), out["nmse"]
  # Per-source standardisation: a scaled, shifted copy of the data trains the same SAE.
  np.testing.assert_allclose(out["nmse"][0], out["nmse"][1], atol=0.02)
  np.testing.assert_allclose(out["l0"][0], out["l0"][1], rtol=0.05)


def test_grid_of_topk_saes(sparse_data, tmp_path):
  acts, held_out = sparse_data[:1, :4096], sparse_data[:1, 4096:]
  settings = Settings(kind="topk", d_in=16, expansion=4, k_max=8, batch=256, steps=400,
                      dead_tokens=256 * 50)
  hp, _ = hparams(settings, k=(2, 4, 8), lr=(3e-3,))
  grid = train.sae_pass(settings, hp, acts, tmp_path, eval_acts={"held_out": held_out})
  trained = grid.train()
  np.testing.assert_allclose(trained.outputs["held_out.l0"], [2, 4, 8], atol=0.05)
  nmse = trained.outputs["held_out.nmse"]
  assert np.all(np.diff(nmse) < 0) and nmse[-1] < 0.3, nmse
  # The SAEs read back from the pass's saved state are the ones the pass measured, and
  # their decoder rows stayed on the unit sphere.
  saes = jax.tree.map(jnp.asarray, grid.final_states().sae)
  assert saes.params["W_dec"].shape == (3, 64, 16)
  np.testing.assert_allclose(jnp.linalg.norm(saes.params["W_dec"], axis=-1), 1.0, atol=1e-5)
  for run in range(3):
    again = evaluate(jax.tree.map(lambda a, r=run: a[r], saes), jnp.asarray(held_out[0]))
    np.testing.assert_allclose(again["nmse"], nmse[run], rtol=1e-5)
    np.testing.assert_allclose(again["l0"], trained.outputs["held_out.l0"][run], rtol=1e-6)


def test_settings_errors_name_the_field():
  with pytest.raises(ConfigError, match="kind"):
    Settings(kind="gated")
  with pytest.raises(ConfigError, match="k_max"):
    Settings(d_in=4, expansion=2, k_max=9)
  with pytest.raises(ConfigError, match="lr_decay"):
    Settings(lr_decay=1.5)
  with pytest.raises(ConfigError, match="k must be"):
    hparams(Settings(k_max=8), k=(16,))
  assert Settings(d_in=16, expansion=8).k_aux_used == 128
