"""Peak memory of a 1,000-run and a 100,000-run n=2, m=1 grid, trained in chunks.

    python benchmarks/memory.py [--steps 200] [--chunk-size 10000] [--reduced]

Each grid runs in a fresh subprocess through the core loop (checkpoints and results
included). Chunking bounds memory by the chunk, not the grid: the two peaks should be
close. Prints a table and saves JSON under benchmarks/results/.
"""

from __future__ import annotations

import argparse
import datetime
import json
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent

_CHILD = """
import json, resource, sys, tempfile, time
import numpy as np
from superjax import SweepConfig
from superjax.core import host
from superjax.core.experiment import run
host.use_every_core()  # as `superjax run` does
side, seeds, steps, chunk = (int(a) for a in sys.argv[1:5])
cfg = SweepConfig(name="memory", n=2, m=1, steps=steps, seeds=seeds, chunk_size=chunk,
                  density=tuple(np.logspace(-2, 0, side).tolist()),
                  relative_importance=tuple(np.logspace(-1, 1, side).tolist()),
                  log_every=min(100, steps), checkpoint_every=steps, eval_batch=1024)
with tempfile.TemporaryDirectory() as tmp:
  t0 = time.perf_counter()
  ds = run(cfg, tmp + "/run", show_progress=False)
  wall = time.perf_counter() - t0
print(json.dumps({"runs": cfg.run_count, "chunk_size": chunk, "steps": steps,
                  "wall_seconds": round(wall, 1), "finite": bool(np.isfinite(ds["loss"]).all()),
                  "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def main() -> None:
  parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  parser.add_argument("--steps", type=int, default=200)
  parser.add_argument("--chunk-size", type=int, default=10_000)
  parser.add_argument("--reduced", action="store_true",
                      help="40- and 360-run grids of 20 steps: seconds, to check the script runs")
  parser.add_argument("--out", type=Path, default=HERE / "results", help="where the JSON goes")
  args = parser.parse_args()
  grids = ((10, 10), (100, 10))  # 1,000 and 100,000 runs
  if args.reduced:
    grids, args.steps, args.chunk_size = ((2, 10), (6, 10)), 20, 120
  rows = []
  for side, seeds in grids:
    out = subprocess.run([sys.executable, "-c", _CHILD, str(side), str(seeds), str(args.steps),
                          str(args.chunk_size)], check=True, capture_output=True, text=True)
    rows.append(json.loads(out.stdout.strip().splitlines()[-1]))
  print(f"{'runs':>8}{'chunk':>8}{'steps':>7}{'wall s':>9}{'peak MiB':>10}")
  for r in rows:
    print(f"{r['runs']:>8,}{r['chunk_size']:>8,}{r['steps']:>7}{r['wall_seconds']:>9.1f}"
          f"{r['peak_rss_mib']:>10.0f}")
  path = args.out / f"memory-{datetime.datetime.now():%Y%m%d-%H%M%S}.json"
  path.parent.mkdir(parents=True, exist_ok=True)
  path.write_text(json.dumps(rows, indent=2))
  print(f"saved {path}")


if __name__ == "__main__":
  main()
