import functools

import jax
import numpy as np

from superjax.core.experiment import run
from superjax.toy import train


def test_vmapped_grid_equals_each_run_trained_alone(tiny_config, tmp_path):
  cfg = tiny_config.replace(models=("linear", "relu"))
  ds = run(cfg, tmp_path / "run", show_progress=False)
  hp = train.hparams(cfg)
  for model in cfg.models:
    alone = jax.jit(functools.partial(train.train, cfg, model))
    for index in range(cfg.run_count):
      one = jax.tree.map(lambda a: a[index], hp)
      state = alone(one)
      got = ds["W"].sel(model=model, density=one.density, seed=one.seed).values
      np.testing.assert_allclose(got, state.params["W"], rtol=1e-4, atol=1e-5)


def test_diverging_run_is_flagged_and_others_carry_on(tiny_config, tmp_path):
  cfg = tiny_config.replace(optimizer="sgd", lr=(1e-2, 1e12), density=(0.5,), seeds=1)
  ds = run(cfg, tmp_path / "run", show_progress=False)
  assert ds["diverged"].sel(lr=1e12).item() and not ds["diverged"].sel(lr=1e-2).item()
  assert np.isfinite(ds["W"].values).all()  # frozen at the last finite parameters
  alone = jax.jit(functools.partial(train.train, cfg.replace(lr=(1e-2,)), "relu"))(
      jax.tree.map(lambda a: a[0], train.hparams(cfg.replace(lr=(1e-2,)))))
  np.testing.assert_allclose(ds["W"].sel(lr=1e-2).squeeze(), alone.params["W"], rtol=1e-5, atol=1e-6)


def test_training_reduces_loss_towards_the_known_solution(tmp_path):
  # Dense features, m = n: the ReLU model can reconstruct exactly (W = I, b = 0).
  from superjax import SweepConfig
  cfg = SweepConfig(name="ident", n=3, m=3, density=(1.0,), steps=3000, batch=256,
                    lr=(1e-2,), weight_decay=0.0, log_every=500)
  ds = run(cfg, tmp_path / "run", show_progress=False)
  assert float(ds["loss"].squeeze()) < 1e-3
  np.testing.assert_allclose(ds["feature_norm"].squeeze(), 1.0, atol=0.03)


def test_snapshots_record_w_without_changing_training(tiny_config, tmp_path):
  plain = run(tiny_config, tmp_path / "plain", show_progress=False)
  cfg = tiny_config.replace(snapshots=6)
  snap = run(cfg, tmp_path / "snap", show_progress=False)
  np.testing.assert_array_equal(plain["W"], snap["W"])
  steps = snap.snapshot.values
  assert steps[0] == 1 and steps[-1] == cfg.steps
  np.testing.assert_array_equal(snap["W_snapshot"].isel(snapshot=-1), snap["W"])
  # A middle snapshot equals the weights of the same run trained for that many steps.
  k = int(steps[len(steps) // 2])
  short = run(tiny_config.replace(steps=k, log_every=k), tmp_path / "short",
                     show_progress=False)
  np.testing.assert_allclose(snap["W_snapshot"].sel(snapshot=k), short["W"], rtol=1e-5, atol=1e-6)


def test_snapshot_at_measures_the_run_as_if_it_had_ended_there(tiny_config, tmp_path):
  k = 120
  cfg = tiny_config.replace(snapshot_at=(k, tiny_config.steps), eval_attacks=("gorton",))
  ds = run(cfg, tmp_path / "long", show_progress=False)
  short = run(cfg.replace(steps=k, log_every=k // 2, snapshot_at=()), tmp_path / "short",
              show_progress=False)
  np.testing.assert_array_equal(ds.snapshot.values, [k, cfg.steps])
  for name in ("W", "b", "loss", "vulnerability", "spurious_outputs", "adv_spurious_outputs"):
    np.testing.assert_allclose(ds[f"{name}_snapshot"].sel(snapshot=k), short[name],
                               rtol=1e-4, atol=1e-6, err_msg=name)
    np.testing.assert_allclose(ds[f"{name}_snapshot"].sel(snapshot=cfg.steps), ds[name],
                               rtol=1e-6, atol=1e-7, err_msg=name)


def test_relative_density_and_correlation_axes_reach_the_runs(tiny_config, tmp_path):
  cfg = tiny_config.replace(n=6, relative_density=(0.5, 2.0), set_size=3, density=(0.1,),
                            correlation=("independent", "anticorrelated"))
  ds = run(cfg, tmp_path / "run", show_progress=False)
  assert ds["loss"].dims == ("density", "relative_density", "correlation", "seed")
  np.testing.assert_allclose(ds["feature_density"].sel(relative_density=2.0).values[..., -1], 0.2)
  np.testing.assert_allclose(ds["feature_density"].sel(relative_density=0.5).values[..., 0], 0.1)
  # Each run matches the same run trained alone with its traced correlation index.
  hp = train.hparams(cfg)
  last = cfg.run_count - 1
  one = jax.tree.map(lambda a: a[last], hp)
  state = jax.jit(functools.partial(train.train, cfg, "relu"))(one)
  got = ds["W"].sel(relative_density=one.relative_density, correlation="anticorrelated",
                    seed=one.seed).squeeze()
  np.testing.assert_allclose(got, state.params["W"], rtol=1e-4, atol=1e-5)
