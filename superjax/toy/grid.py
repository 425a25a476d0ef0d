"""The grid: named axes of per-run hyperparameters, flattened into arrays.

The core loop vmaps over the flat run axis; results are reshaped back onto the named axes.
"""

from __future__ import annotations

import flax.struct
import jax
import numpy as np

from superjax.toy.config import CORRELATIONS, SweepConfig

# Order of the flattened axes. `density` and `seed` are always dimensions of the results;
# the others only when the sweep gives them more than one value.
AXES = ("density", "relative_density", "importance", "relative_importance", "correlation",
        "alpha", "train_eps", "lr", "seed")
ALWAYS_DIMS = ("density", "seed")


@flax.struct.dataclass
class HParams:
  """Per-run hyperparameters, traced (each a scalar for one run, shape (runs,) for a grid)."""

  density: jax.Array
  relative_density: jax.Array
  importance: jax.Array
  relative_importance: jax.Array
  correlation: jax.Array  # index into config.CORRELATIONS
  alpha: jax.Array
  train_eps: jax.Array
  lr: jax.Array
  seed: jax.Array


class Grid:
  """The Cartesian product of a config's axes."""

  def __init__(self, cfg: SweepConfig):
    # Labels for the results; `_values` are what the runs receive (correlation as an index).
    self.coords = {
        "density": np.asarray(cfg.density, np.float32),
        "relative_density": np.asarray(cfg.relative_density, np.float32),
        "importance": np.asarray(cfg.importance, np.float32),
        "relative_importance": np.asarray(cfg.relative_importance, np.float32),
        "correlation": np.asarray(cfg.correlation),
        "alpha": np.asarray(cfg.alpha, np.float32),
        "train_eps": np.asarray(cfg.train_eps, np.float32),
        "lr": np.asarray(cfg.lr, np.float32),
        "seed": np.arange(cfg.seeds, dtype=np.int32),
    }
    self._values = dict(self.coords, correlation=np.asarray(
        [CORRELATIONS.index(c) for c in cfg.correlation], np.int32))
    self.full_shape = tuple(len(self.coords[a]) for a in AXES)
    self.dims = tuple(a for a in AXES if a in ALWAYS_DIMS or len(self.coords[a]) > 1)
    self.shape = tuple(len(self.coords[a]) for a in self.dims)
    self.size = int(np.prod(self.full_shape))

  def on_axes(self, values, dims: tuple[str, ...]) -> np.ndarray:
    """Per-run values (runs, ...) laid on the grid's axes `dims`, in the order given, at the
    first value of every other axis: (*[len of each dim], ...). How another family reads
    a toy grid's runs without knowing the order they are flattened in."""
    values = np.asarray(values)
    unknown = [d for d in dims if d not in AXES]
    if unknown:
      raise ValueError(f"{unknown} are not toy grid axes ({', '.join(AXES)})")
    full = values.reshape(self.full_shape + values.shape[1:])
    picked = full[tuple(slice(None) if a in dims else 0 for a in AXES)]
    kept = [a for a in AXES if a in dims]
    return np.moveaxis(picked, [kept.index(d) for d in dims], list(range(len(dims))))

  def hparams(self, start: int = 0, stop: int | None = None) -> HParams:
    """Hyperparameters of runs [start, stop) of the flattened grid, as numpy arrays."""
    index = np.unravel_index(np.arange(start, self.size if stop is None else stop),
                             self.full_shape)
    return HParams(**{a: self._values[a][i] for a, i in zip(AXES, index)})

  def chunks(self, chunk_size: int) -> list[tuple[int, int]]:
    """[start, stop) bounds of consecutive chunks; chunk_size 0 means one chunk."""
    size = chunk_size or self.size
    return [(s, min(s + size, self.size)) for s in range(0, self.size, size)]

  def unflatten(self, values: np.ndarray) -> np.ndarray:
    """(runs, ...) -> (*grid dims, ...), dropping single-valued axes that are not dims."""
    return values.reshape(self.shape + values.shape[1:])
