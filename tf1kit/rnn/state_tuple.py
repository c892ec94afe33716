"""`LSTMStateTuple`: the `(c, h)` state of the LSTM cells."""

from __future__ import annotations

import collections


class LSTMStateTuple(collections.namedtuple("LSTMStateTuple", ("c", "h"))):
    """An LSTM state: `c` the memory cell, `h` the hidden output, in that order.

    It is a tuple, so `tf.nest` and the rnn functions treat it as a structure;
    `DropoutWrapper` recognizes it to leave `c` out of state dropout.

    Example:

    ```python
    state = LSTMStateTuple(c=tf.zeros([2, 8]), h=tf.zeros([2, 8]))
    output, state = cell(x, state)
    ```
    """

    __slots__ = ()

    @property
    def dtype(self):
        c, h = self
        if c.dtype != h.dtype:
            raise TypeError(f"Inconsistent internal state: {c.dtype} vs {h.dtype}")
        return c.dtype
