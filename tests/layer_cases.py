"""TF1-style helper source shared by the tf.compat.v1.layers differential cases (no tests here).

It is prepended to each case, so it runs unchanged under the official shim
(tf_keras) and under tf1kit. `run(build, x)` wraps a TF1 forward function in a
decorated Keras layer and reports names, initial values, inference and
training outputs, gradients, regularization losses and the state after
training steps.
"""

HELPERS = '''
GLOROT = v1.glorot_uniform_initializer  # TF1's default, drawn through get_seed


def data(*shape, seed=0):
    return tf.constant(np.random.RandomState(seed).uniform(-1, 1, shape).astype("float32"))


class Net(tf.keras.layers.Layer):
    def __init__(self, forward, parts=None, **kwargs):
        super().__init__(**kwargs)
        self.forward = forward
        for key, value in (parts or {}).items():
            setattr(self, key, value)

    @v1.keras.utils.track_tf1_style_variables
    def call(self, x, training=False):
        with v1.variable_scope("model"):
            return self.forward(self, x, training)


def by_name(variables, values=None):
    values = values if values is not None else [v.numpy() for v in variables]
    return {v.name: value for v, value in zip(variables, values)}


def run(forward, x, mode="constant", steps=2, parts=None, seed=42):
    """Weights are reported by name: the official shim lists them sorted by
    name, tf1kit in creation order; the set and the values must agree."""
    out = {}
    with v1.keras.utils.DeterministicRandomTestTool(seed=seed, mode=mode).scope():
        net = Net(forward, parts() if parts else None)
        out["infer"] = net(x, training=False)
        out["initial"] = by_name(net.weights)
        out["trainable"] = sorted(v.name for v in net.trainable_weights)
        out["n_losses"] = len(net.losses)
        out["reg_loss"] = float(sum(float(l) for l in net.losses))
        for step in range(steps):
            with tf.GradientTape() as tape:
                y = net(x, training=True)
                loss = tf.reduce_sum(y * y) + sum(net.losses)
            grads = tape.gradient(loss, net.trainable_weights)
            if step == 0:  # steps=0 leaves training out
                out["train"] = y
                out["grads"] = by_name(net.trainable_weights, grads)
        out["after"] = by_name(net.weights)
        out["infer_after"] = net(x, training=False)
    return out


def run_modes(forward, x, **kwargs):
    return {mode: run(forward, x, mode=mode, **kwargs) for mode in ("constant", "num_random_ops")}
'''


def layer_case(case, name, source):
    """Registers a case whose source can use the helpers above."""
    return case(name, HELPERS + source)
