import jax
import jax.numpy as jnp
import numpy as np
import pytest

from superjax import SweepConfig
from superjax.core import keys
from superjax.toy import train


@pytest.mark.parametrize("model", ["linear", "relu"])
def test_loss_matches_numpy(model):
  rng = np.random.default_rng(0)
  W = rng.normal(size=(3, 6)).astype(np.float32)
  b = rng.normal(size=6).astype(np.float32)
  x = (rng.uniform(size=(50, 6)) * (rng.uniform(size=(50, 6)) < 0.4)).astype(np.float32)
  importance = 0.8 ** np.arange(6)
  out = x @ W.T @ W + b
  if model == "relu":
    out = np.maximum(out, 0)
  want = np.mean(np.sum(importance * (x - out) ** 2, axis=1))
  got = train.loss_fn(model, {"W": W, "b": b}, jnp.asarray(x), jnp.asarray(importance, jnp.float32))
  np.testing.assert_allclose(got, want, rtol=1e-5)


def test_feature_importance_and_density():
  hp = train.hparams(SweepConfig(name="x", importance=(0.9,), relative_importance=(3.0,),
                                 density=(0.25,)))
  hp0 = jax.tree.map(lambda a: a[0], hp)
  np.testing.assert_allclose(train.feature_importance(4, hp0), [1, 0.9, 0.81, 3 * 0.729], rtol=1e-6)
  np.testing.assert_allclose(train.feature_density(4, hp0), [0.25] * 4)


def test_one_adamw_step_matches_numpy():
  cfg = SweepConfig(name="x", n=4, m=2, batch=16, weight_decay=0.01, lr=(0.01,))
  hp = jax.tree.map(lambda a: jnp.asarray(a[0]), train.hparams(cfg))
  state = train.init_state(cfg, "relu", train.run_key(cfg, hp.seed), hp)
  step_key = train.seed_step_key(cfg, hp.seed, 0)
  new, _ = train.train_step(cfg, "relu", state, hp, step_key, jnp.int32(0))
  # Independent AdamW (decoupled weight decay) after one step from zero moments.
  x = train.sample(cfg, hp, keys.named(step_key, "batch"), 16)
  grads = jax.grad(train.loss_fn, argnums=1)("relu", state.params, x, train.feature_importance(4, hp))
  for name in ("W", "b"):
    p, g = np.asarray(state.params[name], np.float64), np.asarray(grads[name], np.float64)
    m, v = 0.1 * g / (1 - 0.9), 0.001 * g ** 2 / (1 - 0.999)
    want = p - 0.01 * (m / (np.sqrt(v) + 1e-8) + 0.01 * p)
    np.testing.assert_allclose(new.params[name], want, rtol=1e-5, atol=1e-7)


def test_schedules_scale_the_learning_rate():
  for schedule, at_zero, at_end in (("constant", 1.0, 1.0), ("cosine", 1.0, 0.0),
                                    ("warmup", 0.0, 1.0), ("warmup_cosine", 0.0, 0.0)):
    cfg = SweepConfig(name="x", steps=100, schedule=schedule, warmup_steps=10, optimizer="sgd")
    opt = train.make_optimizer(cfg, jnp.float32(0.5))
    params = {"w": jnp.zeros(())}
    state = opt.init(params)
    first, state = opt.update({"w": jnp.ones(())}, state)
    for _ in range(99):
      last, state = opt.update({"w": jnp.ones(())}, state)
    assert float(-first["w"]) == pytest.approx(0.5 * at_zero, abs=1e-6), schedule
    assert float(-last["w"]) == pytest.approx(0.5 * at_end, abs=0.01), schedule


def test_step_runs_drawing_once_per_seed_equals_each_run_stepped_alone():
  # 8 runs of 2 seeds: more runs than seeds x devices, so the draw-once-per-seed path runs.
  cfg = SweepConfig(name="x", n=6, m=3, batch=32, density=(1.0, 0.5, 0.2, 0.05), seeds=2,
                    importance=(0.9,))
  hps = train.hparams(cfg)
  assert cfg.seeds * jax.device_count() < hps.seed.shape[0]
  keys = jax.vmap(lambda s: train.run_key(cfg, s))(hps.seed)
  states = jax.vmap(lambda k, hp: train.init_state(cfg, "relu", k, hp))(keys, hps)
  step_keys = jax.vmap(lambda s: train.seed_step_key(cfg, s, 3))(hps.seed)
  step = jax.jit(lambda s, h: train.step_runs(cfg, "relu", s, h, step_keys, jnp.int32(3)))
  fast, fast_loss = step(states, hps)
  for run in range(hps.seed.shape[0]):
    one = jax.tree.map(lambda a, r=run: a[r], (states, hps))
    alone, loss = train.train_step(cfg, "relu", one[0], one[1], step_keys[run], jnp.int32(3))
    np.testing.assert_allclose(fast_loss[run], loss, rtol=1e-6)
    for name in ("W", "b"):
      np.testing.assert_allclose(fast.params[name][run], alone.params[name], rtol=1e-6, atol=1e-7)
