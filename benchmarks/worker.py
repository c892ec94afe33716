"""One benchmark process: `python -m benchmarks.worker '<json task>'`.

The task names a world, the sizes and a list of jobs ("mlp", "resnet",
"slim", "scaling"). The world is entered before TensorFlow is imported, and
the result is printed as one JSON line on stdout, the last line.
"""

import json
import sys

from benchmarks import worlds


def run(task: dict) -> dict:
    world = task["world"]
    result = {"world": world, "imports": worlds.enter(world, task.get("threads", 1)), "networks": {}}

    from benchmarks.figures import measure_network
    from benchmarks.networks.sizes import Sizes
    from benchmarks.scaling import measure_scaling

    sizes = Sizes(**task["sizes"])
    for job in task["jobs"]:
        if job == "scaling":
            result["scaling"] = measure_scaling(world, task["counts"], task["samples"])
        else:
            result["networks"][job] = measure_network(world, job, sizes, task["samples"])
            if world == "tf1kit" and task.get("paired", True):
                # After measure_network: the second model must not count in its memory.
                from benchmarks.paired import measure_paired

                result.setdefault("paired", {})[job] = measure_paired(
                    job, sizes, task["samples"])
    return result


def main(argv):
    task = json.loads(argv[1])
    print(json.dumps(run(task)), flush=True)


if __name__ == "__main__":
    main(sys.argv)
