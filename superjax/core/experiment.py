"""The experiment contract, the registry of experiments, and how any of them runs.

An experiment family (superjax.toy, superjax.zoo_sae, superjax.uand, ...) provides one
`Experiment`: its config type, how it trains and measures into a run directory, and how it
reports and draws from saved results. Sweep files build a config; its class names the
experiment (`Config.EXPERIMENT`), and saved results name it too (attrs["experiment"]), so
`superjax plot` and `superjax report` find the family of any finished run.

`run` does for every experiment what no family should do again: prepare the run directory
(or refuse a different config in it), return a finished run's results, set the matmul
precision the experiment states (core.precision) around training and measuring, count
progress, write results and manifest atomically on the primary process, and label the
results.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime
import importlib
import json
import time
from collections.abc import Callable
from pathlib import Path

import xarray as xr

from superjax.core import distributed, preemption, registry, rundir
from superjax.core import precision as precision_lib
from superjax.core.config import Config
from superjax.core.errors import CODE_CHANGED, SuperjaxError
from superjax.core.progress import Progress, say


@dataclasses.dataclass(frozen=True)
class Experiment:
  """What a family provides.

  Attributes:
    name: registry key, stored in results as attrs["experiment"].
    config: the frozen Config subclass its sweep files build.
    run: (cfg, run_dir, progress) -> (dataset, timings): trains through the core loop
      (state under run_dir/state, resuming) and measures; progress counts `unit`s.
    work: cfg -> how many `unit`s the whole run takes (the progress bar's total).
    report: dataset -> text, from saved results.
    figures: dataset -> {name: matplotlib Figure}, from saved results.
    tiny: () -> a config that runs in seconds (examples and the contract test).
    claims: the papers' claims its sweeps test (claims.scorecard.Claim), for
      `superjax scorecard`.
    saes: cfg -> {pass name: [coordinates of each run]} of the passes that train SAEs
      (superjax.sae.train), runs in order, each run's coordinates {name: value} as its
      results label it; for `superjax export-saes`. None for families without SAEs.
    precision: the matmul precision its training and measurements need on accelerators
      (core.precision: "highest", "high" or "default"); `run` applies it, and
      $SUPERJAX_MATMUL_PRECISION or `superjax run --precision` override it.
    passes: (cfg, run_dir) -> the training passes (core.loop.Pass) that the config alone
      determines, so that rerunning a finished run checks their code against the code
      that made it (a resumed pass is checked by the loop in any case). None when every
      pass needs an earlier one's results.
  """

  name: str
  config: type[Config]
  run: Callable[[Config, Path, Progress], tuple[xr.Dataset, dict]]
  work: Callable[[Config], int]
  report: Callable[[xr.Dataset], str]
  figures: Callable[[xr.Dataset], dict]
  tiny: Callable[[], Config]
  unit: str = "model-steps"  # one step of one run
  claims: tuple = ()
  saes: Callable[[Config], dict[str, list[dict]]] | None = None
  precision: str = "highest"
  passes: Callable[[Config, Path], list] | None = None

  def __post_init__(self):
    precision_lib.check(self.precision, f"experiment {self.name!r}")


register = registry.register  # (name, "module:ATTRIBUTE"): an Experiment found by name


def names() -> list[str]:
  return registry.names()


def get(name: str) -> Experiment:
  known = registry.names()
  if name not in known:
    raise SuperjaxError(f"unknown experiment {name!r}; known: {', '.join(known)}")
  module, attribute = registry.where(name).split(":")
  return getattr(importlib.import_module(module), attribute)


def of_config(cfg) -> Experiment:
  """The experiment that runs `cfg`."""
  name = getattr(type(cfg), "EXPERIMENT", "")
  known = registry.names()
  if not isinstance(cfg, Config) or name not in known:
    raise SuperjaxError(f"CONFIG is a {type(cfg).__name__}, not the config of any experiment "
                        f"({', '.join(known)})")
  return get(name)


# Toy-model results from before experiments were named carry no name.
_UNNAMED = "toy"


def of_dataset(dataset: xr.Dataset) -> Experiment:
  """The experiment that made `dataset`."""
  name = dataset.attrs.get("experiment", _UNNAMED)
  known = registry.names()
  if name not in known:
    raise SuperjaxError(f"results name an experiment {name!r} this superjax does not know "
                        f"({', '.join(known)}); rerun the sweep to make them anew")
  return get(name)


def config_of(dataset: xr.Dataset) -> Config:
  """The config saved with `dataset`."""
  try:
    data = json.loads(dataset.attrs["config"])
  except (KeyError, ValueError) as e:
    raise SuperjaxError(f"the results hold no readable config ({type(e).__name__}); rerun "
                        "the sweep to make them anew") from None
  return of_dataset(dataset).config.from_dict(data)


def run(cfg: Config, run_dir: str | Path, fresh: bool = False, show_progress: bool = True,
        precision: str | None = None) -> xr.Dataset:
  """Runs `cfg`'s experiment in `run_dir` (resuming a killed run, or loading a finished
  one) and saves its results; returns them. `precision` overrides the experiment's matmul
  precision (and $SUPERJAX_MATMUL_PRECISION)."""
  experiment = of_config(cfg)
  # A config may state its own precision (a user's Model does); else the experiment's.
  chosen = precision_lib.resolve(getattr(cfg, "precision", "") or experiment.precision,
                                 precision)
  run_dir = Path(run_dir)
  with contextlib.ExitStack() as stack:
    # The primary process holds the directory's lock, checks and prepares it; the others
    # share its verdict. SIGTERM and SIGINT then stop training at a saved step.
    distributed.on_primary(str(run_dir), lambda: stack.enter_context(rundir.locked(run_dir)))
    distributed.on_primary(str(run_dir), lambda: rundir.prepare(cfg, run_dir, fresh))
    stack.enter_context(preemption.signals_caught())
    stack.enter_context(precision_lib.applied(chosen))
    return _run(experiment, cfg, run_dir, show_progress, chosen)


def _run(experiment: Experiment, cfg: Config, run_dir: Path, show_progress: bool,
         precision: str) -> xr.Dataset:
  if distributed.is_primary():
    rundir.set_aside_damaged_results(run_dir)
  if distributed.agree(rundir.is_finished(run_dir)):
    check_code(experiment, cfg, run_dir)
    say(f"{run_dir} already holds the finished run; loading its results")
    return rundir.load(run_dir)
  started = datetime.datetime.now(datetime.UTC)
  t0 = time.perf_counter()
  progress = Progress(experiment.work(cfg), cfg.name, unit=experiment.unit,
                      enabled=show_progress and distributed.is_primary())
  dataset, timings = experiment.run(cfg, run_dir, progress)
  dataset.attrs.update(experiment=experiment.name, sweep=cfg.name, config=cfg.to_json())
  timings = dict(timings, total_seconds=round(time.perf_counter() - t0, 3))
  if distributed.is_primary():
    rundir.save(dataset, run_dir, rundir.manifest(cfg, timings, started, precision,
                                                  rundir.fingerprints(run_dir)))
  distributed.barrier("superjax_saved_results")
  return dataset


def check_code(experiment: Experiment, cfg: Config, run_dir: Path) -> None:
  """Refuses a finished run whose passes' code differs from the code that made it (as far
  as the experiment can tell from its config: `Experiment.passes`)."""
  if experiment.passes is None:
    return
  recorded = rundir.recorded_fingerprints(run_dir) or {}
  for pass_ in experiment.passes(cfg, run_dir):
    name = pass_.program.name
    if recorded.get(name) != pass_.fingerprint():
      why = (f"its {name} pass was trained by other code" if name in recorded
             else f"it records no fingerprint of its {name} pass's code")
      raise SuperjaxError(CODE_CHANGED.format(where=f"{run_dir}: {why}"))
