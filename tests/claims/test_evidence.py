"""Shipped evidence: a finished run copied without its trained state loads to the same
values and is scored exactly as the run directory it came from."""

import dataclasses

import xarray as xr

from superjax import cli
from superjax.claims import evidence, scorecard, verdicts
from superjax.core import experiment, rundir


def test_shipped_results_load_equal_and_score_as_the_run(tmp_path, tiny_config, capsys):
  cfg = tiny_config.replace(name="elhage_intro", models=("linear", "relu"), seeds=3)
  run_dir = tmp_path / "run"
  experiment.run(cfg, run_dir, show_progress=False)
  assert (run_dir / rundir.STATE_DIR).is_dir()

  assert cli.main(["ship", str(run_dir), "--root", str(tmp_path / "results")]) == 0
  shipped = tmp_path / "results" / "elhage_intro"
  assert "wrote" in capsys.readouterr().out
  assert evidence.is_evidence(shipped) and not evidence.is_evidence(run_dir)
  assert not (shipped / rundir.STATE_DIR).exists()
  assert (shipped / rundir.CONFIG_FILE).read_text() == (run_dir / rundir.CONFIG_FILE).read_text()
  xr.testing.assert_identical(rundir.load(shipped), rundir.load(run_dir))

  claims = [c for c in scorecard.all_claims() if c.sweep == "elhage_intro"]
  from_run, _ = scorecard.evaluate(claims, [run_dir])
  from_root, _ = scorecard.evaluate(claims, root=tmp_path / "results")
  assert [r.finding for r in from_root] == [r.finding for r in from_run]
  assert all(r.finding is not None for r in from_root)
  # The copy is no directory to resume: its command is the one that made the run.
  assert all("--out" not in r.command and "--set seeds=3" in r.command for r in from_root)
  assert all(scorecard.convergence(r) == "-" for r in from_root)

  # The same sweep at twice the steps, shipped as the convergence variant: each row shows
  # its first number at both lengths and the verdict there.
  doubled_dir = tmp_path / "doubled"
  experiment.run(cfg.replace(steps=2 * cfg.steps), doubled_dir, show_progress=False)
  assert cli.main(["ship", str(doubled_dir), "--root", str(tmp_path / "results"),
                   "--variant", "doubled"]) == 0
  rows, _ = scorecard.evaluate(claims, root=tmp_path / "results")
  direct, _ = scorecard.evaluate(claims, [doubled_dir])
  assert any(again.finding.parts for again in direct)
  for row, again in zip(rows, direct):
    text = scorecard.convergence(row)
    if again.finding.parts:
      first = again.finding.parts[0]
      assert f"-> {verdicts.finite(first.values).mean():{first.fmt}}" in text
    assert text.endswith(f"at 2x steps: {again.finding.verdict_text()}")
  assert cli.main(["ship", str(doubled_dir), "--variant", "no/slash"]) == 2

  # A claim's protocol variant, shipped beside it, becomes one of its other readings.
  variant = dataclasses.replace(claims[0], variants=(("per_input", "another protocol"),))
  evidence.ship(doubled_dir, tmp_path / "results", "per_input")
  row = scorecard.evaluate([variant], root=tmp_path / "results")[0][0]
  assert row.finding.sensitivity[-1].startswith("another protocol: ")
  assert row.finding.sensitivity[-1].endswith(f"would read {direct[0].finding.verdict_text()}")
