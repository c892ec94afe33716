"""Keras' traceback filter leaves out tf1kit's frames, as it leaves out its own.

An error in TF1 code run by a decorated Keras layer travels through the
decorator (and, for `tf.compat.v1.layers`, tf1kit's layer machinery) on its
way up. Keras cuts the frames of Keras and TensorFlow out of such a traceback
so that the user's own code is what shows; tf1kit's frames are as little
actionable and are cut the same way, by adding tf1kit's folder to the paths
Keras leaves out. `%%tf1layer` cells already get this treatment
(`notebook/tracebacks.py`); this gives scripts the same traceback. As with
Keras, `keras.config.disable_traceback_filtering()` shows every frame.
"""

from __future__ import annotations

import os

from keras.src.utils import traceback_utils

# With the separator: a user's own `.../tf1kit_experiments/` folder stays visible.
PACKAGE_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__))) + os.sep


def install() -> None:
    if PACKAGE_DIR not in traceback_utils._EXCLUDED_PATHS:
        traceback_utils._EXCLUDED_PATHS = (*traceback_utils._EXCLUDED_PATHS, PACKAGE_DIR)


install()
