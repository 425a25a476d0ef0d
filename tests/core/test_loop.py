"""The core loop on a minimal program with a closed-form trajectory: gradient descent on a
per-run quadratic 0.5 a ||x - c||^2, whose iterate after T steps is
c + (1 - lr a)^T (x0 - c). Checked against that closed form and against keys rebuilt
with jax.random and zlib directly: a grid equals each run alone, chunks equal one chunk,
padding is dropped, a stop at any segment resumes to the same bits without running init,
and a non-finite metric or state flags the run and freezes it."""

import signal
import zlib

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from superjax.core import checkpoint, keys, loop, preemption

STEPS, LOG, CENTER = 12, 3, np.array([1.0, -2.0])


def _init(key, hp, data):
  x0 = jax.random.normal(key, (2,))
  return {"x": x0, "x0": x0}


def _step(state, hp, key, t, data):
  x = state["x"]
  loss = 0.5 * hp["a"] * jnp.sum((x - data["c"]) ** 2)
  new = x - hp["lr"] * hp["a"] * (x - data["c"])
  new = jnp.where(t == hp["state_nan_at"], jnp.nan, new)
  metrics = {"loss": loss, "draw": jax.random.uniform(key),
             "probe": jnp.where(t == hp["metric_nan_at"], jnp.nan, 0.0)}
  return dict(state, x=new), metrics


def _finish(state, hp, key, data):
  return {"x": state["x"], "x0": state["x0"], "finish_draw": jax.random.uniform(key)}


PROGRAM = loop.Program(name="quadratic", init=_init, step=_step, finish=_finish)


def _hps(runs=5, **nan_at):
  rng = np.random.default_rng(0)
  hp = {"a": rng.uniform(0.5, 2.0, runs).astype(np.float32),
        "lr": rng.uniform(0.05, 0.3, runs).astype(np.float32),
        "seed": np.arange(runs, dtype=np.int32) % 3,
        "state_nan_at": np.full(runs, -1, np.int32), "metric_nan_at": np.full(runs, -1, np.int32)}
  for name, (run, step) in nan_at.items():
    hp[name][run] = step
  return hp


def _pass(run_dir, hps, chunk_size=0, program=PROGRAM, checkpoint_every=LOG):
  return loop.Pass(program, keys.run_keys(7, hps["seed"]), hps,
                   loop.Schedule(STEPS, LOG, checkpoint_every, chunk_size), run_dir,
                   data={"c": CENTER.astype(np.float32)})


def _run_key(seed):
  """keys.run_keys(7, seed), rebuilt from jax.random and zlib."""
  return jax.random.fold_in(jax.random.fold_in(jax.random.key(7),
                                               zlib.crc32(b"runs") & 0x7FFFFFFF), seed)


def _closed_form(x0, hp, steps):
  factor = (1.0 - hp["lr"].astype(np.float64) * hp["a"]) ** steps
  return CENTER + factor[:, None] * (x0.astype(np.float64) - CENTER)


def test_grid_follows_the_closed_form_with_the_documented_keys(tmp_path):
  hps = _hps()
  trained = _pass(tmp_path, hps).train()
  # Five runs on the test session's devices: padded to a multiple, and the padding dropped.
  assert trained.outputs["x"].shape == (5, 2) and trained.diverged.shape == (5,)
  x0 = np.stack([np.asarray(jax.random.normal(_run_key(s), (2,))) for s in hps["seed"]])
  np.testing.assert_allclose(trained.outputs["x0"], x0, rtol=1e-6)
  np.testing.assert_allclose(trained.outputs["x"], _closed_form(x0, hps, STEPS), rtol=1e-5,
                             atol=1e-6)
  # Each segment's mean loss is the mean of the closed-form losses of its steps.
  t = np.arange(STEPS)
  xs = np.stack([_closed_form(x0, hps, s) for s in t], axis=1)  # (runs, steps, 2)
  losses = 0.5 * hps["a"][:, None] * np.sum((xs - CENTER) ** 2, axis=-1)
  np.testing.assert_allclose(trained.history["loss"], losses.reshape(5, -1, LOG).mean(-1),
                             rtol=1e-5, atol=1e-7)
  # Step t's key is fold_in(fold_in(run key, crc32("steps")), t); finish gets the run key.
  steps_code = zlib.crc32(b"steps") & 0x7FFFFFFF
  draws = np.array([[float(jax.random.uniform(jax.random.fold_in(
      jax.random.fold_in(_run_key(s), steps_code), i))) for i in t] for s in hps["seed"]])
  np.testing.assert_allclose(trained.history["draw"], draws.reshape(5, -1, LOG).mean(-1),
                             rtol=1e-6)
  np.testing.assert_allclose(trained.outputs["finish_draw"],
                             [float(jax.random.uniform(_run_key(s))) for s in hps["seed"]])
  assert not trained.diverged.any()


def test_chunks_equal_one_chunk(tmp_path):
  hps = _hps()
  whole = _pass(tmp_path / "whole", hps).train()
  chunked = _pass(tmp_path / "chunked", hps, chunk_size=2).train()
  assert len(list((tmp_path / "chunked" / "state" / "quadratic").glob("runs_*"))) == 3
  for name in ("x", "x0"):
    np.testing.assert_allclose(chunked.outputs[name], whole.outputs[name], rtol=1e-6)
  np.testing.assert_allclose(chunked.history["loss"], whole.history["loss"], rtol=1e-6)


def test_a_non_finite_metric_or_state_flags_the_run_and_freezes_it(tmp_path, capfd):
  hps = _hps(metric_nan_at=(1, 4), state_nan_at=(3, 7))
  trained = _pass(tmp_path, hps).train()
  np.testing.assert_array_equal(trained.diverged, [False, True, False, True, False])
  x0 = trained.outputs["x0"]
  # A bad metric freezes the run at the state before that step; a bad state with finite
  # metrics is caught at its segment's end (steps 6..8 here) and frozen there.
  np.testing.assert_allclose(trained.outputs["x"][1], _closed_form(x0, hps, 4)[1], rtol=1e-5)
  assert np.isnan(trained.outputs["x"][3]).all()
  assert np.isfinite(trained.history["loss"][3, :2]).all()
  np.testing.assert_allclose(trained.outputs["x"][[0, 2, 4]],
                             _closed_form(x0, hps, STEPS)[[0, 2, 4]], rtol=1e-5, atol=1e-6)
  err = capfd.readouterr().err
  assert "1 run(s) of quadratic hit a non-finite metric or state by step 6" in err
  assert "1 run(s) of quadratic hit a non-finite metric or state by step 9" in err


@pytest.mark.parametrize("segments", [1, 2, 3])
def test_a_stop_at_any_segment_resumes_to_the_same_bits_without_init(tmp_path, monkeypatch,
                                                                      segments):
  hps = _hps()
  want = _pass(tmp_path / "whole", hps).train()
  asked = iter([None] * (segments - 1) + [signal.SIGTERM])
  monkeypatch.setattr(preemption, "requested", lambda: next(asked, signal.SIGTERM))
  with pytest.raises(preemption.Stopped, match=f"SIGTERM at step {segments * LOG} of {STEPS}"):
    _pass(tmp_path / "stopped", hps, checkpoint_every=100).train()
  monkeypatch.setattr(preemption, "requested", lambda: None)

  ran = []

  def watched_init(key, hp, data):  # traced for shapes, never run on a resume
    jax.debug.callback(lambda: ran.append(1))
    return _init(key, hp, data)

  resumed = _pass(tmp_path / "stopped", hps, checkpoint_every=100,
                  program=loop.Program("quadratic", watched_init, _step, _finish)).train()
  assert not ran
  for name in want.outputs:
    np.testing.assert_array_equal(resumed.outputs[name], want.outputs[name])
  for name in want.history:
    np.testing.assert_array_equal(resumed.history[name], want.history[name])


def test_a_failed_checkpoint_write_is_one_line_and_keeps_the_previous_step(tmp_path,
                                                                          monkeypatch):
  hps = _hps()
  real = checkpoint.ocp.CheckpointManager.save
  calls = []

  def full_disk(self, step, *a, **k):
    calls.append(step)
    if len(calls) > 1:
      raise OSError(28, "No space left on device")
    return real(self, step, *a, **k)

  monkeypatch.setattr(checkpoint.ocp.CheckpointManager, "save", full_disk)
  with pytest.raises(checkpoint.CheckpointError,
                     match="No space left on device.*checkpoint of step 3 is kept"):
    _pass(tmp_path, hps).train()
  monkeypatch.setattr(checkpoint.ocp.CheckpointManager, "save", real)
  resumed = _pass(tmp_path, hps).train()
  np.testing.assert_allclose(resumed.outputs["x"],
                             _closed_form(resumed.outputs["x0"], hps, STEPS), rtol=1e-5,
                             atol=1e-6)


def test_a_signal_in_the_last_segment_lets_the_pass_finish(tmp_path, monkeypatch):
  hps = _hps()
  asked = iter([None, None, None])  # segments 1-3 see nothing; the last sees SIGTERM
  monkeypatch.setattr(preemption, "requested", lambda: next(asked, signal.SIGTERM))
  trained = _pass(tmp_path, hps).train()
  np.testing.assert_allclose(trained.outputs["x"],
                             _closed_form(trained.outputs["x0"], hps, STEPS), rtol=1e-5,
                             atol=1e-6)


def test_a_program_without_metrics_or_floating_state_trains(tmp_path):
  counter = loop.Program("count", init=lambda key, hp, data: {"n": jnp.int32(0)},
                         step=lambda state, hp, key, t, data: ({"n": state["n"] + 1}, {}))
  trained = _pass(tmp_path, _hps(), program=counter).train()
  assert trained.history == {} and not trained.diverged.any()
  np.testing.assert_array_equal(
      loop.Pass(counter, keys.run_keys(7, _hps()["seed"]), _hps(),
                loop.Schedule(STEPS, LOG, LOG), tmp_path).final_states()["n"], STEPS)
