"""The shape of the native model: which TF1 scopes become which Keras layers.

Each TF1 scope that holds more than one step becomes a custom Keras layer
named after it: its converted layers are created in its `__init__`, its raw
`get_variable` weights with `add_weight`, and its `call` runs its steps.

* An op runs in the scope its graph name says; an op that reads a raw weight
  read nowhere else runs in that weight's scope (the "small custom layer
  owning those weights").
* A scope holding a single step is that step (`unit_1` -> its bottleneck).
* Scopes that would call each other back and forth (a scope re-entered
  later, say) are merged into their parent.
* Consecutive sibling scopes with numbered names, each feeding the next
  (`unit_1`, `unit_2`, ... or `block`, `block_1`, ...), are what a Python
  loop built: they stay a loop over a list, or a `keras.Sequential` when
  they are all their parent does.
"""

from __future__ import annotations

import dataclasses
import re

from tf1kit.convert.ir import Node, RawVariable, TensorRef, VariableRef


class _HoldsNodes:
    """What Group and Loop share: their layer calls, and the first one's order."""

    def walk_nodes(self):
        for item in self.items:
            if isinstance(item, Node):
                yield item
            else:
                yield from item.walk_nodes()

    @property
    def order(self) -> int:
        return min((n.order for n in self.walk_nodes()), default=0)


@dataclasses.dataclass(eq=False)
class Group(_HoldsNodes):
    """A TF1 scope that becomes a custom Keras layer (or the model itself)."""

    name: str
    parent: Group | None = None
    items: list = dataclasses.field(default_factory=list)   # Node | Group | Loop
    weights: list = dataclasses.field(default_factory=list)  # RawVariable
    class_hint: str = ""
    sequential: bool = False
    # Filled by `connect`:
    inputs: list = dataclasses.field(default_factory=list)   # tensor keys
    outputs: list = dataclasses.field(default_factory=list)  # tensor keys
    uses_training: bool = False


@dataclasses.dataclass(eq=False)
class Loop(_HoldsNodes):
    """Consecutive numbered siblings, each feeding the next: a Python loop."""

    items: list           # Group | Node (layer calls)
    attribute: str
    parent: Group | None = None

    @property
    def name(self) -> str:
        return self.attribute


def _dirname(path: str) -> str:
    return path.rsplit("/", 1)[0] if "/" in path else ""


def _basename(path: str) -> str:
    return path.rsplit("/", 1)[-1]


def _lca(paths) -> str:
    split = [p.split("/") if p else [] for p in paths]
    common = []
    for parts in zip(*split):
        if all(p == parts[0] for p in parts):
            common.append(parts[0])
        else:
            break
    return "/".join(common)


# -- placement -------------------------------------------------------------------

def build_tree(forward) -> Group:
    """Groups nodes and raw weights by scope, then simplifies the tree."""
    reads = {}
    for node in forward.nodes:
        for ref in node.inputs:
            if isinstance(ref, VariableRef) and isinstance(ref.variable, RawVariable):
                reads[id(ref.variable)] = reads.get(id(ref.variable), 0) + 1
    instance_group = {}
    for node in forward.nodes:
        if node.is_call:
            instance_group[id(node.instance)] = _dirname(node.instance.scope)
    placement = {}
    for node in forward.nodes:
        if node.is_call:
            placement[node] = _dirname(node.instance.scope)
            continue
        owners = []
        for ref in node.inputs:
            if isinstance(ref, VariableRef):
                variable = ref.variable
                if isinstance(variable, RawVariable):
                    owners.append((variable.scope, reads.get(id(variable), 0) == 1))
                else:
                    owners.append((instance_group.get(id(variable[0]), ""), False))
        if owners and len({o for o, _ in owners}) == 1 and all(single for _, single in owners):
            placement[node] = owners[0][0]
        elif owners:
            placement[node] = _lca([node.scope] + [o for o, _ in owners])
        else:
            placement[node] = node.scope
    paths = set(placement.values()) | {v.scope for v in forward.raw_variables}
    # A layer whose own scope holds other steps runs inside that scope.
    for node, path in list(placement.items()):
        if node.is_call and node.instance.scope in paths:
            placement[node] = node.instance.scope
            node.instance.name = node.instance.spec.short_name
    groups = {"": Group(name="")}

    def group_for(path):
        if path not in groups:
            parent = group_for(_dirname(path))
            group = Group(name=_basename(path), parent=parent)
            parent.items.append(group)
            groups[path] = group
        return groups[path]

    for node in sorted(forward.nodes, key=lambda n: n.order):
        group = group_for(placement[node])
        group.items.append(node)
        if node.is_call and not node.instance.name:
            node.instance.name = _basename(node.instance.scope) or node.instance.spec.short_name
    for variable in forward.raw_variables:
        variable.member_name = _basename(variable.tf1_name)
        group_for(variable.scope).weights.append(variable)
    root = groups[""]
    _untangle(root)
    _collapse(root)
    _name_members(root)
    return root


# -- cycles: merge scopes that call each other back and forth ---------------------

def _producers(item) -> set:
    nodes = [item] if isinstance(item, Node) else list(item.walk_nodes())
    return {key for node in nodes for key in node.outputs if key}


def _consumed(item) -> list:
    nodes = [item] if isinstance(item, Node) else list(item.walk_nodes())
    return [ref.key for node in nodes for ref in node.inputs if isinstance(ref, TensorRef)]


def _item_edges(items):
    produced_by = {}
    for index, item in enumerate(items):
        for key in _producers(item):
            produced_by[key] = index
    edges = {i: set() for i in range(len(items))}
    for index, item in enumerate(items):
        for key in _consumed(item):
            source = produced_by.get(key)
            if source is not None and source != index:
                edges[source].add(index)
    return edges


def _cycle_members(edges) -> set:
    """Items on a cycle (Tarjan's strongly connected components)."""
    index_of, low, stack, on_stack, members = {}, {}, [], set(), set()
    counter = [0]

    def visit(v):
        index_of[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on_stack.add(v)
        for w in edges[v]:
            if w not in index_of:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index_of[w])
        if low[v] == index_of[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                members.update(component)

    for v in edges:
        if v not in index_of:
            visit(v)
    return members


def _untangle(group):
    while True:
        edges = _item_edges(group.items)
        on_cycle = [group.items[i] for i in _cycle_members(edges)
                    if isinstance(group.items[i], Group)]
        if not on_cycle:
            break
        for child in on_cycle:
            _dissolve(child)
    for item in group.items:
        if isinstance(item, Group):
            _untangle(item)


def _dissolve(child):
    """Moves a scope's steps and weights up into its parent."""
    parent = child.parent
    position = parent.items.index(child)
    moved = []
    for item in child.items:
        if isinstance(item, Group):
            item.parent = parent
            item.name = f"{child.name}_{item.name}"
        elif item.is_call and item.instance.name and not item.instance.name.startswith(
                f"{child.name}_"):
            item.instance.name = f"{child.name}_{item.instance.name}"
        moved.append(item)
    parent.items[position:position + 1] = moved
    for variable in child.weights:
        variable.member_name = f"{child.name}_{variable.member_name}"
        parent.weights.append(variable)


# -- a scope with one step is that step ---------------------------------------------

def _collapse(group):
    for item in group.items:
        if isinstance(item, Group):
            _collapse(item)
    for index, item in enumerate(group.items):
        if not isinstance(item, Group) or item.weights or len(item.items) != 1:
            continue
        only = item.items[0]
        if isinstance(only, Group):
            only.class_hint = only.class_hint or only.name
            only.name = item.name
            only.parent = group
            group.items[index] = only
        elif only.is_call and _instance_calls(group, only.instance) == 1:
            only.instance.name = item.name
            group.items[index] = only


def _instance_calls(group, instance) -> int:
    root = group
    while root.parent is not None:
        root = root.parent
    return sum(1 for node in root.walk_nodes() if node.instance is instance)


def collapse_root(root) -> Group:
    """The model is its one top-level scope when there is nothing else."""
    if len(root.items) == 1 and isinstance(root.items[0], Group) and not root.weights:
        top = root.items[0]
        top.parent = None
        return top
    return root


# -- names of members (attributes) --------------------------------------------------

_RESERVED = {"self", "tf", "keras", "training", "inputs", "call", "build", "name", "weights",
             "layers", "losses", "trainable", "dtype", "input", "output", "variables",
             "get_config", "built", "add_weight", "metrics", "optimizer", "summary", "save"}


def identifier(name: str) -> str:
    """A Python identifier from a TF1 scope name ("Conv2d_1a_7x7" stays as it is)."""
    text = re.sub(r"\W", "_", name) or "layer"
    if text[0].isdigit():
        text = f"layer_{text}"
    import keyword

    if keyword.iskeyword(text) or text in _RESERVED:
        text = f"{text}_"
    return text


def _name_members(group):
    """Unique attribute names for a group's layers, child groups and weights."""
    taken = set()

    def claim(base):
        candidate, suffix = identifier(base), 1
        while candidate in taken:
            suffix += 1
            candidate = f"{identifier(base)}_{suffix}"
        taken.add(candidate)
        return candidate

    seen_instances = set()
    for item in group.items:
        if isinstance(item, Group):
            item.attribute = claim(item.name)
            _name_members(item)
        elif item.is_call and id(item.instance) not in seen_instances:
            seen_instances.add(id(item.instance))
            item.instance.attribute = claim(item.instance.name)
    for variable in group.weights:
        variable.attribute = claim(variable.member_name)


# -- order, inputs and outputs --------------------------------------------------------

def order_items(group):
    """Topological order of a group's steps, creation order among equals."""
    items = group.items
    edges = _item_edges(items)
    indegree = {i: 0 for i in range(len(items))}
    for source, targets in edges.items():
        for target in targets:
            indegree[target] += 1
    ready = sorted((i for i, d in indegree.items() if d == 0), key=lambda i: items[i].order)
    ordered = []
    while ready:
        current = ready.pop(0)
        ordered.append(items[current])
        for target in edges[current]:
            indegree[target] -= 1
            if indegree[target] == 0:
                ready.append(target)
        ready.sort(key=lambda i: items[i].order)
    group.items = ordered
    for item in group.items:
        if isinstance(item, Group):
            order_items(item)


def connect(group, model_outputs, training_nodes):
    """Each group's inputs (values it reads from outside) and outputs."""
    def produced(item):
        return _producers(item)

    all_nodes = list(group.walk_nodes())
    consumed_by = {}
    for node in all_nodes:
        for ref in node.inputs:
            if isinstance(ref, TensorRef):
                consumed_by.setdefault(ref.key, []).append(node)

    def assign(g):
        inside = set(id(n) for n in g.walk_nodes())
        made = produced(g)
        inputs, seen = [], set()
        for node in sorted(g.walk_nodes(), key=lambda n: n.order):
            for ref in node.inputs:
                if isinstance(ref, TensorRef) and ref.key not in made and ref.key not in seen:
                    seen.add(ref.key)
                    inputs.append(ref.key)
        outputs = []
        for node in sorted(g.walk_nodes(), key=lambda n: n.order):
            for key in node.outputs:
                if not key:
                    continue
                used_outside = any(id(c) not in inside for c in consumed_by.get(key, []))
                if used_outside or key in model_outputs:
                    outputs.append(key)
        g.inputs, g.outputs = inputs, outputs
        g.uses_training = any(id(n) in training_nodes for n in g.walk_nodes())
        for item in g.items:
            if isinstance(item, Group):
                assign(item)
            elif isinstance(item, Loop):
                for member in item.items:
                    if isinstance(member, Group):
                        assign(member)

    assign(group)


# -- loops ----------------------------------------------------------------------------

_NUMBERED = re.compile(r"^(.*?)_?(\d+)$")


def stem(name: str) -> str:
    match = _NUMBERED.match(name)
    return match.group(1) if match and match.group(1) else name


def find_loops(group):
    """Replaces runs of numbered siblings that feed each other with a Loop."""
    for item in group.items:
        if isinstance(item, Group):
            find_loops(item)
    items, result, i = group.items, [], 0
    while i < len(items):
        run = [items[i]]
        j = i + 1
        while j < len(items) and _continues(run[-1], items[j], run[0]):
            run.append(items[j])
            j += 1
        if len(run) >= 2 and _closes(run, items[j:], group):
            loop = Loop(items=run, attribute=_loop_attribute(group, run), parent=group)
            result.append(loop)
        else:
            result.extend(run[:1])
            j = i + 1
        i = j
    group.items = result
    if len(result) == 1 and isinstance(result[0], Loop) and group.parent is not None \
            and not group.weights and len(group.inputs) == 1 and len(group.outputs) == 1:
        group.sequential = True


def _loop_attribute(group, run) -> str:
    taken = {getattr(i, "attribute", "") for i in group.items if isinstance(i, (Group, Loop))}
    taken |= {i.instance.attribute for i in group.items if isinstance(i, Node) and i.is_call}
    taken |= {v.attribute for v in group.weights}
    base = identifier(stem(_member_name(run[0])).lower().rstrip("_") + "s")
    name, number = base, 1
    while name in taken:
        number += 1
        name = f"{base}_{number}"
    return name


def _member_name(item) -> str:
    return item.name if isinstance(item, Group) else item.instance.name


def _single_io(item):
    if isinstance(item, Group):
        return (item.inputs[0], item.outputs[0]) if len(item.inputs) == 1 and \
            len(item.outputs) == 1 else None
    # (A layer that writes its own call, an RNN with masks or transposes, is
    # not a plain `x = layer(x)` step.)
    if isinstance(item, Node) and item.is_call and len(item.outputs) == 1 and \
            len([r for r in item.inputs if isinstance(r, TensorRef)]) == 1 and \
            len(item.inputs) == 1 and item.instance.spec.write_call is None:
        return item.inputs[0].key, item.outputs[0]
    return None


def _entry(item):
    """The line of the user's code that made this member: the innermost of
    the frames that all of its steps share."""
    nodes = [item] if isinstance(item, Node) else list(item.walk_nodes())
    common = None
    for node in nodes:
        frames = node.frames()
        if common is None:
            common = frames
            continue
        length = 0
        for a, b in zip(common, frames):
            if a != b:
                break
            length += 1
        common = common[:length]
    from tf1kit.convert.recording import is_library_file

    users = [frame for frame in common or [] if not is_library_file(frame[0])]
    return users[-1] if users else None


def _numbered(name: str) -> bool:
    return _NUMBERED.match(name) is not None


def _continues(previous, item, first) -> bool:
    """`item` takes exactly `previous`'s output, and has the run's name stem."""
    if isinstance(item, Loop) or isinstance(previous, Loop):
        return False
    a, b = _single_io(previous), _single_io(item)
    if a is None or b is None or b[0] != a[1]:
        return False
    name_a, name_b = _member_name(first), _member_name(item)
    if stem(name_a) != stem(name_b) or not (_numbered(name_b) or _numbered(name_a)):
        return False
    # Entered from the same line of code: a Python loop, not siblings written out.
    entry = _entry(item)
    if entry is None or entry != _entry(first):
        return False
    if isinstance(item, Node) and isinstance(first, Node):
        return item.call_kwargs.keys() == first.call_kwargs.keys()
    return isinstance(item, Group) == isinstance(first, Group)


def _closes(run, rest, group) -> bool:
    """The values inside the run are used only by the next member."""
    for previous, item in zip(run, run[1:]):
        key = _single_io(previous)[1]
        for other in rest + [i for i in group.items if i not in run]:
            if key in _consumed(other):
                return False
        if key in group.outputs:
            return False
    return True
