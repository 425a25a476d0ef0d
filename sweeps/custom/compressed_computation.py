"""Compressed computation: a residual MLP computing more ReLUs than it has neurons.

A toy model a researcher writes in one file (docs/custom_models.md walks through it): n
sparse features x_i in [-1, 1], each active with probability p, pass through a residual
MLP y = x + W_out ReLU(W_in x) with m = n/2 neurons, trained to output x_i + ReLU(x_i):
every feature's ReLU, with half as many neurons as features (Braun et al. 2025's
"compressed computation" toy, without its fixed residual embedding). The naive solution
gives m features a neuron each and leaves the others' ReLU out: loss_ratio < 1 means the
model beats it by computing in superposition.

  superjax run compressed_computation     1,000 runs (10 p x 4 lr x 25 seeds), 2,000 steps
"""

import jax
import jax.numpy as jnp
import optax

import superjax

N, M, BATCH, EVAL = 40, 20, 128, 2048


def sample(key, p, count):
  u = jax.random.uniform(key, (count, N))
  return jnp.where(u < p, 2 * u / p - 1, 0.0)  # given u < p, u / p is uniform on [0, 1)


def init_params(key, hp, data):
  k_in, k_out = jax.random.split(key)
  return {"W_in": jax.random.normal(k_in, (M, N)) / jnp.sqrt(N),
          "W_out": jax.random.normal(k_out, (N, M)) / jnp.sqrt(M)}


def error(params, x):  # (count, N) squared error of every feature's x + ReLU(x)
  y = x + jax.nn.relu(x @ params["W_in"].T) @ params["W_out"].T
  return (y - x - jax.nn.relu(x)) ** 2


def loss(params, hp, key, data):
  return jnp.mean(jnp.sum(error(params, sample(key, hp["p"], BATCH)), axis=1))


def finish(state, hp, key, data):
  x = sample(superjax.keys.named(key, "eval"), hp["p"], EVAL)
  per_feature = jnp.mean(error(state["params"], x), axis=0)
  # The naive solution computes M features exactly and leaves out the others' ReLU.
  naive = (N - M) * jnp.mean(jax.nn.relu(x) ** 2)
  return {"eval_loss": jnp.sum(per_feature), "loss_ratio": jnp.sum(per_feature) / naive,
          "feature_error": per_feature}


MODEL = superjax.Model.from_loss(
    name="compressed_computation", init_params=init_params, loss=loss,
    optimizer=lambda hp: optax.adam(hp["lr"]), finish=finish, steps=2000, log_every=100,
    checkpoint_every=500,
    axes=superjax.product(p=[0.01, 0.0167, 0.0278, 0.0464, 0.0774, 0.129, 0.215, 0.359, 0.599, 1.0],
                          lr=[3e-4, 1e-3, 3e-3, 1e-2], seed=range(25)),
    description="residual MLP, n=40 features, m=20 neurons, target x + ReLU(x)")
