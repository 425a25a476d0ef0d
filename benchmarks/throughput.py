"""Throughput of superjax against the PyTorch instance-batched way, on this machine.

    python benchmarks/throughput.py [--configs abc] [--steps-scale X] [--repeats 2] [--no-torch]

For configs (a) n=100, m=20 x 30 densities, (b) n=2, m=1 x 4,000 runs, (c) n=200, m=20 x
20 densities, all at batch 1024: model-steps per second of a whole `superjax run`
(checkpoints, metrics and evaluation included, compilation reported separately) with the
hand-derived batched step (`gradients=hand`, the default) and with the autodiff reference
step (`gradients=autodiff`, what every run used before the fast path); the matmul rate
and its share of a matrix-product peak measured in the same run; compile time; peak
memory; and the same grid trained by benchmarks/torch_instances.py in this process. Then
config (a) with adversarial training (gorton attack, alpha 0.5) on both paths, and the
adversarial step's time over the clean step's. Each superjax figure is the best of
`--repeats` runs, interleaved, since this class of shared machine swings by 20-30%.
Prints a table and saves JSON under benchmarks/results/.
"""

from __future__ import annotations

import argparse
import datetime
import json
import platform
import sys
from pathlib import Path

import jax

from superjax.toy import bench

HERE = Path(__file__).resolve().parent


def main() -> None:
  parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  parser.add_argument("--configs", default="abc")
  parser.add_argument("--steps-scale", type=float, default=1.0,
                      help="multiply each config's step count")
  parser.add_argument("--torch-steps", type=int, default=100)
  parser.add_argument("--no-torch", action="store_true")
  parser.add_argument("--repeats", type=int, default=2)
  args = parser.parse_args()
  peak = bench.matmul_peak_gflops()
  rows = []

  def best_pair(name, steps, **settings):
    """Both paths, interleaved, `repeats` times; the faster run of each."""
    runs = [[bench.measure(name, steps, gradients=g, **settings) for g in ("autodiff", "hand")]
            for _ in range(args.repeats)]
    return [max(path, key=lambda r: r["model_steps_per_second"]) for path in zip(*runs)]

  jobs = [(name, {}) for name in args.configs]
  if "a" in args.configs:
    jobs.append(("a", {"train_attack": "gorton", "alpha": [0.5]}))
  for name, settings in jobs:
    steps = int(bench.CONFIGS[name][1]["steps"] * args.steps_scale)
    if settings:
      steps //= 4  # an adversarial step costs several clean ones
    pair = best_pair(name, steps, **settings)
    if not args.no_torch and not settings:
      sys.path.insert(0, str(HERE))
      import torch_instances
      cfg = bench.CONFIGS[name][1]
      runs = pair[0]["runs"]
      density = (list(cfg["density"]) * (runs // len(cfg["density"]) + 1))[:runs]
      rate = torch_instances.model_steps_per_second(cfg["n"], cfg["m"], density,
                                                    args.torch_steps)
      for row in pair:
        row["torch_model_steps_per_second"] = rate
    rows.extend(pair)
    print(f"measured {name}{'+adv' if settings else ''}: "
          + ", ".join(f"{r['gradients']} {r['model_steps_per_second']:,.0f}" for r in pair)
          + " model-steps/s", file=sys.stderr)
  device = jax.devices()[0]
  print(f"device: {device.platform} {device.device_kind}, {platform.machine()}; superjax "
        f"ran on {rows[0]['devices']} devices")
  print(bench.table(rows, peak))
  for g in ("autodiff", "hand"):
    rate = {r["train_attack"]: r["model_steps_per_second"] for r in rows
            if r["config"] == "a" and r["gradients"] == g}
    if len(rate) == 2:
      print(f"(a) adversarial step / clean step, {g}: {rate['none'] / rate['gorton']:.2f}x")
  for r in rows:
    if r["gradients"] == "hand" and r["train_attack"] == "none":
      before = next(o for o in rows if o["config"] == r["config"]
                    and o["gradients"] == "autodiff" and o["train_attack"] == "none")
      print(f"({r['config']}) hand / autodiff: "
            f"{r['model_steps_per_second'] / before['model_steps_per_second']:.2f}x")
  out = HERE / "results"
  out.mkdir(exist_ok=True)
  stamp = datetime.datetime.now().strftime("%Y%m%d-%H%M%S")
  path = out / f"throughput-{stamp}.json"
  path.write_text(json.dumps({"device": f"{device.platform} {device.device_kind}",
                              "device_count": jax.device_count(), "matmul_peak_gflops": peak,
                              "rows": rows}, indent=2))
  print(f"saved {path}")


if __name__ == "__main__":
  main()
