"""How a claim's verdict follows from numbers measured on every seed.

A claim is judged on one or more `Part`s: a number measured on each seed alone (one value
per seed; NaN for a diverged seed), the statistic over seeds (the mean) with its 95%
bootstrap interval, and a `Rule` taken from the paper's words: the band the paper's
statement puts the number in, and the value that means no effect. Five verdicts:

- holds: the whole interval lies inside the paper's band;
- partly: the interval excludes no-effect on the paper's side but leaves the band;
- does not hold: the interval lies on the wrong side of no-effect (or, for a rule without
  a no-effect value, wholly outside the band);
- inconclusive: the interval contains no-effect (or straddles the band's edge where the
  rule has none), or too few seeds to form an interval;
- not tested: the run is not in the paper's regime (decided by the claim, not here).

The split-half check judges the first and the second half of the seeds alone; where the
halves disagree the verdict cannot be "holds" and becomes "inconclusive".
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np

HOLDS, PARTLY, FAILS = "holds", "partly", "does not hold"
INCONCLUSIVE, NOT_TESTED = "inconclusive", "not tested"
VERDICTS = (HOLDS, PARTLY, FAILS, INCONCLUSIVE, NOT_TESTED)

# 95% percentile bootstrap over seeds, with a fixed generator so a scorecard reads the
# same every time it is printed.
CONFIDENCE = 0.95
RESAMPLES = 10_000
BOOTSTRAP_SEED = 0
# Fewer seeds than this give no interval worth the name: the part is inconclusive. A half
# of the seeds in the split-half check needs HALF_MIN_SEEDS.
MIN_SEEDS = 3
HALF_MIN_SEEDS = 2


def finite(values) -> np.ndarray:
  """The finite entries of `values` as a flat float64 array (diverged seeds dropped)."""
  values = np.asarray(values, np.float64).ravel()
  return values[np.isfinite(values)]


def interval(values, confidence: float = CONFIDENCE) -> tuple[float, float, float]:
  """(mean, low, high): the mean over seeds and its percentile bootstrap interval
  (RESAMPLES resamples of the seeds with replacement); NaNs dropped, (nan, nan, nan) for
  none."""
  values = finite(values)
  if values.size == 0:
    return math.nan, math.nan, math.nan
  rng = np.random.default_rng(BOOTSTRAP_SEED)
  means = values[rng.integers(0, values.size, (RESAMPLES, values.size))].mean(axis=1)
  tail = (1 - confidence) / 2
  low, high = np.quantile(means, [tail, 1 - tail])
  return float(values.mean()), float(low), float(high)


@dataclasses.dataclass(frozen=True)
class Rule:
  """What the paper's words make of one number.

  Attributes:
    band: (low, high): the paper's statement holds where the number lies inside (either
      end may be infinite).
    null: the value that means no effect (1 for a ratio, 0 for a correlation or a
      difference), on the other side of the band; None where there is none.
    text: the rule in one line, with the paper's words it comes from.
  """

  band: tuple[float, float]
  null: float | None = None
  text: str = ""

  def __post_init__(self):
    low, high = self.band
    if not low <= high:
      raise ValueError(f"band {self.band} is empty")
    if self.null is not None and low <= self.null <= high:
      raise ValueError(f"no-effect value {self.null} lies inside the band {self.band}")

  def judge(self, low: float, high: float) -> str:
    """The verdict for an interval [low, high] of the statistic."""
    if not (np.isfinite(low) and np.isfinite(high)):
      return INCONCLUSIVE
    band_low, band_high = self.band
    if band_low <= low and high <= band_high:
      return HOLDS
    if self.null is None:
      return FAILS if high < band_low or low > band_high else INCONCLUSIVE
    if low <= self.null <= high:
      return INCONCLUSIVE
    toward_band = band_low > self.null  # the band lies above no-effect
    on_paper_side = low > self.null if toward_band else high < self.null
    return PARTLY if on_paper_side else FAILS


@dataclasses.dataclass(frozen=True)
class Part:
  """One number of a claim, measured on every seed.

  Attributes:
    name: what the number is, e.g. "agreement with theory".
    values: one value per seed, in seed order (NaN for a seed left out).
    rule: the paper's band and no-effect value.
    fmt: format of the numbers in text, e.g. ".2f", ".1%".
    best: the best seed's value, shown beside where theory predicts the global optimum
      (never judged).
  """

  name: str
  values: np.ndarray
  rule: Rule
  fmt: str = ".2f"
  best: float | None = None

  def verdict(self, values=None, min_seeds: int = MIN_SEEDS) -> str:
    """The verdict from `values` (default: every seed)."""
    values = finite(self.values if values is None else values)
    if values.size < min_seeds:
      return INCONCLUSIVE
    _, low, high = interval(values)
    return self.rule.judge(low, high)

  def halves(self) -> tuple[np.ndarray, np.ndarray]:
    """The first and the second half of the seeds (the middle seed of an odd count goes
    to the second)."""
    values = np.asarray(self.values, np.float64).ravel()
    return values[: values.size // 2], values[values.size // 2:]

  def text(self) -> str:
    """"name: mean M [L, H] over N seeds (best B)"."""
    values = finite(self.values)
    if values.size == 0:
      return f"{self.name}: no finite seed"
    mean, low, high = interval(values)
    f = self.fmt
    spread = (f"{mean:{f}} [{low:{f}}, {high:{f}}] over {values.size} seeds"
              if values.size > 1 else f"{mean:{f}} (1 seed, no interval)")
    best = f"; best seed {self.best:{f}}" if self.best is not None else ""
    return f"{self.name}: {spread}{best}"


def combine(verdicts) -> str:
  """One verdict from the parts' verdicts: all alike -> that one; any holding or partly
  holding part beside others -> partly; otherwise inconclusive."""
  verdicts = list(verdicts)
  if not verdicts:
    raise ValueError("a claim needs at least one part")
  if len(set(verdicts)) == 1:
    return verdicts[0]
  if NOT_TESTED in verdicts:
    return NOT_TESTED
  if any(v in (HOLDS, PARTLY) for v in verdicts):
    return PARTLY
  return INCONCLUSIVE


def judge(parts) -> tuple[str, tuple[str, str]]:
  """The claim's verdict over every seed, and the verdicts of the first and second half
  of the seeds; a "holds" whose halves disagree becomes "inconclusive"."""
  parts = list(parts)
  overall = combine(p.verdict() for p in parts)
  first = combine(p.verdict(p.halves()[0], HALF_MIN_SEEDS) for p in parts)
  second = combine(p.verdict(p.halves()[1], HALF_MIN_SEEDS) for p in parts)
  if overall == HOLDS and first != second:
    overall = INCONCLUSIVE
  return overall, (first, second)
