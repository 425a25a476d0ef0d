"""Boolean inputs of the U-AND setting (Hänni et al. 2024): n features, s of them active.

  basis       the features are the input coordinates: x in {0, 1}^n.
  superposed  the features are stored as random unit directions e_i in d0 < n dimensions:
              the input is E f with E of shape (d0, n). A layer reads feature i through
              e_i, so every read carries interference sum_{j active, j != i} e_i . e_j.

Pairs of features are ordered as `numpy.triu_indices(n, 1)`.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

INPUTS = ("basis", "superposed")
ACTIVE_MODES = ("exact", "at_most")


def pair_count(n: int) -> int:
  return n * (n - 1) // 2


def pair_index(n: int) -> tuple[np.ndarray, np.ndarray]:
  """(P,), (P,) the features i < j of every pair, P = n(n-1)/2."""
  return np.triu_indices(n, 1)


def sample_inputs(key: jax.Array, n: int, s: int, count: int, mode: str = "exact") -> jax.Array:
  """Boolean inputs with exactly s (mode "exact") or at most s ("at_most") active features.

  With "at_most" the number active is uniform on {0, ..., s}. Which features are active is
  uniform given the number.

  Returns:
    (count, n) float32 in {0, 1}.
  """
  k_order, k_count = jax.random.split(key)
  # Rank of each feature in a random order: the first `active` ranks are active.
  ranks = jnp.argsort(jnp.argsort(jax.random.uniform(k_order, (count, n)), axis=1), axis=1)
  if mode == "exact":
    active = jnp.full((count, 1), s)
  else:
    active = jax.random.randint(k_count, (count, 1), 0, s + 1)
  return (ranks < active).astype(jnp.float32)


def sample_positives(key: jax.Array, n: int, s: int, i: jax.Array, j: jax.Array,
                     count: int, mode: str = "exact") -> jax.Array:
  """Inputs on which AND(i, j) is on: i and j plus k - 2 other features, k = s ("exact")
  or uniform on {2, ..., s} ("at_most").

  Args:
    i, j: (P,) int pair features.

  Returns:
    (P, count, n) float32.
  """
  k_order, k_count = jax.random.split(key)
  shape = (i.shape[0], count, n)
  onehot = (jax.nn.one_hot(i, n) + jax.nn.one_hot(j, n))[:, None, :]
  # The pair's own features get the lowest ranks, so they are always among the first k.
  u = jax.random.uniform(k_order, shape) + 2.0 * (1.0 - onehot)
  ranks = jnp.argsort(jnp.argsort(u, axis=2), axis=2)
  if mode == "exact":
    active = jnp.full((i.shape[0], count, 1), s)
  else:
    active = jax.random.randint(k_count, (i.shape[0], count, 1), 2, s + 1)
  return (ranks < active).astype(jnp.float32)


def pair_targets(x: jax.Array) -> jax.Array:
  """(N, n) boolean inputs -> (N, P) every pairwise AND x_i x_j, i < j."""
  i, j = pair_index(x.shape[-1])
  return x[..., i] * x[..., j]


def embedding(key: jax.Array, n: int, d0: int) -> jax.Array:
  """(d0, n) random unit columns: the directions of superposed features."""
  E = jax.random.normal(key, (d0, n))
  return E / jnp.linalg.norm(E, axis=0, keepdims=True)


def superposed_dims(n: int, scale: float, exponent: float, at_most_n: bool = True) -> int:
  """d0 = ceil(scale * n**exponent), capped at n unless `at_most_n` is False: the input
  width of the superposed setting."""
  d0 = int(np.ceil(scale * n ** exponent - 1e-9))
  return int(min(n, d0)) if at_most_n else d0


def input_errors(E: jax.Array, f: jax.Array) -> jax.Array:
  """Max |e_i . (E f) - f_i| over inputs and features: how well the identity readouts
  r_i = e_i read the superposed features themselves, the floor under any readout of a
  layer that sees only E f.

  Args:
    E: (d0, n) unit columns. f: (N, n) boolean features.
  """
  return jnp.max(jnp.abs((f @ E.T) @ E - f))
