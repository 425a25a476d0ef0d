"""The XLA operations one training step runs, and their time, from a jax.profiler trace.

    python benchmarks/trace_step.py [a|b|c] [--gradients hand|autodiff] [--adversarial]
                                    [--steps 50] [--reduced] [--out DIR]

Trains the config's grid for one 50-step segment through the core loop, exactly as
`superjax run` does (one device per core on a CPU host), under jax.profiler, and prints
the operations that took the most time, in ms per step summed over devices, under XLA's
names (run with XLA_FLAGS=--xla_dump_to=DIR to see what each fusion holds), and saves
them as JSON. A companion to profile_step.py, whose prefix differences
XLA's fusion across pieces can blur.
"""

from __future__ import annotations

import argparse
import collections
import datetime
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
  parser.add_argument("--steps", type=int, default=STEPS)
  parser.add_argument("--reduced", action="store_true", help="3 steps: seconds")
  parser.add_argument("--out", type=Path, default=Path(__file__).resolve().parent / "results",
                      help="where the JSON goes")
  args = parser.parse_args()
  steps = 3 if args.reduced else args.steps
  host.use_every_core()
  import jax

  from superjax.core import loop
  from superjax.toy import bench, train
  from superjax.toy import program as toy_program
  from superjax.toy.config import SweepConfig

  settings = dict(bench.CONFIGS[args.config][1], steps=steps)
  if args.adversarial:
    settings.update(train_attack="gorton", alpha=(0.5,))
  cfg = SweepConfig(name="trace", models=("relu",), batch=1024, gradients=args.gradients,
                    **settings)
  hps = train.hparams(cfg)
  program = toy_program.program(cfg, "relu")
  keys = jax.vmap(lambda s: train.run_key(cfg, s))(hps.seed)
  with tempfile.TemporaryDirectory() as tmp:
    pass_ = loop.Pass(program, keys, hps, loop.Schedule(steps, steps, steps), tmp)
    compiled = pass_.compiled()
    chunk = compiled.chunks(pass_.runs)[0]
    # A fresh state each time: the segment donates the one it gets.
    jax.block_until_ready(compiled.segment(chunk, compiled.init(chunk), 0, steps))
    carry = jax.block_until_ready(compiled.init(chunk))
    jax.profiler.start_trace(tmp + "/trace")
    jax.block_until_ready(compiled.segment(chunk, carry, 0, steps))
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
    print(f"{us / 1e3 / steps:8.2f}  {name}")
  print(f"{sum(total.values()) / 1e3 / steps:8.2f}  all operations")
  path = args.out / f"trace-{args.config}-{datetime.datetime.now():%Y%m%d-%H%M%S}.json"
  path.parent.mkdir(parents=True, exist_ok=True)
  path.write_text(json.dumps({
      "config": args.config, "gradients": args.gradients, "adversarial": args.adversarial,
      "devices": jax.device_count(), "steps": steps,
      "ms_per_step": {name: us / 1e3 / steps for name, us in total.most_common(args.top)}},
      indent=2))
  print(f"saved {path}")


if __name__ == "__main__":
  main()
