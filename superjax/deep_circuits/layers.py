"""The layers that compute the circuit (superjax.deep_circuits.circuit): stacked U-AND
layers read through linear readouts, the error-correction layer, and the naive exact
layer used as a reference.

U-AND layer (width m, for ONE circuit layer). It reads the previous layer's n feature
values v, which are themselves linear readouts of the previous layer's activations, so
their errors propagate. Neurons come in two blocks drawn as in superjax.uand.constructions
(each neuron reads a random subset S_k holding each feature with probability p):

  AND block (m - m // 2 neurons)  ReLU(sum_{i in S_k} v_i - 1): the U-AND neurons; AND(a, b)
                                  is read by the U-AND mean readout (uand_readouts).
  single block (m // 2 neurons)   ReLU(sum_{i in S_k} v_i): feature i is read as the mean
                                  over neurons holding i minus the mean over neurons not
                                  holding i (both carry the same expected share of the
                                  other features, so the difference is v_i on average).

The new layer's feature k is AND(a, b) read from the AND block, or OR(a, b) = a + b -
AND(a, b) read from both blocks: one readout vector per feature over all m neurons, so the
network's features live in superposition in m neurons and are never neurons themselves.

Error correction (between U-AND layers). Each feature value v is cleaned by two ReLUs,
2 ReLU(v - 1/4) - 2 ReLU(v - 3/4): exactly 0 or 1 when |v - f| < 1/4, so a layer whose
errors stay below 1/4 hands the next layer exact inputs. This correction keeps the
features in a BASIS (2 neurons per feature, 2n neurons per correction layer), not in
superposition: the paper's Theorem 8 corrects errors in superposition with width
O~(m^(2/3) s^2) in its notation; this is the plain version of the same idea.

Naive layer: two neurons per new feature, ReLU(v_a + v_b - 1) = AND and ReLU(v_a + v_b),
with OR = ReLU(v_a + v_b) - AND: exact on boolean values, the zero-error reference.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

from superjax.deep_circuits.circuit import Wiring
from superjax.uand.constructions import layer, uand_readouts, uand_weights


def uand_layer_weights(key: jax.Array, n: int, m: int, p: jax.Array) -> jax.Array:
  """(m, n) 0/1 subsets of one U-AND layer: rows [0, m // 2) are the single block, the
  rest the AND block (biases are fixed: 0 and -1)."""
  W, _ = uand_weights(key, n, m, p)
  return W


def hidden(W: jax.Array, v: jax.Array) -> jax.Array:
  """(N, n) feature values -> (N, m) activations of the U-AND layer with subsets W (m, n)."""
  half = W.shape[0] // 2
  single = layer(W[:half], jnp.zeros((half,)), v)
  both = layer(W[half:], -jnp.ones((W.shape[0] - half,)), v)
  return jnp.concatenate([single, both], axis=1)


def single_readouts(W_single: jax.Array) -> jax.Array:
  """(n, m_single) readouts of the single features from the single block W_single
  (m_single, n): mean over holders of i minus mean over the others (0 where a side is empty)."""
  holds = W_single.T
  held = jnp.sum(holds, axis=1, keepdims=True)
  free = W_single.shape[0] - held
  return holds / jnp.maximum(held, 1.0) - (1.0 - holds) / jnp.maximum(free, 1.0)


def pair_readouts(W_and: jax.Array, first: jax.Array, second: jax.Array, s: int,
                  p: jax.Array) -> jax.Array:
  """(K, m_and) U-AND readouts of the pairs (first[k], second[k]), each the one-pair case
  of superjax.uand.constructions.uand_readouts."""
  one = lambda i, j: uand_readouts(W_and[:, jnp.stack([i, j])], s, p)[0]
  return jax.vmap(one)(first, second)


def readouts(W: jax.Array, w: Wiring, s: int, p: jax.Array) -> jax.Array:
  """(n_out, m) readout vectors of the new layer's features from the U-AND layer W (m, n)."""
  half = W.shape[0] // 2
  single = single_readouts(W[:half])
  both = pair_readouts(W[half:], w.first, w.second, s, p)
  is_and = w.is_and[:, None]
  # AND: the pair readout; OR = a + b - AND.
  return jnp.concatenate([(1.0 - is_and) * (single[w.first] + single[w.second]),
                          (2.0 * is_and - 1.0) * both], axis=1)


def uand_step(W: jax.Array, R: jax.Array, v: jax.Array) -> jax.Array:
  """One U-AND layer and its readouts: (N, n) previous values -> (N, n_out) new values."""
  return hidden(W, v) @ R.T


def correct(v: jax.Array) -> jax.Array:
  """The error-correction layer: 2 ReLU(v - 1/4) - 2 ReLU(v - 3/4), elementwise (two
  neurons per feature, in a basis). Maps [-1/4, 1/4) to 0 and (3/4, 5/4] to 1 exactly."""
  return 2.0 * jax.nn.relu(v - 0.25) - 2.0 * jax.nn.relu(v - 0.75)


def naive_step(w: Wiring, v: jax.Array) -> jax.Array:
  """The naive layer: (N, n) values -> (N, n) new values through 2 neurons per feature."""
  total = v[:, w.first] + v[:, w.second]
  both, any_ = jax.nn.relu(total - 1.0), jax.nn.relu(total)
  return jnp.where(w.is_and[None, :] > 0.5, both, any_ - both)
