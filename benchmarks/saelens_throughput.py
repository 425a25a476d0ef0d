"""SAE-steps/s of a grid of N BatchTopK SAEs of one shape on the same data and steps:
superjax trains the grid as one program (the core loop: vmapped, checkpointed at the end,
measured at the end); SAELens trains them one SAETrainer after another, as its
MultiSAETrainer does. Both in one process, one after the other, so the ratio is of one run.

The grid is 4 k x 4 learning rates x N/16 seeds (d_in 64, 5x latents, batch 256).
SAELens's rate does not depend on N (its SAEs run one at a time), so for large N it
trains the first `--saelens-max` SAEs of the grid and the table says how many it timed.

  python benchmarks/saelens_throughput.py                # N = 16, 64, 256
  python benchmarks/saelens_throughput.py --sizes 16 --steps 100 --json out.json
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

import saelens_common as common

KS = (2, 4, 8, 16)
LRS = (1e-3, 2e-3, 3e-3, 5e-3)


def main() -> None:
  parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  parser.add_argument("--sizes", default="16,64,256", help="grid sizes N (multiples of 16)")
  parser.add_argument("--steps", type=int, default=100)
  parser.add_argument("--batch", type=int, default=256)
  parser.add_argument("--saelens-max", type=int, default=16,
                      help="SAELens SAEs timed per N at most (its rate does not depend on N)")
  parser.add_argument("--json", type=Path,
                      default=Path(__file__).parent / "results" / "saelens_throughput.json")
  parser.add_argument("--reduced", action="store_true",
                      help="N = 16 at 5 steps, 2 SAELens SAEs: seconds, to check the script runs")
  parser.add_argument("--out", type=Path, help="a folder for the JSON (instead of --json)")
  args = parser.parse_args()
  if args.reduced:
    args.sizes, args.steps, args.saelens_max = "16", 5, 2
  if args.out is not None:
    args.json = args.out / args.json.name
  data = common.zipf_data(features=256, d=64, tokens=65536, test=1024)
  try:
    import torch
    torch.set_num_threads(1)  # two threads on the shared 2-core machine ran 13x slower
    import sae_lens  # noqa: F401
    have_saelens = True
  except ImportError:
    have_saelens = False
    print("sae-lens is not installed: superjax only (pip install 'superjax[saelens]')")

  rows = []
  for size in (int(s) for s in args.sizes.split(",")):
    seeds = size // 16
    _, _, seconds, compile_seconds = common.superjax_grid(
        "batchtopk", data, ks=KS, lrs=LRS, seeds=seeds, steps=args.steps, batch=args.batch,
        expansion=5)
    row = {"N": size, "superjax_sae_steps_per_s": size * args.steps / seconds,
           "superjax_compile_s": compile_seconds}
    if have_saelens:
      grid = [(k, lr, s) for k in KS for lr in LRS for s in range(seeds)]
      timed = grid[:min(size, args.saelens_max)]
      total = sum(common.saelens_sae("batchtopk", data, k=k, lr=lr, steps=args.steps,
                                     batch=args.batch, expansion=5, seed=s)[1]
                  for k, lr, s in timed)
      row.update(saelens_sae_steps_per_s=len(timed) * args.steps / total,
                 saelens_timed=len(timed))
      row["ratio"] = row["superjax_sae_steps_per_s"] / row["saelens_sae_steps_per_s"]
    rows.append(row)
    print(_line(row), flush=True)

  print()
  print("| N | superjax SAE-steps/s | SAELens SAE-steps/s (SAEs timed) | superjax / SAELens |")
  print("|---|---|---|---|")
  for row in rows:
    print(_line(row))
  args.json.parent.mkdir(parents=True, exist_ok=True)
  args.json.write_text(json.dumps({"steps": args.steps, "batch": args.batch, "d_in": 64,
                                   "expansion": 5, "kind": "batchtopk",
                                   "machine": platform.processor() or platform.machine(),
                                   "rows": rows}, indent=2))
  print(f"wrote {args.json}")


def _line(row: dict) -> str:
  theirs = (f"{row['saelens_sae_steps_per_s']:,.0f} ({row['saelens_timed']})"
            if "saelens_sae_steps_per_s" in row else "-")
  ratio = f"**{row['ratio']:.1f}x**" if "ratio" in row else "-"
  return f"| {row['N']} | {row['superjax_sae_steps_per_s']:,.0f} | {theirs} | {ratio} |"


if __name__ == "__main__":
  main()
