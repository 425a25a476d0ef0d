"""How a claim's verdict follows from numbers measured on every seed.

A claim is judged on one or more `Part`s: a number measured on each seed alone (one value
per seed; NaN for a diverged seed), the statistic over seeds (the mean) with its 95%
Student-t interval, and a `Rule` taken from the paper's words: the band the paper's
statement puts the number in, the value that means no effect, and the smallest effect of
the paper's size. Five verdicts:

- holds: the whole interval lies inside the paper's band;
- does not hold: the interval lies on the wrong side of no effect; or it lies within the
  smallest effect of the paper's size around no effect ("no effect of the paper's size": a
  measured zero fails); or, for a rule without a no-effect value, wholly outside the band;
- partly: the interval excludes no effect on the paper's side but leaves the band;
- inconclusive: the interval contains no effect (or straddles the band's edge where the
  rule has none), or too few seeds to form an interval;
- not tested: the run is not in the paper's regime (decided by the claim, not here).

Why Student-t: the verdicts read the interval's ends, so its coverage must be what it
says at the 3 to 10 seeds we run. The t interval is exact for normally distributed seeds
and stays within two points of 95% for moderately skewed ones (tested by simulation at 3,
5 and 10 seeds); a percentile bootstrap of 3 seeds is [min, max] and covers about 75%, of
5 about 84%. Strongly skewed seeds (exponential) make the t interval cover about 88-90%:
a claim whose per-seed values are that skewed says so in its row.

A claim of several parts combines their verdicts (`combine`): all alike gives that
verdict; any part not tested makes the claim not tested; a holding or partly holding part
beside others gives "partly" (e.g. holds + does not hold); otherwise inconclusive. The
split-half check judges the mean of the first and of the second half of the seeds alone
(as a point: intervals over 2 or 3 seeds are too wide to replicate anything); where the
halves disagree the verdict cannot be "holds" and becomes "inconclusive".
"""

from __future__ import annotations

import dataclasses
import functools
import math

import numpy as np

HOLDS, PARTLY, FAILS = "holds", "partly", "does not hold"
INCONCLUSIVE, NOT_TESTED = "inconclusive", "not tested"
VERDICTS = (HOLDS, PARTLY, FAILS, INCONCLUSIVE, NOT_TESTED)
# The values some statistics can take (Rule.support).
CORRELATION = (-1.0, 1.0)  # Spearman, Pearson, Cohen's kappa
SHARE = (0.0, 1.0)
# The reason a "does not hold" gives when the interval sits within the smallest effect of
# the paper's size around no effect.
NO_EFFECT = "no effect of the paper's size"

CONFIDENCE = 0.95
METHOD = "Student-t"
# Fewer seeds than this give no interval worth the name: the part is inconclusive. A half
# of the seeds in the split-half check (judged by its mean) needs HALF_MIN_SEEDS.
MIN_SEEDS = 3
HALF_MIN_SEEDS = 1


def finite(values) -> np.ndarray:
  """The finite entries of `values` as a flat float64 array (diverged seeds dropped)."""
  values = np.asarray(values, np.float64).ravel()
  return values[np.isfinite(values)]


def _t_within(t: float, df: int) -> float:
  """P(|T| <= t) for Student's t with `df` degrees of freedom, by the closed-form series
  in theta = atan(t / sqrt(df)) (Abramowitz & Stegun 26.7.3-4)."""
  theta = math.atan(t / math.sqrt(df))
  c2 = math.cos(theta) ** 2
  if df % 2:  # odd: (2/pi) (theta + sin cos (1 + 2/3 cos^2 + 2*4/(3*5) cos^4 + ...))
    term, series = 1.0, 0.0
    for k in range(1, (df - 1) // 2 + 1):
      series += term
      term *= c2 * (2 * k) / (2 * k + 1)
    return 2 / math.pi * (theta + (math.sin(theta) * math.cos(theta) * series if df > 1
                                   else 0.0))
  term, series = 1.0, 0.0  # even: sin (1 + 1/2 cos^2 + 1*3/(2*4) cos^4 + ...)
  for k in range(1, df // 2 + 1):
    series += term
    term *= c2 * (2 * k - 1) / (2 * k)
  return math.sin(theta) * series


@functools.cache
def t_quantile(confidence: float, df: int) -> float:
  """The t with P(|T| <= t) = confidence for Student's t with `df` degrees of freedom (the
  two-sided critical value), by bisection to double precision."""
  if not 0 < confidence < 1 or df < 1:
    raise ValueError(f"confidence {confidence} and df {df}")
  low, high = 0.0, 1.0
  while _t_within(high, df) < confidence:
    high *= 2
  for _ in range(200):
    mid = (low + high) / 2
    if _t_within(mid, df) < confidence:
      low = mid
    else:
      high = mid
  return (low + high) / 2


def interval(values, confidence: float = CONFIDENCE) -> tuple[float, float, float]:
  """(mean, low, high): the mean over seeds and its Student-t interval, mean +- t * s /
  sqrt(n) (s the sample standard deviation); NaNs dropped; (mean, nan, nan) for one seed
  and (nan, nan, nan) for none."""
  values = finite(values)
  if values.size == 0:
    return math.nan, math.nan, math.nan
  mean = float(values.mean())
  if values.size == 1:
    return mean, math.nan, math.nan
  half = t_quantile(confidence, values.size - 1) * float(values.std(ddof=1)) / math.sqrt(values.size)
  return mean, mean - half, mean + half


@dataclasses.dataclass(frozen=True)
class Rule:
  """What the paper's words make of one number.

  Attributes:
    band: (low, high): the paper's statement holds where the number lies inside (either
      end may be infinite).
    null: the value that means no effect (1 for a ratio, 0 for a correlation or a
      difference), on the other side of the band; None where there is none.
    text: the rule in one line, with the paper's words it comes from.
    margin: the smallest effect of the paper's size, as a distance from `null`: an
      interval within null +- margin "does not hold (no effect of the paper's size)".
      Default: half the distance from no effect to the band's near edge (an effect under
      half the smallest the paper states is not the paper's); a band that starts at no
      effect (a direction, no size) has none unless the claim names one, and then fails
      only by reversal. An interval inside the band holds first: a directional claim's
      margin may overlap its band (a small but certain effect still has the direction).
    support: the values the statistic can take (CORRELATION, SHARE); an interval is cut
      to it, so a band that ends where the statistic does (kappa <= 1) is not left by an
      interval running past a value no mean can have.
  """

  band: tuple[float, float]
  null: float | None = None
  text: str = ""
  margin: float | None = None
  support: tuple[float, float] = (-math.inf, math.inf)

  def __post_init__(self):
    low, high = self.band
    if not low <= high:
      raise ValueError(f"band {self.band} is empty")
    if self.null is not None and low <= self.null <= high:
      raise ValueError(f"no-effect value {self.null} lies inside the band {self.band}")
    if self.margin is not None and (self.null is None or not 0 < self.margin):
      raise ValueError(f"margin {self.margin} needs a no-effect value and must be > 0")

  def distance(self) -> float:
    """How far the band's near edge lies from no effect (inf without a no-effect value)."""
    if self.null is None:
      return math.inf
    low, high = self.band
    return low - self.null if low > self.null else self.null - high

  def smallest_effect(self) -> float | None:
    """The margin in force: the stated one, or half the distance to the band (None where
    the band starts at no effect)."""
    if self.margin is not None:
      return self.margin
    if self.null is None:
      return None
    half = self.distance() / 2
    # a band that starts at no effect (nextafter) states a direction, not a size
    return half if half > 1e-9 * max(1.0, abs(self.null)) else None

  def no_effect(self, low: float, high: float) -> bool:
    """Whether [low, high] lies within the smallest effect of the paper's size around no
    effect."""
    margin = self.smallest_effect()
    return (margin is not None and np.isfinite(low) and np.isfinite(high)
            and self.null - margin <= low and high <= self.null + margin)

  def judge(self, low: float, high: float) -> str:
    """The verdict for an interval [low, high] of the statistic."""
    if not (np.isfinite(low) and np.isfinite(high)):
      return INCONCLUSIVE
    band_low, band_high = self.band
    if band_low <= low and high <= band_high:
      return HOLDS
    if self.null is None:
      return FAILS if high < band_low or low > band_high else INCONCLUSIVE
    if self.no_effect(low, high):
      return FAILS
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
    optimum: `values` holds one number measured on the best run of every cell over all
      seeds (a claim about the optimum, judged as a point); `half_values` holds each
      disjoint half of the seeds' own optimum, for the split-half check.
  """

  name: str
  values: np.ndarray
  rule: Rule
  fmt: str = ".2f"
  best: float | None = None
  optimum: bool = False
  half_values: tuple[float, float] | None = None

  def __post_init__(self):
    if self.optimum and (np.asarray(self.values).size != 1 or self.half_values is None):
      raise ValueError("an optimum part holds one value and its halves' two")

  def verdict(self, values=None, min_seeds: int = MIN_SEEDS) -> str:
    """The verdict from `values` (default: every seed)."""
    values = finite(self.values if values is None else values)
    if self.optimum:
      return self.rule.judge(values[0], values[0]) if values.size == 1 else INCONCLUSIVE
    if values.size < min_seeds:
      return INCONCLUSIVE
    _, low, high = self.interval(values)
    return self.rule.judge(low, high)

  def interval(self, values=None) -> tuple[float, float, float]:
    """(mean, low, high) of `values` (default: every seed), the interval cut to the rule's
    support."""
    mean, low, high = interval(self.values if values is None else values)
    floor, ceiling = self.rule.support
    return mean, min(max(low, floor), ceiling), max(min(high, ceiling), floor)

  def judged_interval(self) -> tuple[float, float]:
    """The interval the verdict over every seed reads ([v, v] for an optimum)."""
    values = finite(self.values)
    if self.optimum:
      return (values[0], values[0]) if values.size else (math.nan, math.nan)
    return self.interval(values)[1:] if values.size >= MIN_SEEDS else (math.nan, math.nan)

  def label(self) -> str:
    """The verdict over every seed, with "(no effect of the paper's size)" where that is
    why it does not hold."""
    verdict = self.verdict()
    if verdict == FAILS and self.rule.no_effect(*self.judged_interval()):
      return f"{verdict} ({NO_EFFECT})"
    return verdict

  def halves(self) -> tuple[np.ndarray, np.ndarray]:
    """The first and the second half of the seeds (the middle seed of an odd count goes
    to the second)."""
    if self.optimum:
      return np.array([self.half_values[0]]), np.array([self.half_values[1]])
    values = np.asarray(self.values, np.float64).ravel()
    return values[: values.size // 2], values[values.size // 2:]

  def text(self) -> str:
    """"name: mean M [L, H] over N seeds (best B)"; for an optimum "name: V (halves A /
    B)"."""
    values = finite(self.values)
    if values.size == 0:
      return f"{self.name}: no finite seed"
    f = self.fmt
    if self.optimum:
      first, second = self.half_values
      return f"{self.name}: {values[0]:{f}} (each half of the seeds' own: {first:{f}} / {second:{f}})"
    mean, low, high = self.interval(values)
    spread = (f"{mean:{f}} [{low:{f}}, {high:{f}}] over {values.size} seeds"
              if values.size > 1 else f"{mean:{f}} (1 seed, no interval)")
    best = f"; best seed {self.best:{f}}" if self.best is not None else ""
    return f"{self.name}: {spread}{best}"


def combine(verdicts) -> str:
  """One verdict from the parts' verdicts: all alike -> that one; any part not tested ->
  not tested; any holding or partly holding part beside others -> partly (holds + does
  not hold reads "partly": the claim is true in part); otherwise inconclusive."""
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


def combination(parts) -> str:
  """How a claim's verdict came from its parts, shown beside it: "holds + does not hold"
  where they differ; "no effect of the paper's size" where that is why every part does
  not hold; otherwise ""."""
  labels = [p.label() for p in parts]
  if len(set(labels)) > 1:
    return " + ".join(labels)
  return NO_EFFECT if labels and labels[0].endswith(f"({NO_EFFECT})") else ""


def half_verdict(part: Part, values) -> str:
  """The verdict of one half of the seeds: the rule applied to the half's mean as a point.
  A replication check, not a second test: an interval over 2 or 3 seeds (t = 12.7 at 2)
  is too wide to hold anywhere, so halves judged by intervals would disagree for want of
  power; by their means they disagree only when one half alone would read otherwise."""
  values = finite(values)
  if values.size < HALF_MIN_SEEDS and not part.optimum:
    return INCONCLUSIVE
  mean = float(values.mean()) if values.size else math.nan
  return part.rule.judge(mean, mean)


def judge(parts) -> tuple[str, tuple[str, str]]:
  """The claim's verdict over every seed, and the verdicts of the first and second half
  of the seeds (`half_verdict`); a "holds" whose halves disagree becomes "inconclusive"."""
  parts = list(parts)
  overall = combine(p.verdict() for p in parts)
  first = combine(half_verdict(p, p.halves()[0]) for p in parts)
  second = combine(half_verdict(p, p.halves()[1]) for p in parts)
  if overall == HOLDS and first != second:
    overall = INCONCLUSIVE
  return overall, (first, second)
