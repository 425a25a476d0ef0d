"""A study in stages from one model file: teachers, then students that each learn one
teacher's weights, checked against the closed form of the students' updates applied to
the teachers' saved weights; the later grid in another axis order; --set on a shared
axis; a rerun that loads; a stage whose axes do not hold the earlier one's."""

import numpy as np
import pytest

import superjax
from superjax.cli import main

STEPS, LR = 6, (0.1, 0.3)

MODEL_FILE = f'''"""Teachers move from a random start towards scale x (1, 2, 3); each student moves
towards one teacher's final weights."""
import jax
import jax.numpy as jnp

import superjax


def teacher_init(key, hp, data):
  return {{"w": jax.random.normal(key, (3,))}}


def teacher_step(state, hp, key, t, data):
  target = hp["scale"] * jnp.arange(1.0, 4.0)
  w = state["w"] + 0.5 * (target - state["w"])
  return {{"w": w}}, {{"gap": jnp.sum((target - w) ** 2)}}


TEACHERS = superjax.Model(name="teachers", init=teacher_init, step=teacher_step,
                          axes=superjax.product(scale=[1.0, 2.0, 3.0], seed=range(2)),
                          steps=4, log_every=2, checkpoint_every=2)


def student_init(key, hp, data):
  return {{"u": jnp.zeros(3)}}


def student_step(state, hp, key, t, data):
  w = data["w"][hp["source"]]
  return {{"u": state["u"] + hp["lr"] * (w - state["u"])}}, {{"error": jnp.sum((w - state["u"]) ** 2)}}


MODEL = superjax.Model(name="students", init=student_init, step=student_step,
                       # lr first: a student's teacher is found by name, not by position
                       axes=superjax.product(superjax.zipped(lr={list(LR)}), *TEACHERS.axes.groups),
                       after=TEACHERS, data=lambda teachers: {{"w": teachers["w"]}},
                       steps={STEPS}, log_every=3, checkpoint_every=3)
'''


@pytest.fixture
def model_file(tmp_path):
  path = tmp_path / "teach.py"
  path.write_text(MODEL_FILE)
  return path


def _closed_form(ds):
  """u_T = w (1 - (1 - lr)^T) from u_0 = 0, w the student's teacher's saved weights."""
  lr = ds["lr"].values[:, None, None, None]
  return ds["teachers.w"].values[None] * (1 - (1 - lr) ** STEPS)


def test_students_learn_their_own_teachers_weights(model_file, tmp_path, capsys):
  out = tmp_path / "run"
  assert main(["run", str(model_file), "--out", str(out), "--no-figures"]) == 0
  ds = superjax.load(out)
  assert ds["u"].dims == ("lr", "scale", "seed", "u_dim0")
  assert ds["teachers.w"].dims == ("scale", "seed", "w_dim0")
  assert ds["teachers.gap_history"].dims == ("scale", "seed", "teachers.step")
  w = ds["teachers.w"].values
  assert np.abs(w[:, 0] - w[:, 1]).min() > 1e-3  # seeds start apart: a wrong source shows
  np.testing.assert_allclose(ds["u"].values, _closed_form(ds), rtol=1e-5, atol=1e-6)
  # Each teacher halves its distance to the target per step, so the gap after step 3 is
  # 4x the final one, and the last segment's mean (steps 3 and 4) is 2.5x.
  target = ds["scale"].values[:, None, None] * np.arange(1.0, 4.0)
  gap = np.sum((target - w) ** 2, axis=-1)
  np.testing.assert_allclose(ds["teachers.gap_history"].values[..., -1], 2.5 * gap, rtol=1e-4)
  capsys.readouterr()
  # The rerun loads the finished study: both stages' code checked, nothing trained.
  assert main(["run", str(model_file), "--out", str(out), "--no-figures"]) == 0
  assert "already holds the finished run" in capsys.readouterr().err
  np.testing.assert_array_equal(superjax.load(out)["u"].values, ds["u"].values)


def test_set_on_a_shared_axis_changes_every_stage(model_file, tmp_path):
  ds = superjax.run(superjax.load_model(model_file), out=tmp_path / "run", progress=False,
                    scale=[0.5, 4.0])
  assert list(ds["scale"].values) == [0.5, 4.0]
  assert ds["teachers.w"].sizes["scale"] == 2
  np.testing.assert_allclose(ds["u"].values, _closed_form(ds), rtol=1e-5, atol=1e-6)


def test_a_stage_without_the_earlier_axes_is_refused_in_one_line(model_file, tmp_path, capsys):
  bad = tmp_path / "bad.py"
  bad.write_text(MODEL_FILE.replace("*TEACHERS.axes.groups", "seed=range(2)"))
  assert main(["run", str(bad), "--out", str(tmp_path / "run"), "--no-figures"]) != 0
  err = capsys.readouterr().err.strip().splitlines()
  assert len(err) == 1 and "scale" in err[0] and "superjax.product(*EARLIER.axes.groups" in err[0]
