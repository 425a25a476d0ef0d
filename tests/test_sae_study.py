"""The SAE study on robust ResNet18s, end to end at a few steps, from the CLI."""

import numpy as np
import pytest
from PIL import Image

import superjax
from superjax import cli, resnet
from superjax.core.config import ConfigError
from superjax.sae_study import SAEStudyConfig, _positions, _stage_tokens, _tokens

# Every stage shrunk to seconds: 2 models of width 4, a few training and SAE steps.
TINY = ["--set", "train_steps=3", "--set", "train_eps=0,1", "--set", "width=4",
        "--set", "eval_images=24", "--set", "sae_steps=10", "--set", "sae_batch=256",
        "--set", "k=2,4", "--set", "l1=3,1", "--set", "attack_steps=2"]


def _run(out, *extra) -> int:
  return cli.main(["run", "digits_robust_sae", "--out", str(out), "--no-progress", *TINY,
                   *extra])


@pytest.fixture(scope="module")
def digits_run(tmp_path_factory):
  out = tmp_path_factory.mktemp("study") / "run"
  assert _run(out) == 0
  return out


def test_digits_study_gives_the_documented_results(digits_run):
  ds = superjax.load(digits_run)
  assert ds.attrs["experiment"] == "sae"
  for name in ("sae_nmse", "l0_clean", "dead_fraction"):
    assert ds[name].dims == ("sae_kind", "layer", "model_eps", "sparsity")
  assert ds["l0_adversarial"].dims[-1] == "attack"
  assert list(ds["layer"].values) == ["layer1", "layer2", "layer3", "layer4"]
  assert list(ds["model_eps"].values) == [0.0, 1.0]
  assert np.isfinite(ds["sae_nmse"]).all() and (ds["sae_nmse"] > 0).all()
  # TopK keeps at most k latents per input, clean or attacked.
  topk = ds.sel(sae_kind="topk")
  k = topk["sparsity_value"].values
  assert (topk["l0_clean"].values <= k[None, None, :] + 1e-6).all()
  assert (topk["l0_adversarial"].values <= k[None, None, :, None] + 1e-6).all()
  assert ((ds["clean_accuracy"] >= 0) & (ds["clean_accuracy"] <= 1)).all()
  assert (digits_run / "figures" / "sae_loss_vs_eps.png").exists()
  assert (digits_run / "figures" / "l0_adversarial_ratio.png").exists()


def test_a_killed_study_resumes_to_the_same_results(digits_run, capsys):
  before = superjax.load(digits_run)
  (digits_run / "results.nc").unlink()
  (digits_run / "parts" / "layer4.npz").unlink()
  assert _run(digits_run) == 0
  assert "reloading the trained digits models" in capsys.readouterr().err
  after = superjax.load(digits_run)
  for name in ("sae_nmse", "l0_clean", "l0_adversarial", "clean_accuracy"):
    np.testing.assert_allclose(after[name], before[name], rtol=1e-5, err_msg=name)


def test_a_different_config_is_refused_in_one_line(digits_run, capsys):
  assert _run(digits_run, "--set", "sae_steps=11") == 2
  err = capsys.readouterr().err.strip()
  assert len(err.splitlines()) == 1 and "sae_steps" in err


def test_more_evaluation_digits_than_the_split_holds_is_one_line(tmp_path, capsys):
  assert _run(tmp_path / "run", "--set", "eval_images=5000") == 2
  err = capsys.readouterr().err.strip()
  assert len(err.splitlines()) == 1 and "eval_images" in err and "359" in err


def test_bad_settings_name_the_field():
  with pytest.raises(ConfigError, match="l1"):
    SAEStudyConfig(name="x", k=(2, 4), l1=(1.0,))
  with pytest.raises(ConfigError, match="source"):
    SAEStudyConfig(name="x", source="cifar")
  with pytest.raises(ConfigError, match="checkpoint_eps"):
    SAEStudyConfig(name="x", source="checkpoints", checkpoints=("a", "b"),
                   checkpoint_eps=(0.0,), image_dir="d")


def test_tokens_are_positions_of_images():
  fmap = np.arange(2 * 3 * 3 * 4, dtype=np.float32).reshape(2, 3, 3, 4)
  all_tokens = _tokens(fmap, _positions(2, 9, 0, seed=0))
  expected = np.array([fmap[i, h, w] for i in range(2) for h in range(3) for w in range(3)])
  np.testing.assert_array_equal(all_tokens, expected)
  index = _positions(2, 9, 2, seed=0)
  some = _tokens(fmap, index)
  assert some.shape == (4, 4)
  # Image i's two tokens are two different positions of image i.
  for i in range(2):
    assert index[i, 0] != index[i, 1]
    np.testing.assert_array_equal(some[2 * i:2 * i + 2], fmap[i].reshape(9, 4)[index[i]])


def test_tokens_picked_batch_by_batch_equal_those_of_the_whole_set():
  x = np.random.default_rng(1).normal(size=(5, 4, 4, 3)).astype(np.float32)
  maps = lambda xb: {layer: xb * (i + 1) for i, layer in enumerate(resnet.STAGES)}
  cfg = SAEStudyConfig(name="t", tokens_per_image=3)
  whole, pieces = _stage_tokens(cfg, maps, x, batch=5), _stage_tokens(cfg, maps, x, batch=2)
  for layer in resnet.STAGES:
    assert whole[layer].shape == (15, 3)
    np.testing.assert_array_equal(pieces[layer], whole[layer])


def test_converted_checkpoints_and_an_image_folder(tmp_path):
  # The resnet_sae path: saved ResNet18s (random weights) and an ImageNet-style folder.
  rng = np.random.default_rng(0)
  for c in range(2):
    (tmp_path / "images" / f"class{c}").mkdir(parents=True)
    for i in range(5):
      Image.fromarray(rng.integers(0, 256, (40, 48, 3), dtype=np.uint8)).save(
          tmp_path / "images" / f"class{c}" / f"{i}.png")
  model = resnet.ResNet18(num_classes=2, stem="imagenet", width=4)
  import jax
  for i in range(2):
    resnet.save(tmp_path / f"model{i}", model,
                resnet.init_variables(jax.random.key(i), model, image_size=32), {"epoch": i})
  out = tmp_path / "run"
  assert cli.main(["run", "resnet_sae", "--out", str(out), "--no-progress", "--no-figures",
                   "--set", f"checkpoints={tmp_path / 'model0'},{tmp_path / 'model1'}",
                   "--set", "checkpoint_eps=0,3", "--set", f"image_dir={tmp_path / 'images'}",
                   "--set", "images=6", "--set", "eval_images=4", "--set", "tokens_per_image=4",
                   "--set", "sae_steps=5", "--set", "sae_batch=64", "--set", "k=2",
                   "--set", "l1=1", "--set", "attack_steps=1", "--set", "sae_kinds=topk"]) == 0
  ds = superjax.load(out)
  assert list(ds["model_eps"].values) == [0.0, 3.0]
  assert ds["sae_nmse"].shape == (1, 4, 2, 1) and np.isfinite(ds["sae_nmse"]).all()
