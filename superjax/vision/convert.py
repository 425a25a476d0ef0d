"""PyTorch ResNet18 checkpoints (madrylab `robustness` or torchvision) to converted-model
directories (superjax.vision.resnet).

madrylab files hold {"model" (older: "state_dict"), "epoch", "nat_prec1"/"adv_prec1",
optimizer state, ...}; the state dict has two copies of the network, `module.model.*` and
`module.attacker.model.*`, and the input normaliser's `module.normalizer.new_mean/new_std`
(and `module.attacker.normalize.*`), each of shape (3, 1, 1). A plain torchvision state
dict (optionally with DataParallel's `module.` prefix) converts too, with ImageNet's
normalisation.

The architecture is read off the tensors: channels from conv1's output channels, stem from
its kernel size (7: imagenet, 3: cifar), classes from fc. Every other key and shape is
then checked against the Flax model's variables, so nothing is silently dropped.

torch is imported here only: it is the optional extra `superjax[torch]`.
"""

from __future__ import annotations

import os
import pickle
from pathlib import Path
from typing import Any

import jax
import numpy as np

from superjax.core.errors import SuperjaxError
from superjax.vision import resnet

_MADRY_MODEL = "module.model."
_MADRY_ATTACKER = "module.attacker.model."
_MADRY_NORMALIZERS = ("module.normalizer.", "module.attacker.normalize.")
_STEM_OF_KERNEL = {7: "imagenet", 3: "cifar"}
# Flax leaf name -> torchvision parameter or buffer name.
_TORCH_LEAF = {("params", "kernel"): "weight", ("params", "scale"): "weight",
               ("params", "bias"): "bias", ("batch_stats", "mean"): "running_mean",
               ("batch_stats", "var"): "running_var"}
# Source metadata worth keeping, when present as scalars.
_METADATA_KEYS = ("epoch", "nat_prec1", "adv_prec1", "prec1", "best_prec1", "acc", "accuracy")


def _torch():
  try:
    import torch
  except ImportError as e:
    raise SuperjaxError('converting PyTorch checkpoints needs torch: '
                        'pip install "superjax[torch]"') from e
  return torch


def _read(path: Path) -> Any:
  """The unpickled checkpoint, loaded to the CPU."""
  torch = _torch()
  if not path.is_file():
    raise SuperjaxError(f"{path}: no such file")
  try:
    try:
      return torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError:
      # madrylab files pickle optimizer and schedule objects (with dill) that the safe
      # loader refuses; this runs the file's pickle, so convert only checkpoints you trust.
      return torch.load(path, map_location="cpu", weights_only=False)
  except Exception as e:  # torch raises many types for damaged files
    first = (str(e).splitlines() or [""])[0][:160]
    raise SuperjaxError(f"{path}: not a readable PyTorch checkpoint "
                        f"({type(e).__name__}: {first})") from e


def _numpy(tensor: Any, key: str, path: Path) -> np.ndarray:
  try:
    return tensor.detach().cpu().float().numpy()
  except AttributeError as e:
    raise SuperjaxError(f"{path}: {key!r} is a {type(tensor).__name__}, not a tensor") from e


def _scalar(value: Any) -> float | int | None:
  if hasattr(value, "item") and getattr(value, "numel", lambda: 1)() == 1:
    value = value.item()
  if isinstance(value, (bool, np.bool_)):
    return None
  if isinstance(value, (int, np.integer)):
    return int(value)
  if isinstance(value, (float, np.floating)):
    return float(value)
  return None


def _state_dict(checkpoint: Any, path: Path) -> tuple[dict[str, Any], dict[str, Any]]:
  """(state dict, scalar metadata) of a checkpoint: a madrylab dict or a bare state dict."""
  if not isinstance(checkpoint, dict):
    raise SuperjaxError(f"{path}: holds a {type(checkpoint).__name__}, not a state dict "
                        "or a dict with 'model' or 'state_dict'")
  for name in ("model", "state_dict"):
    if name in checkpoint and isinstance(checkpoint[name], dict):
      meta = {key: value for key in _METADATA_KEYS if key in checkpoint
              for value in [_scalar(checkpoint[key])] if value is not None}
      return checkpoint[name], meta
  return checkpoint, {}


def _split_madry(state: dict[str, Any], path: Path
                 ) -> tuple[dict[str, Any], dict[str, np.ndarray], float | None]:
  """(network weights, normaliser buffers, max |model - attacker copy|) of a state dict.

  The difference is None for a torchvision state dict, 0 for a madrylab one without an
  attacker copy.
  """
  keys = list(state)
  if not any(k.startswith((_MADRY_MODEL, _MADRY_ATTACKER)) for k in keys):
    if keys and all(k.startswith("module.") for k in keys):  # DataParallel
      return {k[len("module."):]: v for k, v in state.items()}, {}, None
    return dict(state), {}, None
  model, attacker, normalizers = {}, {}, {}
  for key, value in state.items():
    if key.startswith(_MADRY_MODEL):
      model[key[len(_MADRY_MODEL):]] = value
    elif key.startswith(_MADRY_ATTACKER):
      attacker[key[len(_MADRY_ATTACKER):]] = value
    elif key.startswith(_MADRY_NORMALIZERS):
      normalizers[key] = _numpy(value, key, path)
    else:
      raise SuperjaxError(f"{path}: unexpected key {key!r} in a madrylab checkpoint")
  if not model:
    raise SuperjaxError(f"{path}: no {_MADRY_MODEL}* keys, only the attacker's copy")
  diff = 0.0
  if attacker:
    if set(attacker) != set(model):
      odd = min(set(attacker) ^ set(model))
      raise SuperjaxError(f"{path}: the model and attacker copies have different keys "
                          f"(e.g. {odd!r})")
    for key, tensor in model.items():
      a, b = _numpy(tensor, key, path), _numpy(attacker[key], key, path)
      if a.shape != b.shape:
        raise SuperjaxError(f"{path}: {key!r} has shape {a.shape} in the model copy but "
                            f"{b.shape} in the attacker copy")
      diff = max(diff, float(np.max(np.abs(a - b), initial=0.0)))
    if diff > 1e-6:
      raise SuperjaxError(f"{path}: the model and attacker copies disagree "
                          f"(max abs diff {diff:.3g})")
  return model, normalizers, diff


def _normalisation(normalizers: dict[str, np.ndarray], path: Path) -> dict[str, tuple]:
  """mean and std from madrylab's normaliser, ImageNet's when there is none."""
  if not normalizers:
    return {}
  out = {}
  for name, field in (("new_mean", "mean"), ("new_std", "std")):
    values = [v for k, v in normalizers.items() if k.endswith(name)]
    if not values:
      raise SuperjaxError(f"{path}: the normaliser has no {name}")
    for v in values:
      if v.size != 3:
        raise SuperjaxError(f"{path}: normaliser {name} has shape {v.shape}, expected (3, 1, 1)")
      if not np.allclose(v, values[0], rtol=0, atol=1e-7):
        raise SuperjaxError(f"{path}: the model and attacker normalisers disagree on {name}")
    # The shortest decimal of each float32, so 0.485 is recorded as 0.485.
    out[field] = tuple(float(str(c)) for c in values[0].astype(np.float32).reshape(3))
  if any(s <= 0 for s in out["std"]):
    raise SuperjaxError(f"{path}: normaliser new_std {out['std']} is not positive")
  return out


def _model_of(weights: dict[str, Any], norm: dict[str, tuple], path: Path) -> resnet.ResNet18:
  """The ResNet18 whose shapes the weights have: channels, stem and classes read off them."""
  for key in ("conv1.weight", "fc.weight"):
    if key not in weights:
      raise SuperjaxError(f"{path}: missing key {key!r}; not a torchvision-style ResNet18")
  conv1, fc = weights["conv1.weight"].shape, weights["fc.weight"].shape
  if len(conv1) != 4 or conv1[1] != 3 or conv1[2] != conv1[3] or conv1[2] not in _STEM_OF_KERNEL:
    raise SuperjaxError(f"{path}: 'conv1.weight' has shape {tuple(conv1)}, expected "
                        "(channels, 3, 7, 7) or (channels, 3, 3, 3)")
  if len(fc) != 2:
    raise SuperjaxError(f"{path}: 'fc.weight' has shape {tuple(fc)}, expected (classes, features)")
  return resnet.ResNet18(num_classes=int(fc[0]), stem=_STEM_OF_KERNEL[conv1[2]],
                         channels=int(conv1[0]), **norm)


def _torch_key(collection: str, path: tuple[str, ...]) -> str:
  """("params", ("layer2_0", "downsample_0", "kernel")) -> "layer2.0.downsample.0.weight"."""
  modules = [name.replace("_", ".") for name in path[:-1]]
  return ".".join(modules + [_TORCH_LEAF[collection, path[-1]]])


def _to_flax(array: np.ndarray) -> np.ndarray:
  """Conv OIHW -> HWIO, linear (out, in) -> (in, out); vectors unchanged."""
  if array.ndim == 4:
    return array.transpose(2, 3, 1, 0)
  return array.T if array.ndim == 2 else array


def _torch_shape(flax_shape: tuple[int, ...]) -> tuple[int, ...]:
  """Inverse of `_to_flax` on shapes."""
  if len(flax_shape) == 4:
    h, w, i, o = flax_shape
    return (o, i, h, w)
  return tuple(reversed(flax_shape))


def _variables(weights: dict[str, Any], model: resnet.ResNet18, path: Path) -> resnet.Variables:
  """Every tensor mapped onto the model's variables; missing, extra or misshapen ones fail."""
  leaves, treedef = jax.tree_util.tree_flatten_with_path(resnet.abstract_variables(model))
  keys = [_torch_key(key_path[0].key, tuple(k.key for k in key_path[1:]))
          for key_path, _ in leaves]
  missing = [key for key in keys if key not in weights]
  if missing:
    more = f" (and {len(missing) - 1} more)" if len(missing) > 1 else ""
    raise SuperjaxError(f"{path}: missing key {missing[0]!r}{more}")
  extra = sorted(set(weights) - set(keys))
  extra = [key for key in extra if not key.endswith("num_batches_tracked")]
  if extra:
    more = f" (and {len(extra) - 1} more)" if len(extra) > 1 else ""
    raise SuperjaxError(f"{path}: unexpected key {extra[0]!r}{more}; not a ResNet18?")
  arrays = []
  for key, (_, leaf) in zip(keys, leaves):
    array = _to_flax(_numpy(weights[key], key, path))
    if array.shape != leaf.shape:
      raise SuperjaxError(f"{path}: {key!r} has shape {tuple(weights[key].shape)}, expected "
                          f"{_torch_shape(leaf.shape)} for a {model.stem}-stem, "
                          f"{model.channels}-channel, {model.num_classes}-class ResNet18")
    arrays.append(array.astype(leaf.dtype))
  return jax.tree_util.tree_unflatten(treedef, arrays)


def convert_resnet18(ckpt_path: str | os.PathLike, out_dir: str | os.PathLike) -> dict[str, Any]:
  """Convert a PyTorch ResNet18 checkpoint into a converted-model directory.

  Args:
    ckpt_path: a madrylab `robustness` checkpoint or a torchvision-style state dict.
    out_dir: where `resnet.save` writes; read it back with `superjax.vision.resnet.load`.

  Returns:
    {"out": out_dir, "architecture": resnet.architecture(model), "source": metadata}, the
    metadata holding the file, its format, the max abs difference between madrylab's two
    network copies, and the epoch and accuracies the file records.

  Raises:
    SuperjaxError: torch is missing, the file is unreadable, keys are missing or extra,
      shapes do not fit a ResNet18, or the two madrylab copies disagree.
  """
  path = Path(ckpt_path)
  checkpoint = _read(path)
  state, meta = _state_dict(checkpoint, path)
  weights, normalizers, diff = _split_madry(state, path)
  norm = _normalisation(normalizers, path)
  model = _model_of(weights, norm, path)
  variables = _variables(weights, model, path)
  source = {"file": str(path.absolute()),
            "format": "torchvision" if diff is None else "madrylab",
            **({} if diff is None else {"copies_max_abs_diff": diff}), **meta}
  out = resnet.save(out_dir, model, variables, source)
  return {"out": str(out), "architecture": resnet.architecture(model), "source": source}
