"""Runs the zoo-SAE study: two kinds of training pass through the core loop, and the
measurements between them.

1. The zoo ("digits"): small CIFAR-stem ResNet18s trained standard and with PGD-L2
   adversarial training at each of `train_eps`, `seeds` runs each, as one vmapped pass
   (state/zoo). With "converted", the zoo is read from converted-model directories.
2. Measurements: the evaluation images attacked (FGSM, PGD-Linf) against each model, the
   models' accuracies, and each stage's activation tokens of the training and evaluation
   images. The trained zoo is read back from its saved state, not kept from pass 1.
3. SAEs: for each stage and kind, one pass (state/sae_<layer>_<kind>) whose runs are every
   model x sparsity; each SAE is measured at the end on the clean and attacked tokens.

A killed run resumes inside whichever pass it was in; the measurements between passes
are recomputed (they are deterministic).
"""

from __future__ import annotations

import functools
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
import xarray as xr

from superjax.core import keys, loop
from superjax.core import results as results_lib
from superjax.core.axes import Axes, product
from superjax.core.config import ConfigError
from superjax.core.errors import SuperjaxError
from superjax.core.progress import Progress, say
from superjax.sae import train as sae_train
from superjax.sae.kinds import KINDS
from superjax.sae.model import SAEHParams, Settings
from superjax.vision import attacks, images, resnet, zoo
from superjax.zoo_sae.config import ATTACKS, ZooSAEConfig
from superjax.zoo_sae.tokens import stage_tokens

ZOO_PASS = "zoo"
# The study's named random streams (core.keys): each a function of the base seed and its
# name alone, so two base seeds share none. Numpy draws (the digits split, each stage's
# token positions, the order of converted-zoo images) seed numpy's SeedSequence with the
# base seed (and the stage), which is likewise disjoint between base seeds.
ZOO_STREAM, ATTACK_STREAM, SAE_STREAM = "zoo", "attack", "sae"


def zoo_keys(cfg: ZooSAEConfig, seeds) -> jax.Array:
  """The zoo's run keys, one per classifier seed."""
  return keys.run_keys(cfg.base_seed, seeds, ZOO_STREAM)


def attack_key(cfg: ZooSAEConfig) -> jax.Array:
  """The key of the evaluation attacks."""
  return keys.root(cfg.base_seed, ATTACK_STREAM)


def _zoo_settings(cfg: ZooSAEConfig) -> tuple[zoo.ZooSettings, loop.Schedule]:
  settings = zoo.ZooSettings(steps=cfg.train_steps, batch=cfg.train_batch, lr=cfg.train_lr,
                             attack_steps=cfg.train_attack_steps)
  return settings, loop.Schedule(steps=cfg.train_steps, log_every=cfg.log_every,
                                 checkpoint_every=cfg.checkpoint_every)


def zoo_pass(cfg: ZooSAEConfig, run_dir: Path) -> tuple[loop.Pass, resnet.ResNet18]:
  """The digits zoo's pass (every eps x seed, model_axes) and the ResNet it trains."""
  x_train, y_train, _, _ = images.digits(seed=cfg.base_seed)
  mean = tuple(float(v) for v in x_train.mean(axis=(0, 1, 2)))
  std = tuple(float(v) for v in x_train.std(axis=(0, 1, 2)))
  model = resnet.ResNet18(num_classes=10, stem="cifar", channels=cfg.channels, mean=mean,
                          std=std)
  settings, schedule = _zoo_settings(cfg)
  values = model_axes(cfg).hparams()
  hps = zoo.ZooHParams(eps=values["model_eps"].astype(np.float32),
                       seed=values["seed"].astype(np.int32))
  return loop.Pass(zoo.program(model, settings, ZOO_PASS), zoo_keys(cfg, hps.seed), hps,
                   schedule, run_dir, data={"x": x_train, "y": y_train},
                   meta={"config": cfg.computed_part()}), model


def passes(cfg: ZooSAEConfig, run_dir: Path) -> list[loop.Pass]:
  """The passes the config alone determines (Experiment.passes): the digits zoo's (the
  SAE passes train on the zoo's activations)."""
  return [zoo_pass(cfg, run_dir)[0]] if cfg.source == "digits" else []


def _digits_zoo(cfg: ZooSAEConfig, run_dir: Path, progress: Progress, timings: dict):
  """Trains (or resumes) the digits zoo; returns the models read back from their saved
  state, the images the SAEs train on and the labelled evaluation images."""
  x_train, _, x_test, y_test = images.digits(seed=cfg.base_seed)
  if cfg.eval_images > len(x_test):
    raise SuperjaxError(f"eval_images: the digits test split holds {len(x_test)} images "
                        f"(got {cfg.eval_images})")
  trained, model = zoo_pass(cfg, run_dir)
  timings[ZOO_PASS] = trained.train(progress).timings()
  states = trained.final_states()
  members = [resnet.LoadedResNet18(model, zoo.variables_of(states, i))
             for i in range(len(cfg.train_eps) * cfg.seeds)]
  return members, x_train, (x_test[:cfg.eval_images], y_test[:cfg.eval_images])


def _converted_zoo(cfg: ZooSAEConfig):
  members = [resnet.load(path) for path in cfg.model_dirs]
  paths, labels, _ = images.list_images(cfg.image_dir)
  wanted = cfg.images + cfg.eval_images
  if len(paths) < wanted:
    raise SuperjaxError(f"image_dir {cfg.image_dir} holds {len(paths)} images; the study "
                        f"needs images + eval_images = {wanted}")
  order = np.random.default_rng(cfg.base_seed).permutation(len(paths))
  load = lambda idx: np.stack([images.load_image(paths[i]) for i in idx])
  test = order[cfg.images:wanted]
  return members, load(order[:cfg.images]), (load(test), labels[test].astype(np.int32))


@functools.partial(jax.jit, static_argnames=("model", "attack", "steps"))
def _attack(model: resnet.ResNet18, variables, attack: str, key: jax.Array, x: jax.Array,
            y: jax.Array, eps: float, steps: int) -> jax.Array:
  return attacks.attack(attack, key, lambda z: resnet.logits(model, variables, z), x, y, eps,
                        steps)


def _attacked(cfg: ZooSAEConfig, member: resnet.LoadedResNet18, x: np.ndarray,
              y: np.ndarray) -> dict[str, np.ndarray]:
  """Adversarial versions of the evaluation images under each of ATTACKS."""
  key = attack_key(cfg)
  return {name: np.concatenate([np.asarray(_attack(
      member.model, member.variables, name, jax.random.fold_in(key, i),
      jnp.asarray(x[i:i + 128]), jnp.asarray(y[i:i + 128]), cfg.attack_eps, cfg.attack_steps))
      for i in range(0, len(x), 128)]) for name in ATTACKS}


def _accuracy(member: resnet.LoadedResNet18, x: np.ndarray, y: np.ndarray) -> float:
  logits = np.concatenate([np.asarray(member(x[i:i + 256])) for i in range(0, len(x), 256)])
  return float(np.mean(np.argmax(logits, axis=-1) == y))


def _sae_settings(cfg: ZooSAEConfig, layer: str, kind: str, d: int, tokens: int) -> Settings:
  latents = cfg.expansion * d
  if max(cfg.k) > latents:
    raise ConfigError(f"k: {max(cfg.k)} is more than the {latents} latents of {layer}'s SAEs "
                      f"(expansion {cfg.expansion} x {d} channels)")
  return Settings(kind=kind, d_in=d, expansion=cfg.expansion,
                  k_max=max(cfg.k), k_aux=min(512, latents),
                  batch=min(cfg.sae_batch, tokens), steps=cfg.sae_steps,
                  # A latent is dead after about one pass over the training tokens without
                  # firing: short studies would otherwise never use AuxK.
                  dead_tokens=max(tokens, cfg.sae_batch))


def model_axes(cfg: ZooSAEConfig) -> Axes:
  """The zoo's models: every eps x seed, seeds fastest (the results' model_eps, seed)."""
  return product(model_eps=cfg.eps, seed=range(cfg.seeds))


def sparsity_values(cfg: ZooSAEConfig, kind: str) -> tuple[float, ...]:
  """A kind's sparsity settings: k for kinds controlled by k, else its penalty (`l1` for
  ReLU, `l0` for JumpReLU)."""
  return tuple(float(k) for k in cfg.k) if KINDS[kind].control == "k" else cfg.penalties(kind)


def sae_axes(cfg: ZooSAEConfig, kind: str) -> Axes:
  """A layer's SAE pass of one kind: every model x sparsity setting, settings fastest."""
  return product(*model_axes(cfg).groups, sparsity=range(len(sparsity_values(cfg, kind))))


def _sae_runs(cfg: ZooSAEConfig, settings: Settings) -> SAEHParams:
  """sae_axes's runs: each SAE reads its model's tokens (`source`); every SAE starts from
  seed 0 of the SAE stream."""
  grid = sae_axes(cfg, settings.kind)
  value = np.asarray(sparsity_values(cfg, settings.kind))[grid.hparams()["sparsity"]]
  by_k = KINDS[settings.kind].control == "k"
  runs = grid.size
  return SAEHParams(k=(value if by_k else np.full(runs, settings.k_max)).astype(np.int32),
                    penalty=(np.zeros(runs) if by_k else value).astype(np.float32),
                    lr=np.full(runs, cfg.sae_lr, np.float32),
                    source=grid.run_index(model_axes(cfg).dims),
                    seed=np.zeros(runs, np.int32))


def sae_pass_name(layer: str, kind: str) -> str:
  return f"sae_{layer}_{kind}"


def _layer_saes(cfg: ZooSAEConfig, run_dir: Path, layer: str, train_acts: np.ndarray,
                eval_acts: dict[str, np.ndarray], progress: Progress,
                timings: dict) -> dict[str, np.ndarray]:
  """Trains every (kind, model, sparsity) SAE of one layer; returns its measurements,
  each of shape (kinds, eps, seeds, sparsity) or (kinds, eps, seeds, sparsity, attacks)."""
  _, tokens, d = train_acts.shape
  out = {name: [] for name in ("sae_nmse", "l0_clean", "dead_fraction", "l0_adversarial",
                               "sae_diverged")}
  for kind in cfg.sae_kinds:
    settings = _sae_settings(cfg, layer, kind, d, tokens)
    name = sae_pass_name(layer, kind)
    trained = sae_train.sae_pass(
        settings, _sae_runs(cfg, settings), train_acts, run_dir,
        base_seed=cfg.base_seed, stream=SAE_STREAM, eval_acts=eval_acts, log_every=cfg.log_every,
        checkpoint_every=cfg.checkpoint_every, name=name,
        meta={"config": cfg.computed_part()}).train(progress)
    timings[name] = trained.timings()
    on_grid = functools.partial(results_lib.on_dims, sae_axes(cfg, kind),
                                dims=("model_eps", "seed", "sparsity"))
    result = {k: on_grid(v) for k, v in trained.outputs.items()}
    out["sae_nmse"].append(result["clean.nmse"])
    out["l0_clean"].append(result["clean.l0"])
    out["dead_fraction"].append(result["clean.dead_fraction"])
    out["l0_adversarial"].append(np.stack([result[f"{a}.l0"] for a in ATTACKS], axis=-1))
    out["sae_diverged"].append(on_grid(trained.diverged))
  return {k: np.stack(v) for k, v in out.items()}


def sae_runs(cfg: ZooSAEConfig) -> dict[str, list[dict]]:
  """Every SAE pass's runs by their coordinates in the results (Experiment.saes), read
  from the pass's grid (sae_axes)."""
  def label(layer: str, kind: str, point: dict) -> dict:
    sparsity = int(point["sparsity"])
    return dict(point, sae_kind=kind, layer=layer, model_eps=float(point["model_eps"]),
                sparsity=sparsity, sparsity_value=sparsity_values(cfg, kind)[sparsity])
  return {sae_pass_name(layer, kind): [label(layer, kind, point)
                                       for point in sae_axes(cfg, kind).points()]
          for layer in cfg.layers for kind in cfg.sae_kinds}


def total_steps(cfg: ZooSAEConfig) -> int:
  """Model-steps of every pass, for the progress bar."""
  models = len(cfg.eps) * cfg.seeds
  zoo_steps = models * cfg.train_steps if cfg.source == "digits" else 0
  return zoo_steps + len(cfg.layers) * len(cfg.sae_kinds) * models * len(cfg.k) * cfg.sae_steps


def run(cfg: ZooSAEConfig, run_dir: Path, progress: Progress) -> tuple[xr.Dataset, dict]:
  """Trains the zoo and its SAEs (resuming inside any pass); returns the results and the
  passes' timings."""
  timings = {}
  if cfg.source == "digits":
    members, x_train, (x_eval, y_eval) = _digits_zoo(cfg, run_dir, progress, timings)
  else:
    members, x_train, (x_eval, y_eval) = _converted_zoo(cfg)

  say("attacking the evaluation images and collecting activations")
  eval_inputs = [{"clean": x_eval, **_attacked(cfg, m, x_eval, y_eval)} for m in members]
  accuracy = np.array([[_accuracy(m, inputs[name], y_eval) for name in ("clean", *ATTACKS)]
                       for m, inputs in zip(members, eval_inputs)])
  collect = lambda m, x: stage_tokens(m.features, x, cfg.layers, cfg.tokens_per_image,
                                      cfg.base_seed)
  train_tokens = [collect(m, x_train) for m in members]
  eval_tokens = [{name: collect(m, x) for name, x in inputs.items()}
                 for m, inputs in zip(members, eval_inputs)]

  layers = {}
  for layer in cfg.layers:
    train_acts = np.stack([tokens[layer] for tokens in train_tokens])
    eval_acts = {name: np.stack([tokens[name][layer] for tokens in eval_tokens])
                 for name in ("clean", *ATTACKS)}
    layers[layer] = _layer_saes(cfg, run_dir, layer, train_acts, eval_acts, progress, timings)
  return _dataset(cfg, layers, accuracy), timings


def _dataset(cfg: ZooSAEConfig, layers: dict, accuracy: np.ndarray) -> xr.Dataset:
  stack = lambda name: np.stack([layers[layer][name] for layer in cfg.layers], axis=1)
  dims = ("sae_kind", "layer", "model_eps", "seed", "sparsity")
  accuracy = accuracy.reshape(len(cfg.eps), cfg.seeds, -1)
  sparsity_value = np.array([sparsity_values(cfg, kind) for kind in cfg.sae_kinds])
  return xr.Dataset(
      {"sae_nmse": (dims, stack("sae_nmse")),
       "l0_clean": (dims, stack("l0_clean")),
       "dead_fraction": (dims, stack("dead_fraction")),
       "l0_adversarial": (dims + ("attack",), stack("l0_adversarial")),
       "sae_diverged": (dims, stack("sae_diverged")),
       "clean_accuracy": (("model_eps", "seed"), accuracy[..., 0]),
       "robust_accuracy": (("model_eps", "seed", "attack"), accuracy[..., 1:])},
      coords={"sae_kind": list(cfg.sae_kinds), "layer": list(cfg.layers),
              "model_eps": list(cfg.eps), "seed": np.arange(cfg.seeds),
              "sparsity": np.arange(len(cfg.k)),
              "attack": list(ATTACKS),
              "sparsity_value": (("sae_kind", "sparsity"), sparsity_value)})
