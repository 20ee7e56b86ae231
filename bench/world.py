"""A synthetic cluster for scale benchmarks: N pods in 10 namespaces, 20 % failing, ~3.5 events a pod.

Every object is a renamed copy of an object of the bundled scenarios (captured from kind clusters),
so the wording of statuses and events is what a kubelet or controller prints:

* healthy pods: scenario 15's `storefront` pod (Running, ready, readiness probe) and its kubelet
  events (Scheduled, Pulled, Created, Started), trimmed so that the world averages ~3.5 events a pod;
* failing pods (one in five), in turn: image pull error (01), crash loop (02), OOMKilled (03),
  Pending on memory (07), command not found (11), readiness probe failing (13), exit 137 not OOM
  (30), node OOM (31, with the node's SystemOOM events on the node it runs on), exec probe
  failing (21), init container crash (09) — each with all of its own events and logs;
* apps of 10 pods: a Deployment, its ReplicaSet (the pods' controller), a Service selecting them
  and the EndpointSlice the endpointslice controller would write (so 10,000 pods = 1,000 Services);
* nodes: one per 50 pods (at least 3), scenario 07's Ready worker node renamed;
* every pod carries the managedFields a real API server keeps (kube-controller-manager's create and
  the kubelet's status updates), the largest part of a real pod that no analyzer reads.

    python bench/world.py 1000 > world.json     # a kubectl List, for -f or the stand-in server
"""

import copy
import json
import os
import re
import sys
from typing import Dict, List, Tuple

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

LOG_BLOCK = re.compile(r"^==== START logs for container (\S+) of pod ([^/\s]+)/(\S+) ====\n(.*?)"
                       r"^==== END logs for container \1 of pod \2/\3 ====$", re.M | re.S)


def load_scenario(path: str):
    """A scenario's objects (cluster-state.json, a kubectl List) and its logs (pod-logs.txt), read
    directly: the harness must not depend on kdebug_core, which it measures."""
    with open(os.path.join(path, "cluster-state.json")) as fh:
        doc = json.load(fh)
    objects = [dict(o, kind=o.get("kind") or doc["kind"][:-4]) for o in doc.get("items", [])] \
        if doc.get("kind", "").endswith("List") else [doc]
    logs = {}
    log_path = os.path.join(path, "pod-logs.txt")
    if os.path.exists(log_path):
        with open(log_path) as fh:
            for container, ns, pod, text in LOG_BLOCK.findall(fh.read()):
                logs[(ns, pod, container)] = text
    return objects, logs

NAMESPACES = [f"team-{i:02d}" for i in range(10)]
APP_SIZE = 10
PODS_PER_NODE = 50
EVENTS_PER_POD = 3.5

HEALTHY = ("15-service-healthy", "storefront-645f7675c5-nf9lw")
FAILING = [
    ("01-image-pull-error", "broken-image-845fbd988f-kbm72"),
    ("02-crashloop-backoff", "crasher-859cdd79dd-fp4lk"),
    ("03-resource-constraints", "memory-hog-5bb769c8d4-2mz8t"),
    ("07-pending-insufficient-memory", "model-server-7d9579745-hgvk7"),
    ("11-command-not-found", "report-worker-7b597585f7-dmvvn"),
    ("13-service-readiness-probe-failing", "orders-584b6b46d-brmn6"),
    ("30-exit-137-not-oom", "ledger-sync-7b89d4f797-2x9cg"),
    ("31-node-oom", "batch-import-7xk4d9bfwq-h2xnr"),
    ("21-exec-probe-failing", "heartbeat-7bd4cf5cf6-dwnwk"),
    ("09-init-container-crash", "orders-api-65ff49bd55-gms5j"),
]


def _managed_fields(created: str) -> List[dict]:
    """What `kubectl get pod -o json --show-managed-fields` shows for a ReplicaSet's pod."""
    return [
        {"apiVersion": "v1", "fieldsType": "FieldsV1", "manager": "kube-controller-manager",
         "operation": "Update", "time": created, "fieldsV1": {
             "f:metadata": {"f:generateName": {}, "f:labels": {".": {}, "f:app": {},
                                                               "f:pod-template-hash": {}},
                            "f:ownerReferences": {".": {}, "k:{\"uid\":\"x\"}": {}}},
             "f:spec": {"f:containers": {"k:{\"name\":\"web\"}": {
                 ".": {}, "f:image": {}, "f:imagePullPolicy": {}, "f:name": {},
                 "f:ports": {".": {}, "k:{\"containerPort\":80,\"protocol\":\"TCP\"}": {
                     ".": {}, "f:containerPort": {}, "f:name": {}, "f:protocol": {}}},
                 "f:readinessProbe": {".": {}, "f:failureThreshold": {}, "f:httpGet": {
                     ".": {}, "f:path": {}, "f:port": {}, "f:scheme": {}}, "f:periodSeconds": {},
                     "f:successThreshold": {}, "f:timeoutSeconds": {}},
                 "f:resources": {}, "f:terminationMessagePath": {}, "f:terminationMessagePolicy": {}}},
                 "f:dnsPolicy": {}, "f:enableServiceLinks": {}, "f:restartPolicy": {},
                 "f:schedulerName": {}, "f:securityContext": {}, "f:terminationGracePeriodSeconds": {}}}},
        {"apiVersion": "v1", "fieldsType": "FieldsV1", "manager": "kubelet", "operation": "Update",
         "subresource": "status", "time": created, "fieldsV1": {"f:status": {
             "f:conditions": {
                 "k:{\"type\":\"ContainersReady\"}": {".": {}, "f:lastProbeTime": {},
                                                      "f:lastTransitionTime": {}, "f:status": {},
                                                      "f:type": {}},
                 "k:{\"type\":\"Initialized\"}": {".": {}, "f:lastProbeTime": {},
                                                  "f:lastTransitionTime": {}, "f:status": {},
                                                  "f:type": {}},
                 "k:{\"type\":\"PodReadyToStartContainers\"}": {".": {}, "f:lastProbeTime": {},
                                                                "f:lastTransitionTime": {},
                                                                "f:status": {}, "f:type": {}},
                 "k:{\"type\":\"Ready\"}": {".": {}, "f:lastProbeTime": {},
                                            "f:lastTransitionTime": {}, "f:status": {}, "f:type": {}}},
             "f:containerStatuses": {}, "f:hostIP": {}, "f:hostIPs": {}, "f:phase": {},
             "f:podIP": {}, "f:podIPs": {".": {}, "k:{\"ip\":\"10.244.1.12\"}": {".": {}, "f:ip": {}}},
             "f:startTime": {}}}},
    ]


def _templates():
    """{scenario: (pod, [its events], [node events], {container: log})} and the shared objects."""
    out = {}
    shared = {}
    for scenario, pod_name in [HEALTHY] + FAILING:
        objects, scenario_logs = load_scenario(os.path.join(ROOT, "scenarios", scenario))
        pod = next(o for o in objects if o["kind"] == "Pod" and o["metadata"]["name"] == pod_name)
        events = [o for o in objects if o["kind"] == "Event"
                  and (o.get("involvedObject") or {}).get("kind") == "Pod"
                  and o["involvedObject"].get("name") == pod_name]
        node_events = [o for o in objects if o["kind"] == "Event"
                       and (o.get("involvedObject") or {}).get("kind") == "Node"]
        logs = {c: text for (ns, p, c), text in scenario_logs.items() if p == pod_name}
        out[scenario] = (pod, events, node_events, logs)
        if scenario == HEALTHY[0]:
            shared = {k: next(o for o in objects if o["kind"] == k)
                      for k in ("Deployment", "ReplicaSet", "Service", "EndpointSlice")}
        if scenario == "07-pending-insufficient-memory":
            shared["Node"] = next(o for o in objects if o["kind"] == "Node")
    return out, shared


def _uid(kind: int, i: int) -> str:
    return f"{kind:08x}-0000-4000-8000-{i:012d}"


def _swap(text: str, pairs: List[Tuple[str, str]]) -> str:
    for old, new in pairs:
        text = text.replace(old, new)
    return text


def world(n_pods: int, events_per_pod: float = EVENTS_PER_POD):
    """(objects, logs) of the synthetic cluster; logs as the stand-in server takes them."""
    templates, shared = _templates()
    objects: List[dict] = []
    logs: Dict[tuple, dict] = {}
    n_nodes = max(3, n_pods // PODS_PER_NODE)
    nodes = [f"node-{i:04d}" for i in range(n_nodes)]
    for i, name in enumerate(nodes):
        node = copy.deepcopy(shared["Node"])
        node["metadata"].update(name=name, uid=_uid(1, i))
        node["metadata"]["labels"] = dict(node["metadata"].get("labels") or {},
                                          **{"kubernetes.io/hostname": name})
        node["status"]["addresses"] = [{"address": f"172.18.{i // 250}.{i % 250 + 2}",
                                        "type": "InternalIP"},
                                       {"address": name, "type": "Hostname"}]
        objects.append(node)

    # Failing pods first decide how many events healthy pods may keep.
    n_failing = sum(1 for j in range(n_pods) if j % 5 == 4)
    failing_events = sum(len(templates[FAILING[(j // 5) % len(FAILING)][0]][1])
                         for j in range(n_pods) if j % 5 == 4)
    healthy_budget = max(0, round(events_per_pod * n_pods) - failing_events)
    n_healthy = n_pods - n_failing
    per_healthy = healthy_budget / n_healthy if n_healthy else 0
    given = healthy_seen = 0
    node_events_done = set()

    n_apps = (n_pods + APP_SIZE - 1) // APP_SIZE
    for a in range(n_apps):
        ns = NAMESPACES[a % len(NAMESPACES)]
        app = f"app-{a:05d}"
        pod_hash = f"{a:05d}abcde"[-10:]
        rs_name = f"{app}-{pod_hash}"
        dep = copy.deepcopy(shared["Deployment"])
        dep["metadata"].update(name=app, namespace=ns, uid=_uid(2, a))
        dep["metadata"].pop("annotations", None)
        dep["spec"]["selector"] = {"matchLabels": {"app": app}}
        dep["spec"]["template"]["metadata"]["labels"] = {"app": app}
        dep["spec"]["replicas"] = APP_SIZE
        rs = copy.deepcopy(shared["ReplicaSet"])
        rs["metadata"].update(name=rs_name, namespace=ns, uid=_uid(3, a),
                              labels={"app": app, "pod-template-hash": pod_hash})
        rs["metadata"].pop("annotations", None)
        for ref in rs["metadata"].get("ownerReferences") or []:
            ref.update(name=app, uid=_uid(2, a))
        rs["spec"]["selector"] = {"matchLabels": {"app": app, "pod-template-hash": pod_hash}}
        rs["spec"]["template"]["metadata"]["labels"] = {"app": app, "pod-template-hash": pod_hash}
        objects += [dep, rs]
        endpoints = []
        for j in range(a * APP_SIZE, min(n_pods, (a + 1) * APP_SIZE)):
            failing = j % 5 == 4
            scenario = FAILING[(j // 5) % len(FAILING)][0] if failing else HEALTHY[0]
            tpod, tevents, tnode_events, tlogs = templates[scenario]
            pod = copy.deepcopy(tpod)
            old_ns, old_name = pod["metadata"].get("namespace", "default"), pod["metadata"]["name"]
            name = f"{app}-{pod_hash}-{j:06d}"
            uid = _uid(4, j)
            old_node = pod["spec"].get("nodeName")
            node = nodes[j % n_nodes]
            m = pod["metadata"]
            m.update(name=name, namespace=ns, uid=uid, generateName=f"{rs_name}-",
                     labels={"app": app, "pod-template-hash": pod_hash},
                     ownerReferences=[{"apiVersion": "apps/v1", "blockOwnerDeletion": True,
                                       "controller": True, "kind": "ReplicaSet", "name": rs_name,
                                       "uid": _uid(3, a)}])
            m["managedFields"] = _managed_fields(m.get("creationTimestamp") or "2026-11-20T10:04:15Z")
            ip = f"10.{64 + j // 65000}.{(j // 250) % 260 % 256}.{j % 250 + 2}"
            if old_node:
                pod["spec"]["nodeName"] = node
                pod["status"]["podIP"] = ip
                pod["status"]["podIPs"] = [{"ip": ip}]
            swaps = [(f"{old_ns}/{old_name}", f"{ns}/{name}"), (old_name, name)]
            if old_node:
                swaps.append((old_node, node))
            objects.append(pod)
            if failing:
                keep = tevents
            else:
                # spread the healthy budget evenly: each healthy pod keeps floor or ceil of it
                healthy_seen += 1
                take = int(round(per_healthy * healthy_seen - given)) if per_healthy else 0
                take = max(0, min(len(tevents), take))
                keep = tevents[:take]
                given += take
            for k, ev in enumerate(keep):
                e = copy.deepcopy(ev)
                e["metadata"] = {"name": f"{name}.{k:x}{j:011x}", "namespace": ns,
                                 "uid": _uid(5, j * 16 + k),
                                 "creationTimestamp": ev["metadata"].get("creationTimestamp")}
                e["involvedObject"] = dict(ev["involvedObject"], name=name, namespace=ns, uid=uid)
                e["message"] = _swap(e.get("message", ""), swaps)
                if (e.get("source") or {}).get("host"):
                    e["source"]["host"] = node
                objects.append(e)
            if old_node and tnode_events and node not in node_events_done:
                node_events_done.add(node)
                for k, ev in enumerate(tnode_events):
                    e = copy.deepcopy(ev)
                    e["metadata"] = {"name": f"{node}.{k:x}{j:011x}", "namespace": "default",
                                     "uid": _uid(6, j * 16 + k),
                                     "creationTimestamp": ev["metadata"].get("creationTimestamp")}
                    e["involvedObject"] = dict(ev["involvedObject"], name=node, uid=node)
                    e["source"] = dict(e.get("source") or {}, host=node)
                    objects.append(e)
            for container, text in tlogs.items():
                logs[(ns, name, container)] = {"current": text, "previous": text}
            if old_node:
                ready = any(c.get("type") == "Ready" and c.get("status") == "True"
                            for c in pod["status"].get("conditions") or [])
                endpoints.append({"addresses": [ip],
                                  "conditions": {"ready": ready, "serving": ready,
                                                 "terminating": False},
                                  "nodeName": node,
                                  "targetRef": {"kind": "Pod", "name": name, "namespace": ns,
                                                "uid": uid}})
        svc = copy.deepcopy(shared["Service"])
        svc["metadata"] = {"name": app, "namespace": ns, "uid": _uid(7, a),
                           "creationTimestamp": svc["metadata"]["creationTimestamp"]}
        svc["spec"]["selector"] = {"app": app}
        svc["spec"]["clusterIP"] = svc["spec"]["clusterIPs"][0] = f"10.96.{a // 250}.{a % 250 + 2}"
        slc = copy.deepcopy(shared["EndpointSlice"])
        slc["metadata"].update(name=f"{app}-x{a:05d}", namespace=ns, uid=_uid(8, a),
                               generateName=f"{app}-",
                               labels={"endpointslice.kubernetes.io/managed-by":
                                       "endpointslice-controller.k8s.io",
                                       "kubernetes.io/service-name": app},
                               ownerReferences=[{"apiVersion": "v1", "blockOwnerDeletion": True,
                                                 "controller": True, "kind": "Service", "name": app,
                                                 "uid": _uid(7, a)}])
        slc["endpoints"] = endpoints
        objects += [svc, slc]
    return objects, logs


def main():
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 1000
    objects, _ = world(n)
    json.dump({"apiVersion": "v1", "kind": "List", "items": objects}, sys.stdout)


if __name__ == "__main__":
    main()
