"""Image attacks: budgets, pixel range, projections and FGSM against numpy, and strength
(PGD >= FGSM >= noise) on a small MLP trained on scikit-learn's 8x8 digits."""

import functools
import warnings

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from superjax.vision import attacks as image_attacks

EPS_LINF = 0.1
EPS_L2 = 1.0


@pytest.fixture(scope="module")
def digits_mlp():
  """A one-hidden-layer ReLU MLP (sklearn) on 8x8 digits scaled to [0, 1], as numpy weights
  and (N, 8, 8, 1) test images with labels."""
  datasets = pytest.importorskip("sklearn.datasets")
  neural_network = pytest.importorskip("sklearn.neural_network")
  images, labels = datasets.load_digits(return_X_y=True)
  x = (images / 16.0).astype(np.float32)
  mlp = neural_network.MLPClassifier(hidden_layer_sizes=(32,), max_iter=300, random_state=0)
  with warnings.catch_warnings():
    # A not-quite-converged fit is still a classifier worth attacking.
    warnings.simplefilter("ignore")
    mlp.fit(x[:1400], labels[:1400])
  weights = tuple(np.asarray(w, np.float32) for w in
                  (mlp.coefs_[0], mlp.intercepts_[0], mlp.coefs_[1], mlp.intercepts_[1]))
  assert mlp.score(x[1400:], labels[1400:]) > 0.9
  return weights, x[1400:1656].reshape(-1, 8, 8, 1), labels[1400:1656].astype(np.int32)


def mlp_logits(weights, x):
  W1, b1, W2, b2 = weights
  h = jax.nn.relu(x.reshape(x.shape[0], -1) @ W1 + b1[None, :])
  return h @ W2 + b2[None, :]


def numpy_input_gradient(weights, x, labels):
  """Gradient of each image's cross-entropy w.r.t. its pixels, backpropagated by hand."""
  W1, b1, W2, b2 = (w.astype(np.float64) for w in weights)
  flat = x.reshape(x.shape[0], -1).astype(np.float64)
  pre = flat @ W1 + b1
  logits = np.maximum(pre, 0) @ W2 + b2
  p = np.exp(logits - logits.max(axis=1, keepdims=True))
  p /= p.sum(axis=1, keepdims=True)
  d_logits = p - np.eye(W2.shape[1])[labels]
  return ((d_logits @ W2.T) * (pre > 0) @ W1.T).reshape(x.shape)


def numpy_cross_entropy(weights, x, labels):
  W1, b1, W2, b2 = (w.astype(np.float64) for w in weights)
  logits = np.maximum(x.reshape(x.shape[0], -1) @ W1 + b1, 0) @ W2 + b2
  shifted = logits - logits.max(axis=1, keepdims=True)
  log_p = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
  return -log_p[np.arange(len(labels)), labels]


def all_attacks(logits_fn, x, labels, eps_linf, eps_l2, steps=20):
  key = jax.random.key(0)
  return {
      "noise_linf": image_attacks.random_noise(jax.random.fold_in(key, 0), x, eps_linf, "linf"),
      "fgsm": image_attacks.fgsm(logits_fn, x, labels, eps_linf),
      "pgd_linf": image_attacks.pgd_linf(jax.random.fold_in(key, 1), logits_fn, x, labels,
                                         eps_linf, steps),
      "noise_l2": image_attacks.random_noise(jax.random.fold_in(key, 2), x, eps_l2, "l2"),
      "pgd_l2": image_attacks.pgd_l2(jax.random.fold_in(key, 3), logits_fn, x, labels, eps_l2,
                                     steps),
  }


def test_projections_match_numpy():
  rng = np.random.default_rng(0)
  delta = rng.normal(size=(6, 4, 5, 3)).astype(np.float32)
  delta[0] = 0.0
  eps = np.array([0.5, 0.1, 1.0, 100.0, 0.3, 2.0], np.float32)
  norms = np.sqrt((delta.reshape(6, -1) ** 2).sum(axis=1))
  factor = np.where(norms > eps, eps / np.where(norms > 0, norms, 1.0), 1.0)
  np.testing.assert_allclose(image_attacks.project_l2(jnp.asarray(delta), eps),
                             delta * factor[:, None, None, None], rtol=1e-6, atol=1e-7)
  box = np.minimum(np.maximum(delta, -eps[:, None, None, None]), eps[:, None, None, None])
  np.testing.assert_allclose(image_attacks.project_linf(jnp.asarray(delta), eps), box)
  # A scalar budget is every image's budget.
  np.testing.assert_allclose(image_attacks.project_l2(jnp.asarray(delta), 0.5),
                             image_attacks.project_l2(jnp.asarray(delta), np.full(6, 0.5)))


def test_fgsm_matches_numpy(digits_mlp):
  weights, x, labels = digits_mlp
  logits_fn = functools.partial(mlp_logits, weights)
  grad = numpy_input_gradient(weights, x, labels)
  expected = np.clip(x + EPS_LINF * np.sign(grad), 0.0, 1.0)
  got = np.asarray(image_attacks.fgsm(logits_fn, jnp.asarray(x), jnp.asarray(labels), EPS_LINF))
  # Pixels whose gradient is ~0 may round to either sign in float32.
  decided = np.abs(grad) > 1e-5
  np.testing.assert_allclose(got[decided], expected[decided], atol=1e-6)


def test_budgets_and_pixel_range(digits_mlp):
  weights, x, labels = digits_mlp
  logits_fn = functools.partial(mlp_logits, weights)
  n = x.shape[0]
  # Per-image budgets, some 0, to check broadcasting and the degenerate ball.
  eps_linf = jnp.asarray(np.linspace(0.0, 0.2, n), jnp.float32)
  eps_l2 = jnp.asarray(np.linspace(0.0, 2.0, n), jnp.float32)
  for name, x_adv in all_attacks(logits_fn, jnp.asarray(x), jnp.asarray(labels), eps_linf,
                                 eps_l2, steps=5).items():
    x_adv = np.asarray(x_adv)
    assert x_adv.shape == x.shape, name
    assert x_adv.min() >= 0.0 and x_adv.max() <= 1.0, name
    delta = (x_adv - x).reshape(n, -1)
    if name.endswith("l2"):
      assert np.all(np.linalg.norm(delta, axis=1) <= np.asarray(eps_l2) * (1 + 1e-5) + 1e-6), name
    else:
      assert np.all(np.abs(delta).max(axis=1) <= np.asarray(eps_linf) + 1e-6), name
    assert np.all(delta[0] == 0.0), name


def test_attack_strength(digits_mlp):
  """Loss increase (numpy cross-entropy): PGD >= FGSM >= noise in Linf, PGD >> noise in L2."""
  weights, x, labels = digits_mlp
  logits_fn = functools.partial(mlp_logits, weights)
  clean = numpy_cross_entropy(weights, x, labels)
  losses = {name: numpy_cross_entropy(weights, np.asarray(x_adv), labels)
            for name, x_adv in all_attacks(logits_fn, jnp.asarray(x), jnp.asarray(labels),
                                           EPS_LINF, EPS_L2).items()}
  increase = {name: loss.mean() - clean.mean() for name, loss in losses.items()}
  assert increase["pgd_linf"] >= increase["fgsm"] > 2 * max(increase["noise_linf"], 0.0) + 0.1
  assert increase["pgd_l2"] > 2 * max(increase["noise_l2"], 0.0) + 0.1
  # Per image too: the best PGD iterate almost always beats the clean input.
  assert np.mean(losses["pgd_linf"] >= clean - 1e-4) > 0.99


def test_attacks_inside_jit_with_traced_parameters(digits_mlp):
  """A caller may jit over the classifier's parameters and pass a fresh closure."""
  weights, x, labels = digits_mlp

  @jax.jit
  def run(weights, x, labels):
    logits_fn = lambda images: mlp_logits(weights, images)
    return {name: image_attacks.attack(name, jax.random.key(1), logits_fn, x, labels,
                                       EPS_L2 if name.endswith("l2") else EPS_LINF, 3)
            for name in (*image_attacks.ATTACKS, "noise_linf", "noise_l2")}

  out = run(weights, jnp.asarray(x), jnp.asarray(labels))
  logits_fn = functools.partial(mlp_logits, weights)
  np.testing.assert_allclose(out["fgsm"], image_attacks.fgsm(logits_fn, x, labels, EPS_LINF))
  np.testing.assert_allclose(out["pgd_l2"], image_attacks.pgd_l2(
      jax.random.key(1), logits_fn, x, labels, EPS_L2, 3), atol=1e-6)
  with pytest.raises(ValueError, match="attack must be one of"):
    image_attacks.attack("cw", jax.random.key(0), logits_fn, x, labels, EPS_LINF)
