"""Adversarial vulnerability of saved models: re-attacks and the summary statistics the
Gorton & Lewis (2025) comparison needs. Works on results datasets (no training)."""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
import numpy as np
import xarray as xr

from superjax.core import keys
from superjax.core import results as results_lib
from superjax.core.experiment import config_of
from superjax.toy import attacks, results, train


def relative_to_densest(values: xr.DataArray) -> xr.DataArray:
  """Values divided by those of the densest model (the no-superposition reference) with
  the same other coordinates."""
  return values / values.sel(density=values.density.max())


def interference(W: np.ndarray) -> np.ndarray:
  """Mean over i != j of (W_i . W_j)^2, the superposition graph's mean edge weight."""
  gram = np.einsum("...hi,...hj->...ij", W, W) ** 2
  n = gram.shape[-1]
  return (gram.sum((-2, -1)) - np.trace(gram, axis1=-2, axis2=-1)) / (n * (n - 1))


def reattack(dataset: xr.Dataset, attack: str, samples: int = 4096, seed: int = 1) -> xr.DataArray:
  """Vulnerability of every saved model under `attack`, measured afresh: new samples and
  new attack noise (key `seed`), from the saved parameters alone. Same dims as `loss`."""
  cfg = config_of(dataset)
  axes, dims = cfg.axes(), cfg.result_dims
  hp = jax.tree.map(jnp.asarray, train.hparams(cfg))
  parts = []
  for model, ds in results.per_model(dataset):
    # The results hold every run on `dims` (the other axes take one value), in run order.
    params = {k: jnp.asarray(ds[k].transpose(*dims, ...).values.reshape(
        (axes.size,) + ds[k].shape[len(dims):])) for k in ("W", "W_out", "b") if k in ds}

    def one(params, hp, model=model):
      key = keys.run_key(seed, hp.seed, stream="reattack")
      x = train.sample(cfg, hp, keys.named(key, "inputs"), samples)
      importance = train.feature_importance(cfg.n, hp)
      eps = attacks.batch_eps(x, cfg.attack_eps, cfg.per_sample_eps)
      x_adv = attacks.attack_batch(attack, model, params, x, importance, eps,
                                   keys.named(key, "attack"))
      per_sample = functools.partial(attacks.sample_loss, model, params, importance=importance)
      clean = jnp.mean(jax.vmap(lambda a: per_sample(a, a))(x))
      adv = jnp.mean(jax.vmap(per_sample)(x_adv, x))
      return (adv - clean) / jnp.mean(jnp.sum(x ** 2, axis=-1))

    values = np.asarray(jax.jit(jax.vmap(one))(params, hp))
    parts.append((model, results_lib.on_dims(axes, values, dims)))
  if "model" in dataset.dims:
    return xr.DataArray(np.stack([v for _, v in parts]), dims=("model",) + dims,
                        coords={d: dataset[d] for d in ("model",) + dims})
  return xr.DataArray(parts[0][1], dims=dims, coords={d: dataset[d] for d in dims})
