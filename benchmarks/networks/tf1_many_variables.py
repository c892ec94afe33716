"""A TF1 layer that asks get_variable for N small variables on every call.

Measures how the per-call cost of the shim grows with the number of
get_variable lookups. The math is one read per variable plus one add_n, the
same in every world, so differences in slope are shim bookkeeping.
"""

import tensorflow as tf

v1 = tf.compat.v1


class TF1ManyVariables(tf.keras.layers.Layer):
    def __init__(self, count, **kwargs):
        super().__init__(**kwargs)
        self.count = count

    @v1.keras.utils.track_tf1_style_variables
    def call(self, inputs):
        with v1.variable_scope("many"):
            values = [
                v1.get_variable(f"v{i}", [4], initializer=v1.zeros_initializer())
                for i in range(self.count)]
        return inputs + tf.add_n(values)
