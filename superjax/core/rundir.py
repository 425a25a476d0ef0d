"""The run directory: what `--out` names, and everything a run keeps in it.

  config.json     the config that made the run (refuses a different one on rerun)
  state/          orbax training state of every pass, one folder per pass and chunk, and
                  the fingerprint of the code each pass trained with
  pieces/         finished measurements that are not training (resumable by piece)
  results.nc      labeled xarray results, written once, atomically, when the run ends
  manifest.json   config, the code's fingerprint per pass, package versions, device,
                  backend, XLA_FLAGS, matmul precision and timings
  report.txt      the report printed at the end
  figures/        PNG and PDF of every figure
  .lock           held by the process running in it (a second one is refused)

Files are written through a temporary name and renamed, so a crash never leaves half a
file; training state is orbax's, which does the same per checkpoint step.
"""

from __future__ import annotations

import contextlib
import datetime
import errno
import fcntl
import json
import os
import platform
import socket
import sys
import time
from collections.abc import Callable
from importlib import metadata
from pathlib import Path

import jax
import xarray as xr

from superjax.core import distributed
from superjax.core.config import PRESENTATION_FIELDS, ConfigError
from superjax.core.errors import SuperjaxError
from superjax.core.progress import Progress, say

# Where a run directory goes when none is named: checkpoints/<sweep name>.
DEFAULT_ROOT = Path("checkpoints")
RESULTS_FILE = "results.nc"
MANIFEST_FILE = "manifest.json"
CONFIG_FILE = "config.json"
REPORT_FILE = "report.txt"
FIGURES_DIR = "figures"
STATE_DIR = "state"
PIECES_DIR = "pieces"
LOCK_FILE = ".lock"
FINGERPRINT_FILE = "fingerprint"  # in state/<pass>/: the code it trained with


def prepare(cfg, run_dir: Path, fresh: bool) -> None:
  """Makes `run_dir` the home of a run of `cfg` (any experiment's config).

  A directory holding the same config is kept (the run resumes, or is finished); one
  holding a different config is refused, naming the fields that differ, unless `fresh`,
  which moves it aside; a non-empty directory that is no run is refused.
  """
  try:
    _prepare(cfg, Path(run_dir), fresh)
  except OSError as e:
    raise SuperjaxError(f"{run_dir}: cannot write the run directory there "
                        f"({e.strerror or type(e).__name__}); choose another --out") from None


def _prepare(cfg, run_dir: Path, fresh: bool) -> None:
  config_file = run_dir / CONFIG_FILE
  current = json.loads(json.dumps(cfg.to_dict()))
  if config_file.exists():
    try:
      previous = json.loads(config_file.read_text())
    except ValueError as e:
      problem = f"its {CONFIG_FILE} is unreadable ({type(e).__name__})"
    else:
      changed = [k for k in sorted(set(previous) | set(current))
                 if k not in PRESENTATION_FIELDS and previous.get(k) != current.get(k)]
      problem = f"it holds a run with different {', '.join(changed)}" if changed else None
    if fresh:
      stamp = datetime.datetime.now().strftime("%Y%m%d-%H%M%S-%f")
      run_dir = run_dir.resolve()  # `--out .` has no name to build the new one from
      moved = run_dir.with_name(f"{run_dir.name}.previous-{stamp}")
      moved.mkdir()
      for entry in run_dir.iterdir():  # the lock stays: this process holds it
        if entry.name != LOCK_FILE:
          entry.rename(moved / entry.name)
      print(f"moved the previous run to {moved}", file=sys.stderr, flush=True)
    elif problem:
      raise ConfigError(f"{run_dir}: {problem}; pass --fresh to start anew "
                        "(the old run is kept beside it) or --out to choose another directory")
  elif run_dir.exists() and (not run_dir.is_dir()
                             or any(p.name != LOCK_FILE for p in run_dir.iterdir())):
    raise ConfigError(f"{run_dir}: exists and is not a superjax run; choose another --out")
  run_dir.mkdir(parents=True, exist_ok=True)
  write_atomic(config_file, json.dumps(current, indent=2))


def is_finished(run_dir: Path) -> bool:
  return (Path(run_dir) / RESULTS_FILE).exists()


def write_atomic(path: Path, text_or_writer: str | Callable[[Path], None]) -> None:
  """Writes a file through a temporary name so a crash never leaves half a file."""
  tmp = path.with_name(path.name + ".tmp")
  if isinstance(text_or_writer, str):
    tmp.write_text(text_or_writer)
  else:
    text_or_writer(tmp)
  os.replace(tmp, path)


def fingerprints(run_dir: Path) -> dict[str, str]:
  """{pass name: fingerprint of the code it trained with} of the passes in `run_dir`."""
  state = Path(run_dir) / STATE_DIR
  files = sorted(state.glob(f"*/{FINGERPRINT_FILE}")) if state.is_dir() else []
  return {f.parent.name: f.read_text().strip() for f in files}


def recorded_fingerprints(run_dir: Path) -> dict[str, str] | None:
  """The fingerprints a finished run's manifest records (None when it records none)."""
  try:
    return json.loads((Path(run_dir) / MANIFEST_FILE).read_text()).get("fingerprints")
  except (OSError, ValueError):
    return None


def manifest(cfg, timings: dict, started: datetime.datetime,
             precision: str | None = None, code: dict[str, str] | None = None) -> dict:
  """What made a run: its config and code (`code`: each pass's fingerprint), where and with
  what it ran, and how long it took. `precision` is the matmul precision it trained and
  measured at (core.precision)."""
  packages = {}
  for name in ("superjax", "jax", "jaxlib", "flax", "optax", "orbax-checkpoint", "numpy",
               "xarray"):
    try:
      packages[name] = metadata.version(name)
    except metadata.PackageNotFoundError:
      packages[name] = None
  device = jax.devices()[0]
  return {
      "sweep": cfg.name,
      "experiment": cfg.EXPERIMENT,
      "config": cfg.to_dict(),
      "fingerprints": code or {},
      "started": started.isoformat(timespec="seconds"),
      "finished": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
      "timings": timings,
      "device": {"platform": device.platform, "kind": device.device_kind,
                 "count": jax.device_count(), "processes": jax.process_count()},
      "backend": jax.default_backend(),
      "matmul_precision": precision,
      # Flags change what XLA compiles (device count, determinism, autotuning).
      "xla_flags": os.environ.get("XLA_FLAGS", ""),
      "python": platform.python_version(),
      "machine": platform.machine(),
      "packages": packages,
  }


def time_summary(run_dir: Path) -> str | None:
  """One line of how long a run took, from its manifest: compiling and training summed over
  its passes, and the whole run (None when the manifest has no timings)."""
  try:
    timings = json.loads((Path(run_dir) / MANIFEST_FILE).read_text())["timings"]
  except (OSError, ValueError, KeyError):
    return None
  passes = [t for t in timings.values() if isinstance(t, dict)]
  compile_s = sum(t.get("compile_seconds", 0.0) for t in passes)
  train_s = sum(t.get("segment_seconds", 0.0) for t in passes)
  total = timings.get("total_seconds")
  if total is None:
    return None
  if not passes:
    return f"time: {total:.1f} s in all (manifest.json has each part's)"
  return (f"time: {total:.1f} s in all; compiling {compile_s:.1f} s, training steps "
          f"{train_s:.1f} s over {len(passes)} pass(es) (manifest.json has each pass's)")


def save(dataset: xr.Dataset, run_dir: Path, manifest_data: dict) -> None:
  """Writes results and manifest; a failed write (a full disk) is one line, and the
  trained state it would have been built from stays."""
  run_dir = Path(run_dir)
  try:
    write_atomic(run_dir / RESULTS_FILE,
                 lambda tmp: dataset.to_netcdf(tmp, engine="h5netcdf"))
    write_atomic(run_dir / MANIFEST_FILE, json.dumps(manifest_data, indent=2))
  except OSError as e:
    raise SuperjaxError(f"could not write the results in {run_dir} "
                        f"({e.strerror or type(e).__name__}); the trained state is kept: "
                        "make room and rerun the same command to write them") from None


def read_dataset(path: Path) -> xr.Dataset:
  """A netCDF file read fully into memory (the file is closed again)."""
  with xr.open_dataset(path, engine="h5netcdf") as dataset:
    return dataset.load()


def load(run_dir: str | Path) -> xr.Dataset:
  """Results of a finished run directory as an xarray.Dataset (read fully into memory)."""
  path = Path(run_dir) / RESULTS_FILE
  if not path.exists():
    if (Path(run_dir) / CONFIG_FILE).exists():
      raise SuperjaxError(f"{run_dir} holds no results yet: the run has not finished; "
                          "rerun the same `superjax run` command to resume it")
    raise SuperjaxError(f"{run_dir} is not a superjax run directory (no {RESULTS_FILE})")
  try:
    dataset = read_dataset(path)
  except Exception as e:
    raise SuperjaxError(f"{path} is unreadable ({type(e).__name__}); rerun the same "
                        "`superjax run` command to rebuild it from the saved state") from None
  if "diverged" in dataset:  # netCDF stores booleans as integers
    dataset["diverged"] = dataset["diverged"].astype(bool)
  return dataset


def load_piece(run_dir: Path, name: str) -> xr.Dataset | None:
  """A finished measurement saved with `save_piece`, or None. Every process gets the
  primary's answer, so all take the same path through a resumed run."""
  path = Path(run_dir) / PIECES_DIR / f"{name}.nc"
  return read_dataset(path) if distributed.agree(path.exists()) else None


def save_piece(run_dir: Path, name: str, dataset: xr.Dataset) -> None:
  """Keeps a finished measurement that is not training (training resumes from `state/`)."""
  if distributed.is_primary():
    path = Path(run_dir) / PIECES_DIR / f"{name}.nc"
    path.parent.mkdir(exist_ok=True)
    write_atomic(path, lambda tmp: dataset.to_netcdf(tmp, engine="h5netcdf"))


def piece(run_dir: Path, name: str, measure: Callable[[], xr.Dataset], progress: Progress,
          work: int, label: str) -> tuple[xr.Dataset, float | None]:
  """A measurement that is not training, kept in pieces/: the saved piece `name` if a
  previous run finished it (its `work` units counted as done), else `measure()`, saved.

  Returns:
    the dataset and the seconds measuring took (None when it was loaded).
  """
  part = load_piece(run_dir, name)
  if part is not None:
    progress.skip(work)
    say(f"{label} was already measured")
    return part, None
  t0 = time.perf_counter()
  part = measure()
  save_piece(run_dir, name, part)
  return part, round(time.perf_counter() - t0, 3)


@contextlib.contextmanager
def locked(run_dir: Path):
  """Holds the run directory's lock for the block: a second process that asks for it is
  refused in one line naming the holder. The lock is the kernel's (flock), so it dies with
  its process: a lock left by a killed run is simply taken over. On a file system without
  flock (some NFS and Lustre mounts) the run goes ahead unlocked, with a warning."""
  run_dir = Path(run_dir)
  if run_dir.exists() and not run_dir.is_dir():
    raise ConfigError(f"{run_dir}: exists and is not a superjax run; choose another --out")
  made_dir = not run_dir.exists()
  made_lock = not (run_dir / LOCK_FILE).exists()
  try:
    run_dir.mkdir(parents=True, exist_ok=True)
    handle = open(run_dir / LOCK_FILE, "a+")
  except OSError as e:
    raise SuperjaxError(f"{run_dir}: cannot write the run directory there "
                        f"({e.strerror or type(e).__name__}); choose another --out") from None
  try:
    try:
      fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError as e:
      if e.errno not in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
        say(f"warning: {run_dir} cannot be locked here ({e.strerror}); make sure no other "
            "command runs in it")
      else:
        handle.seek(0)
        holder = handle.read().strip() or "another process"
        raise SuperjaxError(f"{run_dir} is in use by {holder}; wait for it to finish or "
                            "choose another --out") from None
    handle.seek(0)
    handle.truncate()
    handle.write(f"process {os.getpid()} on {socket.gethostname()} since "
                 f"{datetime.datetime.now().isoformat(timespec='seconds')}\n")
    handle.flush()
    yield
  finally:
    # A directory refused as no run (or an --out that never became one) keeps no trace.
    if made_lock and not (run_dir / CONFIG_FILE).exists():
      (run_dir / LOCK_FILE).unlink(missing_ok=True)
      if made_dir and not any(run_dir.iterdir()):
        run_dir.rmdir()
    handle.close()  # releases the lock


def set_aside_damaged_results(run_dir: Path) -> bool:
  """If results.nc exists but cannot be read, moves it to results.nc.damaged (so the run
  rebuilds it from its saved state) and says so; whether it did."""
  path = Path(run_dir) / RESULTS_FILE
  if not path.exists():
    return False
  try:
    read_dataset(path)
    return False
  except MemoryError:
    raise
  except Exception as e:  # any reader error means the file is damaged
    path.replace(path.with_name(RESULTS_FILE + ".damaged"))
    source = ("the saved training state" if (Path(run_dir) / STATE_DIR).is_dir()
              else "scratch (no training state is left)")
    say(f"{path} is unreadable ({type(e).__name__}); rebuilding it from {source} (the "
        f"damaged file is kept as {RESULTS_FILE}.damaged)")
    return True
