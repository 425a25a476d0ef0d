"""The U-AND experiment: how wide a one-layer MLP must be to compute every pairwise AND.

For each number of features m, sparsity s and input setting, every construction of
superjax.uand is measured on the same test inputs (per seed) at a grid of widths: the max
and mean epsilon of its pair readouts (superjax.readout). `width_needed` is the smallest
tested width whose max error is at most `target`; the report fits width_needed ~ m^slope
on log-log axes with a bootstrap over seeds and sets it beside the theory.

Shapes are static per (m, s, inputs): U-AND is one jitted program vmapped over (p, seed)
that measures all widths in one pass over the widest layer; the random MLP is vmapped over
seeds at each width. Each finished m is written to `parts/` in the run directory, so a
killed run resumes at the first unfinished m.
"""

from __future__ import annotations

import dataclasses
import datetime
import functools
import json
import math
import sys
import time
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
import xarray as xr

from superjax import readout, uand
from superjax.core import figures, rundir
from superjax.core.config import Config, ConfigError
from superjax.core.experiment import Experiment
from superjax.core.progress import Progress

PARTS_DIR = "parts"
CONFIG_FILE = "config.json"
# Theory's log-log slopes of width against m: polylog for basis inputs, sqrt(m) as stated
# for superposed inputs (and m^(2/3) for the first version's construction).
THEORY_SLOPES = {"basis": (0.0,), "superposed": (0.5, 2 / 3)}
_TEST, _EMBED, _UAND, _RANDOM, _FIT, _POSITIVE, _TRAIN = range(7)


@dataclasses.dataclass(frozen=True)
class UAndConfig(Config):
  """A U-AND scaling study.

  Grid: constructions x inputs x s x m x widths x seeds, and p for `uand`. Inputs have s
  active features (exactly, or at most s with active="at_most"). Superposed inputs live in
  d0 = min(m, ceil(d0_scale * m**d0_exponent)) dimensions.
  """

  name: str
  description: str = ""
  constructions: tuple[str, ...] = uand.CONSTRUCTIONS
  inputs: tuple[str, ...] = uand.INPUTS
  m: tuple[int, ...] = (16, 32, 64, 128, 256, 512)
  s: tuple[int, ...] = (2,)
  active: str = "exact"
  widths: tuple[int, ...] = tuple(2 ** k for k in range(5, 15))
  p: tuple[float, ...] = (0.1, 0.2)
  seeds: int = 3
  target: float = 0.25  # max error below which a width counts as enough
  test_inputs: int = 32
  d0_scale: float = 0.5
  d0_exponent: float = 1.0
  # Random MLP: matched least-squares readouts (superjax.readout), widths up to
  # fitted_max_width, for m <= fitted_max_m (the fit costs m^2 width^2 / 2 per seed).
  fitted_max_width: int = 2048
  fitted_max_m: int = 256
  fit_inputs: int = 4096
  positives: int = 4  # inputs per pair whose mean activation the readout maps to 1
  ridge: float = 1e-3
  # Trained MLP: only for m <= trained_max_m, at trained_widths (a subset of widths).
  trained_max_m: int = 32
  trained_widths: tuple[int, ...] = (256,)
  train_steps: int = 1000
  train_batch: int = 256
  lr: float = 3e-3
  base_seed: int = 0

  EXPERIMENT = "uand"

  def validate(self) -> None:
    _validate(self)


def _validate(cfg: UAndConfig) -> None:
  def check(ok: bool, field: str, message: str):
    if not ok:
      raise ConfigError(f"{field}: {message}")

  def integer(v) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)

  check(bool(cfg.name), "name", "must not be empty")
  for field, allowed in (("constructions", uand.CONSTRUCTIONS), ("inputs", uand.INPUTS)):
    values = getattr(cfg, field)
    check(len(values) > 0, field, f"need at least one of {', '.join(allowed)}")
    check(len(set(values)) == len(values), field, "each value at most once")
    for v in values:
      check(v in allowed, field, f"{v!r} is not one of {', '.join(allowed)}")
  check(cfg.active in uand.ACTIVE_MODES, "active",
        f"{cfg.active!r} is not one of {', '.join(uand.ACTIVE_MODES)}")
  for field in ("m", "s", "widths", "trained_widths"):
    values = getattr(cfg, field)
    check(len(values) > 0, field, "needs at least one value")
    check(all(integer(v) for v in values), field, f"{values} must be integers")
    check(list(values) == sorted(set(values)), field, "values must be distinct and increasing")
  for v in cfg.trained_widths:
    check(v in cfg.widths, "trained_widths", f"{v} is not one of widths {cfg.widths}")
  for v in cfg.m:
    check(4 <= v <= 4096, "m", f"{v} is outside the allowed range [4, 4096]")
  for v in cfg.s:
    check(2 <= v <= min(cfg.m), "s", f"{v} is outside the allowed range [2, min(m) = {min(cfg.m)}]")
  for v in cfg.widths:
    check(1 <= v <= 65536, "widths", f"{v} is outside the allowed range [1, 65536]")
  check(len(cfg.p) > 0 and len(set(cfg.p)) == len(cfg.p), "p", "needs distinct values")
  for v in cfg.p:
    check(isinstance(v, (int, float)) and 0.0 < v <= 1.0, "p",
          f"{v} is outside the allowed range (0, 1]")
  for field, low in (("seeds", 1), ("test_inputs", 1), ("fitted_max_width", 1), ("fitted_max_m", 0),
                     ("fit_inputs", 1), ("positives", 1), ("trained_max_m", 0),
                     ("train_steps", 1), ("train_batch", 1),
                     ("base_seed", 0)):
    v = getattr(cfg, field)
    check(integer(v) and v >= low, field, f"{v!r} must be an integer >= {low}")
  for field, low, high in (("target", 0.0, 1.0), ("d0_scale", 0.0, math.inf),
                           ("d0_exponent", 0.0, 1.0)):
    v = getattr(cfg, field)
    check(isinstance(v, (int, float)) and low < v <= high, field,
          f"{v} is outside the allowed range ({low:g}, {high:g}]")
  for field in ("ridge", "lr"):
    v = getattr(cfg, field)
    check(isinstance(v, (int, float)) and math.isfinite(v) and v > 0, field, f"{v} must be > 0")


def _say(message: str) -> None:
  print(message, file=sys.stderr, flush=True)


# --- measurements of one (m, s, inputs) cell ----------------------------------------------


def _features_in(cfg: UAndConfig, key: jax.Array, m: int, inputs: str):
  """The embedding (None for basis inputs) and the map from features to layer inputs."""
  if inputs == "basis":
    return None, lambda f: f
  E = uand.embedding(jax.random.fold_in(key, _EMBED), m,
                     uand.superposed_dims(m, cfg.d0_scale, cfg.d0_exponent))
  return E, lambda f: f @ E.T


def _seed_keys(cfg: UAndConfig, m: int, s: int, inputs: str) -> jax.Array:
  root = jax.random.fold_in(jax.random.fold_in(jax.random.key(cfg.base_seed), m), s)
  root = jax.random.fold_in(root, uand.INPUTS.index(inputs))
  return jax.vmap(functools.partial(jax.random.fold_in, root))(jnp.arange(cfg.seeds))


def _test_inputs(cfg: UAndConfig, key: jax.Array, m: int, s: int) -> jax.Array:
  return uand.sample_inputs(jax.random.fold_in(key, _TEST), m, s, cfg.test_inputs, cfg.active)


@functools.partial(jax.jit, static_argnums=(0, 1, 2, 3))
def _naive(cfg: UAndConfig, m: int, s: int, inputs: str, key: jax.Array) -> jax.Array:
  """(len(widths) + 1, 2) max and mean error of the naive layer cut to each grid width
  (pairs past the width have no neuron and read 0), and at its own width m(m-1)/2."""
  E, embed = _features_in(cfg, key, m, inputs)
  f = _test_inputs(cfg, key, m, s)
  W, b = uand.naive_weights(m)
  acts = uand.layer(W if E is None else W @ E.T, b, embed(f))
  targets = uand.pair_targets(f)
  out = []
  for w in cfg.widths + (uand.pair_count(m),):
    kept = (jnp.arange(uand.pair_count(m)) < w).astype(jnp.float32)
    out.append(jnp.stack(readout.errors(acts * kept[None, :], targets)))
  return jnp.stack(out)


@functools.partial(jax.jit, static_argnums=(0, 1, 2, 3))
def _uand(cfg: UAndConfig, m: int, s: int, inputs: str, key: jax.Array, p: jax.Array):
  """(len(widths), 2) max and mean error of U-AND at every grid width, and the mean
  number of features a neuron reads."""
  E, embed = _features_in(cfg, key, m, inputs)
  f = _test_inputs(cfg, key, m, s)
  W, b = uand.uand_weights(jax.random.fold_in(key, _UAND), m, max(cfg.widths), p)
  acts = uand.layer(W if E is None else W @ E.T, b, embed(f))
  maxes, means = uand.uand_prefix_errors(W, acts, f, cfg.widths, s, p)
  return jnp.stack([maxes, means], axis=1), uand.features_per_neuron(W)


def _fitted_errors(cfg: UAndConfig, key: jax.Array, m: int, s: int, act_fn, f: jax.Array,
                   widths: tuple[int, ...], single: bool, chunk: int = 512):
  """Max and mean error of matched readouts (superjax.readout) fitted to the first w
  neurons of the layer `act_fn`, for every w in `widths`.

  Neurons of a random layer are independent, so the Gram matrix and positive means of the
  widest layer hold every narrower one's in their leading block. Functions are processed
  `chunk` at a time so no (P, d) matrix is ever held.

  Args:
    act_fn: (n, m) features -> (n, max(widths)) activations. f: (n, m) test features.
    single: read the m single features instead of the m(m-1)/2 pairs.

  Returns:
    (len(widths), 2) max and mean error.
  """
  fit = uand.sample_inputs(jax.random.fold_in(key, _FIT), m, s, cfg.fit_inputs, cfg.active)
  A = act_fn(fit)
  raw = A.T @ A / A.shape[0]
  # Whitening by the inverse Cholesky factor L^-1 (G = L L^T): in the loop below only
  # matmuls remain: r . a = (L^-1 mu) . (L^-1 a) / |L^-1 mu|^2.
  inverse = [jax.scipy.linalg.solve_triangular(
      jnp.linalg.cholesky(readout.gram_from(raw[:w, :w], cfg.ridge)), jnp.eye(w), lower=True)
      for w in widths]
  acts = act_fn(f)
  white_acts = [acts[:, :w] @ L.T for w, L in zip(widths, inverse)]
  i, j = (np.arange(m), np.arange(m)) if single else uand.pair_index(m)
  count = len(i)
  pad = -count % chunk
  i, j = np.pad(i, (0, pad)), np.pad(j, (0, pad), constant_values=1)
  valid = np.arange(len(i)) < count

  def one(args):
    ii, jj, ok, k = args
    pos = uand.sample_positives(k, m, s, ii, jj, cfg.positives, cfg.active)
    means = jnp.mean(act_fn(pos.reshape(-1, m)).reshape(len(ii), cfg.positives, -1), axis=1)
    targets = f[:, ii] * f[:, jj]
    out = []
    for w, L, white in zip(widths, inverse, white_acts):
      z = means[:, :w] @ L.T
      values = (white @ z.T) / jnp.sum(z * z, axis=1)[None, :]
      err = jnp.abs(values - targets) * ok[None, :]
      out.append(jnp.stack([jnp.max(err), jnp.sum(err)]))
    return jnp.stack(out)

  blocks = len(i) // chunk
  keys = jax.random.split(jax.random.fold_in(key, _POSITIVE), blocks)
  per_block = jax.lax.map(one, (jnp.asarray(i).reshape(blocks, chunk),
                                jnp.asarray(j).reshape(blocks, chunk),
                                jnp.asarray(valid, jnp.float32).reshape(blocks, chunk), keys))
  return jnp.stack([jnp.max(per_block[..., 0], axis=0),
                    jnp.sum(per_block[..., 1], axis=0) / (count * f.shape[0])], axis=1)


def _fitted_widths(cfg: UAndConfig) -> tuple[int, ...]:
  return tuple(w for w in cfg.widths if w <= cfg.fitted_max_width)


@functools.partial(jax.jit, static_argnums=(0, 1, 2, 3))
def _random_mlp(cfg: UAndConfig, m: int, s: int, inputs: str, key: jax.Array):
  """(widths, 2) pair and (widths, 2) single-feature max and mean errors of a random MLP
  with matched readouts at every width up to fitted_max_width, and features per neuron."""
  widths = _fitted_widths(cfg)
  E, embed = _features_in(cfg, key, m, inputs)
  f = _test_inputs(cfg, key, m, s)
  W, b = uand.random_mlp_weights(jax.random.fold_in(key, _RANDOM),
                                 m if E is None else E.shape[0], widths[-1])
  act_fn = lambda x: uand.layer(W, b, embed(x))
  pair = _fitted_errors(cfg, key, m, s, act_fn, f, widths, single=False)
  single = _fitted_errors(cfg, key, m, s, act_fn, f, widths, single=True)
  return pair, single, uand.features_per_neuron(W if E is None else W @ E)


@functools.partial(jax.jit, static_argnums=(0, 1, 2, 3, 4))
def _trained(cfg: UAndConfig, m: int, s: int, inputs: str, width: int, key: jax.Array):
  """Pair errors of the trained network's own output layer, single-feature errors of
  matched readouts on its hidden layer, and features per neuron."""
  E, embed = _features_in(cfg, key, m, inputs)
  f = _test_inputs(cfg, key, m, s)
  W1, b1, R = uand.train_mlp(jax.random.fold_in(key, _TRAIN), E, m=m, s=s, d=width,
                             mode=cfg.active, steps=cfg.train_steps, batch=cfg.train_batch,
                             lr=cfg.lr)
  act_fn = lambda x: uand.layer(W1, b1, embed(x))
  own = jnp.stack(readout.errors(act_fn(f) @ R.T, uand.pair_targets(f)))
  single = _fitted_errors(cfg, key, m, s, act_fn, f, (width,), single=True)[0]
  return own, single, uand.features_per_neuron(W1 if E is None else W1 @ E)


def _measure_m(cfg: UAndConfig, m: int, progress: Progress) -> xr.Dataset:
  """Every construction, s and input setting at one m, as a dataset with an `m` axis."""
  C, I, S, Wd, N = (len(cfg.constructions), len(cfg.inputs), len(cfg.s), len(cfg.widths),
                    cfg.seeds)
  full = lambda *shape: np.full(shape, np.nan, np.float32)
  err = full(C, I, S, Wd, N, 2)
  feature_err = full(C, I, S, Wd, N, 2)
  reads = full(C, I, S, Wd, N)
  naive_err = full(I, S, N, 2)
  uand_err = full(I, S, len(cfg.p), Wd, N, 2)
  for si, s in enumerate(cfg.s):
    for ii, inputs in enumerate(cfg.inputs):
      keys = _seed_keys(cfg, m, s, inputs)
      for ci, construction in enumerate(cfg.constructions):
        t0 = time.perf_counter()
        if construction == "naive":
          out = np.asarray(jax.vmap(functools.partial(_naive, cfg, m, s, inputs))(keys))
          err[ci, ii, si] = out[:, :-1].transpose(1, 0, 2)
          naive_err[ii, si] = out[:, -1]
          reads[ci, ii, si] = 2.0
        elif construction == "uand":
          ps = jnp.asarray(cfg.p, jnp.float32)
          fn = jax.vmap(jax.vmap(functools.partial(_uand, cfg, m, s, inputs), (0, None)),
                        (None, 0))
          out, per_neuron = fn(keys, ps)  # (p, seed, widths, 2), (p, seed)
          out = np.asarray(out).transpose(0, 2, 1, 3)
          uand_err[ii, si] = out
          # At each width the p with the lowest max error, averaged over seeds.
          best = np.argmin(out[..., 0].mean(axis=2), axis=0)
          err[ci, ii, si] = out[best, np.arange(Wd)]
          reads[ci, ii, si] = np.asarray(per_neuron).mean(axis=1)[best][:, None]
        elif construction == "random_mlp" and m <= cfg.fitted_max_m:
          # Seeds one at a time: vmapping the Cholesky factorisations of wide layers
          # deadlocks the XLA CPU runtime (jax 0.7); the program still compiles once.
          outs = [_random_mlp(cfg, m, s, inputs, key) for key in keys]
          pair, single, per_neuron = (np.stack([np.asarray(o[k]) for o in outs]) for k in range(3))
          k = len(_fitted_widths(cfg))
          err[ci, ii, si, :k] = np.asarray(pair).transpose(1, 0, 2)
          feature_err[ci, ii, si, :k] = np.asarray(single).transpose(1, 0, 2)
          reads[ci, ii, si, :k] = np.asarray(per_neuron)[None, :]
        elif construction == "trained" and m <= cfg.trained_max_m:
          for width in cfg.trained_widths:
            wi = cfg.widths.index(width)
            pair, single, per_neuron = jax.vmap(
                functools.partial(_trained, cfg, m, s, inputs, width))(keys)
            err[ci, ii, si, wi] = np.asarray(pair)
            feature_err[ci, ii, si, wi] = np.asarray(single)
            reads[ci, ii, si, wi] = np.asarray(per_neuron)
        progress.update(1, note=f"m={m} s={s} {inputs} {construction} "
                                f"({time.perf_counter() - t0:.1f} s)")
  coords = {"construction": list(cfg.constructions), "inputs": list(cfg.inputs),
            "s": list(cfg.s), "m": [m], "width": list(cfg.widths), "seed": np.arange(N),
            "p": list(cfg.p)}
  lead = ("construction", "inputs", "s", "m", "width", "seed")
  data = {
      "max_error": (lead, err[:, :, :, None, ..., 0]),
      "mean_error": (lead, err[:, :, :, None, ..., 1]),
      "feature_max_error": (lead, feature_err[:, :, :, None, ..., 0]),
      "feature_mean_error": (lead, feature_err[:, :, :, None, ..., 1]),
      "features_per_neuron": (lead, reads[:, :, :, None]),
      "naive_max_error": (("inputs", "s", "m", "seed"), naive_err[:, :, None, :, 0]),
      "uand_max_error": (("inputs", "s", "m", "p", "width", "seed"), uand_err[:, :, None, ..., 0]),
      "uand_mean_error": (("inputs", "s", "m", "p", "width", "seed"), uand_err[:, :, None, ..., 1]),
  }
  return xr.Dataset(data, coords=coords)


# --- assembling, resuming -----------------------------------------------------------------

_DESCRIPTIONS = {
    "max_error": "max over test inputs and all pairs of |r_ij . a(x) - x_i x_j| (uand: at the "
                 "p with the lowest seed-mean max error at that width; NaN: not measured)",
    "mean_error": "mean over test inputs and all pairs of |r_ij . a(x) - x_i x_j|",
    "feature_max_error": "max error of matched readouts of the single features x_i",
    "feature_mean_error": "mean error of matched readouts of the single features x_i",
    "features_per_neuron": "mean participation ratio of a neuron's weights on the features",
    "naive_max_error": "max error of the naive layer at its own width m(m-1)/2",
    "uand_max_error": "max pair error of U-AND for every p",
    "uand_mean_error": "mean pair error of U-AND for every p",
    "width_needed": "smallest tested width with max_error <= target (uand: over every p; "
                    "naive: m(m-1)/2 when exact enough; NaN: no tested width is enough)",
    "naive_width": "m(m-1)/2, the naive construction's neuron count",
    "d0": "input dimensions of the superposed setting",
}


def _width_needed(cfg: UAndConfig, ds: xr.Dataset) -> xr.DataArray:
  widths = xr.DataArray(np.asarray(cfg.widths, np.float32), dims="width",
                        coords={"width": ds.width})

  def smallest(errors: xr.DataArray) -> xr.DataArray:
    return widths.where(errors <= cfg.target).min("width")

  needed = smallest(ds["max_error"])
  if "uand" in cfg.constructions:
    needed.loc[{"construction": "uand"}] = smallest(ds["uand_max_error"]).min("p")
  if "naive" in cfg.constructions:
    naive = ds["naive_width"].astype(np.float32).where(ds["naive_max_error"] <= cfg.target)
    needed.loc[{"construction": "naive"}] = naive.transpose(*needed.sel(construction="naive").dims)
  return needed


def _assemble(cfg: UAndConfig, parts: list[xr.Dataset]) -> xr.Dataset:
  ds = xr.concat(parts, dim="m", data_vars="minimal", coords="minimal", join="exact")
  ds["naive_width"] = ("m", np.asarray([uand.pair_count(m) for m in cfg.m], np.int64))
  ds["d0"] = ("m", np.asarray([uand.superposed_dims(m, cfg.d0_scale, cfg.d0_exponent)
                               for m in cfg.m], np.int64))
  ds["width_needed"] = _width_needed(cfg, ds)
  for name, text in _DESCRIPTIONS.items():
    ds[name].attrs["description"] = text
  return ds


def config_of(dataset: xr.Dataset) -> UAndConfig:
  return UAndConfig.from_dict(json.loads(dataset.attrs["config"]))


def total_steps(cfg: UAndConfig) -> int:
  return len(cfg.m) * len(cfg.s) * len(cfg.inputs) * len(cfg.constructions)


def run(cfg: UAndConfig, run_dir: Path, progress: Progress) -> tuple[xr.Dataset, dict]:
  """Measures every construction at every m (resuming finished m from `parts/`)."""
  run_dir = Path(run_dir)
  (run_dir / PARTS_DIR).mkdir(exist_ok=True)
  per_m = len(cfg.s) * len(cfg.inputs) * len(cfg.constructions)
  parts, timings = [], {}
  for m in cfg.m:
    path = run_dir / PARTS_DIR / f"m{m:05d}.nc"
    if path.exists():
      with xr.open_dataset(path, engine="h5netcdf") as part:
        parts.append(part.load())
      progress.skip(per_m)
      _say(f"resumed: m={m} was already measured")
      continue
    t_m = time.perf_counter()
    part = _measure_m(cfg, m, progress)
    rundir.write_atomic(path, lambda tmp, part=part: part.to_netcdf(tmp, engine="h5netcdf"))
    parts.append(part)
    timings[f"m={m}"] = round(time.perf_counter() - t_m, 3)
  return _assemble(cfg, parts), timings


# --- report -------------------------------------------------------------------------------


def fit_slope(m: np.ndarray, width: np.ndarray) -> float:
  """Least-squares slope of log(width) against log(m) over finite points (NaN if < 2)."""
  ok = np.isfinite(width)
  if np.sum(ok) < 2 or len(np.unique(m[ok])) < 2:
    return float("nan")
  return float(np.polyfit(np.log(m[ok]), np.log(width[ok]), 1)[0])


def bootstrap_slope(m: np.ndarray, needed: np.ndarray, samples: int = 1000,
                    seed: int = 0) -> tuple[float, float, float]:
  """Slope of the seed-mean log width against log m, with a 95% bootstrap interval over
  seeds (seeds resampled with replacement; m where any drawn seed failed are dropped).

  Args:
    m: (M,) feature counts. needed: (M, seeds) width needed, NaN where not reached.
  """
  def slope(rows: np.ndarray) -> float:
    with np.errstate(all="ignore"):
      log_mean = np.exp(np.mean(np.log(rows), axis=1))
    return fit_slope(m, log_mean)

  rng = np.random.default_rng(seed)
  draws = [slope(needed[:, rng.integers(0, needed.shape[1], needed.shape[1])])
           for _ in range(samples)]
  draws = np.asarray([d for d in draws if np.isfinite(d)])
  if len(draws) == 0:
    return slope(needed), float("nan"), float("nan")
  return slope(needed), float(np.percentile(draws, 2.5)), float(np.percentile(draws, 97.5))


def _fmt(v: float) -> str:
  return "-" if not np.isfinite(v) else f"{v:,.0f}"


def render_report(dataset: xr.Dataset) -> str:
  cfg = config_of(dataset)
  m = dataset.m.values.astype(float)
  lines = [f"{cfg.name}: U-AND of m features, s active ({cfg.active}); {cfg.seeds} seeds, "
           f"{cfg.test_inputs} test inputs each, every pair; target max error {cfg.target:g}",
           "superposed inputs: d0 = " + ", ".join(
               f"{int(a)} (m={int(b)})" for a, b in zip(dataset.d0.values, m)), ""]
  for s in dataset.s.values:
    sub = dataset.sel(s=s)
    for inputs in dataset.inputs.values:
      cell = sub.sel(inputs=inputs)
      lines.append(f"s={int(s)}, {inputs} inputs: width needed (geometric mean over seeds; "
                   "'-' none of the tested widths is enough)")
      lines.append("  " + f"{'m':>6} {'m(m-1)/2':>10} " + " ".join(
          f"{c!s:>11}" for c in dataset.construction.values))
      for k, mm in enumerate(m):
        row = []
        for c in dataset.construction.values:
          w = cell["width_needed"].sel(construction=c).isel(m=k).values
          with np.errstate(all="ignore"):
            row.append(_fmt(float(np.exp(np.mean(np.log(w))))))
        lines.append("  " + f"{int(mm):>6} {int(dataset.naive_width.values[k]):>10,} "
                     + " ".join(f"{r:>11}" for r in row))
      lines.append("  fitted slope of log width needed against log m (95% bootstrap over "
                   f"seeds); theory: {', '.join(f'{t:.2f}' for t in THEORY_SLOPES[str(inputs)])}"
                   + (" (polylog m)" if inputs == "basis" else " (sqrt m as stated; m^(2/3))"))
      for c in dataset.construction.values:
        needed = cell["width_needed"].sel(construction=c).transpose("m", "seed").values
        slope, low, high = bootstrap_slope(m, needed)
        reached = np.isfinite(needed).all(axis=1)
        lines.append(f"    {c!s:<11} slope {slope:6.2f}  [{low:.2f}, {high:.2f}]  "
                     f"(over m = {', '.join(str(int(v)) for v in m[reached]) or 'none'})")
      last = cell["width_needed"].isel(m=-1)
      with np.errstate(all="ignore"):
        ratio = float(dataset.naive_width.values[-1]) / float(np.exp(np.mean(np.log(
            last.sel(construction="uand").values)))) if "uand" in dataset.construction else np.nan
      if np.isfinite(ratio):
        lines.append(f"  at m={int(m[-1])}: U-AND needs {ratio:.1f}x fewer neurons than the "
                     f"naive {int(dataset.naive_width.values[-1]):,}")
      elif "uand" in dataset.construction:
        lines.append(f"  at m={int(m[-1])}: U-AND does not reach max error {cfg.target:g} at "
                     f"any tested width (up to {max(cfg.widths):,}) for every seed")
      lines.append("")
    lines += _trained_lines(cfg, sub)
  return "\n".join(lines).rstrip()


def _trained_lines(cfg: UAndConfig, ds: xr.Dataset) -> list[str]:
  if "trained" not in ds.construction.values:
    return []
  lines = []
  for inputs in ds.inputs.values:
    cell = ds.sel(inputs=inputs)
    trained = cell.sel(construction="trained")
    measured = trained["max_error"].notnull().any("seed")
    for k in np.nonzero(measured.any("width").values)[0]:
      mm = int(cell.m.values[k])
      lines.append(f"trained vs constructions, {inputs} inputs, m={mm}, s={int(ds.s)}: max error "
                   "(mean over seeds) and features read per neuron (participation ratio)")
      lines.append(f"  {'width':>6} " + " ".join(
          f"{c!s:>11} {'reads':>6}" for c in cell.construction.values))
      for wi, width in enumerate(cell.width.values):
        if not bool(measured.isel(m=k, width=wi)):
          continue
        row = []
        for c in cell.construction.values:
          sel = cell.sel(construction=c).isel(m=k, width=wi)
          row.append(f"{float(sel['max_error'].mean('seed')):11.3f} "
                     f"{float(sel['features_per_neuron'].mean('seed')):6.1f}")
        lines.append(f"  {int(width):>6} " + " ".join(row))
      single = trained["feature_max_error"].isel(m=k).mean("seed")
      lines.append("  trained single-feature max error (matched readouts): "
                   + ", ".join(f"{float(v):.2f}" for v in single.values if np.isfinite(v)))
      lines.append("")
  return lines


# --- figures ------------------------------------------------------------------------------


_COLOURS = {"naive": "#7f7f7f", "uand": "#4c72b0", "random_mlp": "#dd8452", "trained": "#55a868"}


def _geo_mean(values: np.ndarray, axis: int) -> np.ndarray:
  with np.errstate(all="ignore"):
    return np.exp(np.mean(np.log(values), axis=axis))


def _error_vs_width(plt_, ds: xr.Dataset, cfg: UAndConfig):
  """Max error (seed mean, band = seed range) against width, one panel per m and input
  setting, one line per construction."""
  fig, axes = plt_.subplots(len(ds.inputs), len(ds.m), squeeze=False, sharey=True,
                           figsize=(2.0 * len(ds.m) + 0.6, 2.2 * len(ds.inputs) + 0.4))
  for r, inputs in enumerate(ds.inputs.values):
    for c, m in enumerate(ds.m.values):
      ax = axes[r, c]
      for name in ds.construction.values:
        err = ds["max_error"].sel(construction=name, inputs=inputs, m=m).values
        ok = np.isfinite(err).all(axis=1)
        if name == "naive":
          ax.axvline(int(ds.naive_width.sel(m=m)), color=_COLOURS[str(name)], lw=0.8, ls=":")
          ax.scatter([int(ds.naive_width.sel(m=m))],
                     [float(ds["naive_max_error"].sel(inputs=inputs, m=m).mean())],
                     color=_COLOURS[str(name)], s=12, zorder=3,
                     label="naive at m(m-1)/2" if r == c == 0 else None)
          continue
        if not ok.any():
          continue
        w = ds.width.values[ok]
        ax.plot(w, err[ok].mean(axis=1), marker="o", ms=2.5, lw=1, color=_COLOURS[str(name)],
                label=str(name) if r == c == 0 else None)
        ax.fill_between(w, err[ok].min(axis=1), err[ok].max(axis=1), alpha=0.2, lw=0,
                        color=_COLOURS[str(name)])
      ax.axhline(cfg.target, color="k", lw=0.6, ls="--")
      ax.set_xscale("log", base=2)
      ax.set_ylim(0, 1.5)
      if r == 0:
        ax.set_title(f"m = {int(m)}")
      if r == len(ds.inputs) - 1:
        ax.set_xlabel("width d")
    axes[r, 0].set_ylabel(f"{inputs}: max error")
  fig.legend(frameon=False, loc="upper center", ncol=4, bbox_to_anchor=(0.5, 1.04))
  fig.suptitle(f"{cfg.name}: max |r . a(x) - x_i x_j| over test inputs and all pairs "
               f"(dashed: target {cfg.target:g})", y=1.09)
  return fig


def _width_needed_fig(plt_, ds: xr.Dataset, cfg: UAndConfig):
  """Width needed against m on log-log axes, fitted slopes and theory's reference slopes."""
  fig, axes = plt_.subplots(1, len(ds.inputs), squeeze=False, sharey=True,
                           figsize=(4.0 * len(ds.inputs), 3.4))
  m = ds.m.values.astype(float)
  for c, inputs in enumerate(ds.inputs.values):
    ax = axes[0, c]
    ax.plot(m, ds.naive_width.values, color="k", lw=0.8, ls="--", label="m(m-1)/2")
    anchor = None
    for name in ds.construction.values:
      needed = ds["width_needed"].sel(construction=name, inputs=inputs).transpose("m", "seed").values
      mean = _geo_mean(needed, axis=1)
      ok = np.isfinite(mean)
      if not ok.any():
        continue
      slope, low, high = bootstrap_slope(m, needed)
      label = f"{name}: slope {slope:.2f} [{low:.2f}, {high:.2f}]" if np.isfinite(slope) else str(name)
      ax.plot(m[ok], mean[ok], marker="o", ms=3, lw=1, color=_COLOURS[str(name)], label=label)
      for k in range(needed.shape[1]):
        ax.scatter(m, needed[:, k], s=5, alpha=0.35, color=_COLOURS[str(name)], linewidths=0)
      if name == "uand" or anchor is None:
        anchor = (m[ok][0], mean[ok][0])
    if anchor is not None:
      for t in THEORY_SLOPES[str(inputs)]:
        ax.plot(m, anchor[1] * (m / anchor[0]) ** t, color="#c44e52", lw=0.7, ls=":",
                alpha=0.8)
        ax.annotate(f"m^{t:.2g}", (m[-1], anchor[1] * (m[-1] / anchor[0]) ** t), fontsize=7,
                    color="#c44e52")
    ax.set_xscale("log", base=2)
    ax.set_yscale("log", base=2)
    ax.set_xlabel("features m")
    ax.set_title(f"{inputs} inputs")
    ax.legend(frameon=False, fontsize=6.5, loc="lower right")
  axes[0, 0].set_ylabel(f"width needed for max error <= {cfg.target:g}")
  fig.suptitle(f"{cfg.name}: width needed (geometric mean over seeds; dots: seeds; "
               "red dotted: theory slopes)")
  return fig


def _neurons_fig(plt_, ds: xr.Dataset, cfg: UAndConfig):
  """Neurons needed: naive m(m-1)/2 against U-AND (and the other constructions)."""
  fig, ax = plt_.subplots(figsize=(4.2, 3.3))
  m = ds.m.values.astype(float)
  ax.plot(m, ds.naive_width.values, color="k", lw=1.2, label="naive: m(m-1)/2")
  for inputs, style in zip(ds.inputs.values, ("-", "--")):
    for name in ds.construction.values:
      if name == "naive":
        continue
      mean = _geo_mean(ds["width_needed"].sel(construction=name, inputs=inputs)
                       .transpose("m", "seed").values, axis=1)
      if np.isfinite(mean).any():
        ax.plot(m, mean, ls=style, marker="o", ms=3, lw=1, color=_COLOURS[str(name)],
                label=f"{name} ({inputs})")
  ax.set_xscale("log", base=2)
  ax.set_yscale("log", base=10)
  ax.set_xlabel("features m")
  ax.set_ylabel(f"neurons for max error <= {cfg.target:g}")
  ax.set_title(f"{cfg.name}: neurons needed for all m(m-1)/2 ANDs")
  ax.legend(frameon=False, fontsize=7)
  return fig


FIGURES = {"uand_error_vs_width": _error_vs_width, "uand_width_needed": _width_needed_fig,
           "uand_neurons": _neurons_fig}


def draw_figures(dataset: xr.Dataset) -> dict:
  """Every figure, for every s."""
  cfg = config_of(dataset)
  out = {}
  for s in dataset.s.values:
    suffix = "" if len(dataset.s) == 1 else f"_s{int(s)}"
    for name, draw in FIGURES.items():
      out[f"{name}{suffix}"] = figures.styled(draw)(figures, dataset.sel(s=s), cfg)
  return out


def tiny() -> UAndConfig:
  return UAndConfig(name="tiny_uand", m=(8, 16), widths=(32, 64, 128), seeds=2,
                    trained_max_m=8, trained_widths=(64,), train_steps=50, fit_inputs=256,
                    fitted_max_width=128)


EXPERIMENT = Experiment(name="uand", config=UAndConfig, run=run, total_steps=total_steps,
                        report=render_report, figures=draw_figures, tiny=tiny)
