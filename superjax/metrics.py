"""Measurements of one model's feature geometry, from W of shape (m, n) (hidden x feature).

Definitions follow Elhage et al. (2022); column W_i is feature i's embedding.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp


def features_per_dim(W: jax.Array) -> jax.Array:
  """||W||_F^2 / m: how many features each hidden dimension holds (1 / D*)."""
  return jnp.sum(W ** 2) / W.shape[0]


def feature_norm(W: jax.Array) -> jax.Array:
  """(n,) ||W_i||."""
  return jnp.linalg.norm(W, axis=0)


def _overlaps(W: jax.Array) -> tuple[jax.Array, jax.Array]:
  """(n, n) squared projections (W_i_hat . W_j)^2, and (n,) norms."""
  norm = feature_norm(W)
  W_hat = W / jnp.where(norm > 0, norm, 1.0)[None, :]
  return (W_hat.T @ W) ** 2, norm


def dimensionality(W: jax.Array) -> jax.Array:
  """(n,) D_i = ||W_i||^2 / sum_j (W_i_hat . W_j)^2; 0 for a feature with W_i = 0."""
  overlaps, norm = _overlaps(W)
  total = jnp.sum(overlaps, axis=1)
  return jnp.where(norm > 0, norm ** 2 / jnp.where(total > 0, total, 1.0), 0.0)


def superposition(W: jax.Array) -> jax.Array:
  """(n,) sum over j != i of (W_i_hat . W_j)^2: how much other features interfere with i."""
  overlaps, _ = _overlaps(W)
  return jnp.sum(overlaps, axis=1) - jnp.diagonal(overlaps)


def geometry(W: jax.Array) -> dict[str, jax.Array]:
  """All per-model measurements, for one W."""
  return {
      "features_per_dim": features_per_dim(W),
      "feature_norm": feature_norm(W),
      "dimensionality": dimensionality(W),
      "superposition": superposition(W),
  }
