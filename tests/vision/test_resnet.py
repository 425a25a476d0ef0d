"""ResNet18 conversion against a PyTorch ResNet18 with torchvision's module names."""

import argparse
import json
import pickle
import sys

import jax
import numpy as np
import pytest

torch = pytest.importorskip("torch")
nn = torch.nn

from superjax import cli
from superjax.core.errors import SuperjaxError
from superjax.vision import convert, resnet

MEAN = (0.4914, 0.4822, 0.4465)  # not ImageNet's, so the test sees they are read
STD = (0.2470, 0.2435, 0.2616)


class BasicBlock(nn.Module):
  def __init__(self, cin, cout, stride):
    super().__init__()
    self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
    self.bn1 = nn.BatchNorm2d(cout)
    self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
    self.bn2 = nn.BatchNorm2d(cout)
    self.downsample = None
    if stride != 1 or cin != cout:
      self.downsample = nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False),
                                      nn.BatchNorm2d(cout))

  def forward(self, x):
    y = torch.relu(self.bn1(self.conv1(x)))
    y = self.bn2(self.conv2(y))
    return torch.relu(y + (x if self.downsample is None else self.downsample(x)))


class TorchResNet18(nn.Module):
  """torchvision.models.resnet18, written out; `cifar` swaps the stem as ResNet18 does."""

  def __init__(self, num_classes=1000, width=64, cifar=False):
    super().__init__()
    self.cifar = cifar
    if cifar:
      self.conv1 = nn.Conv2d(3, width, 3, 1, 1, bias=False)
    else:
      self.conv1 = nn.Conv2d(3, width, 7, 2, 3, bias=False)
    self.bn1 = nn.BatchNorm2d(width)
    self.maxpool = nn.MaxPool2d(3, 2, 1)
    cin = width
    for stage in range(4):
      cout = width * 2 ** stage
      stride = 1 if stage == 0 else 2
      setattr(self, f"layer{stage + 1}",
              nn.Sequential(BasicBlock(cin, cout, stride), BasicBlock(cout, cout, 1)))
      cin = cout
    self.fc = nn.Linear(cin, num_classes)

  def forward(self, x):
    x = torch.relu(self.bn1(self.conv1(x)))
    if not self.cifar:
      x = self.maxpool(x)
    features = {}
    for name in resnet.STAGES:
      x = getattr(self, name)(x)
      features[name] = x
    return self.fc(x.mean((2, 3))), features


def _random_torch_model(seed, **kwargs):
  torch.manual_seed(seed)
  model = TorchResNet18(**kwargs)
  with torch.no_grad():
    for module in model.modules():
      if isinstance(module, nn.Conv2d):
        # He init keeps activations O(1) through the depth, so relative errors mean something.
        nn.init.kaiming_normal_(module.weight, nonlinearity="relu")
      elif isinstance(module, nn.BatchNorm2d):
        module.weight.uniform_(0.5, 1.5)
        module.bias.normal_(0, 0.2)
        module.running_mean.normal_(0, 0.3)
        module.running_var.uniform_(0.5, 2.0)
        module.num_batches_tracked.fill_(1234)
  return model.eval()


def _madrylab(model, mean=MEAN, std=STD):
  """A state dict laid out as madrylab's `robustness` saves one."""
  state = {}
  for prefix in ("module.model.", "module.attacker.model."):
    state.update({prefix + k: v.clone() for k, v in model.state_dict().items()})
  for prefix in ("module.normalizer.", "module.attacker.normalize."):
    state[prefix + "new_mean"] = torch.tensor(mean).reshape(3, 1, 1)
    state[prefix + "new_std"] = torch.tensor(std).reshape(3, 1, 1)
  return {"model": state, "epoch": 90, "nat_prec1": torch.tensor(61.25), "optimizer": {}}


def _torch_forward(model, images, mean=MEAN, std=STD):
  """madrylab's forward: clamp to [0, 1], normalise, run the network. images NHWC."""
  x = torch.from_numpy(np.asarray(images)).permute(0, 3, 1, 2).clamp(0, 1)
  x = (x - torch.tensor(mean).reshape(1, 3, 1, 1)) / torch.tensor(std).reshape(1, 3, 1, 1)
  with torch.no_grad():
    logits, features = model(x)
  return logits.numpy(), {k: v.permute(0, 2, 3, 1).numpy() for k, v in features.items()}


def _rel(ours, ref):
  return float(np.max(np.abs(np.asarray(ours) - ref)) / np.max(np.abs(ref)))


def _images(n, size, seed=0):
  # A few pixels outside [0, 1] check the clamp.
  return np.random.default_rng(seed).uniform(-0.05, 1.05, (n, size, size, 3)).astype(np.float32)


@pytest.fixture(scope="module")
def imagenet_model():
  return _random_torch_model(0)


def test_madrylab_checkpoint_matches_pytorch(imagenet_model, tmp_path, capsys):
  ckpt = tmp_path / "robust.pt"
  # An object the safe unpickler refuses, as madrylab files hold, forces the full one.
  torch.save(_madrylab(imagenet_model) | {"args": argparse.Namespace(arch="resnet18")}, ckpt)
  with pytest.raises(pickle.UnpicklingError):
    torch.load(ckpt, weights_only=True)
  assert cli.main(["convert-resnet18", str(ckpt), "--out", str(tmp_path / "jax")]) == 0
  out = capsys.readouterr().out
  assert "imagenet stem, 64 channels, 1000 classes" in out and "epoch=90" in out

  f = resnet.load(tmp_path / "jax")
  assert f.metadata["format"] == "madrylab" and f.metadata["epoch"] == 90
  assert f.metadata["nat_prec1"] == pytest.approx(61.25)
  assert f.metadata["copies_max_abs_diff"] == 0.0
  assert f.model.mean == pytest.approx(MEAN) and f.model.std == pytest.approx(STD)
  images = _images(2, 64)
  ref_logits, ref_features = _torch_forward(imagenet_model, images)
  errors = {"logits": _rel(f(images), ref_logits)}
  features = f.features(images)
  assert sorted(features) == list(resnet.STAGES)
  for name, ref in ref_features.items():
    assert features[name].shape == ref.shape, name
    errors[name] = _rel(features[name], ref)
  print("max relative error:", {k: f"{v:.1e}" for k, v in errors.items()})
  assert max(errors.values()) < 1e-4, errors
  # Logits must mean something: random weights still give distinct classes per image.
  assert np.abs(ref_logits).max() > 1e-2


def test_torchvision_state_dict_converts_to_the_same_variables(imagenet_model, tmp_path):
  torch.save(imagenet_model.state_dict(), tmp_path / "plain.pth")
  torch.save(_madrylab(imagenet_model), tmp_path / "robust.pt")
  plain = convert.convert_resnet18(tmp_path / "plain.pth", tmp_path / "plain")
  convert.convert_resnet18(tmp_path / "robust.pt", tmp_path / "robust")
  assert plain["source"]["format"] == "torchvision"
  assert plain["architecture"]["mean"] == pytest.approx([0.485, 0.456, 0.406])
  a, b = resnet.load(tmp_path / "plain"), resnet.load(tmp_path / "robust")
  jax.tree.map(np.testing.assert_array_equal, a.variables, b.variables)
  # One leaf checked by hand: OIHW -> HWIO, and running_var -> batch_stats var.
  w = imagenet_model.layer2[0].downsample[0].weight.detach().numpy()
  np.testing.assert_array_equal(a.variables["params"]["layer2_0"]["downsample_0"]["kernel"],
                                w.transpose(2, 3, 1, 0))
  np.testing.assert_array_equal(a.variables["batch_stats"]["layer3_1"]["bn2"]["var"],
                                imagenet_model.layer3[1].bn2.running_var.numpy())


def test_cifar_stem_and_width(tmp_path):
  model = _random_torch_model(1, num_classes=10, width=16, cifar=True)
  torch.save(_madrylab(model), tmp_path / "cifar.pt")
  done = convert.convert_resnet18(tmp_path / "cifar.pt", tmp_path / "jax")
  assert done["architecture"] | {"mean": None, "std": None} == {
      "num_classes": 10, "stem": "cifar", "channels": 16, "mean": None, "std": None}
  f = resnet.load(tmp_path / "jax")
  images = _images(3, 16, seed=1)
  ref_logits, ref_features = _torch_forward(model, images)
  features = f.features(images)
  assert _rel(f(images), ref_logits) < 1e-4
  for name, ref in ref_features.items():
    assert features[name].shape == ref.shape and _rel(features[name], ref) < 1e-4, name


def test_train_mode_batch_norm_matches_pytorch(tmp_path):
  """Batch statistics in the forward pass; running averages with PyTorch's momentum 0.1.

  PyTorch folds the unbiased batch variance into running_var, flax the biased one; the
  expected value undoes that factor n / (n - 1), n the values per channel.
  """
  model = _random_torch_model(2, num_classes=10, width=8, cifar=True)
  torch.save(_madrylab(model), tmp_path / "small.pt")
  convert.convert_resnet18(tmp_path / "small.pt", tmp_path / "jax")
  f = resnet.load(tmp_path / "jax")
  images = _images(4, 8, seed=2)
  (logits, _), updated = f.model.apply(f.variables, images, train=True, mutable=["batch_stats"])
  old = {k: v.clone().numpy() for k, v in model.state_dict().items()}
  model.train()
  ref_logits, _ = _torch_forward(model, images)
  assert _rel(logits, ref_logits) < 1e-4
  # The stem sees 4 images of 8x8 per channel, layer4 (1x1 after three stride-2 stages) 4.
  for path, key, n in ((("bn1",), "bn1", 4 * 8 * 8), (("layer4_1", "bn2"), "layer4.1.bn2", 4)):
    stats = updated["batch_stats"]
    for name in path:
      stats = stats[name]
    new_mean, new_var = (model.state_dict()[f"{key}.{s}"].numpy()
                         for s in ("running_mean", "running_var"))
    np.testing.assert_allclose(stats["mean"], new_mean, rtol=1e-4, atol=1e-5)
    batch_var_unbiased = (new_var - 0.9 * old[f"{key}.running_var"]) / 0.1
    np.testing.assert_allclose(
        stats["var"], 0.9 * old[f"{key}.running_var"] + 0.1 * batch_var_unbiased * (n - 1) / n,
        rtol=1e-4, atol=1e-5)
    assert np.abs(new_mean - old[f"{key}.running_mean"]).max() > 1e-3


def _broken(kind, model):
  """A madrylab checkpoint with one defect, and words its error line must contain."""
  ckpt = _madrylab(model)
  state = ckpt["model"]
  if kind == "missing":
    del state["module.model.layer3.1.bn1.running_var"]
    del state["module.attacker.model.layer3.1.bn1.running_var"]
    return ckpt, "missing key 'layer3.1.bn1.running_var'"
  if kind == "extra":
    for prefix in ("module.model.", "module.attacker.model."):
      state[prefix + "layer5.0.conv1.weight"] = torch.zeros(1)
    return ckpt, "unexpected key 'layer5.0.conv1.weight'"
  if kind == "misshapen":
    for prefix in ("module.model.", "module.attacker.model."):
      state[prefix + "layer2.1.conv2.weight"] = torch.zeros(16, 16, 3, 1)
    return ckpt, "'layer2.1.conv2.weight' has shape (16, 16, 3, 1), expected (16, 16, 3, 3)"
  if kind == "disagreeing":
    state["module.attacker.model.fc.bias"] = state["module.attacker.model.fc.bias"] + 0.5
    return ckpt, "the model and attacker copies disagree (max abs diff 0.5)"
  raise ValueError(kind)


@pytest.mark.parametrize("kind", ["missing", "extra", "misshapen", "disagreeing", "unreadable",
                                  "absent"])
def test_bad_checkpoints_give_one_line_and_exit_2(kind, tmp_path, capsys):
  ckpt = tmp_path / "bad.pt"
  if kind == "unreadable":
    ckpt.write_bytes(b"this is not a checkpoint" * 10)
    words = "bad.pt: not a readable PyTorch checkpoint"
  elif kind == "absent":
    words = "bad.pt: no such file"
  else:
    state, words = _broken(kind, _random_torch_model(3, num_classes=10, width=8, cifar=True))
    torch.save(state, ckpt)
  code = cli.main(["convert-resnet18", str(ckpt), "--out", str(tmp_path / "out")])
  captured = capsys.readouterr()
  err = captured.err.strip()
  assert code == 2 and len(err.splitlines()) == 1 and words in err, err
  assert err.startswith("superjax: error: ") and not (tmp_path / "out").exists()


def test_missing_torch_says_how_to_install(monkeypatch):
  monkeypatch.setitem(sys.modules, "torch", None)
  with pytest.raises(SuperjaxError, match=r'pip install "superjax\[torch\]"'):
    convert.convert_resnet18("any.pt", "out")


def test_load_reports_missing_or_damaged_checkpoints(tmp_path):
  with pytest.raises(SuperjaxError, match="is not a converted-model directory"):
    resnet.load(tmp_path / "nothing")
  model = resnet.ResNet18(num_classes=3, stem="cifar", channels=4)
  variables = jax.tree.map(lambda a: np.zeros(a.shape, a.dtype), resnet.abstract_variables(model))
  resnet.save(tmp_path / "ok", model, variables, {"note": "zeros"})
  assert resnet.load(tmp_path / "ok").metadata == {"note": "zeros"}
  meta = json.loads((tmp_path / "ok" / resnet.META_FILE).read_text())
  assert meta["architecture"] == {"num_classes": 3, "stem": "cifar", "channels": 4,
                                  "mean": [0.485, 0.456, 0.406], "std": [0.229, 0.224, 0.225]}
  # Metadata from before `width` was renamed `channels` is refused in one line.
  old = dict(meta, architecture={**meta["architecture"], "width": 4})
  (tmp_path / "ok" / resnet.META_FILE).write_text(json.dumps(old))
  with pytest.raises(SuperjaxError, match="'width' is now 'channels'"):
    resnet.load(tmp_path / "ok")
  (tmp_path / "ok" / resnet.META_FILE).write_text(json.dumps(meta))
  for path in sorted((tmp_path / "ok" / resnet.VARIABLES_DIR).rglob("*")):
    if path.is_file():
      path.write_bytes(b"\0" * 7)
  with pytest.raises(SuperjaxError, match="cannot read the variables") as info:
    resnet.load(tmp_path / "ok")
  assert len(str(info.value).splitlines()) == 1
