"""A zoo of image classifiers trained standard or adversarially: ONE classifier's training
as pure functions, vmapped over runs (each eps and seed a run) by the core loop.

Each step takes a minibatch, replaces it with PGD-L2 adversarial examples of norm eps
(Madry et al. 2018; eps = 0 leaves the images unchanged, which is standard training) and
takes an Adam step (cosine decay) on the cross-entropy. The attack runs the model with
batch statistics, as the training step does, but its BatchNorm updates are discarded:
only the step on the adversarial batch moves them.

A run's key comes from its seed (core.keys): runs of one seed share initialisation and
minibatches and differ only in their attack budget. The training images are the loop's
shared `data` = {"x": (N, H, W, 3) in [0, 1], "y": (N,) labels}.
"""

from __future__ import annotations

import dataclasses

import flax.struct
import jax
import optax

from superjax.core import keys, loop
from superjax.vision import attacks
from superjax.vision.resnet import ResNet18, Variables


@flax.struct.dataclass
class ZooHParams:
  """Per-run hyperparameters, traced."""

  eps: jax.Array  # L2 budget of the training attack; 0 for standard training
  seed: jax.Array


@flax.struct.dataclass
class ClassifierState:
  params: dict
  batch_stats: dict
  opt_state: optax.OptState


@dataclasses.dataclass(frozen=True)
class ZooSettings:
  """Static training settings."""

  steps: int
  batch: int
  lr: float
  attack_steps: int


def _optimizer(settings: ZooSettings) -> optax.GradientTransformation:
  return optax.adam(optax.cosine_decay_schedule(settings.lr, settings.steps))


def _train_logits(model: ResNet18, params, batch_stats, x):
  """Logits with batch statistics, and the BatchNorm running averages they update."""
  (logits, _), updates = model.apply({"params": params, "batch_stats": batch_stats}, x,
                                     train=True, mutable=["batch_stats"])
  return logits, updates["batch_stats"]


def init_state(model: ResNet18, settings: ZooSettings, key: jax.Array, hp: ZooHParams,
               data: dict) -> ClassifierState:
  variables = model.init(keys.named(key, "init"), data["x"][:1], train=False)
  return ClassifierState(params=variables["params"], batch_stats=variables["batch_stats"],
                         opt_state=_optimizer(settings).init(variables["params"]))


def train_step(model: ResNet18, settings: ZooSettings, state: ClassifierState, hp: ZooHParams,
               key: jax.Array, t: jax.Array, data: dict
               ) -> tuple[ClassifierState, dict[str, jax.Array]]:
  """One Adam step on PGD-L2 examples (budget hp.eps) of minibatch t (step key `key`)."""
  x, y = data["x"], data["y"]
  index = jax.random.randint(keys.named(key, "batch"), (settings.batch,), 0, x.shape[0])
  xb, yb = x[index], y[index]
  attack_logits = lambda z: _train_logits(model, state.params, state.batch_stats, z)[0]
  x_adv = jax.lax.stop_gradient(attacks.pgd_l2(
      keys.named(key, "attack"), attack_logits, xb, yb, hp.eps, settings.attack_steps))

  def loss_fn(params):
    logits, batch_stats = _train_logits(model, params, state.batch_stats, x_adv)
    return optax.softmax_cross_entropy_with_integer_labels(logits, yb).mean(), batch_stats

  (loss, batch_stats), grads = jax.value_and_grad(loss_fn, has_aux=True)(state.params)
  updates, opt_state = _optimizer(settings).update(grads, state.opt_state, state.params)
  return state.replace(params=optax.apply_updates(state.params, updates),
                       batch_stats=batch_stats, opt_state=opt_state), {"loss": loss}


def program(model: ResNet18, settings: ZooSettings, name: str = "zoo") -> loop.Program:
  """The core loop's view of one architecture: each run one classifier."""
  return loop.Program(
      name=name,
      init=lambda key, hp, data: init_state(model, settings, key, hp, data),
      step=lambda state, hp, key, t, data: train_step(model, settings, state, hp, key, t, data),
      threaded=True)  # convolutions: XLA spreads them over every core of one CPU device


def variables_of(states: ClassifierState, run: int) -> Variables:
  """Run `run`'s {"params", "batch_stats"} from states with a leading run axis."""
  return jax.tree.map(lambda a: a[run], {"params": states.params,
                                         "batch_stats": states.batch_stats})
