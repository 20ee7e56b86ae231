#!/usr/bin/env python3
"""Wait until each applied scenario's failure has really happened on the test cluster.

usage: wait_scenarios.py MANIFEST_DIR TIMEOUT_SECONDS

For each manifest in MANIFEST_DIR (realize.py's output), the workloads it creates are found by owner
(Deployment -> ReplicaSet -> Pod, Job -> Pod) and a condition is polled: a crash loop restarted,
an OOM kill recorded, probes failed with the kubelet's Unhealthy events, Pending with
FailedScheduling, ... Prints one line per scenario when it is reached, and at the timeout the ones
that were not (exit 1), so that a test failure later is not mistaken for a diagnosis bug.
"""
import json
import os
import subprocess
import sys
import time

import yaml


def kubectl_json(*args):
    p = subprocess.run(["kubectl", *args, "-o", "json"], capture_output=True, text=True, timeout=60)
    if p.returncode:
        raise RuntimeError(p.stderr.strip())
    return json.loads(p.stdout)


def statuses(pod, init=False):
    return (pod.get("status") or {}).get("initContainerStatuses" if init else "containerStatuses") or []


def restarted(n, init=False):
    return lambda pods, ev: pods and all(any(s.get("restartCount", 0) >= n for s in statuses(p, init)) for p in pods)


def waiting(reason, init=False):
    return lambda pods, ev: pods and all(any((s.get("state") or {}).get("waiting", {}).get("reason") == reason
                                             for s in statuses(p, init)) for p in pods)


def last_terminated(reason=None, code=None):
    def ok(pods, ev):
        for p in pods:
            found = False
            for s in statuses(p):
                t = (s.get("lastState") or {}).get("terminated") or {}
                if t and (reason is None or t.get("reason") == reason) and (code is None or t.get("exitCode") == code):
                    found = True
            if not found:
                return False
        return bool(pods)
    return ok


def ready(pods, ev):
    return pods and all(any(c["type"] == "Ready" and c["status"] == "True"
                            for c in (p.get("status") or {}).get("conditions") or []) for p in pods)


def unschedulable(pods, ev):
    return pods and all(any(c["type"] == "PodScheduled" and c.get("reason") == "Unschedulable"
                            for c in (p.get("status") or {}).get("conditions") or []) for p in pods)


def event(reason, contains="", count=1):
    return lambda pods, ev: sum(e.get("count") or 1 for e in ev
                                if e.get("reason") == reason and contains in (e.get("message") or "")) >= count


OBJECTS = {}   # (kind, namespace, name) -> the object, refreshed at each poll


def condition(kind, ns, name, ctype, status, reason=None):
    def ok(pods, ev):
        obj = OBJECTS.get((kind, ns, name)) or {}
        return any(c["type"] == ctype and c["status"] == status and (reason is None or c.get("reason") == reason)
                   for c in (obj.get("status") or {}).get("conditions") or [])
    return ok


def phase(kind, ns, name, value):
    return lambda pods, ev: ((OBJECTS.get((kind, ns, name)) or {}).get("status") or {}).get("phase") == value


def pod_phase_reason(reason):
    return lambda pods, ev: any((p.get("status") or {}).get("reason") == reason for p in pods)


def every(*conds):
    return lambda pods, ev: all(c(pods, ev) for c in conds)


def any_of(*conds):
    return lambda pods, ev: any(c(pods, ev) for c in conds)


CONDITIONS = {
    "01-image-pull-error": waiting("ImagePullBackOff"),
    "02-crashloop-backoff": every(restarted(2), waiting("CrashLoopBackOff")),
    "03-resource-constraints": every(last_terminated("OOMKilled", 137), restarted(2)),
    "04-service-connectivity": ready,
    "05-config-issues": waiting("CreateContainerConfigError"),
    "06-liveness-readiness": every(event("Unhealthy", "Liveness probe failed", 3),
                                   event("Unhealthy", "Readiness probe failed", 3), event("Killing")),
    "07-pending-insufficient-memory": every(unschedulable, event("FailedScheduling", "Insufficient memory")),
    "09-init-container-crash": every(restarted(2, init=True)),
    "10-missing-secret-key": waiting("CreateContainerConfigError"),
    "11-command-not-found": every(restarted(1), any_of(waiting("CrashLoopBackOff"), waiting("RunContainerError"))),
    "12-service-targetport-name-mismatch": ready,
    "13-service-readiness-probe-failing": event("Unhealthy", "Readiness probe failed", 4),
    "14-service-networkpolicy-deny-all": ready,
    "15-service-healthy": ready,
    "20-readiness-wrong-port": event("Unhealthy", "Readiness probe failed", 3),
    "21-exec-probe-failing": every(restarted(1), last_terminated(code=137)),
    "22-slow-start-liveness": every(restarted(1), event("Killing")),
    "23-probe-port-name-missing": event("Unhealthy", "strconv.Atoi"),
    "24-healthy-probes": ready,
    "30-exit-137-not-oom": every(last_terminated("Error", 137), restarted(1)),
    "40-quota-exhausted-no-pods": every(event("FailedCreate", "exceeded quota"), ready),
    "41-rollout-stuck-bad-image-tag": condition("Deployment", "catalog", "catalog-api", "Progressing", "False",
                                                "ProgressDeadlineExceeded"),
    "42-job-backoff-limit": condition("Job", "batch", "schema-migrate", "Failed", "True", "BackoffLimitExceeded"),
    "43-pvc-storageclass-not-found": every(event("ProvisioningFailed", "fast-ssd"), event("FailedScheduling")),
    "44-ingress-backend-missing": ready,
    "45-cronjob-forbid-blocked": event("JobAlreadyActive"),
    "46-ingress-class-and-tls-missing": ready,
    # tests/realcluster/scenarios/
    "90-image-tag-missing": waiting("ImagePullBackOff"),
    "91-image-private": waiting("ImagePullBackOff"),
    "92-image-rate-limited": waiting("ImagePullBackOff"),
    "93-job-backoff-limit": condition("Job", "default", "nightly-report", "Failed", "True", "BackoffLimitExceeded"),
    "94-rollout-stuck": every(waiting("ImagePullBackOff"),
                              condition("Deployment", "default", "checkout", "Progressing", "False",
                                        "ProgressDeadlineExceeded")),
    "95-pvc-missing-storageclass": every(phase("PersistentVolumeClaim", "default", "ledger-data", "Pending"),
                                         event("ProvisioningFailed", "fast-ssd"),
                                         event("FailedScheduling")),
    "96-resource-quota": event("FailedCreate", "exceeded quota"),
    "97-pod-security-restricted": event("FailedCreate", "violates PodSecurity"),
    "98-emptydir-sizelimit-eviction": pod_phase_reason("Evicted"),
    "88-service-pods-in-other-namespace": ready,
    "89-service-no-selector": ready,
}


def owned(doc, pods, rs):
    """The pods a manifest's workload owns (Deployment via its ReplicaSets, Job, bare Pod)."""
    kind, name = doc["kind"], doc["metadata"]["name"]
    ns = doc["metadata"].get("namespace", "default")
    if kind == "Pod":
        return [p for p in pods if p["metadata"]["namespace"] == ns and p["metadata"]["name"] == name]
    owners = {(ns, name)}
    if kind == "Deployment":
        owners = {(r["metadata"]["namespace"], r["metadata"]["name"]) for r in rs
                  if any(o["kind"] == "Deployment" and o["name"] == name for o in r["metadata"].get("ownerReferences") or [])
                  and r["metadata"]["namespace"] == ns}
    elif kind not in ("Job", "StatefulSet", "DaemonSet", "ReplicaSet"):
        return None
    return [p for p in pods
            if any((p["metadata"]["namespace"], o["name"]) in owners for o in p["metadata"].get("ownerReferences") or [])]


def main():
    mdir, timeout = sys.argv[1], float(sys.argv[2])
    scenarios = {}
    for f in sorted(x for x in os.listdir(mdir) if x.endswith(".yaml")):
        with open(os.path.join(mdir, f)) as fh:
            scenarios[f[:-5]] = [d for d in yaml.safe_load_all(fh) if d]
    pending = {n for n in scenarios if n in CONDITIONS}
    deadline = time.time() + timeout
    t0 = time.time()
    while pending and time.time() < deadline:
        try:
            pods = kubectl_json("get", "pods", "-A")["items"]
            rs = kubectl_json("get", "replicasets", "-A")["items"]
            events = kubectl_json("get", "events", "-A")["items"]
            OBJECTS.clear()
            for o in kubectl_json("get", "deployments,jobs,pvc", "-A")["items"]:
                OBJECTS[(o["kind"], o["metadata"]["namespace"], o["metadata"]["name"])] = o
        except Exception as e:  # the API server restarting, a timeout: try again
            print(f"wait: {e}", file=sys.stderr)
            time.sleep(3)
            continue
        for name in sorted(pending):
            docs = scenarios[name]
            mine = []
            for d in docs:
                got = owned(d, pods, rs)
                if got:
                    mine += got
            names = {p["metadata"]["name"] for p in mine} | {d["metadata"]["name"] for d in docs}
            ev = [e for e in events if (e.get("involvedObject") or {}).get("name", "") in names
                  or any(d["metadata"]["name"] + "-" in (e.get("involvedObject") or {}).get("name", "")
                         for d in docs if d["kind"] != "Namespace")]
            if CONDITIONS[name](mine, ev):
                print(f"wait: {name} reached after {time.time() - t0:.0f}s", flush=True)
                pending.discard(name)
        if pending:
            time.sleep(3)
    if pending:
        print(f"wait: not reached after {timeout:.0f}s: {', '.join(sorted(pending))}", flush=True)
        sys.exit(1)


if __name__ == "__main__":
    main()
