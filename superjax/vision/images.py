"""ImageNet-style image folders in, activations out to disk in bounded-memory chunks.

`folder_batches` reads `root/<class>/<image>` as torchvision's ImageFolder with the
evaluation transform Resize(256), CenterCrop(224), ToTensor does, but NHWC: batches of
(B, 224, 224, 3) float32 in [0, 1], the input `superjax.vision.resnet` models take.

`stream_to_disk` writes a stream of activation batches (arrays, or dicts of arrays such as
`f.features(x)`) as .npy chunks of a fixed number of rows; `read_chunks` iterates them back.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path

import numpy as np
from PIL import Image

from superjax.core.errors import SuperjaxError

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".ppm", ".bmp", ".pgm", ".tif", ".tiff", ".webp")
INDEX_FILE = "index.json"


def list_images(root: str | os.PathLike) -> tuple[list[Path], np.ndarray, list[str]]:
  """Image files under `root/<class>/`, sorted by class then name.

  Returns:
    (paths, labels (N,) int32 indexing `classes`, classes: sorted subfolder names).
  """
  root = Path(root)
  if not root.is_dir():
    raise SuperjaxError(f"{root}: no such image folder")
  classes = sorted(d.name for d in root.iterdir() if d.is_dir())
  paths, labels = [], []
  for label, name in enumerate(classes):
    files = sorted(p for p in (root / name).iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
    paths += files
    labels += [label] * len(files)
  if not paths:
    raise SuperjaxError(f"{root}: no images in class subfolders ({', '.join(IMAGE_SUFFIXES)})")
  return paths, np.asarray(labels, np.int32), classes


def load_image(path: str | os.PathLike, resize: int = 256, crop: int = 224) -> np.ndarray:
  """One image: shorter side to `resize` (bilinear), centre `crop` x `crop`, RGB in [0, 1].

  Returns:
    (crop, crop, 3) float32.
  """
  try:
    with Image.open(path) as image:
      image = image.convert("RGB")
  except OSError as e:
    raise SuperjaxError(f"{path}: not a readable image ({e})") from e
  w, h = image.size
  # torchvision's Resize(int): the shorter side becomes `resize`, the longer keeps the ratio.
  if w <= h:
    size = (resize, int(resize * h / w))
  else:
    size = (int(resize * w / h), resize)
  if size != (w, h):
    image = image.resize(size, Image.BILINEAR)
  w, h = image.size
  # torchvision's CenterCrop rounds the offsets.
  top, left = round((h - crop) / 2), round((w - crop) / 2)
  image = image.crop((left, top, left + crop, top + crop))
  return np.asarray(image, np.float32) / 255.0


def folder_batches(root: str | os.PathLike, batch_size: int, resize: int = 256, crop: int = 224,
                   limit: int | None = None) -> Iterator[tuple[np.ndarray, np.ndarray]]:
  """Batches of an image folder, in `list_images` order; only one batch is in memory.

  Args:
    root: folder of class subfolders.
    batch_size: images per batch; the last batch may be smaller.
    resize, crop: see `load_image`.
    limit: stop after this many images (None: all).

  Yields:
    images (B, crop, crop, 3) float32 in [0, 1] and labels (B,) int32.
  """
  paths, labels, _ = list_images(root)
  paths, labels = paths[:limit], labels[:limit]
  for start in range(0, len(paths), batch_size):
    batch = paths[start:start + batch_size]
    yield (np.stack([load_image(p, resize, crop) for p in batch]),
           labels[start:start + batch_size])


class ChunkWriter:
  """Appends rows (the leading axis) and writes them as `chunk_<k>.npy` files of `chunk_rows`.

  Holds at most `chunk_rows` plus one appended batch in memory. `close` writes the last,
  shorter chunk and `index.json`; readers ignore a directory without the index.
  """

  def __init__(self, directory: str | os.PathLike, chunk_rows: int):
    if chunk_rows < 1:
      raise SuperjaxError(f"chunk_rows: {chunk_rows} must be >= 1")
    self.directory = Path(directory)
    self.directory.mkdir(parents=True, exist_ok=True)
    (self.directory / INDEX_FILE).unlink(missing_ok=True)
    for old in self.directory.glob("chunk_*.npy"):
      old.unlink()
    self.chunk_rows = chunk_rows
    self.rows = 0
    self.chunks: list[str] = []
    self._pending: list[np.ndarray] = []
    self._pending_rows = 0
    self._row_shape: tuple[int, ...] | None = None
    self._dtype: np.dtype | None = None

  def append(self, batch: np.ndarray) -> None:
    """batch: (B, ...) with the same trailing shape and dtype as every other batch."""
    batch = np.asarray(batch)
    if self._row_shape is None:
      self._row_shape, self._dtype = batch.shape[1:], batch.dtype
    elif (batch.shape[1:], batch.dtype) != (self._row_shape, self._dtype):
      raise SuperjaxError(f"{self.directory}: batch of {batch.shape[1:]} {batch.dtype} rows "
                          f"after {self._row_shape} {self._dtype} ones")
    self._pending.append(batch)
    self._pending_rows += len(batch)
    if self._pending_rows >= self.chunk_rows:
      rows = np.concatenate(self._pending)
      full = len(rows) - len(rows) % self.chunk_rows
      for start in range(0, full, self.chunk_rows):
        self._write(rows[start:start + self.chunk_rows])
      # A copy, so the concatenated batch is freed.
      rest = rows[full:].copy()
      self._pending, self._pending_rows = ([rest] if len(rest) else []), len(rest)

  def close(self) -> None:
    if self._pending_rows:
      self._write(np.concatenate(self._pending))
      self._pending, self._pending_rows = [], 0
    index = {"rows": self.rows, "chunk_rows": self.chunk_rows, "chunks": self.chunks,
             "row_shape": list(self._row_shape or ()), "dtype": str(self._dtype or "float32")}
    tmp = self.directory / (INDEX_FILE + ".tmp")
    tmp.write_text(json.dumps(index, indent=1) + "\n")
    tmp.replace(self.directory / INDEX_FILE)

  def _write(self, rows: np.ndarray) -> None:
    name = f"chunk_{len(self.chunks):05d}.npy"
    # Written then renamed, so a chunk file is never half there.
    with open(self.directory / (name + ".tmp"), "wb") as f:
      np.save(f, rows)
    os.replace(self.directory / (name + ".tmp"), self.directory / name)
    self.chunks.append(name)
    self.rows += len(rows)


def stream_to_disk(batches: Iterable[np.ndarray | Mapping[str, np.ndarray]],
                   directory: str | os.PathLike, chunk_rows: int) -> dict[str, int] | int:
  """Write a stream of batches as .npy chunks; memory stays at about one chunk per stream.

  Args:
    batches: arrays (B, ...) or dicts of them (e.g. `{"layer1": (B, H, W, C), ...}`), one
      chunk directory per key. Device arrays are copied to the host one batch at a time.
    directory: written to (`directory/<key>/` for dicts); earlier chunks there are replaced.
    chunk_rows: rows (leading-axis entries) per chunk file.

  Returns:
    Rows written: an int, or {key: rows} for dicts.
  """
  directory = Path(directory)
  writers: dict[str, ChunkWriter] = {}
  single = None
  for batch in batches:
    if isinstance(batch, Mapping):
      for key, value in batch.items():
        if key not in writers:
          writers[key] = ChunkWriter(directory / key, chunk_rows)
        writers[key].append(np.asarray(value))
    else:
      if single is None:
        single = ChunkWriter(directory, chunk_rows)
      single.append(np.asarray(batch))
  for writer in writers.values():
    writer.close()
  if writers:
    return {key: writer.rows for key, writer in writers.items()}
  if single is None:  # an empty stream still leaves a readable, empty directory
    single = ChunkWriter(directory, chunk_rows)
  single.close()
  return single.rows


def read_chunks(directory: str | os.PathLike, mmap: bool = False) -> Iterator[np.ndarray]:
  """The chunks `stream_to_disk` wrote to `directory`, in order: (rows, ...) arrays.

  Args:
    mmap: memory-map each chunk instead of reading it.
  """
  index = chunk_index(directory)
  for name in index["chunks"]:
    yield np.load(Path(directory) / name, mmap_mode="r" if mmap else None)


def chunk_index(directory: str | os.PathLike) -> dict:
  """{"rows", "chunk_rows", "chunks", "row_shape", "dtype"} of a finished chunk directory."""
  path = Path(directory) / INDEX_FILE
  if not path.is_file():
    raise SuperjaxError(f"{directory}: no {INDEX_FILE}; not a finished stream_to_disk output")
  return json.loads(path.read_text())


def digits(test_fraction: float = 0.2, seed: int = 0
           ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
  """scikit-learn's 1,797 8x8 handwritten digits as RGB images: a data set that ships in
  a registry package, so the robust-model study runs without downloads.

  Returns:
    x_train (N, 8, 8, 3) in [0, 1], y_train (N,), x_test, y_test: a fixed random split.
  """
  try:
    from sklearn.datasets import load_digits
  except ImportError:
    raise SuperjaxError('the digits study needs scikit-learn: pip install "superjax[digits]"'
                        ) from None
  data = load_digits()
  x = np.repeat((data.images / 16.0).astype(np.float32)[..., None], 3, axis=-1)
  order = np.random.default_rng(seed).permutation(len(x))
  test = order[:int(round(test_fraction * len(x)))]
  train = order[len(test):]
  return x[train], data.target[train].astype(np.int32), x[test], data.target[test].astype(np.int32)
