"""The depth study's config: the circuit (n features per layer, s active, depth), the
U-AND layers' widths m and subset probabilities p, seeds and test inputs."""

from __future__ import annotations

import dataclasses

from superjax.core.config import Config, check, check_int, is_int
from superjax.uand.config import EVERY_INPUT_MAX
from superjax.uand.inputs import ACTIVE_MODES, input_count


@dataclasses.dataclass(frozen=True)
class DeepCircuitsConfig(Config):
  """Error against depth of stacked U-AND layers, with and without error correction.

  Grid: m x p x seeds. n is the number of boolean features per circuit layer (even: the
  comparator layers pair them up), s how many are active (exactly, or at most s with
  active="at_most"; the circuit keeps the count at every layer), depth the number of
  circuit layers, m the neurons of each U-AND layer, p the probability that a neuron's
  subset holds a feature. The errors are over `test_inputs` random inputs per seed, or over
  every input with every_input.
  """

  EXPERIMENT = "deep_circuits"

  name: str
  description: str = ""
  n: int = 32
  s: int = 2
  active: str = "exact"
  depth: int = 12
  m: tuple[int, ...] = (4096, 16384, 65536)
  p: tuple[float, ...] = (0.1,)
  seeds: int = 5
  test_inputs: int = 256
  every_input: bool = False  # test on every input with s (at most s) on, not test_inputs
  checkpoint_every: int = 4  # layers between saves of a pass's state
  base_seed: int = 0

  def validate(self) -> None:
    check(is_int(self.n) and 4 <= self.n <= 4096 and self.n % 2 == 0, "n",
          f"{self.n!r} must be an even integer in [4, 4096]")
    check(is_int(self.s) and 2 <= self.s <= self.n, "s",
          f"{self.s!r} is outside the allowed range [2, n = {self.n}]")
    check(self.active in ACTIVE_MODES, "active",
          f"{self.active!r} is not one of {', '.join(ACTIVE_MODES)}")
    check(len(self.m) > 0, "m", "needs at least one value")
    check(all(is_int(v) for v in self.m), "m", f"{self.m} must be integers")
    check(list(self.m) == sorted(set(self.m)), "m", "values must be distinct and increasing")
    for v in self.m:
      check(2 <= v <= 1 << 20, "m", f"{v} is outside the allowed range [2, 1048576]")
    check(len(self.p) > 0 and len(set(self.p)) == len(self.p), "p", "needs distinct values")
    for v in self.p:
      check(isinstance(v, (int, float)) and 0.0 < v <= 1.0, "p",
            f"{v} is outside the allowed range (0, 1]")
    check(isinstance(self.every_input, bool), "every_input",
          f"{self.every_input!r} must be true or false")
    if self.every_input:
      count = input_count(self.n, self.s, self.active)
      check(count <= EVERY_INPUT_MAX, "every_input",
            f"n = {self.n}, s = {self.s} has {count:,} inputs, more than {EVERY_INPUT_MAX:,}")
    for field, low in (("depth", 1), ("seeds", 1), ("test_inputs", 1),
                       ("checkpoint_every", 1), ("base_seed", 0)):
      check_int(self, field, low)


def tiny() -> DeepCircuitsConfig:
  """A study that runs in seconds: 8 features, two narrow widths, 6 layers, 2 seeds."""
  return DeepCircuitsConfig(name="tiny_deep_circuits", n=8, s=2, depth=6, m=(256, 1024),
                            p=(0.2,), seeds=2, test_inputs=16, checkpoint_every=1)
