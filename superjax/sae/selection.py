"""Finding the k largest activations when k is traced or large.

`lax.top_k` needs k as a static size and, on CPU, costs about a sort of the whole row
once k is more than a few: 1.06 s per step for 360 TopK SAEs of 100 latents at k = 100
against 0.18 s at k = 4 (2-core CPU). Counting is cheap instead: the k-th largest of
non-negative float32 numbers is found exactly by bisecting their bit patterns, which
order like the numbers, in 32 counting passes, for any traced k.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

_BISECTIONS = 32
_ABOVE_INF = 0x7F800001  # one past the bit pattern of +inf


def kth_largest(values: jax.Array, count: jax.Array) -> jax.Array:
  """The count-th largest entry of non-negative `values` (any shape; all entries count),
  exactly; 0 when count exceeds the entries. `count` may be traced."""
  bits = jax.lax.bitcast_convert_type(values.astype(jnp.float32), jnp.int32)

  def body(_, bounds):
    # Invariant: at least `count` entries are >= lo, fewer than `count` are >= hi.
    lo, hi = bounds
    mid = lo + (hi - lo) // 2
    # Counting in float32 vectorises better on CPU than summing booleans as integers.
    enough = jnp.sum(jnp.where(bits >= mid, 1.0, 0.0)) >= count
    return jnp.where(enough, mid, lo), jnp.where(enough, hi, mid)

  lo, _ = jax.lax.fori_loop(0, _BISECTIONS, body, (jnp.int32(0), jnp.int32(_ABOVE_INF)))
  return jax.lax.bitcast_convert_type(lo, jnp.float32)


def keep_at_least(z: jax.Array, threshold: jax.Array) -> jax.Array:
  """Non-negative z with entries below `threshold` (broadcast) or at 0 zeroed."""
  return jnp.where((z >= threshold) & (z > 0), z, 0.0)


def top_k_rows(z: jax.Array, k: jax.Array) -> jax.Array:
  """(..., L) non-negative activations with only each row's k largest kept (ties at the
  k-th are all kept); `k` may be traced."""
  flat = z.reshape(-1, z.shape[-1])
  threshold = jax.vmap(kth_largest, in_axes=(0, None))(flat, k)
  return keep_at_least(flat, threshold[:, None]).reshape(z.shape)
