"""Writing the native model's source.

Every group (see `structure`) is written as a class template: its
`__init__` creates its layers, its `build` its raw weights, its `call` runs
its steps. Layer arguments are slots. Groups whose templates are equal share
one class; a slot whose value differs between them becomes a constructor
argument of that class (named after the argument, or `<layer>_<argument>`
when several layers have it), and equal slots stay literals.
"""

from __future__ import annotations

import dataclasses
import re
import textwrap

import numpy as np
import tensorflow as tf

from tf1kit.convert.formatting import wrap
from tf1kit.convert.ir import (
    TRAINING, CallWriting, ConstRef, Node, RawVariable, TensorRef, VariableRef)
from tf1kit.convert.ops import EMITTERS, MULTI_OUTPUT, Arg, Expr
from tf1kit.convert.patterns import HELPERS
from tf1kit.convert.structure import Group, Loop, identifier, stem
from tf1kit.convert.values import Code, NotConvertible, literal

_SLOT = "\x00{}\x00"
_SLOT_PATTERN = re.compile("\x00(\\d+)\x00")
_LIFTABLE = (int, float, bool, str, type(None), tuple)
_INLINE_LIMIT = 72
_DOC_WIDTH = 92


@dataclasses.dataclass
class Slot:
    value: object
    hint: tuple   # (member, argument)


@dataclasses.dataclass(eq=False)
class Template:
    group: Group
    text: str               # class body with slot markers
    slots: list             # Slot, by marker number
    helpers: set
    scopes: list            # TF1 scopes this group stands for (for the docstring)
    class_info: object = None
    arguments: dict = dataclasses.field(default_factory=dict)  # param -> value for this instance


@dataclasses.dataclass(eq=False)
class ClassInfo:
    name: str
    templates: list
    params: list = dataclasses.field(default_factory=list)   # (name, [slot indexes])
    literal_slots: dict = dataclasses.field(default_factory=dict)


def _snake(name: str) -> str:
    text = re.sub(r"(?<!^)(?=[A-Z][a-z])", "_", name)
    return re.sub(r"\W", "_", text).lower()


def camel(name: str) -> str:
    parts = [p for p in re.split(r"[^0-9a-zA-Z]+", name) if p]
    text = "".join(p[:1].upper() + p[1:] for p in parts) or "Block"
    return f"Layer{text}" if text[0].isdigit() else text


class _Body:
    """Statements of one `call`, with the value naming that keeps them readable."""

    def __init__(self, params):
        self.lines = []
        self.names = {}         # tensor key -> Expr
        self.chains = {}        # inlined value -> the dying name it carries on
        self.used = set(params) | {"self", "training", "tf", "keras"}
        self.params = set(params)

    def fresh(self, hint: str) -> str:
        base = identifier(_snake(hint)) if hint else "x"
        base = base.rstrip("_") or "x"
        candidate, number = base, 1
        while candidate in self.used:
            number += 1
            candidate = f"{base}_{number}"
        self.used.add(candidate)
        return candidate


class Writer:
    """Writes the classes for a group tree."""

    def __init__(self, top, forward, *, class_name, package, call_params, input_exprs,
                 top_name, creation_rank=None, shape_of=None):
        self.top = top
        # TF1's creation order of the shim variables (id -> rank), and the
        # recorded static shape of a value (graph tensor key -> tuple).
        self.creation_rank = creation_rank or {}
        self.shape_of = shape_of
        self.forward = forward
        self.class_name = class_name
        self.package = package
        self.call_params = call_params
        self.input_exprs = input_exprs   # model input tensor key -> Expr (top level)
        self.top_name = top_name
        self.unsupported = []
        self.notes = []
        self.consumers = {}
        self.producer = {}
        for node in forward.nodes:
            for ref in node.inputs:
                if isinstance(ref, TensorRef):
                    self.consumers[ref.key] = self.consumers.get(ref.key, 0) + 1
            for key in node.outputs:
                if key:
                    self.producer[key] = node
        self.model_outputs = [r.key for r in forward.outputs if isinstance(r, TensorRef)]
        for key in self.model_outputs:
            self.consumers[key] = self.consumers.get(key, 0) + 1
        self.owner_of_variable = {}
        self.owner_of_instance = {}
        self._index_owners(top)

    # -- who owns what ---------------------------------------------------------
    def _index_owners(self, group):
        for variable in group.weights:
            self.owner_of_variable[id(variable)] = group
        for item in group.items:
            self._index_item(item, group)

    def _index_item(self, item, group):
        if isinstance(item, Group):
            self._index_owners(item)
        elif isinstance(item, Loop):
            for member in item.items:
                self._index_item(member, group)
        elif item.is_call:
            self.owner_of_instance.setdefault(id(item.instance), group)

    def _member_path(self, start, target_group):
        """Attribute path from group `start` down to `target_group` (None if not below)."""
        chain = []
        group = target_group
        while group is not None and group is not start:
            parent = group.parent
            if parent is None:
                return None
            chain.append(self._attribute_in(parent, group))
            group = parent
        if group is None:
            return None
        return "".join(reversed(chain))

    def _attribute_in(self, parent, child) -> str:
        for item in parent.items:
            if item is child:
                return f".{child.attribute}"
            if isinstance(item, Loop) and child in item.items:
                index = item.items.index(child)
                if parent.sequential:
                    return f".layers[{index}]"
                return f".{item.attribute}[{index}]"
        raise NotConvertible(f"scope {child.name!r} is not a member of {parent.name!r}")

    # -- where each weight lives in the built model ------------------------------------
    def weight_assignments(self, tf1_name) -> list:
        """(TF1 name, shim variable, function(model) -> native variable), for every weight."""
        accessors = {}

        def visit(group, expr):
            for variable in group.weights:
                accessors[id(variable)] = (f"{expr}.{variable.attribute}", None)
            for item in group.items:
                members = item.items if isinstance(item, Loop) else [item]
                for index, member in enumerate(members):
                    if isinstance(item, Loop):
                        path = (f"{expr}.layers[{index}]" if group.sequential
                                else f"{expr}.{item.attribute}[{index}]")
                    else:
                        path = None
                    if isinstance(member, Group):
                        visit(member, path or f"{expr}.{member.attribute}")
                    elif member.is_call and id(member.instance) not in accessors:
                        accessors[id(member.instance)] = (
                            path or f"{expr}.{member.instance.attribute}", member.instance)

        visit(self.top, "model")
        assignments = []
        for key, (expr, instance) in accessors.items():
            if instance is None:
                continue
            for attribute, variable in instance.spec.weights.items():
                if variable is None:
                    continue
                getter = (f"{expr}.weights[{attribute}]" if isinstance(attribute, int)
                          else f"{expr}.{attribute}")
                assignments.append((tf1_name(variable), variable, _finder(getter)))
        for variable in self.forward.raw_variables:
            expr, _ = accessors[id(variable)]
            assignments.append((variable.tf1_name, variable.source, _finder(expr)))
        return assignments

    # -- weights in TF1's creation order -------------------------------------------------
    # Sublayers build on their first call, a group's raw weights in its `build`,
    # which runs before its call. Where TF1 made a raw weight after some of a
    # group's sublayers, those sublayers are built explicitly in `build` first,
    # with their recorded input shapes (as Keras' composite layers do): initial
    # values drawn from one seed sequence (the determinism tool, verify) then
    # fall to the same variables as in TF1.
    def _rank(self, variable) -> float:
        return self.creation_rank.get(id(variable), float("inf"))

    def _first_rank(self, item) -> float:
        if isinstance(item, Node):
            if not item.is_call:
                return float("inf")
            return min((self._rank(v) for v in item.instance.spec.weights.values()
                        if v is not None), default=float("inf"))
        ranks = [self._rank(v.source) for v in getattr(item, "weights", [])]
        ranks += [self._first_rank(member) for member in item.items]
        return min(ranks, default=float("inf"))

    def _creation_units(self, group) -> list:
        """(rank, kind, path, thing) for what makes weights in `group`, TF1 order."""
        units = [(self._rank(v.source), "weight", None, v) for v in group.weights]
        seen = set()
        for item in group.items:
            if isinstance(item, Loop):
                members = [(f"self.{item.attribute}[{i}]", m) for i, m in enumerate(item.items)]
            elif isinstance(item, Group):
                members = [(f"self.{item.attribute}", item)]
            elif item.is_call and self.owner_of_instance.get(id(item.instance)) is group \
                    and id(item.instance) not in seen:
                seen.add(id(item.instance))
                members = [(f"self.{item.instance.attribute}", item)]
            else:
                members = []
            for path, member in members:
                rank = self._first_rank(member)
                if rank != float("inf"):
                    units.append((rank, "layer", path, member))
        units.sort(key=lambda unit: unit[0])
        return units

    def _plan_builds(self, group, explicit):
        """Which of a group's sublayers its `build` builds, and in what order
        (`explicit`: its parent builds it, so all of them)."""
        if group.sequential:
            self.build_plans[id(group)] = []  # a keras.Sequential builds its layers in order
            return
        units = self._creation_units(group)
        weights = [i for i, unit in enumerate(units) if unit[1] == "weight"]
        cut = len(units) if explicit else (weights[-1] + 1 if weights else 0)
        plan = []
        for _, kind, path, thing in units[:cut]:
            if kind == "weight":
                plan.append(("weight", thing))
                continue
            shape = self._build_shape(thing)
            if shape is None:
                self.notes.append(
                    f"{self._member_name(thing)}: built on its first call, so its weights "
                    "come after weights TF1 made later (initial values drawn from one "
                    "seed sequence differ)")
                continue
            plan.append(("build", (path, shape, thing)))
            if isinstance(thing, Group) and not thing.sequential:
                self._plan_builds(thing, explicit=True)
        self.build_plans[id(group)] = plan
        for item in group.items:
            members = item.items if isinstance(item, Loop) else [item]
            for member in members:
                if isinstance(member, Group) and id(member) not in self.build_plans:
                    self._plan_builds(member, explicit=False)

    def _build_shape(self, thing):
        if self.shape_of is None:
            return None
        if isinstance(thing, Node):
            keys = [ref.key for ref in thing.inputs if isinstance(ref, TensorRef)]
        else:
            keys = list(thing.inputs)
        if not keys:
            return None
        try:
            return self.shape_of(keys[0])
        except (KeyError, ValueError):
            return None

    def _build_lines(self, group) -> list:
        lines = []
        for kind, value in self.build_plans.get(id(group), []):
            if kind == "weight":
                lines.append(self._weight_line(value))
                continue
            path, shape, thing = value
            shape_text = self._slot(shape, self._member_name(thing), "input_shape")
            lines.append(f"{path}.build({shape_text})")
        if self._builds_sublayers(group):
            lines.insert(0, "# TF1 made these sublayers' weights before this layer's own: "
                            "built first.")
        return lines

    # -- templates, bottom-up ----------------------------------------------------------
    def write(self) -> str:
        self.build_plans = {}   # id(group) -> [("weight", RawVariable) | ("build", ...)]
        self._plan_builds(self.top, explicit=False)
        if self._builds_sublayers(self.top) and self.input_dtypes is None:
            # The model's build ends with a call on zeros, which needs one input.
            weights = sorted(self.top.weights, key=lambda v: self._rank(v.source))
            self.build_plans[id(self.top)] = [("weight", v) for v in weights]
            self.notes.append(
                "the model's own weights are made in __init__, before the weights of "
                "sublayers TF1 made first (initial values drawn from one seed sequence differ)")
        groups = self._groups_by_height(self.top)
        self.templates = {}
        self.classes = []
        taken_names = {self.class_name} | set(HELPERS)
        for height in sorted(groups):
            by_text = {}
            for group in groups[height]:
                if group is self.top:
                    continue
                template = self._template(group)
                self.templates[id(group)] = template
                by_text.setdefault((template.text, tuple(sorted(template.helpers))),
                                   []).append(template)
            for templates in by_text.values():
                info = self._class_for(templates, taken_names)
                self.classes.append(info)
        top_template = self._template(self.top, is_top=True)
        return self._source(top_template)

    def _groups_by_height(self, root) -> dict:
        heights = {}

        def height(group) -> int:
            children = [g for g in self._child_groups(group)]
            value = 1 + max((height(c) for c in children), default=-1)
            if not group.sequential:
                heights.setdefault(value, []).append(group)
            return value

        height(root)
        return heights

    def _child_groups(self, group):
        for item in group.items:
            if isinstance(item, Group):
                yield item
            elif isinstance(item, Loop):
                yield from (m for m in item.items if isinstance(m, Group))

    def _class_for(self, templates, taken) -> ClassInfo:
        name = _unique(self._class_name(templates), taken)
        first = templates[0]
        info = ClassInfo(name=name, templates=templates)
        # A slot equal in every instance stays a literal; others become arguments.
        vectors = {}
        for index in range(len(first.slots)):
            values = [t.slots[index].value for t in templates]
            if all(_same(values[0], v) for v in values[1:]) or \
                    not all(isinstance(v, _LIFTABLE) for v in values):
                info.literal_slots[index] = values[0]
                continue
            key = tuple(repr(v) for v in values)
            vectors.setdefault(key, []).append(index)
        argument_hints = {}
        for key, indexes in vectors.items():
            member, argument = first.slots[indexes[0]].hint
            argument_hints[tuple(indexes)] = (member, argument)
        counts = {}
        for member, argument in argument_hints.values():
            counts[argument] = counts.get(argument, 0) + 1
        used = set()
        for indexes, (member, argument) in argument_hints.items():
            base_name = argument if counts[argument] == 1 else f"{member}_{argument}"
            param = identifier(base_name)
            while param in used:
                param += "_"
            used.add(param)
            info.params.append((param, list(indexes)))
        for template in templates:
            template.class_info = info
            template.arguments = {param: template.slots[indexes[0]].value
                                  for param, indexes in info.params}
        return info

    def _class_name(self, templates) -> str:
        """After the scopes when they agree (`bottleneck_v1` -> BottleneckV1,
        `block1`, `block2` -> Block), else after what the layer does."""
        group = templates[0].group
        primitive = all(isinstance(i, Node) for i in group.items)
        if primitive and not group.weights and len(group.items) <= 3:
            return "".join(self._label(item) for item in group.items)
        names = sorted({t.group.class_hint or t.group.name for t in templates})
        if len(names) == 1:
            return camel(names[0])
        prefix = _common_prefix(names).rstrip("_0123456789")
        if len(prefix) >= 3:
            return camel(prefix)
        return camel(group.class_hint or group.name)

    def _label(self, item) -> str:
        if isinstance(item, Group):
            template = self.templates.get(id(item))
            return template.class_info.name if template and template.class_info else camel(item.name)
        if isinstance(item, Loop):
            return "Stack"
        if item.is_call:
            name = item.instance.spec.class_name.rsplit(".", 1)[-1]
            return _LABELS.get(name, name)
        return _LABELS.get(item.op_type, item.op_type)

    # -- one group's template -------------------------------------------------------
    def _template(self, group, is_top=False) -> Template:
        slots = []
        helpers = set()
        init_lines = []
        self._slots = slots
        for item in group.items:
            init_lines.extend(self._creation_lines(item, group, helpers))
        build_lines = self._build_lines(group)
        params = self.call_params if is_top else self._group_params(group)
        call_lines = self._call_lines(group, params, is_top)
        text = self._class_body(group, init_lines, build_lines, call_lines, params, is_top)
        scopes = self._scopes(group)
        return Template(group, text, slots, helpers, scopes)

    def _scopes(self, group) -> list:
        path = []
        g = group
        while g is not None and g.name:
            path.append(g.name)
            g = g.parent
        return ["/".join(reversed(path))] if path else []

    def _group_params(self, group) -> list:
        if len(group.inputs) == 1:
            return ["inputs"]
        return [f"inputs_{i + 1}" for i in range(len(group.inputs))]

    def _slot(self, value, member, argument) -> str:
        self._slots.append(Slot(value, (member, argument)))
        return _SLOT.format(len(self._slots) - 1)

    def _creation_lines(self, item, group, helpers) -> list:
        if isinstance(item, Node):
            if not item.is_call or getattr(item.instance, "_created_in", None) is group:
                return []
            item.instance._created_in = group
            return [f"self.{item.instance.attribute} = {self._layer_expr(item.instance, helpers)}"]
        if isinstance(item, Loop):
            elements = [self._member_expr(m, helpers) for m in item.items]
            return [f"self.{item.attribute} = [", *[f"    {e}," for e in elements], "]"]
        return [f"self.{item.attribute} = {self._member_expr(item, helpers)}"]

    def _member_expr(self, item, helpers) -> str:
        if isinstance(item, Node):
            return self._layer_expr(item.instance, helpers)
        if item.sequential:
            loop = item.items[0]
            inner = ", ".join(self._member_expr(m, helpers) for m in loop.items)
            return f"keras.Sequential([{inner}], name={literal(item.name)})"
        template = self.templates[id(item)]
        info = template.class_info
        helpers.update(template.helpers)
        args = [f"{param}={self._slot(template.arguments[param], item.name, param)}"
                for param, _ in info.params]
        return f"{info.name}({', '.join(args + [f'name={literal(item.name)}'])})"

    def _layer_expr(self, instance, helpers) -> str:
        spec = instance.spec
        helpers.update(spec.helpers)
        args = []
        member = instance.attribute
        for index, (key, value) in enumerate(spec.args.items()):
            if isinstance(value, Code):
                text = str(value)
            else:
                try:
                    literal(value)
                except NotConvertible as error:
                    self.unsupported.append((instance, str(error)))
                    text = "None"
                else:
                    text = self._slot(value, member, key)
            positional = index == 0 and (
                key in ("units", "filters", "rate", "pool_size", "kernel_size")
                and not isinstance(value, Code) or key in ("cell", "layer"))
            args.append(text if positional else f"{key}={text}")
        args.append(f"name={literal(instance.name)}")
        return f"{spec.class_name}({', '.join(args)})"

    def _weight_line(self, variable) -> str:
        parts = [f"name={literal(_basename(variable.tf1_name))}", f"shape={literal(variable.shape)}",
                 f"initializer={variable.initializer}"]
        if variable.dtype != "float32":
            parts.append(f"dtype={literal(variable.dtype)}")
        if not variable.trainable:
            parts.append("trainable=False")
        if variable.regularizer is not None:
            parts.append(f"regularizer={variable.regularizer}")
        if variable.constraint is not None:
            parts.append(f"constraint={variable.constraint}")
        return f"self.{variable.attribute} = self.add_weight({', '.join(parts)})"

    # -- call bodies ---------------------------------------------------------------
    def _call_lines(self, group, params, is_top) -> list:
        body = _Body(params)
        if is_top:
            for key, expr in self.input_exprs.items():
                body.names[key] = expr
        else:
            for key, param in zip(group.inputs, params):
                body.names[key] = Expr(param)
        statements = list(group.items)
        last_use = self._last_uses(group, statements)
        for position, item in enumerate(statements):
            self._statement(body, group, item, position, last_use)
        outputs = self.model_outputs_exprs(body) if is_top else [
            body.names[key].text for key in group.outputs]
        if is_top:
            returned = outputs
        else:
            returned = ", ".join(outputs)
        last = body.lines[-1] if body.lines else ""
        match = re.match(r"^(\w+) = (.*)$", last)
        if match and match.group(1) == returned and not last.startswith(" "):
            body.lines[-1] = f"return {match.group(2)}"
        else:
            body.lines.append(f"return {returned}")
        return body.lines

    def model_outputs_exprs(self, body) -> str:
        flat = []
        for ref in self.forward.outputs:
            flat.append(self._ref_text(body, None, ref))
        structure = self.forward.output_structure
        if tf.is_tensor(structure) or not isinstance(structure, (list, tuple, dict)):
            return flat[0]
        packed = tf.nest.pack_sequence_as(structure, [Code(t) for t in flat])
        return literal(packed) if not isinstance(packed, tuple) else ", ".join(
            str(p) for p in packed) if len(packed) > 1 else f"{packed[0]},"

    def _last_uses(self, group, statements) -> dict:
        last = {}
        for position, item in enumerate(statements):
            for key in self._item_inputs(item):
                last[key] = position
        for key in (group.outputs if group is not self.top else self.model_outputs):
            last[key] = len(statements)
        return last

    def _item_inputs(self, item) -> list:
        if isinstance(item, Node):
            return [r.key for r in item.inputs if isinstance(r, TensorRef)]
        if isinstance(item, Loop):
            first = item.items[0]
            return self._item_inputs(first)
        return list(item.inputs)

    def _item_outputs(self, item) -> list:
        if isinstance(item, Node):
            return [k for k in item.outputs if k]
        if isinstance(item, Loop):
            return self._item_outputs(item.items[-1])
        return list(item.outputs)

    def _inline(self, node, group) -> bool:
        if node.is_call or len(node.outputs) != 1 or node.op_type in MULTI_OUTPUT:
            return False
        return self.consumers.get(node.outputs[0], 0) == 1 and not node.unsupported

    def _chain_name(self, body, item, position, last_use):
        """The name a chain carries on (x = conv(inputs); x = norm(x); ...):
        the item's first input, when this is its last use, even through an
        inlined op (`x = conv(tf.pad(x, ...))`)."""
        inputs = self._item_inputs(item)
        if not inputs:
            return None
        first = inputs[0]
        expr = body.names.get(first)
        if expr is not None and expr.text.isidentifier() and last_use.get(first, -1) == position:
            return expr.text
        if last_use.get(first, -1) == position:
            return body.chains.get(first)
        return None

    def _name_for(self, body, item, position, last_use, hint) -> str:
        candidate = self._chain_name(body, item, position, last_use)
        if candidate is not None and self._read_later(body, candidate, position, last_use):
            candidate = None
        if candidate is not None:
            if candidate not in body.params or candidate == "x":
                return candidate
            if "x" not in body.used:
                body.used.add("x")
                return "x"
        return body.fresh(hint)

    @staticmethod
    def _read_later(body, name, position, last_use) -> bool:
        """Whether a value used after this step is written with `name` in it
        (an inlined expression waiting for its consumer, `tf.sin(x)`):
        assigning `name` now would change what that expression reads."""
        pattern = re.compile(rf"\b{re.escape(name)}\b")
        return any(last_use.get(key, -1) > position and pattern.search(expr.text)
                   for key, expr in body.names.items())

    def _statement(self, body, group, item, position, last_use):
        if isinstance(item, Node) and not item.is_call:
            self._op_statement(body, group, item, position, last_use)
            return
        if isinstance(item, Loop):
            member = item.items[0]
            arguments = self._argument_texts(body, group, member)
            element = identifier(stem(self._member_name(member)).lower().rstrip("_") or "layer")
            if element in body.used:
                element = body.fresh(element)
            else:
                body.used.add(element)
            name = self._name_for(body, item, position, last_use, "x")
            kwargs = self._call_kwargs(member)
            if arguments[0] != name:
                body.lines.append(f"{name} = {arguments[0]}")
            body.lines.append(f"for {element} in self.{item.attribute}:")
            body.lines.append(f"    {name} = {element}({', '.join([name] + kwargs)})")
            body.names[self._item_outputs(item)[0]] = Expr(name)
            return
        if isinstance(item, Node) and item.instance.spec.write_call is not None:
            self._written_call(body, group, item, position, last_use)
            return
        if isinstance(item, Node):
            target = f"self.{item.instance.attribute}"
            arguments = self._argument_texts(body, group, item)
            if item.input_structure is not None:
                packed = tf.nest.pack_sequence_as(item.input_structure,
                                                  [Code(a) for a in arguments])
                arguments = [literal(packed)]
            hint = item.instance.attribute
        else:
            target = f"self.{item.attribute}"
            arguments = self._argument_texts(body, group, item)
            hint = item.attribute
        call = f"{target}({', '.join(arguments + self._call_kwargs(item))})"
        outputs = self._item_outputs(item)
        if isinstance(item, Node) and not tf.is_tensor(item.output_structure) and \
                item.output_structure is not None:
            names = [body.fresh(f"{hint}_{i}") for i in range(len(outputs))]
            body.lines.append(f"{', '.join(names)} = {call}")
            for key, name in zip(item.outputs, names):
                if key:
                    body.names[key] = Expr(name)
            return
        if len(outputs) == 1:
            name = self._name_for(body, item, position, last_use, hint)
            body.lines.append(f"{name} = {call}")
            body.names[outputs[0]] = Expr(name)
        else:
            names = [body.fresh(f"{hint}_{i}") for i in range(len(outputs))]
            body.lines.append(f"{', '.join(names)} = {call}")
            for key, name in zip(outputs, names):
                body.names[key] = Expr(name)

    def _written_call(self, body, group, node, position, last_use):
        """A layer whose spec writes its own call (an RNN: masks, states,
        transposes); it returns the statements and each output's source."""
        kwargs = self._call_kwargs(node)
        writing = CallWriting(
            target=f"self{self._instance_path(group, node.instance)}",
            arguments=self._argument_texts(body, group, node),
            used=[bool(key) and self.consumers.get(key, 0) > 0 for key in node.outputs],
            training=kwargs[0] if kwargs else "", fresh=body.fresh,
            chain=lambda hint: self._name_for(body, node, position, last_use, hint))
        lines, outputs = node.instance.spec.write_call(writing)
        body.lines.extend(lines)
        for key, text in zip(node.outputs, outputs):
            if key and text is not None:
                body.names[key] = Expr(text)

    def _instance_path(self, group, instance) -> str:
        owner = self.owner_of_instance[id(instance)]
        return f"{self._member_path(group, owner)}.{instance.attribute}"

    def _member_name(self, item) -> str:
        return item.name if isinstance(item, Group) else item.instance.name

    def _call_kwargs(self, item) -> list:
        if isinstance(item, Node):
            training = item.call_kwargs.get("training", None)
            if training is TRAINING:
                return ["training=training"]
            if isinstance(training, bool):
                return [f"training={training}"]
            return []
        if isinstance(item, Group) and item.uses_training:
            return ["training=training"]
        return []

    def _argument_texts(self, body, group, item) -> list:
        if isinstance(item, Node):
            return [self._ref_text(body, group, ref) for ref in item.inputs]
        return [body.names[key].text for key in item.inputs]

    def _ref_text(self, body, group, ref) -> str:
        return self._ref_expr(body, group, ref).text

    def _ref_expr(self, body, group, ref) -> Expr:
        if isinstance(ref, TensorRef):
            expr = body.names.get(ref.key)
            if expr is None:
                if not self.forward.unsupported:
                    raise AssertionError(f"to_keras: value {ref.key} is used before it is set")
                return Expr("None")  # downstream of something reported as unsupported
            return expr
        if isinstance(ref, ConstRef):
            return Expr(_constant_text(ref.value))
        if isinstance(ref, VariableRef):
            return Expr(self._variable_text(group, ref.variable))
        raise NotConvertible(f"unknown reference {ref!r}")

    def _variable_text(self, group, variable) -> str:
        group = group if group is not None else self.top
        if isinstance(variable, RawVariable):
            owner = self.owner_of_variable[id(variable)]
            path = self._member_path(group, owner)
            return f"self{path}.{variable.attribute}"
        instance, attribute = variable
        owner = self.owner_of_instance[id(instance)]
        path = self._member_path(group, owner)
        if isinstance(attribute, int):
            return f"self{path}.{instance.attribute}.weights[{attribute}]"
        return f"self{path}.{instance.attribute}.{attribute}"

    def _op_statement(self, body, group, node, position, last_use):
        if node.unsupported:
            body.lines.append(f"raise NotImplementedError({literal(_unsupported_message(node))})")
            for key in node.outputs:
                body.names[key] = Expr("None")
            return
        args = []
        for ref in node.inputs:
            value = ref.value if isinstance(ref, ConstRef) else None
            args.append(Arg(self._ref_expr(body, group, ref), value))
        try:
            expr = (node.emit(args) if node.emit is not None
                    else EMITTERS[node.op_type](node.op, args))
        except NotConvertible as error:
            node.unsupported = str(error)
            self.unsupported.append((node, str(error)))
            body.lines.append(f"raise NotImplementedError({literal(_unsupported_message(node))})")
            for key in node.outputs:
                body.names[key] = Expr("None")
            return
        if node.op_type in MULTI_OUTPUT:
            names = [body.fresh(f"{_snake(node.op_type)}_{i}") for i in range(len(node.outputs))]
            body.lines.append(f"{', '.join(names)} = {expr.text}")
            for key, name in zip(node.outputs, names):
                body.names[key] = Expr(name)
            return
        key = node.outputs[0]
        if self._inline(node, group) and len(expr.text) <= _INLINE_LIMIT:
            body.names[key] = expr
            chain = self._chain_name(body, node, position, last_use)
            if chain is not None:
                body.chains[key] = chain
            return
        name = self._name_for(body, node, position, last_use, _op_hint(node.op_type))
        body.lines.append(f"{name} = {expr.text}")
        body.names[key] = Expr(name)

    # -- the class text ----------------------------------------------------------
    def _class_body(self, group, init_lines, build_lines, call_lines, params, is_top) -> str:
        lines = []
        top_builds = is_top and self._builds_sublayers(group)
        if is_top:
            lines.append(f"def __init__(self, name={literal(self.top_name)}, **kwargs):")
            lines.append("    super().__init__(name=name, **kwargs)")
            if not top_builds:
                # The model is never nested: its own weights can be made right away.
                lines.extend(f"    {line}" for line in build_lines)
        else:
            lines.append("def __init__(self, **kwargs):")
            lines.append("    super().__init__(**kwargs)")
        lines.extend(f"    {line}" for line in init_lines)
        if not is_top:
            # An explicit build keeps Keras from tracing this layer symbolically to
            # build its sublayers: they build on their first call. (Nested default
            # builds trace each level again, doubling the cost per level.)
            lines.append("")
            lines.append("def build(self, input_shape):")
            lines.extend(f"    {line}" for line in build_lines or ["pass  # sublayers build on their first call"])
        if top_builds:
            lines.extend(self._typed_build(self.input_dtypes, build_lines + [
                "# The other sublayers build on one call (as when a .keras file loads)."]))
        elif is_top and self.integer_inputs is not None:
            lines.extend(self._typed_build(self.integer_inputs, [
                "# Integer inputs: Keras' own build would call the model on float32 ones."]))
        signature = ", ".join(["self"] + list(params) + (
            ["training=None"] if (group.uses_training or (is_top and self.takes_training))
            else []))
        lines.append("")
        lines.append(f"def call({signature}):")
        lines.extend(f"    {line}" for line in call_lines)
        return "\n".join(lines)

    takes_training = False
    input_dtypes = None  # dtypes of a one-argument call (a tensor or a dict of them)

    @property
    def integer_inputs(self):
        """The input dtypes when some are not floats (ids), else None."""
        dtypes = self.input_dtypes
        if dtypes is None or all(d.is_floating for d in tf.nest.flatten(dtypes)):
            return None
        return dtypes

    def _builds_sublayers(self, group) -> bool:
        return any(kind == "build" for kind, _ in self.build_plans.get(id(group), []))

    def _typed_build(self, dtypes, first_lines) -> list:
        """A build that ends with one call on zeros of the inputs' dtypes, so
        every sublayer is built (as when a `.keras` file loads): Keras' own
        build would trace `call` on float32 inputs."""
        def zeros(dtype, shape):
            return f"tf.zeros([d or 1 for d in {shape}], tf.{dtype.name})"

        if isinstance(dtypes, dict):
            inputs = "{" + ", ".join(f"{literal(k)}: {zeros(d, f'input_shape[{literal(k)}]')}"
                                     for k, d in dtypes.items()) + "}"
        else:
            inputs = zeros(dtypes, "input_shape")
        training = ", training=False" if self.takes_training else ""
        return ["", "def build(self, input_shape):", *[f"    {line}" for line in first_lines],
                f"    self.call({inputs}{training})"]

    # -- the whole file -------------------------------------------------------------
    def _source(self, top_template) -> str:
        helpers = set(top_template.helpers)
        for info in self.classes:
            for template in info.templates:
                helpers.update(template.helpers)
        parts = [_HEADER.format(name=self.class_name), "import keras",
                 "import tensorflow as tf", ""]
        for helper in sorted(helpers):
            parts.append("")
            parts.append(HELPERS[helper].format(package=self.package).rstrip())
            parts.append("")
        for info in self.classes:
            parts.append("")
            parts.append(self._class_text(info))
            parts.append("")
        parts.append("")
        parts.append(self._top_text(top_template))
        parts.append("")
        return wrap("\n".join(parts))

    def _register(self) -> str:
        return f"@keras.saving.register_keras_serializable(package={literal(self.package)})"

    def _class_text(self, info) -> str:
        first = info.templates[0]
        scopes = [s for t in info.templates for s in t.scopes]
        doc = _docstring(scopes)
        text = _SLOT_PATTERN.sub(
            lambda m: self._slot_text(info, int(m.group(1))), first.text)
        lines = text.split("\n")
        params = [p for p, _ in info.params]
        if params:
            lines[0] = f"def __init__(self, {', '.join(params)}, **kwargs):"
            stored = [f"    self.{p} = {p}" for p in params]
            lines[2:2] = stored
            lines += ["", "def get_config(self):", "    config = super().get_config()",
                      "    config.update(" + ", ".join(f"{p}=self.{p}" for p in params) + ")",
                      "    return config"]
        body = "\n".join(f"    {line}" if line else "" for line in doc.split("\n") + [""] + lines)
        return f"{self._register()}\nclass {info.name}(keras.layers.Layer):\n{body}"

    def _slot_text(self, info, index) -> str:
        if index in info.literal_slots:
            return literal(info.literal_slots[index])
        for param, indexes in info.params:
            if index in indexes:
                return param
        raise AssertionError(f"slot {index} of {info.name} has no value")

    def _top_text(self, template) -> str:
        values = {i: slot.value for i, slot in enumerate(template.slots)}
        text = _SLOT_PATTERN.sub(lambda m: literal(values[int(m.group(1))]), template.text)
        doc = _docstring(template.scopes, top=True)
        body = "\n".join(f"    {line}" if line else ""
                         for line in doc.split("\n") + [""] + text.split("\n"))
        return f"{self._register()}\nclass {self.class_name}(keras.Model):\n{body}"


_HEADER = '''"""{name}: a native Keras 3 model converted from TF1 code.

The weights of a TF1 checkpoint map onto it by the conversion's weight map
(TF1 variable name -> Keras variable path).
"""
'''


def _docstring(scopes, top=False) -> str:
    if not scopes:
        return '"""The converted TF1 forward pass."""' if top else '"""Converted TF1 layers."""'
    shown = ", ".join(f"`{s}`" for s in scopes[:2])
    more = f" and {len(scopes) - 2} more" if len(scopes) > 2 else ""
    label = "scope" if len(scopes) == 1 else "scopes"
    text = f"The TF1 {label} {shown}{more}."
    lines = textwrap.wrap(f'"""{text}"""', width=_DOC_WIDTH)
    return "\n".join(lines)


def _finder(expression: str):
    code = compile(expression, "<weight>", "eval")
    return lambda model: eval(code, {"model": model})  # noqa: S307 - our own attribute path


_LABELS = {"FusedBatchNormalization": "BatchNorm", "BatchNormalization": "BatchNorm",
           "MaxPooling1D": "MaxPool", "MaxPooling2D": "MaxPool", "MaxPooling3D": "MaxPool",
           "AveragePooling1D": "AvgPool", "AveragePooling2D": "AvgPool",
           "AveragePooling3D": "AvgPool", "AddV2": "Add", "ConcatV2": "Concat",
           "BiasAdd": "BiasAdd", "MatMul": "MatMul", "RealDiv": "Div"}


def _common_prefix(names) -> str:
    first, last = min(names), max(names)
    length = 0
    while length < min(len(first), len(last)) and first[length] == last[length]:
        length += 1
    return first[:length]


def _unique(base: str, taken: set) -> str:
    """BottleneckV1, BottleneckV1B, ... / Block, Block2, ..."""
    name, number = base, 1
    while name in taken:
        number += 1
        name = f"{base}{chr(ord('A') + number - 1)}" if base[-1].isdigit() else f"{base}{number}"
    taken.add(name)
    return name


def _basename(path: str) -> str:
    return path.rsplit("/", 1)[-1]


def _same(a, b) -> bool:
    return type(a) is type(b) and repr(a) == repr(b)


def _op_hint(op_type: str) -> str:
    return {"ConcatV2": "concat", "AddV2": "add", "RealDiv": "div", "BiasAdd": "bias_add",
            "MatMul": "matmul", "Mean": "mean", "Reshape": "reshape"}.get(
        op_type, _snake(op_type))


def _constant_text(value) -> str:
    value = np.asarray(value)
    if value.ndim == 0:
        item = value.item()
        if isinstance(item, bytes):
            item = item.decode()
        return literal(item)
    dtype = tf.as_dtype(value.dtype).name
    return f"tf.constant({literal(value.tolist())}, dtype=tf.{dtype})"


def _unsupported_message(node) -> str:
    return f"{node.location}: {node.op_type}: {node.unsupported}"
