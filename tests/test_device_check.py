"""benchmarks/device_check.py, the one command an accelerator runs, keeps working: its
reduced mode runs every section on this machine and writes the JSON and Markdown its
README describes; a JAX on the wrong backend stops it in one line."""

import json
import subprocess
import sys
from pathlib import Path

import jax
import pytest

pytestmark = pytest.mark.slow  # whole runs from the CLI or several processes

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "benchmarks" / "device_check.py"
SECTIONS = ["environment", "tests", "throughput", "torch", "elhage", "gorton", "grid"]


@pytest.fixture(scope="module")
def reduced(tmp_path_factory):
  out = tmp_path_factory.mktemp("device_check")
  done = subprocess.run([sys.executable, str(SCRIPT), "--reduced", "--out", str(out)],
                        cwd=ROOT, check=False, capture_output=True, text=True, timeout=600)
  assert done.returncode == 0, done.stderr[-2000:]
  (json_file,), (md_file,) = sorted(out.glob("*.json")), sorted(out.glob("*.md"))
  return json.loads(json_file.read_text()), md_file.read_text(), done.stdout


def test_every_section_runs_and_is_recorded(reduced):
  result, _, _ = reduced
  assert result["mode"] == "reduced" and result["format"] == 1
  assert list(result["sections"]) == SECTIONS
  for name, section in result["sections"].items():
    assert section["status"] in ("ok", "skipped"), (name, section)
    assert section["seconds"] >= 0 and section["budget_seconds"] > 0
  env = result["environment"]
  assert env["backend"] == jax.default_backend() and env["jax"] == jax.__version__
  assert env["preallocate"] == "false"
  assert env["experiment_precisions"]["toy"] == "highest"
  assert set(env["matmul"]) == {"default", "high", "highest"}
  assert result["sections"]["tests"]["passed"] >= 1 and result["sections"]["tests"]["failed"] == 0


def test_measurements_have_their_fields(reduced):
  result, _, _ = reduced
  sections = result["sections"]
  timing_keys = {"runs", "chunks", "chunk_runs", "compile_seconds", "warmup_seconds",
                 "segment_steps", "segment_seconds", "checkpoint_seconds", "finish_seconds",
                 "model_steps_per_second", "bytes_per_chunk", "budget_cut"}
  for name, row in sections["throughput"]["configs"].items():
    assert timing_keys <= set(row["timing"]), name
    assert row["timing"]["model_steps_per_second"] > 0
    assert row["whole_run"]["matmul_precision"] == "highest"
    assert {"compile_seconds", "train_seconds", "results_write_seconds"} <= set(row["whole_run"])
    assert name in result["comparison"]
  assert timing_keys <= set(sections["grid"]["timing"])
  assert sections["grid"]["runs"] == sections["grid"]["timing"]["runs"]
  extrapolation = sections["gorton"]["extrapolation"]
  assert extrapolation["steps"] == 150_000 and extrapolation["seconds"] > 0
  assert extrapolation["formula"]
  assert sections["elhage"]["whole_run"]["steps"] > 0


def test_markdown_is_written_and_printed(reduced):
  result, text, stdout = reduced
  assert text.startswith("# superjax device check")
  assert "| section | status | seconds | result |" in text
  for name in SECTIONS:
    assert f"| {name} | {result['sections'][name]['status']} |" in text
  for name in result["sections"]["throughput"]["configs"]:
    assert f"| ({name}) |" in text
  assert text.strip() in stdout


def test_a_jax_on_another_backend_is_one_line(tmp_path):
  expect = "gpu" if jax.default_backend() != "gpu" else "tpu"
  done = subprocess.run([sys.executable, str(SCRIPT), "--expect", expect, "--out",
                         str(tmp_path)], cwd=ROOT, check=False, capture_output=True, text=True,
                        timeout=300)
  assert done.returncode == 2 and "Traceback" not in done.stderr
  assert done.stderr.strip().splitlines()[-1].startswith(
      f"device_check: error: --expect {expect} but jax {jax.__version__} runs on "
      f"{jax.default_backend()}")
  assert not list(tmp_path.iterdir())
