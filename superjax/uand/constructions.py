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

import math

import jax
import jax.numpy as jnp
import numpy as np

from superjax.claims.stats import participation_ratio
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


def active_counts(acts: jax.Array, widths: tuple[int, ...]) -> jax.Array:
  """(len(widths),) the most neurons active (a > 0) on any one input in each block of
  neurons between consecutive widths: the gather sizes of uand_prefix_errors."""
  bounds = zip((0,) + tuple(widths[:-1]), widths)
  return jnp.stack([jnp.max(jnp.sum(acts[:, lo:hi] > 0, axis=1)) for lo, hi in bounds])


def uand_prefix_errors(W: jax.Array, acts: jax.Array, x: jax.Array, widths: tuple[int, ...],
                       s: int, p: jax.Array, caps: tuple[int, ...] | None = None
                       ) -> tuple[jax.Array, jax.Array]:
  """Pair errors of the U-AND made of the first w neurons, for every width w in `widths`.

  Neurons are drawn independently, so the first w rows of a wider layer are a layer of
  width w: one pass over the widest layer, accumulating neuron blocks, measures all widths.
  Only active neurons add to a readout; with `caps` (at least active_counts of `acts`) each
  input sums only the caps[b] most active neurons of block b, which is exact and, with few
  neurons active per input, many times cheaper.

  Args:
    W: (m, n) 0/1 subsets, m >= max(widths). acts: (N, m) activations of the whole layer.
    x: (N, n) the boolean features. widths: increasing ints. caps: static gather sizes.

  Returns:
    (len(widths),) max and (len(widths),) mean of |r_ij . a(x) - x_i x_j| over inputs and pairs.
  """
  i, j = pair_index(W.shape[1])
  bounds = list(zip((0,) + tuple(widths[:-1]), widths))
  caps = tuple(hi - lo for lo, hi in bounds) if caps is None else tuple(caps)
  count, counts = jnp.zeros((W.shape[1],) * 2), []
  for lo, hi in bounds:
    count = count + W[lo:hi].T @ W[lo:hi]
    counts.append(jnp.maximum(count[i, j], 1.0) * uand_scale(s, p))
  targets = pair_targets(x)

  def one(args):
    a, t = args
    total, maxes, means = jnp.zeros((W.shape[1],) * 2), [], []
    for (lo, hi), cap, norm in zip(bounds, caps, counts):
      rows, values = W[lo:hi], a[lo:hi]
      if cap < hi - lo:
        top = jax.lax.top_k(values, max(cap, 1))[1]
        rows, values = rows[top], values[top]
      total = total + (rows.T * values[None, :]) @ rows
      err = jnp.abs(total[i, j] / norm - t)
      maxes.append(jnp.max(err))
      means.append(jnp.mean(err))
    return jnp.stack(maxes), jnp.stack(means)

  maxes, means = jax.lax.map(one, (acts, targets))
  return jnp.max(maxes, axis=0), jnp.mean(means, axis=0)


def block_caps(widths: tuple[int, ...], p_max: float) -> list[tuple[int, int, int]]:
  """(lo, hi, cap) for every block of neurons [lo, hi) between consecutive widths: cap
  bounds how many of the block's neurons hold any one feature (a Binomial(hi - lo, p)
  count, bounded 8 standard deviations above its mean; uand_worst_errors checks it)."""
  out = []
  for lo, hi in zip((0,) + tuple(widths[:-1]), widths):
    mean = (hi - lo) * p_max
    out.append((lo, hi, int(min(hi - lo, math.ceil(mean + 8 * math.sqrt(mean + 1) + 8)))))
  return out


def uand_worst_errors(W: jax.Array, widths: tuple[int, ...], s: int, p: jax.Array,
                      mode: str, p_max: float, chunk: int = 32
                      ) -> tuple[jax.Array, jax.Array]:
  """Max pair error of U-AND on basis inputs over EVERY input with s (mode "exact") or at
  most s ("at_most") features on, for the layer made of the first w neurons, every w.

  Exact without enumerating inputs. With c_ijl the neurons holding i, j and l, and n_ij
  = c_ijj those holding i and j, the readout of pair (i, j) is
    both on, others y:   (1 + sum_{l in y} c_ijl / n_ij) / (1 + (s-2) p)
    only i (or j) on:    sum_{l in y} c_ijl / (n_ij (1 + (s-2) p)), y the other s-1 on;
  both are linear in the others' counts, so their extremes over all inputs are sums of
  the largest (smallest) c_ijl over l not in {i, j}. With neither on, the readout is at
  most the only-i case's largest value: per neuron ReLU(|x & S| - 1) <= |(x - {l0}) & S|
  for any l0 in x. A pair that no neuron holds reads 0 and misses by 1.

  Args:
    W: (m, n) 0/1 subsets, m >= max(widths). widths: increasing ints. p: the subsets'
      probability (may be traced). p_max: a static bound on p, for the gather sizes.
    chunk: features i handled at once; must divide n.

  Returns:
    (len(widths),) max errors, and whether a block held a feature more often than its
    gather size (the result is then wrong; uand_worst_errors' callers raise).
  """
  n = W.shape[1]
  scale = uand_scale(s, p)
  blocks = block_caps(widths, p_max)
  eye = jnp.eye(n, dtype=bool)

  def one(ids):
    # Counts for features i in ids: C[a, j, l] = neurons holding ids[a], j and l.
    C = jnp.zeros((ids.shape[0], n, n))
    excluded = eye[None] | eye[ids][:, None, :]  # l == j or l == i
    pairs = ids[:, None] != jnp.arange(n)[None, :]
    out, overflow = [], jnp.zeros((), bool)
    for lo, hi, cap in blocks:
      block = W[lo:hi]
      holds = block[:, ids].T  # (chunk, B)
      overflow = overflow | jnp.any(jnp.sum(holds, axis=1) > cap)
      # The block's neurons holding i first (in order), then padding rows zeroed out.
      order = jnp.argsort(-holds, axis=1, stable=True)[:, :cap]
      rows = block[order] * jnp.take_along_axis(holds, order, axis=1)[..., None]
      C = C + jnp.einsum("acj,acl->ajl", rows, rows)
      held = jnp.diagonal(C, axis1=1, axis2=2)  # n_ij
      count = jnp.maximum(held, 1.0)
      others = jnp.where(excluded, -jnp.inf, C)
      top = (jnp.max(others, axis=2, keepdims=True) if s == 2
             else jax.lax.top_k(others, s - 1)[0])
      err = jnp.sum(top, axis=2) / (count * scale)
      if s > 2:
        most = jnp.sum(top[..., :s - 2], axis=2)
        least = (-jnp.sum(jax.lax.top_k(jnp.where(excluded, -jnp.inf, -C), s - 2)[0], axis=2)
                 if mode == "exact" else jnp.zeros_like(most))
        for total in (most, least):
          err = jnp.maximum(err, jnp.abs((1.0 + total / count) / scale - 1.0))
      err = jnp.where(held > 0, err, 1.0)
      out.append(jnp.max(jnp.where(pairs, err, 0.0)))
    return jnp.stack(out), overflow

  maxes, overflow = jax.lax.map(one, jnp.arange(n).reshape(-1, chunk))
  return jnp.max(maxes, axis=0), jnp.any(overflow)


def naive_worst_errors(n: int, s: int, widths: tuple[int, ...], mode: str) -> np.ndarray:
  """(len(widths) + 1, 2) max and mean error over EVERY basis input of the naive layer cut
  to each width (pairs past it read 0) and at its own width n(n-1)/2: each neuron is
  exact, a missing pair misses by 1 on the inputs where both its features are on."""
  P = pair_count(n)
  counts = (s,) if mode == "exact" else range(s + 1)
  inputs = sum(math.comb(n, k) for k in counts)
  # The share of inputs on which any one pair is on (every pair equally often).
  on = sum(math.comb(n, k) * math.comb(k, 2) for k in counts) / (P * inputs)
  out = []
  for width in tuple(widths) + (P,):
    missing = max(P - width, 0)
    out.append((1.0 if missing else 0.0, on * missing / P))
  return np.asarray(out, np.float32)


def features_per_neuron(W: jax.Array) -> jax.Array:
  """Mean over neurons of the participation ratio (sum_i W_ki^2)^2 / sum_i W_ki^4 of the
  neuron's weights on the n features: k for a neuron reading k features equally (a U-AND
  neuron reads about p n). W: (m, n) weights in feature space (W E for superposed inputs)."""
  return jnp.mean(participation_ratio(W, axis=1))


def random_mlp_weights(key: jax.Array, n_in: int, m: int) -> tuple[jax.Array, jax.Array]:
  """W (m, n_in) and b (m,), all entries standard normal."""
  k_w, k_b = jax.random.split(key)
  return jax.random.normal(k_w, (m, n_in)), jax.random.normal(k_b, (m,))
