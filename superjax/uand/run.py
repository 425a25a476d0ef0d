"""Runs the U-AND scaling study: how wide one ReLU layer must be to compute every pairwise
AND of n boolean features.

For each n, sparsity s and input setting (a cell), every construction is measured on the
same test inputs per seed at a grid of hidden widths m (superjax.uand.measure): the max
and mean epsilon of its pair readouts. `width_needed` is the smallest tested width whose
max error is at most `target`; the report fits width_needed ~ n^slope on log-log axes with
a bootstrap over seeds and sets it beside the theory.

The trained circuits train through the core loop, one pass per (n, s, inputs, m) whose
runs are the seeds (state/circuit_...). Each finished n is kept in pieces/ of the run
directory; a killed run resumes at the first unfinished n, inside its training pass.
"""

from __future__ import annotations

import functools
import time
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
import xarray as xr

from superjax.core import loop, rundir
from superjax.core.axes import product
from superjax.core.errors import SuperjaxError
from superjax.core.progress import Progress
from superjax.uand import circuit, measure
from superjax.uand.config import UAndConfig
from superjax.uand.inputs import pair_count, superposed_dims
from superjax.uand.report import smallest_width

_DESCRIPTIONS = {
    "max_error": "max over test inputs (every input with every_input) and all pairs of "
                 "|r_ij . a(x) - x_i x_j| (uand: at the p with the lowest seed-mean max error "
                 "at that width; NaN: not measured)",
    "mean_error": "mean over test inputs and all pairs of |r_ij . a(x) - x_i x_j| (NaN for "
                  "uand on basis inputs with every_input: its exact worst case reads no inputs)",
    "feature_max_error": "max error of matched readouts of the single features x_i",
    "feature_mean_error": "mean error of matched readouts of the single features x_i",
    "features_per_neuron": "mean participation ratio of a neuron's weights on the features",
    "naive_max_error": "max error of the naive layer at its own width n(n-1)/2",
    "uand_max_error": "max pair error of U-AND for every p",
    "uand_mean_error": "mean pair error of U-AND for every p",
    "width_needed": "smallest tested hidden width m with max_error <= target (uand: over every "
                    "p; naive: n(n-1)/2 when exact enough; NaN: no tested width is enough)",
    "naive_width": "n(n-1)/2, the naive construction's neuron count",
    "d0": "input dimensions of the superposed setting",
    "p_value": "probability that a U-AND neuron reads a feature at n: p * n**(-p_exponent)",
    "input_max_error": "max over test inputs and features of |e_i . (E f) - f_i|: the "
                       "identity readouts of the superposed features themselves (0: basis)",
}


def work(cfg: UAndConfig) -> int:
  """Cells of the study: one construction measured at one (n, s, inputs)."""
  return len(cfg.n) * len(cfg.s) * len(cfg.inputs) * len(cfg.constructions)


def circuit_pass_name(n: int, s: int, inputs: str, m: int) -> str:
  return f"circuit_n{n}_s{s}_{inputs}_m{m}"


def circuit_pass(cfg: UAndConfig, n: int, s: int, inputs: str, width: int,
                 run_dir: Path) -> loop.Pass:
  """The trained circuits of one (n, s, inputs) cell at width `width`: one run per seed,
  keyed by the cell's seed keys."""
  c = circuit.Circuit(n=n, s=s, m=width, d0=measure.d0_of(cfg, n, inputs), active=cfg.active,
                      steps=cfg.train_steps, batch=cfg.train_batch, lr=cfg.lr,
                      embedding=cfg.embedding)
  schedule = loop.Schedule(steps=cfg.train_steps, log_every=min(cfg.log_every, cfg.train_steps),
                           checkpoint_every=cfg.checkpoint_every)
  return loop.Pass(circuit.program(c, circuit_pass_name(n, s, inputs, width)),
                   measure.seed_keys(cfg, n, s, inputs),
                   product(seed=range(cfg.seeds)).hparams(), schedule, run_dir,
                   meta={"config": cfg.computed_part()})


def passes(cfg: UAndConfig, run_dir: Path) -> list[loop.Pass]:
  """Every trained-circuit pass the config determines (Experiment.passes)."""
  if "trained" not in cfg.constructions:
    return []
  return [circuit_pass(cfg, n, s, inputs, width, run_dir) for n in cfg.n
          if n <= cfg.trained_max_n for s in cfg.s for inputs in cfg.inputs
          for width in cfg.trained_m]


def _train_circuits(cfg: UAndConfig, n: int, s: int, inputs: str, width: int, keys: jax.Array,
                    run_dir: Path) -> tuple[dict[str, np.ndarray], float]:
  """Trains one circuit per seed at width `width` (resuming), then measures each seed's
  from the pass's saved state; returns the measurements (seeds first) and the seconds."""
  circuits = circuit_pass(cfg, n, s, inputs, width, run_dir)
  trained = circuits.train()
  states = circuits.final_states()
  # One seed at a time on one device: the readout fit's Cholesky factorisations, vmapped
  # over runs sharded on several CPU devices, deadlock XLA's CPU runtime at width 256.
  per_seed = [measure.trained(cfg, n, s, width, keys[i],
                              jax.tree.map(lambda a, i=i: a[i], states))
              for i in range(cfg.seeds)]
  return ({k: np.stack([np.asarray(m[k]) for m in per_seed]) for k in per_seed[0]},
          trained.seconds)


def measure_n(cfg: UAndConfig, n: int, run_dir: Path, progress: Progress,
              timings: dict) -> xr.Dataset:
  """Every construction, s and input setting at one n, as a dataset with an `n` axis."""
  C, I, S, M, N = (len(cfg.constructions), len(cfg.inputs), len(cfg.s), len(cfg.m), cfg.seeds)
  full = lambda *shape: np.full(shape, np.nan, np.float32)
  err = full(C, I, S, M, N, 2)
  feature_err = full(C, I, S, M, N, 2)
  reads = full(C, I, S, M, N)
  naive_err = full(I, S, N, 2)
  uand_err = full(I, S, len(cfg.p), M, N, 2)
  input_err = full(I, S, N)
  for si, s in enumerate(cfg.s):
    for ii, inputs in enumerate(cfg.inputs):
      keys = measure.seed_keys(cfg, n, s, inputs)
      input_err[ii, si] = np.asarray(jax.vmap(
          functools.partial(measure.input_error, cfg, n, s, inputs))(keys))
      for ci, construction in enumerate(cfg.constructions):
        t0 = time.perf_counter()
        if construction == "naive":
          if measure.exact_without_inputs(cfg, inputs):
            out = np.broadcast_to(measure.naive_every_input(cfg, n, s), (N, M + 1, 2))
          else:
            out = np.asarray(jax.vmap(functools.partial(measure.naive, cfg, n, s, inputs))(keys))
          err[ci, ii, si] = out[:, :-1].transpose(1, 0, 2)
          naive_err[ii, si] = out[:, -1]
          reads[ci, ii, si] = 2.0
        elif construction == "uand":
          p = jnp.asarray(cfg.p_at(n), jnp.float32)
          over_runs = lambda fn: jax.vmap(jax.vmap(fn, (0, None)), (None, 0))
          caps = None
          if not measure.exact_without_inputs(cfg, inputs):
            # Sum only the neurons active on an input: the most in any run, per block.
            active = over_runs(functools.partial(measure.uand_active, cfg, n, s, inputs))
            caps = tuple(int(c) for c in np.asarray(active(keys, p)).max(axis=(0, 1)))
          fn = over_runs(functools.partial(measure.uand, cfg, n, s, inputs, caps=caps))
          out, per_neuron, overflow = fn(keys, p)  # (p, seed, m, 2), (p, seed), (p, seed)
          if bool(np.any(overflow)):
            raise SuperjaxError(f"n={n} s={s}: a block of U-AND neurons held a feature more "
                                "often than the exact worst case gathers; widen block_caps")
          out = np.asarray(out).transpose(0, 2, 1, 3)
          uand_err[ii, si] = out
          # At each width the p with the lowest max error, averaged over seeds.
          best = np.argmin(out[..., 0].mean(axis=2), axis=0)
          err[ci, ii, si] = out[best, np.arange(M)]
          reads[ci, ii, si] = np.asarray(per_neuron).mean(axis=1)[best][:, None]
        elif construction == "random_mlp" and n <= cfg.fitted_max_n:
          # Seeds one at a time: vmapping the Cholesky factorisations of wide layers
          # deadlocks the XLA CPU runtime (jax 0.7); the program still compiles once.
          outs = [measure.random_mlp(cfg, n, s, inputs, key) for key in keys]
          pair, single, per_neuron = (np.stack([np.asarray(o[k]) for o in outs]) for k in range(3))
          k = len(measure.fitted_widths(cfg))
          err[ci, ii, si, :k] = pair.transpose(1, 0, 2)
          feature_err[ci, ii, si, :k] = single.transpose(1, 0, 2)
          reads[ci, ii, si, :k] = per_neuron[None, :]
        elif construction == "trained" and n <= cfg.trained_max_n:
          for width in cfg.trained_m:
            wi = cfg.m.index(width)
            out, seconds = _train_circuits(cfg, n, s, inputs, width, keys, run_dir)
            timings[circuit_pass_name(n, s, inputs, width)] = seconds
            err[ci, ii, si, wi] = out["pair"]
            feature_err[ci, ii, si, wi] = out["single"]
            reads[ci, ii, si, wi] = out["features_per_neuron"]
        progress.update(1, note=f"n={n} s={s} {inputs} {construction} "
                                f"({time.perf_counter() - t0:.1f} s)")
  coords = {"construction": list(cfg.constructions), "inputs": list(cfg.inputs),
            "s": list(cfg.s), "n": [n], "m": list(cfg.m), "seed": np.arange(N),
            "p": list(cfg.p)}
  lead = ("construction", "inputs", "s", "n", "m", "seed")
  data = {
      "max_error": (lead, err[:, :, :, None, ..., 0]),
      "mean_error": (lead, err[:, :, :, None, ..., 1]),
      "feature_max_error": (lead, feature_err[:, :, :, None, ..., 0]),
      "feature_mean_error": (lead, feature_err[:, :, :, None, ..., 1]),
      "features_per_neuron": (lead, reads[:, :, :, None]),
      "naive_max_error": (("inputs", "s", "n", "seed"), naive_err[:, :, None, :, 0]),
      "uand_max_error": (("inputs", "s", "n", "p", "m", "seed"), uand_err[:, :, None, ..., 0]),
      "uand_mean_error": (("inputs", "s", "n", "p", "m", "seed"), uand_err[:, :, None, ..., 1]),
      "p_value": (("n", "p"), np.asarray([cfg.p_at(n)], np.float32)),
      "input_max_error": (("inputs", "s", "n", "seed"), input_err[:, :, None]),
  }
  return xr.Dataset(data, coords=coords)


def _width_needed(cfg: UAndConfig, ds: xr.Dataset) -> xr.DataArray:
  needed = smallest_width(ds["max_error"], cfg.target)
  if "uand" in cfg.constructions:
    needed.loc[{"construction": "uand"}] = smallest_width(ds["uand_max_error"],
                                                          cfg.target).min("p")
  if "naive" in cfg.constructions:
    naive = ds["naive_width"].astype(np.float32).where(ds["naive_max_error"] <= cfg.target)
    needed.loc[{"construction": "naive"}] = naive.transpose(*needed.sel(construction="naive").dims)
  return needed


def _assemble(cfg: UAndConfig, parts: list[xr.Dataset]) -> xr.Dataset:
  ds = xr.concat(parts, dim="n", data_vars="minimal", coords="minimal", join="exact")
  ds["naive_width"] = ("n", np.asarray([pair_count(n) for n in cfg.n], np.int64))
  ds["d0"] = ("n", np.asarray([superposed_dims(n, cfg.d0_scale, cfg.d0_exponent,
                                               cfg.d0_at_most_n) for n in cfg.n], np.int64))
  ds["width_needed"] = _width_needed(cfg, ds)
  for name, text in _DESCRIPTIONS.items():
    ds[name].attrs["description"] = text
  return ds


def run(cfg: UAndConfig, run_dir: Path, progress: Progress) -> tuple[xr.Dataset, dict]:
  """Measures every construction at every n (resuming finished n from pieces/, and an
  unfinished trained circuit from its training state)."""
  per_n = len(cfg.s) * len(cfg.inputs) * len(cfg.constructions)
  parts, timings = [], {}
  for n in cfg.n:
    part, seconds = rundir.piece(run_dir, f"n{n:05d}",
                               lambda n=n: measure_n(cfg, n, run_dir, progress, timings),
                               progress, per_n, f"n={n}")
    if seconds is not None:
      timings[f"n={n}"] = seconds
    parts.append(part)
  return _assemble(cfg, parts), timings
