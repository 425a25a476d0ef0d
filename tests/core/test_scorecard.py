"""The scorecard: claims measured on saved results equal numpy recomputations, the command
column rebuilds the run's config, and missing or bad run directories are reported as the
CLI promises."""

import re
import shlex

import numpy as np
import pytest
import scipy.stats
import xarray as xr

from superjax import cli
from superjax.core import config, rundir, scorecard, sweeps
from superjax.core.scorecard import Claim, Finding
from superjax.toy import claims as toy_claims
from superjax.toy.config import SweepConfig


def _toy_dataset(cfg: SweepConfig, data_vars: dict, coords: dict) -> xr.Dataset:
  """A hand-made toy results dataset carrying `cfg` as a finished run would."""
  ds = xr.Dataset(data_vars, coords=coords)
  ds.attrs.update(model=",".join(cfg.models), experiment="toy", sweep=cfg.name,
                  config=cfg.to_json())
  return ds


def _number(text: str, before: str) -> float:
  """The number right after `before` in `text`."""
  return float(re.search(re.escape(before) + r"\s*([-+0-9.]+)", text).group(1))


def test_interference_claim_equals_numpy():
  rng = np.random.default_rng(0)
  density = np.geomspace(1.0, 0.1, 6)
  alpha = np.array([1.0, 0.5])
  W = rng.normal(size=(6, 2, 1, 3, 8))  # density, alpha, seed, hidden, feature
  cfg = SweepConfig(name="gorton_adversarial_training", n=8, m=3, density=tuple(density),
                    alpha=tuple(alpha), train_attack="gorton")
  dims = ("density", "alpha", "seed")
  ds = _toy_dataset(cfg, {"W": (dims + ("hidden", "feature"), W),
                          "loss": (dims, rng.uniform(size=(6, 2, 1))),
                          "diverged": (dims, np.zeros((6, 2, 1), bool))},
                    {"density": density, "alpha": alpha, "seed": [0]})
  finding = toy_claims.gorton_interference(ds)
  # Reference: mean over i != j of (W_i . W_j)^2, clean over robust, sparsest third.
  gram = np.einsum("dahi,dahj->daij", W[:, :, 0], W[:, :, 0]) ** 2
  off = (gram.sum((-2, -1)) - np.trace(gram, axis1=-2, axis2=-1)) / (8 * 7)
  ratio = off[:, 0] / off[:, 1]
  expected = ratio[np.argsort(density)[:2]].mean()
  assert _number(finding.measured, "1 / 0.5:") == pytest.approx(expected, abs=0.006)
  low, high = toy_claims.INTERFERENCE_BAND
  want = ("holds" if low <= expected <= high else
          "partly" if expected > toy_claims.LESS_INTERFERENCE else "does not hold")
  assert finding.verdict == want


def test_phase_n2m1_claim_equals_numpy():
  density = np.geomspace(0.01, 1.0, 5)
  ratio = np.geomspace(0.1, 10.0, 4)
  rng = np.random.default_rng(1)
  norms = rng.uniform(0.0, 1.2, size=(5, 4, 3, 2))  # density, r, seed, feature
  loss = rng.uniform(size=(5, 4, 3))
  cfg = SweepConfig(name="elhage_phase_n2m1", n=2, m=1, density=tuple(density),
                    relative_importance=tuple(ratio), seeds=3)
  dims = ("density", "relative_importance", "seed")
  ds = _toy_dataset(cfg, {"feature_norm": (dims + ("feature",), norms), "loss": (dims, loss),
                          "diverged": (dims, np.zeros(loss.shape, bool))},
                    {"density": density, "relative_importance": ratio, "seed": [0, 1, 2]})
  finding = toy_claims.phase_n2m1(ds)
  # Reference: the best seed's represented features against the cheapest candidate,
  # written out from the closed forms.
  best = norms[np.arange(5)[:, None], np.arange(4)[None, :], loss.argmin(-1)] > 0.5
  p, r = np.meshgrid(density, ratio, indexing="ij")
  dense = p / 3 - p ** 2 / 4
  theory = np.argmin(np.stack([r * dense, dense, (1 + r) * p ** 2 / 6]), axis=0)
  label = np.where(best[..., 0] & best[..., 1], 2, np.where(best[..., 0], 0,
                                                             np.where(best[..., 1], 1, 3)))
  on = label != 3
  agree = np.mean(label[on] == theory[on])
  assert _number(finding.measured, "") == pytest.approx(100 * agree, abs=0.06)
  assert f"of {on.sum()} represented cells" in finding.measured


def test_abs_claim_equals_numpy():
  rng = np.random.default_rng(2)
  n, m = 6, 4
  density = np.array([1.0, 0.01, 0.003])
  W = rng.normal(size=(3, 1, m, n))
  W_out = rng.normal(size=(3, 1, n, m))
  b = rng.normal(scale=0.1, size=(3, 1, n))
  loss = np.array([[0.9], [0.3], [0.45]])
  base = np.ones((3, 1))
  cfg = SweepConfig(name="elhage_abs", models=("abs",), n=n, m=m, signed=True,
                    density=tuple(density))
  dims = ("density", "seed")
  ds = _toy_dataset(cfg, {"W": (dims + ("hidden", "feature"), W),
                          "W_out": (dims + ("feature", "hidden"), W_out),
                          "b": (dims + ("feature",), b), "loss": (dims, loss),
                          "baseline_loss": (dims, base),
                          "diverged": (dims, np.zeros((3, 1), bool))},
                    {"density": density, "seed": [0]})
  finding = toy_claims.abs_superposition(ds)

  def relu(v):
    return np.maximum(v, 0)

  for i in (1, 2):  # the densities <= 0.01
    rises = [np.diag(relu(W_out[i, 0] @ relu(sign * W[i, 0]) + b[i, 0][:, None]))
             - relu(b[i, 0]) >= 0.5 for sign in (1, -1)]
    both = int(np.sum(rises[0] & rises[1]))
    assert f"loss/baseline {loss[i, 0]:.2f} (1 seed), {both} two-sided" in finding.measured
  assert "1-S = 1:" not in finding.measured  # the dense model is no evidence here


def test_vulnerability_claim_equals_scipy_spearman():
  rng = np.random.default_rng(3)
  density = np.geomspace(1.0, 0.01, 7)
  fpd = rng.uniform(1, 5, size=(7, 2))
  vuln = rng.uniform(0.5, 6, size=(7, 2, 1))
  loss = rng.uniform(size=(7, 2))
  cfg = SweepConfig(name="elhage_adversarial", n=20, m=5, density=tuple(density), seeds=2,
                    eval_attacks=("analytic",))
  dims = ("density", "seed")
  ds = _toy_dataset(cfg, {"features_per_dim": (dims, fpd), "loss": (dims, loss),
                          "vulnerability": (dims + ("attack",), vuln),
                          "diverged": (dims, np.zeros((7, 2), bool))},
                    {"density": density, "seed": [0, 1], "attack": ["analytic"]})
  finding = toy_claims.elhage_vulnerability(ds)
  pick = loss.argmin(-1)
  best_fpd, best_v = fpd[np.arange(7), pick], vuln[np.arange(7), pick, 0]
  rel = best_v / best_v[0]  # the densest model is the first
  assert _number(finding.measured, "up to") == pytest.approx(rel.max(), abs=0.006)
  rho = scipy.stats.spearmanr(best_fpd, rel).statistic
  assert _number(finding.measured, "vulnerability)") == pytest.approx(rho, abs=0.006)


def test_command_rebuilds_the_config_of_a_run(tmp_path):
  shipped = sweeps.load("elhage_adversarial")
  cfg = shipped.replace(steps=2000, density=tuple(np.geomspace(1, 0.1, 4).tolist()),
                        eval_attacks=("gorton",), per_sample_eps=False, lr=(0.0123456789,),
                        description="changed text is no override")
  text = scorecard.command("elhage_adversarial", cfg, tmp_path / "run")
  assert text == ("superjax run elhage_adversarial --set steps=2000 "
                  "--set 'density=geomspace(1,0.1,4)' --set lr=0.0123456789 "
                  "--set per_sample_eps=false --set eval_attacks=gorton "
                  f"--out {tmp_path / 'run'}")
  # The command's --set assignments rebuild exactly the computed part of the config.
  words = shlex.split(text)
  assignments = [words[i + 1] for i, w in enumerate(words) if w == "--set"]
  rebuilt = config.apply_overrides(shipped, assignments)
  assert rebuilt.computed_part() == cfg.computed_part()
  assert scorecard.command("elhage_adversarial", shipped) == "superjax run elhage_adversarial"


def test_missing_runs_name_their_command_and_exit_0(capsys, tmp_path, monkeypatch):
  monkeypatch.chdir(tmp_path)
  code = cli.main(["scorecard", "--root", str(tmp_path / "runs")])
  out = capsys.readouterr().out
  assert code == 0
  assert f"superjax run elhage_intro --out {tmp_path / 'runs' / 'elhage_intro'}" in out
  assert "[not run] elhage.intro" in out
  assert not (tmp_path / "docs").exists()  # Markdown only when asked


def test_not_a_run_directory_is_one_line_and_exit_2(capsys, tmp_path):
  code = cli.main(["scorecard", str(tmp_path / "nothing")])
  err = capsys.readouterr().err.strip()
  assert code == 2 and len(err.splitlines()) == 1
  assert err.startswith("superjax: error:") and "not a superjax run directory" in err


def test_a_failing_measure_is_an_error_row_not_a_crash(tmp_path):
  def broken(dataset):
    raise KeyError("vulnerability")

  claim = Claim("test.broken", "Elhage et al. 2022", "nowhere", "nothing", "elhage_intro",
                broken)
  fine = Claim("test.fine", "Elhage et al. 2022", "nowhere", "nothing", "elhage_intro",
               lambda ds: Finding("3.00", "holds", "because"))
  rows = [scorecard.measure(c, xr.Dataset(), tmp_path, "superjax run elhage_intro")
          for c in (claim, fine)]
  assert [r.status for r in rows] == [scorecard.ERROR, "holds"]
  assert "KeyError: 'vulnerability'" in rows[0].problem
  text = scorecard.render_text(rows)
  assert "[error] test.broken" in text and "[holds] test.fine" in text
  markdown = scorecard.render_markdown(rows)
  assert markdown.count("\n| Elhage") == 2


def test_saved_run_is_scored_with_its_overrides(capsys, tmp_path):
  """A run directory on disk, read by the CLI: the intro claim's numbers equal numpy's and
  its command rebuilds the stored config."""
  rng = np.random.default_rng(4)
  density = np.array([1.0, 0.3, 0.05])
  W = rng.normal(scale=0.7, size=(2, 3, 2, 2, 5))  # model, density, seed, hidden, feature
  loss = rng.uniform(size=(2, 3, 2))
  cfg = sweeps.load("elhage_intro").replace(density=tuple(density), seeds=2, steps=300)
  dims = ("model", "density", "seed")
  ds = _toy_dataset(cfg, {"W": (dims + ("hidden", "feature"), W), "loss": (dims, loss),
                          "features_per_dim": (dims, (W ** 2).sum((-2, -1)) / 2),
                          "diverged": (dims, np.zeros(loss.shape, bool))},
                    {"model": ["linear", "relu"], "density": density, "seed": [0, 1]})
  (tmp_path / "elhage_intro").mkdir()
  rundir.save(ds, tmp_path / "elhage_intro", {})
  markdown = tmp_path / "card.md"
  code = cli.main(["scorecard", "--root", str(tmp_path), "--markdown", str(markdown)])
  out = capsys.readouterr().out
  assert code == 0
  block = out[out.index("elhage.intro"):].split("\n  [")[0]
  # Reference: best seed by loss; linear's largest ||W||_F^2 / m, ReLU's represented
  # features (||W_i|| > 0.5) at the sparsest density.
  best = loss.argmin(-1)
  linear_max = max((W[0, d, best[0, d]] ** 2).sum() / 2 for d in range(3))
  represented = int(np.sum(np.linalg.norm(W[1, 2, best[1, 2]], axis=0) > 0.5))
  measured = " ".join(block.split())
  assert f"linear: at most {linear_max:.2f} features/dim" in measured
  assert f"1-S = 0.05: {represented} of 5 features represented" in measured
  words = shlex.split(re.search(r"command:\s+(.*)", block).group(1))
  assert words[:3] == ["superjax", "run", "elhage_intro"] and "--out" in words
  assignments = [words[i + 1] for i, w in enumerate(words) if w == "--set"]
  assert assignments == ["steps=300", "density=1,0.3,0.05", "seeds=2"]
  rebuilt = config.apply_overrides(sweeps.load("elhage_intro"), assignments)
  assert rebuilt.computed_part() == cfg.computed_part()
  table = markdown.read_text()
  assert "| Elhage et al. 2022 | Fig. 2 (demonstrating superposition) |" in table
  assert "`superjax run elhage_intro --set steps=300" in table


def test_every_claim_names_a_shipped_sweep_and_explicit_thresholds():
  found = scorecard.all_claims()
  assert len({c.key for c in found}) == len(found)
  shipped = sweeps.available()
  for claim in found:
    assert claim.sweep in shipped, claim.key
    assert claim.paper and claim.where and claim.states, claim.key


@pytest.mark.parametrize("argv, words", [
    (["scorecard", "x", "--root", "y"], "give run directories or --root, not both"),
    (["scorecard", "--markdown", "/"], "is a directory"),
])
def test_bad_scorecard_options_are_one_line(capsys, argv, words):
  code = cli.main(argv)
  err = capsys.readouterr().err.strip()
  assert code == 2 and words in err and len(err.splitlines()) == 1
