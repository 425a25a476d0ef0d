"""The segment loop: any family's runs trained as one vmapped, sharded, checkpointed program.

A family (or a user's own model file) describes the training of ONE run with pure
functions, a `Program`:

  init(key, hp, data) -> state                      a fresh run
  step(state, hp, key, t, data) -> state, metrics   step t
  finish(state, hp, key, data) -> measurements      what the results keep of a trained run

`hp` is the run's hyperparameters (a pytree of scalars: traced, so a grid compiles once
per shape); the loop hands every function its own key (`core.keys`: `init_key(run_key)`,
`step_key(run_key, t)` and `finish_key(run_key)`, disjoint streams of the run's key), so a
family only names sub-streams with `keys.named`; `data` holds arrays every run reads (training activations, an image set),
replicated on every device, never copied per run; `metrics` are per-run scalars, any
names. A `Pass` is one program over a run directory's runs, its training state under
state/<name>; `Pass.train` does the rest:

- splits the runs into chunks that fit in memory (core.chunks), pads each to the device
  count, shards its runs over every device of every process on one mesh axis;
- vmaps the functions over the chunk's runs and trains segments of `log_every` steps
  (each metric's mean per segment is the history), the state donated from dispatch to
  dispatch; a segment is dispatched in pieces of at most about `PIECE_SECONDS` (from the
  measured step time), so a signal is honoured within seconds whatever the segment's
  length, and the pieces change no bit of the result;
- flags a run whose metrics turn non-finite and freezes it at its last finite state (a
  state that turns non-finite while every metric stays finite is caught at the end of
  its segment), so a diverging run never spoils the others;
- saves the chunk with orbax every `checkpoint_every` steps, at the end, and at the step
  a SIGTERM or SIGINT arrives (core.preemption), mid-segment if need be; resumes from the
  newest readable checkpoint, restoring into shapes alone (no `init` is run);
- knows the code it trains: a pass's fingerprint (`Pass.fingerprint`, a digest of the
  lowered programs and the shared data) is kept with every checkpoint, and a checkpoint
  made by other code is refused in one line, never resumed;
- reports progress in model-steps with an ETA.

A run's random draws depend on its key and step alone, so one grid's results are
bit-identical whatever its chunking, device count, dispatch pieces or the step it resumed
from; the same run trained in another grid agrees to float rounding (batched products
round differently).

`Pass.compiled()` is the public face of the compiled programs for benchmarks and tools:
one chunk's init, segment pieces and finish, timed without checkpoints.
"""

from __future__ import annotations

import dataclasses
import hashlib
import re
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
from superjax.core.rundir import FINGERPRINT_FILE, STATE_DIR

RUNS_AXIS = "runs"
# Wall-clock target of one dispatch of the training loop: the host regains control (to
# honour a signal, count progress) at least this often, once the step time is measured.
PIECE_SECONDS = 2.0


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
  fingerprint: str = ""  # Pass.fingerprint: the code that trained it

  def timings(self) -> dict:
    return {"compile_seconds": self.compile_seconds, "train_seconds": self.seconds,
            "segment_seconds": self.segment_seconds,
            "checkpoint_seconds": self.checkpoint_seconds}


def finite_runs(metrics: dict[str, jax.Array], runs: int) -> jax.Array:
  """(runs,) whether every metric of each run is finite: the loop's guard of a step."""
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


def where_runs(keep: jax.Array, new, old):
  """Per run, `new` where keep else `old`: how the loop freezes a run that diverged."""
  def pick(a, b):
    return jnp.where(keep.reshape(keep.shape + (1,) * (a.ndim - 1)), a, b)
  return jax.tree.map(pick, new, old)


def _shapes(*trees) -> tuple:
  return tuple((a.shape, str(a.dtype)) for a in jax.tree.leaves(trees))


class _Vmapped:
  """A program's functions for ONE run, vmapped over a chunk's runs: pure, on no mesh
  (what `_Programs` compiles and `Pass.fingerprint` lowers)."""

  def __init__(self, program: Program):
    self.program = program

  # ONE run's functions, vmapped over a chunk's runs (keys are the runs' raw key data).

  def _init_runs(self, keys, hps, data):
    one = lambda key, hp: self.program.init(
        keys_lib.init_key(jax.random.wrap_key_data(key)), hp, data)
    return jax.vmap(one)(keys, hps)

  def _step_runs(self, states, hps, keys, t, data):
    step_keys = jax.vmap(lambda k: keys_lib.step_key(jax.random.wrap_key_data(k), t))(keys)
    if self.program.step_runs is not None:
      return self.program.step_runs(states, hps, step_keys, t, data)
    return jax.vmap(self.program.step, in_axes=(0, 0, 0, None, None))(
        states, hps, step_keys, t, data)

  def _segment(self, states, diverged, sums, hps, keys, data, start, count, ends_segment):
    """Steps start..start+count-1, each guarded: a run whose metrics turn non-finite keeps
    its last finite state. `sums` accumulate each metric per run, step by step in order,
    so a segment split into any pieces sums to the same bits."""
    def body(i, carry):
      states, diverged, sums = carry
      new, metrics = self._step_runs(states, hps, keys, start + i, data)
      ok = finite_runs(metrics, diverged.shape[0])
      states = where_runs(ok & ~diverged, new, states)
      sums = {m: sums[m] + metrics[m].astype(jnp.float32) for m in sums}
      return states, diverged | ~ok, sums

    states, diverged, sums = jax.lax.fori_loop(0, count, body, (states, diverged, sums))
    # A state gone non-finite while every metric stayed finite is caught here, once per
    # segment (at its last piece): the run is flagged and frozen from the segment's end.
    diverged = diverged | (ends_segment & ~_finite_state(states))
    return states, diverged, sums, start + count  # the last: what the host waits for

  def _finish_runs(self, states, hps, keys, data):
    finish_keys = jax.vmap(lambda k: keys_lib.finish_key(jax.random.wrap_key_data(k)))(keys)
    if self.program.finish_runs is not None:
      return self.program.finish_runs(states, hps, finish_keys, data)
    return jax.vmap(self.program.finish, in_axes=(0, 0, 0, None))(
        states, hps, finish_keys, data)


class _Programs(_Vmapped):
  """A program's jitted functions on the current mesh, compiled once per shape."""

  def __init__(self, program: Program):
    super().__init__(program)
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

  def segment_executable(self, states, diverged, sums, hps, keys, data):
    scalar = lambda dtype: jax.ShapeDtypeStruct((), dtype)
    args = (states, diverged, sums, hps, keys, data, scalar(jnp.int32), scalar(jnp.int32),
            scalar(bool))
    return self._executable("segment", self._segment, args,
                            (self.runs,) * 5 + (self.replicated, None, None, None),
                            (self.runs, self.runs, self.runs, self.replicated),
                            donate=(0, 1, 2))

  def segment(self, states, diverged, sums, hps, keys, data, start: int, count: int,
              ends_segment: bool = True):
    """`count` guarded steps from `start`: (states, diverged, sums, reached), the metric
    sums carried on and the step reached (a scalar to wait on). The states, flags and sums
    passed in are donated: use only those returned."""
    run = self.segment_executable(states, diverged, sums, hps, keys, data)
    return run(states, diverged, sums, hps, keys, data, jnp.int32(start), jnp.int32(count),
               jnp.bool_(ends_segment))

  def zero_sums(self, names: list[str], padded: int) -> dict:
    return {m: distributed.shard(np.zeros(padded, np.float32), self.runs) for m in names}

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

  def bytes_per_device(self, keys, hps, data) -> int:
    """One device's memory for a segment and for finish over `keys`' runs, as XLA's
    analysis of the compiled programs counts it."""
    states = self.abstract_states(keys, hps, data)
    runs = keys.shape[:1]
    diverged = jax.ShapeDtypeStruct(runs, bool, sharding=self.runs)
    sums = {m: jax.ShapeDtypeStruct(runs, jnp.float32, sharding=self.runs)
            for m in self.metric_names(states, hps, keys, data)}
    compiled = [self.segment_executable(states, diverged, sums, hps, keys, data)]
    if self.program.finish is not None:
      compiled.append(self.finish_executable(states, hps, keys, data))
    need = 0
    for executable in compiled:
      m = executable.memory_analysis()
      need = max(need, m.argument_size_in_bytes + m.output_size_in_bytes
                 + m.temp_size_in_bytes - m.alias_size_in_bytes)
    return need


def data_bytes(data) -> int:
  """The bytes of the arrays every run reads (device arrays are not copied to the host)."""
  return sum(int(a.nbytes if hasattr(a, "nbytes") else np.asarray(a).nbytes)
             for a in jax.tree.leaves(data))


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
                               self.bytes_per_device(programs, data), data_bytes(data))

  def bytes_per_device(self, programs: _Programs | None = None, data=None) -> int:
    """One device's memory for the whole grid as one chunk, the shared data included, as
    XLA's analysis of the compiled segment and finish counts it (compiles, allocates
    nothing)."""
    if programs is None:
      programs = _Programs(self.program)
      data = _replicated(self.data, programs)
    whole = next(self._chunks(programs, self.runs, ""))
    return programs.bytes_per_device(whole.keys, whole.hps, data)

  def _chunks(self, programs: _Programs, size: int, fingerprint: str):
    meta = dict(self.meta or {}, program=self.program.name, fingerprint=fingerprint)
    return chunks.split(np.asarray(jax.random.key_data(self.keys)), self.hps, size,
                        programs.size, programs.runs, self.state_dir, meta)

  def fingerprint(self) -> str:
    """What the pass computes, as a digest: the StableHLO of ONE run's init, step and
    finish (and of the chunk fast paths, at two runs) lowered at this pass's shapes, and
    the shared data's bytes. Lowered without locations, so moving a model file keeps it;
    editing what a function computes (or a JAX that lowers it differently) changes it.
    Traces, compiles nothing."""
    return _fingerprint(self.program, self.keys, self.hps, self.data)

  def compiled(self) -> Compiled:
    """The pass's programs compiled on the current mesh (see `Compiled`)."""
    return Compiled(self)

  def train(self, progress: Progress | None = None) -> Trained:
    """Trains every run (resuming where the pass holds checkpoints); progress counts
    model-steps (one step of one run). Returns finish's measurements, the metric history
    and divergence flags, runs first."""
    t0 = time.perf_counter()
    check_program(self)
    fingerprint = self.fingerprint()
    programs = _Programs(self.program)
    data = _replicated(self.data, programs)
    size = self.chunk_size(programs, data)
    parts = [_ChunkTraining(programs, chunk, data, self.schedule, progress).run()
             for chunk in self._chunks(programs, size, fingerprint)]
    if distributed.is_primary():  # what the run directory's manifest records
      (self.state_dir / FINGERPRINT_FILE).write_text(fingerprint + "\n")
    join = lambda name: {k: np.concatenate([p[name][k] for p in parts]) for k in parts[0][name]}
    return Trained(outputs=join("outputs"), history=join("history"),
                   diverged=np.concatenate([p["diverged"] for p in parts]),
                   segment_ends=self.schedule.segment_ends(),
                   compile_seconds=round(programs.compile_seconds, 3),
                   seconds=round(time.perf_counter() - t0, 3),
                   segment_seconds=round(sum(p["segment_seconds"] for p in parts), 3),
                   checkpoint_seconds=round(sum(p["checkpoint_seconds"] for p in parts), 3),
                   fingerprint=fingerprint)

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
    for chunk in self._chunks(programs, size, self.fingerprint()):
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


def _describe(tree) -> str:
  """A pytree's structure in a few words, for error messages."""
  if isinstance(tree, tuple):
    return f"a tuple of {len(tree)}"
  if isinstance(tree, dict):
    return f"a dict with keys {sorted(map(str, tree))}"[:120]
  return type(tree).__name__


def _paths(tree) -> dict[str, Any]:
  flat = jax.tree_util.tree_flatten_with_path(tree)[0]
  return {jax.tree_util.keystr(path): leaf for path, leaf in flat}


def check_program(pass_: Pass) -> tuple[Any, dict, dict]:
  """ONE run's init, step and finish traced (nothing is computed) and checked for what the
  loop needs: step returns (state, metrics) with the state init made (same structure,
  shapes and dtypes) and scalar metrics, finish a dict. Any problem, or an error raised
  while tracing, is one line naming the function. Returns the shapes of (state, metrics,
  finish's outputs)."""
  program, name = pass_.program, pass_.program.name
  run_key = jax.random.wrap_key_data(np.asarray(jax.random.key_data(pass_.keys))[0])
  hp = jax.tree.map(lambda a: np.asarray(a)[0], pass_.hps)

  def traced(what: str, fn, *args):
    try:
      return jax.eval_shape(fn, *args)
    except SuperjaxError:
      raise
    except Exception as e:  # the user's code: its error, in one line naming the function
      first = (str(e).strip().splitlines() or [""])[0][:200]
      raise SuperjaxError(f"{name}: {what} raised {type(e).__name__}: {first}") from None

  def fail(message: str):
    raise SuperjaxError(f"{name}: {message}")

  state = traced("init", program.init, keys_lib.init_key(run_key), hp, pass_.data)
  out = traced("step", program.step, state, hp, keys_lib.step_key(run_key, 0),
               jnp.int32(0), pass_.data)
  if not (isinstance(out, tuple) and len(out) == 2):
    fail(f"step must return (state, metrics); it returned {_describe(out)}")
  new, metrics = out
  if not isinstance(metrics, dict):
    fail(f"step must return (state, metrics) with metrics a dict of scalars; its second "
         f"output is {_describe(metrics)}")
  before, after = _paths(state), _paths(new)
  if before.keys() != after.keys():
    missing, extra = sorted(before.keys() - after.keys()), sorted(after.keys() - before.keys())
    fail("step must return the state init makes; "
         + "; ".join(filter(None, [missing and f"missing {', '.join(missing)[:100]}",
                                    extra and f"unexpected {', '.join(extra)[:100]}"]))
         + (" (is the (state, metrics) tuple swapped?)" if not before.keys() & after.keys()
            else ""))
  for path, a in before.items():
    b = after[path]
    if (a.shape, a.dtype) != (b.shape, b.dtype):
      fail(f"step changes the state's {path or 'value'} from {a.dtype}{list(a.shape)} to "
           f"{b.dtype}{list(b.shape)}; a step must keep every state array's shape and dtype")
  for metric, value in metrics.items():
    if getattr(value, "shape", None) != ():
      fail(f"metric {metric!r} has shape {getattr(value, 'shape', None)}; step must return "
           "scalar metrics")
  outputs = {}
  if program.finish is not None:
    outputs = traced("finish", program.finish, state, hp, keys_lib.finish_key(run_key),
                     pass_.data)
    if not isinstance(outputs, dict):
      fail(f"finish must return a dict of arrays; it returned {_describe(outputs)}")
  return state, metrics, outputs


_CALLBACK_INDEX = re.compile(r"index = \d+ : ui64")


def _fingerprint(program: Program, keys, hps, data) -> str:
  """See `Pass.fingerprint`."""
  programs = _Vmapped(program)
  take = lambda tree: jax.tree.map(
      lambda a: jax.ShapeDtypeStruct((2,) + np.shape(a)[1:], np.asarray(a).dtype), tree)
  key_data = np.asarray(jax.random.key_data(keys))
  keys2, hps2 = take(key_data), take(hps)
  shared = None if data is None else jax.tree.map(
      lambda a: jax.ShapeDtypeStruct(np.shape(a), np.asarray(a).dtype), data)
  digest = hashlib.sha256()

  def lowered(fn, *args):
    text = jax.jit(fn).lower(*args).as_text(debug_info=False)
    # A host callback is lowered with its index in this process's registry of callbacks,
    # which depends on what was lowered before, not on what the program computes.
    text = _CALLBACK_INDEX.sub("index", text)
    digest.update(hashlib.sha256(text.encode()).digest())
    return jax.eval_shape(fn, *args)

  states = lowered(programs._init_runs, keys2, hps2, shared)
  _, metrics = jax.eval_shape(programs._step_runs, states, hps2, keys2, jnp.int32(0), shared)
  sums = {m: jax.ShapeDtypeStruct((2,), jnp.float32) for m in metrics}
  scalar = lambda dtype: jax.ShapeDtypeStruct((), dtype)
  lowered(programs._segment, states, jax.ShapeDtypeStruct((2,), bool), sums, hps2, keys2,
          shared, scalar(jnp.int32), scalar(jnp.int32), scalar(bool))
  if program.finish is not None:
    lowered(programs._finish_runs, states, hps2, keys2, shared)
  for leaf in jax.tree.leaves(data):
    leaf = np.ascontiguousarray(np.asarray(leaf))
    digest.update(f"{leaf.shape}{leaf.dtype}".encode())
    digest.update(leaf.data)
  return digest.hexdigest()


class Compiled:
  """A pass's programs compiled on the current mesh, one chunk at a time and without
  checkpoints: what benchmarks time and tools inspect.

    compiled = pass_.compiled()
    chunk = compiled.chunks()[0]             # chunks of compiled.chunk_size() runs
    carry = compiled.init(chunk)             # (states, diverged, metric sums)
    carry = compiled.segment(chunk, carry, start=0, count=100)  # donates `carry`
    outputs = compiled.finish(chunk, carry)  # finish's measurements, runs first
  """

  def __init__(self, pass_: Pass):
    self.pass_ = pass_
    self._programs = _Programs(pass_.program)
    self.data = _replicated(pass_.data, self._programs)

  @property
  def device_count(self) -> int:
    """Devices the runs are sharded over."""
    return self._programs.size

  @property
  def compile_seconds(self) -> float:
    """Seconds spent compiling so far."""
    return self._programs.compile_seconds

  def local_devices(self) -> list:
    return self._programs.local_devices()

  def chunk_size(self) -> int:
    """Runs per chunk, as `Pass.train` chooses it (may compile the whole grid once)."""
    return self.pass_.chunk_size(self._programs, self.data)

  def chunks(self, size: int | None = None) -> list[chunks.Chunk]:
    """The pass's chunks of `size` runs (default `chunk_size()`), padded and sharded."""
    size = size or self.chunk_size()
    return list(self.pass_._chunks(self._programs, size, ""))

  def bytes_per_device(self, chunk: chunks.Chunk | None = None) -> int:
    """One device's memory for `chunk`'s segment and finish (default: the whole grid as
    one chunk), from XLA's analysis of the compiled programs."""
    chunk = chunk or self.chunks(self.pass_.runs)[0]
    return self._programs.bytes_per_device(chunk.keys, chunk.hps, self.data)

  def metric_names(self, chunk: chunks.Chunk) -> list[str]:
    states = self._programs.abstract_states(chunk.keys, chunk.hps, self.data)
    return self._programs.metric_names(states, chunk.hps, chunk.keys, self.data)

  def init(self, chunk: chunks.Chunk) -> tuple:
    """Fresh (states, diverged, metric sums) of `chunk`'s runs."""
    states = self._programs.init(chunk.keys, chunk.hps, self.data)
    diverged = distributed.shard(np.zeros(chunk.padded, bool), self._programs.runs)
    return states, diverged, self._programs.zero_sums(self.metric_names(chunk), chunk.padded)

  def compile_segment(self, chunk: chunks.Chunk, carry: tuple) -> None:
    """Compiles the segment for `carry`'s shapes without running it."""
    self._programs.segment_executable(*carry, chunk.hps, chunk.keys, self.data)

  def segment(self, chunk: chunks.Chunk, carry: tuple, start: int, count: int) -> tuple:
    """`count` steps from `start` (dispatched, not waited for); `carry` is donated."""
    return self._programs.segment(*carry, chunk.hps, chunk.keys, self.data, start,
                                  count)[:3]

  def compile_finish(self, chunk: chunks.Chunk, carry: tuple) -> None:
    self._programs.finish_executable(carry[0], chunk.hps, chunk.keys, self.data)

  def finish(self, chunk: chunks.Chunk, carry: tuple) -> dict:
    return self._programs.finish(carry[0], chunk.hps, chunk.keys, self.data)


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
    """The shapes of what a checkpoint holds: states, divergence flags, metric history,
    and the metric sums of a segment stopped part-way."""
    c = self.chunk
    states = self.programs.abstract_states(c.keys, c.hps, self.data)
    names = self.programs.metric_names(states, c.hps, c.keys, self.data)
    runs = lambda dtype: jax.ShapeDtypeStruct((c.padded,), dtype, sharding=self.programs.runs)
    return {"state": states, "diverged": runs(bool),
            "sums": {m: runs(jnp.float32) for m in names},
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
      abstract = self.abstract()
      self.sums = self.programs.zero_sums(list(abstract["sums"]), c.padded)
      self.history = {m: np.full(a.shape, np.nan, np.float32)
                      for m, a in abstract["history"].items()}
      return
    self.step, tree = restored
    self.states, self.diverged, self.sums = tree["state"], tree["diverged"], tree["sums"]
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
    for index, sums, length in pending:
      for metric, value in sums.items():
        self.history[metric][index] = distributed.gather(value) / np.float32(length)
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
                                 "sums": self.sums, "history": self.history},
                     self.chunk.meta)
    self.saved = self.step
    self.checkpoint_seconds += time.perf_counter() - t0

  def train(self, checkpoints: Checkpoints) -> None:
    """The steps from the current one to the end, in pieces of at most a segment that take
    about PIECE_SECONDS each. Pieces are queued one ahead: while piece k runs, the host
    waits for piece k-1 (to count progress, time the step and honour a signal); metric
    means reach the host at checkpoints."""
    c, schedule = self.chunk, self.schedule
    self.saved = self.step
    t0, compiled = time.perf_counter(), self.programs.compile_seconds
    self.flagged = distributed.gather(self.diverged)[:c.runs]  # runs already warned of
    pending, previous = [], None
    pace = _Pace()
    while self.step < schedule.steps:
      segment_end = min((self.step // schedule.log_every + 1) * schedule.log_every,
                        schedule.steps)
      count = pace.count(segment_end - self.step)
      ends_segment = self.step + count == segment_end
      self.states, self.diverged, self.sums, reached = self.programs.segment(
          self.states, self.diverged, self.sums, c.hps, c.keys, self.data, self.step, count,
          ends_segment)
      self.step += count
      if ends_segment:  # the sums leave the carry: a new segment sums from zero
        length = segment_end - (segment_end - 1) // schedule.log_every * schedule.log_every
        pending.append(((segment_end - 1) // schedule.log_every, self.sums, length))
        self.sums = self.programs.zero_sums(list(self.sums), c.padded)
      if previous is not None:
        self._count(*previous, pace)
      previous = (reached, count)
      due = ends_segment and (self.step - self.saved >= schedule.checkpoint_every
                              or self.step == schedule.steps)
      # A chunk that just finished ends normally: the stop comes at the next piece, so a
      # signal during the last piece still lets the results be written.
      stop = self.step < schedule.steps and distributed.any_process(
          preemption.requested() is not None)
      if due or stop:
        self._count(*previous, pace)
        previous = None
        self.save(checkpoints, pending)
      if stop:
        signal = preemption.requested() or 15
        raise preemption.Stopped(
            f"stopped by {preemption.name(signal)} at step {self.step} of {schedule.steps} "
            f"({self.name}, runs {c.start}..{c.stop - 1}); the state is saved: rerun the "
            "same command to resume", signal)
    if previous is not None:
      self._count(*previous, pace)
    jax.block_until_ready(self.states)
    self.segment_seconds = (time.perf_counter() - t0 - self.checkpoint_seconds
                            - (self.programs.compile_seconds - compiled))

  def _count(self, out, steps: int, pace: _Pace) -> None:
    jax.block_until_ready(out)
    pace.done(steps)
    if self.progress is not None:
      self.progress.update(steps * self.chunk.runs,
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


class _Pace:
  """How many steps the next dispatch takes: one at first, then doubling while the
  measured step time allows, up to about PIECE_SECONDS of work (and never past the
  segment's end). The choice changes when the host regains control, never the result."""

  def __init__(self):
    self.limit = 1
    self.last = None  # when the previous piece was seen done

  def count(self, left: int) -> int:
    return max(1, min(left, self.limit))

  def done(self, steps: int) -> None:
    now = time.perf_counter()
    if self.last is not None:
      per_step = max(now - self.last, 1e-9) / steps
      self.limit = max(1, min(2 * self.limit, int(PIECE_SECONDS / per_step)))
    else:
      self.limit *= 2
    self.last = now
