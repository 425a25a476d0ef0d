"""The segment loop: any family's runs trained as one vmapped, sharded, checkpointed program.

A family (or a user's own model file) describes the training of ONE run with pure
functions, a `Program`:

  init(key, hp, data) -> state                      a fresh run; key: the run's key
  step(state, hp, key, t, data) -> state, metrics   step t; key: the run's key of step t
  finish(state, hp, key, data) -> measurements      what the results keep of a trained run

`hp` is the run's hyperparameters (a pytree of scalars: traced, so a grid compiles once
per shape); the loop hands every function its key (`core.keys`: the run's key, and
`step_key(run_key, t)` for step t), so a family only names sub-streams with
`keys.named`; `data` holds arrays every run reads (training activations, an image set),
replicated on every device, never copied per run; `metrics` are per-run scalars, any
names. A `Pass` is one program over a run directory's runs, its training state under
state/<name>; `Pass.train` does the rest:

- splits the runs into chunks that fit in memory (core.chunks), pads each to the device
  count, shards its runs over every device of every process on one mesh axis;
- vmaps the functions over the chunk's runs and trains in `lax.scan` segments of
  `log_every` steps, the state donated from segment to segment, each metric's mean per
  segment kept on the device until the next checkpoint;
- flags a run whose metrics turn non-finite and freezes it at its last finite state (a
  state that turns non-finite while every metric stays finite is caught at the end of
  its segment), so a diverging run never spoils the others;
- saves the chunk with orbax every `checkpoint_every` steps, at the end, and when a
  SIGTERM or SIGINT arrives (core.preemption); resumes from the newest readable
  checkpoint, restoring into shapes alone (no `init` is run);
- reports progress in model-steps with an ETA.

A run's random draws depend on its key and step alone, so results depend neither on the
chunking, the device count, nor the step a run resumed from.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from jax.sharding import NamedSharding, PartitionSpec

from superjax.core import chunks, distributed, preemption
from superjax.core import keys as keys_lib
from superjax.core.checkpoint import CheckpointError, Checkpoints, abstract_of, read_newest
from superjax.core.errors import SuperjaxError
from superjax.core.progress import Progress, say
from superjax.core.rundir import STATE_DIR

RUNS_AXIS = "runs"


@dataclasses.dataclass(frozen=True)
class Program:
  """A family's training of ONE run (see the module docstring).

  Attributes:
    name: names the pass in messages and its folder of training state (state/<name>).
    init: (key, hp, data) -> state.
    step: (state, hp, key, t, data) -> (state, metrics): per-run scalar metrics.
    finish: (state, hp, key, data) -> dict of per-run arrays; None keeps nothing.
    step_runs: optional fast path (states, hps, keys, t, data) -> (states, metrics) for
      all runs of a chunk at once (leading run axis; keys are the runs' step keys); it
      must equal `step` vmapped.
    finish_runs: optional fast path (states, hps, keys, data) -> measurements of all runs
      of a chunk at once (keys are the runs' keys); it must equal `finish` vmapped.
    threaded: the step is dominated by large products (convolutions, wide matmuls) that
      XLA already spreads over every core of one CPU device; on a CPU host the runs are
      then sharded over one device per process instead of one per core (which would make
      the two devices' thread pools compete: 1.75x slower on the digits zoo, 2 cores).
  """

  name: str
  init: Callable[..., Any]
  step: Callable[..., tuple[Any, dict[str, jax.Array]]]
  finish: Callable[..., dict[str, jax.Array]] | None = None
  step_runs: Callable[..., tuple[Any, dict[str, jax.Array]]] | None = None
  finish_runs: Callable[..., dict[str, jax.Array]] | None = None
  threaded: bool = False


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
  # Of `seconds`: the training segments (dispatch to the last one's end, compilation
  # excluded) and the checkpoint saves; the rest is init, restore and finish.
  segment_seconds: float = 0.0
  checkpoint_seconds: float = 0.0

  def timings(self) -> dict:
    return {"compile_seconds": self.compile_seconds, "train_seconds": self.seconds,
            "segment_seconds": self.segment_seconds,
            "checkpoint_seconds": self.checkpoint_seconds}


def _finite_metrics(metrics: dict[str, jax.Array], runs: int) -> jax.Array:
  """(runs,) whether every metric of each run is finite."""
  ok = jnp.ones((runs,), bool)
  for value in metrics.values():
    ok = ok & jnp.all(jnp.isfinite(value.reshape(value.shape[0], -1)), axis=1)
  return ok


def _finite_state(state) -> jax.Array:
  """(runs,) whether every floating leaf of each run's state is finite.

  One reduction over the leaves side by side: a reduction per leaf made XLA take 2.4x as
  long to compile the digits zoo's segment (17.6 -> 41.9 s), and inside the step it would
  copy the state every step, so the loop calls this once per segment."""
  leaves = [leaf.reshape(leaf.shape[0], -1) for leaf in jax.tree.leaves(state)
            if jnp.issubdtype(leaf.dtype, jnp.inexact)]
  if not leaves:
    return jnp.ones(jax.tree.leaves(state)[0].shape[:1], bool)
  return jnp.all(jnp.isfinite(jnp.concatenate(leaves, axis=1)), axis=1)


def _where_runs(keep: jax.Array, new, old):
  """Per run, `new` where keep else `old`."""
  def pick(a, b):
    return jnp.where(keep.reshape(keep.shape + (1,) * (a.ndim - 1)), a, b)
  return jax.tree.map(pick, new, old)


def _shapes(*trees) -> tuple:
  return tuple((a.shape, str(a.dtype)) for a in jax.tree.leaves(trees))


class _Programs:
  """A program's jitted functions on the current mesh, compiled once per shape."""

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

  def local_devices(self) -> list:
    return [d for d in self.devices if d.process_index == jax.process_index()]

  def _executable(self, name: str, fn: Callable, args: tuple, in_shardings, out_shardings,
                  donate: tuple = ()):
    """`fn` compiled for the shapes of `args` (arrays or ShapeDtypeStructs), cached."""
    key = (name, _shapes(args))
    if key not in self._cache:
      t0 = time.perf_counter()
      self._cache[key] = jax.jit(fn, in_shardings=in_shardings, out_shardings=out_shardings,
                                 donate_argnums=donate).lower(*args).compile()
      self.compile_seconds += time.perf_counter() - t0
    return self._cache[key]

  # ONE run's functions, vmapped over a chunk's runs (keys are raw key data).

  def _init_runs(self, keys, hps, data):
    one = lambda key, hp: self.program.init(jax.random.wrap_key_data(key), hp, data)
    return jax.vmap(one)(keys, hps)

  def _step_runs(self, states, hps, keys, t, data):
    step_keys = jax.vmap(lambda k: keys_lib.step_key(jax.random.wrap_key_data(k), t))(keys)
    if self.program.step_runs is not None:
      return self.program.step_runs(states, hps, step_keys, t, data)
    return jax.vmap(self.program.step, in_axes=(0, 0, 0, None, None))(
        states, hps, step_keys, t, data)

  def _segment(self, length: int):
    def run(states, diverged, hps, keys, data, start):
      def body(carry, t):
        states, diverged = carry
        new, metrics = self._step_runs(states, hps, keys, t, data)
        ok = _finite_metrics(metrics, diverged.shape[0])
        states = _where_runs(ok & ~diverged, new, states)
        return (states, diverged | ~ok), metrics

      (states, diverged), metrics = jax.lax.scan(body, (states, diverged),
                                                 start + jnp.arange(length))
      # A state gone non-finite while every metric stayed finite is caught here, once per
      # segment: the run is flagged and frozen from the segment's end.
      diverged = diverged | ~_finite_state(states)
      return states, diverged, jax.tree.map(lambda m: jnp.mean(m, axis=0), metrics)
    return run

  def _finish_runs(self, states, hps, keys, data):
    if self.program.finish_runs is not None:
      return self.program.finish_runs(states, hps, jax.random.wrap_key_data(keys), data)
    one = lambda s, h, k: self.program.finish(s, h, jax.random.wrap_key_data(k), data)
    return jax.vmap(one)(states, hps, keys)

  # Compiled entry points.

  def init(self, keys, hps, data):
    args = (keys, hps, data)
    return self._executable("init", self._init_runs, args,
                            (self.runs, self.runs, self.replicated), self.runs)(*args)

  def abstract_states(self, keys, hps, data):
    """Shapes, dtypes and shardings of the states `init` makes, computing nothing."""
    key = ("abstract_states", _shapes(keys, hps, data))
    if key not in self._cache:  # tracing a large init (a ResNet's) takes seconds
      shapes = jax.eval_shape(self._init_runs, keys, hps, data)
      self._cache[key] = jax.tree.map(
          lambda a: jax.ShapeDtypeStruct(a.shape, a.dtype, sharding=self.runs), shapes)
    return self._cache[key]

  def segment_executable(self, states, diverged, hps, keys, data, length: int):
    args = (states, diverged, hps, keys, data, jax.ShapeDtypeStruct((), jnp.int32))
    return self._executable(f"segment{length}", self._segment(length), args,
                            (self.runs, self.runs, self.runs, self.runs, self.replicated, None),
                            self.runs, donate=(0, 1))

  def segment(self, states, diverged, hps, keys, data, start: int, length: int):
    """`length` guarded steps from `start`: (states, diverged, per-run metric means). The
    states and flags passed in are donated: use only the ones returned."""
    run = self.segment_executable(states, diverged, hps, keys, data, length)
    return run(states, diverged, hps, keys, data, jnp.int32(start))

  def finish_executable(self, states, hps, keys, data):
    args = (states, hps, keys, data)
    return self._executable("finish", self._finish_runs, args,
                            (self.runs, self.runs, self.runs, self.replicated), self.runs)

  def finish(self, states, hps, keys, data):
    return self.finish_executable(states, hps, keys, data)(states, hps, keys, data)

  def metric_names(self, states, hps, keys, data) -> list[str]:
    """The step's metric names, checked to be one scalar per run."""
    key = ("metric_names", _shapes(states, hps, keys, data))
    if key not in self._cache:
      _, metrics = jax.eval_shape(self._step_runs, states, hps, keys, jnp.int32(0), data)
      runs = keys.shape[0]
      for name, value in metrics.items():
        if value.shape != (runs,):
          raise SuperjaxError(f"{self.program.name}: metric {name!r} has shape "
                              f"{value.shape[1:]} per run; step must return scalar metrics")
      self._cache[key] = sorted(metrics)
    return self._cache[key]

  def bytes_per_device(self, keys, hps, data, schedule: Schedule) -> int:
    """One device's memory for a segment and for finish over `keys`' runs, as XLA's
    analysis of the compiled programs counts it."""
    states = self.abstract_states(keys, hps, data)
    diverged = jax.ShapeDtypeStruct(keys.shape[:1], bool, sharding=self.runs)
    compiled = [self.segment_executable(states, diverged, hps, keys, data,
                                        min(schedule.log_every, schedule.steps))]
    if self.program.finish is not None:
      compiled.append(self.finish_executable(states, hps, keys, data))
    need = 0
    for executable in compiled:
      m = executable.memory_analysis()
      need = max(need, m.argument_size_in_bytes + m.output_size_in_bytes
                 + m.temp_size_in_bytes - m.alias_size_in_bytes)
    return need


def _data_bytes(data) -> int:
  return sum(int(a.nbytes) for a in jax.tree.leaves(data))


@dataclasses.dataclass(frozen=True)
class Pass:
  """One training pass of a run directory: a program over its runs, and where its state
  lives.

  Attributes:
    program: the family's functions for one run.
    keys: (runs,) PRNG keys, one per run (core.keys.run_keys).
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

  @property
  def runs(self) -> int:
    return int(np.shape(self.keys)[0])

  def chunk_size(self, programs: _Programs, data) -> int:
    """Runs per chunk: the schedule's, else those of chunks already on disk (a resumed
    pass must find its checkpoints), else as many as fit in memory (core.chunks)."""
    if self.schedule.chunk_size:
      return min(self.schedule.chunk_size, self.runs)
    started = chunks.started_size(self.state_dir)
    if started:
      return started
    return chunks.fitting_size(self.runs, programs.local_devices(), programs.size,
                               self.bytes_per_device(programs, data), _data_bytes(data))

  def bytes_per_device(self, programs: _Programs | None = None, data=None) -> int:
    """One device's memory for the whole grid as one chunk, the shared data included, as
    XLA's analysis of the compiled segment and finish counts it (compiles, allocates
    nothing)."""
    if programs is None:
      programs = _Programs(self.program)
      data = _replicated(self.data, programs)
    whole = next(self._chunks(programs, self.runs))
    return programs.bytes_per_device(whole.keys, whole.hps, data, self.schedule)

  def _chunks(self, programs: _Programs, size: int):
    meta = dict(self.meta or {}, program=self.program.name)
    return chunks.split(np.asarray(jax.random.key_data(self.keys)), self.hps, size,
                        programs.size, programs.runs, self.state_dir, meta)

  def train(self, progress: Progress | None = None) -> Trained:
    """Trains every run (resuming where the pass holds checkpoints); progress counts
    model-steps (one step of one run). Returns finish's measurements, the metric history
    and divergence flags, runs first."""
    t0 = time.perf_counter()
    programs = _Programs(self.program)
    data = _replicated(self.data, programs)
    size = self.chunk_size(programs, data)
    parts = [_ChunkTraining(programs, chunk, data, self.schedule, progress).run()
             for chunk in self._chunks(programs, size)]
    join = lambda name: {k: np.concatenate([p[name][k] for p in parts]) for k in parts[0][name]}
    return Trained(outputs=join("outputs"), history=join("history"),
                   diverged=np.concatenate([p["diverged"] for p in parts]),
                   segment_ends=self.schedule.segment_ends(),
                   compile_seconds=round(programs.compile_seconds, 3),
                   seconds=round(time.perf_counter() - t0, 3),
                   segment_seconds=round(sum(p["segment_seconds"] for p in parts), 3),
                   checkpoint_seconds=round(sum(p["checkpoint_seconds"] for p in parts), 3))

  def final_states(self):
    """The saved final states of the finished pass, read back from its checkpoints (runs
    first, as numpy arrays): how a second pass reads the first without keeping it in
    memory."""
    programs = _Programs(self.program)
    data = _replicated(self.data, programs)
    size = chunks.started_size(self.state_dir)
    if size is None:
      raise CheckpointError(f"{self.state_dir} holds no {self.program.name} pass; rerun the "
                            "same command to train it")
    parts = []
    for chunk in self._chunks(programs, size):
      checkpoints = Checkpoints(chunk.directory)
      try:
        restored = _ChunkTraining(programs, chunk, data, self.schedule, None).restore(
            checkpoints)
      finally:
        checkpoints.close()
      if restored is None or restored[0] != self.schedule.steps:
        raise CheckpointError(f"{chunk.directory} holds no finished {self.program.name} pass; "
                              "rerun the same command to finish it")
      parts.append(jax.tree.map(lambda a, n=chunk.runs: distributed.gather(a)[:n],
                                restored[1]["state"]))
    return jax.tree.map(lambda *a: np.concatenate(a), *parts)


def saved_states(state_dir: Path) -> tuple[dict, Any]:
  """A finished pass's final states read from its checkpoints alone (no program, no data,
  any mesh): its meta (as `Pass.meta`, plus the program's name) and the states of every
  run, runs first, as numpy arrays. What tools that export trained runs read."""
  state_dir = Path(state_dir)
  chunk_dirs = sorted(state_dir.glob("runs_*_*")) if state_dir.is_dir() else []
  if not chunk_dirs:
    raise CheckpointError(f"{state_dir} holds no trained pass")
  parts, meta = [], None
  for directory in chunk_dirs:
    newest = read_newest(directory)
    if newest is None:
      raise CheckpointError(f"{directory} holds no checkpoint; rerun the command that trained it")
    step, tree, chunk_meta = newest
    start, stop = chunk_meta["chunk"]
    chunk_meta = {k: v for k, v in chunk_meta.items() if k not in ("chunk", "padded_runs")}
    if meta is not None and chunk_meta != meta:
      raise CheckpointError(f"{directory} belongs to another pass than {chunk_dirs[0]}")
    meta = chunk_meta
    parts.append((step, jax.tree.map(lambda a, n=stop - start: a[:n], tree["state"])))
  if len({step for step, _ in parts}) > 1:
    raise CheckpointError(f"{state_dir}: its chunks stopped at different steps; rerun the "
                          "command that trained it to finish them")
  return meta, jax.tree.map(lambda *a: np.concatenate(a), *[tree for _, tree in parts])


def _replicated(data: Any, programs: _Programs) -> Any:
  """`data` on every device of the program's mesh (each process gives its full copy)."""
  return None if data is None else jax.tree.map(
      lambda a: distributed.shard(np.asarray(a), programs.replicated), data)


class _ChunkTraining:
  """One chunk of a pass trained from its newest checkpoint (or from `init`) to the end:
  `start` restores or initialises, `train` runs the segments, `save` checkpoints, `outputs`
  measures; `run` does all four."""

  def __init__(self, programs: _Programs, chunk: chunks.Chunk, data, schedule: Schedule,
               progress: Progress | None):
    self.programs, self.chunk, self.data = programs, chunk, data
    self.schedule, self.progress = schedule, progress
    self.name = programs.program.name
    self.segments = len(schedule.segment_ends())
    self.segment_seconds = self.checkpoint_seconds = 0.0

  def abstract(self) -> dict:
    """The shapes of what a checkpoint holds: states, divergence flags, metric history."""
    c = self.chunk
    states = self.programs.abstract_states(c.keys, c.hps, self.data)
    names = self.programs.metric_names(states, c.hps, c.keys, self.data)
    return {"state": states,
            "diverged": jax.ShapeDtypeStruct((c.padded,), bool, sharding=self.programs.runs),
            "history": {m: np.zeros((self.segments, c.padded), np.float32) for m in names}}

  def restore(self, checkpoints: Checkpoints):
    """(step, tree) of the newest readable checkpoint, or None."""
    return checkpoints.restore_latest(abstract_of(self.abstract()), self.chunk.meta)

  def start(self, checkpoints: Checkpoints) -> None:
    """The newest readable checkpoint, or a fresh start."""
    c = self.chunk
    restored = self.restore(checkpoints)
    if restored is None:
      self.step = 0
      self.states = self.programs.init(c.keys, c.hps, self.data)
      self.diverged = distributed.shard(np.zeros(c.padded, bool), self.programs.runs)
      self.history = {m: np.full(a.shape, np.nan, np.float32)
                      for m, a in self.abstract()["history"].items()}
      return
    self.step, tree = restored
    self.states, self.diverged = tree["state"], tree["diverged"]
    self.history = {m: np.asarray(v) for m, v in tree["history"].items()}
    if self.progress is not None:
      self.progress.skip(self.step * c.runs)
    if self.step < self.schedule.steps:
      say(f"resumed from step {self.step} of {self.schedule.steps} ({self.name}, runs "
          f"{c.start}..{c.stop - 1})")

  def _collect(self, pending: list) -> None:
    """Moves the metric means of finished segments from the device into the history, and
    warns of runs newly flagged as diverged."""
    flagged = int(np.sum(self.flagged))
    for index, means in pending:
      for metric, value in means.items():
        self.history[metric][index] = distributed.gather(value)
    pending.clear()
    self.flagged = distributed.gather(self.diverged)[:self.chunk.runs]
    now = int(np.sum(self.flagged))
    if now > flagged:
      say(f"warning: {now - flagged} run(s) of {self.name} hit a non-finite metric or state "
          f"by step {self.step}; they are frozen at their last finite state and flagged "
          "`diverged`")

  def save(self, checkpoints: Checkpoints, pending: list) -> None:
    self._collect(pending)  # waits for the segments: their time, not the save's
    t0 = time.perf_counter()
    checkpoints.save(self.step, {"state": self.states, "diverged": self.diverged,
                                 "history": self.history}, self.chunk.meta)
    self.saved = self.step
    self.checkpoint_seconds += time.perf_counter() - t0

  def train(self, checkpoints: Checkpoints) -> None:
    """The segments from the current step to the end. Segments are queued one ahead:
    while segment k runs, the host waits only for segment k-1's metric means (to count
    progress); metrics reach the host at checkpoints."""
    c, schedule = self.chunk, self.schedule
    self.saved = self.step
    t0, compiled = time.perf_counter(), self.programs.compile_seconds
    self.flagged = distributed.gather(self.diverged)[:c.runs]  # runs already warned of
    pending, previous = [], None
    while self.step < schedule.steps:
      length = min(schedule.log_every, schedule.steps - self.step)
      self.states, self.diverged, means = self.programs.segment(
          self.states, self.diverged, c.hps, c.keys, self.data, self.step, length)
      pending.append((self.step // schedule.log_every, means))
      self.step += length
      if previous is not None:
        self._count(*previous)
      previous = (means, length)
      due = self.step - self.saved >= schedule.checkpoint_every or self.step == schedule.steps
      # A chunk that just finished ends normally: the stop comes at the next segment, so
      # a signal during the last segment still lets the results be written.
      stop = self.step < schedule.steps and distributed.any_process(
          preemption.requested() is not None)
      if due or stop:
        self._count(*previous)
        previous = None
        self.save(checkpoints, pending)
      if stop:
        signal = preemption.requested() or 15
        raise preemption.Stopped(
            f"stopped by {preemption.name(signal)} at step {self.step} of {schedule.steps} "
            f"({self.name}, runs {c.start}..{c.stop - 1}); the state is saved: rerun the "
            "same command to resume", signal)
    if previous is not None:
      self._count(*previous)
    jax.block_until_ready(self.states)
    self.segment_seconds = (time.perf_counter() - t0 - self.checkpoint_seconds
                            - (self.programs.compile_seconds - compiled))

  def _count(self, means, length: int) -> None:
    jax.block_until_ready(means)
    if self.progress is not None:
      self.progress.update(length * self.chunk.runs,
                           note=f"{self.name} step {self.step}/{self.schedule.steps}")

  def outputs(self) -> dict:
    c = self.chunk
    outputs = {}
    if self.programs.program.finish is not None:
      outputs = {k: distributed.gather(v)[:c.runs]
                 for k, v in self.programs.finish(self.states, c.hps, c.keys, self.data).items()}
    return {"outputs": outputs, "history": {m: v.T[:c.runs] for m, v in self.history.items()},
            "diverged": distributed.gather(self.diverged)[:c.runs],
            "segment_seconds": self.segment_seconds,
            "checkpoint_seconds": self.checkpoint_seconds}

  def run(self) -> dict:
    checkpoints = Checkpoints(self.chunk.directory)
    try:
      self.start(checkpoints)
      self.train(checkpoints)
    finally:
      checkpoints.close()
    return self.outputs()
