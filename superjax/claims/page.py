"""The scorecard as one static HTML page: a summary strip, then per claim its verdict, a
forest plot of every seed's value against the paper's band, and the rule, protocol,
deviations and other readings behind it. No server, no network, no script: the plots are
inline SVG drawn by matplotlib."""

from __future__ import annotations

import html
import io
import re

import numpy as np

from superjax.claims import verdicts

# Verdict colours (a colour-blind-safe set), shared by the strip, the badges and the plots.
COLOURS = {verdicts.HOLDS: "#1b7837", verdicts.PARTLY: "#b8860b",
           verdicts.FAILS: "#b2182b", verdicts.INCONCLUSIVE: "#6a6a6a",
           verdicts.NOT_TESTED: "#2166ac"}
OTHER = "#444444"  # not run, unfinished, error

STYLE = """
body { font-family: system-ui, sans-serif; margin: 2rem auto; max-width: 72rem; color: #222;
       line-height: 1.4; }
h1 { margin-bottom: 0.2rem; }
.strip { display: flex; flex-wrap: wrap; gap: 0.4rem; margin: 1rem 0 2rem; }
.strip a { color: white; text-decoration: none; padding: 0.25rem 0.5rem; border-radius: 3px;
           font-size: 0.85rem; }
.claim { border-top: 1px solid #ccc; padding: 1rem 0; }
.badge { color: white; padding: 0.15rem 0.5rem; border-radius: 3px; font-size: 0.9rem; }
.claim h3 { margin: 0 0 0.4rem; font-size: 1.05rem; }
.claim dl { display: grid; grid-template-columns: 8rem 1fr; gap: 0.2rem 1rem; margin: 0.5rem 0;
            font-size: 0.9rem; }
.claim dt { color: #666; }
.claim dd { margin: 0; }
figure { margin: 0.5rem 0; }
figure svg { max-width: 100%; height: auto; }
code { font-size: 0.85rem; }
"""


def _status_colour(status: str) -> str:
  return COLOURS.get(status, OTHER)


def _finite_range(values, *edges) -> tuple[float, float]:
  """A plotting range covering the values and the finite edges, with a margin."""
  points = [v for v in list(np.ravel(values)) + list(edges)
            if v is not None and np.isfinite(v)]
  if not points:
    return -1.0, 1.0
  low, high = min(points), max(points)
  pad = 0.08 * (high - low) if high > low else max(abs(low) * 0.1, 0.1)
  return low - pad, high + pad


def forest_svg(parts, status: str) -> str:
  """Inline SVG: one panel per part, every seed's value (dots), the mean and the judged
  interval (bar), the paper's band (shaded), no effect (dashed) and the smallest effect of
  the paper's size around it (light); an optimum part shows its value and its halves'."""
  import matplotlib
  matplotlib.use("Agg")
  import matplotlib.pyplot as plt

  parts = list(parts)
  # Text as SVG text, not glyph paths: smaller, searchable, and each <use> is a marker.
  with plt.rc_context({"svg.fonttype": "none"}):
    return _forest(plt, parts, status)


def _forest(plt, parts, status: str) -> str:
  fig, axes = plt.subplots(len(parts), 1, figsize=(7.0, 0.9 + 0.75 * len(parts)),
                           squeeze=False)
  colour = _status_colour(status)
  for ax, part in zip(axes[:, 0], parts):
    values = verdicts.finite(part.values)
    rule = part.rule
    low, high = part.judged_interval()
    shown = (list(values) + ([] if not part.optimum else list(part.half_values))
             + [low, high])
    x0, x1 = _finite_range(shown, rule.null, *rule.band)
    band_low, band_high = (max(rule.band[0], x0), min(rule.band[1], x1))
    if band_low < band_high:
      ax.axvspan(band_low, band_high, color="#1b7837", alpha=0.12, lw=0)
    elif band_low == band_high:
      ax.axvline(band_low, color="#1b7837", lw=2, alpha=0.5)
    margin = rule.smallest_effect()
    if rule.null is not None:
      if margin is not None:
        ax.axvspan(rule.null - margin, rule.null + margin, color="#b2182b", alpha=0.08, lw=0)
      ax.axvline(rule.null, color="#555555", ls="--", lw=1)
    if part.optimum:
      ax.plot(part.half_values, [0.25, 0.25], "o", color="#888888", ms=5)
      ax.plot(values[:1], [0.0], "D", color=colour, ms=8)
    else:
      jitter = np.linspace(-0.25, 0.25, values.size) if values.size > 1 else np.zeros(1)
      ax.plot(values, 0.35 + 0.2 * jitter, "o", color="#888888", ms=4, alpha=0.8)
      if np.isfinite(low) and np.isfinite(high):
        ax.plot([low, high], [0.0, 0.0], color=colour, lw=3)
      if values.size:
        ax.plot([values.mean()], [0.0], "s", color=colour, ms=7)
    ax.set_xlim(x0, x1)
    ax.set_ylim(-0.5, 0.8)
    ax.set_yticks([])
    ax.set_title(part.name, fontsize=8, loc="left")
    ax.tick_params(axis="x", labelsize=8)
    for side in ("left", "right", "top"):
      ax.spines[side].set_visible(False)
  fig.tight_layout()
  out = io.StringIO()
  fig.savefig(out, format="svg")
  plt.close(fig)
  text = out.getvalue()
  return text[text.index("<svg"):]


def _bold(text: str) -> str:
  """Markdown's **bold** (the rules' text is shared with the Markdown pages) as HTML."""
  return re.sub(r"\*\*(.+?)\*\*", r"<strong>\1</strong>", text)


def _field(label: str, text: str) -> str:
  return f"<dt>{html.escape(label)}</dt><dd>{html.escape(text or '-')}</dd>"


def render_html(rows, notes=(), title: str = "superjax reproduction scorecard") -> str:
  """The page for scorecard rows (scorecard.Row), grouped by paper as the tables are."""
  from superjax.claims import scorecard

  rows = scorecard.by_paper(rows)
  strip = "".join(
      f'<a href="#{html.escape(r.claim.key)}" style="background:{_status_colour(r.status)}" '
      f'title="{html.escape(r.status)}">{html.escape(r.claim.key)}</a>' for r in rows)
  legend = ("Each claim: its verdict, every seed's value (grey dots) with the mean (square) "
            "and the judged interval (bar), the paper's band (green), no effect (dashed) and "
            "the smallest effect of the paper's size around it (red); a claim about an "
            "optimum shows that one value (diamond) and each half of the seeds' own (grey). "
            + scorecard.RULES_TEXT)
  body = [f"<h1>{html.escape(title)}</h1>",
          f"<p>{html.escape(scorecard.tally(rows))}. {_bold(html.escape(legend))}</p>",
          f'<nav class="strip">{strip}</nav>']
  paper = None
  for row in rows:
    if row.claim.paper != paper:
      paper = row.claim.paper
      body.append(f"<h2>{html.escape(paper)}</h2>")
    finding = row.finding
    verdict = finding.verdict_text() if finding else row.status
    parts = finding.parts if finding else ()
    plot = (f"<figure>{forest_svg(parts, row.status)}</figure>" if parts
            else "<p><em>no per-seed numbers to plot</em></p>")
    fields = "".join([
        _field("paper states", row.claim.states), _field("rule", row.claim.rule),
        _field("we measure", finding.measured if finding else "-"),
        _field("halves", " / ".join(finding.halves) if finding and finding.halves else "-"),
        _field("why", finding.reason if finding else row.problem),
        _field("other readings", "; ".join(finding.sensitivity) if finding else "-"),
        _field("at 2x steps", scorecard.convergence(row)),
        _field("protocol", row.claim.protocol),
        _field("deviations", "; ".join(finding.deviations) if finding and finding.deviations
               else "none named"),
        f"<dt>command</dt><dd><code>{html.escape(row.command)}</code></dd>"])
    body.append(
        f'<section class="claim" id="{html.escape(row.claim.key)}">'
        f'<h3><span class="badge" style="background:{_status_colour(row.status)}">'
        f"{html.escape(verdict)}</span> {html.escape(row.claim.key)} "
        f"<small>({html.escape(row.claim.where)})</small></h3>{plot}<dl>{fields}</dl></section>")
  if notes:
    body.append("<ul>" + "".join(f"<li>{html.escape(n)}</li>" for n in notes) + "</ul>")
  return ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
          f"<title>{html.escape(title)}</title><style>{STYLE}</style></head><body>"
          + "\n".join(body) + "</body></html>\n")
