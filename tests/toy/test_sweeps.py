"""Every shipped sweep runs end to end from the CLI (shrunk to a few steps) and draws its
figures; the full settings are exercised by `superjax run` itself, not here."""

import pytest

import superjax
from superjax import cli
from superjax.core import sweeps as registry
from superjax.toy import figures as plots
from superjax.toy import report
from superjax.toy.config import SweepConfig

pytestmark = pytest.mark.slow  # whole runs from the CLI or several processes

# Toy-model sweeps; the other experiments' sweeps are run by their own test files.
SWEEPS = sorted(n for n in registry.available() if isinstance(registry.load(n), SweepConfig))


def test_the_papers_sweeps_ship():
  assert {"elhage_intro", "elhage_superposition", "elhage_phase_n2m1", "elhage_phase_n3m2",
          "elhage_geometry", "elhage_nonuniform", "elhage_correlated", "elhage_privileged",
          "elhage_abs"} <= set(SWEEPS)


@pytest.mark.parametrize("name", SWEEPS)
def test_sweep_runs_and_draws_its_figures(name, tmp_path, capsys):
  cfg = registry.load(name)
  assert set(cfg.figures) <= set(plots.FIGURES) and set(cfg.reports) <= set(report.REPORTS)
  shrink = ["steps=20", "log_every=10", "checkpoint_every=20", "eval_batch=256", "batch=64"]
  if cfg.run_count > 200:
    shrink += ["seeds=1"]
  if cfg.snapshots:
    shrink += ["snapshots=5"]
  if cfg.snapshot_at:
    shrink += ["snapshot_at=10"]
  out = tmp_path / name
  args = ["run", name, "--out", str(out), "--no-progress"]
  for item in shrink:
    args += ["--set", item]
  assert cli.main(args) == 0, capsys.readouterr().err
  for figure in cfg.figures:
    assert (out / "figures" / f"{figure}.png").stat().st_size > 10_000
  assert superjax.load(out).attrs["sweep"] == name
