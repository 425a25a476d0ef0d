"""How well a dictionary recovers known feature directions (SAEs on toy models).

In a toy model the hidden activation is h = W x, so feature i's true direction is the
column W_i, and only features the model represents (||W_i|| well above 0) can be found.
A dictionary's rows are compared with those directions in the raw activation space:

  mmcs       mean over represented features of the best cosine with any dictionary row
             (mean max cosine similarity, Sharkey et al. 2022);
  matched    mean cosine of a one-to-one matching of features to rows that maximises
             the total (Hungarian), so one row cannot stand for several features;
  recovered  the fraction of represented features whose best row has cosine >= a bar.

Runs on saved arrays (numpy and scipy), so recovery can be recomputed from results alone.
"""

from __future__ import annotations

import numpy as np
import scipy.optimize

# A feature counts as represented when its embedding's norm exceeds this (toy features
# are either near norm 1 or near 0: Elhage et al. 2022).
REPRESENTED_NORM = 0.5
# A feature counts as recovered when some dictionary row has at least this cosine with it.
RECOVERED_COS = 0.9


def raw_dictionary(W_dec: np.ndarray, scale: np.ndarray) -> np.ndarray:
  """(..., L, d) dictionary rows of SAEs trained on standardised inputs (x - mean) / scale,
  scale (..., d), as directions in the raw activation space: the decoder maps latents to
  scale * x_hat."""
  return np.asarray(W_dec) * np.asarray(scale)[..., None, :]


def cosines(directions: np.ndarray, rows: np.ndarray) -> np.ndarray:
  """(n, d) directions and (L, d) rows -> (n, L) cosines (0 for a zero vector)."""
  unit = lambda v: v / np.maximum(np.linalg.norm(v, axis=1, keepdims=True), 1e-12)  # noqa: E731
  return unit(np.asarray(directions, np.float64)) @ unit(np.asarray(rows, np.float64)).T


def recovery(W: np.ndarray, rows: np.ndarray, threshold: float = RECOVERED_COS,
             represented_norm: float = REPRESENTED_NORM) -> dict[str, float]:
  """Recovery of a toy model's represented features by a dictionary.

  Args:
    W: (m, n) the toy model's embedding; column i is feature i's direction.
    rows: (L, m) dictionary rows in the same space (see raw_dictionary).
    threshold: the cosine at which a feature counts as recovered.
    represented_norm: features with ||W_i|| above this are the ones scored.

  Returns:
    mmcs, matched, recovered (NaN when nothing is represented) and represented (count).
  """
  W = np.asarray(W, np.float64)
  on = np.linalg.norm(W, axis=0) > represented_norm
  if not on.any():
    nan = float("nan")
    return {"mmcs": nan, "matched": nan, "recovered": nan, "represented": 0}
  cos = cosines(W[:, on].T, rows)
  best = cos.max(axis=1)
  feature, row = scipy.optimize.linear_sum_assignment(cos, maximize=True)
  # With fewer rows than features, the unmatched features count as cosine 0.
  matched = cos[feature, row].sum() / cos.shape[0]
  return {"mmcs": float(best.mean()), "matched": float(matched),
          "recovered": float(np.mean(best >= threshold)), "represented": int(on.sum())}

