"""Each planted bug in a native rewrite is caught, and the report names the
variable or tensor and the stage where it first shows.

The TF1 model and the rewrite live in verify_models.py: a correct rewrite
verifies `ok` (the first test), so each failure below comes from its one bug.
"""

import keras
import pytest

import tf1kit
from tf1kit.verify import stages
from verify_models import NativeModel, NativeModule, NativeNet, TF1Net, batch

tf1kit.install()
X = batch()


def failing(report, stage, name):
    """The failed rows of `name` at `stage`, in the native world."""
    return [row for row in report.failures
            if row["stage"] == stage and row["name"] == name and row["world"] == "native"]


def test_the_correct_rewrite_is_ok():
    report = tf1kit.verify(TF1Net(), X, native=NativeNet())
    assert report.ok, str(report)
    pairs = {m["tf1"]: m["native"] for m in report.name_matches}
    assert pairs == {"net/hidden/kernel": "hidden/kernel", "net/bn/gamma": "bn/gamma",
                     "net/bn/beta": "bn/beta", "net/bn/moving_mean": "bn/moving_mean",
                     "net/bn/moving_variance": "bn/moving_variance",
                     "net/out/kernel": "out/kernel", "net/out/bias": "out/bias"}


def test_batch_norm_momentum_0_9_where_tf1_had_0_99():
    report = tf1kit.verify(TF1Net(), X, native=NativeNet(momentum=0.9))
    assert not report.ok
    assert report.first_divergence == {"net/bn/moving_mean": stages.MOVING_STATS,
                                       "net/bn/moving_variance": stages.MOVING_STATS}
    # One update moves the statistics by (1 - momentum): ten times as far.
    [row] = failing(report, stages.MOVING_STATS, "net/bn/moving_mean")
    assert row["note"] == "10.0 x the TF1 value"
    assert row["native_name"] == "bn/moving_mean"
    assert not any(row["stage"] in (stages.FORWARD_EVAL, stages.FORWARD_TRAIN)
                   for row in report.failures)


def test_batch_norm_epsilon_differs():
    report = tf1kit.verify(TF1Net(), X, native=NativeNet(epsilon=1e-5))
    assert not report.ok
    assert report.divergences[0] == {"name": "output", "stage": stages.FORWARD_EVAL,
                                     "worlds": ["native"]}
    # Normalizing with moving variance 1: outputs scale by sqrt(1 + 1e-3) / sqrt(1 + 1e-5)
    # before the last layer; nothing else differs yet.
    assert failing(report, stages.FORWARD_EVAL, "output")
    assert not [row for row in report.failures if row["stage"] in (
        stages.INITIAL, stages.REGULARIZATION, stages.MOVING_STATS)]


def test_dropped_l2_regularizer():
    report = tf1kit.verify(TF1Net(), X, native=NativeNet(regularize=False))
    assert not report.ok
    [row] = failing(report, stages.REGULARIZATION, "regularization/net/out/kernel")
    assert row["note"] == "not regularized here (TF1 regularizes it)"
    assert row["max_rel_diff"] == 1.0  # all of TF1's loss is missing
    assert report.first_divergence["regularization/net/out/kernel"] == stages.REGULARIZATION
    assert report.first_divergence["net/out/kernel"] == stages.GRADIENTS
    assert not [row for row in report.failures
                if row["stage"] in (stages.FORWARD_EVAL, stages.FORWARD_TRAIN)]


def test_kernel_transposed_when_copied():
    """The rewrite keeps the output kernel as (units, inputs); copied by name
    the 6x6 TF1 kernel fits, and is used transposed."""
    report = tf1kit.verify(TF1Net(), X, native=NativeNet(transposed_kernel=True))
    assert not report.ok
    assert report.divergences[0]["name"] == "output"
    assert report.divergences[0]["stage"] == stages.FORWARD_EVAL
    # Initial values agree (the same draw, whatever the layout); the variable
    # itself shows at the first gradient.
    assert report.first_divergence["net/out/kernel"] == stages.GRADIENTS
    assert not failing(report, stages.INITIAL, "net/out/kernel")


def test_kernel_with_transposed_shape_is_named_at_the_variables_stage():
    class Narrow(keras.layers.Layer):
        @tf1kit.track_tf1_style_variables
        def call(self, x, training=False):
            return tf1kit.layers.dense(x, 3, name="out")

    from verify_models import TransposedDense

    report = tf1kit.verify(Narrow(), X, native=TransposedDense(3, name="out"))
    [row] = failing(report, stages.VARIABLES, "out/kernel")
    # The native layer is named "out", so its variables are "kernel" and "bias" below it.
    assert row["note"] == ("no native variable for it (native 'kernel' has the transposed "
                           "shape [3, 4])")
    assert report.first_divergence["out/kernel"] == stages.VARIABLES


def test_use_bias_false_where_tf1_had_a_bias():
    report = tf1kit.verify(TF1Net(), X, native=NativeNet(use_bias=False))
    assert not report.ok
    [row] = failing(report, stages.VARIABLES, "net/out/bias")
    assert row["note"] == "no native variable for it"
    assert report.divergences[0]["name"] == "net/out/bias"
    assert {"what": "net/out/bias", "world": "native",
            "why": "no native variable for it"} in report.not_compared


def test_adam_epsilon_1e_7_instead_of_tf1s_1e_8():
    """The rewrite compiles with Keras 3's Adam and its default epsilon; TF1's
    AdamOptimizer used 1e-8. It shows where gradients are small (the near-zero
    input feature): there the epsilon decides the step."""
    native = NativeModel()
    native.compile(optimizer=keras.optimizers.Adam(learning_rate=0.001), loss="mse")
    report = tf1kit.verify(TF1Net(), X, native=native, optimizer="adam")
    assert not report.ok
    [setting] = failing(report, stages.OPTIMIZER, "optimizer/epsilon")
    assert setting["note"] == "Adam has epsilon=1e-07, TF1's AdamOptimizer epsilon=1e-08"
    assert report.first_divergence["net/hidden/kernel"] == stages.step(1)
    # The shim trains with 'adam' set to TF1's epsilon and stays equal to TF1.
    assert {row["world"] for row in report.failures} == {"native"}


def test_training_not_passed_to_batch_norm():
    report = tf1kit.verify(TF1Net(), X, native=lambda: NativeModule(forget_training=True))
    assert not report.ok
    assert report.divergences[0] == {"name": "output", "stage": stages.FORWARD_TRAIN,
                                     "worlds": ["native"]}
    [row] = failing(report, stages.MOVING_STATS, "net/bn/moving_mean")
    assert row["note"] == "zero where TF1 is not"  # never updated
    assert not failing(report, stages.FORWARD_EVAL, "output")


def test_the_same_module_passing_training_is_ok():
    report = tf1kit.verify(TF1Net(), X, native=lambda: NativeModule())
    assert report.ok, str(report)


@pytest.mark.parametrize("bug", ["momentum", "regularize"])
def test_assert_equivalent_lists_the_bug(bug):
    native = NativeNet(momentum=0.9) if bug == "momentum" else NativeNet(regularize=False)
    with pytest.raises(AssertionError) as raised:
        tf1kit.assert_equivalent(TF1Net(), X, native=native, steps=1)
    expected = ("[moving_stats] net/bn/moving_mean" if bug == "momentum"
                else "[regularization] regularization/net/out/kernel")
    assert expected in str(raised.value)
