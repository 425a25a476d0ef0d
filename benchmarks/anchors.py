"""Two plain-JAX programs that train the same grids as `superjax run`, as anchors for
benchmarks/throughput.py, so that superjax's lead over what a researcher would write
cannot slip unseen.

- notebook: what a researcher writes in a notebook. One model's loss, `jax.vmap` over
  the grid's runs, each run drawing its own batch, `optax.adamw`, and a Python loop over
  a jitted step.
- expert: what a JAX expert writes for this one config and nothing else. One jitted
  `lax.scan` over every step, the step's uniforms drawn once and shared by all runs (each
  run keeps those below its own density), an instances axis written with einsum, autodiff
  through it, and no checkpoints, metrics or evaluation.

Both train the tied ReLU-output model x' = ReLU(W^T W x + b) with the importance-
weighted squared error, AdamW at lr 1e-3, batch 1024, and run with JAX's defaults (one
CPU device), as their authors would. Each runs in a fresh process:

    python benchmarks/anchors.py notebook|expert CONFIG STEPS

prints one JSON line with model-steps per second after compilation.
"""

from __future__ import annotations

import json
import sys
import time

import jax
import jax.numpy as jnp
import numpy as np
import optax

BATCH = 1024
LR = 1e-3


def grid(name: str) -> tuple[int, int, np.ndarray, np.ndarray]:
  """(n, m, density, importance) per run of a benchmark config (superjax.toy.bench),
  runs in the order superjax's grid lists them (importance 1 where the config has no
  importance axis; relative importance of the last feature where it has one)."""
  from superjax.toy import bench
  cfg = bench.CONFIGS[name][1]
  density = np.asarray(cfg["density"], np.float32)
  relative = np.asarray(cfg.get("relative_importance", (1.0,)), np.float32)
  seeds = cfg.get("seeds", 1)
  d, r, _ = np.meshgrid(density, relative, np.arange(seeds), indexing="ij")
  return cfg["n"], cfg["m"], d.ravel(), r.ravel()


def _init(key: jax.Array, runs: int, n: int, m: int) -> dict:
  keys = jax.random.split(key, runs)
  W = jax.vmap(lambda k: jnp.sqrt(2.0 / (n + m)) * jax.random.normal(k, (m, n)))(keys)
  return {"W": W, "b": jnp.zeros((runs, n))}


def _importance(n: int, relative: jax.Array) -> jax.Array:
  return jnp.ones((n,)).at[-1].multiply(relative)


def notebook(n: int, m: int, density: np.ndarray, relative: np.ndarray, steps: int) -> float:
  """Model-steps per second of the notebook program."""
  runs = len(density)
  optimizer = optax.adamw(LR)

  def loss_fn(params, x, importance):  # ONE model
    out = jax.nn.relu(x @ params["W"].T @ params["W"] + params["b"])
    return jnp.mean(jnp.sum(importance * (x - out) ** 2, axis=-1))

  def sample(key, p):
    k1, k2 = jax.random.split(key)
    return jax.random.uniform(k1, (BATCH, n)) * (jax.random.uniform(k2, (BATCH, n)) < p)

  def one_step(params, opt_state, key, p, relative):
    x = sample(key, p)
    loss, grads = jax.value_and_grad(loss_fn)(params, x, _importance(n, relative))
    updates, opt_state = optimizer.update(grads, opt_state, params)
    return optax.apply_updates(params, updates), opt_state, loss

  @jax.jit
  def step(params, opt_state, key, p, relative):
    keys = jax.random.split(key, runs)
    return jax.vmap(one_step)(params, opt_state, keys, p, relative)

  params = _init(jax.random.key(0), runs, n, m)
  opt_state = jax.vmap(optimizer.init)(params)
  p, relative = jnp.asarray(density), jnp.asarray(relative)
  key = jax.random.key(1)
  params, opt_state, loss = step(params, opt_state, key, p, relative)  # compiles
  loss.block_until_ready()
  t0 = time.perf_counter()
  for t in range(steps):
    params, opt_state, loss = step(params, opt_state, jax.random.fold_in(key, t), p, relative)
  loss.block_until_ready()
  return runs * steps / (time.perf_counter() - t0)


def expert(n: int, m: int, density: np.ndarray, relative: np.ndarray, steps: int) -> float:
  """Model-steps per second of the expert's one-config scan."""
  runs = len(density)
  optimizer = optax.adamw(LR)
  p = jnp.asarray(density)[:, None, None]
  importance = jax.vmap(lambda r: _importance(n, r))(jnp.asarray(relative))[:, None, :]

  def loss_fn(params, x):  # every run at once, on its instances axis
    h = jnp.einsum("rbn,rmn->rbm", x, params["W"])
    out = jax.nn.relu(jnp.einsum("rbm,rmn->rbn", h, params["W"]) + params["b"][:, None])
    return jnp.sum(jnp.mean(jnp.sum(importance * (x - out) ** 2, axis=-1), axis=-1))

  def body(carry, key):
    params, opt_state = carry
    k1, k2 = jax.random.split(key)
    x = jax.random.uniform(k1, (BATCH, n)) * (jax.random.uniform(k2, (BATCH, n)) < p)
    grads = jax.grad(loss_fn)(params, x)
    updates, opt_state = optimizer.update(grads, opt_state, params)
    return (optax.apply_updates(params, updates), opt_state), None

  @jax.jit
  def train(params, opt_state, key):
    (params, opt_state), _ = jax.lax.scan(body, (params, opt_state),
                                          jax.random.split(key, steps))
    return params

  params = _init(jax.random.key(0), runs, n, m)
  opt_state = optimizer.init(params)
  compiled = train.lower(params, opt_state, jax.random.key(1)).compile()
  t0 = time.perf_counter()
  compiled(params, opt_state, jax.random.key(1))["W"].block_until_ready()
  return runs * steps / (time.perf_counter() - t0)


ANCHORS = {"notebook": notebook, "expert": expert}


def measure(anchor: str, name: str, steps: int) -> dict:
  """`anchor` on config `name` for `steps` steps in a fresh process (JAX's defaults)."""
  import subprocess
  out = subprocess.run([sys.executable, __file__, anchor, name, str(steps)], check=True,
                       capture_output=True, text=True)
  return json.loads(out.stdout.strip().splitlines()[-1])


if __name__ == "__main__":
  anchor, name, steps = sys.argv[1], sys.argv[2], int(sys.argv[3])
  n, m, density, relative = grid(name)
  rate = ANCHORS[anchor](n, m, density, relative, steps)
  print(json.dumps({"anchor": anchor, "config": name, "runs": len(density), "steps": steps,
                    "model_steps_per_second": rate}))
