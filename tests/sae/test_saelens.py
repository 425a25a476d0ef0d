"""SAELens folders: every kind written with its standardisation folded in, checked against
SAELens's forward pass written in numpy (and against SAELens itself where it is
installed); folders read back; a toy-SAE run exported and re-scored; bad input refused."""

import json

import jax.numpy as jnp
import numpy as np
import pytest

from superjax import cli
from superjax.core import experiment
from superjax.sae import recovery, saelens
from superjax.sae.kinds import KINDS
from superjax.sae.metrics import evaluate
from superjax.sae.model import SAE, Settings, encode, reconstruct
from superjax.toy_sae.config import tiny

EXPORTED = sorted(name for name, kind in KINDS.items() if kind.saelens is not None)


def random_sae(kind, seed=0, d=5, expansion=3, k=2):
  """An SAE of `kind` with per-dimension standardisation and non-trivial biases."""
  rng = np.random.default_rng(seed)
  L = d * expansion
  params = {"W_enc": rng.normal(size=(L, d)), "b_enc": rng.normal(size=L) * 0.3,
            "W_dec": rng.normal(size=(L, d)), "b_dec": rng.normal(size=d) * 0.5}
  if kind == "jumprelu":
    params["log_threshold"] = np.log(rng.uniform(0.1, 0.6, size=L))
  buffers = {"threshold": np.float32(0.4)} if KINDS[kind].init_buffers(None) else {}
  to_jax = lambda tree: {n: jnp.asarray(v, jnp.float32) for n, v in tree.items()}
  return SAE(params=to_jax(params), buffers=to_jax(buffers),
             mean=jnp.asarray(rng.normal(size=d) * 2.0, jnp.float32),
             scale=jnp.asarray(rng.uniform(0.3, 3.0, size=d), jnp.float32), k=jnp.int32(k),
             settings=Settings(kind=kind, d_in=d, expansion=expansion, k_max=4))


def raw_activations(sae, count=64, seed=1):
  rng = np.random.default_rng(seed)
  d = sae.mean.shape[0]
  return (np.asarray(sae.mean) + rng.normal(size=(count, d)) * np.asarray(sae.scale)).astype(
      np.float32)


def numpy_saelens(cfg, t, a):
  """SAELens 6's forward pass as its docs and code define it, in numpy."""
  sae_in = a - t["b_dec"] if cfg.get("apply_b_dec_to_input", True) else a
  pre = sae_in @ t["W_enc"] + t["b_enc"]
  if cfg["architecture"] == "standard":
    f = np.maximum(pre, 0)
  elif cfg["architecture"] == "jumprelu":
    f = np.maximum(pre, 0) * (pre > t["threshold"])
  else:
    kth = np.sort(pre, axis=1)[:, -cfg["k"]][:, None]
    f = np.where(pre >= kth, np.maximum(pre, 0), 0.0)
  return f, f @ t["W_dec"] + t["b_dec"]


def superjax_raw(sae, a):
  """Latents of raw activations and the reconstruction mapped back to raw units."""
  z = encode(sae, jnp.asarray(a))
  x_hat = reconstruct(sae, z) * sae.scale[None, :] + sae.mean[None, :]
  return np.asarray(z), np.asarray(x_hat)


@pytest.mark.parametrize("kind", EXPORTED)
def test_every_kind_writes_a_folder_that_computes_what_it_does(kind, tmp_path):
  sae = random_sae(kind)
  folder = saelens.save(sae, tmp_path / kind, {"note": "x"})
  cfg = json.loads((folder / saelens.CONFIG_FILE).read_text())
  tensors = saelens.read_safetensors(folder / saelens.WEIGHTS_FILE)
  assert cfg["architecture"] == {"relu": "standard", "topk": "topk"}.get(kind, "jumprelu")
  assert (cfg["d_in"], cfg["d_sae"], cfg["dtype"]) == (5, 15, "float32")
  assert cfg["metadata"]["superjax"]["note"] == "x"
  assert tensors["W_enc"].shape == (5, 15) and tensors["W_dec"].shape == (15, 5)
  a = raw_activations(sae)
  z, x_hat = superjax_raw(sae, a)
  assert 0 < (z > 0).sum() < z.size  # some latents on, some off
  f, out = numpy_saelens(cfg, tensors, a)
  np.testing.assert_allclose(f, z, rtol=1e-5, atol=1e-5)
  np.testing.assert_allclose(out, x_hat, rtol=1e-5, atol=1e-5)
  # Read back: the same latents and reconstructions on the same raw activations.
  back = saelens.load(folder)
  z_back, x_back = superjax_raw(back, a)
  np.testing.assert_allclose(z_back, z, rtol=1e-5, atol=1e-5)
  np.testing.assert_allclose(x_back, x_hat, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("architecture", ["standard", "jumprelu", "topk"])
def test_a_folder_without_input_centring_reads_as_numpy_computes_it(architecture, tmp_path):
  rng = np.random.default_rng(3)
  d, L = 4, 10
  t = {"W_enc": rng.normal(size=(d, L)), "b_enc": rng.normal(size=L) * 0.2,
       "W_dec": rng.normal(size=(L, d)), "b_dec": rng.normal(size=d)}
  cfg = {"architecture": architecture, "d_in": d, "d_sae": L, "dtype": "float32",
         "apply_b_dec_to_input": False, "k": 3}
  if architecture == "jumprelu":
    t["threshold"] = rng.uniform(0.0, 0.5, size=L)
    t["threshold"][0] = 0.0  # a threshold of 0 is a plain ReLU
  saelens.write_safetensors(tmp_path / saelens.WEIGHTS_FILE, t)
  (tmp_path / saelens.CONFIG_FILE).write_text(json.dumps(cfg))
  sae = saelens.load(tmp_path)
  assert sae.settings.n_latents == L and sae.settings.expansion == 2.5
  a = rng.normal(size=(32, d)).astype(np.float32)
  f, out = numpy_saelens(cfg, t, a)
  z, x_hat = superjax_raw(sae, a)
  np.testing.assert_allclose(z, f, rtol=1e-5, atol=1e-5)
  np.testing.assert_allclose(x_hat, out, rtol=1e-5, atol=1e-5)


def test_unsupported_folders_are_refused_in_one_line(tmp_path):
  with pytest.raises(saelens.SuperjaxError, match="not a SAELens folder"):
    saelens.load(tmp_path)
  saelens.save(random_sae("topk"), tmp_path)
  cfg = json.loads((tmp_path / saelens.CONFIG_FILE).read_text())
  (tmp_path / saelens.CONFIG_FILE).write_text(json.dumps(dict(cfg, architecture="gated")))
  with pytest.raises(saelens.SuperjaxError, match="gated"):
    saelens.load(tmp_path)


@pytest.fixture(scope="module")
def toy_run(tmp_path_factory):
  """A toy-SAE run with SAEs of every kind, a few steps each."""
  cfg = tiny().replace(sae_kinds=tuple(KINDS), density=(1.0, 0.3), alpha=(1.0,), seeds=1,
                       toy_steps=50, sae_steps=40, log_every=20, checkpoint_every=40)
  out = tmp_path_factory.mktemp("toy_sae") / "run"
  return cfg, out, experiment.run(cfg, out, show_progress=False)


def test_exported_toy_saes_score_the_recovery_of_the_saes_they_came_from(toy_run, tmp_path):
  cfg, run_dir, ds = toy_run
  folders = saelens.export_run(run_dir, tmp_path)
  index = json.loads((tmp_path / saelens.INDEX_FILE).read_text())
  settings = sum(len(cfg.settings_of(kind)) for kind in cfg.sae_kinds)
  assert len(folders) == len(index) == settings * len(cfg.density)
  rng = np.random.default_rng(0)
  for folder in folders:
    coords = index[str(folder.relative_to(tmp_path))]
    cell = ds.sel(sae_kind=coords["sae_kind"], expansion=coords["expansion"],
                  setting=coords["setting"], alpha=coords["alpha"],
                  density=coords["density"], seed=coords["seed"])
    imported = saelens.load(folder)
    rows = recovery.raw_dictionary(np.asarray(imported.params["W_dec"]),
                                   np.asarray(imported.scale))
    found = recovery.recovery(cell["W"].values, rows)
    for name in ("mmcs", "matched", "recovered"):
      assert found[name] == pytest.approx(float(cell[name]), abs=1e-5), (folder, name)
    np.testing.assert_allclose(rows, cell["dictionary"].values, rtol=1e-5, atol=1e-6)
    # On one toy model's hidden activations h = W x, the imported SAE's L0 is the
    # original's (k = its k for TopK), measured on raw inputs.
    x = (rng.random((512, cfg.n)) < coords["density"]) * rng.random((512, cfg.n))
    h = jnp.asarray(x @ cell["W"].values.T, jnp.float32)
    l0 = float(evaluate(imported, h)["l0"])
    if coords["sae_kind"] == "topk":
      assert l0 <= float(cell["k"]) + 1e-6
    assert 0 < l0 <= imported.settings.n_latents


def test_export_selects_by_coordinates_from_the_command_line(toy_run, tmp_path, capsys):
  _, run_dir, _ = toy_run
  out = tmp_path / "saes"
  assert cli.main(["export-saes", str(run_dir), str(out), "--where", "sae_kind=topk,relu",
                   "--where", "density=0.3"]) == 0
  index = json.loads((out / saelens.INDEX_FILE).read_text())
  assert {c["sae_kind"] for c in index.values()} == {"topk", "relu"}
  assert {c["density"] for c in index.values()} == {0.3}
  assert "wrote" in capsys.readouterr().out


@pytest.mark.parametrize("args, words", [
    (["--where", "colour=red"], "unknown coordinate 'colour'"),
    (["--where", "sae_kind=gated"], "no SAE has sae_kind=gated"),
    (["--where", "sae_kind"], "NAME=VALUE"),
])
def test_bad_selections_are_one_line(toy_run, tmp_path, capsys, args, words):
  _, run_dir, _ = toy_run
  assert cli.main(["export-saes", str(run_dir), str(tmp_path / "o"), *args]) == 2
  err = capsys.readouterr().err.strip()
  assert len(err.splitlines()) == 1 and words in err


def test_a_directory_that_is_no_run_or_holds_no_saes_is_one_line(tmp_path, capsys,
                                                                  tiny_config):
  assert cli.main(["export-saes", str(tmp_path / "none"), str(tmp_path / "o")]) == 2
  assert "not a superjax run directory" in capsys.readouterr().err
  toy = tiny_config.replace(density=(1.0,), steps=20)
  experiment.run(toy, tmp_path / "toy", show_progress=False)
  assert cli.main(["export-saes", str(tmp_path / "toy"), str(tmp_path / "o")]) == 2
  err = capsys.readouterr().err.strip()
  assert len(err.splitlines()) == 1 and "trains no SAEs" in err


def test_real_saelens_loads_every_kind_of_a_toy_run_and_computes_the_same(toy_run, tmp_path):
  sae_lens = pytest.importorskip("sae_lens")
  import torch
  torch.set_num_threads(1)
  cfg, run_dir, ds = toy_run
  rng = np.random.default_rng(1)
  architectures = set()
  for about, sae in saelens.run_saes(run_dir):
    folder = saelens.save(sae, tmp_path / about["pass"] / str(about["run"]), about)
    loaded = sae_lens.SAE.load_from_disk(str(folder))
    architectures.add((sae.settings.kind, loaded.cfg.architecture()))
    coords = about["coordinates"]
    W = ds["W"].sel(alpha=coords["alpha"], density=coords["density"], seed=coords["seed"])
    x = (rng.random((256, cfg.n)) < coords["density"]) * rng.random((256, cfg.n))
    a = (x @ W.values.T).astype(np.float32)  # the toy model's hidden activations
    with torch.no_grad():
      f = loaded.encode(torch.tensor(a))
      out = loaded.decode(f).numpy()
    z, x_hat = superjax_raw(sae, a)
    np.testing.assert_allclose(f.numpy(), z, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(out, x_hat, rtol=1e-5, atol=1e-5)
  assert architectures == {("relu", "standard"), ("jumprelu", "jumprelu"), ("topk", "topk"),
                           ("batchtopk", "jumprelu"), ("matryoshka", "jumprelu")}


@pytest.mark.parametrize("kind", EXPORTED)
def test_real_saelens_computes_what_every_kind_computes(kind, tmp_path):
  """Per-dimension standardisation (as digits-SAE runs use) folded into the weights."""
  sae_lens = pytest.importorskip("sae_lens")
  import torch
  torch.set_num_threads(1)
  sae = random_sae(kind, seed=5)
  loaded = sae_lens.SAE.load_from_disk(str(saelens.save(sae, tmp_path)))
  a = raw_activations(sae)
  with torch.no_grad():
    f = loaded.encode(torch.tensor(a))
    out = loaded.decode(f).numpy()
  z, x_hat = superjax_raw(sae, a)
  np.testing.assert_allclose(f.numpy(), z, rtol=1e-5, atol=1e-5)
  np.testing.assert_allclose(out, x_hat, rtol=1e-5, atol=1e-5)
