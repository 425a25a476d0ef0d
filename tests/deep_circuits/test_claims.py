"""The depth claims on hand-built results: each rule gives one verdict just inside its band
and another just outside, with the judged numbers recomputed in plain numpy."""

import numpy as np
import pytest
import xarray as xr

from superjax.deep_circuits import claims, network
from superjax.deep_circuits.config import DeepCircuitsConfig

SEEDS, LAYERS = 5, 8


def _results(uncorrected, corrected, cleaned, every_input=True):
  """A finished run's results at one width and p from (seeds, layers) max errors, with the
  config such a run carries."""
  data = np.stack([uncorrected, corrected, cleaned])[:, None, None]
  dims = ("readout", "m", "p", "seed", "layer")
  coords = {"readout": list(network.READOUTS), "m": [4096], "p": [0.1],
            "seed": np.arange(data.shape[3]), "layer": np.arange(1, data.shape[4] + 1)}
  ds = xr.Dataset({"max_error": (dims, data), "mean_error": (dims, data / 10)}, coords=coords)
  cfg = DeepCircuitsConfig(name="x", n=32, s=2, depth=data.shape[4], m=(4096,), p=(0.1,),
                           seeds=data.shape[3], every_input=every_input)
  ds.attrs.update(experiment="deep_circuits", config=cfg.to_json())
  return ds


def _spread(seed=0):
  return np.random.default_rng(seed).uniform(0.98, 1.02, (SEEDS, 1))


@pytest.mark.parametrize("growth, verdict", [(2.2, "holds"), (1.8, "partly"),
                                             (0.9, "does not hold")])
def test_growth_rule_against_numpy(growth, verdict):
  first = 0.1 * _spread(1)
  ends = growth * _spread(2)  # each seed's last / first, within 2% of `growth`
  unc = first * (1.0 + (ends - 1.0) * np.linspace(0.0, 1.0, LAYERS)[None, :])
  flat = np.full((SEEDS, LAYERS), 0.15)
  finding = claims.grows_without_correction(_results(unc, flat, np.zeros_like(flat)))
  ratio = unc[:, -1] / unc[:, 0]
  assert f"layer {LAYERS} / layer 1 (m = 4,096): {ratio.mean():.2f} [" in finding.measured
  assert finding.verdict == verdict
  assert any("in a basis" in d for d in finding.deviations)


@pytest.mark.parametrize("largest, verdict", [(0.23, "holds"), (0.27, "does not hold")])
def test_bounded_is_not_tested_in_a_basis_and_shows_the_rules_reading(largest, verdict):
  corrected = np.full((SEEDS, LAYERS), 0.12)
  corrected[:, 5] = largest * _spread(3)[:, 0]
  cleaned = np.zeros_like(corrected)
  if largest > 0.25:
    cleaned[:, 5:] = 0.1
  finding = claims.bounded_with_correction(_results(corrected * 3, corrected, cleaned))
  assert f"over {LAYERS} layers (m = 4,096): {corrected.max(axis=1).mean():.3f} [" in (
      finding.measured)
  # Correction in a basis is exact below 1/4 by construction: never a reproduction.
  assert finding.verdict == "not tested" and "by construction" in finding.reason
  assert finding.measured.endswith(f"the rule alone would read {verdict}")


def test_sampled_inputs_are_named_with_their_bound():
  flat = np.full((SEEDS, LAYERS), 0.15)
  found = claims.grows_without_correction(_results(flat, flat, flat * 0, every_input=False))
  q = 1 - 0.05 ** (1 / 256)
  assert any("256 random inputs" in d and "496 exist" in d and f"{q:.1%}" in d
             for d in found.deviations)
  assert all(c.rule and c.protocol for c in claims.CLAIMS)
