"""SAE metrics and standardisation against numpy."""

import jax.numpy as jnp
import numpy as np

from superjax.sae.dictionary import nmse
from superjax.sae.metrics import evaluate
from superjax.sae.model import SAE, Settings, fit_standardizer


def numpy_nmse(x_hat, x):
  return ((x - x_hat) ** 2).sum() / ((x - x.mean(axis=0)) ** 2).sum()


def test_metrics_match_numpy():
  rng = np.random.default_rng(4)
  x, x_hat = rng.normal(size=(50, 6)), rng.normal(size=(50, 6))
  np.testing.assert_allclose(nmse(jnp.asarray(x_hat), jnp.asarray(x)), numpy_nmse(x_hat, x),
                             rtol=1e-5)
  L, d = 10, 6
  p = {"W_enc": rng.normal(size=(L, d)) * 0.5, "b_enc": rng.normal(size=(L,)) * 0.1,
       "W_dec": rng.normal(size=(L, d)) * 0.5, "b_dec": rng.normal(size=(d,)) * 0.1}
  p["b_enc"][[2, 7]] = -100.0  # these two never fire
  acts = rng.normal(size=(50, d)) * 2.0 + 1.0
  mean, scale = acts.mean(axis=0), acts.std(axis=0)
  model = SAE(params={k: jnp.asarray(v, jnp.float32) for k, v in p.items()},
              mean=jnp.asarray(mean, jnp.float32), scale=jnp.asarray(scale, jnp.float32),
              k=jnp.int32(0), settings=Settings(kind="relu", d_in=d, expansion=1, k_max=1))
  xs = (acts - mean) / scale
  f = np.maximum(xs @ p["W_enc"].T + p["b_enc"], 0.0)
  recon = f @ p["W_dec"] + p["b_dec"]
  for chunk in (4096, 7):  # whole, and in pieces that do not divide the 50 inputs
    out = evaluate(model, jnp.asarray(acts, jnp.float32), chunk=chunk)
    np.testing.assert_allclose(out["nmse"], numpy_nmse(recon, xs), rtol=1e-4)
    np.testing.assert_allclose(out["explained_variance"], 1 - numpy_nmse(recon, xs), rtol=1e-4)
    np.testing.assert_allclose(out["mse"], ((xs - recon) ** 2).mean(), rtol=1e-4)
    np.testing.assert_allclose(out["l0"], (f > 0).sum(axis=1).mean(), rtol=1e-6)
    assert int(out["dead"]) == int((~(f > 0).any(axis=0)).sum()) >= 2
    np.testing.assert_allclose(out["dead_fraction"], int(out["dead"]) / L)


def test_standardizer_matches_numpy():
  acts = np.random.default_rng(5).normal(size=(100, 3)) * np.array([1.0, 5.0, 0.0]) + 2.0
  mean, scale = fit_standardizer(jnp.asarray(acts, jnp.float32))
  np.testing.assert_allclose(mean, acts.mean(axis=0), rtol=1e-5)
  np.testing.assert_allclose(scale, [acts[:, 0].std(), acts[:, 1].std(), 1.0], rtol=1e-4)
  _, scale = fit_standardizer(jnp.asarray(acts, jnp.float32), per_dimension=False)
  np.testing.assert_allclose(scale, np.full(3, np.sqrt(acts.var(axis=0).mean())), rtol=1e-4)
