"""ResNet18 in Flax, numerically equal to torchvision's, with madrylab's input normalisation.

Images go in NHWC in [0, 1]; the model clamps them to [0, 1] and normalises with `mean` and
`std` itself, as madrylab's `robustness` models do, so attacks work in pixel space.

Module names follow torchvision's with "." replaced by "_" (`layer2_0/downsample_1` is
`layer2.0.downsample.1`), so `superjax.vision.convert` maps state dicts by renaming alone.
Padding is explicit everywhere: `'SAME'` pads stride-2 layers asymmetrically and would not
match PyTorch.

A converted-model directory holds `variables/` (orbax) and `resnet18.json`
(architecture, normalisation constants and the source's metadata); `load` reads it.
"""

from __future__ import annotations

import functools
import json
import logging
import os
from pathlib import Path
from typing import Any

import flax.linen as nn
import jax
import jax.numpy as jnp
import orbax.checkpoint as ocp

from superjax.core.errors import SuperjaxError

Variables = dict[str, Any]
STAGES = ("layer1", "layer2", "layer3", "layer4")
META_FILE = "resnet18.json"
VARIABLES_DIR = "variables"
_STEMS = ("imagenet", "cifar")
_PAD1 = ((1, 1), (1, 1))


def _batch_norm(train: bool, name: str) -> nn.BatchNorm:
  # flax momentum is the weight of the old average: PyTorch's momentum 0.1 is 0.9 here.
  return nn.BatchNorm(use_running_average=not train, momentum=0.9, epsilon=1e-5, name=name)


class BasicBlock(nn.Module):
  """Two 3x3 convolutions with a residual; a 1x1 stride-s projection when the shape changes."""
  features: int
  strides: int = 1

  @nn.compact
  def __call__(self, x: jax.Array, train: bool = False) -> jax.Array:
    """x: (N, H, W, C_in) -> (N, H/strides, W/strides, features)."""
    y = nn.Conv(self.features, (3, 3), self.strides, padding=_PAD1, use_bias=False, name="conv1")(x)
    y = nn.relu(_batch_norm(train, "bn1")(y))
    y = nn.Conv(self.features, (3, 3), 1, padding=_PAD1, use_bias=False, name="conv2")(y)
    y = _batch_norm(train, "bn2")(y)
    if self.strides != 1 or x.shape[-1] != self.features:
      x = nn.Conv(self.features, (1, 1), self.strides, padding="VALID", use_bias=False,
                  name="downsample_0")(x)
      x = _batch_norm(train, "downsample_1")(x)
    return nn.relu(x + y)


class ResNet18(nn.Module):
  """torchvision's ResNet18 taking NHWC images in [0, 1].

  Attributes:
    num_classes: outputs of the final linear layer.
    stem: "imagenet" (7x7 stride-2 conv, pad 3, then 3x3 stride-2 max-pool, pad 1) or
      "cifar" (3x3 stride-1 conv, pad 1, no max-pool).
    channels: channels of layer1; layer2..4 have 2, 4 and 8 times as many.
    mean, std: per-channel normalisation applied inside the model, RGB order.

  In training mode the running variance is updated with the biased batch variance (flax),
  where PyTorch uses the unbiased one: a factor n / (n - 1), n values per channel.
  """
  num_classes: int = 1000
  stem: str = "imagenet"
  channels: int = 64
  mean: tuple[float, float, float] = (0.485, 0.456, 0.406)
  std: tuple[float, float, float] = (0.229, 0.224, 0.225)

  @nn.compact
  def __call__(self, x: jax.Array, train: bool = False) -> tuple[jax.Array, dict[str, jax.Array]]:
    """Logits and the output of each residual stage.

    Args:
      x: (N, H, W, 3) images in [0, 1].
      train: normalise with batch statistics (and, with `mutable=["batch_stats"]`, update
        the running averages) instead of the running averages.

    Returns:
      logits (N, num_classes) and {"layer1": (N, H1, W1, channels), ...,
      "layer4": (N, H4, W4, 8 channels)}; with the imagenet stem H1 = H/4 and H4 = H/32 (rounded up).
    """
    if self.stem not in _STEMS:
      raise SuperjaxError(f"stem: {self.stem!r} is not one of {', '.join(_STEMS)}")
    # madrylab's normaliser clamps first; where() keeps PyTorch's clamp gradient (1 on the
    # closed interval) whereas jnp.clip halves it at 0 and 1, where attacked pixels sit.
    x = jnp.where(x < 0, 0.0, jnp.where(x > 1, 1.0, x))
    mean, std = (jnp.asarray(c, x.dtype).reshape(1, 1, 1, 3) for c in (self.mean, self.std))
    x = (x - mean) / std
    if self.stem == "imagenet":
      x = nn.Conv(self.channels, (7, 7), 2, padding=((3, 3), (3, 3)), use_bias=False, name="conv1")(x)
    else:
      x = nn.Conv(self.channels, (3, 3), 1, padding=_PAD1, use_bias=False, name="conv1")(x)
    x = nn.relu(_batch_norm(train, "bn1")(x))
    if self.stem == "imagenet":
      # flax pads pools with -inf, as PyTorch's MaxPool2d does.
      x = nn.max_pool(x, (3, 3), strides=(2, 2), padding=_PAD1)
    features = {}
    for stage, stage_name in enumerate(STAGES):
      channels = self.channels * 2 ** stage
      for block in range(2):
        strides = 2 if stage > 0 and block == 0 else 1
        x = BasicBlock(channels, strides, name=f"{stage_name}_{block}")(x, train)
      features[stage_name] = x
    x = jnp.mean(x, axis=(1, 2))
    return nn.Dense(self.num_classes, name="fc")(x), features


def init_variables(key: jax.Array, model: ResNet18, image_size: int = 224) -> Variables:
  """Fresh {"params", "batch_stats"} for `model` (flax's default initialisers)."""
  # Jitted: op-by-op initialisation of the 62 layers takes seconds on a CPU.
  init = jax.jit(functools.partial(model.init, train=False))
  return init(key, jnp.zeros((1, image_size, image_size, 3)))


def abstract_variables(model: ResNet18) -> Variables:
  """Shapes and dtypes of `model`'s variables without computing them."""
  # Parameter shapes do not depend on the image size; 32 keeps tracing cheap.
  return jax.eval_shape(functools.partial(init_variables, model=model, image_size=32),
                        jax.random.key(0))  # shapes only: the key is never drawn from


def architecture(model: ResNet18) -> dict[str, Any]:
  """The fields that rebuild `model`, as JSON-ready values."""
  return {"num_classes": model.num_classes, "stem": model.stem, "channels": model.channels,
          "mean": list(model.mean), "std": list(model.std)}


def save(directory: str | os.PathLike, model: ResNet18, variables: Variables,
         metadata: dict[str, Any]) -> Path:
  """Write `variables` with orbax and `model`'s fields plus `metadata` as JSON beside them.

  Args:
    directory: created if needed; an earlier checkpoint there is replaced.
    model: its architecture and normalisation fields are recorded.
    variables: {"params": ..., "batch_stats": ...} as from `init_variables`.
    metadata: JSON-serialisable facts about the source (file, epoch, accuracies).

  Returns:
    The directory.
  """
  directory = Path(directory).absolute()
  directory.mkdir(parents=True, exist_ok=True)
  # Orbax logs every save at INFO.
  logging.getLogger("absl").setLevel(logging.WARNING)
  meta_path = directory / META_FILE
  # Removed first so a crash mid-save never leaves old metadata beside new variables.
  meta_path.unlink(missing_ok=True)
  with ocp.StandardCheckpointer() as checkpointer:
    checkpointer.save(directory / VARIABLES_DIR, variables, force=True)
    checkpointer.wait_until_finished()
  tmp = meta_path.with_suffix(".json.tmp")
  tmp.write_text(json.dumps({"architecture": architecture(model), "source": metadata},
                            indent=2) + "\n")
  tmp.replace(meta_path)
  return directory


class LoadedResNet18:
  """A converted ResNet18, ready to call: `f(x)` -> logits, `f.features(x)` -> stages.

  Attributes:
    model: the flax module; `model.apply(f.variables, x)` gives (logits, features).
    variables: {"params": ..., "batch_stats": ...}.
    metadata: the source's metadata recorded at conversion.
  """

  def __init__(self, model: ResNet18, variables: Variables, metadata: dict[str, Any] | None = None):
    self.model = model
    self.variables = variables
    self.metadata = metadata or {}

  def __call__(self, x: jax.Array) -> jax.Array:
    """x: (N, H, W, 3) in [0, 1] -> logits (N, num_classes)."""
    return logits(self.model, self.variables, x)

  def features(self, x: jax.Array) -> dict[str, jax.Array]:
    """x: (N, H, W, 3) in [0, 1] -> {"layer1": (N, H1, W1, C1), ..., "layer4": ...} NHWC."""
    return features(self.model, self.variables, x)


# Jitted once per architecture (the flax module is hashable), not once per model: the
# variables are arguments, not constants baked into the program.
@functools.partial(jax.jit, static_argnames=("model",))
def logits(model: ResNet18, variables: Variables, x: jax.Array) -> jax.Array:
  """Eval-mode logits (N, num_classes) of images x (N, H, W, 3) in [0, 1]."""
  return model.apply(variables, x, train=False)[0]


@functools.partial(jax.jit, static_argnames=("model",))
def features(model: ResNet18, variables: Variables, x: jax.Array) -> dict[str, jax.Array]:
  """Eval-mode outputs of the four residual stages, NHWC."""
  return model.apply(variables, x, train=False)[1]


def load(directory: str | os.PathLike) -> LoadedResNet18:
  """Read a converted-model directory written by `save` (or `superjax convert-resnet18`).

  Raises:
    SuperjaxError: the directory, its metadata or its variables are missing or unreadable.
  """
  directory = Path(directory).absolute()
  meta_path = directory / META_FILE
  if not meta_path.is_file():
    raise SuperjaxError(f"{directory} is not a converted-model directory (no {META_FILE}); "
                        "write one with `superjax convert-resnet18`")
  try:
    meta = json.loads(meta_path.read_text())
    arch = meta["architecture"]
    if "width" in arch:
      raise SuperjaxError(f"{meta_path} was written by an older superjax (its 'width' is now "
                          "'channels'); convert the checkpoint again")
    model = ResNet18(num_classes=int(arch["num_classes"]), stem=str(arch["stem"]),
                     channels=int(arch["channels"]), mean=tuple(map(float, arch["mean"])),
                     std=tuple(map(float, arch["std"])))
  except (ValueError, KeyError, TypeError) as e:
    raise SuperjaxError(f"{meta_path} is damaged ({type(e).__name__}: {e}); convert again") from e
  device = jax.sharding.SingleDeviceSharding(jax.devices()[0])
  abstract = jax.tree.map(lambda a: jax.ShapeDtypeStruct(a.shape, a.dtype, sharding=device),
                          abstract_variables(model))
  logging.getLogger("absl").setLevel(logging.WARNING)
  try:
    with ocp.StandardCheckpointer() as checkpointer:
      variables = checkpointer.restore(directory / VARIABLES_DIR, abstract)
  except Exception as e:  # orbax raises many types for missing or damaged files
    first = (str(e).splitlines() or [""])[0][:160]
    raise SuperjaxError(f"cannot read the variables in {directory / VARIABLES_DIR} "
                        f"({type(e).__name__}: {first}); convert again") from e
  return LoadedResNet18(model, variables, meta.get("source", {}))
