"""Your own model as a grid: axes against brute force, --set on axes, a loss-and-optimizer
model against its closed form, the tutorial's 1,000-run model from the CLI and from
Python, and families registered through entry points."""

import importlib.metadata
import itertools
import subprocess
import sys

import jax.numpy as jnp
import numpy as np
import optax
import pytest

import superjax
from superjax.core import experiment, sweeps
from superjax.core.errors import SuperjaxError


def test_axes_lay_out_runs_as_the_product_of_their_groups():
  grid = superjax.product(superjax.zipped(lr=[0.1, 0.2, 0.3], warmup=[0, 5, 10]),
                          seed=range(2), p=[0.5, 1.0])
  assert grid.dims == ("lr", "seed", "p") and grid.shape == (3, 2, 2) and grid.size == 12
  hp = grid.hparams()
  want = list(itertools.product(zip([0.1, 0.2, 0.3], [0, 5, 10]), range(2), [0.5, 1.0]))
  got = list(zip(zip(hp["lr"], hp["warmup"]), hp["seed"], hp["p"]))
  assert [(float(a), int(b)) for (a, b), _, _ in got] == [
      (pytest.approx(a), b) for (a, b), _, _ in want]
  assert [(int(s), float(p)) for _, s, p in got] == [(s, p) for _, s, p in want]
  assert hp["seed"].dtype == np.int32 and hp["lr"].dtype == np.float32
  for bad, message in ((lambda: superjax.zipped(a=[1, 2], b=[1]), "equal lengths"),
                       (lambda: superjax.product(a=[]), "at least one value"),
                       (lambda: superjax.product(a=["x"]), "not a finite number"),
                       (lambda: superjax.product(superjax.zipped(a=[1]), a=[2]),
                        "more than once")):
    with pytest.raises(SuperjaxError, match=message):
      bad()


def _quadratic_model(**options):
  """Gradient descent on 0.5 a ||w - 1||^2: w_T = 1 + (1 - lr a)^T (w_0 - 1)."""
  return superjax.Model.from_loss(
      name="sgd_quadratic", init_params=lambda key, hp, data: {"w": jnp.full((3,), 4.0)},
      loss=lambda params, hp, key, data: 0.5 * hp["a"] * jnp.sum((params["w"] - 1.0) ** 2),
      optimizer=lambda hp: optax.sgd(hp["lr"]),
      axes=superjax.product(a=[0.5, 2.0], lr=[0.1, 0.2]), steps=30, log_every=10, **options)


def test_a_loss_and_an_optimizer_train_to_the_closed_form(tmp_path):
  model = _quadratic_model()
  ds = superjax.run(model, out=tmp_path / "a", progress=False, lr=[0.05, 0.1, 0.2])
  assert ds["w"].dims == ("a", "lr", "w_dim0") and list(ds["lr"].values) == pytest.approx(
      [0.05, 0.1, 0.2])
  a, lr = ds["a"].values[:, None, None], ds["lr"].values[None, :, None]
  np.testing.assert_allclose(ds["w"].values, np.broadcast_to(1 + (1 - lr * a) ** 30 * 3.0,
                                                             (2, 3, 3)), rtol=1e-5)
  assert not ds["diverged"].values.any()
  text = superjax.report(ds)
  assert "final loss" in text and "a=0.5, lr=0.05" in text


def test_set_steps_reaches_an_optimizers_cosine_schedule(tmp_path):
  """optimizer(hp, schedule): the cosine decay spans the run's steps as --set makes them,
  checked against gradient descent in numpy with lr_t = lr (1 + cos(pi t / T)) / 2."""
  model = superjax.Model.from_loss(
      name="cosine", init_params=lambda key, hp, data: {"w": jnp.full((3,), 4.0)},
      loss=lambda params, hp, key, data: 0.5 * hp["a"] * jnp.sum((params["w"] - 1.0) ** 2),
      optimizer=lambda hp, schedule: optax.sgd(
          optax.cosine_decay_schedule(hp["lr"], schedule.steps)),
      axes=superjax.product(a=[0.5, 2.0], lr=[0.1, 0.2]), steps=30, log_every=10)
  for steps in (30, 12):
    ds = superjax.run(model, out=tmp_path / str(steps), progress=False, steps=steps)
    a, lr = ds["a"].values[:, None], ds["lr"].values[None, :]
    w = np.full(a.shape[:1] + lr.shape[1:], 4.0)
    for t in range(steps):
      w = w - lr * 0.5 * (1 + np.cos(np.pi * t / steps)) * a * (w - 1.0)
    np.testing.assert_allclose(ds["w"].values[..., 0], w, rtol=1e-5)
  assert superjax.config(model, steps=12).steps == 12


def test_malformed_functions_are_refused_in_one_line_naming_them(tmp_path):
  init = lambda key, hp, data: {"x": jnp.zeros(3), "v": jnp.zeros(3)}
  good = lambda state, hp, key, t, data: (state, {"loss": jnp.sum(state["x"])})
  cases = {
      "only the state": (lambda s, hp, k, t, d: s, r"step must return \(state, metrics\); it returned a dict"),
      "swapped": (lambda s, hp, k, t, d: good(s, hp, k, t, d)[::-1],
                  "step must return the state init makes.*swapped"),
      "a key dropped": (lambda s, hp, k, t, d: ({"x": s["x"]}, {"loss": 0.0}),
                        r"step must return the state init makes; missing \['v'\]"),
      "reshaped": (lambda s, hp, k, t, d: (dict(s, x=jnp.zeros(4)), {}),
                   r"step changes the state's \['x'\] from float32\[3\] to float32\[4\]"),
      "a vector metric": (lambda s, hp, k, t, d: (s, {"loss": s["x"]}),
                          "metric 'loss' has shape"),
      "an error": (lambda s, hp, k, t, d: (s, {"loss": s["nope"]}),
                   "step raised KeyError: 'nope'"),
  }
  for name, (step, message) in cases.items():
    model = superjax.Model(name="bad", init=init, step=step, axes=superjax.product(a=[1.0]),
                           steps=10)
    with pytest.raises(SuperjaxError, match=f"^bad: {message}") as info:
      superjax.run(model, out=tmp_path / name.replace(" ", "_"), progress=False)
    assert "\n" not in str(info.value), name


def test_set_changes_axes_and_schedule_and_names_unknown_keys(tmp_path):
  cfg = _quadratic_model().config()
  changed = cfg.with_overrides(["lr=logspace(-2,-1,3)", "steps=50"])
  assert changed.steps == 50
  np.testing.assert_allclose(changed.grid().hparams()["lr"], np.repeat(
      [[0.01, 0.0316228, 0.1]], 2, axis=0).ravel(), rtol=1e-5)
  with pytest.raises(SuperjaxError, match="unknown config key 'lrr'.*a, lr"):
    cfg.with_overrides(["lrr=0.1"])
  with pytest.raises(SuperjaxError, match="lr: cannot read"):
    cfg.with_overrides(["lr=fast"])
  with pytest.raises(SuperjaxError, match="steps"):
    cfg.with_overrides(["steps=0"])


@pytest.mark.slow
def test_the_tutorial_model_trains_1000_runs_from_the_cli_and_from_python(tmp_path):
  small = ["--set", "steps=20", "--set", "log_every=10", "--set", "checkpoint_every=10"]
  # Figures of a model's grid are drawn in the contract test; here only the numbers.
  done = subprocess.run([sys.executable, "-m", "superjax", "run", "compressed_computation",
                         "--out", str(tmp_path / "cli"), "--no-progress", "--no-figures",
                         *small],
                        capture_output=True, text=True, timeout=600)
  assert done.returncode == 0, done.stderr[-2000:]
  ds = superjax.load(tmp_path / "cli")
  assert dict(ds["loss_ratio"].sizes) == {"p": 10, "lr": 4, "seed": 25}
  # The naive solution's loss is (N - M) E[ReLU(x)^2] = (N - M) p / 6 for x ~ U[-1, 1]
  # active with probability p: the saved ratio must divide the saved loss by it.
  p = ds["p"].values[:, None, None]
  naive = ds["eval_loss"].values / ds["loss_ratio"].values
  busy = (p >= 0.04) & np.ones(naive.shape, bool)
  np.testing.assert_allclose(naive[busy], np.broadcast_to(20 * p / 6, naive.shape)[busy],
                             rtol=0.1)
  model = sweeps.load("compressed_computation").model
  again = superjax.run(model, out=tmp_path / "python", progress=False, steps=20, log_every=10,
                       lr=[1e-3], seed=[3])
  assert dict(again["loss_ratio"].sizes) == {"p": 10, "lr": 1, "seed": 1}
  # The same key for seed 3: the same runs as the CLI's, to float rounding.
  np.testing.assert_allclose(again["eval_loss"].values, ds["eval_loss"].values[:, 1:2, 3:4],
                             rtol=1e-4)


def test_installed_packages_register_families_through_entry_points(monkeypatch):
  from superjax.core import registry
  point = importlib.metadata.EntryPoint(name="their_family", value="superjax.custom:EXPERIMENT",
                                        group=registry.ENTRY_POINTS)
  monkeypatch.setattr(importlib.metadata, "entry_points",
                      lambda group: [point] if group == registry.ENTRY_POINTS else [])
  monkeypatch.setattr(registry, "_entry_points_read", False)
  monkeypatch.setattr(registry, "_REGISTERED", dict(registry._REGISTERED))
  assert "their_family" in experiment.names()
  assert experiment.get("their_family") is experiment.get("custom")


def test_names_the_results_need_are_checked_before_training(tmp_path):
  def init(key, hp, data):
    return {"w": jnp.zeros(3)}

  def step(state, hp, key, t, data):
    return state, {"loss": jnp.sum(state["w"]), "per_feature": state["w"]}

  grid = superjax.product(lr=[0.1, 0.2])
  with pytest.raises(SuperjaxError, match="repeats a value"):
    superjax.Model(name="m", init=init, step=step, steps=2,
                   axes=superjax.product(superjax.zipped(width=[8, 8], lr=[0.1, 0.2]))).config()
  with pytest.raises(SuperjaxError, match="steps: is a name the run or its results use"):
    superjax.Model(name="m", init=init, step=step, steps=2,
                   axes=superjax.product(steps=[1, 2])).config()
  with pytest.raises(SuperjaxError, match="metric 'per_feature' has shape"):
    superjax.run(superjax.Model(name="m", init=init, step=step, steps=2, axes=grid),
                 out=tmp_path / "a", progress=False)
  clash = superjax.Model(name="m", init=init, step=lambda s, hp, k, t, d: (s, {"loss": 0.0}),
                         finish=lambda s, hp, k, d: {"lr": s["w"]}, steps=2, axes=grid)
  with pytest.raises(SuperjaxError, match="finish output 'lr'"):
    superjax.run(clash, out=tmp_path / "b", progress=False)
  assert not (tmp_path / "b" / "state").exists()


def test_a_notebook_models_own_report_serves_its_loaded_results(tmp_path):
  model = _quadratic_model(report=lambda ds: f"mine: {ds.sizes['lr']} learning rates")
  superjax.run(model, out=tmp_path, progress=False)
  assert superjax.report(superjax.load(tmp_path)) == "mine: 2 learning rates"
