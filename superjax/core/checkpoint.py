"""Orbax checkpoints of a sweep's training state: one directory of steps per chunk.

Orbax writes each step to a temporary directory and renames it when complete, so a kill
at any moment leaves either a whole step or one that restore ignores.
"""

from __future__ import annotations

import contextlib
import json
import logging
from pathlib import Path
from typing import Any

import jax
import numpy as np
import orbax.checkpoint as ocp

from superjax.core.errors import CODE_CHANGED, SuperjaxError


class CheckpointError(SuperjaxError):
  pass


class Checkpoints:
  """Saves and restores a pytree plus JSON metadata at integer steps."""

  def __init__(self, directory: Path, max_to_keep: int = 2):
    self.directory = Path(directory).absolute()
    # Orbax logs every save at INFO; the loop reports progress itself.
    logging.getLogger("absl").setLevel(logging.WARNING)
    self._manager = ocp.CheckpointManager(
        self.directory, options=ocp.CheckpointManagerOptions(max_to_keep=max_to_keep, create=True))

  def steps(self) -> list[int]:
    return sorted(self._manager.all_steps())

  def save(self, step: int, tree: Any, meta: dict) -> None:
    """Starts writing `step` (orbax finishes it in the background; `close` waits). A
    write that fails (a full disk) raises CheckpointError; the steps before it stay."""
    with self._writing(step):
      self._manager.save(step, args=ocp.args.Composite(
          state=ocp.args.StandardSave(tree), meta=ocp.args.JsonSave(meta)))

  @contextlib.contextmanager
  def _writing(self, step: int | None):
    try:
      yield
    except Exception as e:  # orbax wraps the OSError of a failed write in its own types
      cause = _os_error(e)
      if cause is None:
        raise
      kept = [s for s in self.steps() if s != step]
      keeps = (f"the checkpoint of step {kept[-1]} is kept" if kept
               else "no earlier checkpoint exists")
      raise CheckpointError(
          f"could not write a checkpoint in {self.directory} "
          f"({cause.strerror or type(cause).__name__}); {keeps}: make room and rerun the "
          "same command to resume") from None

  def restore_latest(self, abstract: Any, expected_meta: dict) -> tuple[int, Any] | None:
    """Newest readable step whose metadata matches, or None when there is no step.

    A step that cannot be read (truncated or corrupt files) is skipped with a warning in
    favour of the one before it; if none can be read, CheckpointError names the directory.
    """
    problems = []
    for step in reversed(self.steps()):
      try:  # the metadata first: a checkpoint of other code or shapes is refused by name
        meta = self._manager.restore(step, args=ocp.args.Composite(
            meta=ocp.args.JsonRestore())).meta
      except Exception as e:  # orbax raises many types for damaged files
        problems.append(f"step {step}: {type(e).__name__}: {str(e).splitlines()[0][:120]}")
        continue
      if meta != expected_meta:
        raise CheckpointError(mismatch(self.directory, step, meta, expected_meta))
      try:
        restored = self._manager.restore(step, args=ocp.args.Composite(
            state=ocp.args.StandardRestore(abstract)))
      except Exception as e:
        problems.append(f"step {step}: {type(e).__name__}: {str(e).splitlines()[0][:120]}")
        continue
      if problems:
        logging.warning("skipped unreadable checkpoints in %s: %s", self.directory, "; ".join(problems))
      return step, restored.state
    if problems:
      raise CheckpointError(f"no readable checkpoint in {self.directory} ({problems[0]}); "
                            "rerun with --fresh to start anew")
    return None

  def close(self) -> None:
    """Waits for the writes in flight (raising CheckpointError if one failed)."""
    try:
      with self._writing(None):
        self._manager.wait_until_finished()
    finally:
      self._manager.close()


def mismatch(directory: Path, step: int, saved: dict, expected: dict) -> str:
  """One line on why the checkpoint at `step` (its metadata `saved`) is not the one this
  pass would resume."""
  differ = sorted(k for k in set(saved) | set(expected) if saved.get(k) != expected.get(k))
  if "fingerprint" in differ:
    return CODE_CHANGED.format(where=f"{directory} step {step} was trained by other code")
  hint = " (it was written on another number of devices)" if differ == ["padded_runs"] else ""
  return (f"checkpoint {directory} step {step} was written for a different "
          f"{', '.join(differ)}{hint}; rerun with --fresh to start anew")


def _os_error(e: BaseException) -> OSError | None:
  """The OSError behind `e` (itself, or along its causes), if any."""
  seen = set()
  while e is not None and id(e) not in seen:
    if isinstance(e, OSError):
      return e
    seen.add(id(e))
    e = e.__cause__ or e.__context__
  return None


def read_newest(directory: Path) -> tuple[int, Any, dict] | None:
  """The newest step of a directory of checkpoints read onto this host as numpy arrays,
  without the program that wrote it (whatever mesh it was written on): (step, tree,
  meta), or None when it holds no step. For tools that read finished state (exports)."""
  steps = sorted(int(p.name) for p in Path(directory).iterdir() if p.name.isdigit()) \
      if Path(directory).is_dir() else []
  if not steps:
    return None
  step_dir = Path(directory) / str(steps[-1])
  logging.getLogger("absl").setLevel(logging.ERROR)  # orbax warns of the step's own metadata
  checkpointer = ocp.StandardCheckpointer()
  try:
    saved = checkpointer.metadata(step_dir / "state")
    saved = getattr(saved, "item_metadata", saved)
    host = jax.sharding.SingleDeviceSharding(jax.local_devices(backend="cpu")[0])
    target = jax.tree.map(lambda a: jax.ShapeDtypeStruct(a.shape, a.dtype, sharding=host),
                          getattr(saved, "tree", saved))
    tree = jax.tree.map(np.asarray, checkpointer.restore(step_dir / "state", target))
    meta = json.loads((step_dir / "meta" / "metadata").read_text())
  except Exception as e:  # orbax raises many types for damaged files
    raise CheckpointError(f"{step_dir} is unreadable ({type(e).__name__}); rerun the command "
                          "that trained it") from None
  finally:
    checkpointer.close()
  return steps[-1], tree, meta


def abstract_of(tree: Any) -> Any:
  """Shape/dtype (and, for device arrays, sharding) skeleton of a pytree: the restore
  target orbax needs, so restored arrays land sharded as the live ones are."""
  def one(a):
    if isinstance(a, jax.ShapeDtypeStruct):
      return a
    return jax.ShapeDtypeStruct(a.shape, a.dtype,
                                sharding=a.sharding if isinstance(a, jax.Array) else None)
  return jax.tree.map(one, tree)
