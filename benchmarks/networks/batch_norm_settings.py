"""Batch-norm settings shared by the TF1 and the native Keras 3 ResNet."""

DECAY = 0.99      # TF1 `decay` == Keras `momentum`
EPSILON = 1e-3
