#!/usr/bin/env python3
"""Scale benchmark: each plugin's cluster-wide scan side by side with the kubectl read it replaces.

    .venv/bin/python bench/scale.py [--pods 1000,3000,10000] [--repeat 3] [--single 15]
                                    [--plugins why,oomcheck,probecheck,endpoints-check]
                                    [--out bench/results/scale.md]
    make bench            # the same with the defaults

For each size a synthetic world (bench/world.py: 10 namespaces, 20 % failing pods, ~3.5 events a
pod, one Service and EndpointSlice per 10 pods) is served by the stand-in API server
(tests/standin/apiserver.py) and, in each round, every command runs once, one after the other:

* `kubectl get pods,events -A -o json`, the reference for `why`, `oomcheck` and `probecheck`;
* `kubectl get pods,services,endpointslices -A -o json`, the reference for `endpoints-check`;
* `kubectl-why -A -o json` (and the other plugins' executables), run directly rather than through
  kubectl's plugin dispatch, so that the peak RSS is the plugin's own: kubectl exec()s a plugin in
  its own process, whose peak then includes kubectl's start-up (~100 MiB for this kubectl). What
  dispatch adds in time is in the single-pod table (`kubectl why POD` against `kubectl-why POD`).

Recorded per command: wall time, CPU time (user+sys) and peak RSS of the process (GNU time's %M;
kubectl exec()s a plugin in the same process, so through kubectl that is the plugin's peak, or
kubectl's own start-up if larger), the requests the server saw from it (kdebug's by User-Agent), the exit code and
the number of findings. A plugin's ratio is its wall time over the reference's *in the same round*
(median over rounds): the machine is shared, so only ratios taken side by side mean much.

`--single N` times a single pod: `kubectl why POD -n NS -o json` against `kubectl get pod POD -n NS
-o json`, N interleaved rounds, on a 1,000-pod world.

The server runs in this process (a thread); its CPU time per command is reported too, since it
competes for the same 2 cores.
"""

import argparse
import gc
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
sys.path.insert(0, os.path.join(ROOT, "bench"))

from tests.standin.apiserver import StandInAPIServer  # noqa: E402
from world import world  # noqa: E402

VENV_BIN = os.path.dirname(sys.executable)
REFERENCE = {
    "why": "pods,events",
    "oomcheck": "pods,events",
    "probecheck": "pods,events",
    "endpoints-check": "pods,services,endpointslices",
}


def run(cmd, env, api):
    """One command: wall s, cpu s, peak RSS MiB, server cpu s, kdebug requests, all requests, rc, out."""
    api.clear_requests()
    server0 = resource.getrusage(resource.RUSAGE_SELF)
    out = tempfile.TemporaryFile()
    # Peak RSS through GNU time: a child forked from this process (which holds the whole world)
    # would report this process's RSS as its own peak (Linux keeps the pre-exec high-water mark).
    stats = tempfile.NamedTemporaryFile(prefix="kdebug-bench-time-")
    start = time.perf_counter()
    proc = subprocess.Popen(["/usr/bin/time", "-q", "-f", "%M %U %S", "-o", stats.name] + cmd,
                            env=env, stdout=out, stderr=subprocess.PIPE)
    stderr = proc.stderr.read()
    proc.wait()
    wall = time.perf_counter() - start
    with open(stats.name) as fh:
        rss_kib, user, system = fh.read().split()[-3:]
    stats.close()
    server1 = resource.getrusage(resource.RUSAGE_SELF)
    requests = api.requests
    mine = [r for r in requests if (r.header("User-Agent") or "").startswith("kdebug")]
    out.seek(0)
    body = out.read()
    return {
        "wall": wall, "cpu": float(user) + float(system), "rss_mib": int(rss_kib) / 1024,
        "server_cpu": (server1.ru_utime + server1.ru_stime) - (server0.ru_utime + server0.ru_stime),
        "kdebug_requests": len(mine), "requests": len(requests), "rc": proc.returncode,
        "stdout": body, "stderr": stderr.decode("utf-8", "replace")[-500:],
    }


def count_output(body: bytes):
    try:
        doc = json.loads(body)
    except ValueError:
        return None
    if "findings" in doc:
        return len(doc["findings"])
    return len(doc.get("items") or [])


PYTHONPATH = None  # --pythonpath: run another checkout's kdebug_core (a "before" measurement)


def env_for(kubeconfig, home):
    kubectl_dir = os.path.dirname(shutil.which("kubectl"))
    env = {"PATH": f"{VENV_BIN}:{kubectl_dir}:/usr/bin:/bin", "HOME": home,
           "KUBECONFIG": kubeconfig, "LANG": "C.UTF-8"}
    if PYTHONPATH:
        env["PYTHONPATH"] = PYTHONPATH
    return env


def bench_size(n_pods, plugins, repeat, home, log, references=True):
    t0 = time.perf_counter()
    objects, logs = world(n_pods)
    kinds = {}
    for o in objects:
        kinds[o["kind"]] = kinds.get(o["kind"], 0) + 1
    log(f"world {n_pods}: {kinds} ({time.perf_counter() - t0:.0f} s to build)")
    rows = {}
    with StandInAPIServer(objects=objects, logs=logs) as api:
        del objects
        # The server's store never changes: out of the cyclic GC's sight, or every collection in
        # this process walks the whole world while it serves a page (seconds per page at 10,000).
        gc.collect()
        gc.freeze()
        env = env_for(api.write_kubeconfig(os.path.join(home, f"kc-{n_pods}")), home)
        subprocess.run(["kubectl", "get", "ns"], env=env, capture_output=True)  # discovery cache
        commands = []
        for ref in sorted({REFERENCE[p] for p in plugins}) if references else ():
            commands.append((f"kubectl get {ref} -A -o json", ["kubectl", "get", ref, "-A", "-o", "json"]))
        for p in plugins:
            exe = "kubectl-" + p.replace("-", "_")
            commands.append((f"{exe} -A -o json", [os.path.join(VENV_BIN, exe), "-A", "-o", "json"]))
        for rnd in range(repeat):
            for label, cmd in commands:
                r = run(cmd, env, api)
                r["count"] = count_output(r.pop("stdout"))
                rows.setdefault(label, []).append(r)
                log(f"  {n_pods} round {rnd + 1} {label}: {r['wall']:.2f} s wall, {r['cpu']:.2f} s cpu, "
                    f"{r['rss_mib']:.0f} MiB, {r['kdebug_requests'] or r['requests']} requests, rc {r['rc']}"
                    + (f", stderr {r['stderr']!r}" if r["rc"] not in (0, 1) else ""))
    return {"pods": n_pods, "kinds": kinds, "rows": rows}


def bench_single(rounds, home, log):
    objects, logs = world(1000)
    pod = next(o for o in objects if o["kind"] == "Pod"
               and any((s.get("state") or {}).get("waiting", {}).get("reason") == "CrashLoopBackOff"
                       for s in o["status"].get("containerStatuses") or []))
    ns, name = pod["metadata"]["namespace"], pod["metadata"]["name"]
    rows = {}
    with StandInAPIServer(objects=objects, logs=logs) as api:
        env = env_for(api.write_kubeconfig(os.path.join(home, "kc-single"), namespace=ns), home)
        subprocess.run(["kubectl", "get", "ns"], env=env, capture_output=True)
        commands = [
            ("kubectl get pod POD -o json", ["kubectl", "get", "pod", name, "-o", "json"]),
            ("kubectl why POD -o json", ["kubectl", "why", name, "-o", "json"]),
            ("kubectl-why POD -o json (no dispatch)",
             [os.path.join(VENV_BIN, "kubectl-why"), name, "-o", "json"]),
            ("kubectl-why --help", [os.path.join(VENV_BIN, "kubectl-why"), "--help"]),
        ]
        for _ in range(rounds):
            for label, cmd in commands:
                r = run(cmd, env, api)
                r["count"] = count_output(r.pop("stdout"))
                rows.setdefault(label, []).append(r)
    log(f"single pod {ns}/{name}: " + ", ".join(
        f"{k} {statistics.median(x['wall'] for x in v) * 1000:.0f} ms" for k, v in rows.items()))
    return {"pod": f"{ns}/{name}", "rows": rows}


def med(rows, key):
    return statistics.median(r[key] for r in rows)


def side_by_side_ratio(rows, ref_rows):
    return statistics.median(r["wall"] / f["wall"] for r, f in zip(rows, ref_rows))


def report(sizes, single, plugins, repeat, machine):
    lines = [f"Machine: {machine}. Median of {repeat} rounds; ratio = plugin wall time / the "
             f"kubectl reference's in the same round (median).", ""]
    if sizes:
        lines += ["| pods | events | command | wall | ratio | CPU | peak RSS | requests | output |",
                  "| ---: | ---: | --- | ---: | ---: | ---: | ---: | ---: | --- |"]
        for s in sizes:
            rows = s["rows"]
            for label, rs in rows.items():
                plugin = label.split()[0][len("kubectl-"):].replace("_", "-")
                ratio = ""
                ref = rows.get(f"kubectl get {REFERENCE.get(plugin)} -A -o json")
                if plugin in REFERENCE and ref:
                    ratio = f"{side_by_side_ratio(rs, ref):.2f}"
                reqs = rs[-1]["kdebug_requests"] or rs[-1]["requests"]
                count = rs[-1]["count"]
                what = (f"{count} findings, exit {rs[-1]['rc']}" if plugin in REFERENCE
                        else f"{count} items")
                lines.append(f"| {s['pods']:,} | {s['kinds'].get('Event', 0):,} | `{label}` | "
                             f"{med(rs, 'wall'):.2f} s | {ratio} | {med(rs, 'cpu'):.2f} s | "
                             f"{max(r['rss_mib'] for r in rs):.0f} MiB | {reqs} | {what} |")
        lines.append("")
    if single:
        rows = single["rows"]
        get = rows["kubectl get pod POD -o json"]
        lines += [f"Single pod ({single['pod']}, 1,000-pod world), {len(get)} interleaved rounds:", "",
                  "| command | median wall | ratio to `kubectl get pod` | requests | exit |",
                  "| --- | ---: | ---: | ---: | ---: |"]
        for label, rs in rows.items():
            lines.append(f"| `{label}` | {med(rs, 'wall') * 1000:.0f} ms | "
                         f"{side_by_side_ratio(rs, get):.2f} | "
                         f"{rs[-1]['kdebug_requests'] or rs[-1]['requests'] or '—'} | {rs[-1]['rc']} |")
        lines.append("")
    return "\n".join(lines)


def machine_line():
    kubectl = subprocess.run(["kubectl", "version", "--client"], capture_output=True,
                             text=True).stdout.splitlines()[0]
    with open("/proc/cpuinfo") as fh:
        cpu = next((line.split(":", 1)[1].strip() for line in fh if line.startswith("model name")), "?")
    mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2 ** 30
    load = os.getloadavg()[0]
    return (f"{os.cpu_count()} × {cpu}, {mem:.0f} GiB, Python {sys.version.split()[0]}, {kubectl}, "
            f"load average {load:.1f} at the start (shared machine: other builds and tests ran "
            f"alongside)")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pods", default="1000,3000,10000", help="sizes, comma-separated ('' for none)")
    parser.add_argument("--plugins", default="why,oomcheck,probecheck,endpoints-check")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--single", type=int, default=15, help="rounds of the single-pod timing (0: skip)")
    parser.add_argument("--no-reference", action="store_true",
                        help="skip the kubectl reads (for sizes where kubectl itself would need GiBs)")
    parser.add_argument("--pythonpath", help="a directory holding another kdebug_core to measure "
                        "(e.g. `git archive COMMIT | tar -x -C DIR`): the console scripts import it first")
    parser.add_argument("--out", default=os.path.join(ROOT, "bench", "results", "scale.md"))
    args = parser.parse_args()
    global PYTHONPATH
    PYTHONPATH = args.pythonpath
    plugins = [p for p in args.plugins.split(",") if p]
    home = tempfile.mkdtemp(prefix="kdebug-bench-")
    machine = machine_line()

    def log(text):
        print(text, file=sys.stderr, flush=True)

    try:
        sizes = [bench_size(int(n), plugins, args.repeat, home, log, not args.no_reference)
                 for n in args.pods.split(",") if n]
        single = bench_single(args.single, home, log) if args.single else None
    finally:
        shutil.rmtree(home, ignore_errors=True)
    if args.pythonpath:
        machine += f"; kdebug_core from {args.pythonpath}"
    text = report(sizes, single, plugins, args.repeat, machine)
    os.makedirs(os.path.dirname(args.out), exist_ok=True)
    with open(args.out, "w") as fh:
        fh.write(text + "\n")
    with open(os.path.splitext(args.out)[0] + ".json", "w") as fh:
        json.dump({"machine": machine, "sizes": sizes, "single": single}, fh, indent=1, default=str)
    print(text)


if __name__ == "__main__":
    main()
