"""Which class implements which network in which world."""

import importlib

# network -> (module, class) for the TF1 source and for native Keras 3.
TF1_SOURCE = {
    "mlp": ("benchmarks.networks.tf1_mlp", "TF1MLP"),
    "resnet": ("benchmarks.networks.tf1_resnet", "TF1ResNet"),
    "resnet_layers": ("benchmarks.networks.tf1_resnet_layers", "TF1ResNetLayers"),
    "slim": ("benchmarks.networks.tf1_slim", "TF1SlimNet"),
    "many_variables": ("benchmarks.networks.tf1_many_variables", "TF1ManyVariables"),
    "lstm_lm": ("benchmarks.networks.tf1_lstm_lm", "TF1LSTMLanguageModel"),
}
NATIVE_KERAS3 = {
    "mlp": ("benchmarks.networks.keras3_mlp", "Keras3MLP"),
    "resnet": ("benchmarks.networks.keras3_resnet", "Keras3ResNet"),
    # tf.compat.v1.layers and raw get_variable are one network in Keras 3.
    "resnet_layers": ("benchmarks.networks.keras3_resnet", "Keras3ResNet"),
    "slim": ("benchmarks.networks.keras3_slim", "Keras3SlimNet"),
    "many_variables": ("benchmarks.networks.keras3_many_variables", "Keras3ManyVariables"),
    "lstm_lm": ("benchmarks.networks.keras3_lstm_lm", "Keras3LSTMLanguageModel"),
}
# The floor: the same ops on plain tf.Variables in a tf.Module, no framework.
RAW_OPS = {
    "mlp": ("benchmarks.networks.raw_ops", "RawMLP"),
    "resnet": ("benchmarks.networks.raw_ops", "RawResNet"),
    "resnet_layers": ("benchmarks.networks.raw_ops", "RawResNetFused"),
    "slim": ("benchmarks.networks.raw_ops", "RawSlimNet"),
    "many_variables": ("benchmarks.networks.raw_ops", "RawManyVariables"),
    "lstm_lm": ("benchmarks.networks.raw_ops", "RawLSTMLanguageModel"),
}
NETWORKS = ("mlp", "resnet", "resnet_layers", "slim", "lstm_lm")


def network_class(world: str, network: str):
    """Imports lazily: the TF1 modules must load after the world is set up."""
    table = {"native": NATIVE_KERAS3, "raw": RAW_OPS}.get(world, TF1_SOURCE)
    module_name, class_name = table[network]
    return getattr(importlib.import_module(module_name), class_name)
