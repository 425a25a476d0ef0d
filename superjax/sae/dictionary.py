"""The dictionary's geometry and how well it reconstructs: shared by every SAE kind."""

from __future__ import annotations

import jax
import jax.numpy as jnp


def unit_rows(W: jax.Array) -> jax.Array:
  """(L, d) rows scaled to unit norm (a zero row stays zero)."""
  return W / jnp.maximum(jnp.linalg.norm(W, axis=-1, keepdims=True), 1e-12)


def last_axis(v: jax.Array, x: jax.Array) -> jax.Array:
  """A (d,) vector shaped (1, ..., 1, d) to broadcast against x (..., d)."""
  return v.reshape((1,) * (x.ndim - 1) + v.shape)


def decode(params: dict[str, jax.Array], z: jax.Array) -> jax.Array:
  """(..., L) latents -> (..., d) reconstruction W_dec^T z + b_dec."""
  x_hat = z @ params["W_dec"]
  return x_hat + last_axis(params["b_dec"], x_hat)


def nmse(x_hat: jax.Array, x: jax.Array) -> jax.Array:
  """Fraction of variance unexplained: sum (x - x_hat)^2 / sum (x - mean_batch x)^2.

  Args:
    x_hat: (N, d) reconstructions.
    x: (N, d) targets.
  """
  deviation = jnp.sum((x - jnp.mean(x, axis=0, keepdims=True)) ** 2)
  return jnp.sum((x - x_hat) ** 2) / deviation


def tangent_grads(params: dict[str, jax.Array], grads: dict[str, jax.Array]) -> dict:
  """For kinds with unit-norm decoder rows: only movement along the unit sphere. The part
  of each decoder row's gradient along the row would be undone by the renormalisation."""
  W_dec, g = params["W_dec"], grads["W_dec"]
  return dict(grads, W_dec=g - jnp.sum(g * W_dec, axis=-1, keepdims=True) * W_dec)


def unit_decoder(params: dict[str, jax.Array], out: dict, step: jax.Array,
                 settings) -> dict[str, jax.Array]:
  """Decoder rows renormalised to unit norm after a step (`after_step` of such kinds)."""
  return dict(params, W_dec=unit_rows(params["W_dec"]))
