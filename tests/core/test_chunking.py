"""Default chunks: as many runs as fit in the devices' free memory, measured from the
compiled program; the same results as one chunk; a resumed pass keeps its chunks."""

import jax
import numpy as np

from superjax.core import chunks, host, loop
from superjax.toy import program, train
from superjax.toy import run as toy_run


def _state_folders(run_dir):
  return sorted(p.name for p in (run_dir / "state" / "relu").glob("runs_*"))


def _bytes_whole_grid(cfg, tmp_path) -> int:
  """One device's bytes for the tiny grid as one chunk, as the loop measures them."""
  hps = train.hparams(cfg)
  return loop.Pass(program.program(cfg, "relu"),
                   jax.vmap(lambda s: train.run_key(cfg, s))(hps.seed), hps,
                   toy_run.schedule(cfg), tmp_path).bytes_per_device()


def test_chunks_follow_free_memory_and_give_the_same_results(tmp_path, tiny_config, monkeypatch):
  from superjax.core.experiment import run
  runs = tiny_config.run_count
  whole = run(tiny_config, tmp_path / "whole", show_progress=False)
  assert _state_folders(tmp_path / "whole") == [f"runs_0000000_{runs:07d}"]
  # Room for about half the grid: the chunks split it.
  need = _bytes_whole_grid(tiny_config, tmp_path / "probe")
  assert need > 0
  monkeypatch.setattr(host, "free_device_bytes",
                      lambda devices: need / 2 / chunks.MEMORY_SHARE)
  chunked = run(tiny_config, tmp_path / "chunked", show_progress=False)
  folders = _state_folders(tmp_path / "chunked")
  assert len(folders) >= 2
  size = int(folders[0].split("_")[2])
  assert size % jax.device_count() == 0 and size < runs
  # Another chunk shape compiles another program: equal up to float rounding.
  np.testing.assert_allclose(chunked["W"].values, whole["W"].values, rtol=1e-5, atol=1e-6)


def test_resumed_pass_keeps_its_chunks_when_memory_changes(tmp_path, tiny_config, monkeypatch):
  from superjax.core.experiment import run
  cfg = tiny_config.replace(steps=200, checkpoint_every=100)
  need = _bytes_whole_grid(cfg, tmp_path / "probe")
  monkeypatch.setattr(host, "free_device_bytes", lambda devices: need / 2 / chunks.MEMORY_SHARE)
  first = run(cfg, tmp_path / "run", show_progress=False)
  before = _state_folders(tmp_path / "run")
  assert len(before) > 1
  (tmp_path / "run" / "results.nc").unlink()  # as if killed after the last checkpoint
  monkeypatch.setattr(host, "free_device_bytes", lambda devices: 10 ** 12)
  again = run(cfg, tmp_path / "run", show_progress=False)
  assert _state_folders(tmp_path / "run") == before
  np.testing.assert_array_equal(again["W"].values, first["W"].values)


def test_free_device_bytes_shares_host_memory_among_cpu_devices(monkeypatch):
  assert 0 < host.available_host_bytes()
  monkeypatch.setattr(host, "available_host_bytes", lambda: 12_000)
  cpus = jax.devices("cpu")
  assert host.free_device_bytes(cpus) == 12_000 // len(cpus)


def test_an_sae_pass_splits_by_its_measured_memory(tmp_path, monkeypatch):
  """SAE passes declare nothing about their memory: the loop measures the compiled
  program, and a pass that does not fit trains in chunks with the same results."""
  from superjax.sae import train as sae_train
  from superjax.sae.model import Settings, hparams
  rng = np.random.default_rng(0)
  acts = rng.normal(size=(1, 512, 8)).astype(np.float32)
  settings = Settings(kind="relu", d_in=8, expansion=4, batch=64, steps=10)
  hp, _ = hparams(settings, penalty=(0.01, 0.1, 1.0), lr=(1e-3,))
  make = lambda out: sae_train.sae_pass(settings, hp, acts, out, log_every=10,
                                        eval_acts={"held_out": acts[:, :128]})
  whole = make(tmp_path / "whole").train()
  probe = make(tmp_path / "probe")
  need = probe.bytes_per_device()
  data_bytes = sum(a.nbytes for a in jax.tree.leaves(probe.data))
  assert need > data_bytes
  # The shared data is on the devices already; room for about half the runs besides.
  room = (need - data_bytes) / 2
  monkeypatch.setattr(host, "free_device_bytes", lambda devices: room / chunks.MEMORY_SHARE)
  chunked = make(tmp_path / "chunked").train()
  folders = sorted((tmp_path / "chunked" / "state" / "sae").glob("runs_*"))
  assert len(folders) >= 2
  for name, value in whole.outputs.items():
    np.testing.assert_allclose(chunked.outputs[name], value, rtol=1e-5, atol=1e-6)
