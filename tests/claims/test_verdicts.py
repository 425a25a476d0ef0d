"""Verdicts from per-seed numbers: the bootstrap interval against a numpy recomputation, the
five verdicts at the edges of a rule, and the split-half check."""

import numpy as np
import pytest

from superjax.claims import verdicts
from superjax.claims.scorecard import Finding
from superjax.claims.verdicts import Part, Rule

# A ratio the paper puts at "about 2x" (band 1.5-2.5), no effect at 1.
RATIO = Rule(band=(1.5, 2.5), null=1.0, text="about 2x")
# A share that should exceed one half, with no no-effect value.
MOST = Rule(band=(0.5, np.inf), text="most")


def test_interval_is_the_percentile_bootstrap_of_the_mean():
  values = np.array([1.2, 1.9, 2.4, 0.7, 1.5, np.nan])
  finite = values[np.isfinite(values)]
  rng = np.random.default_rng(verdicts.BOOTSTRAP_SEED)
  resampled = finite[rng.integers(0, finite.size, (verdicts.RESAMPLES, finite.size))]
  low, high = np.quantile(resampled.mean(axis=1), [0.025, 0.975])
  mean, got_low, got_high = verdicts.interval(values)
  assert mean == pytest.approx(finite.mean())
  assert (got_low, got_high) == pytest.approx((low, high))
  # Coverage: intervals over 5 normal seeds contain the true mean about 95% of the time
  # (the percentile bootstrap under-covers at 5 seeds; at least 80% here).
  draws = np.random.default_rng(1).normal(2.0, 0.5, (400, 5))
  covered = [verdicts.interval(d)[1] <= 2.0 <= verdicts.interval(d)[2] for d in draws]
  assert 0.8 <= np.mean(covered) <= 0.97


@pytest.mark.parametrize("low, high, want", [
    (1.51, 2.49, "holds"),          # inside the band
    (1.49, 2.2, "partly"),          # leaves the band, excludes no effect
    (1.01, 1.3, "partly"),          # an effect, smaller than the paper's
    (0.99, 1.3, "inconclusive"),    # contains no effect
    (0.6, 0.99, "does not hold"),   # the wrong side of no effect
    (2.6, 3.0, "partly"),           # larger than the paper's band
    (np.nan, 2.0, "inconclusive"),
])
def test_rule_with_no_effect_value_at_its_edges(low, high, want):
  assert RATIO.judge(low, high) == want


@pytest.mark.parametrize("low, high, want", [
    (0.51, 0.9, "holds"), (0.49, 0.9, "inconclusive"), (0.1, 0.49, "does not hold")])
def test_rule_without_no_effect_value(low, high, want):
  assert MOST.judge(low, high) == want


def test_a_rule_below_its_no_effect_value():
  # "anticorrelated features are antipodal": a cosine difference below 0, band <= -0.2.
  rule = Rule(band=(-np.inf, -0.2), null=0.0)
  assert rule.judge(-0.5, -0.25) == "holds"
  assert rule.judge(-0.3, -0.1) == "partly"
  assert rule.judge(-0.1, 0.1) == "inconclusive"
  assert rule.judge(0.05, 0.2) == "does not hold"


def test_a_band_holding_its_no_effect_value_is_refused():
  with pytest.raises(ValueError, match="inside the band"):
    Rule(band=(0.5, 2.0), null=1.0)
  with pytest.raises(ValueError, match="empty"):
    Rule(band=(2.0, 1.0))


def test_few_seeds_are_inconclusive_and_one_seed_has_no_interval():
  part = Part("ratio", np.array([2.0, 2.1]), RATIO)
  assert part.verdict() == "inconclusive"
  assert "1 seed, no interval" in Part("ratio", np.array([2.0]), RATIO).text()


def test_the_best_seed_is_shown_but_not_judged():
  part = Part("ratio", np.array([1.1, 1.2, 1.15, 1.05, 1.1, 1.2]), RATIO, best=2.0)
  assert part.verdict() == "partly"
  assert "best seed 2.00" in part.text()


def test_split_half_disagreement_turns_holds_into_inconclusive():
  # Every seed together sits inside the band; the first half alone leaves it.
  agree = Part("ratio", np.array([2.0, 2.05, 1.95, 2.0, 2.02, 1.98]), RATIO)
  verdict, halves = verdicts.judge([agree])
  assert (verdict, halves) == ("holds", ("holds", "holds"))
  split = Part("ratio", np.array([1.4, 1.7, 1.6, 2.3, 2.2, 2.3, 2.2, 2.3]), RATIO)
  assert split.verdict() == "holds"
  verdict, halves = verdicts.judge([split])
  assert halves == ("partly", "holds") and verdict == "inconclusive"
  finding = Finding.judged([split])
  assert finding.verdict == "inconclusive" and "halves of the seeds disagree" in finding.reason


@pytest.mark.parametrize("parts, want", [
    (["holds", "holds"], "holds"),
    (["holds", "does not hold"], "partly"),
    (["partly", "inconclusive"], "partly"),
    (["inconclusive", "does not hold"], "inconclusive"),
    (["does not hold", "does not hold"], "does not hold"),
    (["not tested", "holds"], "not tested"),
])
def test_parts_combine(parts, want):
  assert verdicts.combine(parts) == want


def test_finding_text_names_interval_and_placement():
  part = Part("agreement", np.array([0.9, 0.92, 0.88, 0.91, 0.93]), MOST, fmt=".2f")
  finding = Finding.judged([part], context="shown only", deviations=("4,000 steps",))
  mean, low, high = verdicts.interval(part.values)
  assert f"{mean:.2f} [{low:.2f}, {high:.2f}] over 5 seeds" in finding.measured
  assert finding.measured.endswith("shown only") and finding.deviations == ("4,000 steps",)
  assert finding.verdict == "holds" and "> 0.50" in finding.reason
  with pytest.raises(ValueError, match="not one of"):
    Finding("x", "mostly", "y")
