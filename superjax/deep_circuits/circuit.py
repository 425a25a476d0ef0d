"""The sparse boolean circuit of the depth study: L layers of n boolean features, each
layer's features gates of random pairs of the previous layer's (Hänni et al. 2024, Sec. 5).

Every layer is a random comparator layer: the previous layer's n features are matched
into n/2 random pairs (a, b), and each pair gives two features of the new layer,
AND(a, b) = min(a, b) and OR(a, b) = max(a, b) = a + b - AND(a, b), placed at random
positions. AND + OR = a + b, so every layer has exactly as many active features as the
input: the circuit stays s-sparse at every depth, as the paper's sparse circuits must,
and neither dies out (AND alone) nor fills up (OR alone).

A layer's wiring is three (n,) arrays: feature k of the new layer is AND (is_and[k] = 1)
or OR of the previous layer's features first[k] and second[k].
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
from flax import struct


@struct.dataclass
class Wiring:
  """One circuit layer: feature k = (AND if is_and[k] else OR)(f[first[k]], f[second[k]]).

  Attributes:
    first, second: (n,) int32 the two inputs of each new feature (first != second).
    is_and: (n,) float32 1 for an AND gate, 0 for an OR gate.
  """

  first: jax.Array
  second: jax.Array
  is_and: jax.Array


def wiring(key: jax.Array, n: int) -> Wiring:
  """A random comparator layer on n (even) features.

  Pair q is (order[2q], order[2q+1]) for a random permutation `order`; gate 2q is its AND,
  gate 2q+1 its OR, and gate g becomes feature place[g] for a second random permutation.
  """
  k_pair, k_place = jax.random.split(key)
  order = jax.random.permutation(k_pair, n)
  a, b = order[0::2], order[1::2]
  place = jax.random.permutation(k_place, n)
  gate_first, gate_second = jnp.repeat(a, 2), jnp.repeat(b, 2)
  gate_and = jnp.tile(jnp.asarray([1.0, 0.0], jnp.float32), n // 2)
  # Feature place[g] is gate g.
  first = jnp.zeros(n, jnp.int32).at[place].set(gate_first.astype(jnp.int32))
  second = jnp.zeros(n, jnp.int32).at[place].set(gate_second.astype(jnp.int32))
  return Wiring(first=first, second=second, is_and=jnp.zeros(n).at[place].set(gate_and))


def layer_wiring(key: jax.Array, n: int, t: jax.Array) -> Wiring:
  """The wiring of layer t + 1 (reading layer t) of the circuit whose key is `key`."""
  return wiring(jax.random.fold_in(key, t), n)


def evaluate(w: Wiring, f: jax.Array) -> jax.Array:
  """The next layer's exact boolean values: (N, n) {0, 1} -> (N, n) {0, 1}."""
  a, b = f[:, w.first], f[:, w.second]
  return jnp.where(w.is_and[None, :] > 0.5, a * b, jnp.maximum(a, b))
