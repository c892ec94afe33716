"""Turns raw worker results into medians, ratios and target verdicts."""

from benchmarks.stats import linear_fit, median

# Figures compared across worlds, in table order.
FIGURES = (
    "eager_call_b1_ms", "eager_forward_b16_ms", "function_forward_b16_ms",
    "gradient_step_b16_ms", "train_step_b16_ms", "trace_forward_ms",
    "trace_train_step_ms", "first_call_ms", "peak_memory_mb", "variables",
    "forward_graph_ops", "train_graph_ops",
)
EAGER_FIGURES = ("eager_call_b1_ms", "eager_forward_b16_ms")
COMPILED_FIGURES = ("function_forward_b16_ms", "train_step_b16_ms")
EAGER_LIMIT = 1.2           # tf1kit eager / native Keras 3
COMPILED_LIMIT = 1.05       # tf1kit / min(official, native)
IMPORT_LIMIT_MS = 100.0
LINEAR_R2 = 0.99
LINEAR_MARGINAL_RATIO = 1.5  # per-variable cost at large N vs small N


def summarize(runs: list, worlds: tuple, networks: tuple) -> dict:
    figures = _figure_medians(runs, worlds, networks)
    imports = _import_medians(runs, worlds)
    scaling = _scaling(runs, worlds)
    ratios = _ratios(figures, worlds)
    return {"figures": figures, "imports": imports, "scaling": scaling,
            "ratios": ratios, "targets": _targets(ratios, imports, scaling)}


def _figure_medians(runs, worlds, networks):
    table = {}
    for network in networks:
        table[network] = {}
        for figure in FIGURES:
            table[network][figure] = {
                world: median(r["networks"][network][figure] for r in runs
                              if r["world"] == world and network in r["networks"])
                for world in worlds}
    return table


def _import_medians(runs, worlds):
    return {
        "import_tensorflow_ms": {
            w: median(r["imports"]["import_tensorflow_ms"] for r in runs if r["world"] == w)
            for w in worlds},
        "import_tf1kit_ms": median(
            r["imports"].get("import_tf1kit_ms") for r in runs if r["world"] == "tf1kit"),
    }


def _scaling(runs, worlds):
    result = {}
    for world in worlds:
        measured = [r["scaling"] for r in runs if r["world"] == world and "scaling" in r]
        if not measured:
            continue
        counts = sorted(int(c) for c in measured[0]["eager_call_ms"])
        eager = [median(m["eager_call_ms"][str(c)] for m in measured) for c in counts]
        first = [median(m["first_call_ms"][str(c)] for m in measured) for c in counts]
        fit = linear_fit(counts, eager) if len(counts) >= 2 else {}
        result[world] = {"counts": counts, "eager_call_ms": eager,
                         "first_call_ms": first, **fit,
                         "marginal_ratio": _marginal_ratio(counts, eager)}
    return result


def _marginal_ratio(counts, times):
    """Per-variable cost over the last interval / over the first interval.

    About 1 when growth is linear; well above 1 when each variable gets
    more expensive as the store grows.
    """
    if len(counts) < 3:
        return None
    first = (times[1] - times[0]) / (counts[1] - counts[0])
    last = (times[-1] - times[-2]) / (counts[-1] - counts[-2])
    return last / first if first > 0 else None


def _ratios(figures, worlds):
    ratios = {}
    for network, by_figure in figures.items():
        ratios[network] = {}
        for figure, by_world in by_figure.items():
            mine = by_world.get("tf1kit")
            others = {w: by_world.get(w) for w in ("official", "native") if w in worlds}
            entry = {f"tf1kit/{w}": _ratio(mine, v) for w, v in others.items()}
            known = [v for v in others.values() if v]
            entry["tf1kit/best_other"] = _ratio(mine, min(known)) if known else None
            ratios[network][figure] = entry
    return ratios


def _ratio(a, b):
    return a / b if a is not None and b else None


def _targets(ratios, imports, scaling):
    targets = []
    for network, by_figure in ratios.items():
        for figure in EAGER_FIGURES:
            targets.append(_verdict(
                f"{network}: {figure} tf1kit/native", by_figure[figure].get("tf1kit/native"),
                EAGER_LIMIT))
        for figure in COMPILED_FIGURES:
            targets.append(_verdict(
                f"{network}: {figure} tf1kit/min(official, native)",
                by_figure[figure].get("tf1kit/best_other"), COMPILED_LIMIT))
    targets.append(_verdict("import tf1kit after tensorflow (ms)",
                            imports["import_tf1kit_ms"], IMPORT_LIMIT_MS))
    tf1kit_scaling = scaling.get("tf1kit")
    if tf1kit_scaling:
        linear = (tf1kit_scaling.get("r2", 0) >= LINEAR_R2
                  and (tf1kit_scaling["marginal_ratio"] or 0) <= LINEAR_MARGINAL_RATIO)
        targets.append({
            "name": "tf1kit eager cost linear in #get_variable (R^2, marginal ratio)",
            "value": [tf1kit_scaling.get("r2"), tf1kit_scaling["marginal_ratio"]],
            "limit": [f">= {LINEAR_R2}", f"<= {LINEAR_MARGINAL_RATIO}"], "met": linear})
    return targets


def _verdict(name, value, limit):
    return {"name": name, "value": value, "limit": f"<= {limit}",
            "met": None if value is None else value <= limit}
