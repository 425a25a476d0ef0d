"""A ground-truth benchmark beside SAELens's: SAEs of every kind trained on data with
known features, drawn as SAELens's synthetic generator draws them (Zipf firing
probabilities; with sae-lens installed its own SyntheticModel, optionally with a hierarchy
and low-rank correlation), scored with the metrics of its synthetic evals: MCC (Hungarian
matching of decoder rows to true features on |cosine|), uniqueness, F1 of each latent
against its best-matching feature's firing, explained variance, L0 and dead latents.

superjax trains each kind's grid (k or penalty x seeds) as one program; SAELens trains
the same settings on exactly the same arrays, one SAETrainer after another, in the same
run, and one scorer (numpy, below) scores both.

  python benchmarks/saelens_ground_truth.py                      # 256 features in 64 dims
  python benchmarks/saelens_ground_truth.py --steps 3000 --batch 1024 --hierarchy
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np
import scipy.optimize

sys.path.insert(0, str(Path(__file__).parent))

import saelens_common as common

# Per kind: the values of its sparsity axis (k, or the penalty coefficient).
SPARSITY = {"batchtopk": (2, 4), "topk": (2, 4), "matryoshka": (2, 4),
            "jumprelu": (0.1, 0.03), "relu": (3.0, 1.0)}
# SAELens's penalties act on raw activations and its own loss scale: its coefficients.
SAELENS_PENALTY = {"jumprelu": (0.3, 0.1), "relu": (3.0, 1.0)}


def score(rows: np.ndarray, latents: np.ndarray, x: np.ndarray, x_hat: np.ndarray,
          data: common.Data) -> dict[str, float]:
  """SAELens's synthetic metrics for one SAE: rows (L, d) decoder rows in the raw space,
  latents (N, L) and reconstructions (N, d) of the test inputs x (N, d)."""
  unit = lambda v: v / np.maximum(np.linalg.norm(v, axis=1, keepdims=True), 1e-12)
  cos = np.abs(unit(rows.astype(np.float64)) @ unit(data.features.astype(np.float64)).T)
  latent, feature = scipy.optimize.linear_sum_assignment(cos, maximize=True)
  best = cos.argmax(axis=1)  # each latent's best-matching feature
  on = latents > 0
  truth = data.test_firing[:, best]
  tp = (on & truth).sum(axis=0)
  precision = np.where(on.sum(axis=0) > 0, tp / np.maximum(on.sum(axis=0), 1), 0.0)
  recall = np.where(truth.sum(axis=0) > 0, tp / np.maximum(truth.sum(axis=0), 1), 0.0)
  f1 = np.where(precision + recall > 0, 2 * precision * recall
                / np.maximum(precision + recall, 1e-12), 0.0)
  variance = ((x - x.mean(axis=0)) ** 2).sum()
  return {"mcc": float(cos[latent, feature].mean()),
          "uniqueness": len(np.unique(best)) / rows.shape[0], "f1": float(f1.mean()),
          "explained_variance": float(1 - ((x - x_hat) ** 2).sum() / variance),
          "l0": float(on.sum(axis=1).mean()), "dead": int((~on.any(axis=0)).sum())}


def superjax_scores(kind: str, data: common.Data, args) -> list[dict]:
  import jax
  import jax.numpy as jnp

  from superjax.sae.model import encode, reconstruct
  control = "k" if kind in ("batchtopk", "topk", "matryoshka") else "penalty"
  values = SPARSITY[kind]
  hp, saes, _, _ = common.superjax_grid(
      kind, data, ks=values if control == "k" else (1,),
      penalties=values if control == "penalty" else (0.0,), lrs=(args.lr,), seeds=args.seeds,
      steps=args.steps, batch=args.batch, expansion=args.expansion)
  found = []
  for r in range(len(hp.seed)):
    sae = jax.tree.map(lambda a: a[r], saes)  # noqa: B023
    z = encode(sae, jnp.asarray(data.test))
    x_hat = np.asarray(reconstruct(sae, z)) * np.asarray(sae.scale) + np.asarray(sae.mean)
    rows = np.asarray(sae.params["W_dec"]) * np.asarray(sae.scale)
    setting = int(hp.k[r]) if control == "k" else float(hp.penalty[r])
    found.append(dict(score(rows, np.asarray(z), data.test, x_hat, data), tool="superjax",
                      kind=kind, setting=setting, seed=int(hp.seed[r])))
  return found


def saelens_scores(kind: str, data: common.Data, args) -> list[dict]:
  import torch
  found = []
  control = "k" if kind in ("batchtopk", "topk", "matryoshka") else "penalty"
  values = SPARSITY[kind] if control == "k" else SAELENS_PENALTY[kind]
  for setting in values:
    for seed in range(args.seeds):
      sae, _ = common.saelens_sae(kind, data, k=setting if control == "k" else 1,
                                  penalty=setting if control == "penalty" else 0.0,
                                  lr=args.lr, steps=args.steps, batch=args.batch,
                                  expansion=args.expansion, seed=seed)
      sae.eval()
      with torch.no_grad():  # its own encode on the whole test set, as its evals do
        z = sae.encode(torch.tensor(data.test))
        x_hat = sae.decode(z).numpy()
      rows = sae.W_dec.detach().numpy()
      found.append(dict(score(rows, z.numpy(), data.test, x_hat, data), tool="SAELens",
                        kind=kind, setting=setting, seed=seed))
  return found


def main() -> None:
  parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  parser.add_argument("--kinds", default=",".join(SPARSITY))
  parser.add_argument("--features", type=int, default=256)
  parser.add_argument("--d", type=int, default=64)
  parser.add_argument("--expansion", type=int, default=4)
  parser.add_argument("--steps", type=int, default=1000)
  parser.add_argument("--batch", type=int, default=256)
  parser.add_argument("--lr", type=float, default=3e-3)
  parser.add_argument("--seeds", type=int, default=2)
  parser.add_argument("--hierarchy", action="store_true", help="SAELens's feature hierarchy")
  parser.add_argument("--correlation-rank", type=int, default=0)
  parser.add_argument("--json", type=Path,
                      default=Path(__file__).parent / "results" / "saelens_ground_truth.json")
  parser.add_argument("--reduced", action="store_true",
                      help="64 features in 16 dims, 20 steps, one seed: seconds, to check it runs")
  parser.add_argument("--out", type=Path, help="a folder for the JSON (instead of --json)")
  args = parser.parse_args()
  if args.reduced:
    args.features, args.d, args.steps, args.seeds = 64, 16, 20, 1
  if args.out is not None:
    args.json = args.out / args.json.name
  try:
    import torch
    torch.set_num_threads(1)
    import sae_lens  # noqa: F401
    have_saelens = True
  except ImportError:
    have_saelens = False
    print("sae-lens is not installed: superjax only, numpy Zipf data")
  data = common.zipf_data(args.features, args.d, tokens=65536, test=8192,
                          saelens=have_saelens, hierarchy=args.hierarchy,
                          correlation_rank=args.correlation_rank)
  print(f"{args.features} features in {args.d} dims, true L0 {data.true_l0:.2f}; "
        f"{args.expansion * args.d} latents, {args.steps} steps of {args.batch}, lr {args.lr}")
  rows = []
  for kind in args.kinds.split(","):
    rows += superjax_scores(kind, data, args)
    if have_saelens:
      rows += saelens_scores(kind, data, args)
  print("| kind | setting | tool | L0 | MCC | uniqueness | F1 | explained var. | dead |")
  print("|---|---|---|---|---|---|---|---|---|")
  keys = sorted({(r["kind"], r["setting"], r["tool"]) for r in rows},
                key=lambda t: (list(SPARSITY).index(t[0]), t[2], str(t[1])))
  for kind, setting, tool in keys:
    cell = [r for r in rows if (r["kind"], r["setting"], r["tool"]) == (kind, setting, tool)]
    mean = lambda name: np.mean([r[name] for r in cell])  # noqa: B023
    print(f"| {kind} | {setting:g} | {tool} | {mean('l0'):.2f} | {mean('mcc'):.3f} | "
          f"{mean('uniqueness'):.3f} | {mean('f1'):.3f} | {mean('explained_variance'):.3f} | "
          f"{mean('dead'):.0f} |")
  args.json.parent.mkdir(parents=True, exist_ok=True)
  args.json.write_text(json.dumps({"args": vars(args) | {"json": str(args.json),
                                                         "out": str(args.out)},
                                   "true_l0": data.true_l0, "rows": rows}, indent=2))
  print(f"wrote {args.json} (means over {args.seeds} seeds)")


if __name__ == "__main__":
  main()
