"""Every registered experiment keeps the contract: its tiny config runs from the CLI to a
report and figures; and a SIGKILL inside its first and its last training pass, followed
by the same command, resumes inside that pass and ends identical to an uninterrupted run."""

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

import superjax
from superjax.core import experiment

pytestmark = pytest.mark.slow  # whole runs from the CLI or several processes

NAMES = experiment.names()


def _cli(sweep: Path, out: Path) -> subprocess.Popen:
  return subprocess.Popen([sys.executable, "-m", "superjax", "run", str(sweep), "--out", str(out)],
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _finish(proc: subprocess.Popen) -> str:
  out, err = proc.communicate(timeout=600)
  assert proc.returncode == 0, err[-3000:]
  return err


def _passes(run_dir: Path) -> list[str]:
  """The training passes of a finished run, in the order they ran."""
  return [p.name for p in sorted((run_dir / "state").iterdir(), key=lambda p: p.stat().st_mtime)]


def _saved_steps(run_dir: Path, name: str) -> list[int]:
  return [int(p.name) for p in (run_dir / "state" / name).glob("runs_*/*") if p.name.isdigit()]


@pytest.fixture(scope="class")
def reference(request, tiny_run, tmp_path_factory):
  """(experiment name, its tiny sweep file, a copy of the session's uninterrupted run of
  it), once per class."""
  name = request.cls.NAME
  sweep, run_dir = tiny_run(name, copy_to=tmp_path_factory.mktemp(name) / "reference")
  return name, sweep, run_dir


class _Contract:
  """The contract for the experiment NAME. One class per registered experiment (below):
  each class shares its uninterrupted reference run among its tests, and pytest-xdist
  (--dist loadscope) sends different classes to different workers."""

  NAME = ""

  def test_tiny_config_runs_reports_and_draws(self, reference):
    name, sweep, run_dir = reference
    # The same command again, in a new process, loads the finished run: the code it
    # fingerprints there (Experiment.passes) is the code that made it.
    again = _finish(_cli(sweep, run_dir))
    assert "already holds the finished run" in again, again[-2000:]
    dataset = superjax.load(run_dir)
    assert dataset.attrs["experiment"] == name
    assert (run_dir / "report.txt").read_text().strip()
    drawn = experiment.get(name).figures(dataset)
    assert drawn
    for figure in drawn:
      assert (run_dir / "figures" / f"{figure}.png").stat().st_size > 10_000, figure
      assert (run_dir / "figures" / f"{figure}.pdf").exists(), figure

  def test_killed_inside_its_first_and_last_pass_resumes_there_to_the_same_results(
      self, reference, tmp_path):
    """SIGKILL inside the first pass; the same command resumes there and is SIGKILLed
    inside the last pass (where there are two); the third resumes there and ends with
    every variable equal to the uninterrupted run's."""
    name, sweep, run_dir = reference
    passes = _passes(run_dir)
    targets = passes[:1] + passes[-1:] if len(passes) > 1 else passes[:1]
    out = tmp_path / "killed"
    said = []  # what each command after a kill printed
    for target in targets:
      victim = _cli(sweep, out)
      deadline = time.time() + 300
      while victim.poll() is None and time.time() < deadline:
        if (out / "state" / target).is_dir() and _saved_steps(out, target):
          break
        time.sleep(0.005)
      os.kill(victim.pid, signal.SIGKILL)
      _, err = victim.communicate()
      said.append(err)
      assert victim.returncode == -signal.SIGKILL, f"{target} finished before the kill"
      assert not (out / "results.nc").exists()
    said.append(_finish(_cli(sweep, out)))
    for target, err in zip(targets, said[1:]):
      found = re.search(rf"resumed from step (\d+) of (\d+) \({re.escape(target)},", err)
      assert found, (target, err[-2000:])
      step, steps = int(found.group(1)), int(found.group(2))
      assert 0 < step < steps, (target, step, steps)
    want, got = superjax.load(run_dir), superjax.load(out)
    assert set(got.data_vars) == set(want.data_vars)
    for variable in want.data_vars:
      np.testing.assert_array_equal(got[variable].values, want[variable].values,
                                    err_msg=f"{name} {variable}")


for _name in NAMES:
  globals()[f"TestContract_{_name}"] = type(f"TestContract_{_name}", (_Contract,),
                                            {"NAME": _name})
