"""`ConversionResult`: what `tf1kit.to_keras` returns."""

from __future__ import annotations

import dataclasses

from tf1kit.convert.report import verify_report

_NOT_COMPUTED = object()


@dataclasses.dataclass(eq=False)
class ConversionResult:
    """The native Keras 3 form of a TF1 forward pass.

    Attributes:
        source: Python source of the native model (a `keras.Model` subclass
            and the layers it uses); it imports only `keras` and `tensorflow`.
        model: an instance of it, built, holding the shim's current weights
            (None when something could not be converted).
        weight_map: TF1 variable name -> the native weight's `path`.
        unsupported: what could not be converted, each with the user's
            source line and the reason (empty when the conversion is complete).
        notes: what was converted in a way worth knowing (an initializer with
            no Keras equivalent, a layer written op by op).
        class_name: the name of the model class in `source`.
    """

    source: str
    model: object
    weight_map: dict
    unsupported: list
    notes: list
    class_name: str
    _layer: object = dataclasses.field(default=None, repr=False)
    _inputs: object = dataclasses.field(default=None, repr=False)
    _report: object = dataclasses.field(default=_NOT_COMPUTED, repr=False)
    _tf1_named: object = dataclasses.field(default=None, repr=False)

    @property
    def complete(self) -> bool:
        return not self.unsupported

    @property
    def report(self):
        """The tf1kit.verify report of the TF1 layer against `model` (computed
        on first access; None until tf1kit.verify is available, or when the
        conversion is incomplete)."""
        if self._report is _NOT_COMPUTED:
            self._report = None if self.model is None else verify_report(
                self._layer, self._inputs, self.model, self.weight_map, self._tf1_named)
        return self._report

    def save_weights(self, path):
        """Writes the native model's weights (Keras wants a `.weights.h5` path)."""
        if self.model is None:
            raise ValueError(f"to_keras: nothing to save, the conversion is incomplete:\n"
                             f"{self.summary()}")
        self.model.save_weights(path)

    def summary(self) -> str:
        if self.complete:
            head = (f"{self.class_name}: converted completely, "
                    f"{len(self.weight_map)} weights mapped")
        else:
            head = f"{self.class_name}: {len(self.unsupported)} construct(s) not converted"
        lines = [head] + [f"  unsupported: {u}" for u in self.unsupported]
        lines += [f"  note: {n}" for n in self.notes]
        return "\n".join(lines)

    def __repr__(self):
        return f"<ConversionResult {self.summary().splitlines()[0]}>"
