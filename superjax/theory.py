"""Closed-form predictions to set beside trained models.

n = 2 features, m = 1 hidden dimension, ReLU output (Elhage et al. 2022, phase change
section). Both features share density p; feature 2 has importance r relative to feature 1.
Values are U[0, 1], so a nonzero feature has mean 1/2 and second moment 1/3. Expected
loss (summed over features) of each candidate solution:

* ignore feature 2 (W = [1, 0], b_2 = E[x_2] = p/2): r Var(x_2) = r (p/3 - p^2/4)
* ignore feature 1: p/3 - p^2/4
* antipodal pair (W = [1, -1], b = 0): exact unless both features fire (probability p^2),
  then each output errs by min(x_1, x_2), and E[min^2] = 1/6: (1 + r) p^2 / 6
"""

from __future__ import annotations

import numpy as np

# Phase labels shared by the theoretical and the empirical diagram.
PHASES = ("feature 2 ignored", "feature 1 ignored", "superposition", "neither")
IGNORE_2, IGNORE_1, SUPERPOSITION, NEITHER = range(4)


def n2m1_candidate_losses(p, r) -> np.ndarray:
  """(3, *shape) expected losses of [ignore 2, ignore 1, antipodal] at density p,
  relative importance r (broadcast together)."""
  p, r = np.broadcast_arrays(np.asarray(p, np.float64), np.asarray(r, np.float64))
  dense = p / 3 - p ** 2 / 4
  return np.stack([r * dense, dense, (1 + r) * p ** 2 / 6])


def n2m1_theory_phase(p, r) -> np.ndarray:
  """Label of the lowest-loss candidate (IGNORE_2, IGNORE_1 or SUPERPOSITION)."""
  return np.argmin(n2m1_candidate_losses(p, r), axis=0)


def n2m1_empirical_phase(feature_norm: np.ndarray,
                         threshold: float = 0.5) -> np.ndarray:
  """Labels trained n=2, m=1 models by which features they represent.

  Args:
    feature_norm: (..., 2) ||W_i|| of each model.
    threshold: norm above which a feature counts as represented.
  """
  on = np.asarray(feature_norm) > threshold
  return np.select([on[..., 0] & on[..., 1], on[..., 0], on[..., 1]],
                   [SUPERPOSITION, IGNORE_2, IGNORE_1], NEITHER)
