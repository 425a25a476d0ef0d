"""What every experiment's config shares: a frozen dataclass, validated when built, with
one-line errors that name the field, `--set key=value` parsing, JSON and comparison.

A family's config subclasses `Config` as a frozen dataclass and validates itself in
`validate` with `check`. Tuple-typed fields accept any sequence (or a scalar) and are
stored as tuples. Fields renamed since an earlier release are listed in `RENAMED`: a saved
config or a `--set` that uses the old name is refused with a line naming the new one.
"""

from __future__ import annotations

import dataclasses
import json
import math
import re
from typing import Any, ClassVar

import numpy as np

from superjax.core.errors import SuperjaxError

# Fields that describe how results are presented, not how they are computed: a run may be
# resumed with them changed (a model file's path among them: the same model may be run
# from a copy, or by name from an installed package).
PRESENTATION_FIELDS = ("description", "figures", "reports", "file")


class ConfigError(SuperjaxError):
  """Bad user input; the message is one line that names the field."""


def check(ok: bool, field: str, message: str) -> None:
  """Raises ConfigError("field: message") unless ok."""
  if not ok:
    raise ConfigError(f"{field}: {message}")


def is_int(value: Any) -> bool:
  return isinstance(value, (int, np.integer)) and not isinstance(value, bool)


def check_int(cfg: Any, field: str, low: int) -> None:
  value = getattr(cfg, field)
  check(is_int(value) and value >= low, field, f"{value!r} must be an integer >= {low}")


def check_positive(cfg: Any, field: str) -> None:
  value = getattr(cfg, field)
  check(isinstance(value, (int, float)) and math.isfinite(value) and value > 0, field,
        f"{value!r} must be > 0")


def check_choices(field: str, values: tuple, allowed: tuple, at_least_one: bool = True) -> None:
  """Every value one of `allowed`, each at most once (and at least one value)."""
  if at_least_one:
    check(len(values) > 0, field, f"need at least one of {', '.join(allowed)}")
  check(len(set(values)) == len(values), field, "each value at most once")
  for v in values:
    check(v in allowed, field, f"{v!r} is not one of {', '.join(allowed)}")


class Config:
  """Base of every experiment's frozen config dataclass.

  Subclasses are `@dataclasses.dataclass(frozen=True)` with a `name` field and override
  `validate`. `EXPERIMENT` names the experiment that runs them (core.experiment).
  """

  EXPERIMENT: ClassVar[str] = ""
  # Old field name -> what replaced it, for a one-line refusal of saved configs.
  RENAMED: ClassVar[dict[str, str]] = {}

  def __post_init__(self):
    for field in dataclasses.fields(self):
      value = getattr(self, field.name)
      if _is_tuple_field(field) and not isinstance(value, tuple):
        object.__setattr__(self, field.name, tuple(np.atleast_1d(value).tolist()))
    check(bool(getattr(self, "name", "x")), "name", "must not be empty")
    self.validate()

  def validate(self) -> None:
    """Raises ConfigError naming the first bad field."""

  def replace(self, **changes):
    _check_keys(type(self), changes)
    return dataclasses.replace(self, **changes)

  def to_dict(self) -> dict[str, Any]:
    return {f.name: (list(v) if isinstance(v := getattr(self, f.name), tuple) else v)
            for f in dataclasses.fields(self)}

  def to_json(self) -> str:
    return json.dumps(self.to_dict(), indent=2)

  @classmethod
  def from_dict(cls, data: dict[str, Any]):
    _check_keys(cls, data)
    return cls(**{k: tuple(v) if isinstance(v, list) else v for k, v in data.items()})

  def computed_part(self) -> dict[str, Any]:
    """The fields that change what is computed, as JSON-ready values."""
    return {k: v for k, v in self.to_dict().items() if k not in PRESENTATION_FIELDS}

  def with_overrides(self, assignments: list[str]):
    """Applies `key=value` strings, as given to `--set`."""
    return apply_overrides(self, assignments)


def _check_keys(cls, names) -> None:
  """Every name is a field of `cls`; a renamed one is refused with its new name."""
  known = {f.name for f in dataclasses.fields(cls)}
  for name in names:
    if name in known:
      continue
    if name in cls.RENAMED:
      raise ConfigError(f"config key {name!r} is now {cls.RENAMED[name]}")
    raise ConfigError(f"unknown config key {name!r}; known keys: {', '.join(sorted(known))}")


def apply_overrides(cfg: Config, assignments: list[str]) -> Config:
  """Applies `key=value` strings (as given to `--set`) to a config, parsing each value by
  its field's type; the config validates itself when rebuilt."""
  fields = {f.name: f for f in dataclasses.fields(cfg)}
  changes = {}
  for assignment in assignments:
    key, sep, text = assignment.partition("=")
    key = key.strip()
    if not sep:
      raise ConfigError(f"--set {assignment!r}: expected key=value")
    _check_keys(type(cfg), [key])
    changes[key] = parse_value(fields[key], text.strip())
  return cfg.replace(**changes)


def with_values(cfg: Config, values: dict[str, Any]) -> Config:
  """`cfg` with fields set from Python values (lists, numbers, or `--set` strings such as
  "logspace(-3,0,30)" for a numeric field)."""
  if hasattr(cfg, "with_values"):  # a config with keys beyond its fields (a model's axes)
    return cfg.with_values(values)
  fields = {f.name: f for f in dataclasses.fields(cfg)}
  _check_keys(type(cfg), values)
  changes = {}
  for key, value in values.items():
    if key in fields and isinstance(value, str) and str(fields[key].type) != "str":
      value = parse_value(fields[key], value)
    changes[key] = value
  return cfg.replace(**changes)


def _is_tuple_field(field: dataclasses.Field) -> bool:
  return str(field.type).startswith("tuple")


_SPACE = re.compile(r"^(linspace|logspace|geomspace)\(([^)]*)\)$")


def parse_value(field: dataclasses.Field, text: str) -> Any:
  """A `--set` string read as the field's type: numbers, booleans, comma-separated lists
  and linspace/logspace/geomspace(start,stop,num) for numeric tuples."""
  kind = str(field.type)
  try:
    if kind.startswith("tuple[str"):
      return tuple(s.strip() for s in text.split(",") if s.strip())
    if kind.startswith("tuple"):
      space = _SPACE.match(text.replace(" ", ""))
      if space:
        fn, args = space.groups()
        start, stop, num = (float(a) for a in args.split(","))
        return tuple(getattr(np, fn)(start, stop, int(num)).tolist())
      numbers = tuple(float(s) for s in text.strip("[]()").split(",") if s.strip())
      if kind.startswith("tuple[int"):
        if not all(x.is_integer() for x in numbers):
          raise ValueError(text)
        return tuple(int(x) for x in numbers)
      return numbers
    if kind == "bool":
      if text.lower() in ("1", "true", "yes"):
        return True
      if text.lower() in ("0", "false", "no"):
        return False
      raise ValueError(text)
    if kind == "int":
      return int(float(text)) if float(text).is_integer() else int(text)
    if kind == "float":
      return float(text)
    return text
  except ValueError:
    hint = ("a comma-separated list of numbers or linspace/logspace/geomspace(start,stop,num)"
            if kind.startswith("tuple") else f"a value of type {kind}")
    raise ConfigError(f"{field.name}: cannot read {text!r}; expected {hint}") from None
