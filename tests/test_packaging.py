"""A plain (non-editable) install carries the built-in sweeps: the wheel holds every sweep
file, and the installed package lists and runs them from an empty directory."""

import os
import shutil
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow  # whole runs from the CLI or several processes

ROOT = Path(__file__).parents[1]


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
  # Built from a copy, so the build leaves nothing in the checkout.
  source, out = tmp_path_factory.mktemp("source"), tmp_path_factory.mktemp("wheel")
  for name in ("pyproject.toml", "README.md"):
    shutil.copy(ROOT / name, source / name)
  for name in ("superjax", "sweeps"):
    shutil.copytree(ROOT / name, source / name, ignore=shutil.ignore_patterns("__pycache__"))
  subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation",
                  "--quiet", "-w", str(out), str(source)], check=True, capture_output=True,
                 timeout=300)
  return next(out.glob("superjax-*.whl"))


def test_the_wheel_holds_every_builtin_sweep(wheel):
  names = set(zipfile.ZipFile(wheel).namelist())
  sweeps = sorted(p.relative_to(ROOT / "sweeps") for p in (ROOT / "sweeps").rglob("*.py"))
  assert len(sweeps) >= 15
  for path in sweeps:
    assert f"superjax/sweeps/{path.as_posix()}" in names, path


def test_a_plain_install_lists_and_runs_a_sweep_from_an_empty_directory(wheel, tmp_path):
  target, empty = tmp_path / "installed", tmp_path / "empty"
  empty.mkdir()
  subprocess.run([sys.executable, "-m", "pip", "install", "--no-deps", "--quiet", "--target",
                  str(target), str(wheel)], check=True, capture_output=True, timeout=300)
  # -S: no site processing, so the checkout's editable install (a .pth hook) is not seen;
  # the dependencies come from this environment's site-packages as plain directories.
  paths = [str(target), sysconfig.get_paths()["purelib"]]
  env = dict(os.environ, PYTHONPATH=os.pathsep.join(paths))
  command = [sys.executable, "-S", "-m", "superjax"]
  listed = subprocess.run(command + ["list"], cwd=empty, env=env, capture_output=True, text=True,
                          timeout=120)
  assert listed.returncode == 0, listed.stderr
  for name in ("elhage_intro", "uand_scaling", "digits_robust_sae"):
    assert name in listed.stdout
  ran = subprocess.run(command + ["run", "elhage_intro", "--set", "steps=500", "--no-progress"],
                       cwd=empty, env=env, capture_output=True, text=True, timeout=300)
  assert ran.returncode == 0, ran.stderr
  assert str(target) in subprocess.run(
      [sys.executable, "-S", "-c", "import superjax; print(superjax.__file__)"], cwd=empty,
      env=env, capture_output=True, text=True).stdout
  assert (empty / "checkpoints" / "elhage_intro" / "figures" / "intro.png").exists()
