"""Run the benchmarks: `python -m benchmarks.run [--quick] [--repetitions N]`.

Starts worker processes (see plan.py), then writes to the output directory:
`benchmark-<stamp>.json`, `.md`, `.png`, and `latest.{json,md,png}` copies.
"""

import argparse
import dataclasses
import datetime
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
from pathlib import Path

from benchmarks.networks.registry import NETWORKS
from benchmarks.networks.sizes import FULL, FULL_COUNTS, QUICK, QUICK_COUNTS
from benchmarks.plan import plan
from benchmarks.worlds import WORLDS

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_OUT = REPO_ROOT / "benchmarks" / "results"


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true",
                        help="tiny sizes, few samples, one process per world")
    parser.add_argument("--repetitions", type=int, default=None,
                        help="processes per world and unit (default 5, quick 1)")
    parser.add_argument("--samples", type=int, default=None,
                        help="timed calls per figure per process (default 30, quick 5)")
    parser.add_argument("--networks", nargs="+", default=list(NETWORKS), choices=NETWORKS)
    parser.add_argument("--worlds", nargs="+", default=list(WORLDS), choices=WORLDS)
    parser.add_argument("--threads", type=int, default=1,
                        help="TensorFlow intra/inter-op threads per worker (0: TF default)")
    parser.add_argument("--no-scaling", action="store_true",
                        help="skip the get_variable scaling figure")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    sizes = QUICK if args.quick else FULL
    repetitions = args.repetitions or (1 if args.quick else 5)
    samples = args.samples or (5 if args.quick else 30)
    counts = QUICK_COUNTS if args.quick else FULL_COUNTS
    tasks = plan(args.networks, tuple(args.worlds), repetitions,
                 scaling=not args.no_scaling, grouped=args.quick)
    load_start = os.getloadavg()[0]
    loads, runs = [], []
    for number, (repetition, world, jobs) in enumerate(tasks, 1):
        loads.append(os.getloadavg()[0])
        print(f"[{number}/{len(tasks)}] repetition {repetition + 1}: {world} {' '.join(jobs)}",
              file=sys.stderr, flush=True)
        task = {"world": world, "jobs": jobs, "sizes": dataclasses.asdict(sizes),
                "counts": list(counts), "samples": samples, "threads": args.threads}
        runs.append({"repetition": repetition, **run_worker(task)})
    meta = _meta(args, sizes, repetitions, samples, counts,
                 {"start": load_start, "during_median": statistics.median(loads),
                  "end": os.getloadavg()[0]})
    from benchmarks.summarize import summarize

    result = {"meta": meta, "summary": summarize(runs, tuple(args.worlds), tuple(args.networks)),
              "runs": runs}
    paths = write_outputs(result, args.out)
    print(paths["md"].read_text())
    print(f"written: {', '.join(str(p) for p in paths.values())}", file=sys.stderr)
    return result


def run_worker(task: dict) -> dict:
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3", PYTHONWARNINGS="ignore")
    env.pop("TF_USE_LEGACY_KERAS", None)  # the worker chooses its own world
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO_ROOT), env.get("PYTHONPATH")]))
    completed = subprocess.run(
        [sys.executable, "-m", "benchmarks.worker", json.dumps(task)],
        cwd=REPO_ROOT, env=env, capture_output=True, text=True)
    lines = completed.stdout.strip().splitlines()
    if completed.returncode != 0 or not lines:
        raise RuntimeError(
            f"benchmark worker failed for {task['world']} {task['jobs']} "
            f"(exit {completed.returncode}):\n{completed.stderr[-3000:]}")
    return json.loads(lines[-1])


def write_outputs(result: dict, out: Path) -> dict:
    from benchmarks.chart import save_chart
    from benchmarks.report import markdown

    out.mkdir(parents=True, exist_ok=True)
    stamp = datetime.datetime.now().strftime("%Y%m%d-%H%M%S")
    stem = f"benchmark-{'quick-' if result['meta']['quick'] else ''}{stamp}"
    paths = {"json": out / f"{stem}.json", "md": out / f"{stem}.md", "png": out / f"{stem}.png"}
    paths["json"].write_text(json.dumps(result, indent=1))
    paths["md"].write_text(markdown(result))
    save_chart(result["summary"], paths["png"])
    for kind, path in paths.items():
        shutil.copyfile(path, out / f"latest.{kind}")
    return paths


def _meta(args, sizes, repetitions, samples, counts, load):
    from importlib.metadata import version

    versions = {name: version(name) for name in ("tensorflow", "keras", "tf_keras", "tf-slim")}
    return {
        "date": datetime.datetime.now().astimezone().isoformat(timespec="seconds"),
        "machine": f"{platform.machine()} {platform.processor() or platform.platform()}",
        "cpu_count": os.cpu_count(),
        "python": platform.python_version(),
        "versions": versions,
        "command": "python -m benchmarks.run " + " ".join(sys.argv[1:]),
        "quick": args.quick,
        "repetitions": repetitions,
        "samples": samples,
        "threads": args.threads,
        "sizes": dataclasses.asdict(sizes),
        "counts": list(counts),
        "load_average": load,
    }


if __name__ == "__main__":
    main()
