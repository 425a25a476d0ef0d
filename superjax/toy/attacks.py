"""L2 adversarial attacks on ONE toy model and ONE input; vmap adds batches and grids.

An attack perturbs the input x by delta with ||delta||_2 <= eps and tries to raise the
model's loss against the CLEAN target: `sum_i I_i (t(x)_i - f(x + delta)_i)^2`, where t is
the model's target (x itself, or |x| for the abs model). Every attack is a pure function
usable inside the jitted training step (adversarial training) and at evaluation.

* `analytic` (Elhage et al. 2022): for each feature i the direction (W^T W)_i, the
  input direction that most moves output i through the linear part, scaled to eps; the
  most harmful i is kept. No gradients, so no gradient masking by dead ReLUs.
* `analytic_random` (Elhage et al.'s adversarial training, "the analytic optimal attack
  against a random feature"): the same direction for one feature i drawn uniformly per
  input from the attack's key, with no search over i.
* `gorton` (Gorton & Lewis 2025): a small Gaussian noise (std `noise_scale` x eps per
  coordinate) lifts the input off dead ReLUs, the loss gradient is taken there, and
  delta = eps g / ||g||.
* `pgd`: projected gradient ascent, random start in the ball, PGD_STEPS steps of size
  2.5 eps / PGD_STEPS along the normalised gradient, each projected back to the ball;
  the most harmful iterate is kept.
* `random`: eps times a uniformly random direction (the floor any attack must beat).
"""

from __future__ import annotations

from collections.abc import Callable

import jax
import jax.numpy as jnp

from superjax.toy.models import MODELS, Params, target

PGD_STEPS = 10
NOISE_SCALE = 0.01
# The analytic attack tries n directions per input, n x n floats each: inputs go through
# it this many at a time, so evaluating a grid of n=100 models stays within memory.
ANALYTIC_GROUP = 128


def sample_loss(model: str, params: Params, x_in: jax.Array, x_clean: jax.Array,
                importance: jax.Array) -> jax.Array:
  """Loss of the model's output on `x_in` against the target of the clean `x_clean`."""
  out = MODELS[model].apply(params, x_in)
  return jnp.sum(importance * (target(model, x_clean) - out) ** 2)


def _unit(v: jax.Array) -> jax.Array:
  norm = jnp.linalg.norm(v)
  return v / jnp.where(norm > 0, norm, 1.0)


def _project(delta: jax.Array, eps: jax.Array) -> jax.Array:
  norm = jnp.linalg.norm(delta)
  return delta * jnp.minimum(1.0, eps / jnp.where(norm > 0, norm, 1.0))


def feature_direction(W: jax.Array, i: jax.Array) -> jax.Array:
  """(W^T W)_i / ||(W^T W)_i||: the unit input direction that most moves output i through
  the linear part (zero where (W^T W)_i is)."""
  return _unit(W.T @ W[:, i])


def analytic(model, params, x, importance, eps, key):
  del key
  W = params["W"]
  directions = jax.vmap(feature_direction, in_axes=(None, 0))(W, jnp.arange(W.shape[1]))
  losses = jax.vmap(lambda d: sample_loss(model, params, x + eps * d, x, importance))(directions)
  return eps * directions[jnp.argmax(losses)]


def random_feature(key: jax.Array, n: int) -> jax.Array:
  """The feature analytic_random attacks for the input whose key is `key`."""
  return jax.random.randint(key, (), 0, n)


def analytic_random(model, params, x, importance, eps, key):
  del model, importance
  return eps * feature_direction(params["W"], random_feature(key, x.shape[-1]))


def gorton(model, params, x, importance, eps, key, noise_scale: float = NOISE_SCALE):
  noisy = x + noise_scale * eps * jax.random.normal(key, x.shape)
  grad = jax.grad(sample_loss, argnums=2)(model, params, noisy, x, importance)
  return eps * _unit(grad)


def pgd(model, params, x, importance, eps, key, steps: int = PGD_STEPS):
  key_dir, key_radius = jax.random.split(key)
  start = _unit(jax.random.normal(key_dir, x.shape)) * eps * jax.random.uniform(key_radius)
  step_size = 2.5 * eps / steps
  loss_at = lambda delta: sample_loss(model, params, x + delta, x, importance)

  def body(carry, _):
    delta, best, best_loss = carry
    grad = jax.grad(loss_at)(delta)
    delta = _project(delta + step_size * _unit(grad), eps)
    loss = loss_at(delta)
    better = loss > best_loss
    return (delta, jnp.where(better, delta, best), jnp.where(better, loss, best_loss)), None

  (_, best, _), _ = jax.lax.scan(body, (start, start, loss_at(start)), None, length=steps)
  return best


def random(model, params, x, importance, eps, key):
  del model, params, importance
  return eps * _unit(jax.random.normal(key, x.shape))


# Keys match config.ATTACKS (the config module stays free of JAX).
ATTACK_FNS: dict[str, Callable] = {"analytic": analytic, "analytic_random": analytic_random,
                                   "gorton": gorton, "pgd": pgd, "random": random}


def perturbation(attack: str, model: str, params: Params, x: jax.Array, importance: jax.Array,
                 eps: jax.Array, key: jax.Array) -> jax.Array:
  """The attack's delta for one input x of shape (n,), with ||delta|| <= eps."""
  return ATTACK_FNS[attack](model, params, x, importance, eps, key)


def batch_eps(x: jax.Array, scale: float, per_sample: bool) -> jax.Array:
  """(batch,) attack budgets: scale x the mean input L2 norm, or x each input's own."""
  norms = jnp.linalg.norm(x, axis=-1)
  return scale * (norms if per_sample else jnp.full_like(norms, jnp.mean(norms)))


def attack_batch(attack: str, model: str, params: Params, x: jax.Array, importance: jax.Array,
                 eps: jax.Array, key: jax.Array) -> jax.Array:
  """Adversarial inputs x + delta for a batch x (batch, n) with budgets eps (batch,)."""
  keys = jax.random.split(key, x.shape[0])

  def one(args):
    x, eps, key = args
    return perturbation(attack, model, params, x, importance, eps, key)

  batch_size = ANALYTIC_GROUP if attack == "analytic" else x.shape[0]
  return x + jax.lax.map(one, (x, eps, keys), batch_size=min(batch_size, x.shape[0]))
