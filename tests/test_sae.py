"""SAEs: forward passes, losses and gradients against numpy; TopK with traced k; AuxK on
dead latents only; metrics against numpy; vmapped training on data from a known sparse
dictionary."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from superjax import sae
from superjax.core.config import ConfigError


def random_params(rng, L, d, scale=0.5):
  return {"W_enc": rng.normal(size=(L, d)) * scale, "b_enc": rng.normal(size=(L,)) * 0.1,
          "W_dec": rng.normal(size=(L, d)) * scale, "b_dec": rng.normal(size=(d,)) * 0.1}


def as_jax(params):
  return {name: jnp.asarray(value, jnp.float32) for name, value in params.items()}


def numpy_relu_loss(p, x, l1):
  f = np.maximum(x @ p["W_enc"].T + p["b_enc"], 0.0)
  x_hat = f @ p["W_dec"] + p["b_dec"]
  penalty = (f * np.linalg.norm(p["W_dec"], axis=1)).sum(axis=1)
  return np.mean(((x - x_hat) ** 2).sum(axis=1) + l1 * penalty), f, x_hat


def numpy_nmse(x_hat, x):
  return ((x - x_hat) ** 2).sum() / ((x - x.mean(axis=0)) ** 2).sum()


def test_relu_forward_and_loss_match_numpy():
  rng = np.random.default_rng(0)
  L, d = 12, 4
  p = random_params(rng, L, d)
  acts = rng.normal(size=(7, d)) * 3.0 + 2.0
  mean, scale = acts.mean(axis=0), acts.std(axis=0)
  x = (acts - mean) / scale
  expected, f, x_hat = numpy_relu_loss(p, x, 0.7)
  loss, out = sae.relu_loss(as_jax(p), jnp.asarray(x, jnp.float32), 0.7)
  np.testing.assert_allclose(loss, expected, rtol=1e-5)
  np.testing.assert_allclose(out["z"], f, rtol=1e-5, atol=1e-6)
  np.testing.assert_allclose(out["x_hat"], x_hat, rtol=1e-5, atol=1e-5)
  # encode standardises raw activations with the stored mean and scale; decode inverts
  # the dictionary into the standardised space.
  model = sae.SAE(params=as_jax(p), mean=jnp.asarray(mean, jnp.float32),
                  scale=jnp.asarray(scale, jnp.float32), k=jnp.int32(0), kind="relu", k_max=1)
  z = sae.encode(model, jnp.asarray(acts, jnp.float32))
  np.testing.assert_allclose(z, f, rtol=1e-4, atol=1e-5)
  np.testing.assert_allclose(sae.decode(model, z), x_hat, rtol=1e-4, atol=1e-4)
  # Leading axes other than one batch axis (e.g. feature maps (N, H, W, d)).
  np.testing.assert_allclose(sae.encode(model, jnp.asarray(acts[None], jnp.float32))[0], z)


def test_relu_gradients_match_finite_differences():
  rng = np.random.default_rng(1)
  L, d, l1 = 6, 3, 0.4
  p = random_params(rng, L, d)
  x = rng.normal(size=(5, d))
  # Keep pre-activations off the ReLU kink, where finite differences are meaningless.
  assert np.abs(x @ p["W_enc"].T + p["b_enc"]).min() > 1e-3
  grads = jax.grad(lambda q: sae.relu_loss(q, jnp.asarray(x, jnp.float32), l1)[0])(as_jax(p))
  h = 1e-6
  for name, value in p.items():
    numeric = np.zeros_like(value)
    for i in np.ndindex(value.shape):
      plus, minus = dict(p), dict(p)
      plus[name], minus[name] = value.copy(), value.copy()
      plus[name][i] += h
      minus[name][i] -= h
      numeric[i] = (numpy_relu_loss(plus, x, l1)[0] - numpy_relu_loss(minus, x, l1)[0]) / (2 * h)
    np.testing.assert_allclose(grads[name], numeric, rtol=2e-3, atol=2e-4, err_msg=name)


def test_topk_keeps_exactly_k_for_traced_k():
  rng = np.random.default_rng(2)
  L, d, k_max = 20, 5, 8
  p = random_params(rng, L, d)
  # Positive pre-activations everywhere, so the ReLU never removes one of the top k.
  p["b_enc"] = np.full((L,), 10.0)
  acts = rng.normal(size=(30, d))
  pre = (acts - p["b_dec"]) @ p["W_enc"].T + p["b_enc"]
  ks = jnp.asarray([1, 3, 5, 8], jnp.int32)

  def encode(k):
    model = sae.SAE(params=as_jax(p), mean=jnp.zeros((d,)), scale=jnp.ones((d,)), k=k,
                    kind="topk", k_max=k_max)
    return sae.encode(model, jnp.asarray(acts, jnp.float32))

  z = np.asarray(jax.jit(jax.vmap(encode))(ks))
  for z_k, k in zip(z, np.asarray(ks)):
    np.testing.assert_array_equal((z_k > 0).sum(axis=1), k)
    top = np.argsort(-pre, axis=1)[:, :k]
    expected = np.zeros_like(pre)
    np.put_along_axis(expected, top, np.take_along_axis(pre, top, axis=1), axis=1)
    np.testing.assert_allclose(z_k, expected, rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("k_aux", [2, 64])  # the top-k branch, and k_aux >= L (all dead)
def test_auxk_matches_numpy_and_acts_only_on_dead_latents(k_aux):
  rng = np.random.default_rng(3)
  L, d, k = 16, 4, 3
  p = random_params(rng, L, d)
  x = rng.normal(size=(10, d))
  dead = np.zeros(L, bool)
  dead[[1, 4, 9, 13]] = True
  params, xj = as_jax(p), jnp.asarray(x, jnp.float32)

  @jax.jit
  def aux(params, dead):
    z = sae.latents("topk", params, xj, jnp.int32(k), k)
    x_hat = z @ params["W_dec"] + params["b_dec"][None, :]
    return sae.auxk_loss(params, xj, x_hat, jnp.asarray(dead), k_aux)

  # numpy: the residual reconstructed from each input's top-k_aux dead pre-activations.
  pre = (x - p["b_dec"]) @ p["W_enc"].T + p["b_enc"]
  z = np.where(pre >= np.sort(pre, axis=1)[:, -k][:, None], np.maximum(pre, 0), 0.0)
  residual = x - (z @ p["W_dec"] + p["b_dec"])
  dead_pre = np.where(dead, pre, -np.inf)
  threshold = np.sort(dead_pre, axis=1)[:, -min(k_aux, dead.sum())][:, None]
  z_aux = np.where(dead & (dead_pre >= threshold), np.maximum(pre, 0), 0.0)
  np.testing.assert_allclose(aux(params, dead), numpy_nmse(z_aux @ p["W_dec"], residual),
                             rtol=1e-5)

  g = jax.grad(aux)(params, dead)
  rows = np.abs(np.asarray(g["W_enc"])).sum(axis=1)
  assert np.all(rows[~dead] == 0.0)
  assert np.all(rows[dead] > 0)
  # Marking a live latent dead gives its encoder row a gradient.
  more = dead.copy()
  more[0] = True
  assert np.abs(np.asarray(jax.grad(aux)(params, more)["W_enc"][0])).sum() > 0
  # No dead latents: no AuxK loss.
  assert float(aux(params, np.zeros(L, bool))) == 0.0
  # In the full loss too, marking latents dead changes only their rows' gradients.
  full = jax.jit(jax.grad(lambda params, dead: sae.topk_loss(
      params, xj, jnp.int32(k), k, jnp.asarray(dead), k_aux, 1.0)[0]))
  diff = np.abs(np.asarray(full(params, dead)["W_enc"]
                           - full(params, np.zeros(L, bool))["W_enc"])).sum(axis=1)
  assert np.all(diff[~dead] < 1e-6) and np.all(diff[dead] > 0)


def test_metrics_match_numpy():
  rng = np.random.default_rng(4)
  x, x_hat = rng.normal(size=(50, 6)), rng.normal(size=(50, 6))
  np.testing.assert_allclose(sae.nmse(jnp.asarray(x_hat), jnp.asarray(x)), numpy_nmse(x_hat, x),
                             rtol=1e-5)
  L, d = 10, 6
  p = random_params(rng, L, d)
  p["b_enc"][[2, 7]] = -100.0  # these two never fire
  acts = rng.normal(size=(50, d)) * 2.0 + 1.0
  mean, scale = acts.mean(axis=0), acts.std(axis=0)
  model = sae.SAE(params=as_jax(p), mean=jnp.asarray(mean, jnp.float32),
                  scale=jnp.asarray(scale, jnp.float32), k=jnp.int32(0), kind="relu", k_max=1)
  xs = (acts - mean) / scale
  _, f, recon = numpy_relu_loss(p, xs, 0.0)
  for chunk in (4096, 7):  # whole, and in pieces that do not divide the 50 inputs
    out = sae.evaluate(model, jnp.asarray(acts, jnp.float32), chunk=chunk)
    np.testing.assert_allclose(out["nmse"], numpy_nmse(recon, xs), rtol=1e-4)
    np.testing.assert_allclose(out["mse"], ((xs - recon) ** 2).mean(), rtol=1e-4)
    np.testing.assert_allclose(out["l0"], (f > 0).sum(axis=1).mean(), rtol=1e-6)
    assert int(out["dead"]) == int((~(f > 0).any(axis=0)).sum()) >= 2
    np.testing.assert_allclose(out["dead_fraction"], int(out["dead"]) / L)


def test_standardizer_matches_numpy():
  acts = np.random.default_rng(5).normal(size=(100, 3)) * np.array([1.0, 5.0, 0.0]) + 2.0
  mean, scale = sae.fit_standardizer(jnp.asarray(acts, jnp.float32))
  np.testing.assert_allclose(mean, acts.mean(axis=0), rtol=1e-5)
  np.testing.assert_allclose(scale, [acts[:, 0].std(), acts[:, 1].std(), 1.0], rtol=1e-4)
  _, scale = sae.fit_standardizer(jnp.asarray(acts, jnp.float32), per_dimension=False)
  np.testing.assert_allclose(scale, np.full(3, np.sqrt(acts.var(axis=0).mean())), rtol=1e-4)


def test_dead_latent_tracking_counts_tokens():
  cfg = sae.SAEConfig(kind="topk", d_in=4, expansion=2, k_max=2, k_aux=4, batch=8, steps=10,
                      dead_tokens=20)
  acts = jax.random.normal(jax.random.key(0), (1, 64, 4))
  hp, _ = sae.hparams(cfg)
  hp = jax.tree.map(lambda v: jnp.asarray(v[0]), hp)
  state = jax.jit(lambda key: sae.init_state(key, cfg, hp, acts, jnp.zeros((1, 4)),
                                            jnp.ones((1, 4))))(jax.random.key(1))
  params = dict(state.sae.params, b_enc=state.sae.params["b_enc"].at[3].set(-1e3))
  state = state.replace(sae=state.sae.replace(params=params))
  step_fn = jax.jit(lambda state, step: sae.train_step(cfg, state, hp, acts, step))
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
  return jnp.asarray(np.stack([x, 3.0 * x + 5.0]))


def test_vmapped_relu_training_monotone_l0_and_reconstructs(sparse_data):
  train, held_out = sparse_data[:, :4096], sparse_data[:, 4096:]
  cfg = sae.SAEConfig(kind="relu", d_in=16, expansion=4, batch=256, steps=800)
  hp, shape = sae.hparams(cfg, l1=(0.03, 0.3, 3.0), lr=(3e-3,), source=(0, 1))
  state, history = sae.train_saes(jax.random.key(0), cfg, hp, train)
  assert history["loss"].shape == (6, 800)
  assert not np.any(np.asarray(state.diverged))
  out = {name: np.asarray(v).reshape(shape[:3])
         for name, v in sae.evaluate_runs(state.sae, hp, held_out).items()}
  # (source, k, l1): more penalty, fewer active latents.
  l0 = out["l0"][:, 0, :]
  assert np.all(np.diff(l0, axis=1) < 0), l0
  assert np.all(out["nmse"][:, 0, 0] < 0.1), out["nmse"]
  assert np.all(out["nmse"][:, 0, :] < 0.6), out["nmse"]
  # Per-source standardisation: a scaled, shifted copy of the data trains the same SAE.
  np.testing.assert_allclose(out["nmse"][0], out["nmse"][1], atol=0.02)
  np.testing.assert_allclose(out["l0"][0], out["l0"][1], rtol=0.05)


def test_vmapped_topk_training(sparse_data):
  train, held_out = sparse_data[:1, :4096], sparse_data[:1, 4096:]
  cfg = sae.SAEConfig(kind="topk", d_in=16, expansion=4, k_max=8, batch=256, steps=400,
                      dead_tokens=256 * 50)
  hp, _ = sae.hparams(cfg, k=(2, 4, 8), lr=(3e-3,))
  state, _ = sae.train_saes(jax.random.key(0), cfg, hp, train)
  out = sae.evaluate_runs(state.sae, hp, held_out)
  np.testing.assert_allclose(out["l0"], [2, 4, 8], atol=0.05)
  nmse = np.asarray(out["nmse"])
  assert np.all(np.diff(nmse) < 0) and nmse[-1] < 0.3, nmse
  # Decoder rows stay on the unit sphere.
  np.testing.assert_allclose(jnp.linalg.norm(state.sae.params["W_dec"], axis=-1), 1.0, atol=1e-5)


def test_config_errors_name_the_field():
  with pytest.raises(ConfigError, match="kind"):
    sae.SAEConfig(kind="gated")
  with pytest.raises(ConfigError, match="k_max"):
    sae.SAEConfig(d_in=4, expansion=2, k_max=9)
  with pytest.raises(ConfigError, match="lr_decay"):
    sae.SAEConfig(lr_decay=1.5)
  with pytest.raises(ConfigError, match="k must be"):
    sae.hparams(sae.SAEConfig(k_max=8), k=(16,))
  assert sae.SAEConfig(d_in=16, expansion=8).k_aux_used == 128
