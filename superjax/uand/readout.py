"""Epsilon-linear representations: fitting readouts and measuring how far they miss.

A layer epsilon-linearly represents boolean functions f_1..f_K when readout vectors r_k
exist with |r_k . a(x) - f_k(x)| <= eps on every input (Hänni et al. 2024). Here eps is
measured on a test set: the max (and mean) over its inputs and all K functions. The same
functions serve pairwise ANDs (K = n(n-1)/2) and single features (K = n).

Two fits:

  least_squares  r_k minimising mean_x (r_k . a(x) - f_k(x))^2 + ridge |r_k|^2 over a
                 training set. Rare functions (an AND is on for C(s,2) of P pairs) come out
                 shrunk towards 0: the fit spends its error on their few positives.
  matched        r_k minimising E_x (r_k . a(x))^2 + ridge |r_k|^2 subject to r_k . mu_k = 1,
                 mu_k = E[a(x) | f_k(x) = 1]: least squares that keeps every function's own
                 positives at 1 on average and every other input as near 0 as the layer
                 allows. Closed form r_k = G^-1 mu_k / (mu_k . G^-1 mu_k), G = E[a a^T] +
                 ridge I (whitened matched filter). Used for the random MLP.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp


def errors(values: jax.Array, targets: jax.Array) -> tuple[jax.Array, jax.Array]:
  """Max and mean of |values - targets| over every input and function.

  Args:
    values: (N, K) readouts applied to activations, r_k . a(x_i).
    targets: (N, K) f_k(x_i).

  Returns:
    (max, mean) scalars.
  """
  err = jnp.abs(values - targets)
  return jnp.max(err), jnp.mean(err)


def measure(acts: jax.Array, readouts: jax.Array, targets: jax.Array
            ) -> tuple[jax.Array, jax.Array]:
  """Max and mean epsilon of readouts (K, m) on activations (N, m) against targets (N, K)."""
  return errors(acts @ readouts.T, targets)


def least_squares(acts: jax.Array, targets: jax.Array, ridge: float = 1e-6) -> jax.Array:
  """Readouts (K, m) minimising mean_i |acts_i . r_k - targets_ik|^2 + ridge |r_k|^2.

  Args:
    acts: (N, m) training activations. targets: (N, K).
  """
  count, m = acts.shape
  gram = acts.T @ acts / count + ridge * jnp.eye(m)
  return jax.scipy.linalg.solve(gram, acts.T @ targets / count, assume_a="pos").T


def gram(acts: jax.Array, ridge: float) -> jax.Array:
  """(m, m) E[a a^T] + ridge (tr E[a a^T] / m) I from activations (N, m): the ridge is
  relative to the mean activation energy."""
  return gram_from(acts.T @ acts / acts.shape[0], ridge)


def gram_from(second_moment: jax.Array, ridge: float) -> jax.Array:
  """(m, m) second_moment + ridge (tr / m) I."""
  m = second_moment.shape[0]
  return second_moment + ridge * jnp.trace(second_moment) / m * jnp.eye(m)


def matched(G: jax.Array, means: jax.Array) -> tuple[jax.Array, jax.Array]:
  """Matched readouts in factored form: r_k = scale_k * (G^-1 mu_k).

  Args:
    G: (m, m) from `gram`. means: (K, m) mu_k, the mean activation where f_k is on.

  Returns:
    whitened (K, m) G^-1 mu_k and scale (K,) 1 / (mu_k . G^-1 mu_k); the readouts are
    whitened * scale[:, None].
  """
  chol = jax.scipy.linalg.cho_factor(G)
  whitened = jax.scipy.linalg.cho_solve(chol, means.T).T
  return whitened, 1.0 / jnp.sum(whitened * means, axis=1)
