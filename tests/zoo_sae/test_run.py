"""The zoo-SAE study end to end at a few steps, its tokens, and its refusals."""

import jax
import numpy as np
import pytest
from PIL import Image

import superjax
from superjax import cli
from superjax.core.config import ConfigError
from superjax.vision import resnet
from superjax.zoo_sae.config import ZooSAEConfig, tiny
from superjax.zoo_sae.tokens import positions, stage_tokens, tokens

pytestmark = pytest.mark.slow  # whole runs from the CLI or several processes


@pytest.fixture(scope="module")
def digits_run(tiny_run, tmp_path_factory):
  """The session's run of the tiny study (the contract test's too), copied."""
  _, out = tiny_run("zoo_sae", copy_to=tmp_path_factory.mktemp("study") / "run")
  return out, superjax.load(out)


def test_digits_study_gives_the_documented_results(digits_run):
  out, ds = digits_run
  assert ds.attrs["experiment"] == "zoo_sae"
  for name in ("sae_nmse", "l0_clean", "dead_fraction", "sae_diverged"):
    assert ds[name].dims == ("sae_kind", "layer", "model_eps", "seed", "sparsity")
  assert ds["l0_adversarial"].dims[-1] == "attack"
  assert list(ds["layer"].values) == ["layer1", "layer4"]
  assert list(ds["model_eps"].values) == [0.0, 1.0]
  assert np.isfinite(ds["sae_nmse"]).all() and (ds["sae_nmse"] > 0).all()
  assert not ds["sae_diverged"].any()
  # TopK keeps at most k latents per input, clean or attacked.
  topk = ds.sel(sae_kind="topk")
  k = topk["sparsity_value"].values
  assert (topk["l0_clean"].values <= k[None, None, :] + 1e-6).all()
  assert (topk["l0_adversarial"].values <= k[None, None, :, None] + 1e-6).all()
  assert ((ds["clean_accuracy"] >= 0) & (ds["clean_accuracy"] <= 1)).all()
  # Training state of every pass is in the run directory, one folder per pass.
  assert sorted(p.name for p in (out / "state").iterdir()) == [
      "sae_layer1_topk", "sae_layer4_topk", "zoo"]


def test_a_different_config_is_refused_in_one_line(digits_run, capsys):
  out, _ = digits_run
  sweep = out.parent / "tiny.py"
  sweep.write_text("from superjax.zoo_sae.config import tiny\nCONFIG = tiny()\n")
  assert cli.main(["run", str(sweep), "--out", str(out), "--no-progress"]) == 0
  assert cli.main(["run", str(sweep), "--out", str(out), "--set", "sae_steps=11"]) == 2
  err = capsys.readouterr().err.strip().splitlines()
  assert len([e for e in err if "error" in e]) == 1 and "sae_steps" in err[-1]


def test_more_evaluation_digits_than_the_split_holds_is_one_line(tmp_path, capsys):
  sweep = tmp_path / "tiny.py"
  sweep.write_text("from superjax.zoo_sae.config import tiny\nCONFIG = tiny()\n")
  assert cli.main(["run", str(sweep), "--out", str(tmp_path / "run"),
                   "--set", "eval_images=5000"]) == 2
  err = capsys.readouterr().err.strip()
  assert len(err.splitlines()) == 1 and "eval_images" in err and "359" in err


def test_bad_settings_name_the_field():
  with pytest.raises(ConfigError, match="l1"):
    ZooSAEConfig(name="x", k=(2, 4), l1=(1.0,))
  with pytest.raises(ConfigError, match="source"):
    ZooSAEConfig(name="x", source="cifar")
  with pytest.raises(ConfigError, match="model_eps"):
    ZooSAEConfig(name="x", source="converted", model_dirs=("a", "b"), model_eps=(0.0,),
                 image_dir="d")
  with pytest.raises(ConfigError, match="layers"):
    ZooSAEConfig(name="x", layers=("layer5",))
  with pytest.raises(ConfigError, match="^seeds: 2: a converted zoo"):
    ZooSAEConfig(name="x", source="converted", model_dirs=("a",), model_eps=(0.0,),
                 image_dir="d", seeds=2)
  # Names from before the rename are refused with the new name.
  with pytest.raises(ConfigError, match="'checkpoints' is now model_dirs"):
    ZooSAEConfig.from_dict({"name": "x", "checkpoints": ["a"]})
  with pytest.raises(ConfigError, match="'seed' is now base_seed"):
    ZooSAEConfig(name="x").with_overrides(["seed=3"])


def test_tokens_are_positions_of_images():
  fmap = np.arange(2 * 3 * 3 * 4, dtype=np.float32).reshape(2, 3, 3, 4)
  all_tokens = tokens(fmap, positions(2, 9, 0, seed=0))
  expected = np.array([fmap[i, h, w] for i in range(2) for h in range(3) for w in range(3)])
  np.testing.assert_array_equal(all_tokens, expected)
  index = positions(2, 9, 2, seed=0)
  some = tokens(fmap, index)
  assert some.shape == (4, 4)
  # Image i's two tokens are two different positions of image i.
  for i in range(2):
    assert index[i, 0] != index[i, 1]
    np.testing.assert_array_equal(some[2 * i:2 * i + 2], fmap[i].reshape(9, 4)[index[i]])


def test_tokens_picked_batch_by_batch_equal_those_of_the_whole_set():
  x = np.random.default_rng(1).normal(size=(5, 4, 4, 3)).astype(np.float32)
  maps = lambda xb: {layer: xb * (i + 1) for i, layer in enumerate(resnet.STAGES)}
  whole = stage_tokens(maps, x, resnet.STAGES, 3, 0, batch=5)
  pieces = stage_tokens(maps, x, resnet.STAGES, 3, 0, batch=2)
  for layer in resnet.STAGES:
    assert whole[layer].shape == (15, 3)
    np.testing.assert_array_equal(pieces[layer], whole[layer])


def test_converted_models_and_an_image_folder(tmp_path):
  # The resnet_sae path: converted-model directories (random weights) and an image folder.
  rng = np.random.default_rng(0)
  for c in range(2):
    (tmp_path / "images" / f"class{c}").mkdir(parents=True)
    for i in range(5):
      Image.fromarray(rng.integers(0, 256, (40, 48, 3), dtype=np.uint8)).save(
          tmp_path / "images" / f"class{c}" / f"{i}.png")
  model = resnet.ResNet18(num_classes=2, stem="imagenet", channels=4)
  for i in range(2):
    resnet.save(tmp_path / f"model{i}", model,
                resnet.init_variables(jax.random.key(i), model, image_size=32), {"epoch": i})
  out = tmp_path / "run"
  assert cli.main(["run", "resnet_sae", "--out", str(out), "--no-progress", "--no-figures",
                   "--set", f"model_dirs={tmp_path / 'model0'},{tmp_path / 'model1'}",
                   "--set", "model_eps=0,3", "--set", f"image_dir={tmp_path / 'images'}",
                   "--set", "images=6", "--set", "eval_images=4", "--set", "tokens_per_image=4",
                   "--set", "sae_steps=5", "--set", "sae_batch=64", "--set", "k=2",
                   "--set", "l1=1", "--set", "attack_steps=1", "--set", "sae_kinds=topk",
                   "--set", "layers=layer4"]) == 0
  ds = superjax.load(out)
  assert list(ds["model_eps"].values) == [0.0, 3.0]
  assert ds["sae_nmse"].shape == (1, 1, 2, 1, 1) and np.isfinite(ds["sae_nmse"]).all()


def test_l0_trend_is_judged_on_kinds_whose_l0_is_free():
  """TopK's L0 is k on any input, so its ratio of 1 must not dilute the trend."""
  import xarray as xr

  from superjax.zoo_sae import report
  dims = ("sae_kind", "layer", "model_eps", "sparsity")
  clean = np.full((2, 2, 2, 1), 4.0)
  adversarial = clean[..., None].copy()
  adversarial[1] *= np.array([1.5, 3.0])[:, None, None, None]  # relu: 1.5 in layer1, 3 in layer4
  ds = xr.Dataset({"sae_nmse": (dims, np.ones((2, 2, 2, 1))), "l0_clean": (dims, clean),
                   "l0_adversarial": (dims + ("attack",), adversarial)},
                  coords={"sae_kind": ["topk", "relu"], "layer": ["layer1", "layer4"],
                          "model_eps": [0.0, 1.0], "attack": ["fgsm"]})
  found = report.trends(ds)
  assert found["free_kinds"] == ["relu"]
  assert found["l0_ratio_per_kind"]["topk"]["fgsm"] == [1.0, 1.0]
  assert found["l0_ratio_free"]["fgsm"] == [1.5, 3.0]  # not (1 + 1.5) / 2, (1 + 3) / 2
  only_topk = report.trends(ds.sel(sae_kind=["topk"]))
  assert only_topk["l0_ratio_free"] is None


def test_real_saelens_loads_the_digits_saes_and_computes_the_same(digits_run, tmp_path):
  """Per-dimension standardisation of a stage's channels, folded into SAELens weights."""
  sae_lens = pytest.importorskip("sae_lens")
  import torch

  from superjax.sae import saelens
  from superjax.sae.model import encode, reconstruct
  torch.set_num_threads(1)
  out, _ = digits_run
  found = saelens.run_saes(out, {"layer": "layer4"})
  assert len(found) == len(tiny().eps) * len(tiny().k)
  rng = np.random.default_rng(0)
  for about, sae in found:
    loaded = sae_lens.SAE.load_from_disk(str(saelens.save(sae, tmp_path / str(about["run"]))))
    mean, scale = np.asarray(sae.mean), np.asarray(sae.scale)
    a = np.maximum(mean + rng.normal(size=(128, mean.size)) * scale, 0).astype(np.float32)
    with torch.no_grad():
      f = loaded.encode(torch.tensor(a))
      x_hat = loaded.decode(f).numpy()
    z = encode(sae, a)
    np.testing.assert_allclose(f.numpy(), z, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(x_hat, np.asarray(reconstruct(sae, z)) * scale + mean, rtol=1e-5,
                               atol=1e-5)
