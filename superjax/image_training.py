"""Image classifiers trained standard or adversarially, several at once.

ONE classifier's training (`train`) is a pure function of its key, its L2 budget eps and
the data: each step takes a minibatch, replaces it with PGD-L2 adversarial examples of
norm eps (Madry et al. 2018; eps = 0 leaves the images unchanged, which is standard
training) and takes an Adam step on the cross-entropy. `train_many` vmaps it over eps and
seed, so a robust-model zoo that shares one architecture trains as one jitted program.

The attack runs the model with batch statistics, as the training step does, but its
BatchNorm updates are discarded: only the step on the adversarial batch moves them.
"""

from __future__ import annotations

import functools

import flax.struct
import jax
import jax.numpy as jnp
import optax

from superjax import image_attacks
from superjax.resnet import ResNet18, Variables


@flax.struct.dataclass
class ClassifierState:
  params: dict
  batch_stats: dict
  opt_state: optax.OptState


@flax.struct.dataclass
class TrainSettings:
  """Static training settings (hashable, so they key the jit cache)."""

  steps: int = flax.struct.field(pytree_node=False)
  batch: int = flax.struct.field(pytree_node=False)
  lr: float = flax.struct.field(pytree_node=False)
  attack_steps: int = flax.struct.field(pytree_node=False)


def _optimizer(settings: TrainSettings) -> optax.GradientTransformation:
  return optax.adam(optax.cosine_decay_schedule(settings.lr, settings.steps))


def _train_logits(model: ResNet18, params, batch_stats, x):
  """Logits with batch statistics, and the BatchNorm running averages they update."""
  (logits, _), updates = model.apply({"params": params, "batch_stats": batch_stats}, x,
                                     train=True, mutable=["batch_stats"])
  return logits, updates["batch_stats"]


def train(key: jax.Array, eps: jax.Array, model: ResNet18, settings: TrainSettings,
          x: jax.Array, y: jax.Array) -> Variables:
  """Trains one classifier; returns its {"params", "batch_stats"}.

  Args:
    key: initialisation, then minibatches and attack starts (step t from fold_in).
    eps: () L2 budget of the training attack; 0 for standard training.
    model: the architecture (static).
    settings: static step count, batch size, learning rate and PGD steps.
    x: (N, H, W, 3) training images in [0, 1].
    y: (N,) integer labels.
  """
  init_key, data_key = jax.random.split(key)
  variables = model.init(init_key, x[:1], train=False)
  tx = _optimizer(settings)
  state = ClassifierState(params=variables["params"], batch_stats=variables["batch_stats"],
                          opt_state=tx.init(variables["params"]))

  def step(state, t):
    step_key = jax.random.fold_in(data_key, t)
    index = jax.random.randint(step_key, (settings.batch,), 0, x.shape[0])
    xb, yb = x[index], y[index]
    attack_logits = lambda z: _train_logits(model, state.params, state.batch_stats, z)[0]
    x_adv = jax.lax.stop_gradient(image_attacks.pgd_l2(
        jax.random.fold_in(step_key, 1), attack_logits, xb, yb, eps, settings.attack_steps))

    def loss_fn(params):
      logits, batch_stats = _train_logits(model, params, state.batch_stats, x_adv)
      return optax.softmax_cross_entropy_with_integer_labels(logits, yb).mean(), batch_stats

    (loss, batch_stats), grads = jax.value_and_grad(loss_fn, has_aux=True)(state.params)
    updates, opt_state = tx.update(grads, state.opt_state, state.params)
    return ClassifierState(optax.apply_updates(state.params, updates), batch_stats,
                           opt_state), loss

  state, _ = jax.lax.scan(step, state, jnp.arange(settings.steps))
  return {"params": state.params, "batch_stats": state.batch_stats}


@functools.partial(jax.jit, static_argnames=("model", "settings"))
def train_many(key: jax.Array, eps: jax.Array, seed: jax.Array, model: ResNet18,
               settings: TrainSettings, x: jax.Array, y: jax.Array) -> Variables:
  """`train` vmapped over runs: eps (R,) and seed (R,) -> variables with a leading run
  axis. A run's key is fold_in(key, seed): runs of one seed share initialisation and
  minibatches and differ only in their attack budget."""
  keys = jax.vmap(lambda s: jax.random.fold_in(key, s))(seed)
  return jax.vmap(train, in_axes=(0, 0, None, None, None, None))(keys, eps, model, settings, x, y)


def logits_fn(model: ResNet18, variables: Variables):
  """Eval-mode classifier x -> logits for attacks and accuracy."""
  return lambda x: model.apply(variables, x, train=False)[0]


def accuracy(model: ResNet18, variables: Variables, x: jax.Array, y: jax.Array) -> jax.Array:
  """Fraction of x classified as y (eval mode)."""
  return jnp.mean(jnp.argmax(logits_fn(model, variables)(x), axis=-1) == y)
