#!/usr/bin/env python3
"""Benchmarks: kdebug side by side with the kubectl routine it replaces, on the same stand-in server.

    .venv/bin/python bench/run.py [--pods 50,300] [--repeat 5] [--out bench/RESULTS.md]

For each cluster size it builds a namespace set from the bundled scenarios' pods (copied and
renamed until there are N pods, events copied with them), serves it with the stand-in API server,
and measures:

* `kubectl why -A -o json` through kubectl plugin dispatch: wall time (median), API requests;
* the manual routine an operator runs for the same answer: `kubectl get pods -A -o json`,
  `kubectl get events -A -o json`, then `kubectl describe pod` and `kubectl logs --previous` for
  every failing pod: wall time and API requests (kubectl's discovery requests included, as the user
  pays for them too);
* start-up: `kubectl-why --help`, and `kubectl-why -f scenarios/ -A` (offline, no cluster).

Timings are measurements of this machine, printed with the machine's Python and kubectl versions;
they are not asserted anywhere. The request counts are what the tests assert bounds on.
"""

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

from kdebug_core.sources.files import load  # noqa: E402
from tests.standin.apiserver import StandInAPIServer  # noqa: E402

VENV_BIN = os.path.dirname(sys.executable)


def synthetic(n_pods: int):
    """Scenario objects, their pods (and the events about them) copied until there are n pods."""
    loaded = load([os.path.join(ROOT, "scenarios")])
    objects = list(loaded.objects.values())
    pods = [o for o in objects if o["kind"] == "Pod"]
    events = [o for o in objects if o["kind"] == "Event"]
    rest = [o for o in objects if o["kind"] not in ("Pod", "Event")]
    out_pods, out_events, logs = [], [], {}
    i = 0
    while len(out_pods) < n_pods:
        for pod in pods:
            if len(out_pods) >= n_pods:
                break
            copy = json.loads(json.dumps(pod))
            old_name, old_uid = pod["metadata"]["name"], pod["metadata"].get("uid")
            name = f"{old_name}-c{i}" if i else old_name
            uid = f"{old_uid[:-12]}{i:012d}" if (i and old_uid) else old_uid
            copy["metadata"]["name"], copy["metadata"]["uid"] = name, uid
            out_pods.append(copy)
            for ev in events:
                io = ev.get("involvedObject") or {}
                if io.get("kind") == "Pod" and io.get("name") == old_name:
                    e = json.loads(json.dumps(ev))
                    e["metadata"]["name"] = f"{name}.{e['metadata']['name'].rsplit('.', 1)[-1]}"
                    e["involvedObject"].update(name=name, uid=uid)
                    out_events.append(e)
            ns = pod["metadata"].get("namespace", "default")
            for (lns, lpod, container), text in loaded.logs.items():
                if lns == ns and lpod == old_name:
                    logs[(ns, name, container)] = {"current": text, "previous": text}
        i += 1
    return rest + out_pods + out_events, logs


def timed(cmd, env, repeat):
    times, last = [], None
    for _ in range(repeat):
        start = time.perf_counter()
        last = subprocess.run(cmd, env=env, capture_output=True, text=True)
        times.append(time.perf_counter() - start)
    return statistics.median(times), last


def failing_pods(pods_json):
    out = []
    for p in json.loads(pods_json)["items"]:
        statuses = (p.get("status") or {}).get("containerStatuses") or []
        if p["status"].get("phase") != "Running" or any(not s.get("ready") for s in statuses):
            out.append((p["metadata"]["namespace"], p["metadata"]["name"],
                        [c["name"] for c in p["spec"]["containers"]]))
    return out


def bench_cluster(n_pods, repeat, home):
    objects, logs = synthetic(n_pods)
    rows = []
    with StandInAPIServer(objects=objects, logs=logs) as api:
        kubeconfig = api.write_kubeconfig(os.path.join(home, f"kc-{n_pods}"), namespace="default")
        env = {"PATH": f"{VENV_BIN}:{os.path.dirname(shutil.which('kubectl'))}:/usr/bin:/bin",
               "HOME": home, "KUBECONFIG": kubeconfig}

        api.clear_requests()
        t_why, res = timed(["kubectl", "why", "-A", "-o", "json"], env, repeat)
        why_requests = len(api.requests) // repeat
        findings = len(json.loads(res.stdout)["findings"])
        rows.append((f"kubectl why -A ({n_pods} pods)", t_why, why_requests,
                     f"{findings} findings, exit {res.returncode}"))

        def manual():
            out = subprocess.run(["kubectl", "get", "pods", "-A", "-o", "json"], env=env,
                                 capture_output=True, text=True).stdout
            subprocess.run(["kubectl", "get", "events", "-A", "-o", "json"], env=env,
                           capture_output=True, text=True)
            bad = failing_pods(out)
            for ns, name, containers in bad:
                subprocess.run(["kubectl", "describe", "pod", name, "-n", ns], env=env,
                               capture_output=True, text=True)
                for c in containers:
                    subprocess.run(["kubectl", "logs", name, "-n", ns, "-c", c, "--previous",
                                    "--tail", "20"], env=env, capture_output=True, text=True)
            return len(bad)

        api.clear_requests()
        times = []
        for _ in range(max(1, repeat // 2)):
            start = time.perf_counter()
            n_bad = manual()
            times.append(time.perf_counter() - start)
        manual_requests = len(api.requests) // max(1, repeat // 2)
        rows.append((f"kubectl get + describe + logs ({n_pods} pods, {n_bad} failing)",
                     statistics.median(times), manual_requests, "manual routine, no diagnosis"))
    return rows


def bench_startup(repeat, home):
    env = {"PATH": f"{VENV_BIN}:/usr/bin:/bin", "HOME": home}
    rows = []
    t, _ = timed([os.path.join(VENV_BIN, "kubectl-why"), "--help"], env, repeat)
    rows.append(("kubectl-why --help", t, 0, "start-up"))
    t, res = timed([os.path.join(VENV_BIN, "kubectl-why"), "-f", os.path.join(ROOT, "scenarios"),
                    "-A", "-o", "json"], env, repeat)
    rows.append(("kubectl-why -f scenarios/ -A", t, 0,
                 f"{len(json.loads(res.stdout)['findings'])} findings, offline"))
    t, _ = timed(["kubectl", "version", "--client"],
                 dict(env, PATH=f"{os.path.dirname(shutil.which('kubectl'))}:/usr/bin:/bin"), repeat)
    rows.append(("kubectl version --client", t, 0, "kubectl's own start-up, for scale"))
    return rows


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pods", default="50,300")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--out", default=os.path.join(ROOT, "bench", "RESULTS.md"))
    args = parser.parse_args()
    home = tempfile.mkdtemp(prefix="kdebug-bench-")
    rows = bench_startup(args.repeat, home)
    for n in (int(x) for x in args.pods.split(",")):
        rows += bench_cluster(n, args.repeat, home)
    kubectl_version = subprocess.run(["kubectl", "version", "--client"], capture_output=True,
                                     text=True).stdout.splitlines()[0]
    lines = [
        "# Benchmark results",
        "",
        f"Machine: Python {sys.version.split()[0]}, {kubectl_version}, {os.cpu_count()} CPUs. "
        f"Stand-in API server on 127.0.0.1 (no network latency: real clusters make every request "
        f"cost more, which favours fewer requests). Median of {args.repeat} runs.",
        "",
        "| command | wall time | API requests | notes |",
        "| --- | ---: | ---: | --- |",
    ]
    for name, seconds, requests, note in rows:
        lines.append(f"| `{name}` | {seconds * 1000:.0f} ms | {requests or '—'} | {note} |")
    text = "\n".join(lines) + "\n"
    with open(args.out, "w") as fh:
        fh.write(text)
    print(text)
    shutil.rmtree(home, ignore_errors=True)


if __name__ == "__main__":
    main()
