"""What passes of the core loop need per device, and the chunks the default picks.

    python benchmarks/chunks.py [--reduced] [--out DIR]

For each pass the loop compiles its segment and finish for the whole grid (compiling
allocates nothing), reads XLA's memory analysis, and picks the runs per chunk that fit in
half of each device's free memory (core/chunks.py). No pass declares its memory. Prints a
table and saves JSON under benchmarks/results/.
"""

from __future__ import annotations

import argparse
import datetime
import json
import tempfile
from pathlib import Path

from superjax.core import host

host.setup()  # as `superjax run` does: one device per CPU core

import jax
import numpy as np

from superjax.core import chunks, keys, loop, sweeps
from superjax.custom import run as custom_run
from superjax.sae import train as sae_train
from superjax.sae.model import Settings, hparams
from superjax.uand import circuit
from superjax.vision import images, resnet, zoo

HERE = Path(__file__).resolve().parent


def tutorial(runs_per_cell: int) -> tuple[str, loop.Pass]:
  cfg = sweeps.load("compressed_computation")
  cfg = cfg.with_values({"seed": list(range(runs_per_cell))})
  hps = cfg.grid().hparams()
  pass_ = loop.Pass(custom_run.program(cfg.model), keys.run_keys(0, hps["seed"]), hps,
                    loop.Schedule(cfg.steps, cfg.log_every, cfg.checkpoint_every), "")
  return f"tutorial model (n=40, m=20), {cfg.grid().size:,} runs", pass_


def imagenet_sae() -> tuple[str, loop.Pass]:
  """TopK SAEs on ResNet18 layer4 (512 channels, 8x, batch 4096) of 10 models x 3 k."""
  settings = Settings(kind="topk", d_in=512, expansion=8, k_max=32, k_aux=512, batch=4096,
                      steps=1000)
  hp, _ = hparams(settings, k=(8, 16, 32), source=tuple(range(10)))
  acts = np.random.default_rng(0).normal(size=(10, 8192, 512)).astype(np.float32)
  return ("SAEs, ResNet18 layer4 shape (d 512, 8x, batch 4096), 30 runs",
          sae_train.sae_pass(settings, hp, acts, ""))


def digits_zoo() -> tuple[str, loop.Pass]:
  cfg = sweeps.load("digits_robust_sae")
  x, y, _, _ = images.digits(seed=0)
  model = resnet.ResNet18(num_classes=10, stem="cifar", channels=cfg.channels)
  settings = zoo.ZooSettings(steps=cfg.train_steps, batch=cfg.train_batch, lr=cfg.train_lr,
                             attack_steps=cfg.train_attack_steps)
  runs = len(cfg.train_eps)
  hps = zoo.ZooHParams(eps=np.asarray(cfg.train_eps, np.float32), seed=np.zeros(runs, np.int32))
  return (f"digits ResNet18 zoo ({cfg.channels} channels), {runs} runs",
          loop.Pass(zoo.program(model, settings), keys.run_keys(0, hps.seed), hps,
                    loop.Schedule(cfg.train_steps, cfg.log_every, cfg.checkpoint_every), "",
                    data={"x": x, "y": y}))


def uand_circuits() -> tuple[str, loop.Pass]:
  c = circuit.Circuit(n=256, s=3, m=8192, d0=None, active="exact", steps=2000, batch=1024,
                      lr=3e-3)
  seeds = np.arange(4, dtype=np.int32)
  return ("trained U-AND circuits (n 256, m 8,192), 4 runs",
          loop.Pass(circuit.program(c, "circuit"), keys.run_keys(0, seeds), {"seed": seeds},
                    loop.Schedule(2000, 100, 1000), ""))


def measure(label: str, pass_: loop.Pass) -> dict:
  with tempfile.TemporaryDirectory() as tmp:
    pass_ = loop.Pass(pass_.program, pass_.keys, pass_.hps, pass_.schedule, Path(tmp),
                      pass_.data)
    compiled = pass_.compiled()
    need = compiled.bytes_per_device()
    size = compiled.chunk_size()
  free = host.free_device_bytes(compiled.local_devices())
  return {"pass": label, "runs": pass_.runs, "devices": compiled.device_count,
          "need_mib_per_device": need / 2 ** 20,
          "data_mib": loop.data_bytes(pass_.data) / 2 ** 20,
          "free_mib_per_device": free / 2 ** 20, "share": chunks.MEMORY_SHARE,
          "chunk_size": size, "chunks": -(-pass_.runs // size),
          "compile_seconds": round(compiled.compile_seconds, 1)}


def main() -> None:
  parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  parser.add_argument("--reduced", action="store_true",
                      help="the tutorial's pass at 40 and 80 runs only: seconds")
  parser.add_argument("--out", type=Path, default=HERE / "results", help="where the JSON goes")
  args = parser.parse_args()
  cases = ([tutorial(1), tutorial(2)] if args.reduced else
           [tutorial(25), tutorial(2_500), tutorial(25_000), imagenet_sae(), digits_zoo(),
            uand_circuits()])
  rows = [measure(label, pass_) for label, pass_ in cases]
  device = jax.devices()[0]
  print(f"{device.platform} ({device.device_kind}), {jax.device_count()} devices")
  print(f"{'pass':<62}{'runs':>9}{'MiB/device':>12}{'free MiB':>10}{'chunk':>9}{'chunks':>8}")
  for r in rows:
    print(f"{r['pass']:<62}{r['runs']:>9,}{r['need_mib_per_device']:>12,.0f}"
          f"{r['free_mib_per_device']:>10,.0f}{r['chunk_size']:>9,}{r['chunks']:>8}")
  path = args.out / f"chunks-{datetime.datetime.now():%Y%m%d-%H%M%S}.json"
  path.parent.mkdir(parents=True, exist_ok=True)
  path.write_text(json.dumps({"device": str(device), "rows": rows}, indent=2))
  print(f"saved {path}")


if __name__ == "__main__":
  main()
