"""Boolean inputs of the U-AND setting (Hänni et al. 2024): n features, s of them active.

  basis       the features are the input coordinates: x in {0, 1}^n.
  superposed  the features are stored as unit directions e_i in d0 < n dimensions: the
              input is E f with E of shape (d0, n). A layer reads feature i through e_i,
              so every read carries interference sum_{j active, j != i} e_i . e_j. The
              directions are random ("random") or two mutually unbiased bases of R^d0
              ("hadamard", n = 2 d0): every overlap is 0 or +-1/sqrt(d0), the least a
              code of 2 d0 unit vectors in d0 dimensions allows.

Pairs of features are ordered as `numpy.triu_indices(n, 1)`.
"""

from __future__ import annotations

import itertools
import math

import jax
import jax.numpy as jnp
import numpy as np

INPUTS = ("basis", "superposed")
ACTIVE_MODES = ("exact", "at_most")
EMBEDDINGS = ("random", "hadamard")


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


def input_count(n: int, s: int, mode: str = "exact") -> int:
  """How many boolean inputs have exactly s ("exact") or at most s ("at_most") of n on."""
  return math.comb(n, s) if mode == "exact" else sum(math.comb(n, k) for k in range(s + 1))


def every_input(n: int, s: int, mode: str = "exact") -> np.ndarray:
  """Every boolean input with exactly s ("exact") or at most s ("at_most") of n features on,
  fewest active first, then in lexicographic order of the active sets.

  Returns:
    (input_count(n, s, mode), n) float32 in {0, 1}.
  """
  counts = (s,) if mode == "exact" else range(s + 1)
  active = [a for k in counts for a in itertools.combinations(range(n), k)]
  x = np.zeros((len(active), n), np.float32)
  for row, a in enumerate(active):
    x[row, list(a)] = 1.0
  return x


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


def embedding(key: jax.Array, n: int, d0: int, kind: str = "random") -> jax.Array:
  """(d0, n) unit columns: the directions of superposed features.

  random    Gaussian columns, normalised.
  hadamard  n = 2 d0, d0 a power of 2: the standard basis, then the Sylvester Hadamard
            basis H / sqrt(d0) with random signs on its rows and columns (drawn from
            `key`). Without the signs, row 0 of H is all ones and every Hadamard column
            would overlap the first standard direction with the same sign.
  """
  if kind == "random":
    E = jax.random.normal(key, (d0, n))
    return E / jnp.linalg.norm(E, axis=0, keepdims=True)
  if kind != "hadamard":
    raise ValueError(f"embedding {kind!r} is not one of {', '.join(EMBEDDINGS)}")
  if n != 2 * d0 or d0 & (d0 - 1):
    raise ValueError(f"a hadamard embedding needs n = 2 d0 with d0 a power of 2, not "
                     f"n = {n}, d0 = {d0}")
  H = np.ones((1, 1), np.float32)
  while H.shape[0] < d0:
    H = np.block([[H, H], [H, -H]])
  k_row, k_col = jax.random.split(key)
  rows = jax.random.rademacher(k_row, (d0, 1), jnp.float32)
  cols = jax.random.rademacher(k_col, (1, d0), jnp.float32)
  return jnp.concatenate([jnp.eye(d0), rows * jnp.asarray(H) * cols / math.sqrt(d0)], axis=1)


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
