"""Runs the depth study: the epsilon of every layer of stacked U-AND layers computing a
sparse boolean circuit, with and without error-correction layers between them.

One pass of the core loop per width m (its shapes are static); its runs are every (p,
seed), and its steps the circuit's layers (superjax.deep_circuits.network), with state
under state/network_m<m>. Each finished width is kept in pieces/ of the run directory; a
killed run skips finished widths and resumes the unfinished one at its last saved layer.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import xarray as xr

from superjax.core import keys, loop, rundir
from superjax.core import results as results_lib
from superjax.core.axes import Axes, product
from superjax.core.progress import Progress
from superjax.deep_circuits import network
from superjax.deep_circuits.config import DeepCircuitsConfig

_DESCRIPTIONS = {
    "max_error": "max over test inputs (every input with every_input) and the layer's n "
                 "features of |readout - true value| "
                 "(readout: uncorrected = U-AND readouts of the stack without correction; "
                 "corrected = U-AND readouts of the stack with correction layers, before this "
                 "layer's correction; cleaned = output of this layer's correction)",
    "mean_error": "mean over test inputs and features of |readout - true value|",
    "diverged": "a readout's error turned non-finite (the run is frozen there)",
}


def axes(cfg: DeepCircuitsConfig) -> Axes:
  """A width's pass: every p x seed, seeds fastest."""
  return product(p=cfg.p, seed=range(cfg.seeds))


def work(cfg: DeepCircuitsConfig) -> int:
  """Layers of the study: one circuit layer of one run (both networks)."""
  return len(cfg.m) * len(cfg.p) * cfg.seeds * cfg.depth


def pass_name(m: int) -> str:
  return f"network_m{m}"


def width_pass(cfg: DeepCircuitsConfig, m: int, run_dir: Path) -> loop.Pass:
  """Both networks at width m, one run per (p, seed): a layer per step."""
  c = network.Network(n=cfg.n, s=cfg.s, m=m, active=cfg.active, test_inputs=cfg.test_inputs,
                      every_input=cfg.every_input)
  values = axes(cfg).hparams()
  schedule = loop.Schedule(steps=cfg.depth, log_every=1,
                           checkpoint_every=cfg.checkpoint_every)
  return loop.Pass(network.program(c, pass_name(m)),
                   keys.run_keys(cfg.base_seed, values["seed"]),
                   {"p": values["p"].astype(np.float32)}, schedule, run_dir, meta={"config": cfg.computed_part()})


def measure_width(cfg: DeepCircuitsConfig, m: int, run_dir: Path, progress: Progress,
                  timings: dict) -> xr.Dataset:
  """Both networks at width m for every (p, seed), as a dataset with an `m` axis; the
  pass's timings go into `timings`."""
  trained = width_pass(cfg, m, run_dir).train(progress)
  on_grid = lambda values: results_lib.on_dims(axes(cfg), values, ("p", "seed"))
  stat = lambda name, kind: on_grid(trained.history[f"{name}_{kind}"])
  dims = ("readout", "m", "p", "seed", "layer")
  data = {kind + "_error": (dims, np.stack([stat(r, kind) for r in network.READOUTS])[:, None]
                            .astype(np.float32))
          for kind in ("max", "mean")}
  data["diverged"] = (("m", "p", "seed"), on_grid(trained.diverged)[None])
  coords = {"readout": list(network.READOUTS), "m": [m], "p": list(cfg.p),
            "seed": np.arange(cfg.seeds), "layer": np.arange(1, cfg.depth + 1)}
  timings[pass_name(m)] = trained.timings()
  return xr.Dataset(data, coords=coords)


def run(cfg: DeepCircuitsConfig, run_dir: Path, progress: Progress) -> tuple[xr.Dataset, dict]:
  """Measures every width (resuming finished widths from pieces/, an unfinished one from
  its pass's state)."""
  parts, timings = [], {}
  per_width = len(cfg.p) * cfg.seeds * cfg.depth
  for m in cfg.m:
    part, seconds = rundir.piece(run_dir, f"m{m:07d}",
                               lambda m=m: measure_width(cfg, m, run_dir, progress, timings),
                               progress, per_width, f"m={m}")
    if seconds is not None:
      timings[f"m={m}"] = seconds
    parts.append(part)
  ds = xr.concat(parts, dim="m", data_vars="minimal", coords="minimal", join="exact")
  ds["diverged"] = ds["diverged"].astype(bool)
  for name, text in _DESCRIPTIONS.items():
    ds[name].attrs["description"] = text
  return ds, timings
