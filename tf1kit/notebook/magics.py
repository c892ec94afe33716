"""IPython magics: `%%tf1layer`, `%tf1debug` and `%tf1inspect`."""

from __future__ import annotations

import io
import re
import sys

from IPython.core.error import UsageError
from IPython.core.magic import Magics, cell_magic, line_magic, magics_class
from IPython.core.magic_arguments import argument, magic_arguments, parse_argstring


@magics_class
class TF1Magics(Magics):
    """Magics for running and debugging TF1-style forward passes in a notebook."""

    def __init__(self, shell):
        super().__init__(shell)
        self._definitions = {}  # NAME -> class defined by %%tf1layer

    @cell_magic
    @magic_arguments()
    @argument("name", nargs="?", help="Name of the class to define in the notebook.")
    @argument("--module", action="store_true",
              help="Define a tf.Module instead of a Keras 3 layer.")
    @argument("--inputs", default="inputs",
              help="Comma-separated names the call's inputs are bound to (default: inputs).")
    @argument("--args", default="",
              help='Constructor arguments with defaults, e.g. --args "units=10"; '
                   "usable in the cell by name and as attributes.")
    @argument("--drop-unused", action="store_true",
              help="After redefining, forget variables the new code no longer uses.")
    def tf1layer(self, line, cell):
        """Define NAME as a layer whose TF1-style forward pass is this cell.

        The cell runs inside a method decorated with track_tf1_style_variables:
        tf.compat.v1.get_variable and tf.compat.v1.layers create variables on
        the first call and reuse them. `training` is available; the value of the
        last expression (or a `return`) is the output. Re-running an edited
        cell updates existing instances.
        """
        from tf1kit.notebook.definition import define_cell_class

        args = self._parse(self.tf1layer, line)
        if not args.name:
            raise UsageError(f"%%tf1layer needs a NAME.\n{_usage(self.tf1layer)}")
        try:
            if not args.name.isidentifier():
                raise UsageError(f"%%tf1layer: {args.name!r} is not a valid Python name.")
            cls = define_cell_class(
                self.shell, self._definitions, args.name, line, cell,
                kind="module" if args.module else "layer",
                inputs_text=args.inputs, args_text=args.args,
                drop_unused=args.drop_unused)
        except UsageError as error:
            raise UsageError(f"{error}\n{_usage(self.tf1layer)}") from None
        self.shell.user_ns[args.name] = cls

    @line_magic
    @magic_arguments()
    @argument("-b", "--at-breakpoint", action="store_true",
              help="Stop only at breakpoint() calls, not at the first line.")
    @argument("-c", "--commands", default=None,
              help='pdb commands to run instead of prompting, separated by ";", '
                   'e.g. --commands "n;n;p kernel.shape;c" (for notebooks run top to bottom).')
    @argument("expression", nargs="*", help="The call to debug, e.g. layer(x).")
    def tf1debug(self, line):
        """Run EXPRESSION eagerly under pdb, stopping in the TF1 forward pass.

        tf.function is disabled while it runs. Each pdb stop refreshes the
        open inspectors, so stepping shows variables being created.
        """
        from tf1kit.notebook.debugger import debug_expression

        args = self._parse(self.tf1debug, line)
        expression = _strip_options(line, _TF1DEBUG_OPTIONS)
        if not expression:
            raise UsageError(f"%tf1debug needs an expression.\n{_usage(self.tf1debug)}")
        stdin = stdout = None
        if args.commands is not None:
            commands = args.commands.strip("\"'").split(";")
            stdin = io.StringIO("".join(f"{c.strip()}\n" for c in commands if c.strip()))
            stdout = sys.stdout  # pdb reads `stdin` only when given a stdout too
        return debug_expression(self.shell, expression, stop_at_first_line=not args.at_breakpoint,
                                stdin=stdin, stdout=stdout)

    @line_magic
    @magic_arguments()
    @argument("--page-size", type=int, default=50, help="Variables per table page.")
    @argument("object", nargs="*",
              help="An expression: a shim layer or module, or a model holding them.")
    def tf1inspect(self, line):
        """Show a live inspector of the TF1-style variables of OBJECT."""
        from tf1kit.notebook.inspector import Inspector

        args = self._parse(self.tf1inspect, line)
        # The expression may contain spaces: take it from the raw line.
        expression = re.sub(r"^\s*--page-size(=|\s+)\S+", "", line).strip()
        if not expression:
            raise UsageError(f"%tf1inspect needs an object.\n{_usage(self.tf1inspect)}")
        try:
            target = self.shell.ev(expression)
        except Exception as error:
            raise UsageError(
                f"%tf1inspect: evaluating {expression!r} failed: "
                f"{type(error).__name__}: {error}") from None
        try:
            return Inspector(target, page_size=args.page_size, label=expression)
        except (TypeError, ValueError) as error:
            raise UsageError(str(error)) from None

    @line_magic
    @magic_arguments()
    @argument("layer", help="The migrated layer (an expression: a decorated layer, module or "
                            "%%%%tf1layer instance).")
    @argument("inputs", help="One batch (an expression: a tensor, tuple or dict).")
    @argument("--native", default=None, help="The native Keras 3 rewrite to compare as well.")
    @argument("--name-map", default=None, help="A dict: TF1 name -> native variable name.")
    @argument("--steps", type=int, default=3, help="Training steps to compare (default 3).")
    @argument("--loss", default=None, help="callable(outputs) -> scalar (default: mean square).")
    @argument("--optimizer", default="sgd",
              help="sgd, adam, or an expression giving a (TF1 factory, Keras 3 factory) pair.")
    @argument("--rtol", type=float, default=1e-5, help="Relative tolerance (default 1e-5).")
    @argument("--atol", type=float, default=1e-5, help="Absolute tolerance (default 1e-5).")
    def tf1verify(self, line):
        """Compare LAYER as TF1 graph code, as the shim and as --native on INPUTS.

        Shows the report of tf1kit.verify (and returns it); the options are its arguments.
        """
        import tf1kit

        args = self._parse(self.tf1verify, line)
        values = {}
        for option in ("layer", "inputs", "native", "name_map", "loss", "optimizer"):
            text = getattr(args, option)
            if text is None or (option == "optimizer" and text.strip("\"'") in ("sgd", "adam")):
                values[option] = text.strip("\"'") if text else text
                continue
            try:
                values[option] = self.shell.ev(text.strip("\"'"))
            except Exception as error:
                raise UsageError(f"%tf1verify: evaluating {option} {text!r} failed: "
                                 f"{type(error).__name__}: {error}") from None
        try:
            return tf1kit.verify(values.pop("layer"), values.pop("inputs"), steps=args.steps,
                                 rtol=args.rtol, atol=args.atol, **values)
        except (TypeError, ValueError) as error:
            raise UsageError(f"%tf1verify: {error}\n{_usage(self.tf1verify)}") from None

    @line_magic
    @magic_arguments()
    @argument("layer", help="The decorated TF1 layer (or %%%%tf1layer instance) to convert.")
    @argument("inputs", nargs="+", help="An expression for one example batch, e.g. tf.ones([2, 8]).")
    def tf1convert(self, line):
        """Convert LAYER's TF1 forward pass to native Keras 3 code (tf1kit.to_keras).

        The generated classes go into the next cell, to run and edit; the verify
        report (or what could not be converted) is shown. Returns the
        conversion, whose weight_map loads TF1 checkpoints into the new model.
        """
        from IPython.display import display

        from tf1kit.convert import to_keras

        self._parse(self.tf1convert, line)
        layer_text, inputs_text = line.strip().split(None, 1)  # the inputs may hold spaces
        values = []
        for text in (layer_text, inputs_text):
            try:
                values.append(self.shell.ev(text))
            except Exception as error:
                raise UsageError(f"%tf1convert: evaluating {text!r} failed: "
                                 f"{type(error).__name__}: {error}") from None
        result = to_keras(*values)
        self.shell.set_next_input(result.source, replace=False)
        print(result.summary())
        if result.report is not None:
            display(result.report)
        return result

    def _parse(self, magic, line):
        try:
            return parse_argstring(magic, line)
        except UsageError as error:
            raise UsageError(f"{error}\n{_usage(magic)}") from None


# The expression may contain spaces, so it is what remains of the raw line
# once the options are taken off.
_TF1DEBUG_OPTIONS = re.compile(
    r"^\s*(?:(?:-b|--at-breakpoint)(?:\s+|$)"
    r"|(?:-c|--commands)(?:=|\s+)(?:\"[^\"]*\"|'[^']*'|\S+)\s*)*")


def _strip_options(line: str, options: re.Pattern) -> str:
    return options.sub("", line, count=1).strip()


def _usage(magic) -> str:
    usage = magic.parser.format_usage().strip()
    if magic.__name__ in _CELL_MAGICS:  # magic_arguments writes every prog as %name
        usage = usage.replace(f"%{magic.__name__}", f"%%{magic.__name__}", 1)
    return usage


_CELL_MAGICS = {"tf1layer"}


def register(shell) -> None:
    import tf1kit

    tf1kit.install()
    shell.register_magics(TF1Magics)
