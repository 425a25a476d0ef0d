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
def reference(request, tmp_path_factory):
  """(experiment name, its tiny sweep file, an uninterrupted run of it), once per class."""
  name = request.cls.NAME
  root = tmp_path_factory.mktemp(name)
  sweep = root / "tiny.py"
  sweep.write_text(f"from superjax.core import experiment\n"
                   f"CONFIG = experiment.get({name!r}).tiny()\n")
  _finish(_cli(sweep, root / "reference"))
  return name, sweep, root / "reference"


class _Contract:
  """The contract for the experiment NAME. One class per registered experiment (below):
  each class shares its uninterrupted reference run among its tests, and pytest-xdist
  (--dist loadscope) sends different classes to different workers."""

  NAME = ""

  def test_tiny_config_runs_reports_and_draws(self, reference):
    name, _, run_dir = reference
    dataset = superjax.load(run_dir)
    assert dataset.attrs["experiment"] == name
    assert (run_dir / "report.txt").read_text().strip()
    drawn = experiment.get(name).figures(dataset)
    assert drawn
    for figure in drawn:
      assert (run_dir / "figures" / f"{figure}.png").stat().st_size > 10_000, figure
      assert (run_dir / "figures" / f"{figure}.pdf").exists(), figure

  @pytest.mark.parametrize("which", ["first", "last"])
  def test_killed_inside_a_pass_resumes_there_to_the_same_results(self, reference, which,
                                                                    tmp_path):
    name, sweep, run_dir = reference
    passes = _passes(run_dir)
    target = passes[0] if which == "first" else passes[-1]
    if which == "last" and len(passes) == 1:
      pytest.skip(f"{name}'s tiny config trains one pass")
    out = tmp_path / "killed"
    victim = _cli(sweep, out)
    deadline = time.time() + 300
    while victim.poll() is None and time.time() < deadline:
      if (out / "state" / target).is_dir() and _saved_steps(out, target):
        break
      time.sleep(0.005)
    os.kill(victim.pid, signal.SIGKILL)
    victim.communicate()
    assert victim.returncode == -signal.SIGKILL, f"{target} finished before the kill"
    assert not (out / "results.nc").exists()

    err = _finish(_cli(sweep, out))
    found = re.search(rf"resumed from step (\d+) of (\d+) \({re.escape(target)},", err)
    assert found, err[-2000:]
    step, steps = int(found.group(1)), int(found.group(2))
    assert 0 < step < steps, (step, steps)
    want, got = superjax.load(run_dir), superjax.load(out)
    assert set(got.data_vars) == set(want.data_vars)
    for variable in want.data_vars:
      np.testing.assert_array_equal(got[variable].values, want[variable].values,
                                    err_msg=f"{name} {variable}")


for _name in NAMES:
  globals()[f"TestContract_{_name}"] = type(f"TestContract_{_name}", (_Contract,),
                                            {"NAME": _name})
