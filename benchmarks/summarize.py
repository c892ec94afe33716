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
# Tighter per network: TF-Slim eager at most native's time (issue 10).
EAGER_LIMIT_BY_NETWORK = {"slim": 1.0}
FLOOR_FIGURE = "eager_call_b1_ms"
# The same call in thread CPU time, measured alongside in the paired process:
# the steadier verdict when other processes load the machine.
FLOOR_CPU_FIGURE = "eager_call_b1_cpu_ms"
FLOOR_LIMIT = 1.5           # tf1kit eager call / the raw-ops floor (issue 16)
COMPILED_LIMIT = 1.05       # tf1kit / min(official, native)
IMPORT_LIMIT_MS = 100.0
LINEAR_R2 = 0.99
LINEAR_MAX_EXPONENT = 1.15  # power-law exponent of cost vs N; 2 would be quadratic


def summarize(runs: list, worlds: tuple, networks: tuple) -> dict:
    figures = _figure_medians(runs, worlds, networks)
    imports = _import_medians(runs, worlds)
    scaling = _scaling(runs, worlds)
    ratios = _ratios(runs, figures, worlds)
    paired = _paired(runs, networks)
    return {"figures": figures, "imports": imports, "scaling": scaling,
            "ratios": ratios, "paired": paired,
            "targets": _targets(ratios, paired, imports, scaling)}


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


def _ratios(runs, figures, worlds):
    """Medians of per-repetition ratios.

    The worlds of one repetition run back to back, so dividing within a
    repetition cancels most of the load drift between repetitions.
    """
    others = [w for w in ("official", "native") if w in worlds]
    to_floor = ([w for w in ("tf1kit", "official", "native") if w in worlds]
                if "raw" in worlds else [])
    ratios = {}
    for network, by_figure in figures.items():
        ratios[network] = {}
        for figure in by_figure:
            per_repetition = [_values_of_repetition(runs, r, network, figure)
                              for r in sorted({run["repetition"] for run in runs})]
            entry = {f"tf1kit/{w}": median(_ratio(v.get("tf1kit"), v.get(w))
                                           for v in per_repetition) for w in others}
            entry["tf1kit/best_other"] = median(
                _ratio(v.get("tf1kit"), min(filter(None, (v.get(w) for w in others)), default=None))
                for v in per_repetition)
            for w in to_floor:
                entry[f"{w}/raw"] = median(_ratio(v.get(w), v.get("raw")) for v in per_repetition)
            ratios[network][figure] = entry
    return ratios


def _values_of_repetition(runs, repetition, network, figure):
    return {run["world"]: run["networks"][network][figure] for run in runs
            if run["repetition"] == repetition and network in run["networks"]}


PAIRED_RATIOS = (("tf1kit", "native"), ("tf1kit", "raw"), ("native", "raw"))


def _paired(runs, networks):
    """Same-process tf1kit, native and raw: medians and the medians of the ratios."""
    result = {}
    for network in networks:
        measured = [r["paired"][network] for r in runs if network in r.get("paired", {})]
        if not measured:
            continue
        result[network] = {}
        for figure in measured[0]:
            worlds = [w for w in ("tf1kit", "native", "raw") if w in measured[0][figure]]
            entry = {w: median(m[figure][w] for m in measured) for w in worlds}
            for a, b in PAIRED_RATIOS:
                if a in entry and b in entry:
                    entry[f"{a}/{b}"] = median(_ratio(m[figure][a], m[figure][b]) for m in measured)
            result[network][figure] = entry
    return result


def _ratio(a, b):
    return a / b if a is not None and b else None


def _targets(ratios, paired, imports, scaling):
    """Verdicts use the steadiest evidence: the same-process ratio to native
    where measured, the per-repetition ratio to the official shim otherwise.
    tf1kit / min(official, native) == max(tf1kit/official, tf1kit/native)."""
    targets = []
    for network, by_figure in ratios.items():
        same_process = paired.get(network, {})
        to_floor = same_process.get(FLOOR_FIGURE, {}).get("tf1kit/raw")
        if to_floor is None:
            to_floor = by_figure[FLOOR_FIGURE].get("tf1kit/raw")
        if to_floor is not None:
            targets.append(_verdict(
                f"{network}: {FLOOR_FIGURE} tf1kit/raw", to_floor, FLOOR_LIMIT))
        to_floor_cpu = same_process.get(FLOOR_CPU_FIGURE, {}).get("tf1kit/raw")
        if to_floor_cpu is not None:
            targets.append(_verdict(
                f"{network}: {FLOOR_CPU_FIGURE} tf1kit/raw", to_floor_cpu, FLOOR_LIMIT))
        for figure in EAGER_FIGURES + (FLOOR_CPU_FIGURE,):
            if figure not in by_figure and figure not in same_process:
                continue
            to_native = same_process.get(figure, {}).get("tf1kit/native")
            if to_native is None:
                to_native = by_figure.get(figure, {}).get("tf1kit/native")
            targets.append(_verdict(
                f"{network}: {figure} tf1kit/native", to_native,
                EAGER_LIMIT_BY_NETWORK.get(network, EAGER_LIMIT)))
        for figure in COMPILED_FIGURES:
            to_native = same_process.get(figure, {}).get("tf1kit/native")
            if to_native is None:
                to_native = by_figure[figure].get("tf1kit/native")
            candidates = [v for v in (to_native, by_figure[figure].get("tf1kit/official"))
                          if v is not None]
            targets.append(_verdict(
                f"{network}: {figure} tf1kit/min(official, native)",
                max(candidates) if candidates else None, COMPILED_LIMIT))
    targets.append(_verdict("import tf1kit after tensorflow (ms)",
                            imports["import_tf1kit_ms"], IMPORT_LIMIT_MS))
    tf1kit_scaling = scaling.get("tf1kit")
    if tf1kit_scaling:
        linear = (tf1kit_scaling.get("r2", 0) >= LINEAR_R2
                  and tf1kit_scaling.get("log_log_exponent", 99) <= LINEAR_MAX_EXPONENT)
        targets.append({
            "name": "tf1kit eager cost linear in #get_variable (R^2, log-log exponent)",
            "value": [tf1kit_scaling.get("r2"), tf1kit_scaling.get("log_log_exponent")],
            "limit": [f">= {LINEAR_R2}", f"<= {LINEAR_MAX_EXPONENT}"], "met": linear})
    return targets


def _verdict(name, value, limit):
    return {"name": name, "value": value, "limit": f"<= {limit}",
            "met": None if value is None else value <= limit}
