"""The scorecard: claims measured on saved results equal numpy recomputations, the command
column rebuilds the run's config, and missing or bad run directories are reported as the
CLI promises."""

import re
import shlex
from pathlib import Path

import numpy as np
import pytest
import xarray as xr

from superjax import cli
from superjax.claims import scorecard
from superjax.claims.scorecard import Claim, Finding
from superjax.core import config, rundir, sweeps
from superjax.toy.config import SweepConfig


def _toy_dataset(cfg: SweepConfig, data_vars: dict, coords: dict) -> xr.Dataset:
  """A hand-made toy results dataset carrying `cfg` as a finished run would."""
  ds = xr.Dataset(data_vars, coords=coords)
  ds.attrs.update(model=",".join(cfg.models), experiment="toy", sweep=cfg.name,
                  config=cfg.to_json())
  return ds


def _number(text: str, before: str) -> float:
  """The number right after `before` in `text`."""
  return float(re.search(re.escape(before) + r"\s*([-+0-9.]+)", text).group(1))


def test_command_rebuilds_the_config_of_a_run(tmp_path):
  shipped = sweeps.load("elhage_adversarial")
  cfg = shipped.replace(steps=2000, density=tuple(np.geomspace(1, 0.1, 4).tolist()),
                        eval_attacks=("gorton",), per_sample_eps=True, lr=(0.0123456789,),
                        description="changed text is no override")
  text = scorecard.command("elhage_adversarial", cfg, tmp_path / "run")
  assert text == ("superjax run elhage_adversarial --set steps=2000 "
                  "--set 'density=geomspace(1,0.1,4)' --set lr=0.0123456789 "
                  "--set per_sample_eps=true --set eval_attacks=gorton "
                  f"--out {tmp_path / 'run'}")
  # The command's --set assignments rebuild exactly the computed part of the config.
  words = shlex.split(text)
  assignments = [words[i + 1] for i, w in enumerate(words) if w == "--set"]
  rebuilt = config.apply_overrides(shipped, assignments)
  assert rebuilt.computed_part() == cfg.computed_part()
  assert scorecard.command("elhage_adversarial", shipped) == "superjax run elhage_adversarial"


def test_missing_runs_name_their_command_and_exit_0(capsys, tmp_path, monkeypatch):
  monkeypatch.chdir(tmp_path)
  code = cli.main(["scorecard", "--root", str(tmp_path / "runs")])
  out = capsys.readouterr().out
  assert code == 0
  assert f"superjax run elhage_intro --out {tmp_path / 'runs' / 'elhage_intro'}" in out
  assert "[not run] elhage.intro" in out
  assert not (tmp_path / "docs").exists()  # Markdown only when asked


def test_not_a_run_directory_is_one_line_and_exit_2(capsys, tmp_path):
  code = cli.main(["scorecard", str(tmp_path / "nothing")])
  err = capsys.readouterr().err.strip()
  assert code == 2 and len(err.splitlines()) == 1
  assert err.startswith("superjax: error:") and "not a superjax run directory" in err


def test_a_failing_measure_is_an_error_row_not_a_crash(tmp_path):
  def broken(dataset):
    raise KeyError("vulnerability")

  claim = Claim("test.broken", "Elhage et al. 2022", "nowhere", "nothing", "elhage_intro",
                broken)
  fine = Claim("test.fine", "Elhage et al. 2022", "nowhere", "nothing", "elhage_intro",
               lambda ds: Finding("3.00", "holds", "because"))
  rows = [scorecard.measure(c, xr.Dataset(), tmp_path, "superjax run elhage_intro")
          for c in (claim, fine)]
  assert [r.status for r in rows] == [scorecard.ERROR, "holds"]
  assert "KeyError: 'vulnerability'" in rows[0].problem
  text = scorecard.render_text(rows)
  assert "[error] test.broken" in text and "[holds] test.fine" in text
  markdown = scorecard.render_markdown(rows)
  assert markdown.count("\n| Elhage") == 2


def test_saved_run_is_scored_with_its_overrides(capsys, tmp_path):
  """A run directory on disk, read by the CLI: the intro claim's numbers equal numpy's and
  its command rebuilds the stored config."""
  rng = np.random.default_rng(4)
  density = np.array([1.0, 0.3, 0.05])
  W = rng.normal(scale=0.7, size=(2, 3, 2, 2, 5))  # model, density, seed, hidden, feature
  loss = rng.uniform(size=(2, 3, 2))
  cfg = sweeps.load("elhage_intro").replace(density=tuple(density), seeds=2, steps=300)
  dims = ("model", "density", "seed")
  ds = _toy_dataset(cfg, {"W": (dims + ("hidden", "feature"), W), "loss": (dims, loss),
                          "features_per_dim": (dims, (W ** 2).sum((-2, -1)) / 2),
                          "diverged": (dims, np.zeros(loss.shape, bool))},
                    {"model": ["linear", "relu"], "density": density, "seed": [0, 1]})
  (tmp_path / "elhage_intro").mkdir()
  rundir.save(ds, tmp_path / "elhage_intro", {})
  markdown = tmp_path / "card.md"
  code = cli.main(["scorecard", "--root", str(tmp_path), "--markdown", str(markdown)])
  out = capsys.readouterr().out
  assert code == 0
  block = out[out.index("elhage.intro"):].split("\n  [")[0]
  # The claim was measured (its own numbers are tested in tests/toy), not missing.
  assert "[not run]" not in block and "[error]" not in block
  words = shlex.split(re.search(r"command:\s+(.*)", block).group(1))
  assert words[:3] == ["superjax", "run", "elhage_intro"] and "--out" in words
  assignments = [words[i + 1] for i, w in enumerate(words) if w == "--set"]
  assert assignments == ["steps=300", "density=1,0.3,0.05", "seeds=2"]
  rebuilt = config.apply_overrides(sweeps.load("elhage_intro"), assignments)
  assert rebuilt.computed_part() == cfg.computed_part()
  table = markdown.read_text()
  assert "| Elhage et al. 2022 | Fig. 2 (demonstrating superposition) |" in table
  assert "`superjax run elhage_intro --set steps=300" in table


def test_every_claim_names_a_shipped_sweep_its_rule_and_the_papers_protocol():
  found = scorecard.all_claims()
  assert len({c.key for c in found}) == len(found)
  shipped = sweeps.available()
  for claim in found:
    assert claim.sweep in shipped, claim.key
    assert claim.paper and claim.where and claim.states, claim.key
    assert claim.rule and claim.protocol, claim.key


def test_criteria_page_is_the_claims_rules(capsys):
  """docs/CRITERIA.md states every claim's rule as the code applies it."""
  assert cli.main(["scorecard", "--criteria"]) == 0
  printed = capsys.readouterr().out
  page = (Path(__file__).parents[2] / "docs" / "CRITERIA.md").read_text()
  assert printed == page, "regenerate with: superjax scorecard --criteria > docs/CRITERIA.md"
  for claim in scorecard.all_claims():
    assert f"| {claim.key} |" in page


def test_rendered_rows_carry_halves_deviations_and_the_five_verdicts(tmp_path):
  findings = [Finding("m", verdict, "r", ("holds", "partly"), ("10,000 steps, not 150,000",))
              for verdict in scorecard.VERDICTS]
  rows = [scorecard.measure(Claim(f"test.{i}", "Elhage et al. 2022", "w", "s", "elhage_intro",
                                  lambda ds, f=f: f, rule="a rule", protocol="a protocol"),
                            xr.Dataset(), tmp_path, "superjax run elhage_intro")
          for i, f in enumerate(findings)]
  text = scorecard.render_text(rows)
  assert "halves:   holds / partly" in text and "deviates: 10,000 steps, not 150,000" in text
  assert scorecard.tally(rows) == ("5 claims: 1 hold, 1 partly, 1 do not hold, "
                                   "1 inconclusive, 1 not tested")
  markdown = scorecard.render_markdown(rows)
  assert "| a rule |" in markdown and "| **not tested** |" in markdown


@pytest.mark.parametrize("argv, words", [
    (["scorecard", "x", "--root", "y"], "give run directories or --root, not both"),
    (["scorecard", "--markdown", "/"], "is a directory"),
])
def test_bad_scorecard_options_are_one_line(capsys, argv, words):
  code = cli.main(argv)
  err = capsys.readouterr().err.strip()
  assert code == 2 and words in err and len(err.splitlines()) == 1
