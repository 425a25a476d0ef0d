"""Throughput of superjax against PyTorch and two plain-JAX anchors, on this machine.

    python benchmarks/throughput.py [--configs abc] [--before REV] [--repeats 2] [--reduced] [--out DIR]
                                    [--steps-scale X] [--autodiff] [--no-torch] [--no-anchors]

For configs (a) n=100, m=20 x 30 densities, (b) n=2, m=1 x 4,000 runs, (c) n=200, m=20 x
20 densities, all at batch 1024, in one run:

- superjax: model-steps per second of a whole `superjax run` (checkpoints, metrics,
  evaluation and results included; compilation, reported apart, excluded), and that
  time split into training segments, checkpoint saves and the fixed rest (init,
  evaluation, results and manifest writes);
- with --before REV, the same for superjax at git revision REV (checked out into a
  temporary worktree and measured by this same script), interleaved with this
  checkout's runs: the before/after split of one run;
- with --autodiff, this checkout's autodiff reference step (`gradients=autodiff`);
- the PyTorch instances-axis reference (benchmarks/torch_instances.py) in this process;
- the plain-JAX anchors (benchmarks/anchors.py): the notebook loop and the expert's scan;
- then config (a) trained adversarially (gorton attack, alpha 0.5): the adversarial
  step's cost over the clean step's.

Each superjax figure is the best of `--repeats` interleaved runs, since this class of
shared machine swings by 20-30%. Prints a table and saves JSON under benchmarks/results/.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime
import json
import platform
import subprocess
import sys
import tempfile
from pathlib import Path

import jax

from superjax.toy import bench

HERE = Path(__file__).resolve().parent
ADVERSARIAL = {"train_attack": "gorton", "alpha": [0.5]}


@contextlib.contextmanager
def checkout(revision: str | None):
  """A temporary worktree of `revision` (None: nothing), removed afterwards."""
  if revision is None:
    yield None
    return
  root = subprocess.run(["git", "rev-parse", "--show-toplevel"], cwd=HERE, check=True,
                        capture_output=True, text=True).stdout.strip()
  with tempfile.TemporaryDirectory() as tmp:
    folder = str(Path(tmp) / "before")
    subprocess.run(["git", "worktree", "add", "--detach", folder, revision], cwd=root,
                   check=True, capture_output=True)
    try:
      yield folder
    finally:
      subprocess.run(["git", "worktree", "remove", "--force", folder], cwd=root,
                     capture_output=True)


def main() -> None:
  parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  parser.add_argument("--configs", default="abc")
  parser.add_argument("--before", metavar="REV", help="also measure superjax at this revision")
  parser.add_argument("--steps-scale", type=float, default=1.0,
                      help="multiply each config's step count")
  parser.add_argument("--repeats", type=int, default=2)
  parser.add_argument("--autodiff", action="store_true",
                      help="also measure the autodiff reference step")
  parser.add_argument("--torch-steps", type=int, default=100)
  parser.add_argument("--no-torch", action="store_true")
  parser.add_argument("--no-anchors", action="store_true")
  parser.add_argument("--reduced", action="store_true",
                      help="config (a) at 2%% of its steps, once, every comparison at a few "
                           "steps: seconds, to check the script runs (the numbers mean nothing)")
  parser.add_argument("--out", type=Path, default=HERE / "results", help="where the JSON goes")
  args = parser.parse_args()
  anchor_steps = None
  if args.reduced:
    args.configs, args.steps_scale, args.repeats, args.torch_steps = "a", 0.02, 1, 5
    anchor_steps = 10
  peak = bench.matmul_peak_gflops()
  sys.path.insert(0, str(HERE))
  import anchors

  rows = []
  with checkout(args.before) as before:
    variants = [("after", None, {})]
    if before:
      variants.append(("before", before, {}))
    if args.autodiff:
      variants.append(("autodiff", None, {"gradients": "autodiff"}))
    jobs = [(name, {}) for name in args.configs]
    if "a" in args.configs:
      jobs.append(("a", ADVERSARIAL))
    for name, settings in jobs:
      steps = int(bench.CONFIGS[name][1]["steps"] * args.steps_scale)
      if settings:
        steps //= 4  # an adversarial step costs several clean ones
      runs = [[dict(bench.measure(name, steps, source, **settings, **extra), variant=variant)
               for variant, source, extra in variants] for _ in range(args.repeats)]
      best = [max(same, key=lambda r: r["model_steps_per_second"]) for same in zip(*runs)]
      if not settings:
        cfg = bench.CONFIGS[name][1]
        references = {}
        if not args.no_torch:
          import torch_instances
          n, m, density, _ = anchors.grid(name)
          references["torch"] = torch_instances.model_steps_per_second(
              n, m, density, args.torch_steps)
        if not args.no_anchors:
          # The notebook loop dispatches every step from Python, so it gets fewer steps.
          references["notebook"] = anchors.measure(
              "notebook", name, anchor_steps or max(10, cfg["steps"] // 20)
          )["model_steps_per_second"]
          references["expert"] = anchors.measure(
              "expert", name, anchor_steps or max(10, cfg["steps"] // 4)
          )["model_steps_per_second"]
        for row in best:
          row.update({f"{k}_model_steps_per_second": v for k, v in references.items()})
      rows.extend(best)
      print(f"measured {name}{'+adv' if settings else ''}: "
            + ", ".join(f"{r['variant']} {r['model_steps_per_second']:,.0f}" for r in best)
            + " model-steps/s", file=sys.stderr)
  device = jax.devices()[0]
  print(f"device: {device.platform} {device.device_kind}, {platform.machine()}; superjax "
        f"ran on {rows[0]['devices']} devices")
  print(bench.table(rows, peak))
  print()
  print(split_table(rows))
  for variant in ("after", "before", "autodiff"):
    rate = {r["train_attack"]: r["model_steps_per_second"] for r in rows
            if r["config"] == "a" and r["variant"] == variant}
    if len(rate) == 2:
      print(f"(a) adversarial step / clean step, {variant}: {rate['none'] / rate['gorton']:.2f}x")
  out = args.out
  out.mkdir(parents=True, exist_ok=True)
  stamp = datetime.datetime.now().strftime("%Y%m%d-%H%M%S")
  path = out / f"throughput-{stamp}.json"
  path.write_text(json.dumps({"device": f"{device.platform} {device.device_kind}",
                              "device_count": jax.device_count(), "matmul_peak_gflops": peak,
                              "before": args.before, "rows": rows}, indent=2))
  print(f"saved {path}")


def split_table(rows: list[dict]) -> str:
  """Where each superjax run's time went, seconds: compile, training segments, checkpoint
  saves, the fixed rest."""
  lines = [f"{'cfg':<8}{'variant':<10}{'steps':>7}{'wall':>9}{'compile':>9}{'segments':>10}"
           f"{'ckpt':>7}{'fixed':>8}{'fixed %':>9}"]
  for r in rows:
    label = r["config"] + ("+adv" if r["train_attack"] != "none" else "")
    segments, fixed = r.get("segment_seconds"), r.get("fixed_seconds")
    if segments is None:  # a revision whose manifest has no split
      lines.append(f"{label:<8}{r['variant']:<10}{r['steps']:>7}{r['wall_seconds']:>9.2f}"
                   f"{r['compile_seconds']:>9.2f}{'-':>10}{'-':>7}{'-':>8}{'-':>9}")
      continue
    trained = r["wall_seconds"] - r["compile_seconds"]
    lines.append(f"{label:<8}{r['variant']:<10}{r['steps']:>7}{r['wall_seconds']:>9.2f}"
                 f"{r['compile_seconds']:>9.2f}{segments:>10.2f}{r['checkpoint_seconds']:>7.2f}"
                 f"{fixed:>8.2f}{100 * fixed / trained:>8.1f}%")
  return "\n".join(lines)


if __name__ == "__main__":
  main()
