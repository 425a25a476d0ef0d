"""Verdicts from per-seed numbers: the Student-t interval against scipy and its coverage by
simulation, the five verdicts at the edges of a rule (with the no-effect-of-the-paper's-
size branch), how parts combine, and the split-half check."""

import numpy as np
import pytest
from scipy import stats

from superjax.claims import verdicts
from superjax.claims.scorecard import Finding
from superjax.claims.verdicts import Part, Rule

# A ratio the paper puts at "about 2x" (band 1.5-2.5), no effect at 1.
RATIO = Rule(band=(1.5, 2.5), null=1.0, text="about 2x")
# A share that should exceed one half, with no no-effect value.
MOST = Rule(band=(0.5, np.inf), text="most")


@pytest.mark.parametrize("df", [1, 2, 3, 4, 5, 9, 30])
def test_t_critical_value_is_scipys(df):
  assert verdicts.t_quantile(0.95, df) == pytest.approx(stats.t.ppf(0.975, df), rel=1e-12)
  assert verdicts.t_quantile(0.80, df) == pytest.approx(stats.t.ppf(0.90, df), rel=1e-12)


def test_interval_is_the_student_t_interval_of_the_mean():
  values = np.array([1.2, 1.9, 2.4, 0.7, 1.5, np.nan])
  finite = values[np.isfinite(values)]
  low, high = stats.t.interval(0.95, finite.size - 1, loc=finite.mean(), scale=stats.sem(finite))
  mean, got_low, got_high = verdicts.interval(values)
  assert mean == pytest.approx(finite.mean())
  assert (got_low, got_high) == pytest.approx((low, high), rel=1e-10)
  assert np.isnan(verdicts.interval([2.0])[1]) and np.isnan(verdicts.interval([])[0])


# (name, draws of shape (runs, seeds), true mean): normal, and a gamma with shape 10
# (skewness 0.63, as skewed as per-seed ratios and correlations of our runs get).
DISTRIBUTIONS = [("normal", lambda rng, shape: rng.normal(2.0, 0.5, shape), 2.0),
                 ("gamma", lambda rng, shape: rng.gamma(10.0, 0.2, shape), 2.0)]


@pytest.mark.parametrize("name, draw, mean", DISTRIBUTIONS, ids=[d[0] for d in DISTRIBUTIONS])
@pytest.mark.parametrize("seeds", [3, 5, 10])
def test_interval_covers_the_true_mean_95_percent_of_the_time(name, draw, mean, seeds):
  # 6,000 simulated studies: the coverage's standard error is 0.3 points.
  draws = draw(np.random.default_rng(seeds), (6000, seeds))
  ends = np.array([verdicts.interval(d)[1:] for d in draws])
  covered = np.mean((ends[:, 0] <= mean) & (mean <= ends[:, 1]))
  assert abs(covered - 0.95) <= 0.02, covered


@pytest.mark.parametrize("low, high, want", [
    (1.51, 2.49, "holds"),          # inside the band
    (1.49, 2.2, "partly"),          # leaves the band, excludes no effect
    (1.01, 1.3, "partly"),          # an effect, smaller than the paper's
    (1.01, 1.24, "does not hold"),  # within 0.25 (half the way to the band) of no effect
    (0.8, 1.2, "does not hold"),    # a measured zero, no effect of the paper's size
    (0.7, 1.2, "inconclusive"),     # contains no effect, too wide to rule out the paper's
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
  assert rule.judge(-0.15, 0.1) == "inconclusive"
  assert rule.judge(-0.1, 0.1) == "does not hold"  # within 0.1 of no effect
  assert rule.judge(0.05, 0.2) == "does not hold"


def test_a_band_holding_its_no_effect_value_is_refused():
  with pytest.raises(ValueError, match="inside the band"):
    Rule(band=(0.5, 2.0), null=1.0)
  with pytest.raises(ValueError, match="empty"):
    Rule(band=(2.0, 1.0))


def test_smallest_effect_defaults_to_half_the_way_to_the_band_and_can_be_named():
  assert RATIO.smallest_effect() == pytest.approx(0.25)
  direction = Rule(band=(float(np.nextafter(0.0, 1.0)), np.inf), null=0.0)
  assert direction.smallest_effect() is None
  assert direction.judge(-0.01, 0.01) == "inconclusive"  # fails only by reversal
  named = Rule(band=(float(np.nextafter(0.0, 1.0)), np.inf), null=0.0, margin=0.1)
  assert named.judge(-0.05, 0.08) == "does not hold"
  assert named.judge(-0.05, 0.12) == "inconclusive"
  assert named.judge(0.02, 0.08) == "holds"  # small, but certainly the paper's direction
  with pytest.raises(ValueError, match="needs a no-effect"):
    Rule(band=(1.5, 2.5), margin=0.1)


def test_a_measured_zero_reads_no_effect_of_the_papers_size():
  zero = Part("ratio", np.array([1.0, 1.01, 0.99, 1.0, 1.02]), RATIO)
  assert zero.verdict() == "does not hold"
  assert zero.label() == "does not hold (no effect of the paper's size)"
  finding = Finding.judged([zero])
  assert finding.verdict_text() == "does not hold (no effect of the paper's size)"
  assert "+- 0.25" in finding.reason


def test_few_seeds_are_inconclusive_and_one_seed_has_no_interval():
  part = Part("ratio", np.array([2.0, 2.1]), RATIO)
  assert part.verdict() == "inconclusive"
  assert "1 seed, no interval" in Part("ratio", np.array([2.0]), RATIO).text()


def test_the_best_seed_is_shown_but_not_judged():
  part = Part("ratio", np.array([1.3, 1.35, 1.32, 1.28, 1.3, 1.34]), RATIO, best=2.0)
  assert part.verdict() == "partly"
  assert "best seed 2.00" in part.text()


def test_split_half_disagreement_turns_holds_into_inconclusive():
  # Every seed together sits inside the band; the first half alone leaves it.
  agree = Part("ratio", np.array([2.0, 2.05, 1.95, 2.0, 2.02, 1.98]), RATIO)
  verdict, halves = verdicts.judge([agree])
  assert (verdict, halves) == ("holds", ("holds", "holds"))
  # Every seed together holds; the first half's mean (1.45) alone sits under the band.
  rng = np.random.default_rng(2)
  split = Part("ratio", np.concatenate([1.45 + rng.uniform(-0.03, 0.03, 8),
                                        2.3 + rng.uniform(-0.03, 0.03, 8)]), RATIO)
  assert split.verdict() == "holds"
  verdict, halves = verdicts.judge([split])
  assert halves == ("partly", "holds") and verdict == "inconclusive"
  # Halves are judged by their means: two seeds each inside the band agree, though an
  # interval over 2 seeds (t = 12.7) would leave it.
  pair = Part("ratio", np.array([1.9, 2.1, 1.95, 2.05]), RATIO)
  assert verdicts.judge([pair]) == ("holds", ("holds", "holds"))
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


def test_the_verdict_cell_shows_how_parts_combined():
  holds = Part("a", np.array([2.0, 2.05, 1.95, 2.0, 2.02]), RATIO)
  fails = Part("b", np.array([0.6, 0.62, 0.58, 0.6, 0.61]), RATIO)
  finding = Finding.judged([holds, fails])
  assert finding.verdict_text() == "partly (holds + does not hold)"
  assert Finding.judged([holds, holds]).verdict_text() == "holds"


def test_finding_text_names_interval_and_placement():
  part = Part("agreement", np.array([0.9, 0.92, 0.88, 0.91, 0.93]), MOST, fmt=".2f")
  finding = Finding.judged([part], context="shown only", deviations=("4,000 steps",))
  mean, low, high = verdicts.interval(part.values)
  assert f"{mean:.2f} [{low:.2f}, {high:.2f}] over 5 seeds" in finding.measured
  assert finding.measured.endswith("shown only") and finding.deviations == ("4,000 steps",)
  assert finding.verdict == "holds" and "> 0.50" in finding.reason
  with pytest.raises(ValueError, match="not one of"):
    Finding("x", "mostly", "y")
