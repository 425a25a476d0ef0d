"""Sparse autoencoders on the four stages of robust ResNet18s (Gorton & Lewis 2025, Sec. 5).

For a zoo of ResNet18s that differ in adversarial-training budget eps, SAEs are trained on
each stage's activations (every spatial position of every image is one input vector) and
measured on held-out images, clean and attacked:

  sae_nmse        fraction of variance unexplained on clean inputs: lower means the stage
                  is easier to decompose, i.e. less superposition (preprint Figure 5).
  l0_clean        mean active latents per input vector on clean images.
  l0_adversarial  the same on FGSM and PGD (Linf, `attack_eps`) adversarial images; the
                  preprint finds it above l0_clean, increasingly with depth (Figure 6).

The zoo comes from one of two sources:
  "digits"       small CIFAR-stem ResNet18s trained here, standard and with PGD-L2
                 adversarial training at each of `train_eps`, on scikit-learn's 8x8 digits
                 (one vmapped program; no downloads).
  "checkpoints"  converted madrylab checkpoints (`superjax convert-resnet18`) with their
                 eps, on the first images of an ImageNet-style folder.

Per layer and SAE kind, the SAEs for every model and sparsity train together as one
vmapped program (superjax.sae.train_saes). Each finished piece (the zoo, each layer's
SAEs) is saved in the run directory, so a killed run resumes after its last piece.
"""

from __future__ import annotations

import dataclasses
import datetime
import functools
import json
import sys
import time
from pathlib import Path
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import xarray as xr

from superjax import image_attacks, image_training, images, resnet, sae
from superjax.core import rundir
from superjax.core.config import Config, ConfigError
from superjax.core.errors import SuperjaxError
from superjax.core.progress import Progress

SOURCES = ("digits", "checkpoints")
ATTACKS = ("fgsm", "pgd_linf")
EXPERIMENT = "sae"


@dataclasses.dataclass(frozen=True)
class SAEStudyConfig(Config):
  """Settings of an SAE study on a robust-model zoo (tuples are grid axes).

  Attributes:
    name, description: as for SweepConfig.
    source: "digits" or "checkpoints" (see the module docstring).
    train_eps: L2 budgets of the digits zoo's PGD adversarial training (0 = standard).
    width: channels of layer1 of the digits models (layer4 has 8x as many).
    train_steps, train_batch, train_lr, train_attack_steps: digits training (Adam, cosine).
    checkpoints, checkpoint_eps: converted checkpoint directories and their budgets.
    image_dir: ImageNet-style folder (class subfolders) for "checkpoints".
    images: images whose activations train the SAEs ("checkpoints"; digits uses its
      training split).
    eval_images: held-out images for the measurements.
    tokens_per_image: spatial positions sampled per image and stage (0: all of them).
    sae_kinds: "topk" and/or "relu".
    k, l1: sparsity settings of TopK and ReLU SAEs, one per `sparsity` coordinate.
    expansion: latents per activation dimension.
    sae_steps, sae_batch, sae_lr: SAE training (Adam).
    attack_eps: Linf budget of the FGSM and PGD attacks on the evaluation images.
    attack_steps: PGD steps.
    seed: base seed of everything random.
  """

  name: str
  description: str = ""
  source: str = "digits"
  train_eps: tuple[float, ...] = (0.0, 0.5, 1.0, 2.0)
  width: int = 8
  train_steps: int = 600
  train_batch: int = 64
  train_lr: float = 3e-3
  train_attack_steps: int = 3
  checkpoints: tuple[str, ...] = ()
  checkpoint_eps: tuple[float, ...] = ()
  image_dir: str = ""
  images: int = 1000
  eval_images: int = 359
  tokens_per_image: int = 0
  sae_kinds: tuple[str, ...] = ("topk", "relu")
  k: tuple[int, ...] = (2, 4, 8)
  l1: tuple[float, ...] = (10.0, 3.0, 1.0)
  expansion: int = 8
  sae_steps: int = 1000
  sae_batch: int = 4096
  sae_lr: float = 5e-4
  attack_eps: float = 0.1
  attack_steps: int = 10
  seed: int = 0

  EXPERIMENT = "sae"

  def validate(self) -> None:
    def check(ok: bool, field: str, message: str):
      if not ok:
        raise ConfigError(f"{field}: {message} (got {getattr(self, field)!r})")
    check(self.source in SOURCES, "source", f"must be one of {', '.join(SOURCES)}")
    if self.source == "digits":
      check(len(self.train_eps) > 0 and all(e >= 0 for e in self.train_eps), "train_eps",
            "must be one or more budgets >= 0")
    else:
      check(len(self.checkpoints) > 0, "checkpoints", "must name converted checkpoint directories")
      check(len(self.checkpoint_eps) == len(self.checkpoints), "checkpoint_eps",
            "must give one eps per checkpoint")
      check(bool(self.image_dir), "image_dir", "must name an ImageNet-style image folder")
    for field in ("width", "train_steps", "train_batch", "train_attack_steps", "images",
                  "eval_images", "expansion", "sae_steps", "sae_batch", "attack_steps"):
      check(int(getattr(self, field)) >= 1, field, "must be a positive integer")
    check(self.tokens_per_image >= 0, "tokens_per_image", "must be >= 0")
    check(len(self.sae_kinds) > 0 and set(self.sae_kinds) <= set(sae.KINDS), "sae_kinds",
          f"must be some of {', '.join(sae.KINDS)}")
    check(len(self.k) > 0 and all(k >= 1 for k in self.k), "k", "must be positive integers")
    check(len(self.l1) == len(self.k) and all(v > 0 for v in self.l1), "l1",
          "must give one positive L1 weight per k (they share the sparsity axis)")
    for field in ("train_lr", "sae_lr", "attack_eps"):
      check(getattr(self, field) > 0, field, "must be > 0")

  @property
  def model_eps(self) -> tuple[float, ...]:
    return self.train_eps if self.source == "digits" else self.checkpoint_eps


def _say(message: str) -> None:
  print(message, file=sys.stderr, flush=True)


# ----------------------------------------------------------------------------- the zoo

def _digits_zoo(cfg: SAEStudyConfig, run_dir: Path, progress: Progress):
  """Trains (or reloads) the digits models; returns them, the images the SAEs train on
  and the labelled evaluation images."""
  x_train, y_train, x_test, y_test = images.digits(seed=cfg.seed)
  if cfg.eval_images > len(x_test):
    raise SuperjaxError(f"eval_images: the digits test split holds {len(x_test)} images "
                        f"(got {cfg.eval_images})")
  mean = tuple(float(v) for v in x_train.mean(axis=(0, 1, 2)))
  std = tuple(float(v) for v in x_train.std(axis=(0, 1, 2)))
  model = resnet.ResNet18(num_classes=10, stem="cifar", width=cfg.width, mean=mean, std=std)
  directories = [run_dir / "models" / f"eps_{i}" for i in range(len(cfg.train_eps))]
  if all((d / resnet.META_FILE).exists() for d in directories):
    _say("reloading the trained digits models")
    zoo = [resnet.load(d) for d in directories]
  else:
    settings = image_training.TrainSettings(steps=cfg.train_steps, batch=cfg.train_batch,
                                            lr=cfg.train_lr, attack_steps=cfg.train_attack_steps)
    t0 = time.perf_counter()
    stacked = image_training.train_many(
        jax.random.key(cfg.seed), jnp.asarray(cfg.train_eps, jnp.float32),
        jnp.zeros(len(cfg.train_eps), jnp.int32), model, settings, x_train, y_train)
    _say(f"trained {len(cfg.train_eps)} digits ResNet18s in {time.perf_counter() - t0:.0f} s")
    for i, directory in enumerate(directories):
      variables = jax.tree.map(lambda a, i=i: np.asarray(a[i]), stacked)
      resnet.save(directory, model, variables, {"train_eps": cfg.train_eps[i],
                                                "train_steps": cfg.train_steps})
    zoo = [resnet.load(d) for d in directories]
  progress.update(1, note="models ready")
  return zoo, x_train, (x_test[:cfg.eval_images], y_test[:cfg.eval_images])


def _checkpoint_zoo(cfg: SAEStudyConfig, progress: Progress):
  zoo = [resnet.load(path) for path in cfg.checkpoints]
  paths, labels, _ = images.list_images(cfg.image_dir)
  wanted = cfg.images + cfg.eval_images
  if len(paths) < wanted:
    raise SuperjaxError(f"image_dir {cfg.image_dir} holds {len(paths)} images; the study "
                        f"needs images + eval_images = {wanted}")
  order = np.random.default_rng(cfg.seed).permutation(len(paths))
  load = lambda idx: np.stack([images.load_image(paths[i]) for i in idx])
  x_train = load(order[:cfg.images])
  test = order[cfg.images:wanted]
  progress.update(1, note="models ready")
  return zoo, x_train, (load(test), labels[test].astype(np.int32))


# ------------------------------------------------------------------------ activations

@functools.cache
def _positions(images: int, positions: int, keep: int, seed: int) -> np.ndarray | None:
  """(images, keep) random spatial positions per image, or None for all of them. The same
  seed gives the same positions to every model and input set, so their tokens align;
  they are drawn once and reused (read only) for each of them."""
  if not keep or keep >= positions:
    return None
  order = np.argsort(np.random.default_rng(seed).random((images, positions)), axis=1)
  return np.ascontiguousarray(order[:, :keep])  # not a view pinning the whole argsort


def _tokens(feature_map: np.ndarray, index: np.ndarray | None) -> np.ndarray:
  """(N, H, W, C) -> (N * positions, C): every position of each image, or those `index`
  (N, keep) names."""
  n, h, w, c = feature_map.shape
  flat = feature_map.reshape(n, h * w, c)
  if index is not None:
    flat = np.take_along_axis(flat, index[..., None], axis=1)
  return flat.reshape(-1, c)


def _stage_tokens(cfg: SAEStudyConfig, features, x: np.ndarray,
                  batch: int = 256) -> dict[str, np.ndarray]:
  """Every stage's tokens of images x, picked batch by batch so whole feature maps (GBs
  for an ImageNet stage) never sit in memory together."""
  pieces = {layer: [] for layer in resnet.STAGES}
  index = {}
  for start in range(0, len(x), batch):
    maps = features(x[start:start + batch])
    for layer in resnet.STAGES:
      fmap = np.asarray(maps[layer])
      if layer not in index:
        seed = int(np.random.default_rng([cfg.seed, resnet.STAGES.index(layer)]).integers(2 ** 31))
        index[layer] = _positions(len(x), fmap.shape[1] * fmap.shape[2], cfg.tokens_per_image, seed)
      rows = None if index[layer] is None else index[layer][start:start + len(fmap)]
      pieces[layer].append(_tokens(fmap, rows))
  return {layer: np.concatenate(parts) for layer, parts in pieces.items()}


# Jitted once per architecture (the flax module is hashable), not once per model: the
# variables are arguments.
@functools.partial(jax.jit, static_argnames=("model",))
def _logits(model: resnet.ResNet18, variables, x: jax.Array) -> jax.Array:
  return model.apply(variables, x, train=False)[0]


@functools.partial(jax.jit, static_argnames=("model",))
def _features(model: resnet.ResNet18, variables, x: jax.Array) -> dict[str, jax.Array]:
  return model.apply(variables, x, train=False)[1]


@functools.partial(jax.jit, static_argnames=("model", "attack", "steps"))
def _attack(model: resnet.ResNet18, variables, attack: str, key: jax.Array, x: jax.Array,
            y: jax.Array, eps: float, steps: int) -> jax.Array:
  return image_attacks.attack(attack, key, lambda z: _logits(model, variables, z), x, y, eps,
                              steps)


def _attacked(cfg: SAEStudyConfig, f, x: np.ndarray, y: np.ndarray) -> dict[str, np.ndarray]:
  """Adversarial versions of the evaluation images under each of ATTACKS."""
  key = jax.random.key(cfg.seed + 1)
  return {name: np.concatenate([np.asarray(_attack(
      f.model, f.variables, name, jax.random.fold_in(key, i), jnp.asarray(x[i:i + 128]),
      jnp.asarray(y[i:i + 128]), cfg.attack_eps, cfg.attack_steps))
      for i in range(0, len(x), 128)]) for name in ATTACKS}


def _accuracy(f, x: np.ndarray, y: np.ndarray) -> float:
  logits = np.concatenate([np.asarray(_logits(f.model, f.variables, x[i:i + 256]))
                           for i in range(0, len(x), 256)])
  return float(np.mean(np.argmax(logits, axis=-1) == y))


# ------------------------------------------------------------------------------ SAEs

def _sae_config(cfg: SAEStudyConfig, kind: str, d: int, tokens: int) -> sae.SAEConfig:
  latents = cfg.expansion * d
  return sae.SAEConfig(kind=kind, d_in=d, expansion=cfg.expansion,
                       k_max=min(max(cfg.k), latents), k_aux=min(512, latents),
                       batch=min(cfg.sae_batch, tokens), steps=cfg.sae_steps,
                       # A latent is dead after about one pass over the training tokens
                       # without firing: short studies would otherwise never use AuxK.
                       dead_tokens=max(tokens, cfg.sae_batch))


def _layer_saes(cfg: SAEStudyConfig, layer: str, train_acts: np.ndarray,
                eval_acts: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
  """Trains every (kind, model, sparsity) SAE of one layer; returns its measurements,
  each of shape (kinds, models, sparsity) or (kinds, models, sparsity, attacks)."""
  models, tokens, d = train_acts.shape
  out = {name: [] for name in ("sae_nmse", "l0_clean", "dead_fraction", "l0_adversarial")}
  for kind in cfg.sae_kinds:
    sae_cfg = _sae_config(cfg, kind, d, tokens)
    if kind == "topk":  # one run per (model, k); the l1 axis is ReLU's only
      hp, _ = sae.hparams(sae_cfg, k=tuple(min(k, sae_cfg.k_max) for k in cfg.k),
                          l1=(0.0,), lr=(cfg.sae_lr,), source=tuple(range(models)))
      grid = (models, len(cfg.k))
    else:
      hp, _ = sae.hparams(sae_cfg, k=None, l1=cfg.l1, lr=(cfg.sae_lr,),
                          source=tuple(range(models)))
      grid = (models, len(cfg.l1))
    hp = jax.tree.map(jnp.asarray, hp)
    states, _ = sae.train_saes(jax.random.key(cfg.seed + 2), sae_cfg, hp, jnp.asarray(train_acts))
    clean = sae.evaluate_runs(states.sae, hp, jnp.asarray(eval_acts["clean"]))
    out["sae_nmse"].append(np.asarray(clean["nmse"]).reshape(grid))
    out["l0_clean"].append(np.asarray(clean["l0"]).reshape(grid))
    out["dead_fraction"].append(np.asarray(clean["dead_fraction"]).reshape(grid))
    out["l0_adversarial"].append(np.stack([
        np.asarray(sae.evaluate_runs(states.sae, hp, jnp.asarray(eval_acts[a]))["l0"]).reshape(grid)
        for a in ATTACKS], axis=-1))
  return {k: np.stack(v) for k, v in out.items()}


# ------------------------------------------------------------------------------- run

def run(cfg: SAEStudyConfig, run_dir: Path, fresh: bool = False,
        show_progress: bool = True) -> xr.Dataset:
  """Runs the study (resuming finished pieces) and saves its results; see the module."""
  run_dir = Path(run_dir)
  rundir.prepare(cfg, run_dir, fresh)
  if (run_dir / rundir.RESULTS_FILE).exists():
    _say(f"{run_dir} already holds the finished run; loading its results")
    return rundir.load(run_dir)
  started = datetime.datetime.now(datetime.UTC)
  t0 = time.perf_counter()
  progress = Progress(2 + len(resnet.STAGES), cfg.name, enabled=show_progress, unit="stage")
  if cfg.source == "digits":
    zoo, x_train, (x_eval, y_eval) = _digits_zoo(cfg, run_dir, progress)
  else:
    zoo, x_train, (x_eval, y_eval) = _checkpoint_zoo(cfg, progress)

  eval_inputs = [{"clean": x_eval, **_attacked(cfg, f, x_eval, y_eval)} for f in zoo]
  accuracy = np.array([[_accuracy(f, inputs[name], y_eval) for name in ("clean", *ATTACKS)]
                       for f, inputs in zip(zoo, eval_inputs)])
  features = lambda f: functools.partial(_features, f.model, f.variables)
  train_tokens = [_stage_tokens(cfg, features(f), x_train) for f in zoo]
  eval_tokens = [{name: _stage_tokens(cfg, features(f), x) for name, x in inputs.items()}
                 for f, inputs in zip(zoo, eval_inputs)]
  progress.update(1, note="activations ready")

  layers = {}
  for layer in resnet.STAGES:
    part = run_dir / "parts" / f"{layer}.npz"
    if part.exists():
      layers[layer] = dict(np.load(part))
    else:
      train_acts = np.stack([tokens[layer] for tokens in train_tokens])
      eval_acts = {name: np.stack([tokens[name][layer] for tokens in eval_tokens])
                   for name in ("clean", *ATTACKS)}
      layers[layer] = _layer_saes(cfg, layer, train_acts, eval_acts)
      part.parent.mkdir(exist_ok=True)
      rundir.write_atomic(part, lambda tmp, arrays=layers[layer]: _savez(tmp, arrays))
    progress.update(1, note=f"{layer} SAEs done")

  dataset = _dataset(cfg, layers, accuracy)
  dataset.attrs["total_seconds"] = round(time.perf_counter() - t0, 1)
  rundir.save(dataset, run_dir, {
      "sweep": cfg.name, "config": cfg.to_dict(), "started": started.isoformat(timespec="seconds"),
      "timings": {"total_seconds": round(time.perf_counter() - t0, 3)}})
  return dataset


def _savez(path: Path, arrays: dict[str, np.ndarray]) -> None:
  with open(path, "wb") as f:  # a file object: np.savez would append ".npz" to a name
    np.savez(f, **arrays)


def _dataset(cfg: SAEStudyConfig, layers: dict, accuracy: np.ndarray) -> xr.Dataset:
  stack = lambda name: np.stack([layers[layer][name] for layer in resnet.STAGES], axis=1)
  dims = ("sae_kind", "layer", "model_eps", "sparsity")
  sparsity_value = np.array([[float(k) for k in cfg.k] if kind == "topk" else list(cfg.l1)
                             for kind in cfg.sae_kinds])
  dataset = xr.Dataset(
      {"sae_nmse": (dims, stack("sae_nmse")),
       "l0_clean": (dims, stack("l0_clean")),
       "dead_fraction": (dims, stack("dead_fraction")),
       "l0_adversarial": (dims + ("attack",), stack("l0_adversarial")),
       "clean_accuracy": (("model_eps",), accuracy[:, 0]),
       "robust_accuracy": (("model_eps", "attack"), accuracy[:, 1:])},
      coords={"sae_kind": list(cfg.sae_kinds), "layer": list(resnet.STAGES),
              "model_eps": list(cfg.model_eps), "sparsity": np.arange(len(cfg.k)),
              "attack": list(ATTACKS),
              "sparsity_value": (("sae_kind", "sparsity"), sparsity_value)})
  dataset.attrs.update(experiment=EXPERIMENT, config=json.dumps(cfg.to_dict()),
                       sweep=cfg.name)
  return dataset


def config_of(dataset: xr.Dataset) -> SAEStudyConfig:
  return SAEStudyConfig.from_dict(json.loads(dataset.attrs["config"]))


# ------------------------------------------------------------------ report and figures

def _spearman(a: np.ndarray, b: np.ndarray) -> float:
  ra, rb = np.argsort(np.argsort(a)), np.argsort(np.argsort(b))
  return float(np.corrcoef(ra, rb)[0, 1]) if len(a) > 1 else float("nan")


def trends(dataset: xr.Dataset) -> dict[str, Any]:
  """The preprint's two trends, measured: (1) SAE loss falls as eps grows (Spearman of
  sae_nmse against eps, per layer, averaged over kinds and sparsities); (2) adversarial
  inputs activate more latents (ratio l0_adversarial / l0_clean per layer and attack,
  averaged over models, kinds and sparsities), more so in deeper layers."""
  eps = dataset["model_eps"].values
  nmse = dataset["sae_nmse"].mean(("sae_kind", "sparsity"))
  rho = {layer: _spearman(eps, nmse.sel(layer=layer).values) for layer in dataset["layer"].values}
  ratio = (dataset["l0_adversarial"] / dataset["l0_clean"]).mean(("sae_kind", "sparsity",
                                                                   "model_eps"))
  return {"nmse_vs_eps_spearman": rho,
          "l0_ratio": {a: ratio.sel(attack=a).values.tolist() for a in dataset["attack"].values}}


def render_report(dataset: xr.Dataset) -> str:
  cfg = config_of(dataset)
  lines = [f"{cfg.name}: SAEs on {len(cfg.model_eps)} ResNet18s ({cfg.source}), "
           f"kinds {', '.join(cfg.sae_kinds)}",
           "", f"{'model eps':>10}{'clean acc':>11}" + "".join(
               f"{a + ' acc':>14}" for a in dataset["attack"].values)]
  for eps in dataset["model_eps"].values:
    lines.append(f"{eps:>10.3g}{float(dataset['clean_accuracy'].sel(model_eps=eps)):>11.3f}" + "".join(
        f"{float(dataset['robust_accuracy'].sel(model_eps=eps, attack=a)):>14.3f}"
        for a in dataset["attack"].values))
  lines += ["", "SAE nMSE (mean over sparsities) per layer and model eps:",
            f"{'kind':<6}{'layer':<8}" + "".join(f"{e:>9.3g}" for e in dataset["model_eps"].values)]
  for kind in dataset["sae_kind"].values:
    for layer in dataset["layer"].values:
      row = dataset["sae_nmse"].sel(sae_kind=kind, layer=layer).mean("sparsity").values
      lines.append(f"{kind:<6}{layer:<8}" + "".join(f"{v:>9.3f}" for v in row))
  found = trends(dataset)
  lines += ["", "Trend 1 (preprint Fig. 5): SAE loss falls with eps. Spearman(nMSE, eps) per "
            "layer: " + ", ".join(f"{k} {v:+.2f}" for k, v in found["nmse_vs_eps_spearman"].items())]
  falls = [v < 0 for v in found["nmse_vs_eps_spearman"].values()]
  lines.append(f"  appears in {sum(falls)} of {len(falls)} layers")
  lines.append("Trend 2 (preprint Fig. 6): L0 adversarial / clean per layer:")
  for attack, ratios in found["l0_ratio"].items():
    lines.append(f"  {attack:<9}" + "  ".join(f"{layer} {r:.2f}" for layer, r in
                                             zip(dataset["layer"].values, ratios)))
    rising = np.all(np.diff(ratios) > 0)
    lines.append(f"  {'':<9}above 1 in {sum(r > 1 for r in ratios)} of {len(ratios)} layers; "
                 f"{'rises' if rising else 'does not rise monotonically'} with depth")
  return "\n".join(lines)


def draw_figures(dataset: xr.Dataset, out_dir: Path) -> list[Path]:
  from superjax.core import figures
  plt = figures.plt
  out_dir = Path(out_dir)
  paths = []
  eps = dataset["model_eps"].values
  layers = dataset["layer"].values
  # Figure 5: SAE loss against eps, one panel per stage.
  fig, axes = plt.subplots(1, len(layers), figsize=(3.2 * len(layers), 3.0), sharey=False)
  for ax, layer in zip(axes, layers):
    for kind, style in zip(dataset["sae_kind"].values, ("-", "--")):
      for s in dataset["sparsity"].values:
        value = float(dataset["sparsity_value"].sel(sae_kind=kind, sparsity=s))
        label = f"{kind} {'k' if kind == 'topk' else 'λ'}={value:g}"
        ax.plot(np.arange(len(eps)), dataset["sae_nmse"].sel(sae_kind=kind, layer=layer,
                                                              sparsity=s), style, marker="o",
                ms=3, label=label)
    ax.set_xticks(np.arange(len(eps)), [f"{e:g}" for e in eps])
    ax.set_title(layer)
    ax.set_xlabel("adversarial training eps")
  axes[0].set_ylabel("SAE normalised MSE")
  axes[-1].legend(fontsize=7, frameon=False)
  fig.suptitle("SAE reconstruction loss falls as robustness grows (cf. Gorton & Lewis Fig. 5)")
  fig.tight_layout()
  paths.append(figures.save(fig, out_dir / "sae_loss_vs_eps"))
  # Figure 6: L0 on adversarial inputs over L0 on clean inputs, per stage and attack.
  ratio = (dataset["l0_adversarial"] / dataset["l0_clean"]).mean(("sae_kind", "sparsity"))
  fig, axes = plt.subplots(1, len(dataset["attack"]), figsize=(4.2 * len(dataset["attack"]), 3.2),
                           sharey=True)
  colors = plt.cm.viridis(np.linspace(0, 0.9, len(eps)))
  for ax, attack in zip(np.atleast_1d(axes), dataset["attack"].values):
    for e, color in zip(eps, colors):
      ax.plot(np.arange(len(layers)), ratio.sel(attack=attack, model_eps=e), marker="o",
              color=color, label=f"eps {e:g}")
    ax.axhline(1.0, color="gray", lw=0.8, ls=":")
    ax.set_xticks(np.arange(len(layers)), layers)
    ax.set_title(attack)
  np.atleast_1d(axes)[0].set_ylabel("L0 adversarial / L0 clean")
  np.atleast_1d(axes)[-1].legend(fontsize=7, frameon=False)
  fig.suptitle("Adversarial inputs activate more SAE latents (cf. Gorton & Lewis Fig. 6)")
  fig.tight_layout()
  paths.append(figures.save(fig, out_dir / "l0_adversarial_ratio"))
  return paths
