"""How well an SAE reconstructs, and how sparsely: nMSE (fraction of variance unexplained),
explained variance, MSE, L0 and dead latents, on any number of inputs."""

from __future__ import annotations

import jax
import jax.numpy as jnp

from superjax.sae.model import SAE, encode, reconstruct, standardize


def evaluate_source(sae: SAE, acts: jax.Array, source: jax.Array,
                    chunk: int = 4096) -> dict[str, jax.Array]:
  """Reconstruction and sparsity of one SAE on one source's inputs, in the standardised
  space.

  The inputs are read `chunk` at a time straight out of `acts`, accumulating sums, so the
  (N, L) latents never exist at once (an ImageNet stage gives millions of tokens), and
  under `jax.vmap` over runs with a traced `source` each run copies one chunk per step
  rather than gathering its whole (N, d) source up front.

  Args:
    sae: one SAE.
    acts: (sources, N, d) raw activations.
    source: () int index of the source to measure on; may be traced.
    chunk: inputs per piece (static).

  Returns:
    mse (mean squared error per element), nmse (fraction of variance unexplained),
    explained_variance (1 - nmse), l0 (mean active latents per input), dead (latents
    that never fire on these inputs) and dead_fraction (dead / L).
  """
  _, n, d = acts.shape
  chunk = min(chunk, n)
  pieces = -(-n // chunk)

  def add(totals, piece):
    # The last piece is moved back to end at row n (dynamic_slice would clamp it there
    # anyway) rather than padding `acts`; rows an earlier piece has counted are masked.
    first = piece * chunk
    start = jnp.minimum(first, n - chunk)
    raw = jax.lax.dynamic_slice(acts, (source, start, 0), (1, chunk, d))[0]
    keep = start + jnp.arange(chunk) >= first
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
  t, _ = jax.lax.scan(add, zeros, jnp.arange(pieces))
  # sum (x - mean x)^2 = sum x^2 - (sum x)^2 / N, per dimension.
  deviation = jnp.sum(t["sum_sq"] - t["sum"] ** 2 / n)
  fraction_unexplained = t["sse"] / deviation
  dead = jnp.sum(~t["fired"])
  return {"mse": t["sse"] / (n * d), "nmse": fraction_unexplained,
          "explained_variance": 1.0 - fraction_unexplained,
          "l0": t["active"] / n, "dead": dead, "dead_fraction": dead / latents}


def evaluate(sae: SAE, acts: jax.Array, chunk: int = 4096) -> dict[str, jax.Array]:
  """evaluate_source on a single source: acts (N, d) raw activations."""
  return evaluate_source(sae, acts[None], 0, chunk)
