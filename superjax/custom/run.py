"""Trains a Model's grid through the core loop and labels the results by its axes.

One pass (state/<name>): the runs are the grid's points in C order over its groups, each
run's hp the dict of its axis values, each run's key `keys.run_key(base_seed, seed)` (seed
0 for every run when the grid has no `seed` axis). The results hold every output of
`finish` and every metric's history on the grid's dims, and `diverged`.
"""

from __future__ import annotations

import functools
from pathlib import Path

import jax
import numpy as np
import xarray as xr

from superjax.core import keys, loop, sweeps
from superjax.core import results as results_lib
from superjax.core.errors import SuperjaxError
from superjax.core.progress import Progress
from superjax.custom.config import Model, ModelConfig, leaves

# Models run in this process, by name: a notebook's Model has no file to read its own
# report and figures from when its results are loaded again.
_RUN: dict[str, Model] = {}


def model_of(cfg: ModelConfig) -> Model:
  """The Model behind `cfg`, bound to its schedule and grid (`Model.bound`): the one it was
  made from, else one run in this process, else the MODEL of its file (read once per
  version of the file)."""
  if cfg.model is not None:
    model = cfg.model
  elif cfg.name in _RUN and not cfg.file:
    model = _RUN[cfg.name]
  elif not cfg.file:
    raise SuperjaxError(f"{cfg.name} was defined in Python, not in a file; run it again "
                        "from the Model object (superjax.run(MODEL))")
  else:
    model = load_file(Path(cfg.file))
  return model.bound(cfg)


def load_file(path: str | Path) -> Model:
  """The MODEL a model file defines (`superjax.load_model`)."""
  path = Path(path)
  if not path.is_file():
    raise SuperjaxError(f"model file {path} does not exist")
  stat = path.resolve().stat()
  return _load_file(str(path.resolve()), stat.st_mtime_ns, stat.st_size)


@functools.lru_cache(maxsize=32)
def _load_file(path: str, mtime_ns: int, size: int) -> Model:
  model = getattr(sweeps.execute(Path(path)), "MODEL", None)
  if not isinstance(model, Model):
    raise SuperjaxError(f"{path} defines no MODEL = superjax.Model(...)")
  return model


def work(cfg: ModelConfig) -> int:
  return cfg.grid().size * cfg.steps


def default_finish(state, hp, key, data) -> dict:
  """The final state's leaves, named by their paths."""
  return leaves(state)


def program(model: Model) -> loop.Program:
  init, step = model.functions()
  return loop.Program(name=model.name, init=init, step=step,
                      finish=model.finish or default_finish)


def model_pass(cfg: ModelConfig, run_dir: Path) -> loop.Pass:
  """The one pass of `cfg`'s grid: runs in C order over its groups, each run's key from
  its seed (keys.run_keys; seed 0 for every run when the grid has no seed axis)."""
  model = model_of(cfg)
  grid = cfg.grid()
  hps = grid.hparams()
  seeds = hps["seed"] if "seed" in hps else np.zeros(grid.size, np.int32)
  data = model.data() if model.data is not None else None
  return loop.Pass(program(model), keys.run_keys(cfg.base_seed, seeds), hps,
                   model.schedule(), run_dir, data=data, meta={"config": cfg.computed_part()})


def run(cfg: ModelConfig, run_dir: Path, progress: Progress) -> tuple[xr.Dataset, dict]:
  model = model_of(cfg)
  pass_ = model_pass(cfg, run_dir)
  check_names(model, pass_)
  _RUN[cfg.name] = model
  trained = pass_.train(progress)
  return results(cfg, trained, model.dims), {model.name: trained.timings()}


def check_names(model: Model, pass_: loop.Pass) -> None:
  """Before any training: init, step and finish make what the loop expects (core.loop's
  one-line errors), and neither the metrics nor finish's outputs take a name the results
  give the grid's axes and the loop's flags."""
  _, metrics, outputs = loop.check_program(pass_)
  taken = set(model.axes.names) | {"step", "diverged"}
  for kind, names in (("metric", metrics), ("finish output", outputs)):
    for name in names:
      if name in taken or (kind == "finish output" and name.endswith("_history")):
        raise SuperjaxError(f"{model.name}: the {kind} {name!r} takes a name the results "
                            f"use for an axis or the loop ({', '.join(sorted(taken))}, "
                            "*_history); rename it")


def results(cfg: ModelConfig, trained: loop.Trained, dims: dict | None = None) -> xr.Dataset:
  """Every output and metric history on the grid's dims (core.results.label), an
  output's own axes named by `dims` (the Model's)."""
  return results_lib.label(cfg.grid(), trained.outputs, trained.history, trained.diverged,
                           trained.segment_ends, dims=dims,
                           attrs={"description": cfg.description or cfg.name})


def tiny() -> ModelConfig:
  """A per-run quadratic minimised by gradient descent: 8 runs, 2,000 steps (20
  checkpoints, so a kill lands inside the pass)."""
  import jax.numpy as jnp

  from superjax.core.axes import product

  def init(key, hp, data):
    return {"x": jax.random.normal(key, (3,))}

  def step(state, hp, key, t, data):
    loss = 0.5 * hp["curvature"] * jnp.sum(state["x"] ** 2)
    return {"x": state["x"] * (1 - hp["lr"] * hp["curvature"])}, {"loss": loss}

  model = Model(name="tiny_quadratic", init=init, step=step, steps=2000, log_every=100,
                checkpoint_every=100,
                axes=product(seed=range(2), lr=[0.05, 0.1], curvature=[1.0, 2.0]))
  return model.config(file="")
