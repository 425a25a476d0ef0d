"""Default chunks: as many runs as fit in the devices' free memory, the same results as
one chunk, and a resumed pass keeps the chunks it started with."""

import numpy as np

from superjax.core import host, loop
from superjax.toy import train


def _state_folders(run_dir):
  return sorted(p.name for p in (run_dir / "state" / "relu").glob("runs_*"))


def test_chunks_follow_free_memory_and_give_the_same_results(tmp_path, tiny_config, monkeypatch):
  from superjax.core.experiment import run
  runs = tiny_config.run_count
  whole = run(tiny_config, tmp_path / "whole", show_progress=False)
  assert _state_folders(tmp_path / "whole") == [f"runs_0000000_{runs:07d}"]
  # Room for one run per device: as many runs per chunk as devices.
  per_run = train.bytes_per_run(tiny_config)
  monkeypatch.setattr(host, "free_device_bytes", lambda devices: per_run / loop.MEMORY_SHARE)
  import jax
  per_chunk = jax.device_count()
  assert per_chunk < runs
  chunked = run(tiny_config, tmp_path / "chunked", show_progress=False)
  folders = _state_folders(tmp_path / "chunked")
  assert len(folders) == -(-runs // per_chunk)
  assert folders[0] == f"runs_0000000_{per_chunk:07d}"
  # Another chunk shape compiles another program: equal up to float rounding.
  np.testing.assert_allclose(chunked["W"].values, whole["W"].values, rtol=1e-5, atol=1e-6)


def test_resumed_pass_keeps_its_chunks_when_memory_changes(tmp_path, tiny_config, monkeypatch):
  from superjax.core.experiment import run
  cfg = tiny_config.replace(steps=200, checkpoint_every=100)
  monkeypatch.setattr(host, "free_device_bytes",
                      lambda devices: train.bytes_per_run(cfg) / loop.MEMORY_SHARE)
  first = run(cfg, tmp_path / "run", show_progress=False)
  before = _state_folders(tmp_path / "run")
  assert len(before) > 1
  (tmp_path / "run" / "results.nc").unlink()  # as if killed after the last checkpoint
  monkeypatch.setattr(host, "free_device_bytes", lambda devices: 10 ** 12)
  again = run(cfg, tmp_path / "run", show_progress=False)
  assert _state_folders(tmp_path / "run") == before
  np.testing.assert_array_equal(again["W"].values, first["W"].values)


def test_free_device_bytes_shares_host_memory_among_cpu_devices(monkeypatch):
  import jax
  assert 0 < host.available_host_bytes()
  monkeypatch.setattr(host, "available_host_bytes", lambda: 12_000)
  cpus = jax.devices("cpu")
  assert host.free_device_bytes(cpus) == 12_000 // len(cpus)
