"""Sparse synthetic features, sampled inside the jitted step."""

import jax
import jax.numpy as jnp


def sample_features(key: jax.Array, density: jax.Array, batch: int,
                    signed: bool = False) -> jax.Array:
  """Draws a batch of sparse feature vectors.

  Feature i is nonzero with probability density[i]; its nonzero value is U[0, 1), or
  U[-1, 1) when `signed`. One uniform draw u per element serves both: the feature is on
  iff u < p, and then u / p is uniform on [0, 1) and independent of the on/off event.
  (u has 24 bits of resolution, so at p = 1e-3 the values fall on about 16,000 levels.)

  Args:
    key: PRNG key.
    density: (n,) probability that each feature is nonzero.
    batch: number of samples.
    signed: draw values from U[-1, 1) instead of U[0, 1).

  Returns:
    (batch, n) float32 features.
  """
  density = density[None, :]
  u = jax.random.uniform(key, (batch, density.shape[-1]))
  value = u / density
  if signed:
    value = 2.0 * value - 1.0
  return jnp.where(u < density, value, 0.0)
