"""Every benchmark script runs in its reduced mode (seconds, tiny settings) and writes its
JSON, so none can rot unnoticed when the engine changes (anchors.py and
torch_instances.py run inside throughput.py's; device_check.py has its own test). The
numbers are not checked: benchmarks measure, tests never assert a wall-clock time."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parents[2] / "benchmarks"


@pytest.mark.slow
@pytest.mark.parametrize("script, args", [
    ("chunks.py", []),
    ("memory.py", []),
    ("profile_step.py", []),
    ("trace_step.py", ["a"]),
    ("throughput.py", []),  # with the notebook and expert anchors and PyTorch
    ("saelens_throughput.py", []),  # beside SAELens
    ("saelens_ground_truth.py", ["--kinds", "relu,topk"]),
])
def test_reduced_mode_runs_and_saves_json(tmp_path, script, args):
  done = subprocess.run([sys.executable, str(HERE / script), *args, "--reduced", "--out",
                         str(tmp_path)], check=False, capture_output=True, text=True,
                        timeout=600)
  assert done.returncode == 0, done.stderr[-2000:]
  (saved,) = tmp_path.glob("*.json")
  assert json.loads(saved.read_text())
