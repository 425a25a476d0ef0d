"""Test sweep: long enough in steps that a kill lands mid-run, tiny in compute."""

from superjax import SweepConfig

CONFIG = SweepConfig(name="resume_test", models=("relu",), n=5, m=2, density=(1.0, 0.3, 0.05),
                     seeds=2, importance=(0.9,), steps=6000, batch=64, log_every=50,
                     checkpoint_every=100, eval_batch=256)
