#!/usr/bin/env python3
"""cProfile of one plugin's -A scan on the synthetic world, served by the stand-in API server.

    .venv/bin/python bench/profile.py --pods 3000 --plugin why [--label after]

Writes bench/profiles/<plugin>-<pods>-<label>.prof (pstats) and .txt (top 40 by cumulative and by
own time). The plugin runs in a child process (`python -m cProfile -o ... kubectl-why -A -o json`),
as users run it; the server runs in this one.
"""

import argparse
import os
import pstats
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
sys.path.insert(0, os.path.join(ROOT, "bench"))

from tests.standin.apiserver import StandInAPIServer  # noqa: E402
from world import world  # noqa: E402

VENV_BIN = os.path.dirname(sys.executable)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pods", type=int, default=3000)
    parser.add_argument("--plugin", default="why")
    parser.add_argument("--label", default="now")
    args = parser.parse_args()
    exe = os.path.join(VENV_BIN, "kubectl-" + args.plugin.replace("-", "_"))
    out = os.path.join(ROOT, "bench", "profiles", f"{args.plugin}-{args.pods}-{args.label}")
    objects, logs = world(args.pods)
    home = tempfile.mkdtemp(prefix="kdebug-profile-")
    with StandInAPIServer(objects=objects, logs=logs) as api:
        env = {"PATH": f"{VENV_BIN}:/usr/bin:/bin", "HOME": home,
               "KUBECONFIG": api.write_kubeconfig(os.path.join(home, "kc"))}
        done = subprocess.run([sys.executable, "-m", "cProfile", "-o", out + ".prof", exe,
                               "-A", "-o", "json"], env=env, capture_output=True)
    print(f"exit {done.returncode}, {len(done.stdout)} bytes of report", file=sys.stderr)
    with open(out + ".txt", "w") as fh:
        fh.write(f"# {' '.join(['bench/profile.py'] + sys.argv[1:])}: kubectl-{args.plugin} -A -o json, "
                 f"{args.pods} pods\n")
        stats = pstats.Stats(out + ".prof", stream=fh)
        stats.sort_stats("cumulative").print_stats(40)
        stats.sort_stats("tottime").print_stats(40)
    print(out + ".txt")


if __name__ == "__main__":
    main()
