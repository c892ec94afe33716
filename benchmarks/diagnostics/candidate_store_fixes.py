"""Proposed fixes to tf1kit's VariableStore, applied in this process only.

These do not change tf1kit: they let `lookup_cost` measure what a fix would
buy before the lead applies it to the core. Each fix is a function that
patches one thing, named after what it removes.

- `plain_call_lists`: `VariableStore` is a `tf.Module`, so `created_in_call`
  and `used_in_call` become trackable `ListWrapper`s, whose `append` copies
  and compares the whole list (O(len) per append, O(N^2) per call).
- `cached_shape_and_dtype`: every reuse rebuilds a `TensorShape` from the
  Keras shape and converts Keras' string dtype with `tf.as_dtype`; caching
  both on the variable makes the reuse check a few attribute reads.
"""

import tensorflow as tf

from tf1kit.store.variable import TF1Variable
from tf1kit.store.variable_store import VariableStore


def plain_call_lists():
    def begin_call(self):
        # object.__setattr__ bypasses AutoTrackable's list wrapping.
        object.__setattr__(self, "created_in_call", [])
        object.__setattr__(self, "used_in_call", [])

    VariableStore.begin_call = begin_call


def cached_shape_and_dtype():
    def get_shape(self):
        shape = self.__dict__.get("_tf1kit_tensor_shape")
        if shape is None:
            shape = self.__dict__["_tf1kit_tensor_shape"] = tf.TensorShape(self.shape)
        return shape

    def tf_dtype(variable):
        dtype = variable.__dict__.get("_tf1kit_tf_dtype")
        if dtype is None:
            dtype = variable.__dict__["_tf1kit_tf_dtype"] = tf.as_dtype(variable.dtype)
        return dtype

    def existing_variable(self, name, shape, dtype):
        found = self._vars[name]
        if shape is not None and not shape.is_compatible_with(found.get_shape()):
            raise ValueError(f"Trying to share variable {name} with shape {shape}, "
                             f"found shape {found.get_shape()}.")
        found_dtype = tf_dtype(found)
        if dtype is not found_dtype and not dtype.is_compatible_with(found_dtype):
            raise ValueError(f"Trying to share variable {name} with dtype {dtype.name}, "
                             f"found dtype {found_dtype.name}.")
        self.used_in_call.append(name)
        return found

    TF1Variable.get_shape = get_shape
    VariableStore._existing_variable = existing_variable


FIXES = {"plain_call_lists": plain_call_lists,
         "cached_shape_and_dtype": cached_shape_and_dtype}
