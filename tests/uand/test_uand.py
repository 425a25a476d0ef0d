"""U-AND constructions, epsilon-linear readouts, trained circuits and the uand_scaling sweep,
against numpy and brute force over every input."""

import json
import zlib

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import superjax
from superjax import cli
from superjax.core.config import ConfigError
from superjax.uand import circuit, readout
from superjax.uand import constructions as uand
from superjax.uand import inputs as boolean
from superjax.uand.config import UAndConfig
from superjax.uand.report import bootstrap_slope, fit_slope


def _stream(key, name: str):
  """The named sub-stream of `key`, rebuilt from its documented recipe."""
  return jax.random.fold_in(key, zlib.crc32(name.encode()) & 0x7FFFFFFF)


def _np_pairs(x):
  n = x.shape[1]
  return np.stack([x[:, i] * x[:, j] for i in range(n) for j in range(i + 1, n)], axis=1)


@pytest.mark.parametrize("s", [2, 3, 5])
def test_naive_is_exact_on_every_input(s, every_input):
  n = 7
  x = every_input(n, s)
  W, b = uand.naive_weights(n)
  acts = np.asarray(uand.layer(W, b, jnp.asarray(x)))
  np.testing.assert_array_equal(acts, _np_pairs(x))
  assert W.shape == (21, 7)


def test_uand_readout_on_a_hand_checkable_layer():
  # 4 features, 3 neurons with subsets {0,1}, {0,1,2}, {1,2,3}; s = 3, p = 0.5.
  W = np.array([[1, 1, 0, 0], [1, 1, 1, 0], [0, 1, 1, 1]], np.float32)
  x = np.array([[1, 1, 1, 0], [1, 0, 1, 1], [0, 1, 1, 1]], np.float32)
  s, p = 3, 0.5
  acts = np.maximum(x @ W.T - 1, 0)
  # By hand for x0 = {0,1,2}: neuron 0 reads 2 -> 1, neuron 1 reads 3 -> 2, neuron 2 reads 2 -> 1.
  np.testing.assert_array_equal(acts[0], [1, 2, 1])
  scale = 1 + (s - 2) * p
  pairs = [(i, j) for i in range(4) for j in range(i + 1, 4)]
  expected = np.zeros((3, 6))
  for q, (i, j) in enumerate(pairs):
    holders = [k for k in range(3) if W[k, i] and W[k, j]]
    for row in range(3):
      expected[row, q] = np.mean(acts[row, holders]) / scale if holders else 0.0
  # Pair (0,1) on x0 averages neurons 0 and 1: (1 + 2) / 2 / 1.5 = 1.
  assert expected[0, 0] == pytest.approx(1.0)
  values = uand.uand_pair_values(jnp.asarray(W), jnp.asarray(acts), s, p)
  np.testing.assert_allclose(values, expected, rtol=1e-6)
  R = uand.uand_readouts(jnp.asarray(W), s, p)
  np.testing.assert_allclose(acts @ np.asarray(R).T, expected, rtol=1e-6)
  # The first w neurons alone, for each w, against numpy.
  maxes, means = uand.uand_prefix_errors(jnp.asarray(W), jnp.asarray(acts), jnp.asarray(x),
                                         (1, 2, 3), s, p)
  for k, w in enumerate((1, 2, 3)):
    sub = np.zeros((3, 6))
    for q, (i, j) in enumerate(pairs):
      holders = [h for h in range(w) if W[h, i] and W[h, j]]
      sub[:, q] = acts[:, holders].mean(axis=1) / scale if holders else 0.0
    err = np.abs(sub - _np_pairs(x))
    assert float(maxes[k]) == pytest.approx(err.max(), rel=1e-6)
    assert float(means[k]) == pytest.approx(err.mean(), rel=1e-6)


def test_epsilon_measure_against_brute_force_over_all_inputs(every_input):
  n, m = 6, 10
  x = every_input(n, 2)
  rng = np.random.default_rng(0)
  W, b = rng.normal(size=(m, n)).astype(np.float32), rng.normal(size=m).astype(np.float32)
  R = rng.normal(size=(15, m)).astype(np.float32) * 0.1
  acts = np.maximum(x @ W.T + b, 0)
  worst, total = 0.0, 0.0
  for row in range(len(x)):
    for q, (i, j) in enumerate((i, j) for i in range(n) for j in range(i + 1, n)):
      e = abs(float(R[q] @ acts[row]) - x[row, i] * x[row, j])
      worst, total = max(worst, e), total + e
  targets = boolean.pair_targets(jnp.asarray(x))
  mx, mean = readout.measure(jnp.asarray(acts), jnp.asarray(R), targets)
  assert float(mx) == pytest.approx(worst, rel=1e-5)
  assert float(mean) == pytest.approx(total / (len(x) * 15), rel=1e-5)
  # Single features through the same helper.
  Rf = rng.normal(size=(n, m)).astype(np.float32) * 0.1
  mx, _ = readout.measure(jnp.asarray(acts), jnp.asarray(Rf), jnp.asarray(x))
  assert float(mx) == pytest.approx(np.abs(acts @ Rf.T - x).max(), rel=1e-5)


def test_least_squares_and_matched_readouts_against_numpy():
  rng = np.random.default_rng(1)
  A = rng.normal(size=(200, 8)).astype(np.float64)
  T = (rng.random((200, 3)) < 0.3).astype(np.float64)
  ridge = 1e-2
  with jax.enable_x64():
    R = readout.least_squares(jnp.asarray(A), jnp.asarray(T), ridge)
    # Augmented least squares: rows A / sqrt(n) with targets T / sqrt(n), sqrt(ridge) I with 0.
    aug = np.vstack([A / np.sqrt(200), np.sqrt(ridge) * np.eye(8)])
    ref = np.linalg.lstsq(aug, np.vstack([T / np.sqrt(200), np.zeros((8, 3))]), rcond=None)[0].T
    np.testing.assert_allclose(R, ref, rtol=1e-8)
    # Matched: minimise r^T G r subject to r . mu = 1, solved through its KKT system.
    G = np.asarray(readout.gram(jnp.asarray(A), ridge))
    np.testing.assert_allclose(G, A.T @ A / 200 + ridge * np.trace(A.T @ A / 200) / 8 * np.eye(8))
    mu = rng.normal(size=(3, 8))
    whitened, scale = readout.matched(jnp.asarray(G), jnp.asarray(mu))
    for k in range(3):
      kkt = np.block([[2 * G, mu[k][:, None]], [mu[k][None, :], np.zeros((1, 1))]])
      r = np.linalg.solve(kkt, np.concatenate([np.zeros(8), [1.0]]))[:8]
      np.testing.assert_allclose(np.asarray(whitened[k]) * float(scale[k]), r, rtol=1e-8)


@pytest.mark.parametrize("mode", ["exact", "at_most"])
def test_generators_hold_s_active_features(mode):
  n, s = 20, 4
  x = np.asarray(boolean.sample_inputs(jax.random.key(0), n, s, 4000, mode))
  assert set(np.unique(x)) <= {0.0, 1.0}
  counts = x.sum(axis=1)
  if mode == "exact":
    assert (counts == s).all()
  else:
    assert counts.max() <= s and set(counts.astype(int)) == set(range(s + 1))
  # Every feature is on equally often: s_mean / n each, within 5 standard errors.
  rate = x.mean(axis=0)
  expected = counts.mean() / n
  assert np.abs(rate - expected).max() < 5 * np.sqrt(expected / 4000)
  i, j = jnp.array([0, 3]), jnp.array([5, 19])
  pos = np.asarray(boolean.sample_positives(jax.random.key(1), n, s, i, j, 50, mode))
  assert (pos[0, :, 0] == 1).all() and (pos[0, :, 5] == 1).all() and (pos[1, :, 19] == 1).all()
  assert ((pos.sum(-1) == s) if mode == "exact" else (pos.sum(-1) >= 2) & (pos.sum(-1) <= s)).all()


def test_embedding_has_unit_columns_and_documented_width():
  E = np.asarray(boolean.embedding(jax.random.key(0), 64, 32))
  np.testing.assert_allclose(np.linalg.norm(E, axis=0), 1.0, rtol=1e-5)
  assert boolean.superposed_dims(64, 0.5, 1.0) == 32
  assert boolean.superposed_dims(10, 4.0, 0.5) == 10


@pytest.mark.parametrize("change, words", [
    ({"n": (2,)}, "n: 2 is outside the allowed range"),
    ({"p": (1.5,)}, "p: 1.5 is outside the allowed range (0, 1]"),
    ({"constructions": ("bogus",)}, "constructions: 'bogus' is not one of"),
    ({"inputs": ("dense",)}, "inputs: 'dense' is not one of"),
    ({"m": (64, 32)}, "m: values must be distinct and increasing"),
    ({"trained_m": (100,)}, "trained_m: 100 is not one of m"),
    ({"s": (1,)}, "s: 1 is outside the allowed range"),
    ({"target": 0.0}, "target: 0.0 is outside the allowed range"),
    ({"seeds": 0}, "seeds: 0 must be an integer >= 1"),
])
def test_config_validation(change, words):
  base = dict(name="x", n=(8, 16), m=(32, 64), trained_m=(32,))
  with pytest.raises(ConfigError, match=None) as info:
    UAndConfig(**{**base, **change})
  assert words in str(info.value)


def test_old_names_are_refused_with_the_new_one():
  with pytest.raises(ConfigError, match="'widths' is now m"):
    UAndConfig.from_dict({"name": "x", "m": [16, 32], "widths": [32, 64]})
  with pytest.raises(ConfigError, match="'trained_widths' is now trained_m"):
    UAndConfig(name="x").with_overrides(["trained_widths=64"])


def test_slope_fit_and_bootstrap():
  n = np.array([16.0, 32, 64, 128])
  assert fit_slope(n, 3 * n ** 0.5) == pytest.approx(0.5)
  needed = np.stack([5 * n ** 0.3, 7 * n ** 0.3], axis=1)
  slope, low, high = bootstrap_slope(n, needed)
  assert slope == pytest.approx(0.3) and low == pytest.approx(0.3) and high == pytest.approx(0.3)


def test_trained_circuit_through_the_loop_equals_a_plain_scan(tmp_path):
  """The loop's pass (sharded, segmented, checkpointed) trains each seed's circuit to the
  same weights as one lax.scan over its steps, and training lowers the loss."""
  from superjax.core import keys as keys_lib
  from superjax.core import loop
  c = circuit.Circuit(n=6, s=2, m=16, d0=3, active="exact", steps=60, batch=32, lr=3e-3)
  keys = jax.vmap(lambda i: jax.random.fold_in(jax.random.key(5), i))(jnp.arange(2))
  schedule = loop.Schedule(steps=60, log_every=25, checkpoint_every=50)
  circuits = loop.Pass(circuit.program(c, "circuit"), keys, {"seed": np.arange(2)}, schedule,
                       tmp_path)
  trained, saved = circuits.train(), circuits.final_states()
  for run in range(2):
    state = circuit.init_state(c, keys_lib.init_key(keys[run]))
    losses = []
    for t in range(60):
      state, metrics = circuit.train_step(c, state, keys_lib.step_key(keys[run], t))
      losses.append(float(metrics["loss"]))
    np.testing.assert_allclose(saved.params[0][run], state.params[0], rtol=1e-5, atol=1e-6)
    assert np.mean(losses[-10:]) < 0.7 * np.mean(losses[:10])
    # The loop's last segment (steps 50..59) logs the mean of the same step losses.
    np.testing.assert_allclose(trained.history["loss"][run, -1], np.mean(losses[50:]), rtol=1e-5)


_SHRINK = ["--set", "n=8,12", "--set", "m=16,32,64", "--set", "seeds=2",
           "--set", "constructions=naive,uand,random_mlp,trained",
           "--set", "inputs=basis", "--set", "test_inputs=8", "--set", "fitted_max_m=32",
           "--set", "fit_inputs=128", "--set", "trained_max_n=8", "--set", "trained_m=16",
           "--set", "train_steps=20", "--set", "p=0.5", "--set", "positives=2"]


@pytest.mark.slow
def test_cli_run_resume_and_refusal(tmp_path, capsys):
  out = tmp_path / "uand"
  argv = ["run", "uand_scaling", "--out", str(out), "--no-progress"] + _SHRINK
  assert cli.main(argv) == 0
  assert "width m needed" in capsys.readouterr().out
  ds = superjax.load(out)
  assert ds.attrs["experiment"] == "uand"
  assert json.loads(ds.attrs["config"])["n"] == [8, 12]
  for name in ("max_error", "mean_error", "width_needed"):
    assert {"construction", "inputs", "n"} <= set(ds[name].dims), name
  # The naive construction is exact at its own width n(n-1)/2 = 28 and 66, and no narrower
  # cut of it is (some pair then has no neuron).
  np.testing.assert_array_equal(ds["width_needed"].sel(construction="naive", inputs="basis",
                                                       s=2).values, [[28, 28], [66, 66]])
  naive = ds["max_error"].sel(construction="naive", inputs="basis", s=2)
  assert (naive.sel(n=8, m=[16]) == 1).all() and (naive.sel(n=8, m=[32, 64]) == 0).all()
  # Readouts can never beat 0 error; means never exceed maxes.
  measured = ds["max_error"].notnull()
  mx, mean = ds["max_error"].values, ds["mean_error"].values
  ok = np.isfinite(mx) & np.isfinite(mean)  # uand's exact worst case has no mean
  assert (mean[ok] <= mx[ok] + 1e-6).all() and (mean[ok] >= 0).all()
  assert np.isnan(ds["mean_error"].sel(construction="uand")).all()
  assert measured.sel(construction="trained", n=8, m=16).all()
  assert not measured.sel(construction="trained", n=12).any()
  for name in ("uand_error_vs_width", "uand_width_needed", "uand_neurons"):
    assert (out / "figures" / f"{name}.png").stat().st_size > 5_000
    assert (out / "figures" / f"{name}.pdf").exists()
  # A rerun without results reads finished n from pieces/ and recomputes nothing else.
  (out / "results.nc").unlink()
  (out / "pieces" / "n00012.nc").unlink()
  assert cli.main(argv + ["--no-figures"]) == 0
  assert "n=8 was already measured" in capsys.readouterr().err
  again = superjax.load(out)
  for name in ds.data_vars:
    np.testing.assert_array_equal(again[name].values, ds[name].values, err_msg=name)
  # A different config on the same directory is refused, naming the field.
  assert cli.main(argv[:-1] + ["positives=3"]) == 2
  err = capsys.readouterr().err.strip()
  assert "different positives" in err and len(err.splitlines()) == 1


def test_fitted_errors_use_the_matched_readouts():
  """The study's whitened, block-reusing fit equals readout.matched computed directly from
  the same fit inputs and positives, at every width."""
  from superjax.uand import measure
  cfg = UAndConfig(name="x", n=(6,), m=(4, 8), trained_m=(8,), seeds=1, fit_inputs=300,
                   positives=3, active="exact", ridge=1e-3)
  n, s = 6, 2
  key = jax.random.key(3)
  W, b = uand.random_mlp_weights(jax.random.key(4), n, 8)
  act_fn = lambda x: uand.layer(W, b, x)
  f = boolean.sample_inputs(jax.random.key(5), n, s, 20)
  got = np.asarray(measure.fitted_errors(cfg, key, n, s, act_fn, f, (4, 8), single=False,
                                         chunk=16))
  # The reference: the same fit inputs and positives, readouts solved with readout.matched.
  fit = boolean.sample_inputs(_stream(key, "fit"), n, s, cfg.fit_inputs)
  i, j = boolean.pair_index(n)
  pad = -len(i) % 16
  ii, jj = np.pad(i, (0, pad)), np.pad(j, (0, pad), constant_values=1)
  block = jax.random.split(_stream(key, "positive"), len(ii) // 16)[0]
  positives = boolean.sample_positives(block, n, s, jnp.asarray(ii[:16]), jnp.asarray(jj[:16]),
                                       cfg.positives)[:len(i)]
  targets = boolean.pair_targets(f)
  for k, width in enumerate((4, 8)):
    A = act_fn(fit)[:, :width]
    G = readout.gram_from(A.T @ A / A.shape[0], cfg.ridge)
    means = jnp.mean(act_fn(positives.reshape(-1, n)).reshape(len(i), cfg.positives, -1),
                     axis=1)[:, :width]
    whitened, scale = readout.matched(G, means)
    values = act_fn(f)[:, :width] @ (whitened * scale[:, None]).T
    err = np.abs(np.asarray(values) - np.asarray(targets))
    np.testing.assert_allclose(got[k], [err.max(), err.mean()], rtol=1e-4)
