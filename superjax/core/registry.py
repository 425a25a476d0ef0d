"""Which experiment families exist, by name, without importing any of them.

`superjax/__init__.py` registers the built-in families; installed packages add theirs
under the `superjax.experiments` entry-point group, e.g. in their pyproject.toml:

  [project.entry-points."superjax.experiments"]
  mine = "mypkg:EXPERIMENT"

core.experiment imports a family when it is first needed.
"""

from __future__ import annotations

import importlib.metadata

ENTRY_POINTS = "superjax.experiments"

# name -> "module:attribute" of its Experiment.
_REGISTERED: dict[str, str] = {}
_entry_points_read = False


def register(name: str, where: str) -> None:
  """Registers the Experiment found at `where` ("package.module:ATTRIBUTE") as `name`."""
  _REGISTERED[name] = where


def _read_entry_points() -> None:
  global _entry_points_read
  if not _entry_points_read:
    _entry_points_read = True
    for point in importlib.metadata.entry_points(group=ENTRY_POINTS):
      _REGISTERED.setdefault(point.name, point.value)


def names() -> list[str]:
  """Every registered experiment, in registration order (built-in families first)."""
  _read_entry_points()
  return list(_REGISTERED)


def where(name: str) -> str:
  return _REGISTERED[name]
