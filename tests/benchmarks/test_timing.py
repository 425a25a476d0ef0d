"""benchmarks/timing.py times what it says: the segments it asked for (or fewer, flagged,
when the budget runs out), one checkpoint, finish."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))

import timing

from superjax.core.checkpoint import read_newest
from superjax.toy import run


def test_segments_checkpoint_and_finish_are_timed(tiny_config, tmp_path):
  cfg = tiny_config.replace(density=(1.0, 0.1, 0.01), seeds=1, steps=100, log_every=10)
  pass_ = run.passes(cfg, tmp_path)["relu"]
  timed = timing.time_segments(pass_, segments=3)
  assert (timed.runs, timed.chunks, timed.chunk_runs, timed.segment_steps) == (3, 1, 3, 10)
  assert len(timed.segment_seconds) == 3 and not timed.budget_cut
  assert timed.model_steps_per_second == 3 * 10 * 3 / sum(timed.segment_seconds)
  assert timed.finish_seconds > 0 and timed.bytes_per_chunk > 0
  # The checkpoint holds the state after the warm-up and the three timed segments.
  step, _, meta = read_newest(next((tmp_path / "state" / "relu").iterdir()))
  assert step == 40 and meta["chunk"] == [0, 3]

  # A spent budget stops after one timed segment, and says so.
  cut = timing.time_segments(run.passes(cfg, tmp_path / "again")["relu"], segments=5,
                             budget_seconds=0)
  assert len(cut.segment_seconds) == 1 and cut.budget_cut
