"""A run killed with SIGKILL and rerun ends bit-identical to an uninterrupted run."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

import superjax

SWEEP = Path(__file__).parents[1] / "data" / "resume_sweep.py"


def _cli(*args, **kwargs):
  return subprocess.Popen([sys.executable, "-m", "superjax", *map(str, args)],
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **kwargs)


def _finished_steps(run_dir: Path) -> list[int]:
  chunk_dirs = list((run_dir / "state" / "relu").glob("runs_*"))
  return [int(p.name) for d in chunk_dirs for p in d.iterdir() if p.name.isdigit()]


def test_sigkill_mid_run_then_resume_is_bit_identical(tmp_path):
  reference = _cli("run", SWEEP, "--out", tmp_path / "reference", "--no-figures")
  out, err = reference.communicate(timeout=300)
  assert reference.returncode == 0, err

  killed_dir = tmp_path / "killed"
  victim = _cli("run", SWEEP, "--out", killed_dir, "--no-figures")
  deadline = time.time() + 240
  while not _finished_steps(killed_dir) and victim.poll() is None and time.time() < deadline:
    time.sleep(0.02)
  os.kill(victim.pid, signal.SIGKILL)
  victim.communicate()
  assert victim.returncode == -signal.SIGKILL
  assert not (killed_dir / "results.nc").exists()

  resumed = _cli("run", SWEEP, "--out", killed_dir, "--no-figures")
  out, err = resumed.communicate(timeout=300)
  assert resumed.returncode == 0, err
  assert "resumed from step" in err

  want, got = superjax.load(tmp_path / "reference"), superjax.load(killed_dir)
  for name in ("W", "b", "loss", "loss_history"):
    np.testing.assert_array_equal(got[name].values, want[name].values, err_msg=name)


def test_rerun_of_finished_run_loads_it(tmp_path, tiny_config):
  from superjax.core.experiment import run
  first = run(tiny_config, tmp_path / "run", show_progress=False)
  again = run(tiny_config, tmp_path / "run", show_progress=False)
  np.testing.assert_array_equal(first["W"].values, again["W"].values)


def test_different_config_is_refused_and_fresh_keeps_the_old_run(tmp_path, tiny_config):
  from superjax.core.config import ConfigError
  from superjax.core.experiment import run
  run(tiny_config, tmp_path / "run", show_progress=False)
  with pytest.raises(ConfigError, match="different steps.*--fresh"):
    run(tiny_config.replace(steps=100), tmp_path / "run", show_progress=False)
  run(tiny_config.replace(steps=100), tmp_path / "run", fresh=True, show_progress=False)
  kept = list(tmp_path.glob("run.previous-*"))
  assert len(kept) == 1 and (kept[0] / "results.nc").exists()
  assert superjax.load(tmp_path / "run").attrs["config"].count('"steps": 100') == 1


def test_corrupt_checkpoint_falls_back_then_fails_clearly(tmp_path, tiny_config):
  from superjax.core.checkpoint import CheckpointError
  from superjax.core.experiment import run
  cfg = tiny_config.replace(steps=300, checkpoint_every=100)
  run(cfg, tmp_path / "run", show_progress=False)
  (tmp_path / "run" / "results.nc").unlink()  # as if killed after the last checkpoint
  chunk = next((tmp_path / "run" / "state" / "relu").glob("runs_*"))
  steps = sorted(int(p.name) for p in chunk.iterdir() if p.name.isdigit())
  assert steps == [200, 300]
  for f in (chunk / "300").rglob("*"):
    if f.is_file():
      f.write_bytes(b"garbage")
  ds = run(cfg, tmp_path / "run", show_progress=False)  # resumes from step 200
  reference = run(cfg, tmp_path / "reference", show_progress=False)
  np.testing.assert_array_equal(ds["W"].values, reference["W"].values)
  (tmp_path / "run" / "results.nc").unlink()
  for step in (200, 300):
    for f in (chunk / str(step)).rglob("*"):
      if f.is_file():
        f.write_bytes(b"garbage")
  with pytest.raises(CheckpointError, match="no readable checkpoint"):
    run(cfg, tmp_path / "run", show_progress=False)
