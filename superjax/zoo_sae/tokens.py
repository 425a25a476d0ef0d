"""Activation tokens of a model's stages: every spatial position of every image is one
input vector of an SAE (or `tokens_per_image` random positions of it)."""

from __future__ import annotations

import functools
from collections.abc import Callable

import numpy as np

from superjax.vision.resnet import STAGES


@functools.cache
def positions(images: int, count: int, keep: int, seed: int) -> np.ndarray | None:
  """(images, keep) random spatial positions per image out of `count`, or None for all
  of them. The same seed gives the same positions to every model and input set, so their
  tokens align; they are drawn once and reused (read only) for each of them."""
  if not keep or keep >= count:
    return None
  order = np.argsort(np.random.default_rng(seed).random((images, count)), axis=1)
  return np.ascontiguousarray(order[:, :keep])  # not a view pinning the whole argsort


def tokens(feature_map: np.ndarray, index: np.ndarray | None) -> np.ndarray:
  """(N, H, W, C) -> (N * positions, C): every position of each image, or those `index`
  (N, keep) names."""
  n, h, w, c = feature_map.shape
  flat = feature_map.reshape(n, h * w, c)
  if index is not None:
    flat = np.take_along_axis(flat, index[..., None], axis=1)
  return flat.reshape(-1, c)


def stage_tokens(features: Callable[[np.ndarray], dict], x: np.ndarray, layers: tuple[str, ...],
                 tokens_per_image: int, base_seed: int, batch: int = 256) -> dict[str, np.ndarray]:
  """Every listed stage's tokens of images x, picked batch by batch so whole feature maps
  (GBs for an ImageNet stage) never sit in memory together.

  Args:
    features: images (B, H, W, 3) -> {stage: (B, H_s, W_s, C_s)}.
    x: (N, H, W, 3) images.
    layers: stages to keep.
    tokens_per_image: positions per image and stage (0: all).
    base_seed: a stage's positions come from seed (base_seed, its index in STAGES).
  """
  pieces = {layer: [] for layer in layers}
  index = {}
  for start in range(0, len(x), batch):
    maps = features(x[start:start + batch])
    for layer in layers:
      fmap = np.asarray(maps[layer])
      if layer not in index:
        seed = int(np.random.default_rng([base_seed, STAGES.index(layer)]).integers(2 ** 31))
        index[layer] = positions(len(x), fmap.shape[1] * fmap.shape[2], tokens_per_image, seed)
      rows = None if index[layer] is None else index[layer][start:start + len(fmap)]
      pieces[layer].append(tokens(fmap, rows))
  return {layer: np.concatenate(parts) for layer, parts in pieces.items()}
