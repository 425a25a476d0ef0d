"""Sparse synthetic features, sampled inside the jitted step.

Feature i is nonzero with probability density[i] and, when nonzero, uniform on [0, 1)
(or [-1, 1) when `signed`). Optionally the features form consecutive sets of `set_size`
whose members fire independently, together (correlated) or never together
(anticorrelated); every feature keeps its own marginal density in all three cases.
"""

import jax
import jax.numpy as jnp

INDEPENDENT, CORRELATED, ANTICORRELATED = 0, 1, 2  # the order of config.CORRELATIONS


def draw_uniforms(key: jax.Array, batch: int, n: int, set_size: int = 0
                  ) -> tuple[jax.Array, jax.Array | None]:
  """The random numbers behind a batch: u of shape (batch, n) and, with sets, g of shape
  (batch, n // set_size). They depend on the key alone, not on densities, so runs whose
  keys agree can draw them once and share them (train.step_runs does)."""
  if set_size == 0:
    return jax.random.uniform(key, (batch, n)), None
  key_u, key_g = jax.random.split(key)
  return (jax.random.uniform(key_u, (batch, n)),
          jax.random.uniform(key_g, (batch, n // set_size)))


def features_from_uniforms(uniforms: tuple[jax.Array, jax.Array | None], density: jax.Array,
                           signed: bool = False, set_size: int = 0,
                           correlation: jax.Array | int = INDEPENDENT) -> jax.Array:
  """Sparse features from `draw_uniforms`'s numbers; see `sample_features`."""
  u, g = uniforms
  density = density[None, :]
  if set_size == 0:
    on, value = u < density, u / density
  else:
    n = density.shape[-1]
    g = jnp.repeat(g, set_size, axis=1)
    upper = jnp.cumsum(density.reshape(-1, set_size), axis=1).reshape(1, n)
    lower = upper - density
    on = jnp.select([correlation == INDEPENDENT, correlation == CORRELATED],
                    [u < density, g < density], (g >= lower) & (g < upper))
    value = jnp.select([correlation == INDEPENDENT, correlation == CORRELATED],
                       [u / density, u], (g - lower) / density)
  if signed:
    value = 2.0 * value - 1.0
  return jnp.where(on, value, 0.0)


def sample_features(key: jax.Array, density: jax.Array, batch: int, signed: bool = False,
                    set_size: int = 0, correlation: jax.Array | int = INDEPENDENT) -> jax.Array:
  """Draws a batch of sparse feature vectors.

  Independent features take one uniform draw u per element: the feature is on iff u < p,
  and then u / p is uniform on [0, 1) and independent of the on/off event. (u has 24 bits
  of resolution, so at p = 1e-3 the values fall on about 16,000 levels.)

  Sets (set_size > 0) add one uniform draw g per set and sample:
    correlated:     member i is on iff g < p_i (the set fires together); value u.
    anticorrelated: the set's densities tile [0, sum p) and member i is on iff g falls in
                    its own interval [c_i - p_i, c_i); value (g - c_i + p_i) / p_i. At most
                    one member is on, each with probability exactly p_i (needs sum p <= 1).

  Args:
    key: PRNG key.
    density: (n,) probability that each feature is nonzero.
    batch: number of samples.
    signed: draw values from U[-1, 1) instead of U[0, 1).
    set_size: size of the consecutive feature sets; 0 for no sets (the fast path).
    correlation: INDEPENDENT, CORRELATED or ANTICORRELATED (may be traced).

  Returns:
    (batch, n) float32 features.
  """
  return features_from_uniforms(draw_uniforms(key, batch, density.shape[-1], set_size),
                                density, signed, set_size, correlation)
