import jax
import jax.numpy as jnp
import numpy as np

from superjax.toy import models, train
from superjax.toy.config import MODELS as CONFIG_MODELS


def _relu(a):
  return np.maximum(a, 0.0)


def test_config_knows_every_model():
  assert set(CONFIG_MODELS) == set(models.MODELS)


def test_forward_passes_against_numpy():
  rng = np.random.default_rng(0)
  n, m = 7, 3
  x = rng.uniform(-1, 1, n).astype(np.float32)
  W, W_out, b = (rng.normal(size=s).astype(np.float32) for s in ((m, n), (n, m), (n,)))
  tied = {"W": jnp.asarray(W), "b": jnp.asarray(b)}
  untied = dict(tied, W_out=jnp.asarray(W_out))
  want = {
      "linear": W.T @ W @ x + b,
      "relu": _relu(W.T @ W @ x + b),
      "hidden_relu": _relu(W.T @ _relu(W @ x) + b),
      "abs": _relu(W_out @ _relu(W @ x) + b),
  }
  for name, expected in want.items():
    params = untied if name == "abs" else tied
    np.testing.assert_allclose(models.MODELS[name].apply(params, jnp.asarray(x)), expected,
                               rtol=1e-5, atol=1e-5)


def test_abs_model_is_trained_on_the_absolute_value():
  rng = np.random.default_rng(1)
  n, m, batch = 6, 4, 16
  x = rng.uniform(-1, 1, (batch, n)).astype(np.float32)
  params = models.MODELS["abs"].init(jax.random.key(0), n, m)
  W, W_out, b = (np.asarray(params[k]) for k in ("W", "W_out", "b"))
  importance = rng.uniform(size=n).astype(np.float32)
  out = _relu(_relu(x @ W.T) @ W_out.T + b)
  want = np.mean(np.sum(importance * (np.abs(x) - out) ** 2, axis=1))
  got = train.loss_fn("abs", params, jnp.asarray(x), jnp.asarray(importance))
  np.testing.assert_allclose(got, want, rtol=1e-5)
