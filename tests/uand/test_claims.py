"""The U-AND claims on hand-built results: every rule gives one verdict just inside its band
and another just outside, with the judged numbers recomputed in plain numpy."""

import numpy as np
import pytest
import xarray as xr

from superjax.claims import verdicts
from superjax.uand import claims
from superjax.uand.config import UAndConfig

N = (64, 128, 256, 512)
SEEDS = 5


def _jitter(shape, seed=0, size=0.02):
  return np.exp(np.random.default_rng(seed).uniform(-size, size, shape))


def _errors_for(needed, m):
  """(..., m) max errors that first reach 0.1 at width `needed` (1.0 before; NaN needed:
  never reached)."""
  needed = np.asarray(needed, float)[..., None]
  return np.where(np.asarray(m)[None] >= needed, 0.1, 1.0)


def _uand_results(needed, *, n=N, s=(2,), inputs="basis", d0=None, eps=(), m=None, **cfg):
  """Saved results of a U-AND run: needed (s, n, seed) widths at which the one p reaches
  max error 0.1 (NaN: never), and the config a finished run would carry."""
  needed = np.asarray(needed, float)
  if m is None:
    finite = needed[np.isfinite(needed)]
    m = tuple(sorted({int(v) for v in finite} | {int(finite.max()) + 1}))
  config = UAndConfig(name="x", constructions=("naive", "uand"), inputs=(inputs,), n=tuple(n),
                      s=tuple(s), m=m, p=(0.1,), seeds=needed.shape[-1], trained_m=(m[0],),
                      eps=tuple(eps), **cfg)
  errors = _errors_for(needed, m)  # (s, n, seed, m)
  uand = errors.transpose(0, 1, 3, 2)[None, :, :, None]  # (inputs, s, n, p, m, seed)
  d0 = np.asarray(n) // 2 if d0 is None else np.asarray(d0)
  ds = xr.Dataset(
      {"uand_max_error": (("inputs", "s", "n", "p", "m", "seed"), uand),
       "naive_width": ("n", np.asarray([k * (k - 1) // 2 for k in n])),
       "d0": ("n", d0),
       "input_max_error": (("inputs", "s", "n", "seed"),
                           np.full((1, len(s), len(n), needed.shape[-1]), 0.2))},
      coords={"inputs": [inputs], "s": list(s), "n": list(n), "p": [0.1], "m": list(m),
              "seed": np.arange(needed.shape[-1])})
  ds.attrs.update(experiment="uand", config=config.to_json())
  return ds


def _power_widths(slope, n=N, seeds=SEEDS):
  """(1, n, seed) integer widths ~ n^slope, 30,000 at the largest n, a little different
  per seed."""
  n = np.asarray(n, float)[:, None]
  return np.round(30_000 * (n / n.max()) ** slope * _jitter((len(n), seeds)))[None]


def _numpy_slopes(x, needed):
  return np.asarray([np.polyfit(np.log(x), np.log(needed[:, k]), 1)[0]
                     for k in range(needed.shape[1])])


@pytest.mark.parametrize("slope, verdict", [(0.9, "holds"), (1.1, "partly"),
                                            (2.2, "does not hold")])
def test_sublinear_rule_against_numpy_slopes(slope, verdict):
  widths = _power_widths(slope)
  finding = claims.basis_sublinear(_uand_results(widths, every_input=True))
  expected = _numpy_slopes(np.asarray(N, float), widths[0])
  mean = expected.mean()
  assert f"{mean:.2f} [" in finding.measured
  assert finding.verdict == verdict
  assert finding.deviations and any("exactly s" in d for d in finding.deviations)
  assert not any("random inputs" in d for d in finding.deviations)


def test_a_never_reached_width_cannot_hold_and_sampling_is_named():
  widths = _power_widths(0.5)
  widths[0, -1, 2] = np.nan  # seed 2 never reaches eps at n = 512
  finding = claims.basis_sublinear(_uand_results(widths, test_inputs=64))
  assert finding.verdict == "inconclusive"
  assert "never reached" in finding.reason
  # The sampled worst case names its size and what it may miss: (1 - q)^64 = 0.05.
  q = 1 - 0.05 ** (1 / 64)
  assert any(f"{q:.1%}" in d and "64 random inputs" in d for d in finding.deviations)
  assert claims.miss_fraction(64) == pytest.approx(q)
  assert (1 - claims.miss_fraction(64)) ** 64 == pytest.approx(0.05)


@pytest.mark.parametrize("ratio, verdict", [(1.08, "holds"), (0.92, "does not hold"),
                                            (1.0, "inconclusive")])
def test_fewer_than_naive_at_the_largest_n(ratio, verdict):
  n = (32, 64, 128, 256)
  naive = np.asarray([k * (k - 1) // 2 for k in n], float)
  # U-AND wider than naive below n = 256, then naive / ratio (a spread straddling 1 when
  # the ratio is 1).
  spread = np.linspace(-0.05, 0.05, SEEDS) if ratio == 1.0 else np.zeros(SEEDS)
  widths = np.stack([np.round(naive[0] * 2 * _jitter(SEEDS, 1)),
                     np.round(naive[1] * 2 * _jitter(SEEDS, 2)),
                     np.round(naive[2] / 1.5 * _jitter(SEEDS, 3)),
                     np.round(naive[3] / (ratio + spread))])[None]
  finding = claims.fewer_than_naive(_uand_results(widths, n=n, every_input=True))
  per_seed = naive[-1] / widths[0, -1]
  assert f"naive / U-AND neurons at n = 256: {per_seed.mean():.2f} [" in finding.measured
  assert finding.verdict == verdict
  if verdict == "holds":
    assert "crossover n = 128" in finding.measured


def test_superposed_claim_is_not_tested_without_enough_compression_or_points():
  widths = _power_widths(0.5)
  uncompressed = _uand_results(widths, inputs="superposed", d0=np.asarray(N) * 2,
                               d0_scale=2.0, d0_at_most_n=False)
  found = claims.superposed_sqrt(uncompressed)
  assert found.verdict == "not tested" and "d0 >= n" in found.reason
  # 2x compression (d0 = n/2) is not superposition worth the name: at least 4x.
  found = claims.superposed_sqrt(_uand_results(widths, inputs="superposed"))
  assert found.verdict == "not tested" and "4x compressed" in found.reason
  # Three values of n are too few points for a slope.
  found = claims.superposed_sqrt(_uand_results(widths[:, 1:], n=N[1:], inputs="superposed",
                                               d0=np.asarray(N[1:]) // 4))
  assert found.verdict == "not tested" and "at least 4 values of n" in found.reason
  compressed = _uand_results(widths, inputs="superposed", embedding="hadamard",
                             d0=np.asarray(N) // 4)
  found = claims.superposed_sqrt(compressed)
  assert found.verdict == "holds"
  steep = _uand_results(_power_widths(1.3), inputs="superposed", embedding="hadamard",
                        d0=np.asarray(N) // 4)
  assert claims.superposed_sqrt(steep).verdict == "partly"


def _random_mlp_results(errors_at_widest, n=(16, 32, 64)):
  """Random-MLP results whose max error at the widest fitted width m = 64 is the given
  (n, seed) array (and 1.0 at m = 32)."""
  errors_at_widest = np.asarray(errors_at_widest, float)
  n = n[:errors_at_widest.shape[0]]
  m = (32, 64, 128)
  cfg = UAndConfig(name="x", constructions=("random_mlp",), inputs=("basis",), n=n, m=m,
                   seeds=errors_at_widest.shape[1], fitted_max_m=64, trained_m=(32,),
                   every_input=True)
  err = np.full((1, 1, 1, len(n), 3, errors_at_widest.shape[1]), np.nan)
  err[..., 0, :] = 1.0
  err[..., 1, :] = errors_at_widest
  ds = xr.Dataset({"max_error": (("construction", "inputs", "s", "n", "m", "seed"), err)},
                  coords={"construction": ["random_mlp"], "inputs": ["basis"], "s": [2],
                          "n": list(n), "m": list(m), "seed": np.arange(err.shape[-1])})
  ds.attrs.update(experiment="uand", config=cfg.to_json())
  return ds


@pytest.mark.parametrize("level, verdict", [(0.2, "holds"), (0.3, "partly"),
                                            (1.2, "does not hold")])
def test_random_mlp_rule_at_the_widest_width(level, verdict):
  errors = level * _jitter((3, SEEDS), 4)
  finding = claims.random_mlp(_random_mlp_results(errors))
  assert finding.verdict == verdict
  for k, count in enumerate((16, 32, 64)):
    assert f"n = {count}: {errors[k].mean():.2f} [" in finding.measured


def test_random_mlp_is_judged_below_the_number_of_inputs():
  # n = 8 has C(8, 2) = 28 inputs with two features on, n = 12 has 66: a fitted readout of
  # 32 or 64 generic neurons fits anything at n = 8, so only n = 12 is judged, at m = 64.
  errors = np.stack([0.01 * _jitter(SEEDS, 5), 0.9 * _jitter(SEEDS, 6)])
  finding = claims.random_mlp(_random_mlp_results(errors, n=(8, 12)))
  assert f"m = 64 < 66 inputs, n = 12: {errors[1].mean():.2f} [" in finding.measured
  assert "n = 8" not in finding.measured.split(";")[0]
  assert finding.verdict == "does not hold"
  assert any("n = 8 (28 inputs)" in d for d in finding.deviations)
  # Where every fitted width reaches the input count nothing is tested.
  finding = claims.random_mlp(_random_mlp_results(errors[:1], n=(8,)))
  assert finding.verdict == "not tested" and "fits anything" in finding.reason


def test_random_mlp_partly_when_only_the_largest_n_misses():
  errors = np.stack([0.1 * _jitter(SEEDS, 5), 0.15 * _jitter(SEEDS, 6), 0.4 * _jitter(SEEDS, 7)])
  assert claims.random_mlp(_random_mlp_results(errors)).verdict == "partly"


EPS = (0.15, 0.2, 0.25, 0.3, 0.4)
S = (2, 3, 4, 5)


def _exponent_results(eps_power, s_power, grid=2 ** (1 / 16)):
  """A uand_eps-like run (n = 32) whose max error at width m, s and seed k is
  eps(m) = (C_k s^s_power / m)^(1/eps_power): the width needed at eps is C s^b eps^-a,
  rounded up to a fine grid of widths."""
  m = tuple(sorted({round(grid ** k) for k in range(80, 257)}))
  c = 10.0 * _jitter(SEEDS, 8, 0.1)
  mm = np.asarray(m, float)
  errors = np.stack([[(c[k] * s ** s_power / mm) ** (1 / eps_power) for k in range(SEEDS)]
                     for s in S])  # (s, seed, m)
  cfg = UAndConfig(name="x", constructions=("uand",), inputs=("basis",), n=(32,), s=S, m=m,
                   p=(0.1,), seeds=SEEDS, trained_m=(m[0],), every_input=True, eps=EPS)
  uand = errors.transpose(0, 2, 1)[None, :, None, None]  # (inputs, s, n, p, m, seed)
  ds = xr.Dataset({"uand_max_error": (("inputs", "s", "n", "p", "m", "seed"), uand)},
                  coords={"inputs": ["basis"], "s": list(S), "n": [32], "p": [0.1],
                          "m": list(m), "seed": np.arange(SEEDS)})
  ds.attrs.update(experiment="uand", config=cfg.to_json())
  return ds, mm, errors


def _numpy_needed(mm, errors, eps):
  """(seeds,) the smallest width whose error is at most eps, per seed."""
  return np.asarray([mm[np.argmax(row <= eps)] if (row <= eps).any() else np.nan
                     for row in errors])


# A bound: an exponent at or below 2 holds; above it, our construction (not the proof's)
# grows faster than the bound, which is "not tested", never "does not hold".
@pytest.mark.parametrize("power, verdict", [(1.2, "holds"), (1.7, "holds"),
                                            (2.3, "not tested"), (2.8, "not tested")])
def test_eps_exponent_rule(power, verdict):
  ds, mm, errors = _exponent_results(power, 2.0)
  needed = np.stack([_numpy_needed(mm, errors[0], e) for e in EPS])  # (eps, seed)
  slopes = _numpy_slopes(1 / np.asarray(EPS), needed)
  finding = claims.eps_exponent(ds)
  assert f"exponent of 1/eps (s = 2): {slopes.mean():.2f} [" in finding.measured
  assert finding.verdict == verdict
  if verdict == "not tested":
    assert "our construction" in finding.reason
    assert finding.measured.endswith("the bound's rule alone would read does not hold")


@pytest.mark.parametrize("power, verdict", [(1.7, "holds"), (2.7, "not tested"),
                                            (3.5, "not tested")])
def test_s_exponent_rule(power, verdict):
  ds, mm, errors = _exponent_results(2.0, power)
  needed = np.stack([_numpy_needed(mm, errors[k], max(EPS)) for k in range(len(S))])
  slopes = _numpy_slopes(np.asarray(S, float), needed)
  finding = claims.s_exponent(ds)
  assert f"exponent of s (eps = 0.4): {slopes.mean():.2f} [" in finding.measured
  assert finding.verdict == verdict
  assert any("Theorem 8" in d for d in finding.deviations)


def test_rules_have_text_and_every_claim_a_rule_and_protocol():
  assert len({c.key for c in claims.CLAIMS}) == len(claims.CLAIMS) == 6
  for claim in claims.CLAIMS:
    assert claim.rule and claim.protocol, claim.key
  # Every rule can fail: each has a side of its band that gives "does not hold".
  for rule in (claims.SLOPE_RULE, claims.FEWER_RULE, claims.RANDOM_RULE, claims.EPS_RULE,
               claims.S_RULE):
    verdicts_seen = {rule.judge(v, v + 0.01) for v in (-5.0, 0.1, 0.2, 0.95, 1.5, 2.0, 3.0,
                                                       10.0)}
    assert verdicts.FAILS in verdicts_seen, rule.text
