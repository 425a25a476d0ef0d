"""Runs a toy-model sweep: every model kind's grid through the core loop, then results.

Each model kind is one pass of the core loop (one compiled shape) whose runs are the
grid's runs (SweepConfig.axes), with checkpoints under `state/<model>/` in the
run directory. The results are the toy results schema
(superjax.toy.results).
"""

from __future__ import annotations

from pathlib import Path

import xarray as xr

from superjax.core import keys, loop
from superjax.core.progress import Progress
from superjax.toy import program, results, train
from superjax.toy.config import SweepConfig


def schedule(cfg: SweepConfig) -> loop.Schedule:
  return loop.Schedule(steps=cfg.steps, log_every=cfg.log_every,
                       checkpoint_every=cfg.checkpoint_every, chunk_size=cfg.chunk_size)


def total_steps(cfg: SweepConfig) -> int:
  return len(cfg.models) * cfg.run_count * cfg.steps


def passes(cfg: SweepConfig, run_dir: Path) -> dict[str, loop.Pass]:
  """Each model kind's pass over the whole grid, by model kind."""
  hps = train.hparams(cfg)
  run_keys = keys.run_keys(cfg.base_seed, hps.seed)  # train.run_key of each run's seed
  return {model: loop.Pass(program.program(cfg, model), run_keys, hps, schedule(cfg), run_dir,
                           meta={"config": cfg.computed_part()})
          for model in cfg.models}


def run(cfg: SweepConfig, run_dir: Path, progress: Progress) -> tuple[xr.Dataset, dict]:
  """Trains every model kind's grid (resuming where checkpoints exist); returns the
  results (superjax.toy.results) and each kind's timings."""
  outputs, timings = {}, {}
  for model, pass_ in passes(cfg, run_dir).items():
    trained = pass_.train(progress)
    outputs[model] = dict(trained.outputs, diverged=trained.diverged,
                          loss_history=trained.history["loss"])
    timings[model] = trained.timings()
  return results.build(cfg, outputs, trained.segment_ends), timings
