"""Image folder reading and activation chunks, against numpy and PIL computed here."""

import numpy as np
import pytest
from PIL import Image

from superjax.core.errors import SuperjaxError
from superjax.vision import images


def _save(path, array):
  path.parent.mkdir(parents=True, exist_ok=True)
  Image.fromarray(array).save(path)
  return array


@pytest.fixture
def folder(tmp_path):
  """Two classes: an image needing no resize, a 2x larger one, a small grey one, RGBA."""
  rng = np.random.default_rng(0)
  arrays = {
      "cat/a.png": _save(tmp_path / "cat/a.png", rng.integers(0, 256, (256, 300, 3), np.uint8)),
      "cat/b.png": _save(tmp_path / "cat/b.png", rng.integers(0, 256, (600, 512, 3), np.uint8)),
      "dog/c.png": _save(tmp_path / "dog/c.png", rng.integers(0, 256, (90, 120), np.uint8)),
      "dog/d.png": _save(tmp_path / "dog/d.png", np.full((300, 400, 4), 200, np.uint8)),
  }
  (tmp_path / "dog/notes.txt").write_text("not an image")
  return tmp_path, arrays


def test_list_images_sorted_with_labels(folder):
  root, _ = folder
  paths, labels, classes = images.list_images(root)
  assert classes == ["cat", "dog"]
  assert [p.relative_to(root).as_posix() for p in paths] == ["cat/a.png", "cat/b.png",
                                                             "dog/c.png", "dog/d.png"]
  assert labels.tolist() == [0, 0, 1, 1] and labels.dtype == np.int32


def test_centre_crop_and_resize(folder):
  root, arrays = folder
  # Shorter side already 256: no resize, the crop is rows 16..240, columns 38..262.
  a = images.load_image(root / "cat/a.png")
  np.testing.assert_array_equal(a, arrays["cat/a.png"][16:240, 38:262] / np.float32(255))
  # 512 x 600 (w x h): shorter side to 256 gives 256 x 300, then the same crop offsets
  # as above transposed: rows 38..262, columns 16..240.
  resized = np.asarray(Image.fromarray(arrays["cat/b.png"]).resize((256, 300), Image.BILINEAR))
  b = images.load_image(root / "cat/b.png")
  np.testing.assert_array_equal(b, resized[38:262, 16:240] / np.float32(255))
  # Grey 120 x 90 is upsampled to 341 x 256; the three channels are equal.
  c = images.load_image(root / "dog/c.png")
  assert c.shape == (224, 224, 3)
  np.testing.assert_array_equal(c[..., 0], c[..., 2])
  # A constant colour stays that colour through resize and crop; alpha is dropped.
  np.testing.assert_allclose(images.load_image(root / "dog/d.png"), 200 / 255, rtol=1e-6)


def test_folder_batches(folder):
  root, _ = folder
  batches = list(images.folder_batches(root, batch_size=3))
  assert [x.shape for x, _ in batches] == [(3, 224, 224, 3), (1, 224, 224, 3)]
  assert [y.tolist() for _, y in batches] == [[0, 0, 1], [1]]
  for x, _ in batches:
    assert x.dtype == np.float32 and x.min() >= 0 and x.max() <= 1
  small = list(images.folder_batches(root, batch_size=2, resize=40, crop=32, limit=3))
  assert [x.shape for x, _ in small] == [(2, 32, 32, 3), (1, 32, 32, 3)]


def test_bad_folders(tmp_path):
  with pytest.raises(SuperjaxError, match="no such image folder"):
    images.list_images(tmp_path / "missing")
  (tmp_path / "empty_class").mkdir()
  with pytest.raises(SuperjaxError, match="no images"):
    images.list_images(tmp_path)
  (tmp_path / "empty_class" / "broken.png").write_bytes(b"not a png")
  with pytest.raises(SuperjaxError, match="broken.png: not a readable image"):
    next(images.folder_batches(tmp_path, batch_size=1))


def test_stream_to_disk_round_trip(tmp_path):
  rng = np.random.default_rng(1)
  batches = [{"layer1": rng.normal(size=(b, 2, 2, 3)).astype(np.float32),
              "layer4": rng.normal(size=(b, 5)).astype(np.float32)} for b in (4, 7, 1, 6)]
  rows = images.stream_to_disk(iter(batches), tmp_path / "acts", chunk_rows=5)
  assert rows == {"layer1": 18, "layer4": 18}
  for key in ("layer1", "layer4"):
    chunks = list(images.read_chunks(tmp_path / "acts" / key))
    assert [len(c) for c in chunks] == [5, 5, 5, 3]
    np.testing.assert_array_equal(np.concatenate(chunks),
                                  np.concatenate([b[key] for b in batches]))
  index = images.chunk_index(tmp_path / "acts" / "layer1")
  assert index["rows"] == 18 and index["row_shape"] == [2, 2, 3] and index["dtype"] == "float32"
  # A batch bigger than several chunks, and memory-mapped reading.
  big = np.arange(23 * 2, dtype=np.int64).reshape(23, 2)
  assert images.stream_to_disk([big[:1], big[1:]], tmp_path / "big", chunk_rows=4) == 23
  chunks = list(images.read_chunks(tmp_path / "big", mmap=True))
  assert [len(c) for c in chunks] == [4, 4, 4, 4, 4, 3]
  np.testing.assert_array_equal(np.concatenate(chunks), big)
  # Writing again replaces the old chunks rather than mixing with them.
  assert images.stream_to_disk([big[:2]], tmp_path / "big", chunk_rows=4) == 2
  assert [len(c) for c in images.read_chunks(tmp_path / "big")] == [2]


def test_stream_to_disk_errors(tmp_path):
  with pytest.raises(SuperjaxError, match="chunk_rows: 0"):
    images.stream_to_disk([np.zeros((2, 3))], tmp_path / "a", chunk_rows=0)
  with pytest.raises(SuperjaxError, match=r"batch of \(4,\) float64 rows after \(3,\)"):
    images.stream_to_disk([np.zeros((2, 3)), np.zeros((2, 4))], tmp_path / "b", chunk_rows=5)
  with pytest.raises(SuperjaxError, match="not a finished stream_to_disk output"):
    next(images.read_chunks(tmp_path / "b"))
