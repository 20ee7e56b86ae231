#!/usr/bin/env python3
"""Start-up time: the Krew archive against a pip install, same interpreter, same commands.

    .venv/bin/python bench/startup.py [--repeat 15] [--python /usr/bin/python3] [--out FILE]

It builds the archive (tools/build_dist.py, bytecode for the interpreters `make dist` finds),
installs it the way Krew does into a temporary KREW_ROOT, pip-installs the project into a fresh
virtual environment made from the same interpreter, and times, for each install:

* `kubectl-why --help`                          (argument parsing only)
* `kubectl-why -f scenarios/ -A -o json`        (offline: every scenario, no cluster)
* `kubectl-why deploy/crasher -o json`          (live, against the stand-in API server: this one
                                                 imports the kubernetes client)

Each is run once cold (the first run after installing) and then --repeat times; the median is
reported. The Krew launcher runs through `#!/usr/bin/env python3` with PATH holding only the
chosen interpreter as `python3`; the pip console script through its venv's python, which is the
same interpreter. Acceptance: the Krew median is at most 1.5 x the pip median for each command.
Timings are this machine's; they are printed, not asserted by the test suite.
"""

import argparse
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

from tests.distribution import krew as krewlib  # noqa: E402
from tests.distribution.conftest import _snapshot, build_dist  # noqa: E402
from tests.standin.apiserver import StandInAPIServer  # noqa: E402
from kdebug_core.sources.files import load, log_runs  # noqa: E402

LIMIT = 1.5


def timed(cmd, env, cwd):
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, env=env, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    elapsed = time.perf_counter() - t0
    if proc.returncode not in (0, 1):
        raise SystemExit(f"{' '.join(cmd)} failed ({proc.returncode}): {proc.stderr.decode()[-500:]}")
    return elapsed


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--repeat", type=int, default=15)
    ap.add_argument("--python", default=next((p for p in ("/usr/bin/python3",) if os.path.exists(p)),
                                             getattr(sys, "_base_executable", sys.executable)),
                    help="interpreter for both installs (default: the system python3)")
    ap.add_argument("--out", help="also write the markdown report here")
    args = ap.parse_args(argv)

    work = tempfile.mkdtemp(prefix="kdebug-startup-")
    try:
        src = _snapshot(os.path.join(work, "src"))
        os.makedirs(src, exist_ok=True)
        interpreters = build_dist.find_interpreters()
        print(f"building the archive (bytecode: {', '.join(t for t, _ in interpreters)}) ...", flush=True)
        archive, digest = build_dist.build(os.path.join(work, "dist"), interpreters,
                                           os.path.join(ROOT, "build", "wheels"), build_dist.DEFAULT_EPOCH,
                                           src, log=lambda *a: None)
        with open(archive, "rb") as fh:
            data = fh.read()
        manifests = os.path.join(work, "manifests")
        shutil.copytree(os.path.join(ROOT, "krew-manifests", "plugins"), manifests)
        version = build_dist.read_version(src)
        build_dist.update_manifests(manifests, version, build_dist.release_uri("https://x.invalid", version),
                                    digest, "https://x.invalid")
        krew_root = os.path.join(work, "krew")
        krew_bin = krewlib.install(os.path.join(manifests, "why.yaml"), data, krew_root)

        print(f"pip install into a venv of {args.python} ...", flush=True)
        venv = os.path.join(work, "venv")
        subprocess.run([args.python, "-m", "venv", venv], check=True)
        pip = subprocess.run([os.path.join(venv, "bin", "python"), "-m", "pip", "install", "-q",
                              "--disable-pip-version-check", src], capture_output=True, text=True)
        if pip.returncode != 0:
            raise SystemExit(f"pip install failed:\n{pip.stderr}")
        pip_bin = os.path.join(venv, "bin", "kubectl-why")

        shim = os.path.join(work, "shim")
        os.makedirs(shim)
        os.symlink(args.python, os.path.join(shim, "python3"))
        home = os.path.join(work, "home")
        os.makedirs(home)

        loaded = load([os.path.join(ROOT, "scenarios", "02-crashloop-backoff")])
        server = StandInAPIServer(objects=list(loaded.objects.values()),
                                  logs=log_runs(loaded)).start()
        try:
            kubeconfig = server.write_kubeconfig(os.path.join(work, "kubeconfig"), namespace="default")
            env = {"PATH": shim, "HOME": home, "LANG": "C.UTF-8", "KUBECONFIG": kubeconfig}
            commands = [
                ("--help", ["--help"]),
                ("-f scenarios/ -A -o json", ["-f", os.path.join(ROOT, "scenarios"), "-A", "-o", "json"]),
                ("deploy/crasher -o json (live)", ["deploy/crasher", "-o", "json"]),
            ]
            rows = []
            for label, extra in commands:
                cold = {k: timed([exe] + extra, env, work) for k, exe in (("krew", krew_bin), ("pip", pip_bin))}
                # Interleaved (krew, pip, krew, pip...): on a shared, busy machine a load spike then
                # hits both installs alike instead of one whole series.
                runs = {"krew": [], "pip": []}
                for _ in range(args.repeat):
                    for k, exe in (("krew", krew_bin), ("pip", pip_bin)):
                        runs[k].append(timed([exe] + extra, env, work))
                med = {k: statistics.median(v) for k, v in runs.items()}
                rows.append((label, cold, med))
        finally:
            server.stop()

        size = os.path.getsize(archive)
        lines = [
            f"Start-up, Krew archive vs pip install ({platform.python_implementation()} "
            f"{subprocess.run([args.python, '-V'], capture_output=True, text=True).stdout.strip()}, "
            f"{platform.machine()}, median of {args.repeat} interleaved runs after one cold run)",
            "",
            f"archive: {os.path.basename(archive)}, {size / 1e6:.1f} MB, sha256 {digest}",
            "",
            "| command | krew cold | pip cold | krew median | pip median | krew / pip |",
            "| --- | ---: | ---: | ---: | ---: | ---: |",
        ]
        worst = 0.0
        for label, cold, med in rows:
            ratio = med["krew"] / med["pip"]
            worst = max(worst, ratio)
            lines.append(f"| `kubectl-why {label}` | {cold['krew'] * 1000:.0f} ms | {cold['pip'] * 1000:.0f} ms "
                         f"| {med['krew'] * 1000:.0f} ms | {med['pip'] * 1000:.0f} ms | {ratio:.2f} |")
        lines += ["", f"worst ratio {worst:.2f} (limit {LIMIT}): {'OK' if worst <= LIMIT else 'TOO SLOW'}"]
        report = "\n".join(lines) + "\n"
        print(report)
        if args.out:
            with open(args.out, "w", encoding="utf-8") as fh:
                fh.write(report)
        return 0 if worst <= LIMIT else 1
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
