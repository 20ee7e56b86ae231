#!/usr/bin/env python3
"""Turn the bundled scenarios into manifests this test cluster can run, and say which cannot run.

The scenarios' manifests name public images (nginx, python, polinux/stress, redis) that no
registry here serves. Each container that must really run is given the locally served busybox
image and a busybox command that keeps the scenario's point: the same ports, paths, exit codes,
log lines and timings. Images whose pull must fail (01's nonexistent/fake-image) are kept. Nothing
else in the manifests changes (names, labels, probes, resources, selectors).

    realize.py OUTDIR            writes OUTDIR/<scenario>.yaml for every scenario that runs here
    realize.py --skipped         prints the scenarios that cannot run here and why
"""
import copy
import os
import sys

import yaml

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SCENARIOS = os.path.join(ROOT, "scenarios")
EXTRA = os.path.join(ROOT, "tests", "realcluster", "scenarios")
BUSYBOX = "busybox:1.35"   # docker.io/library/busybox:1.35, served by tests/cluster/registry.py


def httpd(port):
    return {"command": ["httpd", "-f", "-p", str(port), "-h", "/www"], "args": None}


def sh(script):
    return {"command": ["sh", "-c"], "args": [script]}


SLOW_START = r'''log() { echo "$(date '+%Y-%m-%d %H:%M:%S') INFO $*"; }
log "loading model weights from /models/resnet152-int8 (48 shards)"
for shard in $(seq 1 48); do
  sleep 2  # stands in for reading and deserialising one shard
  if [ $((shard % 6)) -eq 0 ]; then log "loaded $shard/48 weight shards"; fi
done
mkdir -p /tmp/www && touch /tmp/www/health /tmp/www/ready
log "model loaded; serving on :8080"
exec httpd -f -p 8080 -h /tmp/www'''

# busybox's nc (Debian's build) has no -z: a connection closed at once by </dev/null is the check
MIGRATE = r'''echo "Applying migrations to $DB_HOST:$DB_PORT ..."
if err=$(nc -w 5 "$DB_HOST" "$DB_PORT" </dev/null 2>&1); then echo "migrations applied"; exit 0; fi
echo "migration failed: cannot connect to $DB_HOST:$DB_PORT: ${err:-connection refused}" >&2
exit 1'''

# The ledger sync's deadline: `timeout -s KILL 55` as PID 1 would be the process that is killed
# in busybox (its timeout execs the program and a child sends the signal), and PID 1 cannot be
# SIGKILLed from inside its namespace; so sh is PID 1 and exits with the killed child's 137
# (its own "Killed" notice, which python's run does not print, goes to /dev/null).
LEDGER = r'''echo "ledger-sync 2.4.1: connecting to ledger-db:5432"
echo "ledger-sync: waiting for advisory lock 'ledger-sync' (held by another session)"
{ timeout -s KILL 55 sleep 3600; } 2>/dev/null
exit $?'''

PSQL = r'''# psql's own words when the host name does not resolve (busybox has no psql; the lookup is real)
if ! nslookup postgres >/dev/null 2>&1; then
  echo 'psql: error: could not translate host name "postgres" to address: Name or service not known' >&2
  exit 2
fi
exit 0'''

# (scenario, container) -> changes to that container; image defaults to BUSYBOX.
OVERRIDES = {
    ("02-crashloop-backoff", "app"): sh("echo Starting...; exit 1"),
    # 256M written into a 128Mi limit: dd is PID 1 and the kernel's memcg OOM killer kills it
    ("03-resource-constraints", "app"): {"command": ["dd", "if=/dev/zero", "of=/dev/null", "bs=256M",
                                                     "count=1"], "args": None},
    ("07-pending-insufficient-memory", "app"): httpd(8080),
    ("09-init-container-crash", "migrate"): sh(MIGRATE),
    ("09-init-container-crash", "app"): httpd(8080),
    ("11-command-not-found", "app"): {},        # keeps its command: pythn is not in the image either
    ("20-readiness-wrong-port", "app"): httpd(8000),
    ("21-exec-probe-failing", "worker"): {},     # already a /bin/sh script
    ("22-slow-start-liveness", "server"): sh(SLOW_START),
    ("30-exit-137-not-oom", "sync"): sh(LEDGER),
    ("40-quota-exhausted-no-pods", "ledger"): httpd(8080),
    ("40-quota-exhausted-no-pods", "api"): httpd(8080),
    # 2.0.1 was never pushed: the registry stand-in serves acme/catalog-api:2.0.0 only
    ("41-rollout-stuck-bad-image-tag", "api"): {"image": "ghcr.io/acme/catalog-api:2.0.1"},
    ("42-job-backoff-limit", "migrate"): sh(PSQL),
    ("43-pvc-storageclass-not-found", "postgres"): {"command": ["sleep", "3600"]},  # never scheduled
    # a run that takes longer than the one-minute schedule (the scenario's README says the same)
    ("45-cronjob-forbid-blocked", "export"): sh("echo 'export: exporting the last 24h of ledger entries'; "
                                                "exec sleep 3600"),
    ("46-ingress-class-and-tls-missing", "wiki"): sh("mkdir -p /tmp/www && echo ok > /tmp/www/healthz && "
                                                     "exec httpd -f -p 3000 -h /tmp/www"),
}

# Objects the scenario's cluster had besides its manifest (its cluster-state.json shows them).
ALSO = {
    "46-ingress-class-and-tls-missing": [
        {"apiVersion": "networking.k8s.io/v1", "kind": "IngressClass",
         "metadata": {"name": "nginx", "annotations": {"ingressclass.kubernetes.io/is-default-class": "true"}},
         "spec": {"controller": "k8s.io/ingress-nginx"}},
        {"apiVersion": "v1", "kind": "Secret", "type": "kubernetes.io/tls",
         "metadata": {"name": "wiki-tls", "namespace": "kb"},
         "stringData": {"tls.crt": "not a certificate: only its name matters here",
                        "tls.key": "not a key"}},
    ],
}

def _set_image(container, image):
    def change(docs):
        for d in docs:
            for c in ((d.get("spec") or {}).get("template") or {}).get("spec", {}).get("containers", []):
                if c["name"] == container:
                    c["image"] = image
        return docs
    return change


def _without(kind, name):
    return lambda docs: [d for d in docs if (d["kind"], d["metadata"]["name"]) != (kind, name)]


# Scenarios whose state comes from an order of events: what is applied and rolled out first.
BEFORE = {
    # revision 1 (2.0.0) runs before revision 2 (2.0.1, never pushed) is rolled out
    "41-rollout-stuck-bad-image-tag": _set_image("api", "ghcr.io/acme/catalog-api:2.0.0"),
    # ledger (2 x 384Mi) was there first; report-api's pods then exceed the 1Gi quota (applied
    # together, whichever ReplicaSet the controller manager syncs first takes the quota)
    "40-quota-exhausted-no-pods": _without("Deployment", "report-api"),
}

SKIPPED = {
    "08-evicted-memory-pressure": "needs the node itself short of memory (kubelet memory-pressure "
                                  "eviction); this machine is shared with other tests",
    "31-node-oom": "needs the kernel's global OOM killer (the whole node out of memory), which would "
                   "take other processes on this shared machine with it",
    "32-memory-near-limit": "needs the metrics API (metrics-server), which this cluster does not run",
}


class NotRealized(Exception):
    pass


def realize_container(scenario, c):
    key = (scenario, c["name"])
    image = c.get("image", "")
    if key in OVERRIDES:
        change = dict({"image": BUSYBOX}, **OVERRIDES[key])
        if change["image"] != BUSYBOX:
            change.setdefault("command", c.get("command"))
    elif image.startswith("nginx:"):
        change = dict({"image": BUSYBOX}, **httpd(80))
    else:
        return c                                  # e.g. 01's image that must fail to pull
    c = copy.deepcopy(c)
    for k, v in change.items():
        if v is None:
            c.pop(k, None)
        else:
            c[k] = v
    return c


def realize(scenario, docs):
    out = []
    for d in docs:
        if not d:
            continue
        d = copy.deepcopy(d)
        spec = d.get("spec") or {}
        tmpl = spec.get("template", {}).get("spec") if "template" in spec else (
            spec if d.get("kind") == "Pod" else None)
        if d.get("kind") == "CronJob":
            tmpl = spec["jobTemplate"]["spec"]["template"]["spec"]
        if tmpl:
            for field in ("initContainers", "containers"):
                if tmpl.get(field):
                    tmpl[field] = [realize_container(scenario, c) for c in tmpl[field]]
            unknown = [c["image"] for c in tmpl.get("containers", []) + tmpl.get("initContainers", [])
                       if not c["image"].startswith(BUSYBOX) and scenario != "01-image-pull-error"
                       and (scenario, c["name"]) not in OVERRIDES]
            if unknown:
                raise NotRealized(f"{scenario}: no local stand-in for image(s) {', '.join(unknown)}: "
                                  f"add its containers to OVERRIDES in tests/cluster/realize.py "
                                  f"(or the scenario to SKIPPED, saying why it cannot run here)")
        out.append(d)
    return out


def scenario_names():
    return sorted(n for n in os.listdir(SCENARIOS) if os.path.isfile(os.path.join(SCENARIOS, n, "manifest.yaml")))


def main():
    if sys.argv[1:] == ["--skipped"]:
        for k, v in SKIPPED.items():
            print(f"{k}: {v}")
        return
    outdir = sys.argv[1]
    os.makedirs(os.path.join(outdir, "before"), exist_ok=True)
    failed = []
    for name in scenario_names():
        if name in SKIPPED:
            continue
        with open(os.path.join(SCENARIOS, name, "manifest.yaml")) as fh:
            docs = list(yaml.safe_load_all(fh))
        try:
            out = realize(name, docs) + copy.deepcopy(ALSO.get(name, []))
        except NotRealized as e:
            failed.append(str(e))
            continue
        with open(os.path.join(outdir, name + ".yaml"), "w") as fh:
            yaml.safe_dump_all(out, fh, sort_keys=False)
        if name in BEFORE:
            first = BEFORE[name](copy.deepcopy(out))
            with open(os.path.join(outdir, "before", name + ".yaml"), "w") as fh:
                yaml.safe_dump_all(first, fh, sort_keys=False)
    with open(os.path.join(outdir, "not-realized.txt"), "w") as fh:
        fh.write("".join(f + "\n" for f in failed))
    for f in failed:
        print(f"realize: {f}", file=sys.stderr)
    if os.path.isdir(EXTRA):   # the real-cluster-only scenarios use the local images already
        for name in sorted(os.listdir(EXTRA)):
            src = os.path.join(EXTRA, name, "manifest.yaml")
            if os.path.isfile(src):
                with open(src) as fh, open(os.path.join(outdir, name + ".yaml"), "w") as out:
                    out.write(fh.read())


if __name__ == "__main__":
    main()
