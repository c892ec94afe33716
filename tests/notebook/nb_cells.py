"""Cell sources shared by the notebook tests (a dense layer with a bias and a
batch-norm style moving mean that only training calls update)."""

DENSE = '''%%tf1layer {name} --args "units=3"
w = tf.compat.v1.get_variable("dense/kernel", shape=[inputs.shape[-1], units])
b = tf.compat.v1.get_variable("dense/bias", shape=[units],
                              initializer=tf.compat.v1.zeros_initializer())
tf.matmul(inputs, w) + b
'''

DENSE_EDITED = '''%%tf1layer {name} --args "units=3" {options}
w = tf.compat.v1.get_variable("dense/kernel", shape=[inputs.shape[-1], units])
scale = tf.compat.v1.get_variable("dense/scale", shape=[units],
                                  initializer=tf.compat.v1.ones_initializer())
tf.matmul(inputs, w) * scale
'''

NORMALIZED = '''%%tf1layer {name} --args "units=3, momentum=0.5"
w = tf.compat.v1.get_variable(
    "dense/kernel", shape=[inputs.shape[-1], units],
    regularizer=lambda v: 0.01 * tf.reduce_sum(tf.square(v)))
y = tf.matmul(inputs, w)
mean = tf.compat.v1.get_variable("bn/moving_mean", shape=[units], trainable=False,
                                 initializer=tf.compat.v1.zeros_initializer())
variance = tf.compat.v1.get_variable("bn/moving_variance", shape=[units], trainable=False,
                                     initializer=tf.compat.v1.ones_initializer())
if training:
    batch_mean, batch_variance = tf.nn.moments(y, axes=[0])
    mean.assign(momentum * mean + (1 - momentum) * batch_mean)
    variance.assign(momentum * variance + (1 - momentum) * batch_variance)
    y = (y - batch_mean) / tf.sqrt(batch_variance + 1e-3)
else:
    y = (y - mean) / tf.sqrt(variance + 1e-3)
y
'''

# One statement per line, so each pdb `n` creates at most one variable.
STEPPED = '''%%tf1layer {name} --args "units=3"
w = tf.compat.v1.get_variable("dense/kernel", shape=[inputs.shape[-1], units])
y = tf.matmul(inputs, w)
mean = tf.compat.v1.get_variable("bn/moving_mean", shape=[units], trainable=False, initializer=tf.compat.v1.zeros_initializer())
variance = tf.compat.v1.get_variable("bn/moving_variance", shape=[units], trainable=False, initializer=tf.compat.v1.ones_initializer())
(y - mean) / tf.sqrt(variance + 1e-3)
'''
