"""Results do not depend on how many devices, or processes, the grid is sharded over."""

import json
import os
import socket
import subprocess
import sys

import numpy as np
import pytest

import superjax
from superjax.core.experiment import run

_SWEEP = """
from superjax import SweepConfig
CONFIG = SweepConfig(name="shard", n=5, m=2, density=(1.0, 0.3, 0.05), seeds=3,
                     importance=(0.9,), steps=200, batch=64, log_every=50,
                     checkpoint_every=100, eval_batch=256, figures=(), reports=())
"""


def _env(devices: int) -> dict:
  return dict(os.environ, XLA_FLAGS=f"--xla_force_host_platform_device_count={devices}",
              JAX_PLATFORMS="cpu")


def _command(sweep, out, *extra) -> list[str]:
  return [sys.executable, "-m", "superjax", "run", str(sweep), "--out", str(out),
          "--no-progress", "--no-figures", *extra]


def _run_with_devices(devices: int, out) -> None:
  sweep = out.parent / "shard.py"
  sweep.write_text(_SWEEP)
  subprocess.run(_command(sweep, out), env=_env(devices), check=True, capture_output=True,
                 timeout=300)


def _free_port() -> int:
  with socket.socket() as s:
    s.bind(("127.0.0.1", 0))
    return s.getsockname()[1]


@pytest.mark.slow
def test_one_and_four_devices_give_the_same_results(tmp_path):
  # 9 runs over 4 devices: padded to 12, the padding dropped again.
  _run_with_devices(1, tmp_path / "one")
  _run_with_devices(4, tmp_path / "four")
  one, four = superjax.load(tmp_path / "one"), superjax.load(tmp_path / "four")
  assert json.loads((tmp_path / "four" / "manifest.json").read_text())["device"]["count"] == 4
  assert four.sizes["density"] == 3 and four.sizes["seed"] == 3
  for name in ("W", "b", "loss", "loss_history"):
    np.testing.assert_allclose(four[name], one[name], rtol=1e-5, atol=1e-7, err_msg=name)


def test_padding_is_dropped_in_process(tiny_config, tmp_path):
  # 3 runs over the test session's devices (one per core): padded to a multiple of the
  # device count, the padding dropped; each run equals itself trained in a larger grid.
  three = run(tiny_config.replace(density=(0.1,), seeds=3), tmp_path / "three",
              show_progress=False)
  four = run(tiny_config.replace(density=(0.1,), seeds=4), tmp_path / "four",
             show_progress=False)
  assert three.sizes["seed"] == 3 and np.isfinite(three["loss"]).all()
  np.testing.assert_allclose(three["W"], four["W"].isel(seed=slice(3)), rtol=1e-5, atol=1e-7)


def _two_processes(sweep, out, *extra) -> list[tuple[int, str]]:
  """Runs the sweep as two processes with two CPU devices each, joined through JAX's
  distributed runtime on 127.0.0.1 (gloo collectives); returns (exit code, stderr)s."""
  hosts = ["--coordinator", f"127.0.0.1:{_free_port()}", "--num-processes", "2", *extra]
  procs = [subprocess.Popen(_command(sweep, out, *hosts, "--process-id", str(i)),
                            env=_env(2), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True) for i in range(2)]
  outputs = [p.communicate(timeout=300) for p in procs]
  return [(p.returncode, err) for p, (_, err) in zip(procs, outputs)]


@pytest.mark.slow
def test_two_processes_give_the_same_results_as_one(tmp_path):
  # 9 runs padded to 12 over 4 devices in 2 processes.
  _run_with_devices(1, tmp_path / "one")
  sweep, out = tmp_path / "shard.py", tmp_path / "two"
  for code, err in _two_processes(sweep, out):
    assert code == 0, err[-2000:]
  manifest = json.loads((out / "manifest.json").read_text())
  assert manifest["device"]["count"] == 4 and manifest["device"]["processes"] == 2
  one, two = superjax.load(tmp_path / "one"), superjax.load(out)
  for name in ("W", "b", "loss", "loss_history"):
    np.testing.assert_allclose(two[name], one[name], rtol=1e-5, atol=1e-7, err_msg=name)
  # A directory the primary refuses stops every process in one line, none left waiting.
  (primary, primary_err), (other, other_err) = _two_processes(sweep, out, "--set", "steps=300")
  assert primary == other == 2, primary_err[-2000:] + other_err[-2000:]
  assert "steps" in primary_err and "process 0 refused" in other_err
  assert len(primary_err.strip().splitlines()) == 1


def test_cpu_hosts_get_one_device_per_core_unless_told(monkeypatch):
  from superjax.core import host
  monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {0, 1, 2}, raising=False)
  monkeypatch.setenv("XLA_FLAGS", "--xla_cpu_enable_fast_math=false")
  host.use_every_core()
  assert os.environ["XLA_FLAGS"] == ("--xla_cpu_enable_fast_math=false "
                                     "--xla_force_host_platform_device_count=3")
  monkeypatch.setenv("XLA_FLAGS", "--xla_force_host_platform_device_count=1")
  host.use_every_core()
  assert os.environ["XLA_FLAGS"] == "--xla_force_host_platform_device_count=1"


@pytest.mark.slow
def test_new_hyperparameter_values_reuse_the_compiled_program(tmp_path):
  # Densities and importances are traced: a second sweep of the same shapes in a new
  # process finds every program in the on-disk cache and compiles nothing new.
  cache = tmp_path / "cache"
  env = dict(_env(1), SUPERJAX_COMPILATION_CACHE=str(cache))
  sweep = tmp_path / "shard.py"
  sweep.write_text(_SWEEP)
  entries = []
  for density, importance in (("1.0,0.3,0.05", "0.9"), ("0.7,0.2,0.01", "0.8")):
    subprocess.run(_command(sweep, tmp_path / density, "--set", f"density={density}",
                            "--set", f"importance={importance}"),
                   env=env, check=True, capture_output=True, timeout=300)
    entries.append(sorted(p.name for p in cache.iterdir()))
  assert entries[0] and entries[1] == entries[0]


_UAND = """
from superjax.uand.config import tiny
CONFIG = tiny().replace(n=(8,), inputs=("basis",), train_steps=200, m=(32, 64),
                        constructions=("naive", "uand", "trained"))
"""


@pytest.mark.slow
def test_another_family_on_two_processes_gives_the_same_results(tmp_path):
  # U-AND: measurements on every process, trained circuits (2 seeds padded to 4 runs)
  # sharded over the 4 devices of both processes; the primary writes the results.
  sweep = tmp_path / "uand.py"
  sweep.write_text(_UAND)
  subprocess.run(_command(sweep, tmp_path / "one"), env=_env(1), check=True,
                 capture_output=True, timeout=300)
  for code, err in _two_processes(sweep, tmp_path / "two"):
    assert code == 0, err[-2000:]
  one, two = superjax.load(tmp_path / "one"), superjax.load(tmp_path / "two")
  assert json.loads((tmp_path / "two" / "manifest.json").read_text())["device"]["processes"] == 2
  for name in one.data_vars:
    np.testing.assert_allclose(two[name], one[name], rtol=1e-5, atol=1e-6, err_msg=name)
