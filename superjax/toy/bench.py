"""Throughput of whole `superjax run`s on this machine, for `superjax bench` and
benchmarks/throughput.py.

Each configuration runs in a fresh subprocess (so its peak memory is its own) through
the core loop exactly as `superjax run` does: checkpoints, metrics and results included.
The rate counts model-steps (one optimiser step of one toy model on a batch) per second
of training after compilation; compile time is reported beside it.
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

# name -> (description, config overrides). Batch 1024 throughout.
CONFIGS = {
    "a": ("n=100, m=20 x 30 densities (Gorton & Lewis)",
          dict(n=100, m=20, density=tuple(np.geomspace(1, 0.1, 30).tolist()), steps=2000)),
    "b": ("n=2, m=1 x 4,000 runs (phase diagram)",
          dict(n=2, m=1, density=tuple(np.logspace(-2, 0, 20).tolist()),
               relative_importance=tuple(np.logspace(-1, 1, 20).tolist()), seeds=10, steps=500)),
    "c": ("n=200, m=20 x 20 densities (geometry)",
          dict(n=200, m=20, density=tuple(np.logspace(0, -2.5, 20).tolist()), steps=1000)),
}


def flops_per_model_step(n: int, m: int, batch: int) -> float:
  """Matmul FLOPs of one clean training step of the tied ReLU model: five (batch x n x m)
  products, two forward (h = x W^T, z = h W) and three backward (dz W^T, h^T dz, da^T x).
  (No input gradient is needed, so there is no sixth.)"""
  return 5 * 2.0 * batch * n * m


def matmul_peak_gflops(size: int | None = None, repeats: int = 20) -> float:
  """Best observed float32 matmul rate on the default device, in GFLOP/s (at the default
  matmul precision, the one training uses). An accelerator needs a larger product than a
  CPU to reach its peak."""
  import jax
  if size is None:
    size = 2048 if jax.default_backend() == "cpu" else 8192
  a = jax.random.normal(jax.random.key(0), (size, size))  # timing only
  f = jax.jit(lambda a: a @ a)
  f(a).block_until_ready()
  best = np.inf
  for _ in range(repeats):
    t0 = time.perf_counter()
    f(a).block_until_ready()
    best = min(best, time.perf_counter() - t0)
  return 2 * size ** 3 / best / 1e9


def run_one(name: str, steps: int | None = None, **settings) -> dict:
  """Trains config `name` through the core loop in this process; returns its
  measurements. `settings` override the config's (gradients, train_attack, ...)."""
  import jax

  from superjax.core.experiment import run
  from superjax.toy.config import SweepConfig
  overrides = dict(CONFIGS[name][1], **{k: tuple(v) if isinstance(v, list) else v
                                        for k, v in settings.items()})
  if steps:
    overrides["steps"] = steps
  cfg = SweepConfig(name=f"bench_{name}", models=("relu",), batch=1024, log_every=250,
                    checkpoint_every=10_000, **overrides)
  with tempfile.TemporaryDirectory() as tmp:
    t0 = time.perf_counter()
    run(cfg, Path(tmp) / "run", show_progress=False)
    wall = time.perf_counter() - t0
    manifest = json.loads((Path(tmp) / "run" / "manifest.json").read_text())
  timings = manifest["timings"]["relu"]
  compile_s = timings["compile_seconds"]
  model_steps = cfg.run_count * cfg.steps
  rate = model_steps / (wall - compile_s)
  # The whole run less compilation, split: training segments, checkpoint saves, and the
  # fixed rest (init, evaluation, results and manifest writes, the run directory).
  segments = timings.get("segment_seconds")
  checkpoints = timings.get("checkpoint_seconds")
  return {
      "config": name, "description": CONFIGS[name][0], "runs": cfg.run_count,
      "gradients": cfg.gradients, "train_attack": cfg.train_attack,
      "devices": f"{jax.devices()[0].platform} x {jax.device_count()}",
      "steps": cfg.steps, "wall_seconds": round(wall, 3), "compile_seconds": compile_s,
      "model_steps_per_second": rate,
      "segment_seconds": segments, "checkpoint_seconds": checkpoints,
      "fixed_seconds": (None if segments is None else
                        round(wall - compile_s - segments - (checkpoints or 0.0), 3)),
      # Matmul rate of the clean step (an adversarial step does more products per step).
      "gflops": (rate * flops_per_model_step(cfg.n, cfg.m, cfg.batch) / 1e9
                 if cfg.train_attack == "none" else None),
      "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
      "peak_device_mib": device_peak_mib(),
  }


def device_peak_mib() -> float | None:
  """Peak memory the accelerator's allocator held, where the backend reports it (not CPU)."""
  import jax
  stats = jax.devices()[0].memory_stats() or {}
  peak = stats.get("peak_bytes_in_use")
  return None if peak is None else peak / 2 ** 20


def measure(name: str, steps: int | None = None, source: str | None = None,
            **settings) -> dict:
  """run_one in a fresh subprocess (its own peak memory); with `source`, the superjax
  found in that folder (another revision's checkout) instead of this one."""
  args = [name, str(steps or 0), json.dumps(settings)]
  if not source:
    out = subprocess.run([sys.executable, "-m", "superjax.toy.bench", *args], check=True,
                         capture_output=True, text=True)
    return json.loads(out.stdout.strip().splitlines()[-1])
  # This file's measurement, run against the other superjax: a copy of it outside any
  # package, with that checkout first on the path.
  with tempfile.TemporaryDirectory() as tmp:
    script = Path(tmp) / "bench_run.py"
    script.write_text(Path(__file__).read_text())
    env = dict(os.environ, PYTHONPATH=source)
    out = subprocess.run([sys.executable, str(script), *args], check=True,
                         capture_output=True, text=True, env=env, cwd=source)
  return json.loads(out.stdout.strip().splitlines()[-1])


REFERENCES = ("torch", "notebook", "expert")


def table(rows: list[dict], peak: float) -> str:
  """Rows of `measure`, one line each, labelled by their "variant" (else their gradient
  path); where a row carries the references' rates ("torch_model_steps_per_second", and
  the notebook and expert anchors'), each beside superjax's rate over it."""
  lines = [f"matmul peak on this device: {peak:.1f} GFLOP/s",
           (f"{'cfg':<8}{'variant':<10}{'runs':>6}{'steps':>7}{'model-steps/s':>15}{'GFLOP/s':>9}"
            f"{'% peak':>8}{'compile s':>10}{'peak MiB':>10}{'dev MiB':>9}"
            + "".join(f"{name:>12}{'x':>7}" for name in REFERENCES))]
  for r in rows:
    label = r["config"] + ("+adv" if r.get("train_attack", "none") != "none" else "")
    rate = r["model_steps_per_second"]
    line = (f"{label:<8}{r.get('variant', r.get('gradients', 'hand')):<10}{r['runs']:>6}"
            f"{r['steps']:>7}{rate:>15,.0f}"
            + (f"{r['gflops']:>9.1f}{100 * r['gflops'] / peak:>7.1f}%" if r["gflops"] else
               f"{'-':>9}{'-':>8}")
            + f"{r['compile_seconds']:>10.2f}{r['peak_rss_mib']:>10.0f}"
            + (f"{r['peak_device_mib']:>9.0f}" if r.get("peak_device_mib") else f"{'-':>9}"))
    for name in REFERENCES:
      reference = r.get(f"{name}_model_steps_per_second")
      line += (f"{reference:>12,.0f}{rate / reference:>6.1f}x" if reference
               else f"{'-':>12}{'-':>7}")
    lines.append(line)
  return "\n".join(lines)


if __name__ == "__main__":
  from superjax.core import host
  host.setup()  # as `superjax run` does: one device per core, compiled programs cached
  steps = int(sys.argv[2]) if len(sys.argv) > 2 else 0
  settings = json.loads(sys.argv[3]) if len(sys.argv) > 3 else {}
  print(json.dumps(run_one(sys.argv[1], steps or None, **settings)))
