"""Finds sweep files: `sweeps/<name>.py` modules that define `CONFIG`, a config of one of
the experiments in superjax.experiments (most often `SweepConfig(...)`).

Searched in order: the directories in $SUPERJAX_SWEEPS (os.pathsep-separated), `./sweeps`,
and the `sweeps/` directory of the superjax source tree. A path to a .py file also works.
"""

from __future__ import annotations

import ast
import importlib.util
import os
from pathlib import Path
from typing import Any

from superjax import experiments
from superjax.core.errors import SuperjaxError


def sweep_dirs() -> list[Path]:
  dirs = [Path(p) for p in os.environ.get("SUPERJAX_SWEEPS", "").split(os.pathsep) if p]
  dirs += [Path.cwd() / "sweeps", Path(__file__).resolve().parents[2] / "sweeps"]
  unique = []
  for d in dirs:
    if d.is_dir() and d.resolve() not in [u.resolve() for u in unique]:
      unique.append(d)
  return unique


def available() -> dict[str, Path]:
  """Sweep name -> file, earlier directories taking precedence."""
  found = {}
  for d in sweep_dirs():
    for path in sorted(d.glob("*.py")):
      if not path.name.startswith("_"):
        found.setdefault(path.stem, path)
  return found


def summary(path: Path) -> str:
  """First line of a sweep file's docstring, read without importing it."""
  doc = ast.get_docstring(ast.parse(path.read_text())) or ""
  return doc.strip().splitlines()[0] if doc.strip() else ""


def load(name_or_path: str) -> Any:
  path = Path(name_or_path)
  if not (path.suffix == ".py" and path.is_file()):
    sweeps = available()
    if name_or_path not in sweeps:
      raise SuperjaxError(f"unknown sweep {name_or_path!r}; available: {', '.join(sorted(sweeps))}")
    path = sweeps[name_or_path]
  spec = importlib.util.spec_from_file_location(f"superjax_sweep_{path.stem}", path)
  module = importlib.util.module_from_spec(spec)
  spec.loader.exec_module(module)
  if not hasattr(module, "CONFIG"):
    raise SuperjaxError(f"{path} defines no CONFIG = SweepConfig(...)")
  experiments.name_of_config(module.CONFIG)  # raises if it is no experiment's config
  return module.CONFIG
