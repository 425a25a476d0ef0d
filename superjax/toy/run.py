"""Runs a toy-model sweep: every model kind's grid through the core loop, then results.

Each model kind is one program (one compiled shape); its runs are the grid's flat run
axis (superjax.toy.grid), trained by superjax.core.loop with checkpoints under
`state/<model>/` in the run directory. The results are the toy results schema
(superjax.toy.results).
"""

from __future__ import annotations

from pathlib import Path

import jax
import xarray as xr

from superjax.core import loop, rundir
from superjax.core.config import ConfigError
from superjax.core.progress import Progress
from superjax.toy import results, train
from superjax.toy.config import SweepConfig
from superjax.toy.grid import Grid


def schedule(cfg: SweepConfig) -> loop.Schedule:
  return loop.Schedule(steps=cfg.steps, log_every=cfg.log_every,
                       checkpoint_every=cfg.checkpoint_every, chunk_size=cfg.chunk_size)


def total_steps(cfg: SweepConfig) -> int:
  return len(cfg.models) * cfg.run_count * cfg.steps


def check_presentation(cfg: SweepConfig) -> None:
  """The sweep's figures and reports exist (checked before any training)."""
  from superjax.toy import figures, report
  for field, names, known in (("figures", cfg.figures, figures.FIGURES),
                              ("reports", cfg.reports, report.REPORTS)):
    for name in names:
      if name not in known:
        raise ConfigError(f"{field}: {name!r} is not one of {', '.join(known)}")


def run(cfg: SweepConfig, run_dir: Path, progress: Progress) -> tuple[xr.Dataset, dict]:
  """Trains every model kind's grid (resuming where checkpoints exist); returns the
  results (superjax.toy.results) and each kind's timings."""
  check_presentation(cfg)
  grid = Grid(cfg)
  hps = grid.hparams()
  keys = jax.vmap(lambda seed: train.run_key(cfg, seed))(hps.seed)
  outputs, timings = {}, {}
  for model in cfg.models:
    trained = loop.train(train.program(cfg, model), keys, hps, schedule(cfg),
                         Path(run_dir) / rundir.STATE_DIR / model,
                         meta={"config": cfg.computed_part()}, progress=progress)
    outputs[model] = dict(trained.outputs, diverged=trained.diverged,
                          loss_history=trained.history["loss"])
    timings[model] = {"compile_seconds": trained.compile_seconds,
                      "train_seconds": trained.seconds}
  return results.build(cfg, grid, outputs, schedule(cfg).segment_ends()), timings
