"""The benchmarked networks, once as TF1 source and once as native Keras 3.

The TF1 modules (`tf1_*`) are the *same source* for tf1kit and for the
official shim: they only reach TensorFlow through `tf.keras.layers.Layer` and
`tf.compat.v1.*`, which each world resolves to its own implementation. They
must be imported after the world is set up (see `benchmarks.worlds`), because
the decorator is looked up when the class body runs.
"""
