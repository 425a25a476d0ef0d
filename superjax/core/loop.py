"""The segment loop: any family's runs trained as one vmapped, sharded, checkpointed program.

A family describes the training of ONE run with pure functions (a `Program`):

  init(key, hp, data) -> state              a fresh run
  step(state, hp, t, data) -> state, metrics  step t (metrics: scalars, "loss" among them)
  finish(state, hp, data) -> measurements   what the results keep of a trained run

`hp` is the run's hyperparameters (a pytree of scalars: traced, so a grid compiles once
per shape), `key` its PRNG key, `data` arrays every run reads (training activations, an
image set; replicated on every device, never copied per run). A `Pass` is one program
over a run's runs, with its training state under state/<name> in the run directory;
`Pass.train` does the rest:

- vmaps the functions over a flat axis of runs, `chunk_size` runs at a time (by default
  as many as fit in half the devices' free memory, where the program says what a run
  needs; a resumed pass keeps the chunks it started with);
- shards a chunk's runs over every device of every process on one mesh axis, padded to a
  multiple of the device count by repeating the last run (the padding is dropped again);
- trains in `lax.scan` segments of `log_every` steps, keeping each metric's mean per
  segment and run;
- flags a run whose loss or state turns non-finite and freezes it at its last finite
  state, so a diverging run never spoils the others;
- saves the chunk's whole state with orbax every `checkpoint_every` steps and at the end,
  and resumes from the newest readable checkpoint on a rerun;
- reports progress in model-steps with an ETA.

A run's random draws depend on its key and step alone, so results depend neither on the
chunking, the device count, nor the step a run resumed from.
"""

from __future__ import annotations

import dataclasses
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from jax.sharding import NamedSharding, PartitionSpec

from superjax.core import distributed, host, rundir
from superjax.core.checkpoint import CheckpointError, Checkpoints, abstract_of
from superjax.core.progress import Progress
from superjax.core.rundir import STATE_DIR

RUNS_AXIS = "runs"


@dataclasses.dataclass(frozen=True)
class Program:
  """A family's training of ONE run (see the module docstring).

  Attributes:
    name: names the pass in messages and its folder of training state (state/<name>).
    init: (key, hp, data) -> state.
    step: (state, hp, t, data) -> (state, metrics); metrics holds "loss".
    finish: (state, hp, data) -> dict of per-run arrays; None keeps nothing.
    step_runs: optional fast path (states, hps, t, data) -> (states, metrics) for all
      runs of a chunk at once (leading run axis); it must equal `step` vmapped.
    threaded: the step is dominated by large products (convolutions, wide matmuls) that
      XLA already spreads over every core of one CPU device; on a CPU host the runs are
      then sharded over one device per process instead of one per core (which would make
      the two devices' thread pools compete: 1.75x slower on the digits zoo, 2 cores).
    bytes_per_run: what one run holds on its device during a step (state, batch,
      activations, gradients), roughly; sizes the default chunks. None: one chunk.
  """

  name: str
  init: Callable[..., Any]
  step: Callable[..., tuple[Any, dict[str, jax.Array]]]
  finish: Callable[..., dict[str, jax.Array]] | None = None
  step_runs: Callable[..., tuple[Any, dict[str, jax.Array]]] | None = None
  threaded: bool = False
  bytes_per_run: int | None = None


@dataclasses.dataclass(frozen=True)
class Schedule:
  """How many steps, and how often to log and save."""

  steps: int
  log_every: int
  checkpoint_every: int
  chunk_size: int = 0  # runs trained at once; 0 = as many as fit in memory

  def segment_ends(self) -> np.ndarray:
    """The step count after each segment."""
    count = -(-self.steps // self.log_every)
    return np.minimum(np.arange(1, count + 1) * self.log_every, self.steps)


@dataclasses.dataclass
class Trained:
  """What a pass returns: per-run arrays, runs first."""

  outputs: dict[str, np.ndarray]  # finish's measurements
  history: dict[str, np.ndarray]  # each metric's mean per segment, (runs, segments)
  diverged: np.ndarray  # (runs,) bool
  segment_ends: np.ndarray
  compile_seconds: float
  seconds: float

  def timings(self) -> dict:
    return {"compile_seconds": self.compile_seconds, "train_seconds": self.seconds}


def say(message: str) -> None:
  """A line for the user on stderr (the primary process's only)."""
  if distributed.is_primary():
    print(message, file=sys.stderr, flush=True)


def piece(run_dir: Path, name: str, measure: Callable[[], Any], progress: Progress,
          work: int, label: str) -> tuple[Any, float | None]:
  """A measurement that is not training, kept in the run directory's pieces/: the saved
  piece `name` if a previous run finished it (its `work` units counted as done), else
  `measure()`, saved as that piece.

  Returns:
    the dataset and the seconds measuring took (None when it was loaded).
  """
  part = rundir.load_piece(run_dir, name)
  if part is not None:
    progress.skip(work)
    say(f"{label} was already measured")
    return part, None
  t0 = time.perf_counter()
  part = measure()
  rundir.save_piece(run_dir, name, part)
  return part, round(time.perf_counter() - t0, 3)


def run_keys(base_seed: int, seeds) -> jax.Array:
  """(runs,) keys fold_in(key(base_seed), seed): runs that share a seed share their key,
  so they differ only in their hyperparameters."""
  return jax.vmap(lambda seed: jax.random.fold_in(jax.random.key(base_seed), seed))(
      jnp.asarray(seeds))


def _finite(state, loss: jax.Array) -> jax.Array:
  """(runs,) whether each run's loss and every floating leaf of its state are finite."""
  leaves = [leaf.reshape(leaf.shape[0], -1) for leaf in jax.tree.leaves(state)
            if jnp.issubdtype(leaf.dtype, jnp.inexact)]
  return jnp.isfinite(loss) & jnp.all(jnp.isfinite(jnp.concatenate(leaves, axis=1)), axis=1)


def _where_runs(keep: jax.Array, new, old):
  """Per run, `new` where keep else `old`."""
  def pick(a, b):
    return jnp.where(keep.reshape(keep.shape + (1,) * (a.ndim - 1)), a, b)
  return jax.tree.map(pick, new, old)


class _Compiled:
  """The jitted functions of one program on the current mesh, compiled once per shape."""

  def __init__(self, program: Program):
    self.program = program
    devices = jax.devices()
    if program.threaded and jax.default_backend() == "cpu":
      first = {}  # each process's first device
      for device in sorted(devices, key=lambda d: d.id):
        first.setdefault(device.process_index, device)
      devices = list(first.values())
    self.size = len(devices)
    self.devices = devices
    # Auto axis: XLA propagates the runs sharding through the program (runs never interact).
    mesh = jax.make_mesh((self.size,), (RUNS_AXIS,), axis_types=(jax.sharding.AxisType.Auto,),
                         devices=devices)
    self.runs = NamedSharding(mesh, PartitionSpec(RUNS_AXIS))
    self.replicated = NamedSharding(mesh, PartitionSpec())
    self._cache: dict = {}
    self.compile_seconds = 0.0

  def _compiled(self, key, build, *args):
    if key not in self._cache:
      t0 = time.perf_counter()
      self._cache[key] = build().lower(*args).compile()
      self.compile_seconds += time.perf_counter() - t0
    return self._cache[key](*args)

  def _step_runs(self, states, hps, t, data):
    if self.program.step_runs is not None:
      return self.program.step_runs(states, hps, t, data)
    return jax.vmap(self.program.step, in_axes=(0, 0, None, None))(states, hps, t, data)

  def _init_runs(self, keys, hps, data):
    one = lambda key, hp: self.program.init(jax.random.wrap_key_data(key), hp, data)
    return jax.vmap(one)(keys, hps)

  def init(self, keys, hps, data):
    def build():
      return jax.jit(self._init_runs, in_shardings=(self.runs, self.runs, self.replicated),
                     out_shardings=self.runs)
    return self._compiled(("init", keys.shape), build, keys, hps, data)

  def abstract_states(self, keys, hps, data):
    """Shapes, dtypes and shardings of the states `init` makes, computing nothing."""
    shapes = jax.eval_shape(self._init_runs, keys, hps, data)
    return jax.tree.map(lambda a: jax.ShapeDtypeStruct(a.shape, a.dtype, sharding=self.runs),
                        shapes)

  def segment(self, states, diverged, hps, data, start: int, length: int):
    """`length` guarded steps from `start`: (states, diverged, per-run metric means)."""

    def run(states, diverged, hps, data, start):
      def body(carry, t):
        states, diverged = carry
        new, metrics = self._step_runs(states, hps, t, data)
        ok = _finite(new, metrics["loss"])
        states = _where_runs(ok & ~diverged, new, states)
        return (states, diverged | ~ok), metrics

      (states, diverged), metrics = jax.lax.scan(body, (states, diverged),
                                                 start + jnp.arange(length))
      return states, diverged, jax.tree.map(lambda m: jnp.mean(m, axis=0), metrics)

    def build():
      return jax.jit(run, in_shardings=(self.runs, self.runs, self.runs, self.replicated, None),
                     out_shardings=self.runs)
    return self._compiled(("segment", length, _shapes(hps)), build, states, diverged, hps,
                          data, jnp.int32(start))

  def finish(self, states, hps, data):
    def build():
      return jax.jit(lambda s, h, d: jax.vmap(self.program.finish, in_axes=(0, 0, None))(s, h, d),
                     in_shardings=(self.runs, self.runs, self.replicated),
                     out_shardings=self.runs)
    return self._compiled(("finish", _shapes(hps)), build, states, hps, data)

  def metric_names(self, states, hps, data) -> list[str]:
    _, metrics = jax.eval_shape(self._step_runs, states, hps, jnp.int32(0), data)
    return sorted(metrics)


def _shapes(hps) -> tuple:
  return tuple(a.shape for a in jax.tree.leaves(hps))


@dataclasses.dataclass
class _Chunk:
  """`chunk_size` consecutive runs of a pass, padded and sharded, with their folder of
  checkpoints and the metadata a checkpoint must match to be resumed."""

  start: int
  stop: int
  padded: int
  keys: jax.Array
  hps: Any
  directory: Path
  meta: dict

  @property
  def runs(self) -> int:
    return self.stop - self.start


# Share of the devices' free memory the default chunks may fill: the rest is XLA's
# workspace, the metric history and whatever the estimate of a run's bytes missed.
MEMORY_SHARE = 0.5


def chunk_size(compiled: _Compiled, pass_: Pass) -> int:
  """Runs per chunk: the schedule's, else those of chunks already on disk (a resumed pass
  must find its checkpoints), else as many as fit in MEMORY_SHARE of every device's free
  memory, a multiple of the device count."""
  runs = int(np.shape(pass_.keys)[0])
  if pass_.schedule.chunk_size:
    return min(pass_.schedule.chunk_size, runs)
  started = sorted(pass_.state_dir.glob("runs_*_*")) if pass_.state_dir.is_dir() else []
  if started:
    first, last = (int(x) for x in started[0].name.split("_")[1:3])
    return last - first
  need = compiled.program.bytes_per_run
  if not need:
    return runs
  local = [d for d in compiled.devices if d.process_index == jax.process_index()]
  fit = distributed.smallest(int(MEMORY_SHARE * host.free_device_bytes(local) // need))
  return min(runs, max(1, fit) * compiled.size)


def _chunks(compiled: _Compiled, pass_: Pass):
  key_data = np.asarray(jax.random.key_data(pass_.keys))
  hps, meta = pass_.hps, pass_.meta
  size = chunk_size(compiled, pass_)
  for start in range(0, key_data.shape[0], size):
    stop = min(start + size, key_data.shape[0])
    padded = (stop - start) + (-(stop - start) % compiled.size)
    yield _Chunk(start, stop, padded,
                 keys=_pad_and_shard(key_data[start:stop], padded, compiled.runs),
                 hps=_pad_and_shard(jax.tree.map(lambda a: np.asarray(a)[start:stop], hps),
                                    padded, compiled.runs),
                 directory=pass_.state_dir / f"runs_{start:07d}_{stop:07d}",
                 meta=dict(meta or {}, program=compiled.program.name, chunk=[start, stop],
                           padded_runs=padded))


def _pad_and_shard(tree, count: int, sharding: NamedSharding):
  """Pads the leading run axis to `count` by repeating the last run, then shards it."""
  def one(a):
    a = np.asarray(a)
    a = np.concatenate([a, np.repeat(a[-1:], count - a.shape[0], axis=0)])
    return distributed.shard(a, sharding)
  return jax.tree.map(one, tree)


def _replicated(data: Any, compiled: _Compiled) -> Any:
  """`data` on every device of the program's mesh (each process gives its full copy)."""
  return None if data is None else jax.tree.map(
      lambda a: distributed.shard(np.asarray(a), compiled.replicated), data)


def _saved_tree(compiled: _Compiled, chunk: _Chunk, states, data, schedule: Schedule) -> dict:
  """What a checkpoint holds, fresh: the states, divergence flags and metric history."""
  segments = len(schedule.segment_ends())
  history = {m: np.full((segments, chunk.padded), np.nan, np.float32)
             for m in compiled.metric_names(states, chunk.hps, data)}
  return {"state": states, "diverged": distributed.shard(np.zeros(chunk.padded, bool),
                                                         compiled.runs),
          "history": history}


@dataclasses.dataclass(frozen=True)
class Pass:
  """One training pass of a run: a program over its runs, and where its state lives.

  Attributes:
    program: the family's functions for one run.
    keys: (runs,) PRNG keys, one per run.
    hps: per-run hyperparameters, a pytree of arrays with a leading run axis.
    schedule: steps, segment length, checkpoint interval, chunk size.
    run_dir: the run directory; the pass's training state is state/<program.name> in it,
      one folder per chunk.
    data: arrays every run reads, the same for all (replicated on every device).
    meta: JSON-ready description of what is trained; a checkpoint with other meta is
      refused rather than resumed.
  """

  program: Program
  keys: jax.Array
  hps: Any
  schedule: Schedule
  run_dir: Path
  data: Any = None
  meta: dict | None = None

  @property
  def state_dir(self) -> Path:
    return Path(self.run_dir) / STATE_DIR / self.program.name

  def train(self, progress: Progress | None = None) -> Trained:
    """Trains every run (resuming where the pass holds checkpoints); progress counts
    model-steps (one step of one run). Returns finish's measurements, the metric history
    and divergence flags, runs first."""
    t0 = time.perf_counter()
    compiled = _Compiled(self.program)
    data = _replicated(self.data, compiled)
    parts = [_train_chunk(compiled, chunk, data, self.schedule, progress)
             for chunk in _chunks(compiled, self)]
    join = lambda name: {k: np.concatenate([p[name][k] for p in parts]) for k in parts[0][name]}
    return Trained(outputs=join("outputs"), history=join("history"),
                   diverged=np.concatenate([p["diverged"] for p in parts]),
                   segment_ends=self.schedule.segment_ends(),
                   compile_seconds=round(compiled.compile_seconds, 3),
                   seconds=round(time.perf_counter() - t0, 3))

  def final_states(self):
    """The saved final states of the finished pass, read back from its checkpoints (runs
    first, as numpy arrays): how a second pass reads the first without keeping it in
    memory."""
    compiled = _Compiled(self.program)
    data = _replicated(self.data, compiled)
    parts = []
    for chunk in _chunks(compiled, self):
      target = _saved_tree(compiled, chunk,
                           compiled.abstract_states(chunk.keys, chunk.hps, data), data,
                           self.schedule)
      checkpoints = Checkpoints(chunk.directory)
      try:
        restored = checkpoints.restore_latest(abstract_of(target), chunk.meta)
      finally:
        checkpoints.close()
      if restored is None or restored[0] != self.schedule.steps:
        raise CheckpointError(f"{chunk.directory} holds no finished {self.program.name} pass; "
                              "rerun the same command to finish it")
      parts.append(jax.tree.map(lambda a, n=chunk.runs: distributed.gather(a)[:n],
                                restored[1]["state"]))
    return jax.tree.map(lambda *a: np.concatenate(a), *parts)


def _train_chunk(compiled: _Compiled, chunk: _Chunk, data, schedule: Schedule,
                 progress: Progress | None) -> dict:
  name, runs, hps = compiled.program.name, chunk.runs, chunk.hps
  tree = _saved_tree(compiled, chunk, compiled.init(chunk.keys, hps, data), data, schedule)
  checkpoints = Checkpoints(chunk.directory)
  step = 0
  try:
    restored = checkpoints.restore_latest(abstract_of(tree), chunk.meta)
    if restored is not None:
      step, tree = restored
      tree["history"] = {m: np.asarray(v) for m, v in tree["history"].items()}
      if progress is not None:
        progress.skip(step * runs)
      if step < schedule.steps:
        say(f"resumed from step {step} of {schedule.steps} ({name}, runs "
            f"{chunk.start}..{chunk.stop - 1})")
    states, diverged, history = tree["state"], tree["diverged"], tree["history"]
    saved = step
    flagged = int(np.sum(distributed.gather(diverged)[:runs]))
    while step < schedule.steps:
      length = min(schedule.log_every, schedule.steps - step)
      states, diverged, means = compiled.segment(states, diverged, hps, data, step, length)
      for metric, value in means.items():
        history[metric][step // schedule.log_every] = distributed.gather(value)
      step += length
      now = int(np.sum(distributed.gather(diverged)[:runs]))
      if now > flagged:
        say(f"warning: {now - flagged} run(s) of {name} hit a non-finite loss by step {step};"
            " they are frozen at their last finite state and flagged `diverged`")
        flagged = now
      if progress is not None:
        progress.update(length * runs, note=f"{name} step {step}/{schedule.steps}")
      if step - saved >= schedule.checkpoint_every or step == schedule.steps:
        checkpoints.save(step, {"state": states, "diverged": diverged, "history": history},
                         chunk.meta)
        saved = step
  finally:
    checkpoints.close()
  outputs = {}
  if compiled.program.finish is not None:
    outputs = {k: distributed.gather(v)[:runs]
               for k, v in compiled.finish(states, hps, data).items()}
  return {"outputs": outputs, "history": {m: v.T[:runs] for m, v in history.items()},
          "diverged": distributed.gather(diverged)[:runs]}
