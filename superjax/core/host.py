"""How this process uses its machine: one XLA device per CPU core, compiled programs
kept on disk, and whether it is a Jupyter kernel.

XLA runs a CPU as one device whose fused elementwise kernels mostly use one core, and a
toy-model step is mostly elementwise work (drawing, masking, ReLU, the loss). Splitting
the host into one device per core lets the core loop shard the runs axis over the cores
exactly as it shards it over GPUs: the sharding tests show results do not depend on the
device count, and on a 2-core host a sweep trains 20 to 35% faster (benchmarks/).
Accelerator platforms are unaffected; their devices stay the default.
"""

from __future__ import annotations

import os
import sys

DEVICE_COUNT_FLAG = "--xla_force_host_platform_device_count"


def use_every_core() -> None:
  """One XLA CPU device per core, unless XLA_FLAGS already chooses a count. Must run
  before JAX creates its backends (the first jax.devices() or array)."""
  flags = os.environ.get("XLA_FLAGS", "")
  if DEVICE_COUNT_FLAG in flags:
    return
  cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
  if cores and cores > 1:
    os.environ["XLA_FLAGS"] = f"{flags} {DEVICE_COUNT_FLAG}={cores}".strip()


CACHE_VARIABLE = "SUPERJAX_COMPILATION_CACHE"


def use_compilation_cache() -> None:
  """Keeps compiled programs on disk between runs (JAX's persistent cache).

  Per-run hyperparameters are traced arrays, so a sweep that changes densities, lrs or
  importances but not shapes lowers to the same program and loads it instead of
  compiling again, in a new process too. $SUPERJAX_COMPILATION_CACHE names the folder
  (default ~/.cache/superjax/xla); set it empty to turn the cache off.
  """
  import jax
  folder = os.environ.get(CACHE_VARIABLE)
  if folder is None:
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    folder = os.path.join(base, "superjax", "xla")
  if not folder:
    return
  jax.config.update("jax_compilation_cache_dir", folder)
  # Toy programs compile in about a second: cache every one of them.
  jax.config.update("jax_persistent_cache_min_compile_time_secs", 0)
  jax.config.update("jax_persistent_cache_min_entry_size_bytes", 0)


def setup() -> None:
  """Both of the above, as `superjax run` and `superjax.run` do before JAX starts."""
  use_every_core()
  use_compilation_cache()


def free_device_bytes(devices) -> int:
  """The least free memory of `devices`: an accelerator's allocator limit minus what it
  holds; for CPU devices, the host's available memory shared out among them."""
  free = []
  for device in devices:
    stats = device.memory_stats() or {}
    if "bytes_limit" in stats:
      free.append(stats["bytes_limit"] - stats.get("bytes_in_use", 0))
  if free:
    return min(free)
  cpus = sum(1 for d in devices if d.platform == "cpu") or 1
  return available_host_bytes() // cpus


def available_host_bytes() -> int:
  """MemAvailable from /proc/meminfo; elsewhere, the physical memory."""
  try:
    with open("/proc/meminfo") as f:
      for line in f:
        if line.startswith("MemAvailable:"):
          return int(line.split()[1]) * 1024
  except OSError:
    pass
  return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")


def in_notebook() -> bool:
  """Whether this process is a Jupyter kernel (not a plain IPython shell)."""
  if "ipykernel" not in sys.modules:
    return False
  try:
    from IPython import get_ipython
  except ImportError:
    return False
  shell = get_ipython()
  return shell is not None and hasattr(shell, "kernel")
