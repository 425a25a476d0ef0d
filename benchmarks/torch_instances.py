"""The common PyTorch way to train many toy models: one parameter tensor with an
instances axis, einsum over it, torch.optim.Adam, a fresh sparse batch every step.
Written the way the public notebooks write it; used only as a benchmark reference."""

from __future__ import annotations

import time

import numpy as np
import torch


class InstancedToyModel(torch.nn.Module):
  def __init__(self, instances: int, n: int, m: int):
    super().__init__()
    self.W = torch.nn.Parameter(torch.empty(instances, m, n))
    for i in range(instances):  # 2-D xavier per instance, as the careful notebooks do
      torch.nn.init.xavier_normal_(self.W.data[i])
    self.b = torch.nn.Parameter(torch.zeros(instances, n))

  def forward(self, x):  # x: (instances, batch, n)
    h = torch.einsum("ibn,imn->ibm", x, self.W)
    return torch.relu(torch.einsum("ibm,imn->ibn", h, self.W) + self.b[:, None, :])


def model_steps_per_second(n: int, m: int, density: np.ndarray, steps: int,
                           batch: int = 1024, threads: int | None = None) -> float:
  """Trains len(density) instances for `steps` steps; returns instances x steps / s.
  Runs on the GPU when PyTorch sees one, so a GPU benchmark compares like with like."""
  if threads:
    torch.set_num_threads(threads)
  device = "cuda" if torch.cuda.is_available() else "cpu"
  torch.manual_seed(0)
  instances = len(density)
  model = InstancedToyModel(instances, n, m).to(device)
  optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
  p = torch.tensor(density, dtype=torch.float32, device=device)[:, None, None]
  importance = torch.ones(n, device=device)

  def step():
    values = torch.rand(instances, batch, n, device=device)
    x = values * (torch.rand(instances, batch, n, device=device) < p)
    loss = (importance * (x - model(x)) ** 2).sum(-1).mean(-1).sum()
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()

  def wait():
    if device == "cuda":
      torch.cuda.synchronize()

  for _ in range(5):
    step()
  wait()
  t0 = time.perf_counter()
  for _ in range(steps):
    step()
  wait()
  return instances * steps / (time.perf_counter() - t0)
