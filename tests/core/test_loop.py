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


def _stream(key, name: bytes):
  """fold_in(key, crc32(name) masked to 31 bits): the documented named sub-stream."""
  return jax.random.fold_in(key, zlib.crc32(name) & 0x7FFFFFFF)


def _closed_form(x0, hp, steps):
  factor = (1.0 - hp["lr"].astype(np.float64) * hp["a"]) ** steps
  return CENTER + factor[:, None] * (x0.astype(np.float64) - CENTER)


def test_grid_follows_the_closed_form_with_the_documented_keys(tmp_path):
  hps = _hps()
  trained = _pass(tmp_path, hps).train()
  # Five runs on the test session's devices: padded to a multiple, and the padding dropped.
  assert trained.outputs["x"].shape == (5, 2) and trained.diverged.shape == (5,)
  # init's key is fold_in(run key, crc32("init")).
  x0 = np.stack([np.asarray(jax.random.normal(_stream(_run_key(s), b"init"), (2,)))
                 for s in hps["seed"]])
  np.testing.assert_allclose(trained.outputs["x0"], x0, rtol=1e-6)
  np.testing.assert_allclose(trained.outputs["x"], _closed_form(x0, hps, STEPS), rtol=1e-5,
                             atol=1e-6)
  # Each segment's mean loss is the mean of the closed-form losses of its steps.
  t = np.arange(STEPS)
  xs = np.stack([_closed_form(x0, hps, s) for s in t], axis=1)  # (runs, steps, 2)
  losses = 0.5 * hps["a"][:, None] * np.sum((xs - CENTER) ** 2, axis=-1)
  np.testing.assert_allclose(trained.history["loss"], losses.reshape(5, -1, LOG).mean(-1),
                             rtol=1e-5, atol=1e-7)
  # Step t's key is fold_in(fold_in(run key, crc32("steps")), t); finish's is
  # fold_in(run key, crc32("finish")).
  draws = np.array([[float(jax.random.uniform(jax.random.fold_in(
      _stream(_run_key(s), b"steps"), i))) for i in t] for s in hps["seed"]])
  np.testing.assert_allclose(trained.history["draw"], draws.reshape(5, -1, LOG).mean(-1),
                             rtol=1e-6)
  np.testing.assert_allclose(trained.outputs["finish_draw"],
                             [float(jax.random.uniform(_stream(_run_key(s), b"finish")))
                              for s in hps["seed"]])
  assert not trained.diverged.any()


def test_init_and_finish_draw_independent_numbers(tmp_path):
  """A program drawing uniform(key) in init and in finish gets two different numbers per
  run (with one key for both they were equal), neither the step's."""
  draw = lambda key: jax.random.uniform(key, (64,))
  program = loop.Program(
      "draws", init=lambda key, hp, data: {"init": draw(key)},
      step=lambda state, hp, key, t, data: (state, {"step": draw(key)[0]}),
      finish=lambda state, hp, key, data: {"init": state["init"], "finish": draw(key)})
  hps = _hps()
  out = _pass(tmp_path, hps, program=program).train().outputs
  assert out["init"].shape == out["finish"].shape == (5, 64)
  # Independent uniforms: their correlation over 5 x 64 pairs is near 0 (|r| < 0.2 has
  # probability > 0.999 for independent draws), where a shared key gives exactly 1.
  r = np.corrcoef(out["init"].ravel(), out["finish"].ravel())[0, 1]
  assert abs(r) < 0.2, r


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


# The loop dispatches one step first, then more per piece as the step time allows, never
# past a segment's end: a stop after the first piece is mid-segment (step 1 of 3).
@pytest.mark.parametrize("pieces", [1, 3, 5])
def test_a_stop_at_any_piece_resumes_to_the_same_bits_without_init(tmp_path, monkeypatch,
                                                                   pieces):
  hps = _hps()
  want = _pass(tmp_path / "whole", hps).train()
  asked = iter([None] * (pieces - 1) + [signal.SIGTERM])
  monkeypatch.setattr(preemption, "requested", lambda: next(asked, signal.SIGTERM))
  with pytest.raises(preemption.Stopped, match=f"SIGTERM at step \\d+ of {STEPS}") as stop:
    _pass(tmp_path / "stopped", hps, checkpoint_every=100).train()
  step = int(str(stop.value).split("at step ")[1].split()[0])
  assert step >= pieces and (pieces > 1 or step == 1)
  monkeypatch.setattr(preemption, "requested", lambda: None)

  # A resume restores into shapes alone: running init would raise.
  monkeypatch.setattr(loop._Programs, "init", lambda *a: pytest.fail("init ran on a resume"))
  resumed = _pass(tmp_path / "stopped", hps, checkpoint_every=100).train()
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
  calls = []  # the loop asks after every piece but the last: count them in a whole run
  monkeypatch.setattr(preemption, "requested", lambda: calls.append(1))
  _pass(tmp_path / "counted", hps).train()
  asked = iter([None] * len(calls))  # from then on (the last piece) SIGTERM is pending
  monkeypatch.setattr(preemption, "requested", lambda: next(asked, signal.SIGTERM))
  trained = _pass(tmp_path / "signalled", hps).train()
  np.testing.assert_allclose(trained.outputs["x"],
                             _closed_form(trained.outputs["x0"], hps, STEPS), rtol=1e-5,
                             atol=1e-6)


def test_a_program_without_metrics_or_floating_state_trains(tmp_path):
  counter = loop.Program("count", init=lambda key, hp, data: {"n": jnp.int32(0)},
                         step=lambda state, hp, key, t, data: ({"n": state["n"] + 1}, {}))
  trained = _pass(tmp_path, _hps(), program=counter).train()
  assert trained.history == {} and not trained.diverged.any()
  np.testing.assert_array_equal(_pass(tmp_path, _hps(), program=counter).final_states()["n"],
                                STEPS)
