"""The HTML scorecard: every claim gets a section with its verdict and a forest plot whose
points are the seeds' values, and a real headless browser renders it without errors."""

import os
import re
import shutil
import subprocess
from html.parser import HTMLParser

import numpy as np
import pytest
import xarray as xr

from superjax import cli
from superjax.claims import page, scorecard, verdicts
from superjax.claims.scorecard import Claim, Finding
from superjax.claims.verdicts import Part, Rule

RATIO = Rule(band=(1.5, 2.5), null=1.0)


def _rows(tmp_path):
  """One row per kind of finding: judged (two parts), an optimum, not tested, an error."""
  rng = np.random.default_rng(0)
  judged = Finding.judged([Part("ratio", 2.0 + 0.1 * rng.standard_normal(5), RATIO),
                           Part("zero", 1.0 + 0.01 * rng.standard_normal(5), RATIO)],
                          sensitivity=("pooled: would read holds",))
  optimum = Finding.judged([Part("kappa of the best seed", np.array([0.9]),
                                 Rule(band=(0.8, 1.0), null=0.0), optimum=True,
                                 half_values=(0.85, 0.92))])
  untested = Finding.not_tested("m", "by construction")
  claims = [Claim(f"test.{name}", "Elhage et al. 2022", "w", "states <b>", "elhage_intro",
                  lambda ds, f=f: f, rule="a rule", protocol="a protocol")
            for name, f in (("judged", judged), ("optimum", optimum), ("untested", untested))]
  rows = [scorecard.measure(c, xr.Dataset(), tmp_path, "superjax run elhage_intro")
          for c in claims]
  broken = Claim("test.broken", "Hänni et al. 2024", "w", "s", "uand_eps",
                 lambda ds: 1 / 0, rule="r", protocol="p")
  return rows + [scorecard.measure(broken, xr.Dataset(), tmp_path, "superjax run uand_eps")]


class _Sections(HTMLParser):
  """{section id: [svg elements, seed markers (grey), markers in the verdict's colour]}."""

  def __init__(self):
    super().__init__()
    self.sections, self.current, self.colour = {}, None, None

  def handle_starttag(self, tag, attrs):
    attrs = dict(attrs)
    if tag == "section":
      self.current = attrs["id"]
      self.sections[self.current] = [0, 0, 0]
    elif tag == "span" and "badge" in attrs.get("class", ""):
      self.colour = re.search(r"background:(#[0-9a-f]{6})", attrs["style"]).group(1)
    elif tag == "svg" and self.current:
      self.sections[self.current][0] += 1
    elif tag == "use" and self.current:  # matplotlib draws each marker as a <use>
      style = attrs.get("style", "")
      self.sections[self.current][1] += "fill: #888888" in style
      self.sections[self.current][2] += f"fill: {self.colour}" in style


def test_every_claim_has_a_section_and_every_seed_a_marker(tmp_path):
  rows = _rows(tmp_path)
  text = page.render_html(rows)
  parser = _Sections()
  parser.feed(text)
  assert list(parser.sections) == ["test.judged", "test.optimum", "test.untested", "test.broken"]
  # Two parts of 5 seeds: 5 grey seed dots and a mean square in the verdict's colour each.
  assert parser.sections["test.judged"] == [1, 2 * 5, 2]
  assert parser.sections["test.optimum"] == [1, 2, 1]  # two halves, and the optimum
  assert parser.sections["test.untested"][0] == 0 and parser.sections["test.broken"][0] == 0
  assert "partly (holds + does not hold (no effect of the paper&#x27;s size))" in text
  assert "states &lt;b&gt;" in text and "pooled: would read holds" in text
  for status in (verdicts.PARTLY, verdicts.HOLDS, verdicts.NOT_TESTED):
    assert page.COLOURS[status] in text


def test_scorecard_html_option_writes_the_page(tmp_path, capsys):
  out = tmp_path / "card" / "index.html"
  assert cli.main(["scorecard", "--root", str(tmp_path / "none"), "--html", str(out)]) == 0
  assert f"wrote {out}" in capsys.readouterr().out
  text = out.read_text()
  assert text.count('<section class="claim"') == len(scorecard.all_claims())
  assert cli.main(["scorecard", "--html", str(tmp_path)]) == 2


def _browser():
  found = shutil.which("chromium") or shutil.which("chromium-browser")
  if found is None:
    if os.environ.get("CI"):
      pytest.fail("no chromium: .ci/run installs Debian's chromium")
    pytest.skip("no chromium on this machine (.ci/run installs it)")
  return found


def test_a_headless_browser_renders_every_section_without_errors(tmp_path):
  browser = _browser()
  path = tmp_path / "card.html"
  path.write_text(page.render_html(_rows(tmp_path)))
  done = subprocess.run(
      [browser, "--headless", "--no-sandbox", "--disable-gpu", "--enable-logging=stderr",
       "--v=0", "--dump-dom", path.as_uri()],
      capture_output=True, text=True, timeout=120, check=False)
  assert done.returncode == 0, done.stderr[-2000:]
  dom = done.stdout
  # The browser's own DOM after parsing: every section, with its plot where it has one.
  sections = re.findall(r'<section class="claim" id="([^"]+)">(.*?)</section>', dom, re.DOTALL)
  assert [name for name, _ in sections] == ["test.judged", "test.optimum", "test.untested",
                                            "test.broken"]
  assert all("<svg" in body for name, body in sections if name in ("test.judged",
                                                                   "test.optimum"))
  assert "CONSOLE" not in done.stderr and "Uncaught" not in done.stderr
