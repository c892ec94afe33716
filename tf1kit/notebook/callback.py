"""`tf1kit.InspectorCallback`: keeps inspectors current during `model.fit`.

Refreshes are throttled by their own measured cost: after a refresh that took
`d` seconds, the next one waits `d / max_overhead` seconds, so the inspector
costs at most about `max_overhead` of the training time on any machine.

The work happens in `on_train_batch_begin`: Keras dispatches `*_batch_end`
hooks asynchronously unless a callback overrides them, and overriding one
would make every step wait. `*_batch_begin` runs on the main thread, where
reading variables is safe; it sees the state after the previous step.
"""

from __future__ import annotations

import time

import keras

from tf1kit.notebook import hooks
from tf1kit.notebook.snapshot import shim_owners


class InspectorCallback(keras.callbacks.Callback):
    def __init__(self, inspector=None, max_overhead: float = 0.02, min_interval: float = 0.5):
        super().__init__()
        if not 0 < max_overhead < 1:
            raise ValueError(
                f"InspectorCallback: max_overhead is a fraction of training time "
                f"in (0, 1), got {max_overhead}.")
        self.inspector = inspector
        self.max_overhead = max_overhead
        self.min_interval = min_interval
        self.refresh_count = 0
        self._next_refresh = 0.0

    def _inspectors(self):
        if self.inspector is not None:
            return [self.inspector]
        owners = {id(owner) for owner in shim_owners(self.model)} if self.model else set()
        return [inspector for inspector in hooks.live_inspectors()
                if any(id(owner) in owners for owner in inspector.owners)]

    def _refresh(self, reason, force=False):
        now = time.perf_counter()
        if not force and now < self._next_refresh:
            return
        for inspector in self._inspectors():
            hooks.guarded(inspector, inspector.refresh, reason)
        self._steps_since_refresh = False
        cost = time.perf_counter() - now
        self._last_cost = cost
        self.refresh_count += 1
        self._next_refresh = time.perf_counter() + max(self.min_interval, cost / self.max_overhead)

    def on_train_begin(self, logs=None):
        # The budget holds from the first step: wait as long as the last refresh earned.
        self._next_refresh = time.perf_counter() + max(
            self.min_interval, self._last_cost / self.max_overhead)

    def on_train_batch_begin(self, batch, logs=None):
        if batch:  # step 0 has no new values yet
            self._refresh(f"fit: epoch {self._epoch + 1}, step {batch}")
        self._steps_since_refresh = True  # this step runs after any refresh above

    def on_epoch_begin(self, epoch, logs=None):
        self._epoch = epoch

    def on_epoch_end(self, epoch, logs=None):
        self._refresh(f"fit: end of epoch {epoch + 1}")

    def on_train_end(self, logs=None):
        if self._steps_since_refresh:
            self._refresh("fit: finished", force=True)
        else:  # the epoch's end was just shown: a second read would show no change
            for inspector in self._inspectors():
                hooks.guarded(inspector, inspector.relabel, "fit: finished")

    _epoch = 0
    _last_cost = 0.0
    _steps_since_refresh = False
