"""Input and width sizes of the benchmarked networks, full and quick."""

from dataclasses import dataclass


@dataclass(frozen=True)
class Sizes:
    features: int      # MLP input width
    hidden: int        # MLP hidden width
    image: int         # conv nets: square input side
    channels: int      # conv nets: width of the first stage
    classes: int       # also the language model's vocabulary
    steps: int = 20    # language model: tokens per sequence


FULL = Sizes(features=64, hidden=128, image=32, channels=16, classes=10)
# Small enough that a smoke run spends its time in process start-up, not math.
QUICK = Sizes(features=8, hidden=8, image=8, channels=4, classes=3, steps=4)

# Numbers of get_variable calls for the scaling figure.
FULL_COUNTS = (10, 30, 100, 300, 1000)
QUICK_COUNTS = (10, 30, 100)


def input_shape(network: str, sizes: Sizes) -> tuple:
    """Shape of one example (no batch axis) for a network."""
    if network == "mlp":
        return (sizes.features,)
    if network == "lstm_lm":
        return (sizes.steps,)
    return (sizes.image, sizes.image, 3)


def example_inputs(network: str, sizes: Sizes, batch: int, rng):
    """A batch of inputs: token ids for the language model, else normal floats."""
    import tensorflow as tf

    shape = (batch, *input_shape(network, sizes))
    if network == "lstm_lm":
        return tf.constant(rng.integers(0, sizes.classes, shape), tf.int32)
    return tf.constant(rng.standard_normal(shape), tf.float32)
