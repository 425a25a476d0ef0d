"""Predictions to set beside trained models: closed forms and candidate-solution phase
diagrams.

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

import jax
import jax.numpy as jnp
import numpy as np
import optax

# Phase labels shared by the theoretical and the empirical diagram.
PHASES = ("feature 2 ignored", "feature 1 ignored", "superposition", "neither")
IGNORE_2, IGNORE_1, SUPERPOSITION, NEITHER = range(4)


def constant_baseline_loss(importance, density, zero_mean: bool = False):
  """Loss of the best constant output: sum_i I_i Var(t_i), the target t_i being nonzero
  with probability p_i and then uniform on [0, 1) in magnitude (E t = p/2, E t^2 = p/3),
  or with mean zero (signed values, identity target).

  Args:
    importance: (..., n) feature importances.
    density: (..., n) feature densities.
    zero_mean: the target is symmetric about zero.
  """
  p = np.asarray(density, np.float64)
  variance = p / 3 - (0.0 if zero_mean else p ** 2 / 4)
  return np.sum(np.asarray(importance, np.float64) * variance, axis=-1)


def abs_one_sided_ratio(p):
  """The best loss / baseline of an abs-model output that sees one side of its feature.

  x is nonzero with probability p and then U[-1, 1]; the target is |x|. Knowing only
  ReLU(x), the best prediction is x where x > 0 and, where ReLU(x) = 0 (probability
  1 - p/2), the conditional mean E[|x| | x <= 0] = p / (4 - 2p). Its loss is
  p/6 - p^2 / (8 (2 - p)), over the baseline p/3 - p^2/4:
  (8 - 7p) / (16 - 20p + 6p^2) = 1/2 + 3p(1 - p) / (16 - 20p + 6p^2), never below 1/2.
  """
  p = np.asarray(p, np.float64)
  return (8 - 7 * p) / (16 - 20 * p + 6 * p ** 2)


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


# n = 3 features, m = 2 dimensions, ReLU output: features 1 and 2 have importance 1,
# feature 3 importance r; all share density p. No closed form covers every candidate, so
# each candidate configuration starts from its template and is locally optimised (norms,
# angles, biases) on its expected loss, which is integrated exactly over the 2^3 on/off
# patterns and by Gauss-Legendre quadrature over the uniform values of the active features.

N3M2_PHASES = ("feature 3 ignored", "1 or 2 ignored / merged", "antipodal pair + dedicated",
               "triangle", "other")
N3_IGNORE_3, N3_IGNORE_12, N3_ANTIPODAL, N3_TRIANGLE, N3_OTHER = range(5)

_ANGLES = np.deg2rad([90.0, 210.0, 330.0])
# (label, W (2, 3), whether feature i's bias starts at its mean p/2 because it is ignored)
N3M2_TEMPLATES = (
    (N3_IGNORE_3, np.array([[1.0, 0, 0], [0, 1, 0]]), (False, False, True)),
    (N3_IGNORE_12, np.array([[0.0, 1, 0], [0, 0, 1]]), (True, False, False)),
    (N3_ANTIPODAL, np.array([[1.0, -1, 0], [0, 0, 1]]), (False, False, False)),
    (N3_ANTIPODAL, np.array([[1.0, 0, -1], [0, 1, 0]]), (False, False, False)),
    (N3_TRIANGLE, np.stack([np.cos(_ANGLES), np.sin(_ANGLES)]), (False, False, False)),
)


def _quadrature(points: int) -> tuple[np.ndarray, np.ndarray]:
  """Nodes (P, 3) and weights (P,) of the expectation over x in {0, U[0,1)}^3 per unit
  density pattern: every on/off pattern, its active values on a Gauss-Legendre grid.
  The weights still need the pattern's probability, returned as counts of active
  features (P,) so it can be formed for any p."""
  nodes_1d, weights_1d = np.polynomial.legendre.leggauss(points)
  nodes_1d, weights_1d = (nodes_1d + 1) / 2, weights_1d / 2
  xs, ws, actives = [], [], []
  for pattern in np.ndindex(2, 2, 2):
    on = np.flatnonzero(pattern)
    grids = np.meshgrid(*([nodes_1d] * len(on)), indexing="ij")
    wgrid = np.prod(np.meshgrid(*([weights_1d] * len(on)), indexing="ij"), axis=0) \
        if len(on) else np.ones(())
    x = np.zeros((wgrid.size, 3))
    for axis, g in zip(on, grids):
      x[:, axis] = g.ravel()
    xs.append(x)
    ws.append(np.ravel(wgrid))
    actives.append(np.full(wgrid.size, len(on)))
  return np.concatenate(xs), np.concatenate(ws), np.concatenate(actives)


def n3m2_expected_loss(W, b, p, r, points: int = 16):
  """Expected loss of the ReLU-output model (W (2, 3), b (3,)) at density p, relative
  importance r of feature 3 (jax-differentiable in W and b)."""
  x, w, active = (jnp.asarray(a) for a in _quadrature(points))
  prob = w * p ** active * (1 - p) ** (3 - active)
  out = jnp.maximum(x @ W.T @ W + jnp.asarray(b)[None, :], 0.0)
  importance = jnp.array([1.0, 1.0, 0.0]) + r * jnp.array([0.0, 0.0, 1.0])
  return jnp.sum(prob * jnp.sum(importance[None, :] * (x - out) ** 2, axis=-1))


def n3m2_candidates(p, r, steps: int = 300, points: int = 12):
  """Locally optimised candidates at each (p, r) (broadcast together).

  Returns:
    losses (T, *shape), W (T, *shape, 2, 3) and b (T, *shape, 3) for the templates of
    N3M2_TEMPLATES, after `steps` Adam steps on the expected loss.
  """
  p, r = np.broadcast_arrays(np.asarray(p, np.float32), np.asarray(r, np.float32))
  shape = p.shape
  p, r = jnp.asarray(p.ravel()), jnp.asarray(r.ravel())
  optimizer = optax.adam(1e-2)

  def optimise(W0, ignored, p, r):
    params = (jnp.asarray(W0, jnp.float32), jnp.where(ignored, p / 2, 0.0))
    loss = lambda params: n3m2_expected_loss(params[0], params[1], p, r, points)

    def step(carry, _):
      params, state = carry
      grads = jax.grad(loss)(params)
      updates, state = optimizer.update(grads, state)
      return (optax.apply_updates(params, updates), state), None

    (params, _), _ = jax.lax.scan(step, (params, optimizer.init(params)), None, length=steps)
    return loss(params), params[0], params[1]

  per_cell = jax.jit(jax.vmap(optimise, in_axes=(None, None, 0, 0)))
  losses, Ws, bs = [], [], []
  for _, W0, ignored in N3M2_TEMPLATES:
    loss, W, b = per_cell(W0, jnp.asarray(ignored), p, r)
    losses.append(np.asarray(loss).reshape(shape))
    Ws.append(np.asarray(W).reshape(shape + (2, 3)))
    bs.append(np.asarray(b).reshape(shape + (3,)))
  return np.stack(losses), np.stack(Ws), np.stack(bs)


def n3m2_phase(W: np.ndarray, threshold: float = 0.5, antipodal_cos: float = -0.8) -> np.ndarray:
  """Labels n=3, m=2 models by their geometry.

  Args:
    W: (..., 2, 3) embeddings.
    threshold: norm above which a feature counts as represented.
    antipodal_cos: cosine below which two represented features form an antipodal pair.
  """
  W = np.asarray(W, np.float64)
  norm = np.linalg.norm(W, axis=-2)
  on = norm > threshold
  unit = W / np.where(norm > 0, norm, 1.0)[..., None, :]
  cos = np.einsum("...hi,...hj->...ij", unit, unit)
  pair_cos = np.stack([cos[..., 0, 1], cos[..., 0, 2], cos[..., 1, 2]], axis=-1)
  all_on = np.all(on, axis=-1)
  # Features 1 and 2 parallel (the dense, linear regime may keep only x1 + x2) is, like
  # dropping one of them, a single dimension shared without superposition.
  merged = all_on & (pair_cos[..., 0] > -antipodal_cos)
  return np.select(
      [all_on & (pair_cos.min(-1) < antipodal_cos), merged, all_on,
       on[..., 0] & on[..., 1] & ~on[..., 2],
       (on.sum(-1) == 2) & on[..., 2]],
      [N3_ANTIPODAL, N3_IGNORE_12, N3_TRIANGLE, N3_IGNORE_3, N3_IGNORE_12], N3_OTHER)


def n3m2_theory_phase(p, r, **kwargs) -> tuple[np.ndarray, np.ndarray]:
  """Label of the lowest-loss optimised candidate, and the candidates' losses.

  The winner is classified by its own geometry, so a template that relaxed into another
  configuration is named for what it became. Candidates within `tie` (relative) of the
  lowest loss count as tied and the first in template order wins: in the dense limit a
  continuum of rotated linear solutions shares one loss.
  """
  tie = kwargs.pop("tie", 1e-3)
  losses, Ws, _ = n3m2_candidates(p, r, **kwargs)
  best = np.argmax(losses <= losses.min(axis=0) * (1 + tie), axis=0)
  W_best = np.take_along_axis(Ws, best[None, ..., None, None], axis=0)[0]
  return n3m2_phase(W_best), losses
