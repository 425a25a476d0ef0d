"""Where one training step of a toy grid spends its time, on this machine.

    python benchmarks/profile_step.py [--configs abc] [--adversarial] [--steps 50] [--reduced]

For each benchmark config (superjax.toy.bench.CONFIGS) it times cumulative prefixes of
the step of all runs at once, each jitted and scanned over `--steps` steps on one device:

  draw       the uniforms of the batch (once per seed)
  sample     + the sparse features of every run
  forward    + the model's output and loss (the attack too, with --adversarial)
  backward   + the gradients
  optimise   + the AdamW update (= the training step)
  guard      + the core loop's finiteness check and freeze (= a step as the loop runs it)

and reports each piece as the difference of consecutive prefixes, for the reference step
(autodiff through the one-model `train_step`) and the batched fast path (toy/fast.py).
Prints a table and saves JSON under benchmarks/results/.
"""

from __future__ import annotations

import argparse
import datetime
import json
import sys
import time
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np

from superjax.core import loop
from superjax.toy import attacks, bench, data, fast, train
from superjax.toy.config import SweepConfig

HERE = Path(__file__).resolve().parent
PIECES = ("draw", "sample", "forward", "backward", "optimise", "guard")


def config(name: str, adversarial: bool) -> SweepConfig:
  overrides = dict(bench.CONFIGS[name][1])
  if adversarial:
    overrides.update(train_attack="gorton", alpha=(0.5,))
  return SweepConfig(name=f"profile_{name}", models=("relu",), batch=1024, **overrides)


def prefixes(cfg: SweepConfig, path: str):
  """name -> f(states, hps, t) returning something that depends on every piece so far."""
  model = "relu"

  def step_keys(hps, t):  # the keys the loop hands step t of each run
    return jax.vmap(lambda s: train.seed_step_key(cfg, s, t))(hps.seed)

  def xs(hps, t):
    seed_keys = jax.vmap(lambda s: train.seed_step_key(cfg, s, t))(jnp.arange(cfg.seeds))
    drawn = jax.vmap(lambda k: train.draw_batch(cfg, k))(seed_keys)
    u = drawn[0][hps.seed]
    density = jax.vmap(lambda hp: train.feature_density(cfg.n, hp))(hps)
    return drawn, jax.vmap(lambda u, p: data.features_from_uniforms((u, None), p))(u, density)

  def draw(states, hps, t):
    return xs(hps, t)[0][0].sum()

  def sample(states, hps, t):
    return xs(hps, t)[1].sum()

  importance = lambda hp: train.feature_importance(cfg.n, hp)

  def reference_loss(params, hp, x, step_key):
    imp = importance(hp)
    if cfg.train_attack == "none":
      return train.loss_fn(model, params, x, imp)
    key = train.attack_key(step_key)
    x_adv = jax.lax.stop_gradient(attacks.attack_batch(
        cfg.train_attack, model, params, x, imp,
        attacks.batch_eps(x, cfg.attack_eps, cfg.per_sample_eps), key))
    return train.adversarial_loss_fn(model, params, x, x_adv, imp, hp.alpha)

  def forward(states, hps, t):
    _, x = xs(hps, t)
    if path == "reference":
      return jax.vmap(reference_loss)(states.params, hps, x, step_keys(hps, t)).sum()
    return fast.loss_and_grads(cfg, model, states.params, hps, x, step_keys(hps, t), t,
                               grads=False).sum()

  def backward(states, hps, t):
    _, x = xs(hps, t)
    if path == "reference":
      grads = jax.vmap(jax.grad(reference_loss))(states.params, hps, x, step_keys(hps, t))
    else:
      _, grads = fast.loss_and_grads(cfg, model, states.params, hps, x, step_keys(hps, t), t)
    return sum(g.sum() for g in jax.tree.leaves(grads))

  step = fast.step_runs if path == "fast" else train.step_runs

  def optimise(states, hps, t):
    new, loss = step(cfg, model, states, hps, step_keys(hps, t), t)
    return new.params["W"].sum() + loss.sum()

  def guard(states, hps, t):
    new, loss = step(cfg, model, states, hps, step_keys(hps, t), t)
    ok = loop.finite_runs({"loss": loss}, loss.shape[0])
    new = loop.where_runs(ok, new, states)
    return new.params["W"].sum() + loss.sum()

  return dict(zip(PIECES, (draw, sample, forward, backward, optimise, guard)))


def time_prefix(f, states, hps, steps: int, repeats: int = 3) -> float:
  """Seconds per step of f scanned over `steps` steps (best of `repeats`)."""
  def run(states, hps):
    return jax.lax.scan(lambda c, t: (c + f(states, hps, t), None), jnp.float32(0),
                        jnp.arange(steps))[0]
  compiled = jax.jit(run).lower(states, hps).compile()
  compiled(states, hps).block_until_ready()
  best = np.inf
  for _ in range(repeats):
    t0 = time.perf_counter()
    compiled(states, hps).block_until_ready()
    best = min(best, time.perf_counter() - t0)
  return best / steps


def profile(name: str, adversarial: bool, steps: int) -> dict:
  cfg = config(name, adversarial)
  hps = jax.tree.map(jnp.asarray, train.hparams(cfg))
  keys = jax.vmap(lambda s: train.run_key(cfg, s))(hps.seed)
  states = jax.vmap(lambda k, hp: train.init_state(cfg, "relu", k, hp))(keys, hps)
  out = {"config": name, "adversarial": adversarial, "runs": cfg.run_count}
  for path in ("reference", "fast"):
    cumulative = {piece: time_prefix(f, states, hps, steps)
                  for piece, f in prefixes(cfg, path).items()}
    values = list(cumulative.values())
    out[path] = {"step_ms": 1e3 * values[-1],
                 "pieces_ms": {p: 1e3 * max(v - (values[i - 1] if i else 0.0), 0.0)
                               for i, (p, v) in enumerate(cumulative.items())}}
  return out


def table(rows: list[dict]) -> str:
  lines = [f"{'cfg':<5}{'path':<10}" + "".join(f"{p:>10}" for p in PIECES) + f"{'step ms':>10}"]
  for r in rows:
    for path in ("reference", "fast"):
      p = r[path]
      label = r["config"] + ("+adv" if r["adversarial"] else "")
      lines.append(f"{label:<5}{path:<10}" + "".join(f"{p['pieces_ms'][k]:>10.2f}" for k in PIECES)
                   + f"{p['step_ms']:>10.2f}")
  return "\n".join(lines)


def main() -> None:
  parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  parser.add_argument("--configs", default="abc")
  parser.add_argument("--adversarial", action="store_true",
                      help="also profile the adversarial step (gorton attack, alpha 0.5)")
  parser.add_argument("--steps", type=int, default=50)
  parser.add_argument("--reduced", action="store_true",
                      help="config (a) at 2 steps: seconds, to check the script runs")
  parser.add_argument("--out", type=Path, default=HERE / "results", help="where the JSON goes")
  args = parser.parse_args()
  if args.reduced:
    args.configs, args.steps = "a", 2
  rows = []
  for name in args.configs:
    for adversarial in (False, True) if args.adversarial else (False,):
      rows.append(profile(name, adversarial, args.steps))
      print(f"profiled {name}{' adversarial' if adversarial else ''}", file=sys.stderr)
  device = jax.devices()[0]
  print(f"device: {device.platform} {device.device_kind}; ms per step of all runs")
  print(table(rows))
  out = args.out
  out.mkdir(parents=True, exist_ok=True)
  stamp = datetime.datetime.now().strftime("%Y%m%d-%H%M%S")
  path = out / f"profile-{stamp}.json"
  path.write_text(json.dumps({"device": f"{device.platform} {device.device_kind}",
                              "rows": rows}, indent=2))
  print(f"saved {path}")


if __name__ == "__main__":
  main()
