"""What the SAELens benchmarks share: data with known features, drawn as SAELens's
synthetic generator draws them; a grid of superjax SAEs trained as one program; SAELens
SAEs of the same settings trained one after another on the same arrays.

sae-lens and torch are optional: without them only the superjax side runs.
"""

from __future__ import annotations

import dataclasses
import tempfile
import time
from pathlib import Path

import numpy as np

from superjax.core import host
from superjax.sae import train as sae_train
from superjax.sae.model import SAEHParams, Settings


@dataclasses.dataclass(frozen=True)
class Data:
  """Activations x = f @ features (+ bias) with known feature directions."""

  train: np.ndarray  # (tokens, d) float32
  test: np.ndarray  # (tokens, d) float32
  test_firing: np.ndarray  # (tokens, F) bool: which features fire in each test input
  features: np.ndarray  # (F, d) unit feature directions
  true_l0: float


def zipf_data(features: int = 256, d: int = 64, tokens: int = 65536, test: int = 8192,
              exponent: float = 1.0, p_max: float = 0.1, p_min: float = 0.01,
              magnitude_std: float = 0.0, seed: int = 0, saelens: bool = False,
              hierarchy: bool = False, correlation_rank: int = 0) -> Data:
  """Zipf firing probabilities between p_max and p_min (as SAELens's
  zipfian_firing_probabilities), magnitudes |N(1, magnitude_std)| when firing, random
  unit directions. With `saelens`, SAELens's own SyntheticModel draws them (with an
  optional hierarchy and low-rank correlation), so both tools see its exact generator."""
  if saelens:
    return _saelens_data(features, d, tokens, test, exponent, p_max, p_min, magnitude_std,
                         seed, hierarchy, correlation_rank)
  rng = np.random.default_rng(seed)
  ranks = np.arange(1, features + 1, dtype=np.float64)
  raw = ranks ** -exponent
  p = p_min + (raw - raw.min()) / (raw.max() - raw.min()) * (p_max - p_min)
  directions = rng.normal(size=(features, d))
  directions /= np.linalg.norm(directions, axis=1, keepdims=True)

  def draw(count):
    on = rng.random((count, features)) < p
    size = np.abs(1.0 + magnitude_std * rng.normal(size=(count, features)))
    return (on * size) @ directions, on

  train, _ = draw(tokens)
  held, firing = draw(test)
  return Data(train.astype(np.float32), held.astype(np.float32), firing,
              directions.astype(np.float32), float(p.sum()))


def _saelens_data(features, d, tokens, test, exponent, p_max, p_min, magnitude_std, seed,
                  hierarchy, correlation_rank) -> Data:
  import torch
  from sae_lens.synthetic import (
      HierarchyConfig,
      LowRankCorrelationConfig,
      SyntheticModel,
      SyntheticModelConfig,
      ZipfianFiringProbabilityConfig,
  )
  torch.manual_seed(seed)
  model = SyntheticModel(SyntheticModelConfig(
      num_features=features, hidden_dim=d,
      firing_probability=ZipfianFiringProbabilityConfig(exponent=exponent, max_prob=p_max,
                                                        min_prob=p_min),
      hierarchy=HierarchyConfig() if hierarchy else None,
      correlation=LowRankCorrelationConfig(rank=correlation_rank) if correlation_rank else None,
      std_firing_magnitudes=magnitude_std, bias=False, seed=seed))
  with torch.no_grad():
    train = model.sample(tokens).numpy()
    held, feature_acts = model.sample_with_features(test)
  firing = feature_acts.numpy() > 0
  true_l0 = float(firing.sum(axis=1).mean())
  return Data(train.astype(np.float32), held.numpy().astype(np.float32),
              firing, model.feature_dict.feature_vectors.detach().numpy().astype(np.float32), true_l0)


def superjax_grid(kind: str, data: Data, ks=(4,), penalties=(0.0,), lrs=(3e-3,), seeds=1,
                  steps: int = 1000, batch: int = 1024, expansion: int = 1,
                  run_dir: Path | None = None):
  """Every (k or penalty) x lr x seed SAE of `kind` on data.train as one program through
  the core loop. Returns (hp, trained SAEs stacked, seconds training, seconds compiling).

  AuxK uses every dead latent (k_aux = latents), as the toy-SAE study does: selecting
  SAELens's top d_in / 2 of them costs a second selection per step (32 counting passes)
  for a loss that is zero while no latent is dead."""
  host.setup()
  d = data.train.shape[1]
  settings = Settings(kind=kind, d_in=d, expansion=expansion, k_max=max(ks),
                      k_aux=d * expansion,
                      batch=batch, steps=steps, lr_decay=0.0, penalty_warmup=0.05,
                      dead_tokens=batch * 1000, per_dimension=False)
  rows = [(k, pen, lr, s) for k in ks for pen in penalties for lr in lrs for s in range(seeds)]
  column = lambda i, dtype: np.asarray([r[i] for r in rows], dtype)
  hp = SAEHParams(k=column(0, np.int32), penalty=column(1, np.float32),
                  lr=column(2, np.float32), source=np.zeros(len(rows), np.int32),
                  seed=column(3, np.int32))
  with tempfile.TemporaryDirectory() as tmp:
    sae_pass = sae_train.sae_pass(settings, hp, data.train[None], Path(run_dir or tmp),
                                  log_every=steps, checkpoint_every=steps, name=kind)
    done = sae_pass.train()
    saes = sae_pass.final_states().sae
  return hp, saes, done.seconds - done.compile_seconds, done.compile_seconds


SAELENS_ARCHITECTURE = {"batchtopk": "BatchTopK", "topk": "TopK", "jumprelu": "JumpReLU",
                        "relu": "Standard", "matryoshka": "MatryoshkaBatchTopK"}


def saelens_sae(kind: str, data: Data, k: int = 4, penalty: float = 0.0, lr: float = 3e-3,
                steps: int = 1000, batch: int = 1024, expansion: int = 1, seed: int = 0):
  """One SAELens training SAE of the same settings trained on the same array with its
  SAETrainer (batches drawn by index, as superjax draws them); returns (sae, seconds)."""
  import sae_lens
  import torch
  from sae_lens.config import LoggingConfig, SAETrainerConfig
  torch.manual_seed(seed)
  d = data.train.shape[1]
  name = SAELENS_ARCHITECTURE[kind]
  extra = {"k": k} if kind in ("batchtopk", "topk", "matryoshka") else {}
  if kind == "matryoshka":
    from superjax.sae.kinds.matryoshka import widths
    extra["matryoshka_widths"] = list(widths(d * expansion))
  if kind == "relu":
    extra["l1_coefficient"] = penalty
  if kind == "jumprelu":
    extra["l0_coefficient"] = penalty
  cfg = getattr(sae_lens, f"{name}TrainingSAEConfig")(d_in=d, d_sae=d * expansion, **extra)
  sae = getattr(sae_lens, f"{name}TrainingSAE")(cfg)
  tokens = torch.tensor(data.train)
  generator = torch.Generator().manual_seed(seed)

  def batches():
    while True:
      yield tokens[torch.randint(0, len(tokens), (batch,), generator=generator)]

  trainer_cfg = SAETrainerConfig(
      total_training_samples=steps * batch, train_batch_size_samples=batch, lr=lr, lr_end=lr,
      device="cpu", n_checkpoints=0, save_final_checkpoint=False,
      logger=LoggingConfig(log_to_wandb=False, eval_every_n_wandb_logs=2 ** 31 - 1))
  t0 = time.perf_counter()
  import contextlib
  import io
  with contextlib.redirect_stderr(io.StringIO()):  # its progress bar
    sae_lens.SAETrainer(cfg=trainer_cfg, sae=sae, data_provider=batches()).fit()
  return sae, time.perf_counter() - t0
