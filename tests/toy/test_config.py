import numpy as np
import pytest

from superjax.core.config import ConfigError
from superjax.toy.config import SweepConfig


def test_set_parses_numbers_lists_and_spaces():
  cfg = SweepConfig(name="x").with_overrides(
      ["steps=2000", "density=1,0.1", "lr=logspace(-3,-2,3)", "models=linear,relu",
       "signed=true", "weight_decay=0"])
  assert cfg.steps == 2000 and isinstance(cfg.steps, int)
  assert cfg.density == (1.0, 0.1)
  np.testing.assert_allclose(cfg.lr, [1e-3, 10 ** -2.5, 1e-2])
  assert cfg.models == ("linear", "relu")
  assert cfg.signed is True and cfg.weight_decay == 0.0
  assert cfg.run_count == 2 * 3


@pytest.mark.parametrize("override, field, words", [
    ("density=1.5", "density", "(0, 1]"),
    ("density=0", "density", "(0, 1]"),
    ("steps=0", "steps", ">= 1"),
    ("batch=-3", "batch", ">= 1"),
    ("m=0", "m", ">= 1"),
    ("models=cnn", "models", "linear, relu"),
    ("schedule=step", "schedule", "constant"),
    ("steps=many", "steps", "int"),
    ("lr=-1", "lr", "> 0"),
])
def test_bad_values_name_the_field(override, field, words):
  with pytest.raises(ConfigError) as err:
    SweepConfig(name="x").with_overrides([override])
  message = str(err.value)
  assert message.startswith(f"{field}:") and words in message and "\n" not in message


def test_unknown_key_lists_known_keys():
  with pytest.raises(ConfigError, match="unknown config key 'stepz'.*steps"):
    SweepConfig(name="x").with_overrides(["stepz=3"])


def test_json_round_trip_and_what_counts_as_computed():
  cfg = SweepConfig(name="x", density=(1.0, 0.5), figures=("intro",))
  again = SweepConfig.from_dict(cfg.to_dict())
  assert again == cfg
  other = cfg.replace(steps=5, description="changed", figures=())
  mine, theirs = cfg.computed_part(), other.computed_part()
  assert [k for k in mine if mine[k] != theirs[k]] == ["steps"]


@pytest.mark.parametrize("changes, field", [
    ({"density": (0.6,), "relative_density": (2.0,)}, "relative_density"),
    ({"correlation": ("correlated",)}, "set_size"),
    ({"set_size": 4, "correlation": ("correlated",)}, "set_size"),
    ({"set_size": 5, "correlation": ("anticorrelated",), "density": (0.5,)}, "density"),
    ({"correlation": ("sideways",)}, "correlation"),
    ({"models": ("relu", "mlp")}, "models"),
])
def test_data_options_are_validated(changes, field):
  with pytest.raises(ConfigError, match=f"^{field}: "):
    SweepConfig(name="x", n=5, **changes)


def test_figure_and_report_names_are_those_the_family_draws():
  from superjax.toy import config, figures, report
  assert set(config.FIGURES) == set(figures.FIGURES)
  assert set(config.REPORTS) == set(report.REPORTS)
  with pytest.raises(ConfigError, match="figures: 'bogus' is not one of"):
    SweepConfig(name="x", figures=("intro", "bogus"))
