"""The matmul precision an experiment states reaches every product XLA compiles for its
run, is overridable, and is recorded in the manifest; a bad choice is one line."""

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import jax
import pytest

from superjax.core import experiment, loop, precision
from superjax.core.errors import SuperjaxError
from superjax.toy.config import tiny

ROOT = Path(__file__).resolve().parents[2]

# n x m above the hand path's unrolling threshold, so its products are dot operations.
_CONFIG = tiny().replace(name="precision", n=20, m=5, density=(0.1,), seeds=1, steps=10,
                         log_every=10, checkpoint_every=10, figures=(), reports=())

# (override, $SUPERJAX_MATMUL_PRECISION) -> the precision every dot must carry.
_CASES = {"own": (None, None, "highest"),
          "variable": (None, "default", "default"),
          "flag over variable": ("high", "default", "high")}


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
  """case -> ({program name: (lowered StableHLO, compiled HLO)} of every program the engine
  compiled for the case's run, its manifest); each case runs once, when first asked for."""
  done = {}
  original = loop._Programs._executable

  def run(case):
    if case in done:
      return done[case]
    texts = {}

    def recording(self, name, fn, args, in_shardings, out_shardings, donate=()):
      executable = original(self, name, fn, args, in_shardings, out_shardings, donate)
      # Lowered again as the loop lowers it, inside the same context.
      lowered = jax.jit(fn, in_shardings=in_shardings, out_shardings=out_shardings,
                        donate_argnums=donate).lower(*args)
      texts[name] = lowered.as_text(), executable.as_text()
      return executable

    override, variable, _ = _CASES[case]
    with pytest.MonkeyPatch.context() as patch:
      patch.setattr(loop._Programs, "_executable", recording)
      if variable:
        patch.setenv(precision.VARIABLE, variable)
      else:
        patch.delenv(precision.VARIABLE, raising=False)
      run_dir = tmp_path_factory.mktemp("run")
      experiment.run(_CONFIG, run_dir, show_progress=False, precision=override)
    done[case] = texts, json.loads((run_dir / "manifest.json").read_text())
    return done[case]

  return run


def _lowered_precisions(text: str) -> list[str]:
  """Each dot_general's precision in lowered StableHLO text."""
  found = re.findall(r"stablehlo\.dot_general.*precision = \[(\w+), \w+\]", text)
  return [value.lower() for value in found]


def _compiled_precisions(text: str) -> list[str]:
  """Each dot operation's operand precision in XLA:CPU's compiled HLO ("default" when
  unset)."""
  found = []
  for line in text.splitlines():
    if re.search(r"\bdot\(", line):
      match = re.search(r"operand_precision=\{(\w+),(\w+)\}", line)
      found.append(match.group(1) if match else "default")
  return found


@pytest.mark.parametrize("case", list(_CASES))
def test_every_product_is_compiled_at_the_chosen_precision(runs, case):
  texts, _ = runs(case)
  expected = _CASES[case][2]
  for name in ("segment", "finish"):
    lowered, compiled = texts[name]
    dots = _lowered_precisions(lowered)
    assert dots and set(dots) == {expected}, (name, dots)
    if jax.default_backend() == "cpu":  # accelerators rewrite dots into library calls
      dots = _compiled_precisions(compiled)
      assert dots and set(dots) == {expected}, (name, dots)


def test_two_precisions_compile_different_programs(runs):
  (highest, highest_compiled), (default, default_compiled) = (
      runs("own")[0]["segment"], runs("variable")[0]["segment"])
  assert highest_compiled != default_compiled
  # ... that differ in the products' precision alone.
  strip = lambda text: re.sub(r"precision = \[\w+, \w+\]", "", text)
  assert highest != default and strip(highest) == strip(default)


@pytest.mark.parametrize("case", list(_CASES))
def test_manifest_records_precision_backend_and_flags(runs, case):
  _, manifest = runs(case)
  assert manifest["matmul_precision"] == _CASES[case][2]
  assert manifest["backend"] == jax.default_backend()
  assert manifest["xla_flags"] == os.environ.get("XLA_FLAGS", "")


def test_experiment_states_a_known_precision():
  assert experiment.get("toy").precision == "highest"
  with pytest.raises(SuperjaxError, match="not a matmul precision"):
    experiment.Experiment(name="x", config=type(_CONFIG), run=None, work=None, report=None,
                          figures=None, tiny=None, precision="fast")


def test_bad_override_is_one_line_and_exit_2(tmp_path):
  env = dict(os.environ, **{precision.VARIABLE: "fast"})
  done = subprocess.run([sys.executable, "-m", "superjax", "run", "elhage_intro", "--out",
                         str(tmp_path / "run"), "--no-progress"], env=env, cwd=ROOT,
                        check=False, capture_output=True, text=True, timeout=120)
  assert done.returncode == 2
  assert done.stderr.strip().splitlines() == [
      f"superjax: error: ${precision.VARIABLE}: 'fast' is not a matmul precision; use one of "
      + ", ".join(precision.PRECISIONS)]
  assert not (tmp_path / "run").exists()
  with pytest.raises(SystemExit) as stopped:
    from superjax import cli
    cli.main(["run", "elhage_intro", "--out", str(tmp_path / "run"), "--precision", "fast"])
  assert stopped.value.code == 2
