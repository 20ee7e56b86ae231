#!/usr/bin/env python3
"""Snapshot the test cluster, and split a snapshot into the scenarios' captures (`make capture`).

    capture.py snapshot DIR
        what `kubectl get ... -A -o json`, `kubectl cluster-info dump --output-directory` and
        `kubectl version -o json` print, into DIR (test-cluster.sh's -f tests read it too)
    capture.py moment MANIFEST_DIR TIMEOUT
        wait until the scenarios whose expected.yaml names a crash loop are in their back-off
        (a crash-looping container is `terminated: Error` or running between two back-offs)
    capture.py series DIR INTERVAL COUNT
        a snapshot (`kubectl get ... -A -o json`, no logs) every INTERVAL seconds into DIR/tNNN.json
        until COUNT or DIR/stop: the scenarios on their way from applied to failed
    capture.py split DIR MANIFEST_DIR [SCENARIO...]
        for each scenario applied (realize.py's MANIFEST_DIR/<name>.yaml): its objects, events and
        pod logs from the snapshot into scenarios/<name>/ (tests/realcluster/scenarios/<name>/ for
        the real-cluster-only ones): cluster-state.json, pod-logs.txt, capture.yaml (where and
        when), applied.yaml (the manifest as applied, when realize.py changed it). The names of
        the pods, ReplicaSets and Jobs the new capture has in place of the old one's are written
        to DIR/renames.json (old -> new), and expected.yaml's object names follow them.

A scenario's objects: those its manifest creates, everything they own (ReplicaSets, Pods, Jobs,
controller-made PVCs), their Endpoints and EndpointSlices, the cluster-scoped objects they name
(IngressClass, StorageClass, PersistentVolume), everything in a namespace only that scenario uses,
each namespace's kube-root-ca.crt ConfigMap, the events about any of those, and the node. Secret values are dropped (the keys
are kept): a capture is committed.
"""
import copy
import datetime
import json
import os
import re
import subprocess
import sys
import time

import yaml

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SCENARIOS = os.path.join(ROOT, "scenarios")
EXTRA = os.path.join(ROOT, "tests", "realcluster", "scenarios")

# The kinds a capture holds, in the order `kubectl get` prints them.
KINDS = ("deploy,rs,sts,ds,pods,events,svc,endpoints,endpointslices,cm,secrets,nodes,jobs,cronjobs,pvc,pv,"
         "storageclasses,ingresses,ingressclasses,networkpolicies,resourcequotas,limitranges")
CLUSTER_SCOPED = {"Node", "PersistentVolume", "StorageClass", "IngressClass", "Namespace"}


def run(*args, timeout=300, out=None):
    p = subprocess.run(["kubectl", *args], stdout=out or subprocess.PIPE, stderr=subprocess.PIPE,
                       text=True, timeout=timeout)
    if p.returncode:
        sys.exit(f"capture: kubectl {' '.join(args)} failed: {p.stderr.strip()}")
    return p.stdout


def snapshot(capdir):
    os.makedirs(capdir, exist_ok=True)
    with open(os.path.join(capdir, "cluster-state.json"), "w") as fh:
        run("get", KINDS, "-A", "-o", "json", timeout=120, out=fh)
    run("cluster-info", "dump", "--all-namespaces", "--output-directory", os.path.join(capdir, "dump"))
    with open(os.path.join(capdir, "version.json"), "w") as fh:
        run("version", "-o", "json", timeout=60, out=fh)


def series(outdir, interval, count):
    """Snapshots every `interval` seconds while the scenarios move from applied to failed (the
    timeline test reads them): `kubectl get -A -o json`, no logs. Stops at `count` or when
    outdir/stop exists."""
    os.makedirs(outdir, exist_ok=True)
    for i in range(count):
        t0 = time.time()
        if os.path.exists(os.path.join(outdir, "stop")):
            return
        p = subprocess.run(["kubectl", "get", KINDS, "-A", "-o", "json"], capture_output=True, text=True,
                           timeout=60)
        if p.returncode == 0:
            with open(os.path.join(outdir, f"t{i:03d}.json"), "w") as fh:
                fh.write(p.stdout)
        time.sleep(max(0.0, interval - (time.time() - t0)))


def load_manifests(mdir):
    out = {}
    for f in sorted(x for x in os.listdir(mdir) if x.endswith(".yaml")):
        with open(os.path.join(mdir, f)) as fh:
            out[f[:-5]] = [d for d in yaml.safe_load_all(fh) if d]
    return out


def scenario_dir(name):
    d = os.path.join(SCENARIOS, name)
    return d if os.path.isdir(d) else os.path.join(EXTRA, name)


def expected(name):
    path = os.path.join(scenario_dir(name), "expected.yaml")
    if not os.path.isfile(path):
        return {}
    with open(path) as fh:
        return yaml.safe_load(fh) or {}


def key(o):
    m = o["metadata"]
    return (o["kind"], m.get("namespace", "" if o["kind"] in CLUSTER_SCOPED else "default"), m["name"])


def select(items, docs, shared_namespaces, other_roots=()):
    """The objects of one scenario (its manifest's docs) among a snapshot's items. Events about
    objects gone by now (a Job's deleted pods) are matched by name prefix, unless the name also
    starts with a longer name another scenario's manifest holds (orders- vs orders-api-)."""
    roots = {key(d) for d in docs}
    own_ns = {k[2] for k in roots if k[0] == "Namespace"} | {
        k[1] for k in roots if k[1] and k[1] not in shared_namespaces}
    chosen, uids = [], set()
    by_uid = {o["metadata"].get("uid"): o for o in items}

    def owned(o):
        return any(r.get("uid") in uids for r in o["metadata"].get("ownerReferences") or [])

    services = {(k[1], k[2]) for k in roots if k[0] == "Service"}
    namespaces = {k[1] for k in roots if k[1]} | {k[2] for k in roots if k[0] == "Namespace"}
    claims = set()
    for d in docs:
        if d["kind"] == "StatefulSet":
            ns = d["metadata"].get("namespace", "default")
            for t in d["spec"].get("volumeClaimTemplates") or []:
                claims.add((ns, f"{t['metadata']['name']}-{d['metadata']['name']}-"))
    # owners before what they own: repeat until nothing new joins
    changed = True
    while changed:
        changed = False
        for o in items:
            if o["metadata"].get("uid") in uids or o["kind"] == "Event":
                continue
            k = key(o)
            ns = k[1]
            take = (k in roots or owned(o) or (ns in own_ns and o["kind"] not in CLUSTER_SCOPED)
                    or o["kind"] == "Node"
                    or (o["kind"] == "Endpoints" and (ns, k[2]) in services)
                # every namespace has it: `kubectl get cm` shows that ConfigMaps were listed
                or (o["kind"] == "ConfigMap" and k[2] == "kube-root-ca.crt" and ns in namespaces)
                    or (o["kind"] == "EndpointSlice"
                        and (ns, o["metadata"].get("labels", {}).get("kubernetes.io/service-name")) in services)
                    or (o["kind"] == "PersistentVolumeClaim" and any(ns == c[0] and k[2].startswith(c[1])
                                                                    for c in claims)))
            if take:
                uids.add(o["metadata"].get("uid"))
                changed = True
    # the cluster-scoped objects they name: an Ingress's class, a claim's StorageClass and volume
    named = set()
    for o in items:
        if o["metadata"].get("uid") in uids:
            spec = o.get("spec") or {}
            if o["kind"] == "Ingress" and spec.get("ingressClassName"):
                named.add(("IngressClass", "", spec["ingressClassName"]))
            if o["kind"] == "PersistentVolumeClaim":
                named |= {("StorageClass", "", spec.get("storageClassName") or ""),
                          ("PersistentVolume", "", spec.get("volumeName") or "")}
    uids |= {o["metadata"].get("uid") for o in items if key(o) in named}
    names = {(key(o)[1], key(o)[2]) for o in items if o["metadata"].get("uid") in uids}
    prefixes = [(k[1], k[2] + "-") for k in roots if k[0] not in ("Namespace",) and k[1]]
    others = [(k[1], k[2]) for k in other_roots if k[1]]

    def by_prefix(ns, n):
        return any(ns == p[0] and n.startswith(p[1]) for p in prefixes) and not any(
            ns == q[0] and (n == q[1] or n.startswith(q[1] + "-")) and len(q[1]) >= len(p[1])
            for q in others for p in prefixes if n.startswith(p[1]))
    for o in items:
        if o["kind"] != "Event":
            continue
        io = o.get("involvedObject") or {}
        ns, n = io.get("namespace", ""), io.get("name", "")
        if (io.get("uid") in uids and by_uid.get(io.get("uid"), {}).get("kind") != "Node") \
                or (ns in own_ns) or (ns, n) in names and io.get("kind") != "Node" \
                or by_prefix(ns, n):
            uids.add(o["metadata"].get("uid"))
    return [_without_secret_values(o) for o in items if o["metadata"].get("uid") in uids]


def _without_secret_values(o):
    if o["kind"] != "Secret":
        return o
    o = copy.deepcopy(o)
    for field in ("data", "stringData"):
        if o.get(field):
            o[field] = {k: "" for k in o[field]}
    o["metadata"].get("annotations", {}).pop("kubectl.kubernetes.io/last-applied-configuration", None)
    return o


def pod_logs(dumpdir, pods):
    """The pods' log sections as cluster-info dump wrote them (NS/POD/logs.txt)."""
    parts = []
    for p in pods:
        path = os.path.join(dumpdir, p["metadata"]["namespace"], p["metadata"]["name"], "logs.txt")
        if os.path.isfile(path):
            with open(path, errors="replace") as fh:
                text = fh.read()
            if re.search(r"^==== START logs", text, re.M):
                parts.append(text if text.endswith("\n") else text + "\n")
    return "".join(parts)


def top_owner(o, by_uid):
    seen = 0
    while seen < 5:
        refs = [r for r in o["metadata"].get("ownerReferences") or [] if r.get("controller")]
        if not refs or refs[0].get("uid") not in by_uid:
            break
        o = by_uid[refs[0]["uid"]]
        seen += 1
    return key(o)


def _order(o):
    ann = o["metadata"].get("annotations") or {}
    return (int(ann.get("deployment.kubernetes.io/revision", "0") or 0), o["metadata"].get("creationTimestamp", ""),
            o["metadata"]["name"])


def renames(old_items, new_items):
    """Old generated names -> new ones: Pods, ReplicaSets and Jobs paired within their top owner by
    revision and creation order (the objects a manifest names keep their names)."""
    out = {}
    groups = {}
    for side, items in (("old", old_items), ("new", new_items)):
        by_uid = {o["metadata"].get("uid"): o for o in items}
        for o in items:
            if o["kind"] in ("Pod", "ReplicaSet", "Job") and o["metadata"].get("ownerReferences"):
                g = groups.setdefault((o["kind"], top_owner(o, by_uid)), {"old": [], "new": []})
                g[side].append(o)
    for g in groups.values():
        old, new = sorted(g["old"], key=_order), sorted(g["new"], key=_order)
        for a, b in zip(old, new):
            if a["metadata"]["name"] != b["metadata"]["name"]:
                out[a["metadata"]["name"]] = b["metadata"]["name"]
    return out


def rename_expected(name, mapping):
    path = os.path.join(scenario_dir(name), "expected.yaml")
    if not os.path.isfile(path) or not mapping:
        return
    with open(path) as fh:
        text = fh.read()
    for old in sorted(mapping, key=len, reverse=True):
        text = re.sub(rf"\b{re.escape(old)}\b", mapping[old], text)
    with open(path, "w") as fh:
        fh.write(text)


def split(capdir, mdir, only=()):
    with open(os.path.join(capdir, "cluster-state.json")) as fh:
        items = json.load(fh)["items"]
    with open(os.path.join(capdir, "version.json")) as fh:
        version = json.load(fh)
    manifests = load_manifests(mdir)
    ns_users = {}
    for name, docs in manifests.items():
        for d in docs:
            ns = d["metadata"].get("namespace", "default") if d["kind"] not in CLUSTER_SCOPED else None
            if ns:
                ns_users.setdefault(ns, set()).add(name)
    shared = {ns for ns, users in ns_users.items() if len(users) > 1} | {"default", "kube-system"}
    node = next((o for o in items if o["kind"] == "Node"), {})
    info = (node.get("status") or {}).get("nodeInfo") or {}
    taken = max((o["metadata"].get("creationTimestamp") or "" for o in items), default="")
    taken = max([taken] + [e.get("lastTimestamp") or e.get("eventTime") or "" for e in items if e["kind"] == "Event"])
    all_renames = {}
    for name, docs in manifests.items():
        if only and name not in only:
            continue
        out = scenario_dir(name)
        os.makedirs(out, exist_ok=True)
        others = {key(d) for n, ds in manifests.items() if n != name for d in ds}
        mine = select(items, docs, shared, others)
        old_path = os.path.join(out, "cluster-state.json")
        if os.path.isfile(old_path):
            with open(old_path) as fh:
                mapping = renames(json.load(fh).get("items") or [], mine)
            all_renames[name] = mapping
            rename_expected(name, mapping)
        with open(old_path, "w") as fh:
            json.dump({"apiVersion": "v1", "items": mine, "kind": "List",
                       "metadata": {"resourceVersion": ""}}, fh, indent=4)
            fh.write("\n")
        logs = pod_logs(os.path.join(capdir, "dump"), [o for o in mine if o["kind"] == "Pod"])
        log_path = os.path.join(out, "pod-logs.txt")
        if logs:
            with open(log_path, "w") as fh:
                fh.write(logs)
        elif os.path.exists(log_path):
            os.remove(log_path)
        with open(os.path.join(out, "capture.yaml"), "w") as fh:
            fh.write(f"# Where and when this scenario's cluster-state.json{' and pod-logs.txt' if logs else ''} "
                     f"were captured (tests/cluster/capture.py, `make capture`).\n")
            yaml.safe_dump({
                "capturedAt": taken,
                "cluster": "kdebug's single-node test cluster (tests/cluster/), built from Kubernetes' own Go modules",
                "kubernetes": version.get("serverVersion", {}).get("gitVersion"),
                "kubectl": version.get("clientVersion", {}).get("gitVersion"),
                "node": {"name": node.get("metadata", {}).get("name"),
                         "containerRuntime": info.get("containerRuntimeVersion"),
                         "kubelet": info.get("kubeletVersion"), "kernel": info.get("kernelVersion"),
                         "os": info.get("osImage")},
                "applied": "applied.yaml" if _changed(name, docs) else "manifest.yaml",
                "commands": [f"kubectl get {KINDS} -A -o json  (this scenario's objects, events and node)",
                             "kubectl cluster-info dump --all-namespaces --output-directory DIR  (NS/POD/logs.txt)"],
                "secretValues": "removed (keys kept)",
            }, fh, sort_keys=False, width=110)
        if _changed(name, docs):
            with open(os.path.join(out, "applied.yaml"), "w") as fh:
                fh.write("# The manifest as applied to the test cluster: tests/cluster/realize.py's version of\n"
                         "# manifest.yaml (images no registry here serves replaced by busybox doing the same).\n")
                yaml.safe_dump_all(docs, fh, sort_keys=False)
        elif os.path.exists(os.path.join(out, "applied.yaml")):
            os.remove(os.path.join(out, "applied.yaml"))
        print(f"capture: {name}: {len(mine)} objects, {len(logs.splitlines())} log lines -> "
              f"{os.path.relpath(out, ROOT)}")
    with open(os.path.join(capdir, "renames.json"), "w") as fh:
        json.dump(all_renames, fh, indent=2, sort_keys=True)


def _changed(name, docs):
    path = os.path.join(scenario_dir(name), "manifest.yaml")
    if not os.path.isfile(path):
        return False
    with open(path) as fh:
        return [d for d in yaml.safe_load_all(fh) if d] != docs


def moment(mdir, timeout):
    """Wait until every workload that expected.yaml says is in CrashLoopBackOff is in its back-off."""
    want = []
    for name in load_manifests(mdir):
        for e in expected(name).get("why") or []:
            if e.get("reason") == "CrashLoopBackOff" and e.get("owner"):
                want.append((name, e["owner"]["namespace"], e["owner"]["name"], e.get("container")))
    deadline = time.time() + timeout
    while True:
        pods = json.loads(run("get", "pods", "-A", "-o", "json", timeout=60))["items"]
        missing = []
        for name, ns, owner, container in want:
            mine = [p for p in pods if p["metadata"]["namespace"] == ns and p["metadata"]["name"].startswith(owner + "-")]
            if not any((s.get("state") or {}).get("waiting", {}).get("reason") == "CrashLoopBackOff"
                       and (not container or s["name"] == container)
                       for p in mine for s in (p["status"].get("containerStatuses") or [])
                       + (p["status"].get("initContainerStatuses") or [])):
                missing.append(name)
        if not missing:
            return
        if time.time() > deadline:
            sys.exit(f"capture: not in CrashLoopBackOff after {timeout:.0f}s: {', '.join(missing)}")
        time.sleep(1)


def main():
    cmd = sys.argv[1:2]
    if cmd == ["snapshot"]:
        snapshot(sys.argv[2])
    elif cmd == ["moment"]:
        moment(sys.argv[2], float(sys.argv[3]))
    elif cmd == ["series"]:
        series(sys.argv[2], float(sys.argv[3]), int(sys.argv[4]))
    elif cmd == ["split"]:
        split(sys.argv[2], sys.argv[3], set(sys.argv[4:]))
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
