"""Runs the toy-SAE study: toy models, then SAEs on their hidden activations, each
training a pass of the core loop, and the measurements between and after.

1. Toy models (state/relu): the config's density x alpha x seed grid, trained by the toy
   family's own program (superjax.toy.train), adversarially where alpha < 1.
2. Tokens: each toy model, read back from its saved state, draws its own inputs x and
   gives h = W x, the activations its SAEs see: `tokens` to train on, `eval_tokens` held
   out, and the same held-out inputs attacked with the preprint's gradient attack.
3. SAEs (state/sae_<kind>_x<expansion>): per kind and expansion one pass whose runs are
   every toy model x sparsity setting, one flat axis; each SAE is measured at the end on
   the clean and attacked held-out tokens, its dictionary compared with the toy model's
   true feature directions (superjax.sae.recovery), and its mean |activation| per latent
   on the clean held-out tokens kept (`latent_mass`, for effective features).

The effective-feature study (run_effective) runs this once per feature count in one run
directory, every pass's name tagged _n<n>.

Inputs are standardised with one scale per toy model (not per dimension), so dictionary
directions are the raw directions up to that scale.
"""

from __future__ import annotations

import dataclasses
import functools
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
import xarray as xr

from superjax.core import keys, loop
from superjax.core import results as results_lib
from superjax.core.axes import Axes, product
from superjax.core.progress import Progress, say
from superjax.sae import recovery
from superjax.sae import train as sae_train
from superjax.sae.kinds import KINDS
from superjax.sae.model import SAE, SAEHParams, Settings, encode
from superjax.toy import attacks
from superjax.toy import program as toy_program
from superjax.toy import run as toy_run
from superjax.toy import train as toy_train
from superjax.toy.config import SweepConfig
from superjax.toy_sae.config import TOY_MODEL, EffectiveConfig, ToySAEConfig

# Named random streams (core.keys) of the tokens and the SAEs; the toy models' run keys
# are the toy family's own.
TOKEN_STREAM, SAE_STREAM = "tokens", "sae"
# The toy grid's axes kept as result dimensions (the others have one value each).
TOY_DIMS = ("alpha", "density", "seed")
# Toy models whose tokens are drawn at once (x is (models, tokens, n) at that moment).
_TOKEN_CHUNK = 8


def sae_pass_name(kind: str, expansion: int) -> str:
  return f"sae_{kind}_x{expansion}"


def sae_axes(cfg: ToySAEConfig, kind: str) -> Axes:
  """An SAE pass's grid: every toy model (the toy grid's axes) x the kind's sparsity
  settings (ToySAEConfig.settings_of), settings fastest."""
  return product(*cfg.toy_sweep().axes().groups, setting=range(len(cfg.settings_of(kind))))


@functools.partial(jax.jit, static_argnames=("toy_cfg", "count", "attack"))
def _hidden(toy_cfg: SweepConfig, params, hp, key: jax.Array, count: int, attack: bool):
  """One toy model's hidden activations h = W x of `count` fresh inputs (and of the same
  inputs attacked), and the mean number of active features per input."""
  x = toy_train.sample(toy_cfg, hp, key, count)
  out = {"clean": x @ params["W"].T, "active": jnp.mean(jnp.sum(x != 0, axis=-1))}
  if attack:
    eps = attacks.batch_eps(x, toy_cfg.attack_eps, toy_cfg.per_sample_eps)
    x_adv = attacks.attack_batch("gorton", TOY_MODEL, params, x,
                                 toy_train.feature_importance(toy_cfg.n, hp), eps,
                                 keys.named(key, "attack"))
    out["attacked"] = x_adv @ params["W"].T
  return out


def _tokens(cfg: ToySAEConfig, toy_cfg: SweepConfig, params, hps) -> dict[str, np.ndarray]:
  """Every toy model's training tokens (runs, tokens, m), held-out tokens clean and
  attacked (runs, eval_tokens, m) and mean active features (runs,)."""
  runs = hps.seed.shape[0]
  base = keys.root(cfg.base_seed, TOKEN_STREAM)
  pieces = []
  for start in range(0, runs, _TOKEN_CHUNK):
    index = np.arange(start, min(start + _TOKEN_CHUNK, runs))
    p = jax.tree.map(lambda a: jnp.asarray(a)[index], params)  # noqa: B023
    hp = jax.tree.map(lambda a: jnp.asarray(a)[index], hps)  # noqa: B023
    run_keys = jax.vmap(lambda r: jax.random.fold_in(base, r))(jnp.asarray(index))
    draw = lambda stream, count, attack: jax.vmap(  # noqa: E731
        lambda p, hp, k: _hidden(toy_cfg, p, hp, keys.named(k, stream), count, attack)
    )(p, hp, run_keys)
    train, held_out = draw("train", cfg.tokens, False), draw("eval", cfg.eval_tokens, True)
    pieces.append({"train": train["clean"], "clean": held_out["clean"],
                   "attacked": held_out["attacked"], "active": held_out["active"]})
  return {k: np.concatenate([np.asarray(p[k]) for p in pieces]) for k in pieces[0]}


def _sae_settings(cfg: ToySAEConfig, kind: str, expansion: int, matched: np.ndarray) -> Settings:
  latents = expansion * cfg.m
  if KINDS[kind].control == "k":
    ks = [cfg.fixed_k if t == "fixed" else int(matched.max()) for t in cfg.targets]
    k_max = min(max(ks), latents)
  else:
    k_max = 1
  return Settings(kind=kind, d_in=cfg.m, expansion=expansion, k_max=k_max,
                  # Every dead latent takes part in AuxK: no top-k over a few dozen latents.
                  k_aux=latents, batch=cfg.sae_batch, steps=cfg.sae_steps,
                  # A latent is dead after a pass over its toy model's tokens without firing.
                  dead_tokens=cfg.tokens, per_dimension=False)


def _sae_runs(cfg: ToySAEConfig, kind: str, latents: int, matched: np.ndarray) -> SAEHParams:
  """The hyperparameters of sae_axes's runs: matched k is capped at the latents."""
  grid = sae_axes(cfg, kind)
  source = grid.run_index(cfg.toy_sweep().axes().dims)
  setting = grid.hparams()["setting"]
  if KINDS[kind].control == "k":
    is_matched = np.asarray([t == "matched" for t in cfg.targets])[setting]
    k = np.where(is_matched, np.minimum(matched[source], latents), cfg.fixed_k)
    penalty = np.zeros(len(source))
  else:
    k = np.ones(len(source))
    penalty = np.asarray(cfg.penalties(kind))[setting]
  return SAEHParams(k=k.astype(np.int32), penalty=penalty.astype(np.float32),
                    lr=np.full(len(source), cfg.sae_lr, np.float32), source=source,
                    # SAEs of one toy model share an initialisation across settings.
                    seed=source)


def sae_runs(cfg: ToySAEConfig) -> dict[str, list[dict]]:
  """Every SAE pass's runs by their coordinates in the results (Experiment.saes), read
  from the pass's grid (sae_axes)."""
  def label(kind: str, expansion: int, point: dict) -> dict:
    setting = int(point["setting"])
    return dict(sae_kind=kind, expansion=expansion, setting=setting,
                setting_label=cfg.settings_of(kind)[setting],
                **{name: point[name] for name in TOY_DIMS})
  return {sae_pass_name(kind, expansion): [label(kind, expansion, point)
                                           for point in sae_axes(cfg, kind).points()]
          for kind in cfg.sae_kinds for expansion in cfg.expansions}


def total_steps(cfg: ToySAEConfig) -> int:
  toy_runs = len(cfg.density) * len(cfg.alpha) * cfg.seeds
  saes = sum(len(cfg.settings_of(kind)) for kind in cfg.sae_kinds) * len(cfg.expansions)
  return toy_runs * cfg.toy_steps + toy_runs * saes * cfg.sae_steps


SAE_METRICS = {"nmse": "clean.nmse", "explained_variance": "clean.explained_variance",
               "l0": "clean.l0", "dead_fraction": "clean.dead_fraction",
               "nmse_attacked": "attacked.nmse", "l0_attacked": "attacked.l0"}
RECOVERY = ("mmcs", "matched", "recovered")


@jax.jit
def latent_mass(sae: SAE, acts: jax.Array, source: jax.Array) -> jax.Array:
  """Each SAE's mean |activation| per latent on its own source's inputs.

  Args:
    sae: (runs,) stacked SAEs.
    acts: (sources, N, d) raw activations.
    source: (runs,) each SAE's source.

  Returns:
    (runs, L): the activation mass of every latent, the input of effective.features.
  """
  # One SAE at a time: (N, L) latents of every SAE at once would not fit for large grids.
  return jax.lax.map(lambda one: jnp.mean(jnp.abs(encode(one[0], acts[one[1]])), axis=0),
                     (sae, source))


def run(cfg: ToySAEConfig, run_dir: Path, progress: Progress) -> tuple[xr.Dataset, dict]:
  """Trains the toy models and their SAEs (resuming inside any pass); returns the results
  and the passes' timings."""
  return study(cfg, run_dir, progress)


def toy_models_pass(cfg: ToySAEConfig, run_dir: Path, tag: str = "") -> loop.Pass:
  """The study's first pass: its toy models (the SAE passes read their activations)."""
  toy_cfg = cfg.toy_sweep()
  hps = toy_train.hparams(toy_cfg)
  program = toy_program.program(toy_cfg, TOY_MODEL)
  program = dataclasses.replace(program, name=program.name + tag)
  return loop.Pass(program, jax.vmap(lambda seed: toy_train.run_key(toy_cfg, seed))(hps.seed),
                   hps, toy_run.schedule(toy_cfg), run_dir,
                   meta={"config": cfg.computed_part()})


def study(cfg: ToySAEConfig, run_dir: Path, progress: Progress,
          tag: str = "") -> tuple[xr.Dataset, dict]:
  """run, with `tag` appended to every pass's name so that several studies can train in
  one run directory (toy_sae_effective runs one per feature count)."""
  toy_cfg = cfg.toy_sweep()
  hps = toy_train.hparams(toy_cfg)
  toy_pass = toy_models_pass(cfg, run_dir, tag)
  program = toy_pass.program
  trained = toy_pass.train(progress)
  timings = {program.name: trained.timings()}
  toy = dict(trained.outputs, diverged=trained.diverged)
  params = toy_pass.final_states().params

  say("sampling each toy model's inputs and attacking the held-out ones")
  tokens = _tokens(cfg, toy_cfg, params, hps)
  W = np.asarray(params["W"])
  matched = np.maximum(np.round(cfg.n * np.asarray(hps.density)), 1).astype(np.int32)

  saes = {}
  for kind in cfg.sae_kinds:
    for expansion in cfg.expansions:
      settings = _sae_settings(cfg, kind, expansion, matched)
      hp = _sae_runs(cfg, kind, settings.n_latents, matched)
      name = sae_pass_name(kind, expansion) + tag
      sae_pass = sae_train.sae_pass(
          settings, hp, tokens["train"], run_dir, base_seed=cfg.base_seed, stream=SAE_STREAM,
          eval_acts={"clean": tokens["clean"], "attacked": tokens["attacked"]},
          log_every=min(cfg.log_every, cfg.sae_steps), checkpoint_every=cfg.checkpoint_every,
          name=name, meta={"config": cfg.computed_part()})
      done = sae_pass.train(progress)
      timings[name] = done.timings()
      sae = sae_pass.final_states().sae
      rows = recovery.raw_dictionary(np.asarray(sae.params["W_dec"]),
                                           np.asarray(sae.scale))
      found = [recovery.recovery(W[s], r) for s, r in zip(hp.source, rows)]
      saes[kind, expansion] = dict(
          {name: np.asarray(done.outputs[key]) for name, key in SAE_METRICS.items()},
          **{name: np.array([f[name] for f in found]) for name in RECOVERY},
          k=hp.k, penalty=hp.penalty, dictionary=rows, diverged=done.diverged,
          latent_mass=np.asarray(latent_mass(sae, jnp.asarray(tokens["clean"]),
                                             jnp.asarray(hp.source))))
  return _dataset(cfg, toy, tokens, saes), timings


def _dataset(cfg: ToySAEConfig, toy: dict, tokens: dict, saes: dict) -> xr.Dataset:
  kinds, expansions = list(cfg.sae_kinds), list(cfg.expansions)
  settings = max(len(cfg.settings_of(kind)) for kind in kinds)
  latents = max(expansions) * cfg.m
  toy_axes = cfg.toy_sweep().axes()
  toy_var = lambda values: results_lib.on_dims(toy_axes, values, TOY_DIMS)  # noqa: E731
  toy_shape = toy_var(toy["loss"]).shape

  def sae_array(name: str, tail: tuple = ()) -> np.ndarray:
    """(kind, expansion, setting, alpha, density, seed, *tail), NaN where a kind has fewer
    settings or an expansion fewer latents."""
    out = np.full((len(kinds), len(expansions), settings) + toy_shape + tail, np.nan)
    for (kind, expansion), values in saes.items():
      count = len(cfg.settings_of(kind))
      values = np.asarray(values[name], np.float64)
      # (settings, alpha, density, seed, ...)
      grid_values = results_lib.on_dims(sae_axes(cfg, kind), values, ("setting",) + TOY_DIMS)
      slots = (kinds.index(kind), expansions.index(expansion), slice(0, count))
      if tail:  # the latent axis is the first of the tail, shorter at smaller expansions
        slots += (Ellipsis, slice(0, values.shape[1])) + (slice(None),) * (len(tail) - 1)
      out[slots] = grid_values
    return out

  sae_dims = ("sae_kind", "expansion", "setting") + TOY_DIMS
  variables = {name: (sae_dims, sae_array(name))
               for name in (*SAE_METRICS, *RECOVERY, "k", "penalty")}
  variables["sae_diverged"] = (sae_dims, sae_array("diverged") == 1)
  variables["dictionary"] = (sae_dims + ("latent", "hidden"),
                             sae_array("dictionary", (latents, cfg.m)).astype(np.float32))
  variables["latent_mass"] = (sae_dims + ("latent",), sae_array("latent_mass", (latents,)))
  variables.update(
      W=(TOY_DIMS + ("hidden", "feature"), toy_var(toy["W"])),
      toy_loss=(TOY_DIMS, toy_var(toy["loss"])),
      features_per_dim=(TOY_DIMS, toy_var(toy["features_per_dim"])),
      toy_diverged=(TOY_DIMS, toy_var(toy["diverged"])),
      active_features=(TOY_DIMS, toy_var(tokens["active"])),
      represented=(TOY_DIMS, toy_var((np.linalg.norm(toy["W"], axis=1)
                                      > recovery.REPRESENTED_NORM).sum(axis=-1))))
  labels = np.array([list(cfg.settings_of(kind)) + [""] * (settings - len(cfg.settings_of(kind)))
                     for kind in kinds])
  return xr.Dataset(variables, coords={
      "sae_kind": kinds, "expansion": expansions, "setting": np.arange(settings),
      "setting_label": (("sae_kind", "setting"), labels),
      "alpha": list(cfg.alpha), "density": list(cfg.density), "seed": np.arange(cfg.seeds)})


# What the effective-feature study keeps of each feature count's toy-SAE study.
EFFECTIVE_SAE = ("nmse", "l0", "dead_fraction", "latent_mass", "sae_diverged")
EFFECTIVE_TOY = ("features_per_dim", "toy_loss", "toy_diverged", "represented",
                 "active_features")


def total_effective_steps(cfg: EffectiveConfig) -> int:
  return sum(total_steps(cfg.study(n)) for n in cfg.features)


def run_effective(cfg: EffectiveConfig, run_dir: Path,
                  progress: Progress) -> tuple[xr.Dataset, dict]:
  """The toy-SAE study of each feature count in turn (passes tagged _n<n>), their ReLU
  SAEs' activation mass and losses side by side along a `features` axis."""
  pieces, timings = [], {}
  for n in cfg.features:
    found, spent = study(cfg.study(n), run_dir, progress, tag=f"_n{n}")
    timings.update(spent)
    sae = found.sel(sae_kind="relu", expansion=cfg.expansion, drop=True)
    pieces.append(xr.Dataset({name: sae[name] for name in EFFECTIVE_SAE + EFFECTIVE_TOY}))
  dataset = xr.concat(pieces, dim=xr.DataArray(list(cfg.features), dims="features"))
  dataset = dataset.drop_vars("setting_label").assign_coords(
      setting=np.arange(len(cfg.l1)), l1=("setting", list(cfg.l1)))
  return dataset, timings
