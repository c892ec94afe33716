"""Where the eager call time goes: `python -m benchmarks.diagnostics.profile_eager`.

Profiles repeated eager calls of one network in one world with cProfile and
prints the functions with the most cumulative and own time, so a missed
target can be traced to a function in tf1kit/ or TensorFlow.

    python -m benchmarks.diagnostics.profile_eager --world tf1kit --network resnet
"""

import argparse
import cProfile
import io
import pstats

from benchmarks import worlds


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--world", default="tf1kit", choices=worlds.WORLDS)
    parser.add_argument("--network", default="resnet")
    parser.add_argument("--batch", type=int, default=1)
    parser.add_argument("--calls", type=int, default=200)
    parser.add_argument("--top", type=int, default=30)
    parser.add_argument("--filter", default="",
                        help="only list functions whose file path contains this")
    parser.add_argument("--save", default="",
                        help="also write <save>.pstats and <save>.txt (e.g. under "
                             "benchmarks/results/profiles/); snakeviz or gprof2dot draw "
                             "the flame/call graph from the .pstats")
    args = parser.parse_args(argv)
    worlds.enter(args.world)
    print(profile(args))


def profile(args) -> str:
    import numpy as np

    from benchmarks.networks.registry import network_class
    from benchmarks.networks.sizes import FULL, example_inputs

    model = network_class(args.world, args.network)(FULL)
    inputs = example_inputs(args.network, FULL, args.batch, np.random.default_rng(0))
    for _ in range(5):  # create variables and warm caches outside the profile
        model(inputs, training=False)
    profiler = cProfile.Profile()
    profiler.enable()
    for _ in range(args.calls):
        model(inputs, training=False)
    profiler.disable()
    text = io.StringIO()
    stats = pstats.Stats(profiler, stream=text)
    text.write(f"{args.world} {args.network} batch {args.batch}: {args.calls} calls\n")
    for order in ("cumulative", "tottime"):
        stats.sort_stats(order).print_stats(args.filter, args.top)
    if args.save:
        from pathlib import Path

        Path(args.save).parent.mkdir(parents=True, exist_ok=True)
        stats.dump_stats(f"{args.save}.pstats")
        Path(f"{args.save}.txt").write_text(text.getvalue())
    return text.getvalue()


if __name__ == "__main__":
    main()
