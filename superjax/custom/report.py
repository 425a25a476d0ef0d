"""The default report of a Model's grid: each metric's final value (the last segment's
mean) over the grid, with its spread over seeds, and the diverged runs."""

from __future__ import annotations

import numpy as np
import xarray as xr

from superjax.core.experiment import config_of


def own(cfg, what: str):
  """The Model's own report or figures function, if it has one and can be found (a model
  file that is gone or broken gets the default, and a line saying why)."""
  from superjax.core.errors import SuperjaxError
  from superjax.core.progress import say
  from superjax.custom.run import model_of
  try:
    return getattr(model_of(cfg), what)
  except SuperjaxError as e:
    say(f"{cfg.name}: the default {what} ({e})")
    return None


def final_metrics(dataset: xr.Dataset) -> dict[str, xr.DataArray]:
  """Every number per run on the grid's dims: the scalars `finish` returned, then each
  training metric's last segment mean ("final <metric>")."""
  names = [n for n in dataset.attrs.get("metrics", "").split(",") if n]
  grid_dims = dataset["diverged"].dims
  out = {name: value for name, value in dataset.data_vars.items()
         if value.dims == grid_dims and name != "diverged"
         and not name.endswith("_history")}
  out.update({f"final {n}": dataset[f"{n}_history"].isel(step=-1) for n in names})
  return out


def render(dataset: xr.Dataset) -> str:
  cfg = config_of(dataset)
  custom = own(cfg, "report")
  if custom is not None:
    return custom(dataset)
  grid = cfg.grid()
  lines = [f"{cfg.name}: {grid.size} runs over {' x '.join(f'{d} ({n})' for d, n in zip(grid.dims, grid.shape))}, "
           f"{cfg.steps} steps"]
  diverged = int(np.sum(dataset["diverged"].values))
  lines.append(f"diverged runs: {diverged}")
  by = [d for d in grid.dims if d != "seed"]
  for metric, value in final_metrics(dataset).items():
    lines.append(f"\n{metric}" + (" (mean [min, max] over seeds)" if "seed" in value.dims
                                   else ""))
    if "seed" in value.dims:
      mean, low, high = value.mean("seed"), value.min("seed"), value.max("seed")
    else:
      mean = low = high = value
    shape = [mean.sizes[d] for d in by]
    cells = list(np.ndindex(*shape))
    for i, index in enumerate(cells[:40]):
      pick = dict(zip(by, index))
      label = ", ".join(f"{d}={float(mean[d].values[j]):g}" for d, j in pick.items()) or "all"
      lines.append(f"  {label:<40} {float(mean.isel(pick)):.6g} "
                   f"[{float(low.isel(pick)):.6g}, {float(high.isel(pick)):.6g}]")
    if len(cells) > 40:
      lines.append(f"  ... {len(cells) - 40} more cells in results.nc")
  return "\n".join(lines)
