"""Your own model, trained as a grid by the same engine as the built-in families.

  config.py   Model (ONE run's init/step/finish, or a loss and an optax optimizer; the
              grid's axes; the schedule; an earlier stage it builds on) and
              ModelConfig, what a run directory keeps
  run.py      one pass of the core loop per stage; results labeled by each stage's axes
  report.py, figures.py   defaults, each replaceable by the Model's own

docs/custom_models.md walks through a model file from scratch.
"""

from superjax.core.experiment import Experiment
from superjax.custom import config, figures, report, run

EXPERIMENT = Experiment(name="custom", config=config.ModelConfig, run=run.run, work=run.work,
                        report=report.render, figures=figures.draw, tiny=run.tiny,
                        # a user's model gives what it gave on the CPU unless the Model or
                        # --precision says otherwise (ModelConfig.precision)
                        precision="highest",
                        passes=run.passes)
