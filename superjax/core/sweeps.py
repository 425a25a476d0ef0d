"""Sweep files: Python modules that define `CONFIG`, a config of a registered experiment,
or `MODEL`, a researcher's own model and its grid (superjax.custom).

The built-in sweeps ship inside the package (`superjax.sweeps`, one folder per family),
so a plain install lists and runs them from any directory. A user's own sweep files are
found, before the built-in ones, in the directories of $SUPERJAX_SWEEPS (os.pathsep-
separated) and in ./sweeps; a path to a .py file works too.
"""

from __future__ import annotations

import ast
import importlib.resources
import importlib.util
import os
import types
from pathlib import Path

from superjax.core import experiment
from superjax.core.config import Config
from superjax.core.errors import SuperjaxError

BUILTIN_PACKAGE = "superjax.sweeps"


def builtin_dir() -> Path:
  return Path(str(importlib.resources.files(BUILTIN_PACKAGE)))


def sweep_dirs() -> list[Path]:
  """Directories searched for sweep files, earlier ones first."""
  dirs = [Path(p) for p in os.environ.get("SUPERJAX_SWEEPS", "").split(os.pathsep) if p]
  dirs += [Path.cwd() / "sweeps", builtin_dir()]
  unique = []
  for d in dirs:
    if d.is_dir() and d.resolve() not in [u.resolve() for u in unique]:
      unique.append(d)
  return unique


def available() -> dict[str, Path]:
  """Sweep name -> file, found in every folder below each search directory; earlier
  directories take precedence."""
  found = {}
  for d in sweep_dirs():
    for path in sorted(d.rglob("*.py")):
      if not path.name.startswith("_"):
        found.setdefault(path.stem, path)
  return found


def family(path: Path) -> str:
  """The folder a sweep file sits in below its search directory ('' at the top)."""
  for d in sweep_dirs():
    if path.resolve().is_relative_to(d.resolve()):
      parent = path.resolve().parent.relative_to(d.resolve())
      return str(parent) if str(parent) != "." else ""
  return ""


def summary(path: Path) -> str:
  """First line of a sweep file's docstring, read without importing it."""
  try:
    doc = ast.get_docstring(ast.parse(path.read_text())) or ""
  except (OSError, SyntaxError, ValueError) as e:
    return f"(unreadable: {type(e).__name__})"
  return doc.strip().splitlines()[0] if doc.strip() else ""


def execute(path: Path) -> types.ModuleType:
  """A sweep or model file run as a module; it is user code, so any error it raises is
  its own and becomes one line naming the file."""
  spec = importlib.util.spec_from_file_location(f"superjax_sweep_{path.stem}", path)
  module = importlib.util.module_from_spec(spec)
  try:
    spec.loader.exec_module(module)
  except SuperjaxError:
    raise
  except Exception as e:
    first = (str(e).splitlines() or [""])[0][:200]
    raise SuperjaxError(f"{path}: {type(e).__name__}: {first}") from None
  return module


def load(name_or_path: str | os.PathLike) -> Config:
  """The CONFIG of a sweep, by name (see `available`) or by path."""
  path = Path(name_or_path)
  if path.suffix == ".py" and not path.is_file():
    raise SuperjaxError(f"model file {path} does not exist")
  if not (path.suffix == ".py" and path.is_file()):
    sweeps = available()
    if str(name_or_path) not in sweeps:
      raise SuperjaxError(f"unknown sweep {str(name_or_path)!r}; available: "
                          f"{', '.join(sorted(sweeps))}")
    path = sweeps[str(name_or_path)]
  module = execute(path)
  if hasattr(module, "MODEL") and not hasattr(module, "CONFIG"):
    # A superjax.Model makes its own config (the custom family's, registered like any).
    make = getattr(module.MODEL, "config", None)
    cfg = make(file=str(path.resolve())) if callable(make) else None
    if not isinstance(cfg, Config):
      raise SuperjaxError(f"{path}: MODEL is a {type(module.MODEL).__name__}, not a "
                          "superjax.Model")
    experiment.of_config(cfg)
    return cfg
  if not hasattr(module, "CONFIG"):
    raise SuperjaxError(f"{path} defines no CONFIG (e.g. CONFIG = SweepConfig(...)) and no "
                        "MODEL (MODEL = superjax.Model(...))")
  experiment.of_config(module.CONFIG)  # raises if it is no experiment's config
  return module.CONFIG
