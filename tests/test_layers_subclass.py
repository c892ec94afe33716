"""User subclasses of tf.compat.v1.layers.Layer, and layers used on their own."""

import numpy as np
import pytest

from differential import assert_same, case, official, ours
from layer_cases import layer_case

SUBCLASS = layer_case(case, "layers_subclass", '''
class Affine(v1.layers.Layer):
    def __init__(self, units, **kwargs):
        super().__init__(**kwargs)
        self.units = units

    def build(self, input_shape):
        self.w = self.add_weight("w", [int(input_shape[-1]), self.units],
                                 initializer=GLOROT(),
                                 regularizer=tf.keras.regularizers.L2(0.5))
        self.b = self.add_variable("b", [self.units], initializer=v1.zeros_initializer())
        self.calls = self.add_weight("calls", [], initializer=v1.zeros_initializer(),
                                     trainable=False)
        super().build(input_shape)

    def call(self, x):
        return tf.matmul(x, self.w) + self.b


def forward(net, x, training):
    return net.affine(x) + net.affine(x * 2.0) + Affine(4, name="inline")(x)

def parts():
    return {"affine": Affine(4)}

with v1.keras.utils.DeterministicRandomTestTool(mode="num_random_ops").scope():
    net = Net(forward, parts())
    x = data(3, 5)
    result["y"] = net(x)
    result["y_again"] = net(x)
    result["names"] = sorted(v.name for v in net.weights)
    result["trainable"] = sorted(v.name for v in net.trainable_weights)
    result["inner_trainable"] = [v.name for v in net.affine.trainable_variables]
    result["inner_non_trainable"] = [v.name for v in net.affine.non_trainable_variables]
    result["inner_losses"] = [l for l in net.affine.losses]
    result["inner_built"] = net.affine.built
    result["inner_scope"] = net.affine.scope_name
''')


def test_subclass_matches_official():
    assert_same(official(SUBCLASS), ours(SUBCLASS))


def test_standalone_layer_keeps_its_variables_between_calls():
    """Outside any decorated method the layer uses its own store: eager
    calls share the same variables, and auto-names still count up."""
    import tensorflow as tf

    import tf1kit

    layer = tf1kit.layers.Dense(3, kernel_regularizer="l2")
    x = tf.ones([2, 4])
    first = layer(x)
    kernel = layer.kernel
    second = layer(x)
    assert layer.kernel is kernel and len(layer.weights) == 2
    np.testing.assert_allclose(first, second)
    assert layer.kernel.name.endswith("kernel:0") and "dense" in layer.scope_name
    assert len(layer.losses) == 1
    other = tf1kit.layers.Dense(3)
    other(x)
    assert other.scope_name != layer.scope_name


def test_scope_name_before_first_call_is_an_error_naming_the_layer():
    import tf1kit

    with pytest.raises(ValueError, match='"my_dense" has not been used yet'):
        tf1kit.layers.Dense(3, name="my_dense").scope_name


def test_subclass_add_update_runs_eagerly_and_collects_in_a_graph():
    import tensorflow as tf

    import tf1kit

    class Counter(tf1kit.layers.Layer):
        def build(self, input_shape):
            self.count = self.add_weight("count", [], trainable=False,
                                         initializer=tf.compat.v1.zeros_initializer())

        def call(self, x):
            self.add_update(lambda: self.count.assign_add(1.0))
            return x

    class Model(tf.keras.layers.Layer):
        def __init__(self):
            super().__init__()
            self.counter = Counter()

        @tf1kit.track_tf1_style_variables
        def call(self, x):
            return self.counter(x)

    model = Model()
    model(tf.ones([1]))
    tf.function(model)(tf.ones([1]))
    assert float(model.counter.count.numpy()) == 2.0
    assert model.counter.updates == []
    assert [v.name for v in model.non_trainable_weights] == ["counter/count:0"]

    with tf.Graph().as_default():
        counter = Counter()
        counter(tf.compat.v1.placeholder(tf.float32, [1]))
        assert len(counter.updates) == 1
        assert counter.updates[0] in tf.compat.v1.get_collection(
            tf.compat.v1.GraphKeys.UPDATE_OPS)


def test_call_gets_scope_when_it_asks_and_training_is_dropped_when_it_does_not():
    import tensorflow as tf

    import tf1kit

    class ScopeAware(tf1kit.layers.Layer):
        def call(self, x, scope=None):
            self.seen_scope = scope.name
            return x

    class Model(tf.keras.layers.Layer):
        def __init__(self):
            super().__init__()
            self.aware = ScopeAware(name="aware")

        @tf1kit.track_tf1_style_variables
        def call(self, x):
            with tf.compat.v1.variable_scope("outer"):
                h = tf1kit.layers.Dense(2)(x, training=True)  # Dense.call has no training
                return self.aware(h, training=False)

    model = Model()
    assert model(tf.ones([1, 3])).shape == (1, 2)
    assert model.aware.seen_scope == "outer/aware"
