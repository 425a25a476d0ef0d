"""Faults as a user meets them, through the CLI: SIGTERM saves the step it arrived at and
the same command resumes there; a second command on a busy run directory is refused in
one line; a lock left by a killed process is taken over; a damaged results.nc beside a
finished state is rebuilt from the state."""

import os
import signal
import subprocess
import sys
import textwrap
import threading
import time

import numpy as np
import pytest

import superjax
from superjax.core import rundir
from superjax.core.errors import SuperjaxError

# A per-run quadratic whose step also waits PAUSE seconds on the host (read when the step
# runs, so the compiled program, and with it the run's code, is the same whatever PAUSE
# is): with PAUSE set a 1,000-step segment takes a minute, long enough to be signalled
# inside it; the iterate keeps the closed form c + (1 - lr a)^T (x0 - c) either way.
MODEL_FILE = textwrap.dedent('''
    """A slow quadratic for the fault tests."""
    import os
    import time
    import jax
    import superjax

    def pause():
      time.sleep(float(os.environ.get("PAUSE", "0")))

    def init(key, hp, data):
      x0 = jax.random.normal(key, (2,))
      return {"x": x0, "x0": x0}

    def step(state, hp, key, t, data):
      jax.debug.callback(pause)
      x = state["x"]
      new = x - hp["lr"] * hp["a"] * (x - 1.0)
      return dict(state, x=new), {"loss": 0.5 * hp["a"] * (x - 1.0) @ (x - 1.0)}

    def finish(state, hp, key, data):
      return {"x": state["x"], "x0": state["x0"]}

    MODEL = superjax.Model(name="slow_quadratic", init=init, step=step, finish=finish,
                           axes=superjax.product(seed=range(2), a=[0.5, 1.0], lr=[0.01]),
                           steps=3000, log_every=1000, checkpoint_every=1000)
''')


def _cli(*args, pause=0.0) -> subprocess.Popen:
  return subprocess.Popen([sys.executable, "-m", "superjax", "run", *map(str, args)],
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                          env=dict(os.environ, PAUSE=str(pause)))


def _training(run_dir) -> bool:
  return any((run_dir / "state").glob("*/runs_*"))


def _wait_for(condition, proc, seconds=240):
  deadline = time.time() + seconds
  while not condition():
    assert proc.poll() is None, proc.communicate()[1][-2000:]
    assert time.time() < deadline
    time.sleep(0.02)


@pytest.mark.slow
def test_sigterm_inside_a_long_segment_saves_within_seconds_and_resumes_there(tmp_path):
  """Segments of 1,000 steps of 20+ ms (a minute each): SIGTERM is honoured within 10 s at
  the step it arrived at, mid-segment; a busy directory is refused in one line; the same
  command resumes at that step and ends on the closed form."""
  model, out = tmp_path / "slow.py", tmp_path / "run"
  model.write_text(MODEL_FILE)
  first = _cli(model, "--out", out, "--no-figures", "--no-progress", pause=0.02)
  _wait_for(lambda: _training(out), first)

  second = _cli(model, "--out", out, "--no-figures")
  _, err = second.communicate(timeout=120)
  assert second.returncode == 2, err
  lines = err.strip().splitlines()
  assert len(lines) == 1 and f"is in use by process {first.pid}" in lines[0], err

  time.sleep(2)  # well inside the first segment
  sent = time.monotonic()
  first.send_signal(signal.SIGTERM)
  _, err = first.communicate(timeout=120)
  took = time.monotonic() - sent
  assert first.returncode == 128 + signal.SIGTERM, err
  assert took < 10, (took, err)
  stopped = err.strip().splitlines()[-1]
  assert stopped.startswith("superjax: stopped by SIGTERM at step "), err
  step = int(stopped.split("at step ")[1].split()[0])
  assert 0 < step < 1000, err  # inside the first segment: no checkpoint was due

  again = _cli(model, "--out", out, "--no-figures", "--no-progress")
  _, err = again.communicate(timeout=300)
  assert again.returncode == 0, err
  assert f"resumed from step {step} of 3000 (slow_quadratic" in err
  ds = superjax.load(out)
  a, lr = ds["a"].values[None, :, None, None], 0.01
  want = 1.0 + (1 - lr * a) ** 3000 * (ds["x0"].values - 1.0)
  np.testing.assert_allclose(ds["x"].values, want, rtol=1e-4, atol=1e-6)


@pytest.mark.slow
def test_a_second_ctrl_c_exits_at_once(tmp_path):
  model, out = tmp_path / "slow.py", tmp_path / "run"
  model.write_text(MODEL_FILE)
  first = _cli(model, "--out", out, "--no-figures", "--no-progress", pause=0.02)
  _wait_for(lambda: _training(out), first)
  time.sleep(3)  # pieces of a second or two are in flight
  lines = []
  reader = threading.Thread(target=lambda: lines.extend(first.stderr), daemon=True)
  reader.start()
  first.send_signal(signal.SIGINT)
  _wait_for(lambda: any("received SIGINT" in line for line in lines), first, seconds=30)
  sent = time.monotonic()
  first.send_signal(signal.SIGINT)  # while the first stop waits for the piece in flight
  first.wait(timeout=60)
  took = time.monotonic() - sent
  reader.join(timeout=10)
  first.stdout.close()
  first.stderr.close()
  assert took < 2, lines
  assert first.returncode == -signal.SIGINT, lines
  assert not any("stopped by SIGINT" in line for line in lines), lines


def test_an_edited_model_file_is_refused_and_a_moved_one_resumes(tmp_path, monkeypatch):
  """The run's identity includes its code: the same file moved elsewhere resumes (and a
  finished run loads); the file with its loss edited is refused in one line, on resume
  and on the finished run alike."""
  from superjax.core import preemption, sweeps
  model, out = tmp_path / "slow.py", tmp_path / "run"
  model.write_text(MODEL_FILE.replace("steps=3000", "steps=30").replace(
      "log_every=1000, checkpoint_every=1000", "log_every=10, checkpoint_every=10"))
  edited = tmp_path / "edited.py"
  edited.write_text(model.read_text().replace("(x - 1.0) @ (x - 1.0)",
                                              "(x - 1.0) @ (x - 1.0) * 0"))
  moved = tmp_path / "elsewhere" / "slow.py"
  moved.parent.mkdir()
  moved.write_text(model.read_text())
  asked = iter([None] * 3)  # stopped after its third piece, before its first checkpoint
  with monkeypatch.context() as patch:
    patch.setattr(preemption, "requested", lambda: next(asked, signal.SIGTERM))
    with pytest.raises(preemption.Stopped):
      superjax.run(sweeps.load(model), out=out, progress=False)
  with pytest.raises(SuperjaxError, match="the model's code changed since this run"):
    superjax.run(sweeps.load(edited), out=out, progress=False)
  resumed = superjax.run(sweeps.load(moved), out=out, progress=False)
  a = resumed["a"].values[None, :, None, None]
  want = 1.0 + (1 - 0.01 * a) ** 30 * (resumed["x0"].values - 1.0)
  np.testing.assert_allclose(resumed["x"].values, want, rtol=1e-5)
  # The finished run: the edited file is refused from the command line in one line.
  refused = _cli(edited, "--out", out, "--no-figures")
  _, err = refused.communicate(timeout=120)
  assert refused.returncode == 2 and len(err.strip().splitlines()) == 1, err
  assert "the model's code changed since this run" in err and "--fresh" in err, err
  again = superjax.run(sweeps.load(moved), out=out, progress=False)
  np.testing.assert_array_equal(again["x"].values, resumed["x"].values)


def test_a_lock_left_by_a_killed_process_is_taken_over(tmp_path):
  holder = subprocess.Popen(
      [sys.executable, "-c", "import sys, time; from superjax.core import rundir\n"
       f"with rundir.locked({str(tmp_path)!r}):\n  print('held', flush=True); time.sleep(600)"],
      stdout=subprocess.PIPE, text=True)
  assert holder.stdout.readline().strip() == "held"
  with pytest.raises(SuperjaxError, match=f"in use by process {holder.pid} on "):
    with rundir.locked(tmp_path):
      pass
  holder.kill()
  holder.wait()
  holder.stdout.close()
  with rundir.locked(tmp_path):
    assert f"process {os.getpid()} " in (tmp_path / rundir.LOCK_FILE).read_text()


def test_damaged_results_are_rebuilt_from_the_finished_state(tmp_path, capfd, monkeypatch):
  from superjax.core import loop
  from superjax.custom.run import tiny
  cfg = tiny()
  want = superjax.run(cfg, out=tmp_path, progress=False)
  (tmp_path / "results.nc").write_bytes(b"not a netCDF file")
  with pytest.raises(SuperjaxError, match="rerun the same `superjax run` command to rebuild"):
    superjax.load(tmp_path)
  # Nothing is trained again: a training step, or a fresh init, would fail the test.
  monkeypatch.setattr(loop._Programs, "segment", lambda *a, **k: pytest.fail("trained"))
  monkeypatch.setattr(loop._Programs, "init", lambda *a, **k: pytest.fail("initialised"))
  got = superjax.run(cfg, out=tmp_path, progress=False)
  err = capfd.readouterr().err
  assert "unreadable" in err and "rebuilding it from the saved training state" in err
  assert (tmp_path / "results.nc.damaged").exists()
  for name in want.data_vars:
    np.testing.assert_array_equal(got[name].values, want[name].values)


def test_a_file_system_without_flock_runs_unlocked_with_a_warning(tmp_path, monkeypatch,
                                                                    capfd):
  import errno
  import fcntl

  def no_locks(handle, operation):
    raise OSError(errno.ENOLCK, "No locks available")

  monkeypatch.setattr(fcntl, "flock", no_locks)
  with rundir.locked(tmp_path / "run"):
    pass
  assert "cannot be locked here (No locks available)" in capfd.readouterr().err


def test_a_refused_directory_keeps_no_lock_and_a_moved_model_file_still_loads(tmp_path):
  from superjax.core.config import ConfigError
  from superjax.custom.run import tiny
  (tmp_path / "other").mkdir()
  (tmp_path / "other" / "notes.txt").write_text("not a run")
  with pytest.raises(ConfigError, match="exists and is not a superjax run"):
    superjax.run(tiny(), out=tmp_path / "other", progress=False)
  assert sorted(p.name for p in (tmp_path / "other").iterdir()) == ["notes.txt"]
  cfg = tiny().replace(steps=200, checkpoint_every=100)
  first = superjax.run(cfg, out=tmp_path / "run", progress=False)
  # The same model read from another path (a copy, an installed package) is the same run.
  again = superjax.run(cfg.replace(file="/elsewhere/tiny.py"), out=tmp_path / "run",
                       progress=False)
  np.testing.assert_array_equal(again["x"].values, first["x"].values)
