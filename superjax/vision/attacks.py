"""Untargeted attacks on image classifiers: FGSM, PGD (Linf and L2) and random noise.

Every attack takes a batch of images x of shape (N, H, W, C) with values in [0, 1] (any
(N, ...) shape works), integer labels (N,) and a classifier `logits_fn(x) -> (N, classes)`,
and returns adversarial images of the same shape that raise the cross-entropy against the
labels, with each image's perturbation inside its eps-ball and every pixel in [0, 1].
`eps` is a scalar or one budget per image, shape (N,).

* `fgsm` (Goodfellow et al. 2015): x + eps sign(grad), one step in Linf.
* `pgd_linf` (Madry et al. 2018): random start in the eps-box, `steps` steps of
  `step_size sign(grad)`, each projected onto the eps-box and clamped to [0, 1].
* `pgd_l2`: random start in the eps-ball, `steps` steps of `step_size grad / ||grad||`
  (per image), each projected onto the eps-ball and clamped to [0, 1].
* `random_noise`: the baseline any attack must beat: a random corner of the eps-box
  (Linf) or a random direction of norm eps (L2), clamped to [0, 1].

PGD returns, per image, the iterate with the highest loss (the random start included), as
the madrylab `robustness` library does by default. Clamping to [0, 1] after projecting
never leaves the ball: x is in [0, 1], so clamping only moves pixels back towards x.

The functions are jitted with `logits_fn` static: pass the same callable object between
calls (for example one built once with `functools.partial(model.apply, params)`) or call
the attacks inside your own jitted function, where the parameters may be traced.
"""

from __future__ import annotations

import functools
from collections.abc import Callable

import jax
import jax.numpy as jnp
import optax

LogitsFn = Callable[[jax.Array], jax.Array]
NORMS = ("linf", "l2")


def cross_entropy(logits_fn: LogitsFn, x: jax.Array, labels: jax.Array) -> jax.Array:
  """(N,) cross-entropy of each image's logits against its integer label."""
  return optax.softmax_cross_entropy_with_integer_labels(logits_fn(x), labels)


def _loss_and_grad(logits_fn: LogitsFn, x: jax.Array,
                   labels: jax.Array) -> tuple[jax.Array, jax.Array]:
  """(N,) losses and the (N, ...) gradient of each image's own loss w.r.t. that image."""

  def total(x):
    losses = cross_entropy(logits_fn, x, labels)
    # Summing over the batch keeps each image's gradient independent of the batch size.
    return jnp.sum(losses), losses

  grad, losses = jax.grad(total, has_aux=True)(x)
  return losses, grad


def _per_image(eps: jax.Array, x: jax.Array) -> jax.Array:
  """eps (scalar or (N,)) as (N, 1, ..., 1), broadcastable against x (N, ...)."""
  eps = jnp.broadcast_to(jnp.asarray(eps, x.dtype), x.shape[:1])
  return eps.reshape(x.shape[:1] + (1,) * (x.ndim - 1))


def _l2_norms(v: jax.Array) -> jax.Array:
  """(N, 1, ..., 1) L2 norm of each image of v (N, ...)."""
  return jnp.sqrt(jnp.sum(v ** 2, axis=tuple(range(1, v.ndim)), keepdims=True))


def project_linf(delta: jax.Array, eps: jax.Array) -> jax.Array:
  """Projection of each perturbation in delta (N, ...) onto its box ||.||_inf <= eps."""
  eps = _per_image(eps, delta)
  return jnp.clip(delta, -eps, eps)


def project_l2(delta: jax.Array, eps: jax.Array) -> jax.Array:
  """Projection of each perturbation in delta (N, ...) onto its ball ||.||_2 <= eps."""
  norms = _l2_norms(delta)
  return delta * jnp.minimum(1.0, _per_image(eps, delta) / jnp.where(norms > 0, norms, 1.0))


def _unit_l2(v: jax.Array) -> jax.Array:
  norms = _l2_norms(v)
  return v / jnp.where(norms > 0, norms, 1.0)


@functools.partial(jax.jit, static_argnames=("logits_fn",))
def fgsm(logits_fn: LogitsFn, x: jax.Array, labels: jax.Array, eps: jax.Array) -> jax.Array:
  """Fast gradient sign method: clip(x + eps sign(grad), 0, 1).

  Args:
    logits_fn: classifier, (N, H, W, C) -> (N, classes).
    x: (N, H, W, C) images in [0, 1].
    labels: (N,) integer labels.
    eps: scalar or (N,) Linf budget.

  Returns:
    (N, H, W, C) adversarial images.
  """
  _, grad = _loss_and_grad(logits_fn, x, labels)
  return jnp.clip(x + _per_image(eps, x) * jnp.sign(grad), 0.0, 1.0)


def _pgd(key: jax.Array, logits_fn: LogitsFn, x: jax.Array, labels: jax.Array, eps: jax.Array,
         steps: int, step_size: jax.Array, norm: str) -> jax.Array:
  """Projected gradient ascent on the cross-entropy; the best iterate per image."""
  project = project_linf if norm == "linf" else project_l2
  direction = jnp.sign if norm == "linf" else _unit_l2
  x_adv = jnp.clip(x + random_start(key, x, eps, norm), 0.0, 1.0)
  step_size = _per_image(step_size, x)

  def keep_best(best, best_loss, x_adv, loss):
    better = loss > best_loss
    chosen = better.reshape(x.shape[:1] + (1,) * (x.ndim - 1))
    return jnp.where(chosen, x_adv, best), jnp.where(better, loss, best_loss)

  def body(carry, _):
    x_adv, best, best_loss = carry
    loss, grad = _loss_and_grad(logits_fn, x_adv, labels)
    best, best_loss = keep_best(best, best_loss, x_adv, loss)
    delta = project(x_adv + step_size * direction(grad) - x, eps)
    return (jnp.clip(x + delta, 0.0, 1.0), best, best_loss), None

  init = (x_adv, x_adv, jnp.full(x.shape[:1], -jnp.inf, x.dtype))
  (x_adv, best, best_loss), _ = jax.lax.scan(body, init, None, length=steps)
  best, _ = keep_best(best, best_loss, x_adv, cross_entropy(logits_fn, x_adv, labels))
  return best


@functools.partial(jax.jit, static_argnames=("logits_fn", "steps", "norm"))
def pgd(key: jax.Array, logits_fn: LogitsFn, x: jax.Array, labels: jax.Array, eps: jax.Array,
        steps: int = 10, step_size: jax.Array | None = None, norm: str = "linf") -> jax.Array:
  """PGD: random start in the eps-ball, gradient steps (signed in Linf, normalised per
  image in L2), each projected onto the ball and clamped to [0, 1].

  Args:
    key: random start.
    logits_fn: classifier, (N, H, W, C) -> (N, classes).
    x: (N, H, W, C) images in [0, 1].
    labels: (N,) integer labels.
    eps: scalar or (N,) budget in `norm`.
    steps: gradient steps (static).
    step_size: scalar or (N,) length of each step in `norm`; None means 2.5 eps / steps.
    norm: "linf" or "l2" (static).

  Returns:
    (N, H, W, C) adversarial images, the highest-loss iterate of each image.
  """
  step_size = 2.5 * jnp.asarray(eps) / steps if step_size is None else step_size
  return _pgd(key, logits_fn, x, labels, eps, steps, step_size, norm)


pgd_linf = functools.partial(pgd, norm="linf")
pgd_l2 = functools.partial(pgd, norm="l2")


def random_start(key: jax.Array, x: jax.Array, eps: jax.Array, norm: str) -> jax.Array:
  """(N, ...) perturbations uniform in each image's eps-box (linf) or eps-ball (l2)."""
  if norm == "linf":
    return _per_image(eps, x) * jax.random.uniform(key, x.shape, x.dtype, -1.0, 1.0)
  key_dir, key_radius = jax.random.split(key)
  direction = _unit_l2(jax.random.normal(key_dir, x.shape, x.dtype))
  # Uniform in the ball: radius eps u^(1/dim).
  dim = x[0].size
  radius = jax.random.uniform(key_radius, x.shape[:1], x.dtype) ** (1.0 / dim)
  return _per_image(eps, x) * _per_image(radius, x) * direction


@functools.partial(jax.jit, static_argnames=("norm",))
def random_noise(key: jax.Array, x: jax.Array, eps: jax.Array, norm: str = "linf") -> jax.Array:
  """The noise baseline: clip(x + delta, 0, 1) with delta a random sign vector times eps
  (linf, a corner of the box as FGSM picks) or a random direction of L2 norm eps (l2).

  Args:
    key: the noise.
    x: (N, H, W, C) images in [0, 1].
    eps: scalar or (N,) budget.
    norm: "linf" or "l2".

  Returns:
    (N, H, W, C) noisy images.
  """
  if norm not in NORMS:
    raise ValueError(f"norm must be one of {NORMS}, got {norm!r}")
  if norm == "linf":
    delta = jax.random.rademacher(key, x.shape, x.dtype)
  else:
    delta = _unit_l2(jax.random.normal(key, x.shape, x.dtype))
  return jnp.clip(x + _per_image(eps, x) * delta, 0.0, 1.0)


# fgsm takes no key; the PGDs take it first. `attack` calls any of them the same way.
ATTACKS: dict[str, Callable] = {"fgsm": fgsm, "pgd_linf": pgd_linf, "pgd_l2": pgd_l2}


def attack(name: str, key: jax.Array, logits_fn: LogitsFn, x: jax.Array, labels: jax.Array,
           eps: jax.Array, steps: int = 10, step_size: jax.Array | None = None) -> jax.Array:
  """Any attack of ATTACKS, or "noise_linf" / "noise_l2" (`random_noise`), by name, with
  one signature; FGSM ignores key, steps and step_size, noise also ignores logits_fn and
  labels. Shapes as in `pgd_linf`."""
  if name in ATTACKS and name != "fgsm":
    return ATTACKS[name](key, logits_fn, x, labels, eps, steps, step_size)
  if name == "fgsm":
    return fgsm(logits_fn, x, labels, eps)
  if name in ("noise_linf", "noise_l2"):
    return random_noise(key, x, eps, name.removeprefix("noise_"))
  raise ValueError(f"attack must be one of {(*ATTACKS, 'noise_linf', 'noise_l2')}, got {name!r}")
