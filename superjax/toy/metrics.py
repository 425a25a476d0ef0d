"""Measurements of one model's feature geometry, from W of shape (m, n) (hidden x feature).

Definitions follow Elhage et al. (2022); column W_i is feature i's embedding. The jax
functions run inside the jitted training program on one model; the numpy ones classify saved
results.
"""

from __future__ import annotations

from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from superjax.claims.stats import participation_ratio


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


def neuron_polysemanticity(W: jax.Array) -> jax.Array:
  """(m,) how many features each hidden neuron reads: the participation ratio
  (sum_i W_ki^2)^2 / sum_i W_ki^4 of its input weights. 1 for a monosemantic neuron, k for
  one reading k features equally; 0 for a dead row. Meaningful in a privileged basis."""
  return participation_ratio(W, axis=1)


def geometry(W: jax.Array) -> dict[str, jax.Array]:
  """All per-model measurements, for one W."""
  return {
      "features_per_dim": features_per_dim(W),
      "feature_norm": feature_norm(W),
      "dimensionality": dimensionality(W),
      "superposition": superposition(W),
      "neuron_polysemanticity": neuron_polysemanticity(W),
  }


# D_i of the uniform polytopes features settle into (Elhage et al. 2022): a dedicated
# dimension, tetrahedron, triangle, digon (antipodal pair), pentagon, square antiprism, ...
STICKY_FRACTIONS = (1.0, 3 / 4, 2 / 3, 1 / 2, 2 / 5, 3 / 8, 1 / 3)


def sticky_class(D, min_dimensionality: float = 0.3, tolerance: float = 0.01) -> np.ndarray:
  """For each D_i, the index into STICKY_FRACTIONS of the fraction it lies within
  `tolerance` of; -1 for a feature off every line or not represented
  (D_i < min_dimensionality) (numpy, same shape as D)."""
  D = np.asarray(D, np.float64)
  distance = np.abs(D[..., None] - np.asarray(STICKY_FRACTIONS))
  nearest = np.argmin(distance, axis=-1)
  on_line = (np.min(distance, axis=-1) <= tolerance) & (D >= min_dimensionality)
  return np.where(on_line, nearest, -1)


def sticky_share(D, min_dimensionality: float = 0.3, tolerance: float = 0.01) -> tuple[float, int]:
  """Share of represented features (D_i >= min_dimensionality) whose D_i lies within
  `tolerance` of a sticky fraction, and how many features that share is over (numpy)."""
  D = np.asarray(D).ravel()
  D = D[D >= min_dimensionality]
  near = sticky_class(D, min_dimensionality, tolerance) >= 0
  return (float(near.mean()) if D.size else float("nan")), int(D.size)


# A feature counts as represented when its embedding has norm above this: a learned
# feature settles near norm 1, an ignored one near 0 (Elhage et al.'s ||W_i|| plots).
REPRESENTED_NORM = 0.5


def represented_per_dim(W, threshold: float = REPRESENTED_NORM):
  """Represented features (||W_i|| > threshold) per hidden dimension, over the last two
  axes (hidden, feature): a norm-free count, unlike ||W||_F^2 / m, which grows with the
  weights' norms and so reads above n / m where embeddings are longer than 1 (numpy)."""
  W = np.asarray(W, np.float64)
  count = np.sum(np.linalg.norm(W, axis=-2) > threshold, axis=-1)
  return count / W.shape[-2]


def arrangement(W, threshold: float = 0.5, antipodal_cos: float = -0.9) -> tuple[int, int]:
  """A small model's arrangement: how many features it represents (||W_i|| > threshold)
  and how many antipodal pairs (cosine < antipodal_cos) they form (numpy)."""
  W = np.asarray(W, np.float64)
  norm = np.linalg.norm(W, axis=0)
  on = np.flatnonzero(norm > threshold)
  unit = W[:, on] / norm[on]
  cos = unit.T @ unit
  return len(on), int(np.sum(np.triu(cos < antipodal_cos, k=1)))


def configuration(W, threshold: float = 0.5, antipodal_cos: float = -0.9) -> str:
  """A name for a small model's arrangement (see `arrangement`)."""
  count, pairs = arrangement(W, threshold, antipodal_cos)
  return f"{count} features, {pairs} antipodal pair{'s' if pairs != 1 else ''}"


class NeuronKinds(NamedTuple):
  """A layer's neurons by how many features they read (see neuron_polysemanticity)."""
  mean: float  # mean participation ratio of the live neurons (NaN if none lives)
  monosemantic: int
  polysemantic: int
  dead: int


def neuron_kinds(pr, polysemantic: float = 1.5) -> NeuronKinds:
  """Counts neurons from their participation ratios `pr` (m,): dead (0), monosemantic
  (< `polysemantic`) and polysemantic (numpy)."""
  pr = np.asarray(pr, np.float64)
  alive = pr > 0
  return NeuronKinds(float(pr[alive].mean()) if alive.any() else float("nan"),
                     int(np.sum(alive & (pr < polysemantic))), int(np.sum(pr >= polysemantic)),
                     int(np.sum(~alive)))


def set_cosines(W, set_size: int) -> tuple[float, float]:
  """Mean cosine between represented features of the same set and of different sets
  (consecutive sets of `set_size`; numpy)."""
  W = np.asarray(W, np.float64)
  norm = np.linalg.norm(W, axis=0)
  unit = W / np.where(norm > 0, norm, 1.0)
  cos = unit.T @ unit
  n = W.shape[1]
  set_id = np.arange(n) // set_size
  off = ~np.eye(n, dtype=bool) & (norm[:, None] > 0.5) & (norm[None, :] > 0.5)
  same = off & (set_id[:, None] == set_id[None, :])
  other = off & (set_id[:, None] != set_id[None, :])
  mean = lambda mask: float(cos[mask].mean()) if mask.any() else float("nan")
  return mean(same), mean(other)


def feature_sides(W, W_out, b, threshold: float = 0.5) -> np.ndarray:
  """Which signs of each feature an abs model computes (numpy).

  Output i computes the positive side of feature i when a lone x_i = +1 lifts it by at
  least `threshold` above its value at x = 0 (the target rises by 1), and likewise the
  negative side at x_i = -1. |x| = ReLU(x) + ReLU(-x) needs both.

  Args:
    W: (m, n) input weights; W_out: (n, m) output weights; b: (n,) output bias.

  Returns:
    (n, 2) booleans: [positive side, negative side] for every feature.
  """
  W, W_out, b = (np.asarray(a, np.float64) for a in (W, W_out, b))
  rises = [np.maximum(np.diag(lone_feature_preactivation(W, W_out, b, sign)), 0.0)
           - np.maximum(b, 0.0) for sign in (1, -1)]
  return np.stack(rises, axis=1) >= threshold


def side_counts(W, W_out, b, threshold: float = 0.5) -> tuple[int, int, int]:
  """How many features an abs model computes on both signs, on one, and on neither."""
  count = feature_sides(W, W_out, b, threshold).sum(axis=1)
  return int(np.sum(count == 2)), int(np.sum(count == 1)), int(np.sum(count == 0))


def lone_feature_preactivation(W, W_out, b, sign: int) -> np.ndarray:
  """(target, source): an abs model's output pre-activations when feature `source` alone
  is `sign` (+1 or -1) and every other feature is zero (numpy)."""
  return W_out @ np.maximum(sign * np.asarray(W), 0.0) + np.asarray(b)[:, None]


class InhibitionMotif(NamedTuple):
  """Feature `source` at sign `sign` drives output `target` through `carrier`, a neuron
  that computes `target` with a weight at most 1/ratio of its weight on `source`, and
  `inhibitor` (the most negative path) cancels that interference."""
  source: int
  target: int
  sign: int
  carrier: int
  inhibitor: int
  interference: float  # carrier's positive push on the target output at |x_source| = 1
  net: float  # the target output's pre-activation with every neuron and the bias


def inhibition_motifs(W, W_out, b, ratio: float = 2.0, min_interference: float = 0.5,
                      min_service: float = 0.5) -> list[InhibitionMotif]:
  """Elhage et al.'s asymmetric superposition with inhibition in an abs model (numpy).

  A carrier neuron k serves output `target` on one sign (W_out[target, k] |W[k, target]|
  >= min_service, half of |x| or more) while reading `source` at least `ratio` times more
  strongly, so a lone `source` at |x| = 1 pushes the target output up by at least
  `min_interference`; the motif is there when other neurons hold the output's
  pre-activation at or below zero all the same (the ReLU turns the interference off).

  Args:
    W: (m, n) input weights; W_out: (n, m) output weights; b: (n,) output bias.

  Returns:
    One motif per (source, target, sign), the carrier with the largest interference.
  """
  W, W_out, b = (np.asarray(a, np.float64) for a in (W, W_out, b))
  found = []
  for sign in (1, -1):
    h = np.maximum(sign * W, 0.0)  # (m, n): neuron k's activation for x_source = sign
    push = W_out[:, :, None] * h[None, :, :]  # (target, k, source)
    net = lone_feature_preactivation(W, W_out, b, sign)  # (target, source)
    serves = W_out * np.abs(W).T >= min_service  # (target, k)
    lopsided = np.abs(W)[:, None, :] >= ratio * np.abs(W)[:, :, None]  # (k, target, source)
    carrier = ((push >= min_interference) & serves[:, :, None]
               & lopsided.transpose(1, 0, 2))  # (target, k, source)
    n = W.shape[1]
    carrier[np.arange(n), :, np.arange(n)] = False  # a feature does not interfere with itself
    for target, source in zip(*np.nonzero(carrier.any(axis=1) & (net <= 0))):
      k = int(np.argmax(np.where(carrier[target, :, source], push[target, :, source], -np.inf)))
      found.append(InhibitionMotif(
          int(source), int(target), sign, k, int(np.argmin(push[target, :, source])),
          float(push[target, k, source]), float(net[target, source])))
  return found
