"""The evidence the scorecard judged, shipped beside its verdicts.

`ship` copies what a claim reads from a finished run directory (its results, config,
manifest and report; never the trained state) into `<root>/<sweep>`, the results
compressed. `superjax scorecard --root <root>` then judges every claim from those folders
alone, so anyone can re-score, re-aggregate or plot a row without retraining.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from superjax.core import rundir
from superjax.core.errors import SuperjaxError

# Where the repository keeps the evidence behind docs/REPRODUCTION.md.
DEFAULT_ROOT = Path("results")
# Beside the results: what rebuilds the command column and the timings of the run.
KEPT = (rundir.CONFIG_FILE, rundir.MANIFEST_FILE, rundir.REPORT_FILE)
# Marks a shipped copy, which no command resumes.
MARKER = "SHIPPED"
# The variant a claim's convergence check reads: the same sweep with its steps doubled,
# shipped as <root>/<sweep>.doubled.
DOUBLED = "doubled"


def is_evidence(run_dir: Path) -> bool:
  """Whether `run_dir` is a shipped copy (`ship`), not a run directory."""
  return rundir.is_finished(run_dir) and (Path(run_dir) / MARKER).exists()


def folder(root: Path, sweep: str, variant: str = "") -> Path:
  """Where the shipped copy of `sweep` (or of its `variant`) lives."""
  return Path(root) / (f"{sweep}.{variant}" if variant else sweep)


def ship(run_dir: Path, root: Path = DEFAULT_ROOT, variant: str = "") -> Path:
  """Copies the finished run in `run_dir` to `root`/<its sweep>[.<variant>] (replacing an
  earlier copy) and returns that folder; every variable compressed (zlib), values
  unchanged."""
  run_dir = Path(run_dir)
  dataset = rundir.load(run_dir)
  sweep = dataset.attrs.get("sweep")
  if not sweep:
    raise SuperjaxError(f"{run_dir}: its results name no sweep; nothing to file them under")
  if variant and not variant.isidentifier():
    raise SuperjaxError(f"--variant {variant!r}: use letters, digits and _ (e.g. {DOUBLED})")
  out = folder(root, sweep, variant)
  if out.resolve() == run_dir.resolve():
    raise SuperjaxError(f"{run_dir} is already the shipped copy")
  out.mkdir(parents=True, exist_ok=True)
  encoding = {name: {"zlib": True, "complevel": 9}
              for name, variable in dataset.data_vars.items() if variable.dtype.kind in "fiub"}
  rundir.write_atomic(out / rundir.RESULTS_FILE, lambda tmp: dataset.to_netcdf(
      tmp, engine="h5netcdf", encoding=encoding))
  for name in KEPT:
    if (run_dir / name).exists():
      shutil.copyfile(run_dir / name, out / name)
  (out / MARKER).write_text("results copied by `superjax ship` from a finished run; no "
                            "trained state: `superjax scorecard --root` reads them\n")
  return out
