"""The XLA operations one training step runs, and their time, from a jax.profiler trace.

    python benchmarks/trace_step.py [a|b|c] [--gradients hand|autodiff] [--adversarial]

Trains the config's grid for one 50-step segment through the core loop, exactly as
`superjax run` does (one device per core on a CPU host), under jax.profiler, and prints
the operations that took the most time, in ms per step summed over devices, under XLA's
names (run with XLA_FLAGS=--xla_dump_to=DIR to see what each fusion holds). A companion to profile_step.py, whose prefix differences
XLA's fusion across pieces can blur.
"""

from __future__ import annotations

import argparse
import collections
import gzip
import json
import tempfile
from pathlib import Path

from superjax.core import host

STEPS = 50


def main() -> None:
  parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  parser.add_argument("config", nargs="?", default="a")
  parser.add_argument("--gradients", default="hand", choices=("hand", "autodiff"))
  parser.add_argument("--adversarial", action="store_true")
  parser.add_argument("--top", type=int, default=20)
  args = parser.parse_args()
  host.use_every_core()
  import jax

  from superjax.core import loop
  from superjax.toy import bench, train
  from superjax.toy import program as toy_program
  from superjax.toy.config import SweepConfig
  from superjax.toy.grid import Grid

  settings = dict(bench.CONFIGS[args.config][1], steps=STEPS)
  if args.adversarial:
    settings.update(train_attack="gorton", alpha=(0.5,))
  cfg = SweepConfig(name="trace", models=("relu",), batch=1024, gradients=args.gradients,
                    **settings)
  hps = Grid(cfg).hparams()
  program = toy_program.program(cfg, "relu")
  keys = jax.vmap(lambda s: train.run_key(cfg, s))(hps.seed)
  with tempfile.TemporaryDirectory() as tmp:
    pass_ = loop.Pass(program, keys, hps, loop.Schedule(STEPS, STEPS, STEPS), tmp)
    compiled = pass_.compiled()
    chunk = compiled.chunks(pass_.runs)[0]
    # A fresh state each time: the segment donates the one it gets.
    jax.block_until_ready(compiled.segment(chunk, compiled.init(chunk), 0, STEPS))
    carry = jax.block_until_ready(compiled.init(chunk))
    jax.profiler.start_trace(tmp + "/trace")
    jax.block_until_ready(compiled.segment(chunk, carry, 0, STEPS))
    jax.profiler.stop_trace()
    trace = sorted(Path(tmp, "trace").rglob("*.trace.json.gz"))[-1]
    events = json.load(gzip.open(trace))["traceEvents"]
  total = collections.Counter()
  for e in events:
    name = e.get("name", "")
    # XLA's operations: fusions, dots, loops; not the runtime's own spans.
    if e.get("ph") == "X" and "dur" in e and not name.startswith(("$", "Thunk", "Pjit")):
      total[name] += e["dur"]
  print(f"config {args.config}, gradients={args.gradients}"
        f"{', adversarial' if args.adversarial else ''}; {jax.device_count()} devices; "
        "ms per step, summed over devices")
  for name, us in total.most_common(args.top):
    print(f"{us / 1e3 / STEPS:8.2f}  {name}")
  print(f"{sum(total.values()) / 1e3 / STEPS:8.2f}  all operations")


if __name__ == "__main__":
  main()
