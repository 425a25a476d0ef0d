"""Results do not depend on how many devices the grid is sharded over."""

import json
import os
import subprocess
import sys

import numpy as np

import superjax
from superjax import engine

_SCRIPT = """
import sys
from superjax import SweepConfig, engine
cfg = SweepConfig(name="shard", n=5, m=2, density=(1.0, 0.3, 0.05), seeds=3, importance=(0.9,),
                  steps=200, batch=64, log_every=50, checkpoint_every=100, eval_batch=256)
engine.run(cfg, sys.argv[1], show_progress=False)
"""


def _run_with_devices(devices: int, out) -> None:
  env = dict(os.environ, XLA_FLAGS=f"--xla_force_host_platform_device_count={devices}",
             JAX_PLATFORMS="cpu")
  subprocess.run([sys.executable, "-c", _SCRIPT, str(out)], env=env, check=True,
                 capture_output=True, timeout=300)


def test_one_and_four_devices_give_the_same_results(tmp_path):
  # 9 runs over 4 devices: padded to 12, the padding dropped again.
  _run_with_devices(1, tmp_path / "one")
  _run_with_devices(4, tmp_path / "four")
  one, four = superjax.load(tmp_path / "one"), superjax.load(tmp_path / "four")
  assert json.loads((tmp_path / "four" / "manifest.json").read_text())["device"]["count"] == 4
  assert four.sizes["density"] == 3 and four.sizes["seed"] == 3
  for name in ("W", "b", "loss", "loss_history"):
    np.testing.assert_allclose(four[name], one[name], rtol=1e-5, atol=1e-7, err_msg=name)


def test_padding_is_dropped_in_process(tiny_config, tmp_path):
  # With one device nothing is padded; the engine still goes through the sharded path.
  ds = engine.run(tiny_config.replace(seeds=3), tmp_path / "run", show_progress=False)
  assert ds.sizes["seed"] == 3 and np.isfinite(ds["loss"]).all()
