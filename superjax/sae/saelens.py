"""SAEs in SAELens's folder format (sae-lens 6.x), both ways: what SAEBench, Neuronpedia
and most analysis code load.

A folder holds `cfg.json` and `sae_weights.safetensors` (W_enc (d, L), b_enc (L,),
W_dec (L, d), b_dec (d,), and threshold (L,) for "jumprelu"), read by
`sae_lens.SAE.load_from_disk(folder)`. SAELens encodes raw activations a as
act(W_enc^T (a - b_dec) + b_enc) and decodes f as W_dec^T f + b_dec; a superjax SAE
standardises first, x = (a - mean) / scale. Writing folds the standardisation into the
weights, so the folder gives the same latents on raw activations and reconstructs raw
activations:

  W_enc' = W_enc / scale,  b_dec' = scale b_dec + mean,  W_dec' = W_dec scale,  b_enc' = b_enc

with each kind's own view (Kind.saelens) first moving its input centring into b_enc.
BatchTopK kinds are written as SAELens writes a trained BatchTopK: a "jumprelu" with the
global threshold on every latent. Reading gives an SAE with mean 0 and scale 1 whose
latents and reconstructions are the folder's, so superjax's metrics (recovery against
known features, L0 on attacked inputs, nMSE) score SAEs trained elsewhere.

`export_run` writes every SAE of a finished run directory (or those whose coordinates
match a selection), one folder each, read from the run's saved training state.
"""

from __future__ import annotations

import dataclasses
import json
import math
import struct
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np

from superjax.core import experiment, loop, rundir
from superjax.core.errors import SuperjaxError
from superjax.core.rundir import STATE_DIR
from superjax.sae.kinds import KINDS
from superjax.sae.model import SAE, Settings

CONFIG_FILE = "cfg.json"
WEIGHTS_FILE = "sae_weights.safetensors"
INDEX_FILE = "saes.json"
# The SAELens version whose loader the folders are written for.
SAELENS_VERSION = "6.0.0"
# SAELens architecture -> the superjax kind that computes the same latents.
IMPORTED_KIND = {"standard": "relu", "jumprelu": "jumprelu", "topk": "topk"}
# SAELens's activation normalisations that do nothing at inference.
INERT_NORMALIZATIONS = (None, "none", "expected_average_only_in")

_DTYPES = {"F32": np.float32, "F64": np.float64, "F16": np.float16}


def write_safetensors(path: Path, tensors: dict[str, np.ndarray]) -> None:
  """float32 tensors in the safetensors format: an 8-byte header length, a JSON header
  naming each tensor's dtype, shape and byte range, then the bytes (little-endian)."""
  header, offset, blobs = {}, 0, []
  for name, value in tensors.items():
    blob = np.ascontiguousarray(value, dtype="<f4").tobytes()
    header[name] = {"dtype": "F32", "shape": list(np.shape(value)),
                    "data_offsets": [offset, offset + len(blob)]}
    offset += len(blob)
    blobs.append(blob)
  text = json.dumps(header, separators=(",", ":")).encode()
  text += b" " * (-len(text) % 8)  # the format aligns the data to 8 bytes
  path.write_bytes(struct.pack("<Q", len(text)) + text + b"".join(blobs))


def read_safetensors(path: Path) -> dict[str, np.ndarray]:
  """Every tensor of a safetensors file as float32 (F32, F64, F16 and BF16 tensors)."""
  raw = Path(path).read_bytes()
  (length,) = struct.unpack("<Q", raw[:8])
  header = json.loads(raw[8:8 + length])
  data = raw[8 + length:]
  tensors = {}
  for name, entry in header.items():
    if name == "__metadata__":
      continue
    begin, end = entry["data_offsets"]
    if entry["dtype"] == "BF16":  # the top half of a float32
      bits = np.frombuffer(data[begin:end], "<u2").astype(np.uint32) << 16
      value = bits.view(np.float32)
    elif entry["dtype"] in _DTYPES:
      value = np.frombuffer(data[begin:end], np.dtype(_DTYPES[entry["dtype"]]).newbyteorder("<"))
    else:
      raise SuperjaxError(f"{path}: tensor {name} has dtype {entry['dtype']}, not a float")
    tensors[name] = value.astype(np.float32).reshape(entry["shape"])
  return tensors


def to_saelens(sae: SAE) -> tuple[dict, dict[str, np.ndarray]]:
  """One SAE (no run axis) as SAELens's cfg (without metadata) and tensors, on raw
  activations."""
  kind = KINDS[sae.settings.kind]
  if kind.saelens is None:
    raise SuperjaxError(f"SAEs of kind {kind.name} have no SAELens architecture")
  p = {name: np.asarray(value, np.float64) for name, value in sae.params.items()}
  view = kind.saelens(sae.params, sae.buffers, sae.k)
  mean, scale = np.asarray(sae.mean, np.float64), np.asarray(sae.scale, np.float64)
  tensors = {"W_enc": (p["W_enc"] / scale[None, :]).T,
             "b_enc": np.asarray(view["b_enc"], np.float64),
             "W_dec": p["W_dec"] * scale[None, :],
             "b_dec": p["b_dec"] * scale + mean}
  if "threshold" in view:
    tensors["threshold"] = np.asarray(view["threshold"], np.float64)
  latents, d = p["W_dec"].shape
  cfg = {"architecture": view["architecture"], "d_in": d, "d_sae": latents,
         "dtype": "float32", "device": "cpu", "apply_b_dec_to_input": True,
         "normalize_activations": "none"}
  if "k" in view:
    cfg.update(k=int(view["k"]), rescale_acts_by_decoder_norm=False)
  training = {"training_architecture": view["training_architecture"]} \
      if "training_architecture" in view else {}
  return dict(cfg, metadata=training), {k: v.astype(np.float32) for k, v in tensors.items()}


def save(sae: SAE, folder: str | Path, metadata: dict | None = None) -> Path:
  """Writes one SAE as a SAELens folder; `metadata` goes into cfg.json's metadata (which
  SAELens keeps), beside the SAE's kind and settings."""
  folder = Path(folder)
  cfg, tensors = to_saelens(sae)
  cfg["metadata"] = dict(cfg["metadata"], sae_lens_version=SAELENS_VERSION,
                         superjax=dict(metadata or {}, kind=sae.settings.kind,
                                       settings=dataclasses.asdict(sae.settings)))
  folder.mkdir(parents=True, exist_ok=True)
  write_safetensors(folder / WEIGHTS_FILE, tensors)
  rundir.write_atomic(folder / CONFIG_FILE, json.dumps(cfg, indent=2))
  return folder


def load(folder: str | Path) -> SAE:
  """A SAELens folder ("standard", "topk" or "jumprelu") as a superjax SAE on raw
  activations (mean 0, scale 1)."""
  folder = Path(folder)
  try:
    cfg = json.loads((folder / CONFIG_FILE).read_text())
    tensors = read_safetensors(folder / WEIGHTS_FILE)
  except (OSError, ValueError) as e:
    raise SuperjaxError(f"{folder} is not a SAELens folder ({CONFIG_FILE} and {WEIGHTS_FILE}: "
                        f"{type(e).__name__})") from None
  architecture = cfg.get("architecture", "standard")
  if architecture not in IMPORTED_KIND:
    raise SuperjaxError(f"{folder}: architecture {architecture!r} is not one of "
                        f"{', '.join(IMPORTED_KIND)}")
  if cfg.get("normalize_activations") not in INERT_NORMALIZATIONS \
      or cfg.get("rescale_acts_by_decoder_norm"):
    raise SuperjaxError(f"{folder}: activations normalised by "
                        f"{cfg.get('normalize_activations')!r} or rescaled by decoder norms "
                        "are not supported")
  W_enc, b_enc, W_dec, b_dec = (tensors[n] for n in ("W_enc", "b_enc", "W_dec", "b_dec"))
  d, latents = W_enc.shape
  if not cfg.get("apply_b_dec_to_input", True):  # no centring: move b_dec's share back
    b_enc = b_enc + b_dec @ W_enc
  kind = IMPORTED_KIND[architecture]
  params = {"W_enc": W_enc.T, "b_enc": b_enc, "W_dec": W_dec, "b_dec": b_dec}
  if kind != "topk":  # these kinds take raw inputs: W_enc (x - b_dec) + b_enc, expanded
    params["b_enc"] = b_enc - W_enc.T @ b_dec
  if kind == "jumprelu":
    with np.errstate(divide="ignore"):  # a threshold of 0 is log 0 = -inf, exp(-inf) = 0
      params["log_threshold"] = np.log(tensors["threshold"])
  k = int(cfg.get("k", 1))
  settings = Settings(kind=kind, d_in=d, expansion=latents / d, k_max=min(k, latents),
                      k_aux=latents)
  return SAE(params={n: jnp.asarray(v, jnp.float32) for n, v in params.items()},
             mean=jnp.zeros(d), scale=jnp.ones(d), k=jnp.int32(k), settings=settings)


def _matches(value, wanted: str) -> bool:
  if str(value) == wanted:
    return True
  try:
    return math.isclose(float(value), float(wanted), rel_tol=1e-6)
  except (TypeError, ValueError):
    return False


def select(runs: dict[str, list[dict]], where: dict) -> list[tuple[str, int, dict]]:
  """(pass, run, coordinates) of every SAE whose coordinates match `where` ({name: a
  value, "value,value,..." or a list of values}); an unknown name or a selection of
  nothing is an error."""
  found = [(name, i, coords) for name, rows in runs.items() for i, coords in enumerate(rows)]
  known = sorted({key for _, _, coords in found for key in coords})
  for name, values in where.items():
    if name not in known:
      raise SuperjaxError(f"unknown coordinate {name!r}; the SAEs have {', '.join(known)}")
    options = values.split(",") if isinstance(values, str) else \
        [str(v) for v in (values if isinstance(values, (list, tuple)) else [values])]
    found = [row for row in found if any(_matches(row[2][name], v.strip()) for v in options)]
    if not found:
      raise SuperjaxError(f"no SAE has {name}={values} (with the other coordinates given)")
  return found


def run_saes(run_dir: str | Path, where: dict | None = None) -> list[tuple[dict, SAE]]:
  """The trained SAEs of a finished run directory (those matching `where`, see `select`),
  read from its saved state: (about, SAE) each, `about` naming the run, its pass, its
  index in the pass and its coordinates."""
  run_dir = Path(run_dir)
  dataset = rundir.load(run_dir)
  family = experiment.of_dataset(dataset)
  if family.saes is None:
    raise SuperjaxError(f"{run_dir} is a {family.name} run, which trains no SAEs")
  cfg = experiment.config_of(dataset)
  found, passes = [], {}
  for name, run, coords in select(family.saes(cfg), where or {}):
    if name not in passes:
      meta, states = loop.saved_states(run_dir / STATE_DIR / name)
      passes[name] = (Settings(**meta["settings"]), states["sae"])
    settings, saes = passes[name]
    sae = jax.tree.map(lambda a: a[run], saes)  # noqa: B023
    found.append(({"run_dir": str(run_dir.resolve()), "experiment": family.name,
                   "sweep": cfg.name, "pass": name, "run": run, "coordinates": coords},
                  SAE(params=sae["params"], mean=sae["mean"], scale=sae["scale"], k=sae["k"],
                      buffers=sae.get("buffers", {}), settings=settings)))
  return found


def export_run(run_dir: str | Path, out: str | Path, where: dict | None = None) -> list[Path]:
  """Writes the SAEs of a finished run directory (those matching `where`, see `select`)
  as SAELens folders out/<pass>/<run>, and out/saes.json listing each folder's
  coordinates; returns the folders."""
  out = Path(out)
  if out.exists() and not out.is_dir():
    raise SuperjaxError(f"{out} exists and is not a directory; choose another OUT")
  written, index = [], {}
  for about, sae in run_saes(run_dir, where):
    folder = save(sae, out / about["pass"] / f"{about['run']:05d}", about)
    written.append(folder)
    index[str(folder.relative_to(out))] = about["coordinates"]
  rundir.write_atomic(out / INDEX_FILE, json.dumps(index, indent=2))
  return written
