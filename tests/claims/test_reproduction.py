"""The shipped evidence: every folder under results/ loads, the whole stays within its size
budget, and docs/REPRODUCTION.md is exactly what the scorecard reads from it (so anyone
can re-score a row without training)."""

from pathlib import Path

import pytest

import superjax
from superjax.claims import evidence, scorecard

ROOT = Path(__file__).parents[2]
RESULTS = ROOT / "results"
# The repository's budget for shipped results.
BUDGET_BYTES = 30 * 2 ** 20


def _shipped() -> list[Path]:
  return sorted(p for p in RESULTS.iterdir() if p.is_dir()) if RESULTS.is_dir() else []


def test_results_load_and_fit_the_budget():
  shipped = _shipped()
  assert shipped, "results/ holds no shipped run (superjax ship RUN_DIR)"
  total = sum(f.stat().st_size for f in RESULTS.rglob("*") if f.is_file())
  assert total <= BUDGET_BYTES, f"results/ is {total / 2 ** 20:.1f} MiB"
  for folder in shipped:
    assert evidence.is_evidence(folder), folder
    sweep = folder.name.split(".")[0]
    assert superjax.load(folder).attrs["sweep"] == sweep


@pytest.mark.parametrize("page", ["REPRODUCTION.md"])
def test_the_reproduction_page_is_the_scorecard_of_the_shipped_results(page, monkeypatch):
  monkeypatch.chdir(ROOT)  # the command column names paths as the page was built
  rows, notes = scorecard.evaluate(scorecard.all_claims(), root=Path("results"))
  want = scorecard.render_markdown(rows, notes)
  assert (ROOT / "docs" / page).read_text() == want, (
      "rebuild with: superjax scorecard --root results --markdown")
