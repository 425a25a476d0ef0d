"""SAE kinds against numpy: forward passes, losses and gradients; TopK with traced k; AuxK
on dead latents only; and the contract every registered kind keeps."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from superjax.sae import kinds, selection
from superjax.sae.kinds import batchtopk, jumprelu, matryoshka, relu, topk
from superjax.sae.model import SAE, SAEHParams, Settings, encode, reconstruct


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
  loss, out = relu.loss_at(as_jax(p), jnp.asarray(x, jnp.float32), 0.7)
  np.testing.assert_allclose(loss, expected, rtol=1e-5)
  np.testing.assert_allclose(out["z"], f, rtol=1e-5, atol=1e-6)
  np.testing.assert_allclose(out["x_hat"], x_hat, rtol=1e-5, atol=1e-5)
  # encode standardises raw activations with the stored mean and scale; decode inverts
  # the dictionary into the standardised space.
  model = SAE(params=as_jax(p), mean=jnp.asarray(mean, jnp.float32),
              scale=jnp.asarray(scale, jnp.float32), k=jnp.int32(0),
              settings=Settings(kind="relu", d_in=d, expansion=3, k_max=1))
  z = encode(model, jnp.asarray(acts, jnp.float32))
  np.testing.assert_allclose(z, f, rtol=1e-4, atol=1e-5)
  np.testing.assert_allclose(reconstruct(model, z), x_hat, rtol=1e-4, atol=1e-4)
  # Leading axes other than one batch axis (e.g. feature maps (N, H, W, d)).
  np.testing.assert_allclose(encode(model, jnp.asarray(acts[None], jnp.float32))[0], z)


def test_relu_gradients_match_finite_differences():
  rng = np.random.default_rng(1)
  L, d, l1 = 6, 3, 0.4
  p = random_params(rng, L, d)
  x = rng.normal(size=(5, d))
  # Keep pre-activations off the ReLU kink, where finite differences are meaningless.
  assert np.abs(x @ p["W_enc"].T + p["b_enc"]).min() > 1e-3
  grads = jax.grad(lambda q: relu.loss_at(q, jnp.asarray(x, jnp.float32), l1)[0])(as_jax(p))
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


# k_max within lax.top_k's range, and beyond it (each row's k-th largest by counting).
@pytest.mark.parametrize("k_max", [8, 20])
def test_topk_keeps_exactly_k_for_traced_k(k_max):
  assert (k_max > topk.SORT_LIMIT) == (k_max == 20)
  rng = np.random.default_rng(2)
  L, d = 20, 5
  p = random_params(rng, L, d)
  # Positive pre-activations everywhere, so the ReLU never removes one of the top k.
  p["b_enc"] = np.full((L,), 10.0)
  acts = rng.normal(size=(30, d))
  pre = (acts - p["b_dec"]) @ p["W_enc"].T + p["b_enc"]
  ks = jnp.asarray([1, 3, 5, 8, k_max], jnp.int32)

  def encode_k(k):
    model = SAE(params=as_jax(p), mean=jnp.zeros((d,)), scale=jnp.ones((d,)), k=k,
                settings=Settings(kind="topk", d_in=d, expansion=4, k_max=k_max))
    return encode(model, jnp.asarray(acts, jnp.float32))

  z = np.asarray(jax.jit(jax.vmap(encode_k))(ks))
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
    z = topk.top_k_latents(topk.pre_activations(params, xj), jnp.int32(k), k)
    x_hat = z @ params["W_dec"] + params["b_dec"][None, :]
    return topk.auxk_loss(params, xj, x_hat, jnp.asarray(dead), k_aux)

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
  full = jax.jit(jax.grad(lambda params, dead: topk.loss_at(
      params, xj, jnp.int32(k), k, jnp.asarray(dead), k_aux, 1.0)[0]))
  diff = np.abs(np.asarray(full(params, dead)["W_enc"]
                           - full(params, np.zeros(L, bool))["W_enc"])).sum(axis=1)
  assert np.all(diff[~dead] < 1e-6) and np.all(diff[dead] > 0)


@pytest.mark.parametrize("name", sorted(kinds.KINDS))
def test_every_kind_keeps_the_contract(name):
  """Any registered kind: non-negative latents of the right shape; a finite loss whose
  gradient reaches the encoder and decoder; projections that keep shapes; a first step
  that lowers the loss on a fixed batch."""
  kind = kinds.KINDS[name]
  d, expansion = 6, 4
  settings = Settings(kind=name, d_in=d, expansion=expansion, k_max=3, k_aux=4, steps=100)
  L = settings.n_latents
  rng = np.random.default_rng(7)
  x = jnp.asarray(rng.normal(size=(64, d)), jnp.float32)
  directions = jnp.asarray(rng.normal(size=(L, d)), jnp.float32)
  directions = directions / jnp.linalg.norm(directions, axis=1, keepdims=True)
  params = kind.init(directions, x, settings)
  buffers = kind.init_buffers(settings)
  assert params["W_enc"].shape == params["W_dec"].shape == (L, d)
  # Untrained arrays live in buffers, never in the params the optimiser sees.
  assert not set(params) & set(buffers)
  hp = SAEHParams(k=jnp.int32(3), penalty=jnp.float32(0.1), lr=jnp.float32(1e-2),
                  source=jnp.int32(0), seed=jnp.int32(0))
  z = kind.encode(params, buffers, x, hp.k, settings)
  assert z.shape == (64, L) and bool(jnp.all(z >= 0))
  dead = jnp.zeros(L, bool)
  loss_fn = lambda p: kind.loss(p, x, hp, settings, dead, jnp.int32(50))[0]
  (loss, out), grads = jax.value_and_grad(
      lambda p: kind.loss(p, x, hp, settings, dead, jnp.int32(50)), has_aux=True)(params)
  assert np.isfinite(float(loss))
  assert float(jnp.abs(grads["W_enc"]).sum()) > 0 and float(jnp.abs(grads["W_dec"]).sum()) > 0
  grads = kind.project_grads(params, grads)
  stepped = kind.after_step(jax.tree.map(lambda p, g: p - 1e-3 * g, params, grads), out,
                            jnp.int32(50), settings)
  assert jax.tree.map(jnp.shape, stepped) == jax.tree.map(jnp.shape, params)
  updated = kind.update_buffers(buffers, out, jnp.int32(50), settings)
  assert jax.tree.map(jnp.shape, updated) == jax.tree.map(jnp.shape, buffers)
  assert float(loss_fn(stepped)) < float(loss)


def test_jumprelu_loss_and_pseudo_derivatives_match_numpy():
  """Forward pass and loss, and the paper's straight-through gradients written out:
  the thresholds learn from the rectangle kernel, the encoder only from reconstruction."""
  rng = np.random.default_rng(3)
  L, d, B, lam, eps = 10, 4, 32, 0.3, 0.5
  p = random_params(rng, L, d)
  p["log_threshold"] = np.log(rng.uniform(0.05, 0.4, size=L))
  p["W_dec"] /= np.linalg.norm(p["W_dec"], axis=1, keepdims=True)
  x = rng.normal(size=(B, d))
  theta = np.exp(p["log_threshold"])
  z = x @ p["W_enc"].T + p["b_enc"]
  on = (z > theta).astype(float)
  f = z * on
  x_hat = f @ p["W_dec"] + p["b_dec"]
  expected = np.mean(((x - x_hat) ** 2).sum(axis=1)) + lam * np.mean(on.sum(axis=1))
  loss, out = jumprelu.loss_at(as_jax(p), jnp.asarray(x, jnp.float32), lam, eps)
  np.testing.assert_allclose(loss, expected, rtol=1e-5)
  np.testing.assert_allclose(out["z"], f, rtol=1e-5, atol=1e-6)
  np.testing.assert_allclose(
      jumprelu.encode(as_jax(p), {}, jnp.asarray(x, jnp.float32), 0, None), f, rtol=1e-5,
      atol=1e-6)

  grads = jax.grad(lambda q: jumprelu.loss_at(q, jnp.asarray(x, jnp.float32), lam, eps)[0])(
      as_jax(p))
  g_f = -2.0 * (x - x_hat) @ p["W_dec"].T / B  # d reconstruction / d f
  kernel = (np.abs(z - theta) < eps / 2) / eps
  d_theta = np.sum(g_f * (-theta / eps * (np.abs(z - theta) < eps / 2)), axis=0) \
      + lam * np.sum(-kernel, axis=0) / B
  assert np.any(kernel > 0)  # the check below is not vacuous
  np.testing.assert_allclose(grads["log_threshold"], theta * d_theta, rtol=1e-4, atol=1e-6)
  np.testing.assert_allclose(grads["W_enc"], (g_f * on).T @ x, rtol=1e-4, atol=1e-6)


def numpy_kth_largest(values, count):
  """The count-th largest entry, 0 past the number of entries."""
  ranked = np.sort(np.ravel(values))[::-1]
  return ranked[count - 1] if count <= ranked.size else 0.0


def test_kth_largest_is_exact_for_any_count_with_ties():
  rng = np.random.default_rng(4)
  # Few distinct levels and many zeros: long runs of ties at most ranks.
  values = (rng.integers(0, 6, size=(16, 9)) * rng.choice([0.25, 1.5], size=(16, 9)))
  values = values.astype(np.float32)
  n = values.size
  kth = jax.jit(selection.kth_largest)
  for count in (1, 2, 17, 50, 77, n - 1, n, n + 1, n + 40):
    assert float(kth(jnp.asarray(values), jnp.int32(count))) == numpy_kth_largest(values, count)
  continuous = np.maximum(rng.normal(size=(16, 9)), 0.0).astype(np.float32)
  for count in (1, 2, 17, 50, n, n + 1):
    assert float(kth(jnp.asarray(continuous), jnp.int32(count))) == numpy_kth_largest(
        continuous, count)


def test_kth_largest_counts_past_2_to_the_24_entries():
  """Past 2^24 entries a float32 count rounds: 2^24 + 1 compares equal to 2^24, so a
  float32 count would take the 2^24-th largest (1.0) for the (2^24 + 1)-th (0.5)."""
  n = 2 ** 24
  values = np.ones(n + 2, np.float32)
  values[-2:] = 0.5
  kth = jax.jit(selection.kth_largest)
  for count in (n, n + 1):
    expected = -np.partition(-values, count - 1)[count - 1]
    assert float(kth(jnp.asarray(values), jnp.int32(count))) == expected


def test_top_k_rows_keeps_each_rows_k_largest_and_ties_at_the_kth():
  rng = np.random.default_rng(8)
  z = (rng.integers(0, 5, size=(40, 12)) * 0.5).astype(np.float32)
  for k in (1, 3, 6, 12):
    kth = np.sort(z, axis=1)[:, ::-1][:, k - 1][:, None]
    expected = np.where((z >= kth) & (z > 0), z, 0.0)
    assert k == z.shape[1] or np.any((expected > 0).sum(axis=1) > k)  # ties kept past k
    np.testing.assert_array_equal(selection.top_k_rows(jnp.asarray(z), jnp.int32(k)), expected)


def batchtopk_case(seed, L=12, d=4, B=16):
  rng = np.random.default_rng(seed)
  p = random_params(rng, L, d)
  x = rng.normal(size=(B, d))
  pre = np.maximum((x - p["b_dec"]) @ p["W_enc"].T + p["b_enc"], 0.0)
  return p, x, pre


def test_batchtopk_keeps_the_k_times_batch_largest_and_tracks_a_threshold():
  L, d, B, k = 12, 4, 16, 3
  p, x, pre = batchtopk_case(5, L, d, B)
  ranked = np.sort(pre.ravel())[::-1]
  assert ranked[k * B] > 0 and len(np.unique(ranked[:k * B + 1])) == k * B + 1  # no ties
  kept = np.where(pre >= ranked[k * B - 1], pre, 0.0)
  x_hat = kept @ p["W_dec"] + p["b_dec"]
  dead = jnp.zeros(L, bool)
  loss, out = batchtopk.loss_at(as_jax(p), jnp.asarray(x, jnp.float32), jnp.int32(k), dead,
                                4, 1.0)
  assert int(jnp.sum(out["z"] > 0)) == k * B  # L0 is k on average, not per input
  np.testing.assert_allclose(out["z"], kept, rtol=1e-5, atol=1e-6)
  # The training threshold is the largest dropped activation, the (k x B + 1)-th.
  np.testing.assert_allclose(out["threshold"], ranked[k * B], rtol=1e-6)
  np.testing.assert_allclose(loss, numpy_nmse(x_hat, x), rtol=1e-5)

  settings = Settings(kind="batchtopk", d_in=d, expansion=3, k_max=k, threshold_ema=0.25)
  buffers = batchtopk.init_buffers(settings)
  first = batchtopk.update_buffers(buffers, out, jnp.int32(0), settings)
  np.testing.assert_allclose(first["threshold"], ranked[k * B], rtol=1e-6)
  later = batchtopk.update_buffers({"threshold": jnp.float32(1.0)}, out, jnp.int32(9), settings)
  np.testing.assert_allclose(later["threshold"], 1.0 + 0.25 * (ranked[k * B] - 1.0), rtol=1e-6)

  # At evaluation the global threshold decides, input by input, by the same strict rule:
  # with the training threshold stored, evaluation keeps exactly what training kept.
  xj = jnp.asarray(x, jnp.float32)
  z = batchtopk.encode(as_jax(p), {"threshold": out["threshold"]}, xj, jnp.int32(k), settings)
  np.testing.assert_array_equal(z, out["z"])
  # A latent exactly at the stored threshold is dropped; one just above it is kept.
  cut = np.float32(ranked[k * B - 1])
  z = batchtopk.encode(as_jax(p), {"threshold": jnp.float32(cut)}, xj, jnp.int32(k), settings)
  np.testing.assert_allclose(z, np.where(pre > cut, pre, 0.0), rtol=1e-5, atol=1e-6)
  assert int(jnp.sum(z > 0)) == k * B - 1


def test_batchtopk_drops_ties_at_the_boundary_in_training_and_evaluation():
  """Entries tied across the k x B-th and (k x B + 1)-th ranks are all dropped: training
  compares strictly with the (k x B + 1)-th largest, as evaluation does with theta."""
  B = 4
  z = np.array([[5.0, 4.0, 0.0], [3.0, 3.0, 0.0], [3.0, 1.0, 0.0], [2.0, 0.0, 0.0]],
               np.float32)
  ranked = np.sort(z.ravel())[::-1]
  # k = 1: ranks 4 and 5 are both 3.0, so the three 3s straddle the boundary.
  assert ranked[B - 1] == ranked[B] == 3.0
  kept, threshold = batchtopk.batch_top_k(jnp.asarray(z), jnp.int32(1))
  assert float(threshold) == ranked[B]
  np.testing.assert_array_equal(kept, np.where(z > ranked[B], z, 0.0))
  assert int(jnp.sum(kept > 0)) == 2 < B
  # k = 2: fewer than k x B + 1 positive entries, so the threshold is 0 and all 7 are kept.
  kept, threshold = batchtopk.batch_top_k(jnp.asarray(z), jnp.int32(2))
  assert float(threshold) == 0.0
  np.testing.assert_array_equal(kept, z)


def test_matryoshka_loss_sums_every_nested_prefix_and_matches_numpy():
  """The batch's k x B largest are kept (as BatchTopK); each prefix of the dictionary
  (widths L/8, L/4, L/2, L) reconstructs alone, and the loss sums their nMSEs."""
  L, d, B, k = 16, 4, 16, 3
  p, x, pre = batchtopk_case(11, L, d, B)
  assert matryoshka.widths(L) == (2, 4, 8, 16) and matryoshka.widths(3) == (1, 3)
  ranked = np.sort(pre.ravel())[::-1]
  kept = np.where(pre > ranked[k * B], pre, 0.0)
  expected = sum(numpy_nmse(kept[:, :w] @ p["W_dec"][:w] + p["b_dec"], x) for w in (2, 4, 8, 16))
  loss, out = matryoshka.loss_at(as_jax(p), jnp.asarray(x, jnp.float32), jnp.int32(k),
                                 jnp.zeros(L, bool), 4, 1.0)
  np.testing.assert_allclose(loss, expected, rtol=1e-5)
  np.testing.assert_allclose(out["z"], kept, rtol=1e-5, atol=1e-6)
  np.testing.assert_allclose(out["x_hat"], kept @ p["W_dec"] + p["b_dec"], rtol=1e-5, atol=1e-5)
  # A later latent's decoder row enters only the levels that hold it: the loss's gradient
  # in row 12 is that of the full level alone.
  g = jax.grad(lambda q: matryoshka.loss_at(q, jnp.asarray(x, jnp.float32), jnp.int32(k),
                                            jnp.zeros(L, bool), 4, 1.0)[0])(as_jax(p))
  full = kept @ p["W_dec"] + p["b_dec"]
  denominator = ((x - x.mean(axis=0)) ** 2).sum()
  np.testing.assert_allclose(g["W_dec"][12], -2 * kept[:, 12] @ (x - full) / denominator,
                             rtol=1e-4, atol=1e-6)
  first = sum(-2 * kept[:, 0] @ (x - (kept[:, :w] @ p["W_dec"][:w] + p["b_dec"]))
              for w in (2, 4, 8, 16)) / denominator
  np.testing.assert_allclose(g["W_dec"][0], first, rtol=1e-4, atol=1e-6)
