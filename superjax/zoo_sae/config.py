"""The zoo-SAE study's config: a zoo of robust ResNet18s and the SAEs trained on their
stages (tuples are grid axes)."""

from __future__ import annotations

import dataclasses

from superjax.core.config import Config, check, check_choices, check_int, check_positive
from superjax.sae.kinds import KINDS
from superjax.vision.resnet import STAGES

SOURCES = ("digits", "converted")
ATTACKS = ("fgsm", "pgd_linf")


@dataclasses.dataclass(frozen=True)
class ZooSAEConfig(Config):
  """Settings of an SAE study on a robust-model zoo.

  Attributes:
    name, description: as for every sweep.
    source: "digits" (a zoo trained here on scikit-learn's 8x8 digits) or "converted"
      (converted-model directories of madrylab checkpoints on an image folder).
    train_eps: L2 budgets of the digits zoo's PGD adversarial training (0 = standard).
    seeds: classifiers per eps in the digits zoo, each with its own initialisation and
      minibatches (the claims judge each seed's models alone); a converted zoo has one
      model per directory.
    channels: channels of layer1 of the digits models (layer4 has 8x as many).
    train_steps, train_batch, train_lr, train_attack_steps: digits training (Adam, cosine).
    model_dirs, model_eps: converted-model directories and the eps each was trained at.
    image_dir: ImageNet-style folder (class subfolders) for "converted".
    images: images whose activations train the SAEs ("converted"; digits uses its
      training split).
    eval_images: held-out images for the measurements.
    tokens_per_image: spatial positions sampled per image and stage (0: all of them).
    layers: the residual stages whose activations get SAEs.
    sae_kinds: registered SAE kinds (superjax.sae.kinds), e.g. "topk", "relu".
    k, l1, l0: sparsity settings, one per `sparsity` coordinate: k for kinds controlled
      by k (TopK, BatchTopK), the L1 coefficient of ReLU SAEs, the L0 coefficient of
      JumpReLU SAEs.
    expansion: latents per activation dimension.
    sae_steps, sae_batch, sae_lr: SAE training (Adam).
    attack_eps: Linf budget of the FGSM and PGD attacks on the evaluation images.
    attack_steps: PGD steps.
    log_every, checkpoint_every: steps per logged segment and between saves, every pass.
    base_seed: base seed of everything random.
  """

  EXPERIMENT = "zoo_sae"
  RENAMED = {"checkpoints": "model_dirs (converted-model directories)",
             "checkpoint_eps": "model_eps", "width": "channels", "seed": "base_seed"}

  name: str
  description: str = ""
  source: str = "digits"
  train_eps: tuple[float, ...] = (0.0, 0.5, 1.0, 2.0)
  seeds: int = 1
  channels: int = 8
  train_steps: int = 600
  train_batch: int = 64
  train_lr: float = 3e-3
  train_attack_steps: int = 3
  model_dirs: tuple[str, ...] = ()
  model_eps: tuple[float, ...] = ()
  image_dir: str = ""
  images: int = 1000
  eval_images: int = 359
  tokens_per_image: int = 0
  layers: tuple[str, ...] = STAGES
  sae_kinds: tuple[str, ...] = ("topk", "relu")
  k: tuple[int, ...] = (2, 4, 8)
  l1: tuple[float, ...] = (10.0, 3.0, 1.0)
  l0: tuple[float, ...] = (1.0, 0.3, 0.1)
  expansion: int = 8
  sae_steps: int = 1000
  sae_batch: int = 4096
  sae_lr: float = 5e-4
  attack_eps: float = 0.1
  attack_steps: int = 10
  log_every: int = 100
  checkpoint_every: int = 500
  base_seed: int = 0

  def validate(self) -> None:
    check(self.source in SOURCES, "source",
          f"{self.source!r} is not one of {', '.join(SOURCES)}")
    if self.source == "digits":
      check(len(self.train_eps) > 0 and all(e >= 0 for e in self.train_eps), "train_eps",
            f"{self.train_eps} must be one or more budgets >= 0")
    else:
      check(self.seeds == 1, "seeds", f"{self.seeds}: a converted zoo has one model per "
            "directory (seeds = 1)")
      check(len(self.model_dirs) > 0, "model_dirs", "must name converted-model directories")
      check(len(self.model_eps) == len(self.model_dirs), "model_eps",
            f"must give one eps per model directory (got {len(self.model_eps)} for "
            f"{len(self.model_dirs)})")
      check(bool(self.image_dir), "image_dir", "must name an ImageNet-style image folder")
    for field in ("seeds", "channels", "train_steps", "train_batch", "train_attack_steps", "images",
                  "eval_images", "expansion", "sae_steps", "sae_batch", "attack_steps",
                  "log_every", "checkpoint_every"):
      check_int(self, field, 1)
    check_int(self, "tokens_per_image", 0)
    check_int(self, "base_seed", 0)
    check_choices("layers", self.layers, STAGES)
    check_choices("sae_kinds", self.sae_kinds, tuple(KINDS))
    for kind in self.sae_kinds:
      check(KINDS[kind].control == "k" or hasattr(self, KINDS[kind].penalty_field), "sae_kinds",
            f"{kind} is set by a penalty that this study has no coefficient field for")
    check(len(self.k) > 0 and all(k >= 1 for k in self.k), "k",
          f"{self.k} must be positive integers")
    for kind in ("relu", "jumprelu"):
      field = KINDS[kind].penalty_field
      values = getattr(self, field)
      check(all(v > 0 for v in values), field, f"{values} must be positive")
      check(kind not in self.sae_kinds or len(values) == len(self.k), field,
            f"{values}: {kind} SAEs need one weight per k (they share the sparsity axis)")
    for field in ("train_lr", "sae_lr", "attack_eps"):
      check_positive(self, field)

  def penalties(self, kind: str) -> tuple[float, ...]:
    """The penalty coefficients of a kind controlled by a penalty."""
    return getattr(self, KINDS[kind].penalty_field)

  @property
  def eps(self) -> tuple[float, ...]:
    """The eps of every model of the zoo, whichever its source."""
    return self.train_eps if self.source == "digits" else self.model_eps


def tiny() -> ZooSAEConfig:
  """A digits study that runs in seconds: two models of 4 channels, a few steps each."""
  return ZooSAEConfig(name="tiny_zoo_sae", train_steps=40, train_eps=(0.0, 1.0), channels=4,
                      eval_images=24, sae_steps=200, sae_batch=256, k=(2, 4), l1=(3.0, 1.0), l0=(0.3, 0.1),
                      attack_steps=2, log_every=10, checkpoint_every=20,
                      sae_kinds=("topk",), layers=("layer1", "layer4"))
