"""Named random streams: derived by fold_in of fixed constants, so base seeds never share
a stream; and the code derives no key as key(base_seed + offset)."""

import itertools
import re
import zlib
from pathlib import Path

import jax
import numpy as np

import superjax
from superjax.core import keys
from superjax.zoo_sae import run as zoo_run


def _data(key) -> tuple:
  return tuple(np.asarray(jax.random.key_data(key)).ravel().tolist())


def test_streams_are_fold_ins_of_the_names_crc32():
  want = jax.random.fold_in(jax.random.key(3), zlib.crc32(b"tokens") & 0x7FFFFFFF)
  assert _data(keys.root(3, "tokens")) == _data(want)
  run = jax.random.fold_in(jax.random.fold_in(jax.random.key(3),
                                              zlib.crc32(b"runs") & 0x7FFFFFFF), 5)
  assert _data(keys.run_keys(3, [5])[0]) == _data(run)


def test_digits_robust_sae_base_seeds_share_no_random_stream():
  """Every key the study draws from (the zoo's classifiers, the evaluation attacks, the
  SAEs of every seed it trains), at base seeds 0, 1 and 2: all distinct. With offsets
  (key(base_seed + 0/1/2)) base seed 1's zoo stream was base seed 0's attack stream."""
  cfg = superjax.config("digits_robust_sae")
  seen = {}
  for base_seed in (0, 1, 2):
    c = cfg.replace(base_seed=base_seed)
    streams = {"attack": [zoo_run.attack_key(c)]}
    streams["zoo"] = list(zoo_run.zoo_keys(c, np.arange(4)))
    streams["sae"] = list(keys.run_keys(base_seed, np.arange(4), zoo_run.SAE_STREAM))
    for name, found in streams.items():
      for i, key in enumerate(found):
        assert _data(key) not in seen, (base_seed, name, i, seen.get(_data(key)))
        seen[_data(key)] = (base_seed, name, i)
  assert len(seen) == 3 * 9


def test_no_key_is_made_from_a_seed_plus_an_offset():
  package = Path(superjax.__file__).parent
  offenders = []
  for path in package.rglob("*.py"):
    if path.name == "keys.py" and path.parent.name == "core":  # where keys are made
      continue
    for number, line in enumerate(path.read_text().splitlines(), 1):
      code = line.split("#")[0]
      if re.search(r"base_seed\s*\+", code) or re.search(r"random\.key\([^)]*\+", code):
        offenders.append(f"{path.name}:{number}: {line.strip()}")
      elif "jax.random.key(" in code and "#" not in line:
        offenders.append(f"{path.name}:{number}: {line.strip()} (use core.keys.root)")
  assert not offenders, "\n".join(offenders)


def test_named_streams_of_one_key_differ():
  key = keys.run_keys(0, [0])[0]
  names = ["init", "batch", "attack", "eval", "steps", "init_batch", "inputs"]
  datas = [_data(keys.named(key, n)) for n in names]
  assert len(set(datas)) == len(names)
  for a, b in itertools.combinations(range(3), 2):
    assert _data(keys.step_key(key, a)) != _data(keys.step_key(key, b))
