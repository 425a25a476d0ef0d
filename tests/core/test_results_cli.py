import subprocess
import sys

import numpy as np
import pytest

import superjax
from superjax import cli
from superjax.core.experiment import run


def test_load_round_trip(tiny_config, tmp_path):
  cfg = tiny_config.replace(models=("linear", "relu"), relative_importance=(0.5, 2.0))
  ds = run(cfg, tmp_path / "run", show_progress=False)
  loaded = superjax.load(tmp_path / "run")
  assert dict(loaded.sizes) == {"model": 2, "density": 2, "relative_importance": 2, "seed": 2,
                                "hidden": 2, "feature": 5, "step": 4}
  assert loaded["W"].dims == ("model", "density", "relative_importance", "seed", "hidden", "feature")
  for name in ds.data_vars:
    np.testing.assert_array_equal(loaded[name].values, ds[name].values, err_msg=name)
  # Variables agree with their definitions, recomputed here with numpy.
  W = loaded["W"].values
  np.testing.assert_allclose(loaded["features_per_dim"], (W ** 2).sum((-2, -1)) / 2, rtol=1e-5)
  np.testing.assert_allclose(loaded["feature_norm"], np.linalg.norm(W, axis=-2), rtol=1e-5)
  imp = loaded["feature_importance"].sel(density=1.0, seed=0, relative_importance=2.0)
  np.testing.assert_allclose(imp, [1, 0.9, 0.81, 0.729, 2 * 0.6561], rtol=1e-5)
  assert loaded.density.values.tolist() == pytest.approx([1.0, 0.1])
  assert (tmp_path / "run" / "manifest.json").exists()


def _error_line(capsys, argv):
  code = cli.main(argv)
  err = capsys.readouterr().err.strip()
  return code, err


@pytest.mark.parametrize("argv, words", [
    (["run", "no_such_sweep"], "unknown sweep 'no_such_sweep'"),
    (["run", "elhage_intro", "--set", "bogus=1"], "unknown config key 'bogus'"),
    (["run", "elhage_intro", "--set", "density=1.5"], "density: 1.5 is outside"),
    (["run", "elhage_intro", "--set", "steps=0"], "steps: 0 must be an integer >= 1"),
    (["run", "elhage_intro", "--set", "batch=0"], "batch: 0 must be"),
    (["run", "elhage_intro", "--set", "m=0"], "m: 0 must be"),
    (["plot", "/nonexistent/run"], "not a superjax run directory"),
    (["run", "elhage_intro", "--out", "/proc/x/y"], "cannot write the run directory there"),
    (["run", "elhage_intro", "--out", "/etc/hostname"], "exists and is not a superjax run"),
])
def test_bad_input_gives_one_line_and_exit_2(capsys, argv, words):
  code, err = _error_line(capsys, argv)
  assert code == 2 and words in err and len(err.splitlines()) == 1


def test_argparse_errors_are_one_line():
  proc = subprocess.run([sys.executable, "-m", "superjax", "frobnicate"], capture_output=True,
                        text=True)
  assert proc.returncode == 2 and len(proc.stderr.strip().splitlines()) == 1
  assert "Traceback" not in proc.stderr


def test_list_run_plot_report(capsys, tmp_path):
  assert cli.main(["list"]) == 0
  listed = capsys.readouterr().out
  assert "elhage_intro" in listed and "elhage_phase_n2m1" in listed
  out = tmp_path / "intro"
  assert cli.main(["run", "elhage_intro", "--out", str(out), "--no-progress",
                   "--set", "steps=100", "--set", "seeds=1", "--set", "log_every=50"]) == 0
  assert "features per dimension" in capsys.readouterr().out
  for name in ("intro", "features_per_dim"):
    (out / "figures" / f"{name}.png").unlink()
  assert cli.main(["plot", str(out)]) == 0
  assert (out / "figures" / "intro.png").stat().st_size > 10_000
  assert (out / "figures" / "features_per_dim.pdf").exists()
  assert cli.main(["report", str(out)]) == 0
  assert "relu" in capsys.readouterr().out
