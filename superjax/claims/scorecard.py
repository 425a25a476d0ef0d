"""The papers' claims, checked against finished run directories.

A family lists the claims its sweeps can test in its `claims.py` as `CLAIMS`, a tuple of
`Claim`s; its Experiment carries them. The scorecard finds each claim's run directory,
measures the claim from the saved results alone, and renders one table (terminal and
Markdown). A claim whose run is missing names the command that makes it.
"""

from __future__ import annotations

import dataclasses
import json
import shlex
import textwrap
from collections.abc import Callable
from pathlib import Path

import numpy as np
import xarray as xr

from superjax.claims import evidence, verdicts
from superjax.core import experiment, rundir, sweeps
from superjax.core.config import PRESENTATION_FIELDS, Config
from superjax.core.errors import SuperjaxError

VERDICTS = verdicts.VERDICTS


@dataclasses.dataclass(frozen=True)
class Finding:
  """What a finished run says about one claim.

  Attributes:
    measured: our number(s), each with its interval over seeds, as short text.
    verdict: one of VERDICTS.
    reason: why that verdict, in a few words.
    halves: the verdicts of the first and the second half of the seeds alone (empty where
      the claim was not judged on seeds).
    deviations: each way this run departs from the paper's protocol (steps, budget, data,
      architecture, regime), one short phrase each.
    detail: how the verdict came about, shown beside it: the parts' verdicts where they
      differ ("holds + does not hold") or "no effect of the paper's size".
    sensitivity: what another defensible aggregation, band or protocol would read (e.g.
      pooled over densities instead of per density), one line each; never judged.
    parts: the judged parts (verdicts.Part: every seed's value, the rule), for plots;
      left out of comparisons.
  """

  measured: str
  verdict: str
  reason: str
  halves: tuple[str, ...] = ()
  deviations: tuple[str, ...] = ()
  detail: str = ""
  sensitivity: tuple[str, ...] = ()
  parts: tuple = dataclasses.field(default=(), compare=False, repr=False)

  def __post_init__(self):
    if self.verdict not in VERDICTS:
      raise ValueError(f"verdict {self.verdict!r} is not one of {VERDICTS}")

  @classmethod
  def judged(cls, parts, context: str = "", deviations=(), reason: str = "",
             sensitivity=()) -> Finding:
    """The finding of `parts` (verdicts.Part), each judged over every seed by its rule;
    `context` adds numbers that are shown but not judged; `reason` replaces the default
    one (each part's verdict); `sensitivity` lists what other readings would give."""
    parts = list(parts)
    verdict, halves = verdicts.judge(parts)
    measured = "; ".join([p.text() for p in parts] + ([context] if context else []))
    if not reason:
      reason = "; ".join(f"{p.name} {_placement(p)}" for p in parts)
    if verdict == verdicts.INCONCLUSIVE and len(set(halves)) > 1 and all(
        p.verdict() == verdicts.HOLDS for p in parts):
      reason += f"; the halves of the seeds disagree ({halves[0]} / {halves[1]})"
    return cls(measured, verdict, reason, halves, tuple(deviations),
               verdicts.combination(parts), tuple(sensitivity), tuple(parts))

  def verdict_text(self) -> str:
    """The verdict with how it came about, e.g. "partly (holds + does not hold)"."""
    return f"{self.verdict} ({self.detail})" if self.detail else self.verdict

  @classmethod
  def not_tested(cls, measured: str, why: str, deviations=(), parts=()) -> Finding:
    """A run outside the paper's regime, or a claim true there by construction: `why`
    says which; `parts` are shown (plotted) but not judged."""
    return cls(measured, verdicts.NOT_TESTED, why, (), tuple(deviations), parts=tuple(parts))


def _placement(part: verdicts.Part) -> str:
  """Where the part's interval sits against its band, in words."""
  values = verdicts.finite(part.values)
  if not part.optimum and values.size < verdicts.MIN_SEEDS:
    return f"has {values.size} seed{'s' if values.size != 1 else ''}, fewer than {verdicts.MIN_SEEDS}"
  low, high = part.judged_interval()
  band_low, band_high = part.rule.band
  f = part.fmt
  if np.isinf(band_high):
    band = f"> {band_low:{f}}"
  elif np.isinf(band_low):
    band = f"< {band_high:{f}}"
  else:
    band = f"in {band_low:{f}} to {band_high:{f}}"
  null = ""
  if part.rule.null is not None:
    margin = part.rule.smallest_effect()
    null = f", no effect at {part.rule.null:{f}}" + (
        f" +- {margin:{f}}" if margin is not None else "")
  where = f"{low:{f}}" if part.optimum else f"[{low:{f}}, {high:{f}}]"
  return f"{where} against {band}{null}: {part.label()}"


@dataclasses.dataclass(frozen=True)
class Claim:
  """One claim of a paper and how a sweep's results test it.

  Attributes:
    key: short unique id, "<paper>.<what>", e.g. "elhage.phase_n2m1".
    paper: "Elhage et al. 2022", "Gorton & Lewis 2025" or "Hänni et al. 2024".
    where: the figure, section or theorem, e.g. "Fig. 7".
    states: what the paper states, with its number where it gives one.
    sweep: the sweep whose run directory holds the evidence.
    measure: saved results -> Finding.
    rule: the verdict's rule in one line, with the paper's words or number it comes from
      (written before the numbers were looked at).
    protocol: the paper's protocol for this claim (model, data, steps, budgets), against
      which a run's deviations are named.
    variants: (name, what it changes) of runs of the same sweep under another defensible
      protocol; where one is shipped as <sweep>.<name> its reading is an "other readings"
      line, never judged.
  """

  key: str
  paper: str
  where: str
  states: str
  sweep: str
  measure: Callable[[xr.Dataset], Finding]
  rule: str = ""
  protocol: str = ""
  variants: tuple[tuple[str, str], ...] = ()


# What a row shows when its run gave no finding.
MISSING, UNFINISHED, ERROR = "not run", "unfinished", "error"


@dataclasses.dataclass(frozen=True)
class Row:
  """One line of the scorecard: a claim, the run directory read for it, and the outcome.

  Attributes:
    claim: the claim.
    run_dir: where its evidence was looked for.
    command: the `superjax run` command that made the run (or would make it).
    finding: what the run says, or None when there is no finding.
    problem: why there is no finding (missing run, unfinished run, measuring failed).
    status: the finding's verdict, or MISSING, UNFINISHED or ERROR.
    doubled: the finding of the same sweep at twice the steps (the convergence check),
      where one was shipped.
  """

  claim: Claim
  run_dir: Path
  command: str
  finding: Finding | None = None
  problem: str = ""
  status: str = MISSING
  doubled: Finding | None = None


def seed_range(values, fmt: str = ".2f", unit: str = "") -> str:
  """"lo to hi over N seeds" for per-seed values (NaNs dropped), each followed by `unit`;
  "1 seed" for one."""
  values = np.asarray(values, np.float64).ravel()
  values = values[np.isfinite(values)]
  if values.size == 0:
    return "no finite seed"
  if values.size == 1:
    return "1 seed"
  return f"{values.min():{fmt}}{unit} to {values.max():{fmt}}{unit} over {values.size} seeds"


def all_claims() -> list[Claim]:
  """Every registered experiment's claims, in registry order; keys are unique."""
  found, keys = [], set()
  for name in experiment.names():
    for claim in getattr(experiment.get(name), "claims", ()):
      if claim.key in keys:
        raise SuperjaxError(f"two claims share the key {claim.key!r}")
      keys.add(claim.key)
      found.append(claim)
  return found


# --- the command column ----------------------------------------------------------------


def _number(x) -> str:
  """The shortest text that `--set` reads back as exactly x."""
  if isinstance(x, bool):
    return "true" if x else "false"
  if isinstance(x, (int, np.integer)):
    return str(int(x))
  short = f"{float(x):g}"
  return short if float(short) == float(x) else repr(float(x))


def _spaced(values: tuple) -> str | None:
  """values as linspace/logspace/geomspace(start,stop,num) where that rebuilds them exactly
  (as `--set` parses it), else None."""
  if len(values) < 3 or not all(isinstance(v, (int, float)) for v in values):
    return None
  first, last, num = float(values[0]), float(values[-1]), len(values)
  candidates = [("linspace", first, last), ("geomspace", first, last)]
  if first > 0 and last > 0:
    candidates.append(("logspace", float(np.log10(first)), float(np.log10(last))))
  for fn, start, stop in candidates:
    if fn == "geomspace" and (first <= 0 or last <= 0):
      continue
    if getattr(np, fn)(start, stop, num).tolist() == [float(v) for v in values]:
      return f"{fn}({_number(start)},{_number(stop)},{num})"
  return None


def set_value(value) -> str:
  """A config value as `--set key=VALUE` reads it back."""
  if isinstance(value, (tuple, list)):
    return _spaced(tuple(value)) or ",".join(
        str(v) if isinstance(v, str) else _number(v) for v in value)
  if isinstance(value, (bool, int, float)):
    return _number(value)
  return str(value)


def overrides(cfg: Config, default: Config) -> list[str]:
  """`key=value` for every computed field where `cfg` differs from `default` (fields that
  only change presentation, such as the description, are left out)."""
  ours = json.loads(json.dumps(cfg.to_dict()))
  theirs = json.loads(json.dumps(default.to_dict()))
  return [f"{f.name}={set_value(getattr(cfg, f.name))}" for f in dataclasses.fields(cfg)
          if f.name not in PRESENTATION_FIELDS and ours.get(f.name) != theirs.get(f.name)]


def command(sweep: str, cfg: Config | None = None, run_dir: Path | None = None) -> str:
  """The `superjax run` command that makes `cfg` from the shipped sweep `sweep` (its
  fields that differ as --set) into `run_dir` (--out unless it is the default)."""
  parts = ["superjax", "run", sweep]
  if cfg is not None:
    try:
      default = sweeps.load(sweep)
    except SuperjaxError:  # no shipped sweep of that name: every field would be a guess
      default = None
    if default is not None and type(default) is type(cfg):
      for assignment in overrides(cfg, default):
        parts += ["--set", shlex.quote(assignment)]
  name = cfg.name if cfg is not None else sweep
  if run_dir is not None and Path(run_dir).resolve() != (rundir.DEFAULT_ROOT / name).resolve():
    parts += ["--out", shlex.quote(str(run_dir))]
  return " ".join(parts)


# --- finding and measuring runs --------------------------------------------------------


def measure(claim: Claim, dataset: xr.Dataset, run_dir: Path, command_text: str) -> Row:
  """The claim measured on `dataset`; an exception becomes an ERROR row, not a crash."""
  try:
    finding = claim.measure(dataset)
    if not isinstance(finding, Finding):
      raise TypeError(f"measure returned {type(finding).__name__}, not a Finding")
  except Exception as e:  # a claim is code over saved results: any failure is its own
    first = (str(e).splitlines() or [""])[0][:160]
    return Row(claim, run_dir, command_text, problem=f"{type(e).__name__}: {first}",
               status=ERROR)
  return Row(claim, run_dir, command_text, finding=finding, status=finding.verdict)


def _stored_config(run_dir: Path, sweep: str) -> Config | None:
  """The config an unfinished run directory was started with, if it reads."""
  try:
    default = sweeps.load(sweep)
    return type(default).from_dict(json.loads((run_dir / rundir.CONFIG_FILE).read_text()))
  except (SuperjaxError, OSError, ValueError, TypeError):
    return None


def _absent(claim: Claim, run_dir: Path, shipped: bool = False) -> Row:
  """The row of a claim whose run directory holds no finished run; in a root of shipped
  copies (`shipped`) the command is the plain one (its run is then shipped there)."""
  if (run_dir / rundir.CONFIG_FILE).exists():
    text = command(claim.sweep, _stored_config(run_dir, claim.sweep), run_dir)
    return Row(claim, run_dir, text, status=UNFINISHED,
               problem=f"{run_dir} holds an unfinished run; the command resumes it")
  text = command(claim.sweep, None, None if shipped else run_dir)
  where = (f"no shipped run in {run_dir} (superjax ship its run directory)" if shipped
           else f"no finished run in {run_dir}")
  return Row(claim, run_dir, text, status=MISSING, problem=where)


def evaluate(claims: list[Claim], run_dirs: list[Path] | None = None,
             root: Path | None = None) -> tuple[list[Row], list[str]]:
  """Rows of the scorecard, and notes on run directories no claim reads.

  With `run_dirs`, each must be a finished run directory (else SuperjaxError); every claim
  about its sweep is measured on it. Without, each claim reads `root`/<its sweep>
  (default checkpoints/), and a missing or unfinished run gives a row naming its command.
  """
  rows, notes = [], []
  if run_dirs:
    for path in run_dirs:
      dataset = rundir.load(path)
      sweep = dataset.attrs.get("sweep", "")
      mine = [c for c in claims if c.sweep == sweep]
      if not mine:
        notes.append(f"{path}: no claim reads sweep {sweep!r}")
        continue
      text = command(sweep, experiment.config_of(dataset), Path(path))
      rows += [measure(claim, dataset, Path(path), text) for claim in mine]
    return rows, notes
  root = Path(root) if root is not None else rundir.DEFAULT_ROOT
  shipped = root.is_dir() and any(evidence.is_evidence(p) for p in root.iterdir())
  loaded: dict[str, tuple[xr.Dataset, str]] = {}
  for claim in claims:
    run_dir = root / claim.sweep
    if not rundir.is_finished(run_dir):
      rows.append(_absent(claim, run_dir, shipped))
      continue
    if claim.sweep not in loaded:
      try:
        dataset = rundir.load(run_dir)
        # a shipped copy is no directory to resume: the command is the one that made it
        made_in = None if evidence.is_evidence(run_dir) else run_dir
        loaded[claim.sweep] = (dataset, command(claim.sweep, experiment.config_of(dataset),
                                                made_in))
      except SuperjaxError as e:
        loaded[claim.sweep] = (None, str(e))
    dataset, text = loaded[claim.sweep]
    if dataset is None:  # results that do not read: say so on the claim's line
      rows.append(Row(claim, run_dir, command(claim.sweep, None, run_dir), problem=text,
                      status=ERROR))
    else:
      rows.append(_with_other_runs(measure(claim, dataset, run_dir, text), root))
  return rows, notes


def _with_other_runs(row: Row, root: Path) -> Row:
  """The row with the claim measured on the shipped run at twice the steps, and on each
  shipped variant of its protocol (Claim.variants, as other readings), where they exist."""
  if row.finding is None:
    return row
  readings = []
  for name, what in row.claim.variants:
    where = evidence.folder(root, row.claim.sweep, name)
    if rundir.is_finished(where):
      other = measure(row.claim, rundir.load(where), where, "").finding
      if other is not None:
        first = f"{other.parts[0].text()}: " if other.parts else ""
        readings.append(f"{what}: {first}would read {other.verdict_text()}")
  if readings:
    row = dataclasses.replace(row, finding=dataclasses.replace(
        row.finding, sensitivity=row.finding.sensitivity + tuple(readings)))
  doubled_dir = evidence.folder(root, row.claim.sweep, evidence.DOUBLED)
  if not rundir.is_finished(doubled_dir):
    return row
  again = measure(row.claim, rundir.load(doubled_dir), doubled_dir, "")
  return dataclasses.replace(row, doubled=again.finding)


def convergence(row: Row) -> str:
  """What the claim reads at twice the steps: the first judged number's mean at both
  lengths and the verdict there ("-" without a doubled run)."""
  if row.doubled is None or row.finding is None:
    return "-"
  ours, theirs = row.finding.parts, row.doubled.parts
  steps = ""
  if row.doubled.parts and ours:
    first, again = ours[0], theirs[0]
    f = first.fmt
    before = verdicts.finite(first.values)
    after = verdicts.finite(again.values)
    if before.size and after.size:
      steps = f"{first.name}: {before.mean():{f}} -> {after.mean():{f}}; "
  return f"{steps}at 2x steps: {row.doubled.verdict_text()}"


# --- rendering -------------------------------------------------------------------------


def tally(rows: list[Row]) -> str:
  """"N claims: a hold, b partly, ..." over the statuses that occur."""
  counts = {status: sum(r.status == status for r in rows)
            for status in VERDICTS + (MISSING, UNFINISHED, ERROR)}
  words = {verdicts.HOLDS: "hold", verdicts.PARTLY: "partly", verdicts.FAILS: "do not hold",
           verdicts.INCONCLUSIVE: "inconclusive", verdicts.NOT_TESTED: "not tested",
           MISSING: "not run", UNFINISHED: "unfinished", ERROR: "errors"}
  parts = [f"{count} {words[status]}" for status, count in counts.items() if count]
  return f"{len(rows)} claim{'s' if len(rows) != 1 else ''}: " + ", ".join(parts)


def _measured(row: Row) -> str:
  return row.finding.measured if row.finding else "-"


def _why(row: Row) -> str:
  return row.finding.reason if row.finding else row.problem


def _verdict(row: Row) -> str:
  return row.finding.verdict_text() if row.finding else row.status


def _halves(row: Row) -> str:
  halves = row.finding.halves if row.finding else ()
  return " / ".join(halves) if halves else "-"


def _sensitivity(row: Row) -> str:
  found = row.finding.sensitivity if row.finding else ()
  return "; ".join(found) if found else "-"


def _deviations(row: Row) -> str:
  found = row.finding.deviations if row.finding else ()
  return "; ".join(found) if found else "none named"


def by_paper(rows: list[Row]) -> list[Row]:
  """Rows grouped by paper (papers in order of first appearance), otherwise in order."""
  papers = list(dict.fromkeys(row.claim.paper for row in rows))
  return sorted(rows, key=lambda row: papers.index(row.claim.paper))


def render_text(rows: list[Row], notes: list[str] = (), width: int = 100) -> str:
  """The scorecard for a terminal: a block per claim, grouped by paper."""
  rows = by_paper(rows)
  lines = [tally(rows)]
  paper = None
  for row in rows:
    if row.claim.paper != paper:
      paper = row.claim.paper
      lines += ["", paper]
    lines.append(f"  [{_verdict(row)}] {row.claim.key} ({row.claim.where})")
    for label, text in (("paper", row.claim.states), ("rule", row.claim.rule),
                        ("measured", _measured(row)), ("halves", _halves(row)),
                        ("protocol", row.claim.protocol), ("deviates", _deviations(row)),
                        ("why", _why(row)), ("other", _sensitivity(row)),
                        ("2x steps", convergence(row))):
      lines += textwrap.wrap(text, width, initial_indent=f"    {label + ':':<10}",
                             subsequent_indent=" " * 14, break_on_hyphens=False,
                             break_long_words=False) or [f"    {label}:"]
    lines.append(f"    {'command:':<10}{row.command}")  # one line, to copy whole
  lines += [""] + list(notes) if notes else []
  return "\n".join(lines)


def _cell(text: str) -> str:
  """Text safe inside a Markdown table cell."""
  return " ".join(str(text).split()).replace("|", "\\|")


def render_markdown(rows: list[Row], notes: list[str] = ()) -> str:
  """The scorecard as a Markdown document with one table row per claim."""
  rows = by_paper(rows)
  lines = ["# Reproduction scorecard", "",
           "Each claim of the papers: what the paper states, the rule its verdict follows "
           "(from the paper's words; docs/CRITERIA.md), what our finished runs measure as the "
           "mean over seeds with its 95% Student-t interval, the verdicts of the means of the "
           "first and the second half of the seeds, how the run departs from the paper's "
           "protocol, the verdict (holds / partly / does not hold / inconclusive / not "
           "tested), what other defensible readings would give, and the same claim at twice "
           "the steps where that run was made. The results every verdict reads ship in "
           "`results/` (`superjax ship`): `superjax scorecard --root results --markdown` "
           "rebuilds this page from them without training; a claim without a run names the "
           "command that makes it.", "",
           f"{tally(rows)}.", "",
           "| paper | where | the paper states | rule | we measure | halves | deviations "
           "| verdict | why | other readings | at 2x steps | command |",
           "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |"]
  for row in rows:
    cells = (row.claim.paper, row.claim.where, row.claim.states, row.claim.rule,
             _measured(row), _halves(row), _deviations(row), f"**{_verdict(row)}**", _why(row),
             _sensitivity(row), convergence(row), f"`{row.command}`")
    lines.append("| " + " | ".join(_cell(c) for c in cells) + " |")
  if notes:
    lines += [""] + [f"- {_cell(note)}" for note in notes]
  return "\n".join(lines) + "\n"


# How every rule is applied; docs/CRITERIA.md opens with it.
RULES_TEXT = (
    "Every rule is applied to the mean over seeds and its 95% Student-t interval (mean +- "
    "t * s / sqrt(n)): exact for normally distributed seeds, within two points of 95% for "
    "moderately skewed ones at 3, 5 and 10 seeds (a simulation test checks both), about "
    "88-90% for strongly skewed (exponential) ones. **holds** when the interval lies inside "
    "the paper's band; **does not hold** when it lies on the wrong side of no effect, or "
    "within the smallest effect of the paper's size around no effect (\"no effect of the "
    "paper's size\": by default half the distance from no effect to the band, so a measured "
    "zero fails; a rule whose paper states only a direction has no such margin unless it "
    "names one, and fails only by reversal); **partly** when it excludes no effect on the "
    "paper's side but leaves the band; **inconclusive** when it contains no effect or "
    "fewer than 3 seeds ran; **not tested** when the run is not in the paper's regime or "
    "the claim holds there by construction. A claim of several parts combines them: all "
    "alike gives that verdict; a part not tested makes the claim not tested; a holding or "
    "partly holding part beside others gives partly, shown as e.g. \"partly (holds + does "
    "not hold)\"; otherwise inconclusive. The mean of the first and of the second half of "
    "the seeds is judged alone too, as a point (an interval over 2 or 3 seeds is too wide to "
    "replicate anything); where the halves disagree a claim cannot hold. A claim about an "
    "optimum (the lowest-loss seed per cell) is judged as that one number, and its halves "
    "are each half's own optimum.")


def render_criteria(claims: list[Claim]) -> str:
  """docs/CRITERIA.md: each claim's rule and the paper's protocol, one line each."""
  lines = ["# Criteria", "",
           "The rule each scorecard verdict follows, taken from the paper's words and numbers "
           "before our results were read, and the paper's protocol our runs are compared with. "
           + RULES_TEXT + " Generated by "
           "`superjax scorecard --criteria`.", "",
           "| claim | paper | where | rule | the paper's protocol |",
           "| --- | --- | --- | --- | --- |"]
  for claim in claims:
    lines.append("| " + " | ".join(_cell(c) for c in (
        claim.key, claim.paper, claim.where, claim.rule or "-", claim.protocol or "-")) + " |")
  return "\n".join(lines) + "\n"
