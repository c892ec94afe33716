"""TF-Slim's eager end points (issue 15, item 2) and the tf.contrib alias."""

import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest
import tensorflow as tf

import tf1kit
from differential import assert_same, graph_case, tf1_graph

v1 = tf.compat.v1

END_POINTS_NET = '''
import tf_slim as slim


def end_points_net(x):
    with v1.variable_scope("net") as scope:
        collection = scope.original_name_scope + "_end_points"
        with slim.arg_scope([slim.conv2d, slim.max_pool2d, slim.avg_pool2d, slim.flatten],
                            outputs_collections=collection), \\
                slim.arg_scope([slim.conv2d], weights_initializer=v1.constant_initializer(0.1)):
            net = slim.conv2d(x, 3, [3, 3], scope="conv1")
            net = slim.max_pool2d(net, [2, 2], scope="pool1")
            net = slim.avg_pool2d(net, [2, 2])
            net = slim.flatten(net, scope="flat")
        return slim.utils.convert_collection_to_dict(collection)
'''

GRAPH_END_POINTS = graph_case("zoo_slim_end_points_graph", END_POINTS_NET + '''
x = np.random.RandomState(0).uniform(size=(2, 8, 8, 3)).astype("float32")
end_points = end_points_net(tf.constant(x))
with v1.Session() as sess:
    sess.run(v1.global_variables_initializer())
    result.update(sess.run(dict(end_points)))
''')


def test_slim_end_points_work_eagerly_and_match_tf1_graph_mode():
    tf1kit.install()
    namespace = {"np": np, "tf": tf, "v1": v1}
    exec(END_POINTS_NET, namespace)

    class Net(tf.keras.layers.Layer):
        @tf1kit.track_tf1_style_variables
        def call(self, x):
            return namespace["end_points_net"](x)

    net = Net()
    x = tf.constant(np.random.RandomState(0).uniform(size=(2, 8, 8, 3)).astype("float32"))
    for _ in range(3):
        end_points = net(x)
    expected = tf1_graph(GRAPH_END_POINTS)
    assert list(end_points) == list(expected) == [
        "net/conv1", "net/pool1", "net/AvgPool2D", "net/flat"]
    assert_same(expected, {k: t.numpy() for k, t in end_points.items()}, rtol=1e-6)
    # Eager collections live for the process: the latest call's tensors, once each.
    for key in tf.compat.v1.get_default_graph().get_all_collection_keys():
        if key.endswith("_end_points"):
            assert len(v1.get_collection(key)) == 4


def test_contrib_alias_is_opt_in_idempotent_and_reversible():
    tf1kit.install()
    assert "contrib" not in v1.__dict__
    tf1kit.install(contrib=True)
    tf1kit.install(contrib=True)
    try:
        import tensorflow.contrib.framework as framework
        import tf_slim
        from tensorflow.contrib import layers

        assert v1.contrib.layers.xavier_initializer is tf_slim.xavier_initializer
        assert layers.layer_norm is tf_slim.layer_norm
        assert framework.arg_scope is tf_slim.arg_scope
        assert v1.contrib.framework.get_variables is tf_slim.get_variables
        assert v1.contrib.slim is tf_slim
        with pytest.raises(AttributeError, match="tf.contrib.seq2seq is not provided"):
            v1.contrib.seq2seq
    finally:
        tf1kit.uninstall()
    assert "contrib" not in v1.__dict__ and "contrib" not in vars(sys.modules["tensorflow"])
    assert "tensorflow.contrib" not in sys.modules
    with pytest.raises(ImportError):
        import tensorflow.contrib  # noqa: F401
    tf1kit.install()
    assert v1.layers is tf1kit.layers and v1.nn.rnn_cell is tf1kit.rnn


def test_fresh_process_install_survives_slims_own_compat_v1_import():
    """tf_slim imports tensorflow.compat.v1; in a fresh process that import
    must not rebind tf.compat.v1 to a copy without tf1kit's names."""
    script = textwrap.dedent('''
        import tensorflow as tf
        import tf1kit
        tf1kit.install(contrib=True)
        import tensorflow.compat.v1 as v1
        import tensorflow.contrib.layers
        assert tf.compat.v1 is v1, "tf.compat.v1 was rebound"
        assert v1.layers is tf1kit.layers and v1.nn.rnn_cell is tf1kit.rnn
        assert v1.contrib.layers is tensorflow.contrib.layers
        print("ok")
    ''')
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3")
    env.pop("TF_USE_LEGACY_KERAS", None)
    proc = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True,
                          text=True, timeout=300)
    assert proc.returncode == 0 and proc.stdout.strip() == "ok", proc.stderr[-3000:]
