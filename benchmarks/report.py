"""The markdown report of one benchmark run."""

from benchmarks.summarize import FIGURES

LABELS = {
    "eager_call_b1_ms": "eager call, batch 1 (ms)",
    "eager_call_b1_cpu_ms": "eager call, batch 1, thread CPU time (ms)",
    "eager_forward_b16_ms": "eager forward, batch 16 (ms)",
    "function_forward_b16_ms": "`tf.function` forward, batch 16 (ms)",
    "gradient_step_b16_ms": "`tf.function` forward+gradients, no optimizer (ms)",
    "train_step_b16_ms": "`tf.function` train step, batch 16 (ms)",
    "trace_forward_ms": "trace: first `tf.function` forward (ms)",
    "trace_train_step_ms": "trace: first train step (ms)",
    "first_call_ms": "first eager call, creates variables (ms)",
    "peak_memory_mb": "peak RSS over post-import baseline (MB)",
    "variables": "variables",
    "forward_graph_ops": "ops in the traced forward graph",
    "train_graph_ops": "ops in the traced train-step graph",
}


def markdown(result: dict) -> str:
    meta, summary = result["meta"], result["summary"]
    lines = [f"# tf1kit benchmark ({'quick' if meta['quick'] else 'full'})", ""]
    lines += _meta_lines(meta)
    lines += ["", "## Figures, one process per world", "",
              "Medians over repetitions. Ratios are medians of per-repetition ratios "
              "(the worlds of a repetition run back to back).", ""]
    lines += _figure_table(summary)
    lines += ["", "## tf1kit, native Keras 3 and the raw-ops floor in one process, "
              "alternating calls", "",
              "The steadiest comparison on a loaded machine: load hits all models alike.", ""]
    lines += _paired_table(summary.get("paired", {}))
    lines += ["", "## Import time (fresh processes, medians)", ""]
    lines += _import_lines(summary["imports"])
    lines += ["", "## Eager call cost vs number of get_variable calls", ""]
    lines += _scaling_table(summary["scaling"])
    lines += ["", "## Targets", ""]
    lines += _target_table(summary["targets"])
    return "\n".join(lines) + "\n"


def _meta_lines(meta):
    load = meta["load_average"]
    return [
        f"- date: {meta['date']}",
        f"- machine: {meta['machine']}, {meta['cpu_count']} cores",
        f"- load average (1 min) at start / during (median) / end: "
        f"{load['start']:.2f} / {load['during_median']:.2f} / {load['end']:.2f}",
        f"- versions: {meta['versions']}",
        f"- command: `{meta['command']}`",
        f"- repetitions: {meta['repetitions']} (separate processes, world order rotated), "
        f"samples per figure per process: {meta['samples']} "
        f"(x3 for `tf.function` figures), TensorFlow threads per worker: "
        f"{meta.get('threads') or 'default'}",
        f"- sizes: {meta['sizes']}",
    ]


FIGURE_WORLDS = ("tf1kit", "official", "native", "raw")
FIGURE_RATIOS = ("tf1kit/raw", "official/raw", "native/raw", "tf1kit/native", "tf1kit/official")
PAIRED_COLUMNS = ("tf1kit", "native", "raw", "tf1kit/raw", "native/raw", "tf1kit/native")


def _figure_table(summary):
    lines = ["| network | figure | " + " | ".join(FIGURE_WORLDS + FIGURE_RATIOS) + " |",
             "|---|---|" + "---|" * (len(FIGURE_WORLDS) + len(FIGURE_RATIOS))]
    for network, by_figure in summary["figures"].items():
        for figure in FIGURES:
            values = by_figure[figure]
            ratio = summary["ratios"][network][figure]
            cells = [_num(values.get(w)) for w in FIGURE_WORLDS]
            cells += [_ratio(ratio.get(r)) for r in FIGURE_RATIOS]
            lines.append(f"| {network} | {LABELS[figure]} | " + " | ".join(cells) + " |")
    return lines


def _paired_table(paired):
    if not paired:
        return ["(not measured)"]
    lines = ["| network | figure | " + " | ".join(PAIRED_COLUMNS) + " |",
             "|---|---|" + "---|" * len(PAIRED_COLUMNS)]
    for network, by_figure in paired.items():
        for figure, values in by_figure.items():
            cells = [(_ratio if "/" in c else _num)(values.get(c)) for c in PAIRED_COLUMNS]
            lines.append(f"| {network} | {LABELS[figure]} | " + " | ".join(cells) + " |")
    return lines


def _import_lines(imports):
    lines = [f"- `import tf1kit; tf1kit.install()` after `import tensorflow`: "
             f"{_num(imports['import_tf1kit_ms'])} ms"]
    for world, ms in imports["import_tensorflow_ms"].items():
        lines.append(f"- `import tensorflow` in the {world} world: {_num(ms)} ms")
    return lines


def _scaling_table(scaling):
    if not scaling:
        return ["(not measured)"]
    counts = next(iter(scaling.values()))["counts"]
    lines = ["| world | " + " | ".join(f"N={c} (ms)" for c in counts)
             + " | slope (µs/variable) | R² | log-log exponent | marginal ratio |",
             "|---" * (len(counts) + 5) + "|"]
    for world, fit in scaling.items():
        lines.append(
            f"| {world} | " + " | ".join(_num(v) for v in fit["eager_call_ms"])
            + f" | {_num(1000 * fit['slope_ms_per_variable'])} | {fit['r2']:.4f} | "
            f"{fit['log_log_exponent']:.2f} | {_ratio(fit['marginal_ratio'])} |")
    lines.append("")
    lines.append("Marginal ratio: per-variable cost over the last interval divided by "
                 "the first; about 1 means linear.")
    return lines


def _target_table(targets):
    lines = ["Eager and compiled verdicts use the same-process ratios to the raw-ops "
             "floor and to native Keras 3, and the per-repetition ratio to the official shim.", "",
             "| target | measured | limit | met |", "|---|---|---|---|"]
    for target in targets:
        value = target["value"]
        shown = ", ".join(_ratio(v) for v in value) if isinstance(value, list) else _ratio(value)
        limit = ", ".join(target["limit"]) if isinstance(target["limit"], list) else target["limit"]
        met = {True: "yes", False: "**no**", None: "n/a"}[target["met"]]
        lines.append(f"| {target['name']} | {shown} | {limit} | {met} |")
    return lines


def _num(value):
    if value is None:
        return "–"
    if isinstance(value, int) or float(value).is_integer() and abs(value) >= 10:
        return f"{value:.0f}"
    return f"{value:.3g}" if abs(value) < 100 else f"{value:.0f}"


def _ratio(value):
    return "–" if value is None else f"{value:.3f}" if abs(value) < 10 else f"{value:.1f}"
