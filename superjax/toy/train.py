"""Training of ONE toy model: loss, optimiser, a step, evaluation, and what its results
keep (superjax.toy.program hands them to the core loop, which vmaps them over runs).

Nothing here knows about grids or devices. Random streams are explicit (core.keys): a
run's key is `keys.run_key(base_seed, seed)`; its init and evaluation data come from its
named sub-streams, and the batch of step t from the step key the loop hands the step, so
a resumed run sees exactly the data an uninterrupted one does.
"""

from __future__ import annotations

import functools

import flax.struct
import jax
import jax.numpy as jnp
import numpy as np
import optax

from superjax.core import keys
from superjax.toy import attacks, data, metrics
from superjax.toy.config import SweepConfig
from superjax.toy.models import MODELS, Params, target


@flax.struct.dataclass
class HParams:
  """One run's values of the grid's axes (SweepConfig.axes), traced: scalars for one run,
  shape (runs,) for many."""

  density: jax.Array
  relative_density: jax.Array
  importance: jax.Array
  relative_importance: jax.Array
  correlation: jax.Array  # index into config.CORRELATIONS
  alpha: jax.Array
  train_eps: jax.Array
  lr: jax.Array
  seed: jax.Array


def hparams(cfg: SweepConfig) -> HParams:
  """Every run's hyperparameters (runs,), in the grid's run order, as numpy arrays."""
  return HParams(**cfg.axes().hparams())


@flax.struct.dataclass
class TrainState:
  """State of one run between steps."""

  params: Params
  opt_state: optax.OptState
  # The parameters at each of snapshot_steps (a leading axis on every leaf), or None when
  # the sweep records none.
  snapshots: Params | None = None


def feature_density(n: int, hp: HParams) -> jax.Array:
  """(n,) probability that each feature is nonzero: density, the last feature's times
  relative_density."""
  return jnp.full((n,), hp.density, jnp.float32).at[-1].multiply(hp.relative_density)


def feature_importance(n: int, hp: HParams) -> jax.Array:
  """(n,) importance: importance**i, the last feature scaled by relative_importance."""
  importance = hp.importance ** jnp.arange(n, dtype=jnp.float32)
  return importance.at[-1].multiply(hp.relative_importance)


def loss_fn(model: str, params: Params, x: jax.Array, importance: jax.Array) -> jax.Array:
  """Importance-weighted squared error, summed over features, averaged over the batch.

  Args:
    model: model kind.
    params: one model's parameters.
    x: (batch, n) inputs (the targets are the inputs, or |x| for the abs model).
    importance: (n,) weights.
  """
  out = jax.vmap(MODELS[model].apply, in_axes=(None, 0))(params, x)
  return jnp.mean(jnp.sum(importance[None, :] * (target(model, x) - out) ** 2, axis=-1))


def adversarial_loss_fn(model: str, params: Params, x: jax.Array, x_adv: jax.Array,
                        importance: jax.Array, alpha: jax.Array) -> jax.Array:
  """alpha L(x) + (1 - alpha) L(x_adv), both against the clean targets, each summed over
  features and averaged over the batch."""
  adv = jax.vmap(attacks.sample_loss, in_axes=(None, None, 0, 0, None))(
      model, params, x_adv, x, importance)
  return alpha * loss_fn(model, params, x, importance) + (1 - alpha) * jnp.mean(adv)


def sample(cfg: SweepConfig, hp: HParams, key: jax.Array, batch: int) -> jax.Array:
  """A batch of the run's input distribution."""
  return data.sample_features(key, feature_density(cfg.n, hp), batch, cfg.signed,
                              cfg.set_size, hp.correlation)


def run_key(cfg: SweepConfig, seed: jax.Array) -> jax.Array:
  """A run's key: a function of its seed alone, so every run of a seed sees the same random
  numbers (shaped by its own densities): common random numbers."""
  return keys.run_key(cfg.base_seed, seed)


def seed_step_key(cfg: SweepConfig, seed: jax.Array, step: jax.Array) -> jax.Array:
  """The key the core loop hands step `step` of every run of `seed`."""
  return keys.step_key(run_key(cfg, seed), step)


def draw_batch(cfg: SweepConfig, key: jax.Array):
  """The uniforms behind the training batch of the step whose key is `key` (see
  data.draw_uniforms)."""
  return data.draw_uniforms(keys.named(key, "batch"), cfg.batch, cfg.n, cfg.set_size)


def attack_key(key: jax.Array) -> jax.Array:
  """The key of the training attack of the step whose key is `key`."""
  return keys.named(key, "attack")


def snapshot_steps(cfg: SweepConfig) -> np.ndarray:
  """Step counts (after 1 ... `steps` optimiser steps) at which the parameters are
  recorded: `snapshots` log-spaced ones and those of `snapshot_at`, in order."""
  spaced = np.round(np.geomspace(1, cfg.steps, cfg.snapshots)) if cfg.snapshots else []
  return np.unique(np.concatenate([spaced, cfg.snapshot_at])).astype(np.int32)


def make_optimizer(cfg: SweepConfig, lr: jax.Array) -> optax.GradientTransformation:
  """The configured optimiser with a (traced) peak learning rate `lr`."""
  if cfg.schedule == "constant":
    schedule = lambda count: lr
  elif cfg.schedule == "cosine":
    schedule = lambda count: lr * optax.cosine_decay_schedule(1.0, cfg.steps)(count)
  elif cfg.schedule == "warmup":
    schedule = lambda count: lr * optax.linear_schedule(0.0, 1.0, cfg.warmup_steps)(count)
  else:
    shape = optax.warmup_cosine_decay_schedule(0.0, 1.0, cfg.warmup_steps, cfg.steps)
    schedule = lambda count: lr * shape(count)
  if cfg.optimizer == "adamw":
    return optax.adamw(schedule, weight_decay=cfg.weight_decay)
  if cfg.optimizer == "adam":
    return optax.adam(schedule)
  return optax.sgd(schedule)


def init_state(cfg: SweepConfig, model: str, key: jax.Array, hp: HParams) -> TrainState:
  """A fresh run; `key` is its init key (`keys.init_key(run_key)`, as the loop hands it)."""
  params = MODELS[model].init(key, cfg.n, cfg.m)
  count = len(snapshot_steps(cfg))
  snapshots = (jax.tree.map(lambda p: jnp.zeros((count,) + p.shape, p.dtype), params)
               if count else None)
  return TrainState(params=params, opt_state=make_optimizer(cfg, hp.lr).init(params),
                    snapshots=snapshots)


def train_step(cfg: SweepConfig, model: str, state: TrainState, hp: HParams, key: jax.Array,
               step: jax.Array, uniforms=None) -> tuple[TrainState, jax.Array]:
  """One optimiser step on a fresh batch; returns the new state and the batch's loss.

  `key` is the step's key (the loop's `keys.step_key(run_key, step)`). `uniforms`, if
  given, are `draw_batch(cfg, key)` drawn by the caller (once for all runs of a seed);
  the step is the same either way."""
  if uniforms is None:
    uniforms = draw_batch(cfg, key)
  x = data.features_from_uniforms(uniforms, feature_density(cfg.n, hp), cfg.signed,
                                  cfg.set_size, hp.correlation)
  importance = feature_importance(cfg.n, hp)
  if cfg.train_attack == "none":
    loss, grads = jax.value_and_grad(loss_fn, argnums=1)(model, state.params, x, importance)
  else:
    # The attack is generated on the fly against the current parameters and then treated
    # as data: no gradient flows through its construction.
    x_adv = jax.lax.stop_gradient(attacks.attack_batch(
        cfg.train_attack, model, state.params, x, importance,
        attacks.batch_eps(x, hp.train_eps, cfg.per_sample_eps), attack_key(key)))
    loss, grads = jax.value_and_grad(adversarial_loss_fn, argnums=1)(
        model, state.params, x, x_adv, importance, hp.alpha)
  optimizer = make_optimizer(cfg, hp.lr)
  updates, opt_state = optimizer.update(grads, state.opt_state, state.params)
  new = state.replace(params=optax.apply_updates(state.params, updates), opt_state=opt_state)
  if new.snapshots is not None:
    new = new.replace(snapshots=record_snapshot(cfg, new.snapshots, new.params, step + 1))
  return new, loss


def record_snapshot(cfg: SweepConfig, snapshots: Params, params: Params,
                    count: jax.Array) -> Params:
  """Writes the parameters into their slot when `count` optimiser steps are one of the
  snapshot steps."""
  steps = jnp.asarray(snapshot_steps(cfg))
  slot = jnp.clip(jnp.searchsorted(steps, count), 0, len(steps) - 1)
  hit = steps[slot] == count
  # One slot is written in place (its old value kept off the snapshot steps); a `where`
  # over the whole buffer would copy every snapshot at every step.
  return jax.tree.map(lambda s, p: s.at[slot].set(jnp.where(hit, p, s[slot])),
                      snapshots, params)


def draws_once_per_seed(cfg: SweepConfig, runs: int) -> bool:
  """Whether a step of `runs` runs draws its random numbers once per seed and shares them
  (runs outnumber the seeds) rather than once per run; the numbers are the same either
  way, only the work differs."""
  return cfg.seeds < runs


def by_seed(cfg: SweepConfig, hps: HParams, keys_of_runs: jax.Array, key_of_seed, draw):
  """`draw(key)` for every run, given the runs' keys as the loop hands them: once per seed
  and gathered, or once per run (by draws_once_per_seed). Runs of one seed hold one key,
  a function of the seed alone (`key_of_seed(s)`, the loop's recipe: a pass's run keys
  are `run_key(cfg, seed)`), so seed s's key is computed where it is needed rather than
  gathered from another device's runs (a collective every step: 15-20% of the step on
  2 CPU devices); tests/toy/test_train.py holds the two equal."""
  if not draws_once_per_seed(cfg, hps.seed.shape[0]):
    return jax.vmap(draw)(keys_of_runs)
  seed_keys = jax.vmap(key_of_seed)(jnp.arange(cfg.seeds))
  return jax.tree.map(lambda a: a[hps.seed], jax.vmap(draw)(seed_keys))


def per_seed(cfg: SweepConfig, hps: HParams, step_keys: jax.Array, step: jax.Array, draw):
  """`by_seed` for the step keys of step `step` (seed s's: `seed_step_key(cfg, s, step)`)."""
  return by_seed(cfg, hps, step_keys, lambda s: seed_step_key(cfg, s, step), draw)


def step_runs(cfg: SweepConfig, model: str, states: TrainState, hps: HParams,
              step_keys: jax.Array, step: jax.Array) -> tuple[TrainState, jax.Array]:
  """`train_step` for many runs at once (leading axis R), drawing each step's random
  numbers once per seed rather than once per run.

  Sampling dominates a step on CPU, and a grid's runs mostly differ in density or
  importance, not seed: the grid's seeds are 0 ... seeds-1, so run r takes the draws of
  slot hps.seed[r]. Each run's data is the same as `train_step` gives it. Where the runs
  on a device are no more than the seeds every device would draw for, it draws per run.
  """
  step_one = functools.partial(train_step, cfg, model)
  drawn = per_seed(cfg, hps, step_keys, step, functools.partial(draw_batch, cfg))
  return jax.vmap(step_one, in_axes=(0, 0, 0, None, 0))(states, hps, step_keys, step, drawn)


# An output counts as lit above this, a tenth of a feature's largest value (1): the
# superposition graph's threshold (Gorton & Lewis Fig. 3).
LIT_OUTPUT = 0.1


def spurious_outputs(model: str, params: Params, x_in: jax.Array, x_clean: jax.Array
                     ) -> jax.Array:
  """Mean over the inputs of how many outputs are lit (> LIT_OUTPUT) on `x_in` although
  their feature is absent (zero) from the clean input `x_clean`; both (batch, n)."""
  out = jax.vmap(MODELS[model].apply, in_axes=(None, 0))(params, x_in)
  return jnp.mean(jnp.sum((out > LIT_OUTPUT) & (x_clean == 0), axis=-1))


def eval_key(key: jax.Array) -> jax.Array:
  """The evaluation stream of the run whose key is `key`."""
  return keys.named(key, "eval")


def draw_eval(cfg: SweepConfig, key: jax.Array):
  """The uniforms behind the held-out batch of the run whose key is `key`."""
  return data.draw_uniforms(eval_key(key), cfg.eval_batch, cfg.n, cfg.set_size)


def evaluate(cfg: SweepConfig, model: str, state: TrainState, hp: HParams,
             key: jax.Array, uniforms=None) -> dict[str, jax.Array]:
  """Loss on `eval_batch` held-out samples (the same samples for every call), the
  outputs lit without their feature (`spurious_outputs`) and, for each of `eval_attacks`
  (stacked on a leading attack axis):

    adv_loss              E[L(x + delta)]
    loss_increase         E[L(x + delta)] - E[L(x)]
    vulnerability         (E[L(x + delta)] - E[L(x)]) / E[||x||^2]: the increase per unit
                          of input energy, since eps scales with ||x|| and sparser inputs
                          carry less.
    adv_spurious_outputs  outputs lit on x + delta whose feature x lacks: the interfering
                          features the attack lights.
  """
  if uniforms is None:  # else draw_eval(cfg, key), drawn by the caller
    uniforms = draw_eval(cfg, key)
  key = eval_key(key)  # key: the run's key
  x = data.features_from_uniforms(uniforms, feature_density(cfg.n, hp), cfg.signed,
                                  cfg.set_size, hp.correlation)
  importance = feature_importance(cfg.n, hp)
  loss = loss_fn(model, state.params, x, importance)
  out = {"loss": loss, "spurious_outputs": spurious_outputs(model, state.params, x, x)}
  if cfg.eval_attacks:
    eps = attacks.batch_eps(x, cfg.attack_eps, cfg.per_sample_eps)
    attacked = [attacks.attack_batch(attack, model, state.params, x, importance, eps,
                                     jax.random.fold_in(key, i))
                for i, attack in enumerate(cfg.eval_attacks)]
    adv = jnp.stack([jnp.mean(jax.vmap(attacks.sample_loss, in_axes=(None, None, 0, 0, None))(
        model, state.params, x_adv, x, importance)) for x_adv in attacked])
    out.update(adv_loss=adv, loss_increase=adv - loss,
               vulnerability=(adv - loss) / jnp.mean(jnp.sum(x ** 2, axis=-1)),
               adv_spurious_outputs=jnp.stack([spurious_outputs(model, state.params, x_adv, x)
                                               for x_adv in attacked]))
  return out


def finish(cfg: SweepConfig, model: str, state: TrainState, hp: HParams,
           key: jax.Array, uniforms=None) -> dict[str, jax.Array]:
  """What the results keep of a trained run (key: its finish key,
  `keys.finish_key(run_key)`, as the loop hands it): parameters, geometry,
  held-out evaluation; and the parameters and evaluation at every snapshot step, each
  named `<name>_snapshot` with a leading snapshot axis. `uniforms`, if given, are
  `draw_eval(cfg, key)` drawn by the caller; the measurements are the same either way."""
  if uniforms is None:
    uniforms = draw_eval(cfg, key)
  out = metrics.geometry(state.params["W"])
  out.update(state.params)
  out.update(evaluate(cfg, model, state, hp, key, uniforms))
  if state.snapshots is not None:
    at_snapshots = jax.vmap(lambda params: evaluate(cfg, model, state.replace(params=params),
                                                    hp, key, uniforms))(state.snapshots)
    out.update({f"{name}_snapshot": v for name, v in {**state.snapshots, **at_snapshots}.items()})
  return out


def finish_runs(cfg: SweepConfig, model: str, states: TrainState, hps: HParams,
                finish_keys: jax.Array) -> dict[str, jax.Array]:
  """`finish` for many runs at once (leading axis R), the held-out batch drawn once per
  seed (it depends on the run's key, so on its seed, alone) as `step_runs` draws the
  training batches."""
  uniforms = by_seed(cfg, hps, finish_keys, lambda s: keys.finish_key(run_key(cfg, s)),
                     functools.partial(draw_eval, cfg))
  one = functools.partial(finish, cfg, model)
  return jax.vmap(one)(states, hps, finish_keys, uniforms)


def train(cfg: SweepConfig, model: str, hp: HParams) -> TrainState:
  """Trains one run for all steps, without the loop (a reference for tests)."""
  key = run_key(cfg, hp.seed)
  state = init_state(cfg, model, keys.init_key(key), hp)

  def body(state, step):
    return train_step(cfg, model, state, hp, keys.step_key(key, step), step)

  state, _ = jax.lax.scan(body, state, jnp.arange(cfg.steps))
  return state
