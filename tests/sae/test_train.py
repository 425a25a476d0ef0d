"""SAE training through the core loop: dead-latent counts, grids of SAEs on data from a
known sparse dictionary, and settings validation."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from superjax.core.config import ConfigError
from superjax.core.results import on_dims
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
  step_fn = jax.jit(lambda state, step: train.train_step(
      settings, state, hp, jax.random.fold_in(jax.random.key(2), step), step, data))
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
  hp, grid = hparams(settings, penalty=(0.03, 0.3, 3.0), lr=(3e-3,), source=(0, 1))
  trained = train.sae_pass(settings, hp, acts, tmp_path, eval_acts={"held_out": held_out}).train()
  assert trained.history["loss"].shape == (6, 8) and not trained.diverged.any()
  out = {m: on_dims(grid, trained.outputs[f"held_out.{m}"], ("source", "penalty"))
         for m in ("l0", "nmse")}
  # (source, l1): more penalty, fewer active latents.
  l0 = out["l0"]
  assert np.all(np.diff(l0, axis=1) < 0), l0
  assert np.all(out["nmse"][:, 0] < 0.1), out["nmse"]
  assert np.all(out["nmse"] < 0.6), out["nmse"]
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
  nmse = trained.outputs["held_out.nmse"]
  assert np.all(np.diff(nmse) < 0) and nmse[-1] < 0.3, nmse
  # The SAEs read back from the pass's saved state are the ones the pass measured, and
  # their decoder rows stayed on the unit sphere.
  saes = jax.tree.map(jnp.asarray, grid.final_states().sae)
  assert saes.params["W_dec"].shape == (3, 64, 16)
  # L0 is k, or fewer where an input has fewer than k positive pre-activations: counted in
  # numpy from the saved encoder.
  x = (held_out[0][None] - np.asarray(saes.mean)[:, None]) / np.asarray(saes.scale)[:, None]
  pre = np.einsum("rnd,rld->rnl", x - np.asarray(saes.params["b_dec"])[:, None],
                  np.asarray(saes.params["W_enc"])) + np.asarray(saes.params["b_enc"])[:, None]
  want = np.minimum(np.array([2, 4, 8])[:, None], (pre > 0).sum(-1)).mean(-1)
  np.testing.assert_allclose(trained.outputs["held_out.l0"], want, rtol=1e-5)
  assert np.all(want > np.array([2, 4, 8]) - 0.5)
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


def test_batchtopk_threshold_is_an_untrained_buffer_following_its_ema():
  """The optimiser holds no state for BatchTopK's threshold, which tracks an EMA of each
  batch's (k x B + 1)-th largest activation. Each batch holds B rows of the data, each with
  at most k activations above its own (k + 1)-th largest m_r and at least k + 1 at or above
  it, so the batch's threshold lies in [min_r m_r, max_r m_r] over the data's rows, and
  the EMA within the EMAs of those bounds: on near-identical rows a tight check that
  needs no knowledge of which rows were drawn."""
  d, k, rate = 8, 3, 0.3
  settings = Settings(kind="batchtopk", d_in=d, expansion=4, k_max=k, k_aux=4, batch=16,
                      steps=100, threshold_ema=rate)
  rng = np.random.default_rng(10)
  acts = (rng.normal(size=d) * 2.0 + 0.01 * rng.normal(size=(64, d))).astype(np.float32)
  hp, _ = hparams(settings, k=(k,), lr=(3e-2,))
  hp = jax.tree.map(lambda v: jnp.asarray(v[0]), hp)
  data = {"acts": acts[None], "mean": np.zeros((1, d), np.float32),
          "scale": np.ones((1, d), np.float32)}
  state = jax.jit(lambda key: train.init_state(settings, key, hp, data))(jax.random.key(1))
  # b_dec at 0 rather than the rows' median, so activations are large next to their spread.
  state = state.replace(sae=state.sae.replace(
      params=dict(state.sae.params, b_dec=jnp.zeros(d))))
  assert set(state.sae.buffers) == {"threshold"}
  assert set(state.sae.params) == {"W_enc", "b_enc", "W_dec", "b_dec"}
  adam = [s for s in jax.tree.leaves(state.opt_state, is_leaf=lambda s: hasattr(s, "mu"))
          if hasattr(s, "mu")]
  assert len(adam) == 1 and set(adam[0].mu) == set(adam[0].nu) == set(state.sae.params)
  paths = [jax.tree_util.keystr(path)
           for path, _ in jax.tree_util.tree_flatten_with_path(state.opt_state)[0]]
  assert not [path for path in paths if "threshold" in path]

  step_fn = jax.jit(lambda state, step: train.train_step(
      settings, state, hp, jax.random.fold_in(jax.random.key(2), step), step, data))
  for step in range(6):
    p = {name: np.asarray(value, np.float64) for name, value in state.sae.params.items()}
    z = np.maximum((acts - p["b_dec"]) @ p["W_enc"].T + p["b_enc"], 0.0)
    m = np.sort(z, axis=1)[:, -(k + 1)]
    if step == 0:
      low, high, first = m.min(), m.max(), m.min()
    else:
      low, high = low + rate * (m.min() - low), high + rate * (m.max() - high)
    state, _ = step_fn(state, jnp.int32(step))
    threshold = float(state.sae.buffers["threshold"])
    assert low - 1e-5 <= threshold <= high + 1e-5, (step, low, threshold, high)
  # Not vacuous: the bounds exclude both the last batch's threshold alone and the first.
  assert m.max() < low and high < first
