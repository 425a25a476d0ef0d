"""Everything that needs an accelerator, as one prepared command of at most 8 minutes.

    python benchmarks/device_check.py [--expect gpu|tpu] [--reduced] [--out DIR]

Sections, each a child process run one after another (one process on the device at a
time, none preallocating: XLA_PYTHON_CLIENT_PREALLOCATE=false is set before any JAX
starts), each with a time budget it scales down to fit and says so:

  environment  versions, the device, XLA_FLAGS, each experiment's matmul precision, and
               a float32 product's error and rate at each precision
  tests        the sharding, resume and precision tests in one pytest process
  throughput   configs (a), (b), (c) of superjax.toy.bench: synced training segments
               after a warm-up (compile + one segment), fixed costs (compile, one
               checkpoint, finish, a whole run's results write) apart
  torch        the same grids by benchmarks/torch_instances.py, only where PyTorch sees
               the device JAX runs on (else left out, with the reason)
  elhage       `superjax run elhage_phase_n2m1` at its sweep defaults, times from its manifest
  gorton       gorton_adversarial_training for a few thousand steps, extrapolated to the
               preprint's 150,000
  grid         a 100,000-run n=2, m=1 grid: model-steps/s, chunks, peak device memory

The backend is asserted first: on a host with a GPU or TPU (or with --expect) a JAX that
runs on the CPU stops the check with one line. On a CPU host the check runs `--reduced`
(tiny steps and grids through the same code paths, well under a minute on 2 cores) and
says so. Writes device_check-DATE.json and .md under --out (default benchmarks/results/)
and prints the Markdown.
"""

from __future__ import annotations

import argparse
import datetime
import glob
import json
import os
import platform
import re
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from xml.etree import ElementTree

import numpy as np

# Two processes on one GPU each preallocating 75% of its memory starve each other; set
# before JAX starts here or in any child.
os.environ["XLA_PYTHON_CLIENT_PREALLOCATE"] = "false"

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
# The checkout this script sits in is the one measured, whatever superjax is installed.
sys.path[:0] = [str(ROOT), str(HERE)]

BUDGET_SECONDS = 480  # the whole check on an accelerator
# Each section's limit in seconds on an accelerator (the child is stopped past it) and the
# share of it its measurements may fill before they scale down.
BUDGETS = {"environment": 35, "tests": 150, "throughput": 75, "torch": 40, "elhage": 60,
           "gorton": 75, "grid": 40}
REDUCED_BUDGET = 120  # per section, where tiny sizes finish in seconds
SOFT_SHARE = 0.5
# The tests that exercise sharding, checkpoints and precision on the device (the reduced
# check runs one quick test, to keep the path alive).
TESTS = ["tests/core/test_sharding.py", "tests/core/test_resume.py",
         "tests/core/test_precision.py"]
REDUCED_TESTS = ["tests/core/test_precision.py::test_experiment_states_a_known_precision"]
# PCI vendors of the accelerators looked for: NVIDIA, Google (TPU).
_VENDORS = {"0x10de": "gpu", "0x1ae0": "tpu"}


class CheckFailed(Exception):
  """Stops the check with one line."""


# Child sections: each reads its parameters and returns a JSON-ready dict.


def _setup_jax():
  from superjax.core import host
  host.setup()  # as `superjax run` does
  import jax
  return jax


def _toy_precision() -> str:
  from superjax.core import experiment, precision
  return precision.resolve(experiment.get("toy").precision)


def _matmul(jax, reduced: bool) -> dict:
  """A float32 product's relative error against float64 (1024^2 operands) and its rate
  (superjax.toy.bench's peak product), per precision."""
  from superjax.core import precision
  from superjax.toy import bench
  rng = np.random.default_rng(0)
  a, b = (rng.standard_normal((1024, 1024)).astype(np.float32) for _ in range(2))
  exact = a.astype(np.float64) @ b.astype(np.float64)
  out = {}
  for value in ("default", "high", "highest"):
    with precision.applied(value):
      product = np.asarray(jax.jit(lambda x, y: x @ y)(a, b), np.float64)
      gflops = bench.matmul_peak_gflops(size=256 if reduced else None,
                                        repeats=3 if reduced else 10)
    out[value] = {"relative_error": float(np.abs(product - exact).max() / np.abs(exact).max()),
                  "gflops": round(gflops, 1)}
  return out


def section_environment(params: dict) -> dict:
  jax = _setup_jax()
  from importlib import metadata

  from superjax.core import experiment, precision
  device = jax.devices()[0]
  out = {"python": platform.python_version(), "machine": platform.machine(),
         "cpu_cores": len(os.sched_getaffinity(0)), "jax": jax.__version__,
         "jaxlib": metadata.version("jaxlib"), "backend": jax.default_backend(),
         "device_kind": device.device_kind, "device_count": jax.device_count(),
         "process_count": jax.process_count(), "xla_flags": os.environ.get("XLA_FLAGS", ""),
         "preallocate": os.environ.get("XLA_PYTHON_CLIENT_PREALLOCATE"),
         "precision_override": os.environ.get(precision.VARIABLE),
         "experiment_precisions": {name: precision.resolve(experiment.get(name).precision)
                                   for name in experiment.names()}}
  out["matmul"] = _matmul(jax, params["reduced"])
  return out


def _torch_device() -> dict:
  """PyTorch's version and the device it would train on."""
  try:
    import torch
  except ImportError:
    return {"torch": None, "torch_cuda": False, "torch_device": None}
  cuda = torch.cuda.is_available()
  return {"torch": torch.__version__, "torch_cuda_build": torch.version.cuda,
          "torch_cuda": cuda, "torch_device": torch.cuda.get_device_name(0) if cuda else "cpu",
          # 'highest' (no TF32) by default, as superjax's toy models run.
          "torch_matmul_precision": torch.get_float32_matmul_precision()}


def _sweep_config(name: str, reduced: bool):
  """Config (a), (b) or (c) of superjax.toy.bench as a whole run of it trains; reduced:
  a few runs of the same shapes."""
  from superjax.toy import bench
  from superjax.toy.config import SweepConfig
  overrides = dict(bench.CONFIGS[name][1])
  if reduced:
    overrides.update(steps=10, seeds=1, density=overrides["density"][:3],
                     relative_importance=overrides.get("relative_importance", (1.0,))[:3])
  log_every = 5 if reduced else 250
  return SweepConfig(name=f"device_check_{name}", models=("relu",), batch=1024,
                     log_every=log_every, checkpoint_every=overrides["steps"],
                     eval_batch=1024 if reduced else 8192, **overrides)


def _timed(cfg, segments: int, budget: float, run_dir: Path) -> dict:
  """Synced segments of cfg's toy pass at the toy's precision (benchmarks/timing.py)."""
  import timing

  from superjax.core import precision
  from superjax.toy import run
  with precision.applied(_toy_precision()):
    timed = timing.time_segments(run.passes(cfg, run_dir)["relu"], segments,
                                 budget_seconds=budget)
  return timed.to_dict()


def _whole_run(cfg, run_dir: Path) -> dict:
  """`superjax run` of cfg (no figures); its manifest's timings and the results write."""
  from superjax.core.experiment import run
  t0 = time.perf_counter()
  run(cfg, run_dir, show_progress=False)
  wall = time.perf_counter() - t0
  manifest = json.loads((run_dir / "manifest.json").read_text())
  timings = manifest["timings"]
  return {"steps": cfg.steps, "runs": cfg.run_count, "wall_seconds": round(wall, 3),
          "compile_seconds": timings["relu"]["compile_seconds"],
          "train_seconds": timings["relu"]["train_seconds"],
          "total_seconds": timings["total_seconds"],
          # Written after the manifest's total: results, manifest, lock.
          "results_write_seconds": round(wall - timings["total_seconds"], 3),
          "matmul_precision": manifest["matmul_precision"]}


def _peaks() -> dict:
  from superjax.toy import bench
  return {"peak_device_mib": bench.device_peak_mib(),
          "peak_rss_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)}


def section_throughput(params: dict) -> dict:
  _setup_jax()
  from superjax.toy import bench, train
  reduced, budget = params["reduced"], params["soft_seconds"]
  configs = {}
  with tempfile.TemporaryDirectory() as tmp:
    # Reduced: (a) takes the einsum path, (b) the unrolled one, as (c) would take (a)'s.
    for name in "ab" if reduced else "abc":
      cfg = _sweep_config(name, reduced)
      timed = _timed(cfg, 2 if reduced else 40, budget / 3 / 2, Path(tmp) / f"{name}_timed")
      whole = _whole_run(cfg, Path(tmp) / f"{name}_run")
      rate = timed["model_steps_per_second"]
      configs[name] = {
          "description": bench.CONFIGS[name][0], "n": cfg.n, "m": cfg.m, "batch": cfg.batch,
          "runs": cfg.run_count, "timing": timed, "whole_run": whole,
          # What the whole run spent on anything but its steps at the timed rate.
          "fixed_seconds": round(whole["wall_seconds"] - whole["runs"] * whole["steps"] / rate,
                                 3),
          "densities": np.asarray(train.hparams(cfg).density).round(6).tolist()}
  return {"precision": _toy_precision(), "configs": configs, **_peaks()}


def section_torch(params: dict) -> dict:
  found = _torch_device()
  if found["torch"] is None:
    return {**found, "skipped": "PyTorch is not installed"}
  if params["backend"] != "cpu" and not found["torch_cuda"]:
    return {**found, "skipped": f"JAX runs on {params['backend']} but PyTorch "
            f"{found['torch']} sees no GPU (a CPU build?): a ratio would compare two devices"}
  if params["backend"] == "tpu":
    return {**found, "skipped": "PyTorch does not run on the TPU JAX runs on"}
  import torch_instances
  configs = {}
  soft = params["soft_seconds"] / max(len(params["configs"]), 1)
  for name, grid in params["configs"].items():
    # A short probe sizes the timed run to the budget.
    probe_steps = 2 if params["reduced"] else 20
    rate = torch_instances.model_steps_per_second(grid["n"], grid["m"], grid["densities"],
                                                  probe_steps, batch=grid["batch"])
    runs = len(grid["densities"])
    steps = probe_steps if params["reduced"] else int(
        min(2000, max(probe_steps, soft / 2 * rate / runs)))
    if steps != probe_steps:
      rate = torch_instances.model_steps_per_second(grid["n"], grid["m"], grid["densities"],
                                                    steps, batch=grid["batch"])
    configs[name] = {"runs": runs, "steps": steps, "model_steps_per_second": rate}
  return {**found, "configs": configs}


def section_elhage(params: dict) -> dict:
  _setup_jax()
  from superjax.core import sweeps
  cfg = sweeps.load("elhage_phase_n2m1")
  default_steps, note = cfg.steps, None
  if params["reduced"]:
    cfg = cfg.replace(steps=40, log_every=20, checkpoint_every=40, seeds=1, eval_batch=1024)
    note = "reduced: 40 steps, 1 seed"
  elif params.get("rate_b"):
    # Config (b) is this grid's shape: its rate predicts the training time.
    predicted = cfg.run_count * cfg.steps / params["rate_b"]
    if predicted > params["soft_seconds"]:
      steps = max(cfg.log_every, int(params["soft_seconds"] * params["rate_b"] / cfg.run_count)
                  // cfg.log_every * cfg.log_every)
      note = (f"scaled down from {cfg.steps:,} to {steps:,} steps: at config (b)'s rate the "
              f"defaults would train {predicted:.0f} s, over this section's budget")
      cfg = cfg.replace(steps=steps)
  with tempfile.TemporaryDirectory() as tmp:
    whole = _whole_run(cfg, Path(tmp) / "run")
  rate = whole["runs"] * whole["steps"] / max(whole["train_seconds"] - whole["compile_seconds"],
                                              1e-9)
  return {"default_steps": default_steps, "note": note, "whole_run": whole,
          # Model-steps per second of the loop's own time (segments, checkpoints, evaluation).
          "loop_model_steps_per_second": rate,
          "training_at_b_rate_seconds": (round(whole["runs"] * whole["steps"] / params["rate_b"],
                                               3) if params.get("rate_b") else None),
          **_peaks()}


def section_gorton(params: dict) -> dict:
  _setup_jax()
  from superjax.core import sweeps
  preprint = cfg = sweeps.load("gorton_adversarial_training")
  if params["reduced"]:
    cfg = cfg.replace(steps=10, log_every=5, checkpoint_every=10, snapshot_at=(), seeds=1,
                      density=tuple(np.geomspace(1.0, 0.1, 2).tolist()), eval_batch=256,
                      eval_attacks=("gorton",))
  else:
    cfg = cfg.replace(steps=2000, log_every=500, checkpoint_every=2000, snapshot_at=())
  soft = params["soft_seconds"]
  with tempfile.TemporaryDirectory() as tmp:
    timed = _timed(cfg, 2 if params["reduced"] else 10, soft / 4, Path(tmp) / "timed")
    rate = timed["model_steps_per_second"]
    note = None
    if not params["reduced"] and cfg.run_count * cfg.steps / rate > soft / 3:
      steps = max(cfg.log_every, int(soft / 3 * rate / cfg.run_count) // cfg.log_every
                  * cfg.log_every)
      note = f"whole run scaled down from {cfg.steps:,} to {steps:,} steps to fit the budget"
      cfg = cfg.replace(steps=steps, checkpoint_every=steps)
    whole = _whole_run(cfg, Path(tmp) / "run")
  # The sweep as the preprint runs it: its steps, its saves, and a finish at the end and
  # at each snapshot length (measured inside the one finish, one evaluation each).
  runs, steps = preprint.run_count, preprint.steps
  saves = steps // preprint.checkpoint_every
  evaluations = 1 + len(preprint.snapshot_at)
  train = runs * steps / rate
  seconds = (timed["compile_seconds"] + train + saves * timed["checkpoint_seconds"]
             + evaluations * (timed["finish_seconds"] or 0) * runs / cfg.run_count)
  return {"steps": cfg.steps, "runs": cfg.run_count, "note": note, "timing": timed,
          "whole_run": whole,
          "extrapolation": {
              "steps": steps, "runs": runs, "seconds": round(seconds, 1),
              "train_seconds": round(train, 1),
              "formula": (f"compile + {runs} runs x {steps:,} steps at the timed "
                          f"model-steps/s + {saves} checkpoints x one timed save + "
                          f"{evaluations} evaluations x the timed finish x {runs} / "
                          f"{cfg.run_count} runs (saves not scaled by runs)")},
          **_peaks()}


def section_grid(params: dict) -> dict:
  _setup_jax()
  from superjax.toy.config import SweepConfig
  side, importances, seeds = (10, 10, 10) if params["reduced"] else (50, 20, 100)
  steps = 5 if params["reduced"] else 50
  cfg = SweepConfig(name="device_check_grid", n=2, m=1, steps=steps * 20, seeds=seeds,
                    density=tuple(np.logspace(-2, 0, side).tolist()),
                    relative_importance=tuple(np.logspace(-1, 1, importances).tolist()),
                    log_every=steps, checkpoint_every=steps * 20, eval_batch=1024)
  with tempfile.TemporaryDirectory() as tmp:
    timed = _timed(cfg, 2 if params["reduced"] else 10, params["soft_seconds"],
                   Path(tmp) / "timed")
  return {"runs": cfg.run_count, "n": cfg.n, "m": cfg.m, "batch": cfg.batch,
          "timing": timed, **_peaks()}


SECTIONS = {"environment": section_environment, "throughput": section_throughput,
            "torch": section_torch, "elhage": section_elhage, "gorton": section_gorton,
            "grid": section_grid}


# The parent: no JAX here, only children, one at a time.


def _child_env() -> dict:
  env = dict(os.environ, PYTHONPATH=os.pathsep.join(
      [str(ROOT)] + [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p]))
  # A check started inside a pytest-xdist worker must not share (and remove) its cache.
  for name in [n for n in env if n.startswith("PYTEST_")]:
    del env[name]
  return env


def _call(command: list[str], timeout: float) -> tuple[subprocess.CompletedProcess, bool]:
  """`command` from the repository root with the children's environment, and whether it
  ran past `timeout`, when it is killed with every process it started (a test's CLI
  runs); what it wrote until then is kept."""
  with subprocess.Popen(command, cwd=ROOT, env=_child_env(), stdout=subprocess.PIPE,
                        stderr=subprocess.PIPE, text=True, start_new_session=True) as child:
    try:
      stdout, stderr = child.communicate(timeout=timeout)
      timed_out = False
    except subprocess.TimeoutExpired:
      os.killpg(child.pid, signal.SIGKILL)
      stdout, stderr = child.communicate()
      timed_out = True
  return subprocess.CompletedProcess(command, child.returncode, stdout, stderr), timed_out


def _tail(done: subprocess.CompletedProcess) -> list[str]:
  return (done.stdout + done.stderr).strip().splitlines()


def _run_child(section: str, params: dict, timeout: float, scratch: Path) -> dict:
  """A section in a child process; its dict, or the reason it has none."""
  params_file, result_file = scratch / f"{section}.params.json", scratch / f"{section}.json"
  params_file.write_text(json.dumps(params))
  t0 = time.perf_counter()
  done, timed_out = _call([sys.executable, str(Path(__file__).resolve()), "--section",
                           section, "--params", str(params_file), "--result", str(result_file)],
                          timeout)
  seconds = round(time.perf_counter() - t0, 1)
  if timed_out:
    return {"status": "timed out", "seconds": seconds,
            "error": f"stopped at its {timeout:.0f} s limit", "log_tail": _tail(done)[-30:]}
  if done.returncode != 0 or not result_file.exists():
    lines = _tail(done) or [f"exit {done.returncode}"]
    return {"status": "failed", "seconds": seconds, "error": lines[-1][:300],
            "log_tail": lines[-30:]}
  out = json.loads(result_file.read_text())
  status = "skipped" if out.get("skipped") else "ok"
  return {"status": status, "seconds": seconds, **out}


def _run_tests(files: list[str], timeout: float, scratch: Path) -> dict:
  """The test files in ONE pytest process (no xdist workers): counts from its JUnit XML,
  or, when it was stopped at its limit, from the outcomes it had printed."""
  report = scratch / "tests.xml"
  t0 = time.perf_counter()
  done, timed_out = _call([sys.executable, "-m", "pytest", "-n", "0", "-v", "-p",
                           "no:cacheprovider", f"--junitxml={report}", *files], timeout)
  seconds = round(time.perf_counter() - t0, 1)
  tail = _tail(done)
  if report.exists() and not timed_out:
    suite = ElementTree.parse(report).getroot()
    suite = suite if suite.tag == "testsuite" else suite.find("testsuite")
    outcomes = {}
    for case in suite.iter("testcase"):
      bad = case.find("failure") is not None or case.find("error") is not None
      outcomes[f"{case.get('classname')}::{case.get('name')}"] = (
          "FAILED" if bad else "SKIPPED" if case.find("skipped") is not None else "PASSED")
  else:  # `-v` prints "path::test PASSED" as each test ends
    outcomes = dict(re.findall(r"^(\S+::\S+) (PASSED|FAILED|ERROR|SKIPPED)", done.stdout,
                               re.MULTILINE))
  failures = [name for name, outcome in outcomes.items() if outcome in ("FAILED", "ERROR")]
  counts = {k: sum(o == v for o in outcomes.values())
            for k, v in (("passed", "PASSED"), ("skipped", "SKIPPED"))}
  if timed_out:
    status, error = "timed out", f"stopped at its {timeout:.0f} s limit"
  elif not outcomes:
    status, error = "failed", tail[-1][:300] if tail else f"pytest exit {done.returncode}"
  else:
    status, error = ("failed" if failures else "ok"), None
  return {"status": status, "seconds": seconds, "files": files, **counts,
          "failed": len(failures), "failures": failures, "error": error,
          "log_tail": tail[-30:] if status != "ok" else []}


def _present_accelerator() -> str | None:
  """'gpu' or 'tpu' when this host has one, whatever JAX can use: an NVIDIA device node,
  a TPU's /dev/accel node, or either vendor's PCI device (a display or processing
  accelerator class, not e.g. an NVIDIA network card)."""
  if glob.glob("/dev/nvidia[0-9]*"):
    return "gpu"
  if glob.glob("/dev/accel[0-9]*"):
    return "tpu"
  for device in glob.glob("/sys/bus/pci/devices/*"):
    try:
      vendor = Path(device, "vendor").read_text().strip()
      kind = Path(device, "class").read_text().strip()
    except OSError:
      continue
    if vendor in _VENDORS and kind[:4] in ("0x03", "0x12"):
      return _VENDORS[vendor]
  return None


def _comparison(throughput: dict, torch: dict, backend: str) -> dict:
  """superjax / PyTorch per config, where both ran on the same kind of device."""
  out = {}
  for name, row in throughput.get("configs", {}).items():
    rate = row["timing"]["model_steps_per_second"]
    theirs = torch.get("configs", {}).get(name)
    if theirs is None:
      reason = torch.get("skipped") or torch.get("error") or "the PyTorch reference did not run"
      out[name] = {"superjax": rate, "torch": None, "ratio": None, "reason": reason}
    else:
      out[name] = {"superjax": rate, "torch": theirs["model_steps_per_second"],
                   "ratio": rate / theirs["model_steps_per_second"], "reason": None,
                   "devices": f"superjax on {backend}, PyTorch on {torch['torch_device']}"}
  return out


def check(args) -> dict:
  started = datetime.datetime.now(datetime.UTC)
  t_start = time.perf_counter()
  deadline = t_start + BUDGET_SECONDS
  scratch = Path(tempfile.mkdtemp(prefix="device_check-"))
  # A fresh compilation cache: compile times are cold, as on a fresh host.
  os.environ["SUPERJAX_COMPILATION_CACHE"] = str(scratch / "xla")
  try:
    return _check(args, started, t_start, deadline, scratch)
  finally:
    shutil.rmtree(scratch, ignore_errors=True)


def _check(args, started, t_start, deadline, scratch) -> dict:
  present = _present_accelerator()
  expect = args.expect or present
  # Until JAX has named its backend, a host without an accelerator is taken for reduced.
  reduced = args.reduced or expect is None
  sections = {}

  def limit(name: str) -> float:
    budget = REDUCED_BUDGET if reduced else BUDGETS[name]
    return budget if reduced else min(budget, deadline - time.perf_counter())

  def run(name: str, params: dict | None = None) -> dict:
    """Section `name` within its limit: a child given `params`, or the tests."""
    seconds = limit(name)
    if seconds < 5:
      result = {"status": "skipped", "seconds": 0,
                "skipped": "no time left in the 8-minute budget"}
    elif name == "tests":
      result = _run_tests(REDUCED_TESTS if reduced else TESTS, seconds, scratch)
    else:
      result = _run_child(name, dict(params, reduced=reduced, soft_seconds=SOFT_SHARE * seconds),
                          seconds, scratch)
    sections[name] = dict(result, budget_seconds=REDUCED_BUDGET if reduced else BUDGETS[name])
    print(f"device_check: {name}: {result['status']} in {result['seconds']} s",
          file=sys.stderr, flush=True)
    return sections[name]

  environment = run("environment", {})
  if environment["status"] != "ok":
    raise CheckFailed(f"JAX did not start: {environment.get('error')}")
  backend = environment["backend"]
  if expect is not None and backend != expect:
    wanted = f"--expect {args.expect}" if args.expect else f"a {present.upper()} is present"
    raise CheckFailed(
        f"{wanted} but jax {environment['jax']} runs on {backend}: install JAX's build for "
        'the device (pip install -e ".[gpu]" or ".[tpu]") and check it sees the device')
  expect = expect or backend  # nothing found on the host: JAX's word
  reduced = args.reduced or backend == "cpu"
  if reduced and not args.reduced:
    print("device_check: no accelerator here, so the reduced check runs (tiny steps and "
          "grids through the same code paths)", file=sys.stderr, flush=True)

  run("tests")
  throughput = run("throughput", {})
  grids = {name: {k: row[k] for k in ("n", "m", "batch", "densities")}
           for name, row in throughput.get("configs", {}).items()}
  torch = run("torch", {"backend": backend, "configs": grids})
  rate_b = throughput.get("configs", {}).get("b", {}).get("timing", {}).get(
      "model_steps_per_second")
  run("elhage", {"rate_b": rate_b})
  run("gorton", {})
  run("grid", {})
  for row in throughput.get("configs", {}).values():
    row.pop("densities", None)  # passed to the reference only
  return {
      "format": 1, "started": started.isoformat(timespec="seconds"),
      "wall_seconds": round(time.perf_counter() - t_start, 1),
      "mode": "reduced" if reduced else "full",
      "expected_backend": expect, "accelerator_present": present,
      "budget_seconds": None if reduced else BUDGET_SECONDS,
      "environment": environment,
      "torch": {k: torch.get(k) for k in ("torch", "torch_cuda_build", "torch_cuda",
                                          "torch_device", "torch_matmul_precision")},
      "comparison": _comparison(throughput, torch, backend),
      "sections": sections,
  }


def _fmt(value, digits: int = 0) -> str:
  if value is None:
    return "-"
  return f"{value:,.{digits}f}"


def markdown(result: dict) -> str:
  """The check as Markdown: environment, a line per section, throughput beside PyTorch."""
  env, sections, torch = result["environment"], result["sections"], result["torch"]
  lines = [f"# superjax device check ({result['started']}, {result['mode']})", ""]
  if result["mode"] == "reduced":
    lines += [("Reduced: tiny steps and grids, run to keep the command working; its rates, "
               "ratios and extrapolations measure nothing."), ""]
  lines += [
      (f"- device: {env['device_count']} x {env['device_kind']} ({env['backend']}), "
       f"{env['cpu_cores']} CPU cores, {env['machine']}"),
      (f"- jax {env['jax']}, jaxlib {env['jaxlib']}, torch {torch.get('torch') or '-'} "
       f"(sees CUDA: {'yes' if torch.get('torch_cuda') else 'no'}, trains on "
       f"{torch.get('torch_device') or '-'})"),
      (f"- XLA_FLAGS: `{env['xla_flags'] or '(none)'}`, "
       f"XLA_PYTHON_CLIENT_PREALLOCATE={env['preallocate']}"),
      "- matmul precision per experiment: " + ", ".join(
          f"{k} {v}" for k, v in env["experiment_precisions"].items()),
      "- a float32 product at each precision (max relative error, GFLOP/s): " + ", ".join(
          f"{k} {v['relative_error']:.1e}, {v['gflops']:,.0f}"
          for k, v in env["matmul"].items()),
      f"- wall time {result['wall_seconds']} s"
      + (f" of {result['budget_seconds']} s" if result["budget_seconds"] else ""), "",
      "| section | status | seconds | result |", "|---|---|---|---|"]
  for name, s in sections.items():
    lines.append(f"| {name} | {s['status']} | {s['seconds']} | {_summary(name, s)} |")
  lines += ["", ("| cfg | runs | superjax model-steps/s | PyTorch model-steps/s | ratio | "
                 "compile s | warm-up s | checkpoint s | finish s | results write s | fixed s |"),
            "|---|---|---|---|---|---|---|---|---|---|---|"]
  for name, row in sections["throughput"].get("configs", {}).items():
    t, cmp = row["timing"], result["comparison"][name]
    ratio = f"{cmp['ratio']:.1f}x" if cmp["ratio"] else f"- ({cmp['reason']})"
    lines.append(f"| ({name}) | {row['runs']:,} | {_fmt(t['model_steps_per_second'])} | "
                 f"{_fmt(cmp['torch'])} | {ratio} | {t['compile_seconds']:.2f} | "
                 f"{t['warmup_seconds']:.2f} | {t['checkpoint_seconds']:.2f} | "
                 f"{_fmt(t['finish_seconds'], 2)} | "
                 f"{row['whole_run']['results_write_seconds']:.2f} | "
                 f"{row['fixed_seconds']:.2f} |")
  return "\n".join(lines) + "\n"


def _summary(name: str, s: dict) -> str:
  """One cell: what the section found."""
  if name == "tests" and "passed" in s:
    return (f"{s['passed']} passed, {s['failed']} failed, {s['skipped']} skipped"
            + (f"; {s['error']}" if s["error"] else ""))
  if s["status"] != "ok":
    return (s.get("error") or s.get("skipped") or "").replace("|", "/")
  if name == "environment":
    return f"{s['backend']}, {s['device_count']} x {s['device_kind']}"
  if name == "throughput":
    return "precision " + s["precision"] + "; " + ", ".join(
        f"({k}) {_fmt(r['timing']['model_steps_per_second'])}" for k, r in s["configs"].items())
  if name == "torch":
    return f"on {s['torch_device']}: " + ", ".join(
        f"({k}) {_fmt(r['model_steps_per_second'])}" for k, r in s["configs"].items())
  if name == "elhage":
    w = s["whole_run"]
    return (f"{w['runs']:,} runs x {w['steps']:,} steps: wall {w['wall_seconds']:.1f} s, "
            f"compile {w['compile_seconds']:.1f} s, loop {w['train_seconds']:.1f} s, "
            f"results write {w['results_write_seconds']:.1f} s"
            + (f"; {s['note']}" if s["note"] else ""))
  if name == "gorton":
    x = s["extrapolation"]
    return (f"{_fmt(s['timing']['model_steps_per_second'])} model-steps/s; "
            f"{x['runs']} runs x {x['steps']:,} steps extrapolated: {x['seconds'] / 60:.1f} min"
            + (f"; {s['note']}" if s["note"] else ""))
  if name == "grid":
    t = s["timing"]
    return (f"{s['runs']:,} runs: {_fmt(t['model_steps_per_second'])} model-steps/s, "
            f"{t['chunks']} chunk(s) of {t['chunk_runs']:,}, XLA's estimate "
            f"{t['bytes_per_chunk'] / 2 ** 20:,.0f} MiB per chunk, peak device "
            f"{_fmt(s['peak_device_mib'])} MiB")
  return ""


def main() -> int:
  parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  parser.add_argument("--expect", choices=("gpu", "tpu"),
                      help="the backend JAX must run on (default: the accelerator present)")
  parser.add_argument("--reduced", action="store_true",
                      help="tiny steps and grids (chosen by itself on a CPU host)")
  parser.add_argument("--out", type=Path, default=HERE / "results",
                      help="folder for the JSON and Markdown (default: benchmarks/results)")
  parser.add_argument("--section", choices=list(SECTIONS), help=argparse.SUPPRESS)
  parser.add_argument("--params", type=Path, help=argparse.SUPPRESS)
  parser.add_argument("--result", type=Path, help=argparse.SUPPRESS)
  args = parser.parse_args()
  if args.section:  # a child
    result = SECTIONS[args.section](json.loads(args.params.read_text()))
    args.result.write_text(json.dumps(result, indent=2))
    return 0
  try:
    args.out.mkdir(parents=True, exist_ok=True)
  except OSError as e:
    print(f"device_check: error: --out {args.out}: {e.strerror}", file=sys.stderr)
    return 2
  try:
    result = check(args)
  except CheckFailed as e:
    print(f"device_check: error: {e}", file=sys.stderr)
    return 2
  stamp = datetime.datetime.now().strftime("%Y%m%d-%H%M%S")
  text = markdown(result)
  (args.out / f"device_check-{stamp}.json").write_text(json.dumps(result, indent=2))
  (args.out / f"device_check-{stamp}.md").write_text(text)
  print(text)
  print(f"saved {args.out / f'device_check-{stamp}'}.json and .md")
  failed = [name for name, s in result["sections"].items()
            if s["status"] in ("failed", "timed out")]
  return 1 if failed else 0


if __name__ == "__main__":
  sys.exit(main())
