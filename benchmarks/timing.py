"""A pass's training segments timed alone, synced, with its fixed costs apart.

On an accelerator a segment of a small grid takes milliseconds, so the time of a whole
run is mostly compilation, checkpoints and evaluation. `time_segments` trains the first
chunk of a pass as `Pass.train` does (the same compiled programs, the same chunk size)
and times each piece separately: compiling, one warm-up segment, then segments each
waited for with `jax.block_until_ready`; then one checkpoint of the chunk (waited for)
and `finish` (compiled apart from its run). Nothing is resumed, nothing is kept.
"""

from __future__ import annotations

import dataclasses
import time

import jax

from superjax.core import host, loop
from superjax.core.checkpoint import Checkpoints


@dataclasses.dataclass
class SegmentTiming:
  """What `time_segments` measured (seconds throughout).

  Attributes:
    runs: runs of the pass.
    chunks: chunks the loop trains them in; the first was timed.
    chunk_runs: runs of the timed chunk.
    bytes_per_chunk: one device's memory for a chunk, as XLA's analysis counts it.
    free_bytes: the least free memory of the devices before the chunk size was chosen.
    compile_seconds: compiling init and the segment (and, when the chunk size is measured,
      the whole grid's segment and finish for XLA's memory analysis), and running init.
    warmup_seconds: the first segment after compiling, synced.
    segment_steps: steps per segment.
    segment_seconds: each timed segment, synced.
    budget_cut: whether the time budget stopped the timing before the segments asked for.
    checkpoint_seconds: one save of the chunk's state, waited for.
    finish_compile_seconds, finish_seconds: compiling `finish`, then running it (None
      when the program has no finish).
  """

  runs: int
  chunks: int
  chunk_runs: int
  bytes_per_chunk: int
  free_bytes: int
  compile_seconds: float
  warmup_seconds: float
  segment_steps: int
  segment_seconds: list[float]
  budget_cut: bool
  checkpoint_seconds: float
  finish_compile_seconds: float | None
  finish_seconds: float | None

  @property
  def model_steps_per_second(self) -> float:
    """One step of one run per second, over the timed segments."""
    return self.chunk_runs * self.segment_steps * len(self.segment_seconds) / sum(
        self.segment_seconds)

  def to_dict(self) -> dict:
    return dict(dataclasses.asdict(self), model_steps_per_second=self.model_steps_per_second)


def _synced(fn, *args):
  """(fn(*args), seconds until its outputs are ready)."""
  t0 = time.perf_counter()
  out = fn(*args)
  jax.block_until_ready(out)
  return out, time.perf_counter() - t0


def time_segments(pass_: loop.Pass, segments: int,
                  budget_seconds: float = float("inf")) -> SegmentTiming:
  """Trains the first chunk of `pass_` for a warm-up segment and up to `segments` more,
  each the schedule's log_every long (the program a run trains with), stopping early
  when the timed segments have taken `budget_seconds` (at least one is timed).
  `pass_.run_dir` must be a scratch directory: the checkpoint is written under it."""
  compiled = pass_.compiled()
  free_bytes = host.free_device_bytes(compiled.local_devices())
  t0 = time.perf_counter()
  size = compiled.chunk_size()
  chunk = compiled.chunks(size)[0]
  carry = compiled.init(chunk)
  steps = min(pass_.schedule.log_every, pass_.schedule.steps)
  compiled.compile_segment(chunk, carry)
  jax.block_until_ready(carry)
  compile_seconds = time.perf_counter() - t0

  def segment(carry, start):
    return compiled.segment(chunk, carry, start, steps)

  carry, warmup = _synced(segment, carry, 0)
  seconds = []
  while len(seconds) < segments and (not seconds or sum(seconds) < budget_seconds):
    carry, took = _synced(segment, carry, (len(seconds) + 1) * steps)
    seconds.append(took)

  checkpoints = Checkpoints(chunk.directory)
  t0 = time.perf_counter()
  try:
    checkpoints.save((len(seconds) + 1) * steps, {"state": carry[0], "diverged": carry[1]},
                     chunk.meta)
  finally:
    checkpoints.close()
  checkpoint_seconds = time.perf_counter() - t0

  finish_compile = finish = None
  if pass_.program.finish is not None:
    t0 = time.perf_counter()
    compiled.compile_finish(chunk, carry)
    finish_compile = time.perf_counter() - t0
    _, finish = _synced(compiled.finish, chunk, carry)
  return SegmentTiming(
      runs=pass_.runs, chunks=-(-pass_.runs // size), chunk_runs=chunk.runs,
      bytes_per_chunk=compiled.bytes_per_device(chunk),
      free_bytes=free_bytes,
      compile_seconds=compile_seconds, warmup_seconds=warmup, segment_steps=steps,
      segment_seconds=seconds, budget_cut=len(seconds) < segments,
      checkpoint_seconds=checkpoint_seconds, finish_compile_seconds=finish_compile,
      finish_seconds=finish)
