"""Reruns on a run directory: a finished run is loaded, a different config refused (or
moved aside with --fresh), a corrupt checkpoint skipped for the one before it. (A SIGKILL
mid-training and its resume are checked for every experiment in tests/test_contract.py.)"""

import numpy as np
import pytest

import superjax


def test_rerun_of_finished_run_loads_it(tmp_path, tiny_config, monkeypatch):
  from superjax.core import loop
  from superjax.core.experiment import run
  first = run(tiny_config, tmp_path / "run", show_progress=False)
  for name in ("init", "segment", "finish"):  # a loaded run compiles and runs nothing
    monkeypatch.setattr(loop._Programs, name, lambda *a, name=name, **k: pytest.fail(name))
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


def test_a_built_in_familys_code_change_is_refused_on_rerun_and_on_resume(tmp_path,
                                                                          tiny_config,
                                                                          monkeypatch):
  """A release that changes what a family computes (here: toy's held-out evaluation
  doubled) does not load or resume runs made by the old code."""
  from superjax.core import checkpoint
  from superjax.core.errors import SuperjaxError
  from superjax.core.experiment import run
  from superjax.toy import train
  run(tiny_config, tmp_path / "finished", show_progress=False)
  stopped = tmp_path / "stopped"
  asked = iter([None, None])
  from superjax.core import preemption
  with monkeypatch.context() as patch:
    patch.setattr(preemption, "requested", lambda: next(asked, 15))
    with pytest.raises(preemption.Stopped):
      run(tiny_config, stopped, show_progress=False)
  original = train.evaluate
  monkeypatch.setattr(train, "evaluate", lambda *a, **k: {
      name: 2 * value for name, value in original(*a, **k).items()})
  with pytest.raises(SuperjaxError, match="the model's code changed since this run .*"
                                          "trained by other code.*--fresh"):
    run(tiny_config, tmp_path / "finished", show_progress=False)
  with pytest.raises(checkpoint.CheckpointError, match="the model's code changed since this run"):
    run(tiny_config, stopped, show_progress=False)
