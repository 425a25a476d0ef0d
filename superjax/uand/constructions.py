"""One-layer ReLU constructions of every pairwise AND of n boolean features (Hänni et al. 2024).

A layer `a(x) = ReLU(W x + b)` of width m computes U-AND when, for every pair i < j, some
readout vector r_ij gives `r_ij . a(x) ~ x_i x_j` on every input (superjax.uand.readout
measures how well).

  naive       one neuron ReLU(x_i + x_j - 1) per pair: n(n-1)/2 neurons, exact on basis inputs.
  uand        neuron k reads a random subset S_k (each feature with probability p):
              ReLU(sum_{i in S_k} x_i - 1); AND(i, j) is the mean over neurons whose subset
              holds both, divided by 1 + (s - 2) p (its expected value when both are on).
  random_mlp  Gaussian weights and bias (Theorem 3); readouts are fitted.
  trained     a one-layer MLP trained to output every pairwise AND (superjax.uand.circuit).

Every function works on ONE layer; the measurements vmap over seeds and p.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from superjax.core.stats import participation_ratio
from superjax.uand.inputs import pair_count, pair_index, pair_targets

CONSTRUCTIONS = ("naive", "uand", "random_mlp", "trained")


def layer(W: jax.Array, b: jax.Array, x: jax.Array) -> jax.Array:
  """ReLU(x W^T + b): (N, n_in) inputs, W (m, n_in), b (m,) -> (N, m) activations."""
  return jax.nn.relu(x @ W.T + b[None, :])


def naive_weights(n: int) -> tuple[jax.Array, jax.Array]:
  """W (P, n) with ones at i and j in row (i, j), b = -1: ReLU(x_i + x_j - 1) per pair.
  Its readouts are the identity: neuron (i, j) is AND(i, j)."""
  i, j = pair_index(n)
  W = np.zeros((pair_count(n), n), np.float32)
  W[np.arange(len(i)), i] = 1.0
  W[np.arange(len(j)), j] = 1.0
  return jnp.asarray(W), -jnp.ones((len(i),), jnp.float32)


def uand_weights(key: jax.Array, n: int, m: int, p: jax.Array) -> tuple[jax.Array, jax.Array]:
  """W (m, n) with each entry 1 with probability p (neuron k's subset S_k), b = -1."""
  W = (jax.random.uniform(key, (m, n)) < p).astype(jnp.float32)
  return W, -jnp.ones((m,), jnp.float32)


def uand_scale(s: int, p: jax.Array) -> jax.Array:
  """Divisor of the U-AND mean: with both features of a pair on and s on in all, a neuron
  holding the pair reads 1 + (number of the other s - 2 in its subset), mean 1 + (s-2) p."""
  return 1.0 + (s - 2) * p


def uand_pair_values(W: jax.Array, acts: jax.Array, s: int, p: jax.Array) -> jax.Array:
  """U-AND readouts applied to activations, without building the (P, m) readout matrix.

  r_ij . a = sum_k W_ki W_kj a_k / (n_ij (1 + (s - 2) p)), n_ij = sum_k W_ki W_kj (the
  neurons holding both); a pair no neuron holds reads 0.

  Args:
    W: (m, n) 0/1 subsets. acts: (N, m).

  Returns:
    (N, P) readout values.
  """
  i, j = pair_index(W.shape[1])
  total = jnp.einsum("nk,ki,kj->nij", acts, W, W)[:, i, j]
  count = (W.T @ W)[i, j]
  return total / (jnp.maximum(count, 1.0) * uand_scale(s, p))[None, :]


def uand_readouts(W: jax.Array, s: int, p: jax.Array) -> jax.Array:
  """(P, m) explicit U-AND readouts (small n only; the study reads every width at once
  with uand_prefix_errors)."""
  i, j = pair_index(W.shape[1])
  holds = W[:, i].T * W[:, j].T
  count = jnp.maximum(jnp.sum(holds, axis=1, keepdims=True), 1.0)
  return holds / (count * uand_scale(s, p))


def uand_prefix_errors(W: jax.Array, acts: jax.Array, x: jax.Array, widths: tuple[int, ...],
                       s: int, p: jax.Array) -> tuple[jax.Array, jax.Array]:
  """Pair errors of the U-AND made of the first w neurons, for every width w in `widths`.

  Neurons are drawn independently, so the first w rows of a wider layer are a layer of
  width w: one pass over the widest layer, accumulating neuron blocks, measures all widths.

  Args:
    W: (m, n) 0/1 subsets, m >= max(widths). acts: (N, m) activations of the whole layer.
    x: (N, n) the boolean features. widths: increasing ints.

  Returns:
    (len(widths),) max and (len(widths),) mean of |r_ij . a(x) - x_i x_j| over inputs and pairs.
  """
  i, j = pair_index(W.shape[1])
  bounds = list(zip((0,) + tuple(widths[:-1]), widths))
  count, counts = jnp.zeros((W.shape[1],) * 2), []
  for lo, hi in bounds:
    count = count + W[lo:hi].T @ W[lo:hi]
    counts.append(jnp.maximum(count[i, j], 1.0) * uand_scale(s, p))
  targets = pair_targets(x)

  def one(args):
    a, t = args
    total, maxes, means = jnp.zeros((W.shape[1],) * 2), [], []
    for (lo, hi), norm in zip(bounds, counts):
      total = total + (W[lo:hi].T * a[None, lo:hi]) @ W[lo:hi]
      err = jnp.abs(total[i, j] / norm - t)
      maxes.append(jnp.max(err))
      means.append(jnp.mean(err))
    return jnp.stack(maxes), jnp.stack(means)

  maxes, means = jax.lax.map(one, (acts, targets))
  return jnp.max(maxes, axis=0), jnp.mean(means, axis=0)


def features_per_neuron(W: jax.Array) -> jax.Array:
  """Mean over neurons of the participation ratio (sum_i W_ki^2)^2 / sum_i W_ki^4 of the
  neuron's weights on the n features: k for a neuron reading k features equally (a U-AND
  neuron reads about p n). W: (m, n) weights in feature space (W E for superposed inputs)."""
  return jnp.mean(participation_ratio(W, axis=1))


def random_mlp_weights(key: jax.Array, n_in: int, m: int) -> tuple[jax.Array, jax.Array]:
  """W (m, n_in) and b (m,), all entries standard normal."""
  k_w, k_b = jax.random.split(key)
  return jax.random.normal(k_w, (m, n_in)), jax.random.normal(k_b, (m,))
