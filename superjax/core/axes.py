"""Named grid axes: the values a grid's runs take, as products of (zipped) groups.

  product(seed=range(4), lr=[1e-3, 3e-3])          8 runs: every seed with every lr
  product(zipped(lr=[1e-3, 1e-2], warmup=[0, 100]), seed=range(3))
                                                   6 runs: lr and warmup move together

A group is one axis of the labeled results: a plain axis is a group of one name; a zipped
group is named after its first member, the others its coordinates along it. Runs are laid
out in C order over the groups (the last group varies fastest), and each run's
hyperparameters are one traced scalar per name.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Iterable

import numpy as np

from superjax.core.config import ConfigError


def _values(name: str, values) -> tuple:
  if isinstance(values, (str, bytes)) or not isinstance(values, Iterable):
    values = (values,)
  values = tuple(v.item() if isinstance(v, np.generic) else v for v in values)
  if not values:
    raise ConfigError(f"{name}: an axis needs at least one value")
  for v in values:
    if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v):
      raise ConfigError(f"{name}: {v!r} is not a finite number (axes are traced numbers)")
  return values


@dataclasses.dataclass(frozen=True)
class Group:
  """Names whose values move together (one results axis)."""

  values: dict[str, tuple]

  def __post_init__(self):
    lengths = {name: len(v) for name, v in self.values.items()}
    if len(set(lengths.values())) > 1:
      raise ConfigError(f"zipped axes need equal lengths; got {lengths}")

  @property
  def dim(self) -> str:
    return next(iter(self.values))

  def __len__(self) -> int:
    return len(next(iter(self.values.values())))


def zipped(**axes) -> Group:
  """Axes that move together: their i-th values make one point of the grid."""
  if not axes:
    raise ConfigError("zipped() needs at least one axis")
  return Group({name: _values(name, v) for name, v in axes.items()})


@dataclasses.dataclass(frozen=True)
class Axes:
  """The product of groups (see the module docstring)."""

  groups: tuple[Group, ...]

  def __post_init__(self):
    names = [n for g in self.groups for n in g.values]
    repeated = sorted({n for n in names if names.count(n) > 1})
    if repeated:
      raise ConfigError(f"axis {repeated[0]!r} appears more than once")

  @property
  def names(self) -> list[str]:
    return [n for g in self.groups for n in g.values]

  @property
  def dims(self) -> tuple[str, ...]:
    return tuple(g.dim for g in self.groups)

  def varying(self, always=()) -> tuple[str, ...]:
    """The dims with more than one value, and those in `always`, in grid order: the dims
    of results that keep single-valued axes as scalar coordinates."""
    return tuple(g.dim for g in self.groups if len(g) > 1 or g.dim in always)

  @property
  def shape(self) -> tuple[int, ...]:
    return tuple(len(g) for g in self.groups)

  @property
  def size(self) -> int:
    return int(np.prod(self.shape, dtype=np.int64))

  def hparams(self) -> dict[str, np.ndarray]:
    """{name: (runs,) values}: int32 for axes of integers, else float32."""
    index = np.indices(self.shape).reshape(len(self.groups), -1)
    out = {}
    for g, idx in zip(self.groups, index):
      for name, values in g.values.items():
        ints = all(isinstance(v, int) for v in values)
        out[name] = np.asarray(values, np.int32 if ints else np.float32)[idx]
    return out

  def coords(self) -> dict[str, tuple[str, np.ndarray]]:
    """xarray coordinates: every name along its group's dim."""
    return {name: (g.dim, np.asarray(values)) for g in self.groups
            for name, values in g.values.items()}

  def points(self) -> list[dict[str, int | float]]:
    """Every run's axis values, in run order: a run's label outside a Dataset."""
    index = np.indices(self.shape).reshape(len(self.groups), -1).T
    return [{name: values[i] for g, i in zip(self.groups, at) for name, values in g.values.items()}
            for at in index]

  def run_index(self, dims) -> np.ndarray:
    """(runs,) each run's index in the grid of only the groups `dims` (C order over them,
    in this grid's order): which run of an earlier pass over those axes a run builds on,
    when this grid is `product(*earlier.groups, ...)`."""
    missing = [d for d in dims if d not in self.dims]
    if missing:
      raise ConfigError(f"{', '.join(missing)}: not axes of this grid ({', '.join(self.dims)})")
    index = np.indices(self.shape).reshape(len(self.groups), -1)
    kept = [i for i, d in enumerate(self.dims) if d in dims]
    if not kept:
      return np.zeros(self.size, np.int32)
    return np.ravel_multi_index(tuple(index[kept]),
                                tuple(self.shape[i] for i in kept)).astype(np.int32)

  def with_values(self, name: str, values) -> Axes:
    """These axes with `name`'s values replaced (a zipped member keeps its group's length)."""
    groups = []
    for g in self.groups:
      if name in g.values:
        g = Group(dict(g.values, **{name: _values(name, values)}))
      groups.append(g)
    if name not in self.names:
      raise ConfigError(f"unknown axis {name!r}; axes: {', '.join(self.names)}")
    return Axes(tuple(groups))

  def to_json(self) -> list[dict[str, list]]:
    return [{n: list(v) for n, v in g.values.items()} for g in self.groups]

  @classmethod
  def from_json(cls, data) -> Axes:
    return cls(tuple(Group({n: _values(n, v) for n, v in g.items()}) for g in data))


def product(*groups: Group, **axes) -> Axes:
  """Every combination of the zipped groups and the named axes, in the order given
  (groups first)."""
  return Axes(tuple(groups) + tuple(zipped(**{n: v}) for n, v in axes.items()))
