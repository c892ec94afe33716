"""Medians across repetitions and the linear fit of the scaling figure."""

import math
import statistics


def median(values):
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None


def linear_fit(xs, ys) -> dict:
    """Least squares y = slope * x + intercept, with R^2 of the fit.

    Also reports the exponent of a power-law fit (log y vs log x): about 1.0
    means linear growth, about 2.0 would mean quadratic.
    """
    n = len(xs)
    mean_x, mean_y = sum(xs) / n, sum(ys) / n
    sxx = sum((x - mean_x) ** 2 for x in xs)
    sxy = sum((x - mean_x) * (y - mean_y) for x, y in zip(xs, ys))
    slope = sxy / sxx
    intercept = mean_y - slope * mean_x
    ss_total = sum((y - mean_y) ** 2 for y in ys)
    ss_residual = sum((y - (slope * x + intercept)) ** 2 for x, y in zip(xs, ys))
    r2 = 1 - ss_residual / ss_total if ss_total else 1.0
    log_xs, log_ys = [math.log(x) for x in xs], [math.log(y) for y in ys]
    mean_lx, mean_ly = sum(log_xs) / n, sum(log_ys) / n
    exponent = (sum((a - mean_lx) * (b - mean_ly) for a, b in zip(log_xs, log_ys))
                / sum((a - mean_lx) ** 2 for a in log_xs))
    return {"slope_ms_per_variable": slope, "intercept_ms": intercept,
            "r2": r2, "log_log_exponent": exponent}
