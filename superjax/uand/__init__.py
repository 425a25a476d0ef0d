"""Computation in superposition (Hänni et al. 2024): how wide one ReLU layer must be to
compute every pairwise AND of n sparse boolean features.

  config.py         UAndConfig: n features, m hidden widths, s active, constructions
  inputs.py         boolean inputs, basis or superposed in d0 < n dimensions
  constructions.py  naive, U-AND and random-MLP layers for ONE seed
  readout.py        epsilon-linear readouts: least squares, matched; their errors
  circuit.py        ONE trained circuit's step: the Program the core loop vmaps over seeds
  measure.py        every construction's errors at every width, for one seed
  run.py            the study: cells, trained passes, pieces; report.py, figures.py
  claims.py         the paper's claims these sweeps test, for `superjax scorecard`
"""

from superjax.core.experiment import Experiment
from superjax.uand import claims, config, figures, report, run

EXPERIMENT = Experiment(name="uand", config=config.UAndConfig, run=run.run, work=run.work,
                        report=report.render, figures=figures.draw, tiny=config.tiny,
                        unit="cells", claims=claims.CLAIMS, passes=run.passes,
                        # readouts sum over up to 65,536 neurons and are judged against eps
                        precision="highest")
