"""Training ONE SAE, and the `Program` the core loop vmaps over a grid of SAEs.

Any kind (superjax.sae.kinds) trains the same way: Adam with gradient clipping and a
linear learning-rate decay to 0 over the final `lr_decay` of training; the kind's
gradient projection before the step and its `after_step` after it; a count per latent
of training inputs since it last fired (a latent is dead after `dead_tokens`). Batches are
drawn with replacement from the run's source by index, the batch of step t from
its step key (core.keys: the loop hands every step its own).

The runs of one program share a width and kind; they differ in k, l1, lr, source and seed
(SAEHParams). Their training activations are the loop's shared `data`:

  data = {"acts": (sources, tokens, d) raw activations,
          "mean", "scale": (sources, d) each source's standardisation,
          "eval": {name: (sources, N, d)} held-out activations to measure on (optional)}

so every run reads its own source's rows and nothing is copied per run.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import flax.struct
import jax
import jax.numpy as jnp
import numpy as np
import optax

from superjax.core import keys, loop
from superjax.sae.dictionary import nmse, unit_rows
from superjax.sae.kinds import KINDS
from superjax.sae.metrics import evaluate_source
from superjax.sae.model import SAE, SAEHParams, Settings, standardize, standardizers


@flax.struct.dataclass
class SAEState:
  """One SAE between steps."""

  sae: SAE
  opt_state: optax.OptState
  # (L,) training inputs since each latent last fired, saturating at dead_tokens.
  since_fired: jax.Array


def make_optimizer(settings: Settings, lr: jax.Array) -> optax.GradientTransformation:
  """Adam at `lr` (traced), decaying linearly to 0 over the final lr_decay of the steps,
  after clipping the gradient's global norm."""
  decay_steps = round(settings.lr_decay * settings.steps)
  if decay_steps == 0:
    schedule = lambda count: lr
  else:
    schedule = lambda count: lr * jnp.clip((settings.steps - count) / decay_steps, 0.0, 1.0)
  return optax.chain(optax.clip_by_global_norm(settings.grad_clip), optax.adam(schedule))


def _batch(settings: Settings, key: jax.Array, sae: SAE, acts: jax.Array,
           source: jax.Array) -> jax.Array:
  """(batch, d) standardised rows of source `source` of acts (sources, tokens, d)."""
  index = jax.random.randint(key, (settings.batch,), 0, acts.shape[1])
  return standardize(sae, jnp.asarray(acts)[source, index])


def init_state(settings: Settings, key: jax.Array, hp: SAEHParams, data: dict) -> SAEState:
  """A fresh SAE for one run (data as in the module docstring); runs that differ only in
  sparsity or source share their key, hence their initialisation."""
  L, d = settings.n_latents, settings.d_in
  directions = unit_rows(jax.random.normal(keys.named(key, "init"), (L, d)))
  sae = SAE(params={}, mean=data["mean"][hp.source], scale=data["scale"][hp.source],
            k=jnp.asarray(hp.k, jnp.int32), settings=settings)
  sample = _batch(settings, keys.named(key, "init_batch"), sae, data["acts"], hp.source)
  sae = sae.replace(params=KINDS[settings.kind].init(directions, sample, settings),
                    buffers=KINDS[settings.kind].init_buffers(settings))
  return SAEState(sae=sae, opt_state=make_optimizer(settings, hp.lr).init(sae.params),
                  since_fired=jnp.zeros((L,), jnp.int32))


def train_step(settings: Settings, state: SAEState, hp: SAEHParams, key: jax.Array,
               step: jax.Array, data: dict) -> tuple[SAEState, dict[str, jax.Array]]:
  """One optimiser step on the batch of step `step` (whose key is `key`) of the run's
  source.

  Returns:
    The new state and the step's loss, nmse and l0 on its batch.
  """
  kind = KINDS[settings.kind]
  x = _batch(settings, keys.named(key, "batch"), state.sae, data["acts"], hp.source)
  params = state.sae.params
  dead = state.since_fired >= settings.dead_tokens
  (loss, out), grads = jax.value_and_grad(kind.loss, has_aux=True)(
      params, x, hp, settings, dead, step)
  grads = kind.project_grads(params, grads)
  updates, opt_state = make_optimizer(settings, hp.lr).update(grads, state.opt_state, params)
  new_params = kind.after_step(optax.apply_updates(params, updates), out, step, settings)
  new_buffers = kind.update_buffers(state.sae.buffers, out, step, settings)
  fired = jnp.any(out["z"] > 0, axis=0)
  since_fired = jnp.where(fired, 0, jnp.minimum(state.since_fired + settings.batch,
                                                settings.dead_tokens))
  new = state.replace(sae=state.sae.replace(params=new_params, buffers=new_buffers),
                      opt_state=opt_state, since_fired=since_fired)
  return new, {"loss": loss, "nmse": nmse(out["x_hat"], x),
               "l0": jnp.mean(jnp.sum(out["z"] > 0, axis=-1))}


def finish(state: SAEState, hp: SAEHParams, key: jax.Array, data: dict) -> dict[str, jax.Array]:
  """The metrics of superjax.sae.metrics.evaluate on each held-out set, as
  "<set>.<metric>"."""
  return {f"{name}.{metric}": value
          for name, acts in data.get("eval", {}).items()
          for metric, value in evaluate_source(state.sae, acts, hp.source).items()}


def program(settings: Settings, name: str) -> loop.Program:
  """The core loop's view of one SAE width and kind."""
  return loop.Program(
      name=name,
      init=lambda key, hp, data: init_state(settings, key, hp, data),
      step=lambda state, hp, key, t, data: train_step(settings, state, hp, key, t, data),
      finish=finish)


def shared_data(settings: Settings, acts: np.ndarray,
                eval_acts: dict[str, np.ndarray] | None = None) -> dict:
  """The loop's `data` for SAEs on `acts` (sources, tokens, d), standardised per source."""
  mean, scale = standardizers(jnp.asarray(acts), per_dimension=settings.per_dimension)
  data = {"acts": acts, "mean": np.asarray(mean), "scale": np.asarray(scale)}
  if eval_acts:
    data["eval"] = dict(eval_acts)
  return data


def sae_pass(settings: Settings, hp: SAEHParams, acts: np.ndarray, run_dir: Path, *,
             base_seed: int = 0, stream: str = "sae", eval_acts: dict[str, np.ndarray] | None = None,
             log_every: int = 100, checkpoint_every: int = 1000, name: str = "sae",
             meta: dict | None = None) -> loop.Pass:
  """One SAE per run of `hp`, as a pass of the core loop: `.train()` trains them (resuming
  from run_dir/state/<name>), `.final_states().sae` reads the trained SAEs back.

  Args:
    settings: static settings of every run.
    hp: (runs,) hyperparameters, e.g. from `hparams`.
    acts: (sources, tokens, d) raw training activations; run r trains on acts[hp.source[r]]
      standardised with that source's own mean and scale.
    run_dir: the run directory.
    base_seed, stream: run r's key is keys.run_key(base_seed, hp.seed[r], stream).
    eval_acts: held-out sets {name: (sources, N, d)}, measured at the end: the pass's
      outputs are "<set>.<metric>" (superjax.sae.metrics.evaluate), each (runs,).
  """
  schedule = loop.Schedule(steps=settings.steps, log_every=min(log_every, settings.steps),
                           checkpoint_every=checkpoint_every)
  return loop.Pass(program(settings, name), keys.run_keys(base_seed, hp.seed, stream), hp,
                   schedule,
                   run_dir, data=shared_data(settings, acts, eval_acts),
                   meta=dict(meta or {}, settings=dataclasses.asdict(settings)))
