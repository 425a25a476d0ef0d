"""Toy models of superposition (Elhage et al. 2022; Gorton & Lewis 2025), whole grids at a time.

  config.py      SweepConfig: shapes, settings and the grid axes (SweepConfig.axes)
  data.py        sparse (and correlated) synthetic features
  models.py      linear, ReLU-output, privileged-basis and abs models for ONE input
  train.py       ONE run's hyperparameters, loss, optimiser, step and evaluation
  fast.py        the same step for a whole chunk of runs, gradients derived by hand
  program.py     the core loop's Program: train.py's run, fast.py's chunk step where allowed
  attacks.py     L2 attacks on one model and input (analytic, gradient, PGD, random)
  metrics.py     feature geometry of W; motifs of computation in superposition
  theory.py      closed forms and candidate solutions (phase diagrams, baselines)
  robustness.py  vulnerability statistics and re-attacks of saved weights
  run.py         a sweep through the core loop -> results.py, the labeled dataset
  report.py, figures.py   the numbers and the papers' figures, from saved results
  claims.py      the papers' claims these sweeps test, for `superjax scorecard`
  bench.py       throughput of whole runs
"""

from superjax.core.experiment import Experiment
from superjax.toy import claims, config, figures, report, run

EXPERIMENT = Experiment(name="toy", config=config.SweepConfig, run=run.run,
                        work=run.total_steps, report=report.render, figures=figures.draw,
                        tiny=config.tiny, claims=claims.CLAIMS,
                        # phase cells and sticky D_i (0.01) sit near boundaries: as on the CPU
                        precision="highest",
                        passes=lambda cfg, run_dir: list(run.passes(cfg, run_dir).values()))
