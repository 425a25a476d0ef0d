import functools

import jax
import numpy as np

from superjax import engine, train
from superjax.grid import Grid


def test_vmapped_grid_equals_each_run_trained_alone(tiny_config, tmp_path):
  cfg = tiny_config.replace(models=("linear", "relu"))
  ds = engine.run(cfg, tmp_path / "run", show_progress=False)
  grid = Grid(cfg)
  hp = grid.hparams()
  for model in cfg.models:
    alone = jax.jit(functools.partial(train.train, cfg, model))
    for run in range(grid.size):
      one = jax.tree.map(lambda a: a[run], hp)
      state = alone(one)
      got = ds["W"].sel(model=model, density=one.density, seed=one.seed).values
      np.testing.assert_allclose(got, state.params["W"], rtol=1e-4, atol=1e-5)


def test_chunking_does_not_change_results(tiny_config, tmp_path):
  whole = engine.run(tiny_config, tmp_path / "whole", show_progress=False)
  chunked = engine.run(tiny_config.replace(chunk_size=3), tmp_path / "chunked",
                       show_progress=False)
  np.testing.assert_allclose(whole["W"], chunked["W"], rtol=1e-5, atol=1e-6)
  np.testing.assert_allclose(whole["loss"], chunked["loss"], rtol=1e-5)


def test_diverging_run_is_flagged_and_others_carry_on(tiny_config, tmp_path):
  cfg = tiny_config.replace(optimizer="sgd", lr=(1e-2, 1e12), density=(0.5,), seeds=1)
  ds = engine.run(cfg, tmp_path / "run", show_progress=False)
  assert ds["diverged"].sel(lr=1e12).item() and not ds["diverged"].sel(lr=1e-2).item()
  assert np.isfinite(ds["W"].values).all()  # frozen at the last finite parameters
  alone = jax.jit(functools.partial(train.train, cfg.replace(lr=(1e-2,)), "relu"))(
      jax.tree.map(lambda a: a[0], Grid(cfg.replace(lr=(1e-2,))).hparams()))
  np.testing.assert_allclose(ds["W"].sel(lr=1e-2).squeeze(), alone.params["W"], rtol=1e-5, atol=1e-6)


def test_training_reduces_loss_towards_the_known_solution(tmp_path):
  # Dense features, m = n: the ReLU model can reconstruct exactly (W = I, b = 0).
  from superjax import SweepConfig
  cfg = SweepConfig(name="ident", n=3, m=3, density=(1.0,), steps=3000, batch=256,
                    lr=(1e-2,), weight_decay=0.0, log_every=500)
  ds = engine.run(cfg, tmp_path / "run", show_progress=False)
  assert float(ds["loss"].squeeze()) < 1e-3
  np.testing.assert_allclose(ds["feature_norm"].squeeze(), 1.0, atol=0.03)
