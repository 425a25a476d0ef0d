"""The matmul precision a run trains and measures at: each experiment states its own, the
engine applies it, the user may override it.

On a CPU every float32 product is computed in float32 whatever is asked. On NVIDIA GPUs a
float32 matmul, einsum or convolution at JAX's "default" precision runs in TF32 (about
1e-3 relative), on TPU in one bfloat16 pass; "high" is TF32 on GPUs and three bfloat16
passes on TPU; "highest" is float32 everywhere. `applied` sets JAX's
`default_matmul_precision` for a block: everything traced inside it (every pass's
segment, finish and measurement) is compiled at that precision, and the precision is part
of JAX's compilation keys, so a program compiled at another one is never reused.

Names are JAX's (`jax.default_matmul_precision`): "highest" (alias "float32"), "high"
("tensorfloat32"), "default" ("bfloat16").
"""

from __future__ import annotations

import os

import jax

from superjax.core.errors import SuperjaxError

# $SUPERJAX_MATMUL_PRECISION overrides every experiment's own choice (`--precision` on
# `superjax run` overrides both).
VARIABLE = "SUPERJAX_MATMUL_PRECISION"
PRECISIONS = ("highest", "high", "default", "float32", "tensorfloat32", "bfloat16")


def check(value: str, source: str) -> str:
  """`value` if it is one of PRECISIONS, else a SuperjaxError naming `source`."""
  if value not in PRECISIONS:
    raise SuperjaxError(f"{source}: {value!r} is not a matmul precision; use one of "
                        f"{', '.join(PRECISIONS)}")
  return value


def resolve(own: str, override: str | None = None) -> str:
  """The precision a run uses: `override` (a command-line flag), else
  $SUPERJAX_MATMUL_PRECISION, else the experiment's `own`."""
  if override:
    return check(override, "--precision")
  if os.environ.get(VARIABLE):
    return check(os.environ[VARIABLE], f"${VARIABLE}")
  return check(own, "the experiment's precision")


def applied(value: str):
  """A context in which everything JAX traces computes its float32 products at `value`."""
  return jax.default_matmul_precision(check(value, "precision"))
