"""Defining and redefining a `%%tf1layer` class from a cell.

A redefinition is tried on every existing instance that has been called
before (zeros shaped like its last inputs, training=False). If the new code
fails anywhere, the previous definition goes back in place and the variables
the trial created are forgotten, so existing instances keep working.
"""

from __future__ import annotations

import sys
import weakref

from IPython.core.error import UsageError

from tf1kit.decorator import drop_variable, find_store, restore_variable
from tf1kit.notebook import hooks
from tf1kit.notebook.cell_args import parse_constructor_args, parse_input_names
from tf1kit.notebook.cell_layer import CellDefinition, make_cell_class, sample_inputs
from tf1kit.notebook.cell_source import (
    build_forward, cache_cell_source, parse_cell, transform_cell)

# NAME -> class, per shell. Kept here rather than on the magics object so that
# `%reload_ext tf1kit` (a new magics object) still redefines the same classes.
_classes_by_shell: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()


def defined_classes(shell) -> dict:
    return _classes_by_shell.setdefault(shell, {})


def define_cell_class(shell, name, line, cell, *, kind, inputs_text, args_text,
                      drop_unused=False):
    input_names = parse_input_names(inputs_text)
    arg_defaults = parse_constructor_args(args_text, shell.user_ns)
    clash = set(input_names) & set(arg_defaults)
    if clash:
        raise UsageError(f"%%tf1layer {name}: {sorted(clash)} is both an input and an --args name.")
    # The trailing newline keeps this text from hashing to the name ipykernel
    # already gave the raw cell (whose cached code is the one-line magic call).
    source = f"# %%tf1layer {line}\n{cell}\n"
    filename = cache_cell_source(shell, source)
    try:
        body = parse_cell(transform_cell(shell, cell), filename, first_line=2)
    except SyntaxError as error:
        # Nothing changed; show only the cell line, not the magic's frames.
        raise error.with_traceback(None) from None
    forward = build_forward(body, filename, f"{name}_forward", input_names,
                            list(arg_defaults), shell.user_ns)
    definition = CellDefinition(name, kind, source, filename, forward, input_names,
                                arg_defaults)
    definitions = defined_classes(shell)
    cls = definitions.get(name)
    if cls is None:
        # A class from before `%reload_ext tf1kit` is still the one the notebook uses.
        candidate = shell.user_ns.get(name)
        if isinstance(candidate, type) and hasattr(candidate, "_tf1kit_definition"):
            cls = candidate
    if cls is None or cls._tf1kit_definition.kind != kind:
        cls = make_cell_class(definition, shell.user_ns.get("__name__", "__main__"))
        definitions[name] = cls
        return cls
    definitions[name] = cls
    redefine(cls, definition, drop_unused=drop_unused)
    return cls


def redefine(cls, definition, *, drop_unused=False, report=print):
    previous = cls._tf1kit_definition
    definition.version = previous.version + 1
    cls._tf1kit_definition = definition
    trials = []
    try:
        for instance in list(cls._tf1kit_instances):
            trial = _try_instance(instance)
            if trial is not None:
                trials.append(trial)
    except BaseException as error:
        cls._tf1kit_definition = previous
        for trial in trials:
            trial.undo()
        # Printed now, so the notebook shows it above the traceback.
        failed = getattr(error, "_tf1kit_failed_instance", None)
        where = f" instance {failed!r}" if failed else " an existing instance"
        print(f"tf1kit: the edited {definition.name} failed on{where}; rolled back, "
              "the previous definition is still in place.", file=sys.stderr, flush=True)
        raise
    for trial in trials:
        if drop_unused:
            trial.dropped = trial.instance.drop_unused_variables()
        report(trial.summary())
    return trials


class _Trial:
    """Variables one instance kept, created and stopped using in a trial call."""

    def __init__(self, instance, before):
        self.instance = instance
        self.before = before  # TF1 name -> variable, before the trial
        self.dropped = []

    def finish(self):
        store = find_store(self.instance)
        now = store.variables_by_name
        used = set(store.used_in_call)
        self.created = [n for n in now if n not in self.before or now[n] is not self.before[n]]
        self.kept = [n for n in now if n in used and n not in self.created]
        self.unused = [n for n in now if n not in used]

    def undo(self):
        """Forgets what the trial created and restores what it replaced."""
        store = find_store(self.instance)
        for name in self.created:
            if name in store.variables_by_name:
                drop_variable(self.instance, name)
        for name, variable in self.before.items():
            if name not in store.variables_by_name:
                restore_variable(self.instance, variable)
        hooks.variables_changed(self.instance, "edit rolled back")

    def summary(self) -> str:
        label = getattr(self.instance, "name", type(self.instance).__name__)
        parts = [f"kept {len(self.kept)}", f"created {len(self.created)}"
                 + (f" ({', '.join(self.created)})" if self.created else "")]
        if self.dropped:
            parts.append(f"dropped {len(self.dropped)} unused ({', '.join(self.dropped)})")
        elif self.unused:
            parts.append(f"no longer used {len(self.unused)} ({', '.join(self.unused)}); "
                         "rerun with --drop-unused or call .drop_unused_variables()")
        return f"{type(self.instance).__name__} instance {label!r}: " + "; ".join(parts)


def _try_instance(instance):
    inputs = sample_inputs(instance)
    store = find_store(instance)
    if inputs is None or store is None:
        return None  # never called: it simply runs the new code on its first call
    trial = _Trial(instance, store.variables_by_name)
    try:
        instance(*inputs, training=False)
    except BaseException as error:
        trial.finish()
        trial.undo()
        try:
            error._tf1kit_failed_instance = getattr(instance, "name", type(instance).__name__)
        except AttributeError:
            pass  # some exception types take no attributes
        raise
    trial.finish()
    return trial
