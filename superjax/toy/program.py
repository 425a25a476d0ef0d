"""The core loop's view of one toy model kind: init, step and finish for ONE run
(superjax.toy.train), and the step of a whole chunk of runs, which is the batched
hand-derived step (superjax.toy.fast) where the sweep allows it and the vmapped reference
step otherwise. It sits above both, so neither step module needs the other's choice."""

from __future__ import annotations

import jax

from superjax.core.loop import Program
from superjax.toy import fast, train
from superjax.toy.config import SweepConfig


def program(cfg: SweepConfig, model: str) -> Program:
  """The Program of one model kind of the sweep."""
  step = lambda state, hp, key, t, data: _with_loss(
      train.train_step(cfg, model, state, hp, key, t))
  batched = (fast.step_runs if cfg.gradients == "hand" and fast.supports(cfg, model)
             else train.step_runs)
  runs = lambda states, hps, keys, t, data: _with_loss(batched(cfg, model, states, hps, keys, t))
  return Program(name=model,
                 init=lambda key, hp, data: train.init_state(cfg, model, key, hp),
                 step=step, step_runs=runs,
                 finish=lambda state, hp, key, data: train.finish(cfg, model, state, hp, key),
                 finish_runs=lambda states, hps, keys, data: train.finish_runs(
                     cfg, model, states, hps, keys))


def _with_loss(out: tuple[train.TrainState, jax.Array]
               ) -> tuple[train.TrainState, dict[str, jax.Array]]:
  return out[0], {"loss": out[1]}
