#!/usr/bin/env python3
"""Ask the real API server and tests/standin/apiserver.py the same read requests; print the differences.

The stand-in is loaded with what the real cluster holds (`kubectl get ... -o json`, which hides
managedFields: the stand-in writes its own) and the pod logs the real kubelet returns, so that any
difference comes from the servers, not from the data. What is compared of each answer: status,
media type, kind and apiVersion, a Status's reason, message and details, list metadata keys, the
first item's keys and metadata keys, managedFields managers, group names, /version keys and
gitVersion, a Table's columns and its first row's cells (ages and restart times left out).

usage (with the test cluster up and scenarios applied):
    .venv/bin/python tests/cluster/compare_standin.py [--kubeconfig FILE]
"""
import argparse
import json
import os
import ssl
import subprocess
import sys
import urllib.error
import urllib.request

import yaml

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, ROOT)
from tests.standin.apiserver import StandInAPIServer  # noqa: E402

KINDS = "deploy,rs,sts,ds,pods,svc,endpoints,cm,secrets,nodes,jobs,cronjobs,pvc,pv,namespaces,events,networkpolicies,ingresses,resourcequotas,limitranges"
META = "application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1,application/json"
META_ONE = "application/json;as=PartialObjectMetadata;g=meta.k8s.io;v=v1,application/json"
TABLE = "application/json;as=Table;v=v1;g=meta.k8s.io,application/json"
# Cells that depend on the time of the answer: a pod's Restarts ("3 (2m ago)") and Age.
TIMED_COLUMNS = {"Restarts", "Age", "Created At", "Last Seen", "First Seen"}


def real_client(kubeconfig):
    cfg = yaml.safe_load(open(kubeconfig))
    cluster = cfg["clusters"][0]["cluster"]
    token = cfg["users"][0]["user"]["token"]
    ctx = ssl.create_default_context(cafile=cluster["certificate-authority"])

    def get(path, accept="application/json", headers=None):
        h = {"Accept": accept, "Authorization": f"Bearer {token}"}
        h.update(headers or {})
        req = urllib.request.Request(cluster["server"] + path, headers=h)
        try:
            with urllib.request.urlopen(req, context=ctx, timeout=30) as r:
                return r.status, r.headers.get("Content-Type", ""), r.read()
        except urllib.error.HTTPError as e:
            return e.code, e.headers.get("Content-Type", ""), e.read()
    return get


def standin_client(api):
    def get(path, accept="application/json", headers=None):
        h = {"Accept": accept}
        h.update(headers or {})
        req = urllib.request.Request(api.url + path, headers=h)
        try:
            with urllib.request.urlopen(req, timeout=30) as r:
                return r.status, r.headers.get("Content-Type", ""), r.read()
        except urllib.error.HTTPError as e:
            return e.code, e.headers.get("Content-Type", ""), e.read()
    return get


def shape(status, ctype, body):
    """What is compared: status, media type, and the body's kind, Status reason/message, list metadata keys."""
    out = {"status": status, "type": ctype.split(";")[0]}
    try:
        doc = json.loads(body)
    except ValueError:
        out["text"] = body.decode(errors="replace")[:160]
        return out
    if isinstance(doc, dict):
        out["kind"] = doc.get("kind")
        out["apiVersion"] = doc.get("apiVersion")
        if doc.get("kind") == "Status":
            out.update(reason=doc.get("reason"), message=doc.get("message"), details=doc.get("details"))
        if "items" in doc:
            out["metadata keys"] = sorted((doc.get("metadata") or {}).keys())
            out["items"] = len(doc["items"])
            if doc["items"]:
                out["item keys"] = sorted(doc["items"][0].keys())
                out["item metadata keys"] = sorted((doc["items"][0].get("metadata") or {}).keys())
                managed = (doc["items"][0].get("metadata") or {}).get("managedFields")
                if isinstance(managed, list):
                    out["item managers"] = sorted({(m.get("manager"), m.get("subresource", ""))
                                                   for m in managed if isinstance(m, dict)})
        if "items" not in doc and doc.get("kind") not in ("Status", "Table") and isinstance(doc.get("metadata"), dict) \
                and doc["metadata"].get("name"):
            out["object keys"] = sorted(doc)
            out["object metadata keys"] = sorted(doc["metadata"])
            managed = doc["metadata"].get("managedFields")
            if isinstance(managed, list):
                out["object managers"] = sorted({(m.get("manager"), m.get("subresource", ""))
                                                 for m in managed if isinstance(m, dict)})
        if doc.get("kind") == "Table":
            columns = [c["name"] for c in doc.get("columnDefinitions", [])]
            out["columns"] = columns
            out["rows"] = len(doc.get("rows") or [])
            if doc.get("rows"):
                cells = doc["rows"][0].get("cells") or []
                out["first row"] = [c for name, c in zip(columns, cells) if name not in TIMED_COLUMNS]
                out["first row object"] = (doc["rows"][0].get("object") or {}).get("kind")
        if "groups" in doc:
            out["groups"] = sorted(g["name"] for g in doc["groups"])
        if "resources" in doc:
            out["resources"] = len(doc["resources"])
        if "gitVersion" in doc:
            out["keys"] = sorted(doc)
            out["gitVersion"] = doc["gitVersion"]
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--kubeconfig", default=os.path.expanduser("~/.cache/kdebug-cluster/run/admin.kubeconfig"))
    args = ap.parse_args()
    kc = ["kubectl", "--kubeconfig", args.kubeconfig]
    state = json.loads(subprocess.run(kc + ["get", KINDS, "-A", "-o", "json"], check=True,
                                      capture_output=True, text=True).stdout)["items"]
    pods = [o for o in state if o["kind"] == "Pod" and o["metadata"]["namespace"] == "default"]
    crasher = next((p for p in pods if p["metadata"]["name"].startswith("crasher-")), pods[0])
    running = next((p for p in pods if p["status"].get("phase") == "Running"), pods[0])
    cname = crasher["spec"]["containers"][0]["name"]
    rname = running["spec"]["containers"][0]["name"]
    real = real_client(args.kubeconfig)
    logs = {}
    for p, c in ((crasher, cname), (running, rname)):
        ns, n = p["metadata"]["namespace"], p["metadata"]["name"]
        entry = {}
        for which, q in (("current", ""), ("previous", "&previous=true")):
            st, _, body = real(f"/api/v1/namespaces/{ns}/pods/{n}/log?container={c}{q}")
            if st == 200:
                entry[which] = body.decode()
        logs[(ns, n, c)] = entry
    served = []
    for o in state:
        served.append(o)
    api = StandInAPIServer(objects=served, logs=logs).start()
    # RBAC refusals: a second stand-in that forbids pods in kube-system (the real server is asked
    # as a ServiceAccount with no grants, by impersonation)
    api_rbac = StandInAPIServer(objects=served, logs=logs, forbidden=[("pods", "kube-system")]).start()
    stand_plain, stand_rbac = standin_client(api), standin_client(api_rbac)

    def stand(path, accept="application/json", headers=None):
        return (stand_rbac if headers and "Impersonate-User" in headers else stand_plain)(path, accept, headers)
    cp, rp = crasher["metadata"]["name"], running["metadata"]["name"]
    requests = [
        ("version", "/version", "application/json", None),
        ("core discovery", "/api", "application/json", None),
        ("group discovery", "/apis", "application/json", None),
        ("v1 resources", "/api/v1", "application/json", None),
        ("get missing pod", "/api/v1/namespaces/default/pods/does-not-exist", "application/json", None),
        ("get missing deployment", "/apis/apps/v1/namespaces/default/deployments/nope", "application/json", None),
        ("missing namespace list", "/api/v1/namespaces/no-such-ns/pods", "application/json", None),
        ("list pods limit 3", "/api/v1/namespaces/default/pods?limit=3", "application/json", None),
        ("list all pods", "/api/v1/pods", "application/json", None),
        ("bad continue", "/api/v1/pods?limit=2&continue=garbage", "application/json", None),
        ("field selector phase", "/api/v1/namespaces/default/pods?fieldSelector=status.phase%3DRunning", "application/json", None),
        ("unsupported field selector", "/api/v1/namespaces/default/pods?fieldSelector=spec.foo%3Dbar", "application/json", None),
        ("bad label selector", "/api/v1/namespaces/default/pods?labelSelector=app%3D%3D%3D", "application/json", None),
        ("events by involvedObject", f"/api/v1/namespaces/default/events?fieldSelector=involvedObject.name%3D{cp}", "application/json", None),
        ("pods metadata-only", "/api/v1/namespaces/default/pods", META, None),
        ("secrets metadata-only", "/api/v1/namespaces/default/secrets", META, None),
        ("one secret metadata-only", "/api/v1/namespaces/default/secrets/db-credentials", META_ONE, None),
        ("pods as Table", "/api/v1/namespaces/default/pods", TABLE, None),
        ("unsupported Accept", "/api/v1/namespaces/default/pods", "application/yaml-nope", None),
        ("previous log", f"/api/v1/namespaces/default/pods/{cp}/log?container={cname}&previous=true", "*/*", None),
        ("log of missing container", f"/api/v1/namespaces/default/pods/{cp}/log?container=nope", "*/*", None),
        ("log without container (1 container)", f"/api/v1/namespaces/default/pods/{rp}/log", "*/*", None),
        ("previous log of a container never restarted", f"/api/v1/namespaces/default/pods/{rp}/log?container={rname}&previous=true", "*/*", None),
        ("log tailLines", f"/api/v1/namespaces/default/pods/{cp}/log?container={cname}&previous=true&tailLines=1", "*/*", None),
        ("forbidden list", "/api/v1/namespaces/kube-system/pods", "application/json",
         {"Impersonate-User": "system:serviceaccount:default:standin"}),
        ("forbidden cluster-wide list", "/api/v1/pods", "application/json",
         {"Impersonate-User": "system:serviceaccount:default:standin"}),
        ("list continue", "/api/v1/pods?limit=2", "application/json", None),
        ("pod log follow=false timestamps", f"/api/v1/namespaces/default/pods/{cp}/log?container={cname}&previous=true&timestamps=true", "*/*", None),
        ("log of a pod never started", "/api/v1/namespaces/default/pods/" + next(
            (p["metadata"]["name"] for p in pods if p["metadata"]["name"].startswith("broken-image-")), cp) + "/log", "*/*", None),
        ("metrics API", "/apis/metrics.k8s.io/v1beta1/namespaces/default/pods", "application/json", None),
        ("events.k8s.io events", "/apis/events.k8s.io/v1/namespaces/default/events?limit=1", "application/json", None),
        ("POST-only path GET", "/api/v1/namespaces/default/pods/x/eviction", "application/json", None),
        # Added with the stand-in's fixes for the differences above (tests/cluster/README.md).
        ("events.k8s.io by regarding.name",
         f"/apis/events.k8s.io/v1/namespaces/default/events?fieldSelector=regarding.name%3D{cp}", "application/json", None),
        ("events.k8s.io involvedObject selector",
         "/apis/events.k8s.io/v1/events?fieldSelector=involvedObject.name%3Dx", "application/json", None),
        ("one pod as Table", f"/api/v1/namespaces/default/pods/{rp}", TABLE, None),
        ("deployments as Table", "/apis/apps/v1/namespaces/default/deployments", TABLE, None),
        ("events as Table", "/api/v1/namespaces/default/events?limit=1", TABLE, None),
        ("services as Table", "/api/v1/namespaces/default/services", TABLE, None),
        ("Table without object", "/api/v1/namespaces/default/pods?includeObject=None", TABLE, None),
        ("metadata-only object asked of a list", "/api/v1/namespaces/default/pods", META_ONE, None),
        ("application/* Accept", "/api/v1/namespaces/default/pods", "application/*", None),
        ("conversion nobody serves", "/api/v1/namespaces/default/pods",
         "application/json;as=Pod;g=meta.k8s.io;v=v1", None),
        ("GET pods/binding", f"/api/v1/namespaces/default/pods/{rp}/binding", "application/json", None),
        ("one pod", f"/api/v1/namespaces/default/pods/{rp}", "application/json", None),
        ("bad continue, JSON type", "/api/v1/pods?limit=2&continue=eyJ2IjoibWV0YS5rOHMuaW8vdjEiLCJydiI6IjcifQ",
         "application/json", None),
        ("path outside the APIs", "/nothing/here", "application/json", None),
        ("unknown version of a served group", "/apis/apps/v2", "application/json", None),
    ]
    diffs = 0
    for name, path, accept, headers in requests:
        a = shape(*real(path, accept, headers))
        b = shape(*stand(path, accept, headers))
        keys = sorted(set(a) | set(b))
        d = {k: (a.get(k), b.get(k)) for k in keys if a.get(k) != b.get(k)
             and k not in ("items", "resources")}
        if name in ("list all pods", "list pods limit 3") and "items" in a:
            if a.get("items") != b.get("items"):
                d["items"] = (a.get("items"), b.get("items"))
        if d:
            diffs += 1
            print(f"== {name}: {path}  [Accept: {accept}]")
            for k, (x, y) in d.items():
                print(f"   {k}:\n      real:     {json.dumps(x)[:400]}\n      stand-in: {json.dumps(y)[:400]}")
    api.stop()
    api_rbac.stop()
    print(f"{diffs} of {len(requests)} requests differ")


if __name__ == "__main__":
    main()
