"""What one world records: its variables and, per stage, the values it computed.

A world is one way of running the layer: the TF1 graph (`tf1_graph`), the
shim eagerly (`shim_eager`) and in `tf.function` (`shim_function`), and the
native rewrite (`native`). Worlds only record; `report.py` compares them.
"""

from __future__ import annotations

import contextlib
import dataclasses
import re
import time
import traceback

TF1_GRAPH = "tf1_graph"
SHIM_EAGER = "shim_eager"
SHIM_FUNCTION = "shim_function"
NATIVE = "native"

DESCRIPTIONS = {
    TF1_GRAPH: "the forward pass as TF1 code in a tf.compat.v1.Graph + Session, "
               "trained with a TF1 optimizer (the ground truth)",
    SHIM_EAGER: "the decorated layer, eagerly, trained with a Keras 3 optimizer",
    SHIM_FUNCTION: "the decorated layer inside tf.function (forward passes and train step)",
    NATIVE: "the native Keras 3 rewrite, eagerly, starting from the TF1 values copied by name",
}


@dataclasses.dataclass
class WorldRun:
    name: str
    variables: dict = dataclasses.field(default_factory=dict)  # name -> {"shape", "trainable"}
    values: dict = dataclasses.field(default_factory=dict)  # stage -> {name: array or None}
    drew_initial_values: bool = False
    dropout_rates: list = dataclasses.field(default_factory=list)
    optimizer: dict = dataclasses.field(default_factory=dict)
    notes: list = dataclasses.field(default_factory=list)
    error: str | None = None
    error_traceback: str | None = None
    stage: str = "setup"  # the stage running (where an error happened)
    seconds: float = 0.0

    @property
    def ran(self) -> bool:
        return self.error is None

    def record(self, stage: str, values: dict):
        self.values.setdefault(stage, {}).update(values)

    @contextlib.contextmanager
    def running(self):
        """Times the world and turns an exception into the world's error."""
        start = time.perf_counter()
        try:
            yield self
        except Exception as error:  # noqa: BLE001 - a failing world is reported, not raised
            self.error = f"{type(error).__name__}: {_without_addresses(str(error))}"
            self.error_traceback = traceback.format_exc()
        finally:
            self.seconds = time.perf_counter() - start


def _without_addresses(text: str) -> str:
    """The message on one line, without what changes from run to run (addresses)
    or only decorates it (terminal colours, Keras' list of call arguments)."""
    text = re.sub(r"\x1b\[[0-9;]*m", "", text)
    text = re.sub(r" at 0x[0-9a-fA-F]+", "", text)
    text = text.split("Arguments received by", 1)[0]
    return " ".join(line.strip() for line in text.splitlines() if line.strip())[:500]
