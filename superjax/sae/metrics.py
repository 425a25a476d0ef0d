"""How well an SAE reconstructs, and how sparsely: nMSE (fraction of variance unexplained),
explained variance, MSE, L0 and dead latents, on any number of inputs."""

from __future__ import annotations

import jax
import jax.numpy as jnp

from superjax.sae.model import SAE, encode, reconstruct, standardize


def evaluate(sae: SAE, acts: jax.Array, chunk: int = 4096) -> dict[str, jax.Array]:
  """Reconstruction and sparsity of one SAE on a set of inputs, in the standardised space.

  The inputs are read `chunk` at a time, accumulating sums, so the (N, L) latents never
  exist at once: an ImageNet stage gives millions of tokens.

  Args:
    sae: one SAE.
    acts: (N, d) raw activations.
    chunk: inputs per piece (static).

  Returns:
    mse (mean squared error per element), nmse (fraction of variance unexplained),
    explained_variance (1 - nmse), l0 (mean active latents per input), dead (latents
    that never fire on these inputs) and dead_fraction (dead / L).
  """
  n, d = acts.shape
  chunk = min(chunk, n)
  pieces = -(-n // chunk)
  padded = jnp.pad(acts, ((0, pieces * chunk - n), (0, 0))).reshape(pieces, chunk, d)
  valid = (jnp.arange(pieces * chunk) < n).reshape(pieces, chunk)

  def add(totals, piece):
    raw, keep = piece
    x = standardize(sae, raw)
    z = encode(sae, raw)
    w = keep[:, None].astype(x.dtype)
    fired = jnp.any((z > 0) & keep[:, None], axis=0)
    return {"sse": totals["sse"] + jnp.sum(w * (x - reconstruct(sae, z)) ** 2),
            "sum": totals["sum"] + jnp.sum(w * x, axis=0),
            "sum_sq": totals["sum_sq"] + jnp.sum(w * x ** 2, axis=0),
            "active": totals["active"] + jnp.sum(w * (z > 0)),
            "fired": totals["fired"] | fired}, None

  latents = sae.params["W_enc"].shape[0]
  zeros = {"sse": jnp.zeros(()), "sum": jnp.zeros(d), "sum_sq": jnp.zeros(d),
           "active": jnp.zeros(()), "fired": jnp.zeros(latents, bool)}
  t, _ = jax.lax.scan(add, zeros, (padded, valid))
  # sum (x - mean x)^2 = sum x^2 - (sum x)^2 / N, per dimension.
  deviation = jnp.sum(t["sum_sq"] - t["sum"] ** 2 / n)
  fraction_unexplained = t["sse"] / deviation
  dead = jnp.sum(~t["fired"])
  return {"mse": t["sse"] / (n * d), "nmse": fraction_unexplained,
          "explained_variance": 1.0 - fraction_unexplained,
          "l0": t["active"] / n, "dead": dead, "dead_fraction": dead / latents}
