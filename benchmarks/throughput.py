"""Throughput of superjax against the PyTorch instance-batched way, on this machine.

    python benchmarks/throughput.py [--steps-scale X] [--no-torch]

For configs (a) n=100, m=20 x 30 densities, (b) n=2, m=1 x 4,000 runs, (c) n=200, m=20 x
20 densities, all at batch 1024: model-steps per second of a whole `superjax run`
(checkpoints and metrics included, compilation reported separately), achieved matmul
GFLOP/s and its share of a matrix-product peak measured in the same run, compile time,
peak memory, and the same grid trained by benchmarks/torch_instances.py. Prints a table
and saves JSON under benchmarks/results/.
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
  args = parser.parse_args()
  peak = bench.matmul_peak_gflops()
  rows = []
  for name in args.configs:
    steps = int(bench.CONFIGS[name][1]["steps"] * args.steps_scale)
    row = bench.measure(name, steps)
    if not args.no_torch:
      sys.path.insert(0, str(HERE))
      import torch_instances
      cfg = bench.CONFIGS[name][1]
      runs = row["runs"]
      density = (list(cfg["density"]) * (runs // len(cfg["density"]) + 1))[:runs]
      row["torch_model_steps_per_second"] = torch_instances.model_steps_per_second(
          cfg["n"], cfg["m"], density, args.torch_steps)
    rows.append(row)
    print(f"measured {name}: {row['model_steps_per_second']:,.0f} model-steps/s", file=sys.stderr)
  device = jax.devices()[0]
  print(f"device: {device.platform} {device.device_kind} x {jax.device_count()}, "
        f"{platform.machine()}")
  print(bench.table(rows, peak))
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
