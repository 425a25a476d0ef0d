"""The batched step with hand-derived gradients (toy/fast.py) against the one-model
reference step (autodiff through train.train_step) and against numpy."""

import itertools
import zlib

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from superjax import SweepConfig
from superjax.core import keys
from superjax.core.errors import SuperjaxError
from superjax.toy import attacks, fast, train
from superjax.toy import program as toy_program
from superjax.toy.models import MODELS


def _grid(cfg, model):
  hps = jax.tree.map(jnp.asarray, train.hparams(cfg))
  states = jax.vmap(lambda k, hp: train.init_state(cfg, model, k, hp))(
      jax.vmap(lambda s: train.run_key(cfg, s))(hps.seed), hps)
  return states, hps


def _step_keys(cfg, hps, t):
  """The keys the loop hands step t of each run."""
  return jax.vmap(lambda s: train.seed_step_key(cfg, s, t))(hps.seed)


def _config(model, n, m, attack="none", **extra):
  adversarial = attack != "none"
  return SweepConfig(name="x", models=(model,), n=n, m=m, batch=48, density=(1.0, 0.3, 0.05),
                     importance=(0.9,), seeds=2, train_attack=attack,
                     alpha=(0.25, 1.0) if adversarial else (1.0,),
                     train_eps=(0.1, 0.4) if adversarial else (0.1,),
                     signed=model == "abs", snapshots=3, steps=20, **extra)


# (n, m) = (9, 4) takes the contraction path, (2, 1) the unrolled small-model path.
# Every model attacked (the clean loss is part of the adversarial one) and the two output
# kinds clean at the general shape; the small-model path clean and attacked; the
# analytic attack once. test_hand_gradients_equal_autodiff checks every model x attack.
@pytest.mark.parametrize("model,attack,shape", [
    *itertools.product(sorted(MODELS), ["gorton"], [(9, 4)]),
    *itertools.product(["relu", "abs"], ["none"], [(9, 4)]),
    ("relu", "none", (2, 1)), ("abs", "gorton", (2, 1)),
    ("relu", "analytic_random", (9, 4))])
def test_fast_step_equals_reference_step(model, attack, shape):
  cfg = _config(model, *shape, attack)
  assert fast._is_small({"W": jnp.zeros((1, shape[1], shape[0]))}) == (shape == (2, 1))
  states, hps = _grid(cfg, model)
  reference = jax.jit(lambda s, h, t: train.step_runs(cfg, model, s, h, _step_keys(cfg, h, t), t))
  hand = jax.jit(lambda s, h, t: fast.step_runs(cfg, model, s, h, _step_keys(cfg, h, t), t))
  a, b = states, states
  for t in range(3):
    a, loss_a = reference(a, hps, jnp.int32(t))
    b, loss_b = hand(b, hps, jnp.int32(t))
    np.testing.assert_allclose(loss_b, loss_a, rtol=2e-6, atol=1e-7)
  for x, y in zip(jax.tree.leaves(a), jax.tree.leaves(b)):
    np.testing.assert_allclose(y, x, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("correlation", ["correlated", "anticorrelated"])
def test_fast_step_equals_reference_with_feature_sets(correlation):
  cfg = SweepConfig(name="x", models=("relu",), n=6, m=2, batch=32, set_size=3,
                    correlation=(correlation, "independent"), density=(0.2,), seeds=3)
  states, hps = _grid(cfg, "relu")
  step_keys = _step_keys(cfg, hps, 5)
  a, loss_a = train.step_runs(cfg, "relu", states, hps, step_keys, jnp.int32(5))
  b, loss_b = fast.step_runs(cfg, "relu", states, hps, step_keys, jnp.int32(5))
  np.testing.assert_allclose(loss_b, loss_a, rtol=2e-6)
  np.testing.assert_allclose(b.params["W"], a.params["W"], rtol=1e-5, atol=1e-7)


@pytest.mark.parametrize("model,attack", [*itertools.product(sorted(MODELS), ["none", "gorton"]),
                                          ("relu", "analytic_random")])
def test_hand_gradients_equal_autodiff(model, attack):
  """The gradients themselves (before AdamW, which would hide their scale), to 1e-6."""
  cfg = _config(model, 9, 4, attack)
  states, hps = _grid(cfg, model)
  step = jnp.int32(2)
  step_keys = _step_keys(cfg, hps, step)
  x = jax.vmap(lambda hp, k: train.sample(cfg, hp, keys.named(k, "batch"), cfg.batch))(
      hps, step_keys)
  loss, grads = fast.loss_and_grads(cfg, model, states.params, hps, x, step_keys, step)

  def reference(params, hp, x, step_key):
    importance = train.feature_importance(cfg.n, hp)
    if attack == "none":
      return train.loss_fn(model, params, x, importance)
    key = train.attack_key(step_key)
    x_adv = jax.lax.stop_gradient(attacks.attack_batch(
        attack, model, params, x, importance, attacks.batch_eps(x, hp.train_eps, False), key))
    return train.adversarial_loss_fn(model, params, x, x_adv, importance, hp.alpha)

  want_loss, want = jax.vmap(jax.value_and_grad(reference))(states.params, hps, x, step_keys)
  np.testing.assert_allclose(loss, want_loss, rtol=1e-6)
  for name in want:
    scale = float(jnp.max(jnp.abs(want[name])))
    np.testing.assert_allclose(grads[name], want[name], atol=1e-6 * scale, err_msg=name)


def test_hand_gradients_of_relu_model_match_numpy():
  """The tied ReLU model's gradients written out in numpy (float64), one run."""
  rng = np.random.default_rng(0)
  n, m, B = 5, 2, 40
  W = rng.normal(size=(m, n))
  b = rng.normal(size=n) * 0.1
  x = rng.uniform(size=(B, n)) * (rng.uniform(size=(B, n)) < 0.5)
  importance = 0.7 ** np.arange(n)
  z = x @ W.T @ W + b
  dz = -2 / B * importance * (x - np.maximum(z, 0)) * (z > 0)
  want_W = (x @ W.T).T @ dz + (dz @ W.T).T @ x
  params = {"W": jnp.asarray(W[None], jnp.float32), "b": jnp.asarray(b[None], jnp.float32)}
  assert fast._is_small(params)  # whose arrays hold the batch last
  x32 = jnp.asarray(x.T[None], jnp.float32)
  blocks = [(fast._hidden(params, x32), None, jnp.full((1,), 1 / B))]
  loss, grads = fast._loss_and_grads("relu", params, x32, x32, blocks,
                                     jnp.asarray(importance[None], jnp.float32))
  np.testing.assert_allclose(loss[0], np.mean(np.sum(importance * (x - np.maximum(z, 0)) ** 2,
                                                     axis=1)), rtol=1e-5)
  np.testing.assert_allclose(grads["W"][0], want_W, rtol=1e-4, atol=1e-6)
  np.testing.assert_allclose(grads["b"][0], dz.sum(0), rtol=1e-4, atol=1e-6)


@pytest.mark.parametrize("spec", ["rbn,rmn->rbm", "rbm,rmn->rbn", "rbm,rbn->rmn",
                                  "rbn,rbm->rnm", "rbm,rnm->rbn", "rbn,rnm->rbm",
                                  "rmn,rkn->rmk", "rbm,rmk->rbk", "rbm,rbk->rmk"])
def test_unrolled_product_equals_einsum(spec):
  rng = np.random.default_rng(1)
  sizes = {"r": 3, "b": 5, "m": 2, "n": 3, "k": 2}
  left, right = spec.split("->")[0].split(",")
  a = rng.normal(size=[sizes[c] for c in left]).astype(np.float32)
  b = rng.normal(size=[sizes[c] for c in right]).astype(np.float32)
  # A small model's arrays hold the batch last: each operand and the result in that order.
  planes = lambda names: names.replace("b", "") + "b" if "b" in names else names
  out = spec.split("->")[1]
  got = fast._product(spec, jnp.asarray(np.einsum(f"{left}->{planes(left)}", a)),
                      jnp.asarray(np.einsum(f"{right}->{planes(right)}", b)), small=True)
  np.testing.assert_allclose(got, np.einsum(f"{left},{right}->{planes(out)}", a, b),
                             rtol=1e-5, atol=1e-6)


def test_per_input_draws_are_the_reference_attacks_draws():
  cfg = SweepConfig(name="x", n=4, m=2, batch=8, train_attack="gorton", alpha=(0.5,))
  key = train.seed_step_key(cfg, jnp.int32(1), jnp.int32(7))
  # What attacks.attack_batch hands each input's attack, from the step's attack key.
  keys = jax.random.split(train.attack_key(key), cfg.batch)
  want = jax.vmap(lambda k: jax.random.normal(k, (cfg.n,)))(keys)
  draw = lambda k: jax.random.normal(k, (cfg.n,))
  np.testing.assert_array_equal(fast._per_input(cfg, key, draw), want)


def test_program_takes_the_fast_path_unless_told_otherwise(monkeypatch):
  calls = []
  monkeypatch.setattr(fast, "step_runs", lambda *a: calls.append("hand") or train.step_runs(*a))
  cfg = _config("relu", 4, 2)
  states, hps = _grid(cfg, "relu")
  keys = _step_keys(cfg, hps, 0)
  toy_program.program(cfg, "relu").step_runs(states, hps, keys, jnp.int32(0), None)
  assert calls == ["hand"]
  autodiff = SweepConfig(**dict(cfg.to_dict(), gradients="autodiff"))
  toy_program.program(autodiff, "relu").step_runs(states, hps, keys, jnp.int32(0), None)
  pgd = SweepConfig(**dict(cfg.to_dict(), train_attack="pgd"))
  toy_program.program(pgd, "relu").step_runs(states, hps, keys, jnp.int32(0), None)
  assert calls == ["hand"]


def test_gradients_setting_is_validated():
  with pytest.raises(SuperjaxError, match="gradients"):
    SweepConfig(name="x", gradients="numeric")


def test_batched_finish_equals_finish_of_each_run():
  """The held-out batch drawn once per seed gives every run the measurements its own
  finish gives it (snapshots and an evaluation attack included)."""
  cfg = _config("relu", 9, 4, eval_attacks=("gorton",), eval_batch=64)
  states, hps = _grid(cfg, "relu")
  assert train.draws_once_per_seed(cfg, hps.seed.shape[0])
  # The finish keys the loop hands: fold_in(run key, crc32("finish")).
  finish_keys = jax.vmap(lambda s: jax.random.fold_in(
      train.run_key(cfg, s), zlib.crc32(b"finish") & 0x7FFFFFFF))(hps.seed)
  batched = jax.jit(lambda s, h, k: train.finish_runs(cfg, "relu", s, h, k))(
      states, hps, finish_keys)
  each = jax.jit(jax.vmap(lambda s, h, k: train.finish(cfg, "relu", s, h, k)))(
      states, hps, finish_keys)
  assert sorted(batched) == sorted(each)
  for name in each:
    np.testing.assert_allclose(batched[name], each[name], rtol=1e-6, atol=1e-7, err_msg=name)
