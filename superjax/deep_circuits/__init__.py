"""Depth and error correction in superposition (Hänni et al. 2024, the error correction of
Theorem 8; Theorem 6's single layer computing a whole circuit is not built): the error of
stacked U-AND layers computing a sparse boolean circuit, layer by layer, with and without
error-correction layers between them.

  config.py   DeepCircuitsConfig: n features per layer, s active, depth, widths m, p, seeds
  circuit.py  the sparse boolean circuit (random comparator layers) and its exact values
  layers.py   U-AND layers with linear readouts, the error-correction layer, the naive layer
  network.py  ONE run's forward pass, layer by layer: the Program the core loop vmaps
  run.py      one pass per width, pieces per finished width; report.py, figures.py
  claims.py   the paper's claims the hanni_depth sweep tests, for `superjax scorecard`
"""

from superjax.core.experiment import Experiment
from superjax.deep_circuits import claims, config, figures, report, run

EXPERIMENT = Experiment(name="deep_circuits", config=config.DeepCircuitsConfig, run=run.run,
                        work=run.work, report=report.render, figures=figures.draw,
                        tiny=config.tiny, unit="layers",
                        claims=claims.CLAIMS,
                        # readout errors compound over layers and are compared with eps
                        precision="highest",
                        passes=lambda cfg, run_dir: [run.width_pass(cfg, m, run_dir)
                                                     for m in cfg.m])
