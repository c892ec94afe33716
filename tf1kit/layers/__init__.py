"""tf.compat.v1.layers on Keras 3 (work in progress)."""
