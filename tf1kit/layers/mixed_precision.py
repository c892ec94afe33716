"""Keras 3's global mixed-precision policy, as seen by the TF1 layers.

Under `keras.mixed_precision.set_global_policy("mixed_float16")` (or
`"mixed_bfloat16"`), a TF1 layer whose dtype was not given keeps float32
variables and computes in the policy's compute dtype: floating inputs are cast
and, during its call, its float variables read as that dtype (Keras 3's
autocast). In a TF1 graph (Graph + Session) the policy does not apply: TF1
had none.
"""

from __future__ import annotations

import contextlib

from keras.src import backend
from keras.src.backend.common import global_state


def global_mixed_dtypes():
    """(variable dtype, compute dtype) of a global mixed policy, else None."""
    policy = global_state.get_global_attribute("dtype_policy")
    if policy is None or not policy.name.startswith("mixed_"):
        return None
    return policy.variable_dtype, policy.compute_dtype


def autocast(dtype):
    """Float variables read as `dtype` (None: as stored) inside this scope."""
    current = backend.get_autocast_scope()
    if (current.dtype if current is not None else None) == dtype:
        return contextlib.nullcontext()
    return backend.AutocastScope(dtype)
