"""SAE metrics and standardisation against numpy."""

import jax
import jax.numpy as jnp
import numpy as np

from superjax.sae.dictionary import nmse
from superjax.sae.metrics import evaluate, evaluate_source
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


def random_relu_sae(rng, L, d, mean, scale):
  p = {"W_enc": rng.normal(size=(L, d)) * 0.5, "b_enc": rng.normal(size=(L,)) * 0.1,
       "W_dec": rng.normal(size=(L, d)) * 0.5, "b_dec": rng.normal(size=(d,)) * 0.1}
  p["b_enc"][rng.choice(L, 2, replace=False)] = -100.0  # two latents that never fire
  model = SAE(params={k: jnp.asarray(v, jnp.float32) for k, v in p.items()},
              mean=jnp.asarray(mean, jnp.float32), scale=jnp.asarray(scale, jnp.float32),
              k=jnp.int32(0), settings=Settings(kind="relu", d_in=d, expansion=1, k_max=1))
  return p, model


def numpy_metrics(p, acts, mean, scale):
  xs = (acts - mean) / scale
  f = np.maximum(xs @ p["W_enc"].T + p["b_enc"], 0.0)
  recon = f @ p["W_dec"] + p["b_dec"]
  return {"mse": ((xs - recon) ** 2).mean(), "nmse": numpy_nmse(recon, xs),
          "l0": (f > 0).sum(axis=1).mean(), "dead": int((~(f > 0).any(axis=0)).sum())}


def test_evaluate_source_matches_numpy_per_run_under_vmap():
  """Runs measured on different sources of one (sources, N, d) array, chunk by chunk,
  under vmap with a traced source: each run's metrics are numpy's on its own source, and
  those of evaluating it alone."""
  rng = np.random.default_rng(9)
  L, d, n = 10, 6, 50
  acts = rng.normal(size=(3, n, d)) * np.array([1.0, 2.0, 0.5])[:, None, None] \
      + np.array([0.0, 1.0, -3.0])[:, None, None]
  sources = np.array([2, 0, 1, 2])
  runs = []
  for source in sources:
    mean, scale = acts[source].mean(axis=0), acts[source].std(axis=0)
    runs.append((*random_relu_sae(rng, L, d, mean, scale), mean, scale))
  saes = jax.tree.map(lambda *a: jnp.stack(a), *[model for _, model, _, _ in runs])
  acts_j = jnp.asarray(acts, jnp.float32)
  for chunk in (4096, 7):  # whole, and in pieces that do not divide the 50 inputs
    out = jax.jit(jax.vmap(lambda sae, source, c=chunk: evaluate_source(sae, acts_j, source, c)))(
        saes, jnp.asarray(sources, jnp.int32))
    for run, ((p, model, mean, scale), source) in enumerate(zip(runs, sources)):
      want = numpy_metrics(p, acts[source], mean, scale)
      np.testing.assert_allclose(out["mse"][run], want["mse"], rtol=1e-4)
      np.testing.assert_allclose(out["nmse"][run], want["nmse"], rtol=1e-4)
      np.testing.assert_allclose(out["l0"][run], want["l0"], rtol=1e-6)
      assert int(out["dead"][run]) == want["dead"] >= 2
      alone = evaluate(model, acts_j[source], chunk=chunk)
      for metric, value in alone.items():
        np.testing.assert_allclose(out[metric][run], value, rtol=1e-5, err_msg=metric)


def _values(jaxpr):
  """Every value computed in a jaxpr and its sub-jaxprs (scan bodies), with its primitive."""
  for eqn in jaxpr.eqns:
    yield from ((eqn.primitive.name, v.aval.shape) for v in eqn.outvars)
    for param in eqn.params.values():
      for sub in param if isinstance(param, (list, tuple)) else [param]:
        if hasattr(sub, "jaxpr") or hasattr(sub, "eqns"):
          yield from _values(getattr(sub, "jaxpr", sub))


def test_evaluate_source_under_vmap_copies_one_chunk_per_run():
  """The traced source picks one chunk of one source per scan step: no value with the N
  inputs of a source is ever formed, let alone one per run."""
  runs, L, d, n, chunk = 4, 10, 6, 50, 7
  sae = SAE(params={"W_enc": jnp.zeros((runs, L, d)), "b_enc": jnp.zeros((runs, L)),
                    "W_dec": jnp.zeros((runs, L, d)), "b_dec": jnp.zeros((runs, d))},
            mean=jnp.zeros((runs, d)), scale=jnp.ones((runs, d)),
            k=jnp.zeros((runs,), jnp.int32),
            settings=Settings(kind="relu", d_in=d, expansion=1, k_max=1))
  acts = jnp.zeros((3, n, d))
  jaxpr = jax.make_jaxpr(jax.vmap(lambda s, source: evaluate_source(s, acts, source, chunk)))(
      sae, jnp.zeros((runs,), jnp.int32)).jaxpr
  values = list(_values(jaxpr))
  assert ("gather", (runs, 1, chunk, d)) in values
  assert not [v for v in values if n in v[1]], values
