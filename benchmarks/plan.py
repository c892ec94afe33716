"""Which worker processes to start, in which interleaved order.

Full runs start one process per (repetition, unit, world), so each process
holds one network and its peak memory is its own. Quick runs start one
process per (repetition, world) that does every unit, to stay fast.
The world order rotates so that no world always runs first (or last) while
the machine's load drifts.
"""

from benchmarks.worlds import WORLDS


def rotated(items, shift):
    shift %= len(items)
    return tuple(items[shift:]) + tuple(items[:shift])


def plan(networks, worlds=WORLDS, repetitions=1, scaling=True, grouped=False):
    """A list of (repetition, world, jobs) in the order to run them."""
    units = list(networks) + (["scaling"] if scaling else [])
    tasks = []
    for repetition in range(repetitions):
        if grouped:
            for world in rotated(worlds, repetition):
                tasks.append((repetition, world, units))
            continue
        for index, unit in enumerate(units):
            for world in rotated(worlds, repetition + index):
                tasks.append((repetition, world, [unit]))
    return tasks
