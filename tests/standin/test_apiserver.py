"""The stand-in API server answers like a real kube-apiserver, to kubectl and to raw HTTP."""

import base64
import json
import os
import shutil
import subprocess
import urllib.error
import urllib.request
from datetime import datetime, timezone

import pytest
import yaml

from tests.standin.apiserver import StandInAPIServer

KUBECTL = shutil.which("kubectl") or "kubectl"
TABLE_ACCEPT = ("application/json;as=Table;v=v1;g=meta.k8s.io,"
                "application/json;as=Table;v=v1beta1;g=meta.k8s.io,application/json")
META_LIST_ACCEPT = "application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1,application/json"
META_ACCEPT = "application/json;as=PartialObjectMetadata;g=meta.k8s.io;v=v1,application/json"


def pod(name, namespace="default", labels=None, phase="Running", node="node-1", containers=("app",),
        statuses=None, ip="10.244.0.10", ports=None):
    spec = {"containers": [{"name": c, "image": "example/app:1"} for c in containers]}
    if ports:
        spec["containers"][0]["ports"] = [{"containerPort": p} for p in ports]
    if node:
        spec["nodeName"] = node
    status = {"phase": phase}
    if ip:
        status.update(podIP=ip, podIPs=[{"ip": ip}])
    if statuses is not None:
        status["containerStatuses"] = statuses
    return {"apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": name, "namespace": namespace, "labels": labels or {}},
            "spec": spec, "status": status}


def running(name="app", restarts=0, last=None):
    cs = {"name": name, "ready": True, "restartCount": restarts,
          "state": {"running": {"startedAt": "2024-05-01T10:00:00Z"}}, "lastState": {}}
    if last:
        cs["lastState"] = {"terminated": last}
    return cs


def waiting(reason, name="app", last=None):
    cs = {"name": name, "ready": False, "restartCount": 0,
          "state": {"waiting": {"reason": reason, "message": "..."}}, "lastState": {}}
    if last:
        cs["lastState"] = {"terminated": last}
    return cs


CRASHED = {"exitCode": 1, "reason": "Error", "startedAt": "2024-05-01T09:59:00Z",
           "finishedAt": "2024-05-01T09:59:30Z", "containerID": "containerd://0123abcd"}


def event(name, involved, reason, namespace="default", type_="Warning", component="kubelet"):
    return {"apiVersion": "v1", "kind": "Event",
            "metadata": {"name": name, "namespace": namespace},
            "involvedObject": {"kind": "Pod", "namespace": namespace, "name": involved},
            "reason": reason, "message": "...", "type": type_, "count": 1,
            "source": {"component": component}}


def cluster():
    return [
        pod("web-1", labels={"app": "web", "tier": "front"}, statuses=[running(restarts=2, last=CRASHED)]),
        pod("web-2", labels={"app": "web", "tier": "back"}, phase="Pending",
            statuses=[waiting("ImagePullBackOff")]),
        pod("worker", labels={"app": "worker"}, containers=("main", "sidecar"),
            statuses=[running("main"), running("sidecar")]),
        pod("db-0", namespace="data", labels={"app": "db"}, statuses=[running()]),
        pod("batch-x", namespace="data", labels={}, phase="Succeeded", statuses=[]),
        event("web-1.1", "web-1", "BackOff"),
        event("web-2.1", "web-2", "Failed"),
        event("sched.1", "web-2", "Scheduled", type_="Normal", component="default-scheduler"),
        {"apiVersion": "v1", "kind": "Secret", "type": "kubernetes.io/basic-auth",
         "metadata": {"name": "db-pass", "namespace": "default", "labels": {"app": "db"}},
         "data": {"password": "c2VjcmV0"}},
        {"apiVersion": "v1", "kind": "Secret", "type": "Opaque",
         "metadata": {"name": "other", "namespace": "default"}, "data": {"k": "dg=="}},
        {"apiVersion": "v1", "kind": "Node", "metadata": {"name": "node-1"}, "spec": {}},
        {"apiVersion": "v1", "kind": "Node", "metadata": {"name": "node-2"}, "spec": {"unschedulable": True}},
        {"apiVersion": "apps/v1", "kind": "Deployment",
         "metadata": {"name": "web", "namespace": "default", "labels": {"app": "web"}},
         "spec": {"replicas": 2, "selector": {"matchLabels": {"app": "web"}}}},
        {"apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": "once", "namespace": "data"},
         "status": {"succeeded": 1}},
    ]


LOGS = {
    ("default", "web-1", "app"): {"current": "starting\nready\n",
                                  "previous": "line 1\nline 2\nline 3\nTraceback: boom\n"},
}


@pytest.fixture
def api():
    with StandInAPIServer(objects=cluster(), logs=LOGS) as server:
        yield server


def http(api, path, accept=None, method="GET", headers=None):
    """Return (status code, content type, body text) for one request."""
    request = urllib.request.Request(api.url + path, method=method, headers=dict(headers or {}))
    if accept:
        request.add_header("Accept", accept)
    try:
        with urllib.request.urlopen(request, timeout=10) as resp:
            return resp.status, resp.headers.get("Content-Type"), resp.read().decode()
    except urllib.error.HTTPError as err:
        return err.code, err.headers.get("Content-Type"), err.read().decode()


def http_json(api, path, **kw):
    code, _, body = http(api, path, **kw)
    return code, json.loads(body)


def status(code, reason, message, details=None):
    body = {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
            "message": message, "reason": reason, "code": code}
    if details is not None:
        body["details"] = details
    return body


def kubectl(api, tmp_path, *args):
    config = api.write_kubeconfig(tmp_path / "kubeconfig", namespace="default")
    env = {k: v for k, v in os.environ.items() if k != "KUBECONFIG"}
    env["HOME"] = str(tmp_path / "home")  # kubectl's discovery cache goes here
    return subprocess.run([KUBECTL, "--kubeconfig", config, *args], capture_output=True, text=True,
                          env=env, timeout=60)


def names(body):
    return [(i["metadata"].get("namespace", ""), i["metadata"]["name"]) for i in body["items"]]


# ------------------------------------------------------------------ discovery --


def test_version_is_the_test_clusters_kube_apiserver(api):
    # kube-apiserver v1.34.4 as tests/cluster/build.sh builds it (compare_standin.py): the 1.31+
    # emulation and minimum compatibility versions come with it.
    code, version = http_json(api, "/version")
    assert code == 200 and version == {
        "major": "1", "minor": "34", "emulationMajor": "1", "emulationMinor": "34",
        "minCompatibilityMajor": "1", "minCompatibilityMinor": "33", "gitVersion": "v1.34.4",
        "gitCommit": "0000000000000000000000000000000000000000", "gitTreeState": "clean",
        "buildDate": "1970-01-01T00:00:00Z", "goVersion": "go1.26.8", "compiler": "gc",
        "platform": "linux/amd64"}


def test_version_and_core_discovery_describe_the_served_kinds(api):
    assert http_json(api, "/api")[1]["versions"] == ["v1"]
    code, core = http_json(api, "/api/v1")
    assert code == 200 and core["kind"] == "APIResourceList" and core["groupVersion"] == "v1"
    by_name = {r["name"]: r for r in core["resources"]}
    assert by_name["pods"]["shortNames"] == ["po"] and by_name["pods"]["namespaced"] is True
    assert by_name["pods"]["kind"] == "Pod" and "list" in by_name["pods"]["verbs"]
    assert by_name["pods/log"]["verbs"] == ["get"] and "pods/proxy" in by_name
    assert by_name["nodes"]["namespaced"] is False and by_name["nodes"]["shortNames"] == ["no"]
    for plural, short in [("services", "svc"), ("endpoints", "ep"), ("configmaps", "cm"),
                          ("namespaces", "ns"), ("persistentvolumeclaims", "pvc")]:
        assert by_name[plural]["shortNames"] == [short]
    apps = {r["name"]: r for r in http_json(api, "/apis/apps/v1")[1]["resources"]}
    assert [apps[p]["shortNames"] for p in ("deployments", "replicasets", "statefulsets", "daemonsets")] == \
        [["deploy"], ["rs"], ["sts"], ["ds"]]
    batch = {r["name"]: r for r in http_json(api, "/apis/batch/v1")[1]["resources"]}
    assert batch["cronjobs"]["shortNames"] == ["cj"] and batch["jobs"]["kind"] == "Job"


REAL_V134_GROUPS = [
    "apiregistration.k8s.io", "apps", "events.k8s.io", "authentication.k8s.io", "authorization.k8s.io",
    "autoscaling", "batch", "certificates.k8s.io", "networking.k8s.io", "policy", "rbac.authorization.k8s.io",
    "storage.k8s.io", "admissionregistration.k8s.io", "apiextensions.k8s.io", "scheduling.k8s.io",
    "coordination.k8s.io", "node.k8s.io", "discovery.k8s.io", "resource.k8s.io", "flowcontrol.apiserver.k8s.io"]


def test_apis_lists_every_group_of_a_real_v134_server(api):
    # The 20 groups kube-apiserver v1.34.4 lists with its default --runtime-config (compare_standin.py
    # on the test cluster), in the aggregator's priority order; autoscaling prefers v2.
    code, body = http_json(api, "/apis")
    assert [g["name"] for g in body["groups"]] == REAL_V134_GROUPS
    autoscaling = next(g for g in body["groups"] if g["name"] == "autoscaling")
    assert [v["version"] for v in autoscaling["versions"]] == ["v2", "v1"]
    assert autoscaling["preferredVersion"] == {"groupVersion": "autoscaling/v2", "version": "v2"}
    # A group the stand-in holds no objects for answers its discovery documents, without resources.
    assert http_json(api, "/apis/rbac.authorization.k8s.io/v1")[1] == {
        "kind": "APIResourceList", "groupVersion": "rbac.authorization.k8s.io/v1", "resources": [],
        "apiVersion": "v1"}
    assert http_json(api, "/apis/autoscaling")[1]["kind"] == "APIGroup"
    # A version the group does not serve: its WebService's 404 Status.
    assert http_json(api, "/apis/apps/v2")[1]["message"] == "the server could not find the requested resource"


def test_metrics_group_is_discoverable_only_when_enabled(api):
    groups = [g["name"] for g in http_json(api, "/apis")[1]["groups"]]
    assert "metrics.k8s.io" not in groups
    assert http(api, "/apis/metrics.k8s.io/v1beta1")[0] == 404
    assert http(api, "/apis/metrics.k8s.io/v1beta1/namespaces/default/pods")[0] == 404
    with StandInAPIServer(metrics_enabled=True) as metrics_api:
        listed = http_json(metrics_api, "/apis")[1]["groups"]
        assert [g["name"] for g in listed] == REAL_V134_GROUPS + ["metrics.k8s.io"]
        groups = {g["name"]: g for g in listed}
        assert groups["metrics.k8s.io"]["preferredVersion"]["groupVersion"] == "metrics.k8s.io/v1beta1"
        resources = {r["name"]: r["kind"] for r in
                     http_json(metrics_api, "/apis/metrics.k8s.io/v1beta1")[1]["resources"]}
        assert resources == {"pods": "PodMetrics", "nodes": "NodeMetrics"}


def test_unknown_paths_under_an_api_are_404_status_bodies(api):
    # go-restful's WebService for /api (or /apis/GROUP) has no route: its 404 as a Status.
    expected = status(404, "NotFound", "the server could not find the requested resource", {})
    for path in ("/api/v2", "/api/v1/widgets", "/api/v1/pods/web-1", "/api/v1/namespaces/default/nodes",
                 "/apis/apps/v1/widgets"):
        code, body = http_json(api, path)
        assert (code, body) == (404, expected), path


def test_paths_outside_every_api_are_gos_plain_404(api):
    # apiserver/pkg/util/notfoundhandler: http.NotFound once the server is up.
    for path in ("/nothing/here", "/openapi/v2", "/apiary"):
        assert http(api, path) == (404, "text/plain; charset=utf-8", "404 page not found\n"), path


def test_a_group_nobody_serves_is_a_plain_text_404_as_on_a_real_server(api):
    # kube-apiserver v1.34 without metrics-server: GET /apis/metrics.k8s.io/v1beta1/pods answers
    # Go's http.NotFound, not a Status (tests/cluster/compare_standin.py).
    import urllib.request
    for path in ("/apis/example.com/v1", "/apis/metrics.k8s.io/v1beta1/pods"):
        try:
            urllib.request.urlopen(api.url + path)
            raise AssertionError(path + " answered 2xx")
        except urllib.error.HTTPError as err:
            assert err.code == 404 and err.read() == b"404 page not found\n", path
            assert err.headers["Content-Type"].startswith("text/plain"), path


# -------------------------------------------------------------------- kubectl --


def test_kubectl_get_pods_json_after_falling_back_from_aggregated_discovery(api, tmp_path):
    result = kubectl(api, tmp_path, "get", "pods", "-o", "json")
    assert result.returncode == 0, result.stderr
    listed = json.loads(result.stdout)
    assert [i["metadata"]["name"] for i in listed["items"]] == ["web-1", "web-2", "worker"]
    assert {i["kind"] for i in listed["items"]} == {"Pod"}  # kubectl adds what the server leaves out
    asked = [(r.path, r.header("Accept") or "") for r in api.requests]
    assert any(p == "/api" and "as=APIGroupDiscoveryList" in a for p, a in asked)
    assert ("/api/v1" in [p for p, _ in asked]) and ("/apis/apps/v1" in [p for p, _ in asked])
    assert any(r.path == "/api/v1/namespaces/default/pods" and r.query.get("limit") for r in api.requests)


def test_kubectl_label_selector_prints_matching_names(api, tmp_path):
    result = kubectl(api, tmp_path, "get", "pods", "-l", "app=web", "-o", "name")
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["pod/web-1", "pod/web-2"]
    result = kubectl(api, tmp_path, "get", "pods", "-A", "-l", "app in (db,worker),app!=web", "-o", "name")
    assert result.stdout.split() == ["pod/db-0", "pod/worker"]


def test_kubectl_field_selector_on_phase(api, tmp_path):
    result = kubectl(api, tmp_path, "get", "pods", "--field-selector", "status.phase=Running", "-o", "name")
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["pod/web-1", "pod/worker"]


def test_kubectl_unsupported_field_selector_fails_with_the_server_message(api, tmp_path):
    result = kubectl(api, tmp_path, "get", "pods", "--field-selector", "spec.foo=bar")
    assert result.returncode != 0
    assert "Error from server (BadRequest)" in result.stderr
    assert result.stderr.strip().endswith("field label not supported: spec.foo")


def test_kubectl_logs_previous_container(api, tmp_path):
    result = kubectl(api, tmp_path, "logs", "web-1", "-c", "app", "--previous")
    assert result.returncode == 0, result.stderr
    assert result.stdout == "line 1\nline 2\nline 3\nTraceback: boom\n"
    log_requests = [r for r in api.requests if r.path.endswith("/log")]
    assert log_requests[0].query == {"container": "app", "previous": "true"}


def test_kubectl_logs_of_a_pulling_container_reports_the_kubelet_error(api, tmp_path):
    result = kubectl(api, tmp_path, "logs", "web-2")
    assert result.returncode != 0
    assert result.stderr.strip() == ('Error from server (BadRequest): container "app" in pod "web-2" '
                                     "is waiting to start: trying and failing to pull image")


def test_kubectl_impersonation_reaches_the_forbidden_message(tmp_path):
    with StandInAPIServer(objects=cluster(), forbidden=["events"]) as api:
        result = kubectl(api, tmp_path, "get", "events", "--as", "alice", "--as-group", "devs")
    assert result.returncode != 0
    assert result.stderr.strip() == (
        'Error from server (Forbidden): events is forbidden: User "alice" cannot list resource "events" '
        'in API group "" in the namespace "default"')
    listed = [r for r in api.requests if r.path == "/api/v1/namespaces/default/events"]
    assert listed[0].headers["Impersonate-User"] == "alice"
    assert listed[0].headers["Impersonate-Group"] == "devs"


def test_the_kubernetes_client_reads_through_the_written_kubeconfig(api, tmp_path):
    from kubernetes import client, config

    api_client = config.new_client_from_config(
        config_file=api.write_kubeconfig(tmp_path / "config", namespace="data"))
    pods = client.CoreV1Api(api_client).list_namespaced_pod("data", _preload_content=False)
    assert [p["metadata"]["name"] for p in json.loads(pods.data)["items"]] == ["batch-x", "db-0"]
    assert api.requests[-1].header("Authorization") == "Bearer standin-token"


# ------------------------------------------------------------ lists and gets --


def test_lists_type_the_list_not_the_items(api):
    code, body = http_json(api, "/api/v1/namespaces/default/pods")
    assert code == 200 and body["kind"] == "PodList" and body["apiVersion"] == "v1"
    assert body["metadata"]["resourceVersion"].isdigit()
    assert all("kind" not in i and "apiVersion" not in i for i in body["items"])
    assert all(i["metadata"]["uid"] and i["metadata"]["resourceVersion"] for i in body["items"])
    code, body = http_json(api, "/apis/apps/v1/deployments")
    assert (body["kind"], body["apiVersion"], names(body)) == ("DeploymentList", "apps/v1", [("default", "web")])


def test_get_returns_the_typed_object_or_the_upstream_not_found(api):
    code, body = http_json(api, "/api/v1/namespaces/default/pods/web-1")
    assert (code, body["kind"], body["apiVersion"], body["metadata"]["name"]) == (200, "Pod", "v1", "web-1")
    assert http_json(api, "/api/v1/namespaces/data/pods/web-1") == (
        404, status(404, "NotFound", 'pods "web-1" not found', {"name": "web-1", "kind": "pods"}))
    assert http_json(api, "/apis/apps/v1/namespaces/default/deployments/api") == (
        404, status(404, "NotFound", 'deployments.apps "api" not found',
                    {"name": "api", "group": "apps", "kind": "deployments"}))
    code, node = http_json(api, "/api/v1/nodes/node-2")
    assert node["kind"] == "Node" and "namespace" not in node["metadata"]


def test_namespaces_used_by_objects_exist_implicitly(api):
    code, body = http_json(api, "/api/v1/namespaces")
    assert [n for _, n in names(body)] == ["data", "default"]
    code, ns = http_json(api, "/api/v1/namespaces/data")
    assert code == 200 and ns["status"]["phase"] == "Active"
    assert http_json(api, "/api/v1/namespaces?fieldSelector=status.phase%3DActive")[1]["items"]
    assert http(api, "/api/v1/namespaces/nope")[0] == 404
    # A list in a namespace that does not exist is simply empty, as upstream.
    assert http_json(api, "/api/v1/namespaces/nope/pods")[1]["items"] == []


def test_limit_and_continue_walk_every_item_in_namespace_name_order(api):
    seen, token, pages = [], "", []
    while True:
        query = "/api/v1/pods?limit=2" + (f"&continue={token}" if token else "")
        code, body = http_json(api, query)
        assert code == 200
        seen += names(body)
        pages.append((len(body["items"]), body["metadata"].get("remainingItemCount")))
        token = body["metadata"].get("continue", "")
        if not token:
            break
    assert seen == [("data", "batch-x"), ("data", "db-0"), ("default", "web-1"), ("default", "web-2"),
                    ("default", "worker")]
    assert pages == [(2, 3), (2, 1), (1, None)]


def test_paging_a_selected_list_gives_no_remaining_count(api):
    code, body = http_json(api, "/api/v1/namespaces/default/pods?limit=1&labelSelector=app%3Dweb")
    assert names(body) == [("default", "web-1")]
    assert body["metadata"]["continue"] and "remainingItemCount" not in body["metadata"]
    code, body = http_json(api, "/api/v1/namespaces/default/pods?limit=1&labelSelector=app%3Dweb"
                                f"&continue={body['metadata']['continue']}")
    assert names(body) == [("default", "web-2")] and "continue" not in body["metadata"]


def test_a_bad_continue_token_is_a_bad_request(api):
    code, body = http_json(api, "/api/v1/pods?limit=2&continue=not*base64")
    assert (code, body["reason"]) == (400, "BadRequest")
    assert body["message"] == ("invalid continue token: continue key is not valid: "
                               "illegal base64 data at input byte 3")
    token = http_json(api, "/api/v1/pods?limit=2")[1]["metadata"]["continue"]
    code, body = http_json(api, f"/api/v1/pods?limit=2&continue={token}&resourceVersion=5")
    assert (code, body["message"]) == (400, "specifying resource version is not allowed when using continue")


def _token(text):
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


@pytest.mark.parametrize("token, detail", [
    # kube-apiserver v1.34.4 on the test cluster (compare_standin.py): "garbage" decodes to bytes
    # starting 0x81, and Go's encoding/json names that byte.
    ("garbage", "invalid character '\\u0081' looking for beginning of value"),
    ("abcde", "illegal base64 data at input byte 4"),            # a lone last base64 character
    ("YWJj=", "illegal base64 data at input byte 4"),            # RawURLEncoding: no padding
    (_token('{"v":"meta.k8s.io/v1","rv":'), "unexpected end of JSON input"),
    (_token('{"v" 1}'), "invalid character '1' after object key"),
    (_token("[1]"), "json: cannot unmarshal array into Go value of type storage.continueToken"),
    (_token('{"v":"meta.k8s.io/v1","rv":"7"}'),
     "json: cannot unmarshal string into Go struct field continueToken.rv of type int64"),
    (_token('{"v":"meta.k8s.io/v1","rv":1.5}'),
     "json: cannot unmarshal number 1.5 into Go struct field continueToken.rv of type int64"),
    (_token('{"v":"meta.k8s.io/v2","rv":7,"start":"a"}'),
     "server does not recognize this encoded version meta.k8s.io/v2"),
    (_token('{"v":"meta.k8s.io/v1","start":"a"}'),
     "incorrect encoded start resourceVersion (version meta.k8s.io/v1)"),
    (_token('{"v":"meta.k8s.io/v1","rv":7,"start":"../secrets/x"}'), "../secrets/x"),  # path.Clean
])
def test_continue_tokens_fail_with_gos_decoder_texts(api, token, detail):
    from urllib.parse import quote

    code, body = http_json(api, "/api/v1/pods?limit=2&continue=" + quote(token))
    assert (code, body) == (400, status(400, "BadRequest",
                                        "invalid continue token: continue key is not valid: " + detail))


def test_a_continue_token_decodes_like_gos_json(api):
    # Field names match case-insensitively, as encoding/json does.
    token = _token('{"V":"meta.k8s.io/v1","RV":7,"Start":"default/web-1\\u0000"}')
    code, body = http_json(api, "/api/v1/pods?limit=5&continue=" + token)
    assert code == 200 and names(body) == [("default", "web-2"), ("default", "worker")]


def test_secrets_can_be_read_metadata_only(api):
    code, body = http_json(api, "/api/v1/namespaces/default/secrets", accept=META_LIST_ACCEPT)
    assert (code, body["kind"], body["apiVersion"]) == (200, "PartialObjectMetadataList", "meta.k8s.io/v1")
    assert [set(i) for i in body["items"]] == [{"kind", "apiVersion", "metadata"}] * 2
    assert {i["kind"] for i in body["items"]} == {"PartialObjectMetadata"}
    assert "c2VjcmV0" not in json.dumps(body)
    code, one = http_json(api, "/api/v1/namespaces/default/secrets/db-pass", accept=META_ACCEPT)
    assert (one["kind"], one["metadata"]["name"], "data" in one, "type" in one) == \
        ("PartialObjectMetadata", "db-pass", False, False)
    assert api.requests[-1].header("Accept") == META_ACCEPT
    # Without the metadata media type the same read carries the data.
    assert http_json(api, "/api/v1/namespaces/default/secrets/db-pass")[1]["data"] == {"password": "c2VjcmV0"}


def test_an_accept_header_no_route_produces_is_go_restfuls_406(api):
    # compare_standin.py on kube-apiserver v1.34.4: go-restful's text, listing what the route produces
    # (a list route also its watch streams), details {}.
    code, body = http_json(api, "/api/v1/namespaces/default/pods", accept="application/yaml-nope")
    assert (code, body) == (406, status(
        406, "NotAcceptable", "406: Not Acceptable\n\nAvailable representations: application/json, "
        "application/yaml, application/vnd.kubernetes.protobuf, application/json;stream=watch, "
        "application/vnd.kubernetes.protobuf;stream=watch", {}))
    code, body = http_json(api, "/api/v1/namespaces/default/pods/web-1", accept="text/html")
    assert body["message"] == ("406: Not Acceptable\n\nAvailable representations: application/json, "
                               "application/yaml, application/vnd.kubernetes.protobuf")
    # go-restful matches media types exactly: application/* is no route's.
    assert http_json(api, "/api/v1/namespaces/default/pods", accept="application/*")[0] == 406
    # ... but */* anywhere in the header is.
    assert http_json(api, "/api/v1/namespaces/default/pods", accept="text/html, */*")[1]["kind"] == "PodList"


def test_a_conversion_nobody_serves_is_the_negotiators_406(api):
    # The route matched (application/json), but no clause's `as;g;v` is allowed and there is no
    # plain fallback: handlers/negotiation errNotAcceptable, no details.
    code, body = http_json(api, "/api/v1/namespaces/default/pods",
                           accept="application/json;as=Pod;g=meta.k8s.io;v=v1")
    assert (code, body) == (406, status(406, "NotAcceptable", "only the following media types are accepted: "
                                        "application/json, application/yaml, application/vnd.kubernetes.protobuf"))
    # With a plain fallback, the fallback is served.
    code, body = http_json(api, "/api/v1/namespaces/default/pods",
                           accept="application/json;as=Pod;g=meta.k8s.io;v=v1,application/json")
    assert body["kind"] == "PodList"
    # The negotiator allows PartialObjectMetadata on a list route; the conversion then refuses it
    # (handlers/response.go asPartialObjectMetadata), naming the registry's internal type.
    code, body = http_json(api, "/api/v1/namespaces/default/pods", accept=META_ACCEPT)
    assert (code, body["message"]) == (406, "you requested PartialObjectMetadata, but the requested object is "
                                            "a list (*core.PodList)")
    code, body = http_json(api, "/apis/apps/v1/namespaces/default/deployments/web", accept=META_LIST_ACCEPT)
    assert (code, body["message"]) == (406, "you requested PartialObjectMetadataList, but the requested object "
                                            "is not a list (*apps.Deployment)")


# ---------------------------------------------------------------------- tables --


NOW = datetime(2024, 5, 1, 12, 0, 0, tzinfo=timezone.utc)


def test_pods_as_table_have_the_pod_printers_columns_and_cells():
    # kube-apiserver v1.34 answers kubectl's Table request with pkg/printers' pod columns, every one
    # (the server prints Wide; kubectl hides priority 1 without -o wide).
    objects = cluster()
    for p in objects:
        if p["kind"] == "Pod":
            p["metadata"]["creationTimestamp"] = "2024-05-01T09:00:00Z"
    objects.append(pod("starting", statuses=[running()], ip=None, node=None, phase="Pending"))
    objects[-1]["spec"]["initContainers"] = [{"name": "init", "image": "busybox"}]
    objects[-1]["status"]["initContainerStatuses"] = [
        {"name": "init", "ready": False, "restartCount": 3,
         "state": {"waiting": {"reason": "CrashLoopBackOff"}},
         "lastState": {"terminated": {"exitCode": 1, "finishedAt": "2024-05-01T11:58:00Z"}}}]
    with StandInAPIServer(objects=objects, now=lambda: NOW) as api:
        code, table = http_json(api, "/api/v1/namespaces/default/pods", accept=TABLE_ACCEPT)
        assert (code, table["kind"], table["apiVersion"]) == (200, "Table", "meta.k8s.io/v1")
        assert [c["name"] for c in table["columnDefinitions"]] == [
            "Name", "Ready", "Status", "Restarts", "Age", "IP", "Node", "Nominated Node", "Readiness Gates"]
        assert [c["priority"] for c in table["columnDefinitions"]] == [0, 0, 0, 0, 0, 1, 1, 1, 1]
        assert table["columnDefinitions"][0]["format"] == "name"
        assert table["metadata"]["resourceVersion"].isdigit()
        rows = {r["cells"][0]: r for r in table["rows"]}
        # web-1: running and ready after 2 restarts, the last one ended 09:59:30 (2h0m before NOW)
        assert rows["web-1"]["cells"] == ["web-1", "1/1", "Running", "2 (120m ago)", "3h", "10.244.0.10",
                                          "node-1", "<none>", "<none>"]
        assert rows["web-2"]["cells"][1:4] == ["0/1", "ImagePullBackOff", "0"]
        assert rows["worker"]["cells"][1:3] == ["2/2", "Running"]
        assert rows["starting"]["cells"][1:7] == ["0/1", "Init:CrashLoopBackOff", "3 (2m ago)", "<unknown>",
                                                  "<none>", "<none>"]
        # Each row carries the object's metadata by default (includeObject=Metadata).
        assert rows["web-1"]["object"]["kind"] == "PartialObjectMetadata"
        assert rows["web-1"]["object"]["metadata"]["name"] == "web-1"
        code, data = http_json(api, "/api/v1/namespaces/data/pods/batch-x", accept=TABLE_ACCEPT)
        assert data["rows"][0]["cells"][2] == "Succeeded"
        assert data["rows"][0]["conditions"] == [{"type": "Completed", "status": "True", "reason": "Succeeded",
                                                  "message": "The pod has completed successfully."}]


def test_deployments_and_events_as_tables_have_their_printers_columns():
    deployment = {"apiVersion": "apps/v1", "kind": "Deployment",
                  "metadata": {"name": "web", "namespace": "default", "creationTimestamp": "2024-05-01T11:50:00Z"},
                  "spec": {"replicas": 3, "selector": {"matchLabels": {"tier": "front", "app": "web"},
                                                       "matchExpressions": [{"key": "env", "operator": "In",
                                                                             "values": ["prod", "canary"]}]},
                           "template": {"spec": {"containers": [{"name": "app", "image": "web:2"},
                                                                {"name": "proxy", "image": "envoy:1"}]}}},
                  "status": {"readyReplicas": 2, "updatedReplicas": 3, "availableReplicas": 2}}
    backoff = event("web-1.1", "web-1", "BackOff")
    backoff.update(count=7, firstTimestamp="2024-05-01T11:00:00Z", lastTimestamp="2024-05-01T11:59:30Z",
                   message="Back-off restarting failed container app\n")
    backoff["involvedObject"]["fieldPath"] = "spec.containers{app}"
    backoff["source"]["host"] = "node-1"
    with StandInAPIServer(objects=[deployment, backoff], now=lambda: NOW) as api:
        code, table = http_json(api, "/apis/apps/v1/namespaces/default/deployments", accept=TABLE_ACCEPT)
        assert [c["name"] for c in table["columnDefinitions"]] == [
            "Name", "Ready", "Up-to-date", "Available", "Age", "Containers", "Images", "Selector"]
        assert table["rows"][0]["cells"] == ["web", "2/3", 3, 2, "10m", "app,proxy", "web:2,envoy:1",
                                             "app=web,env in (canary,prod),tier=front"]
        for path in ("/api/v1/namespaces/default/events", "/apis/events.k8s.io/v1/namespaces/default/events"):
            code, table = http_json(api, path, accept=TABLE_ACCEPT)
            assert [c["name"] for c in table["columnDefinitions"]] == [
                "Last Seen", "Type", "Reason", "Object", "Subobject", "Source", "Message", "First Seen", "Count",
                "Name"], path
            assert table["rows"][0]["cells"] == ["30s", "Warning", "BackOff", "pod/web-1", "spec.containers{app}",
                                                 "kubelet, node-1", "Back-off restarting failed container app",
                                                 "60m", 7, "web-1.1"], path


def test_services_as_tables_have_the_service_printers_columns():
    """printService, Wide as the server prints (printers.go v1.34.4); compare_standin.py found the
    real server's row for scenario 04: backend-service, ClusterIP, 10.96.255.173, <none>, 80/TCP, ...,
    app=backend,tier=api."""
    def svc(name, spec, status=None):
        return {"apiVersion": "v1", "kind": "Service", "status": status or {},
                "metadata": {"name": name, "namespace": "default", "creationTimestamp": "2024-05-01T11:50:00Z"},
                "spec": spec}
    objects = [
        svc("a-backend", {"type": "ClusterIP", "clusterIP": "10.96.255.173", "clusterIPs": ["10.96.255.173"],
                          "selector": {"tier": "api", "app": "backend"},
                          "ports": [{"port": 80, "protocol": "TCP", "targetPort": 8080}]}),
        svc("b-edge", {"type": "LoadBalancer", "clusterIPs": ["10.96.0.9"],
                       "ports": [{"port": 443, "nodePort": 30443, "protocol": "TCP"},
                                 {"port": 53, "nodePort": 30053, "protocol": "UDP"}]},
            {"loadBalancer": {}}),
        svc("c-db", {"type": "ExternalName", "externalName": "db.example.com"}),
    ]
    with StandInAPIServer(objects=objects, now=lambda: NOW) as api:
        code, table = http_json(api, "/api/v1/namespaces/default/services", accept=TABLE_ACCEPT)
        assert [c["name"] for c in table["columnDefinitions"]] == [
            "Name", "Type", "Cluster-IP", "External-IP", "Port(s)", "Age", "Selector"]
        assert [r["cells"] for r in table["rows"]] == [
            ["a-backend", "ClusterIP", "10.96.255.173", "<none>", "80/TCP", "10m", "app=backend,tier=api"],
            ["b-edge", "LoadBalancer", "10.96.0.9", "<pending>", "443:30443/TCP,53:30053/UDP", "10m", "<none>"],
            ["c-db", "ExternalName", "<none>", "db.example.com", "<none>", "10m", "<none>"]]


def test_tables_of_other_kinds_page_and_carry_the_object_asked_for(api):
    code, table = http_json(api, "/api/v1/namespaces/default/secrets?includeObject=Object", accept=TABLE_ACCEPT)
    # apiserver/pkg/registry/rest/table.go, the default convertor (a real server prints Type, Data too)
    assert [c["name"] for c in table["columnDefinitions"]] == ["Name", "Created At"]
    assert table["rows"][0]["cells"] == ["db-pass", "0001-01-01T00:00:00Z"]
    assert table["rows"][0]["object"]["kind"] == "Secret"
    code, table = http_json(api, "/api/v1/pods?limit=2&includeObject=None", accept=TABLE_ACCEPT)
    assert len(table["rows"]) == 2 and table["rows"][0]["object"] is None
    assert table["metadata"]["continue"] and table["metadata"]["remainingItemCount"] == 3
    code, body = http_json(api, "/api/v1/pods?includeObject=All", accept=TABLE_ACCEPT)
    assert (code, body["message"]) == (400, 'Unable to convert to Table as requested: includeObject: Invalid '
                                            'value: "All": must be \'Metadata\', \'Object\', \'None\', or empty')
    # Table in YAML is what a real server would write here: the stand-in writes JSON only, and says so.
    code, body = http_json(api, "/api/v1/pods", accept="application/yaml;as=Table;v=v1;g=meta.k8s.io")
    assert code == 406 and "application/json only" in body["message"]


def test_kubectl_get_prints_the_servers_table(api, tmp_path):
    result = kubectl(api, tmp_path, "get", "pods")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].split() == ["NAME", "READY", "STATUS", "RESTARTS", "AGE"]
    assert lines[2].split()[:4] == ["web-2", "0/1", "ImagePullBackOff", "0"]
    wide = kubectl(api, tmp_path, "get", "pods", "-o", "wide").stdout.splitlines()
    assert wide[0].split()[5:7] == ["IP", "NODE"] and wide[1].split()[0] == "web-1"


# ------------------------------------------------------------------ selectors --


@pytest.mark.parametrize("selector, expected", [
    ("app=web", ["web-1", "web-2"]),
    ("app==web,tier=back", ["web-2"]),
    ("app!=web", ["worker"]),
    ("tier in (front, back)", ["web-1", "web-2"]),
    ("tier notin (front)", ["web-2", "worker"]),
    ("tier", ["web-1", "web-2"]),
    ("!tier", ["worker"]),
    ("app in (worker),!tier", ["worker"]),
    ("", ["web-1", "web-2", "worker"]),
])
def test_label_selectors(api, selector, expected):
    from urllib.parse import quote

    code, body = http_json(api, "/api/v1/namespaces/default/pods?labelSelector=" + quote(selector))
    assert code == 200 and [n for _, n in names(body)] == expected


@pytest.mark.parametrize("selector, message", [
    ("app web", "unable to parse requirement: found 'web', expected: in, notin, =, ==, !=, gt, lt"),
    ("app in (web", "unable to parse requirement: found '', expected: ',' or ')'"),
    ("app=web,", "found '', expected: identifier after ','"),
    ("app in web", "unable to parse requirement: found 'web' expected: '('"),
    ("=web", "found '=', expected: !, identifier, or 'end of string'"),
])
def test_bad_label_selectors_are_rejected_like_upstream(api, selector, message):
    from urllib.parse import quote

    code, body = http_json(api, "/api/v1/pods?labelSelector=" + quote(selector))
    assert (code, body) == (400, status(400, "BadRequest", message))


def test_label_keys_and_values_are_validated(api):
    from urllib.parse import quote

    code, body = http_json(api, "/api/v1/pods?labelSelector=" + quote("app=a b"))
    assert (code, body["message"]) == (400, "found 'b', expected: ',' or 'end of string'")
    code, body = http_json(api, "/api/v1/pods?labelSelector=" + quote("app=-web"))
    assert code == 400 and body["message"].startswith(
        'unable to parse requirement: values[0][app]: Invalid value: "-web": a valid label must be an empty string')
    code, body = http_json(api, "/api/v1/pods?labelSelector=" + quote("a/b/c=x"))
    assert code == 400 and body["message"].startswith('unable to parse requirement: <nil>: Invalid value: "a/b/c"')


@pytest.mark.parametrize("path, expected", [
    ("/api/v1/pods?fieldSelector=status.phase!%3DRunning", [("data", "batch-x"), ("default", "web-2")]),
    ("/api/v1/pods?fieldSelector=spec.nodeName%3Dnode-1,metadata.namespace%3Ddata",
     [("data", "batch-x"), ("data", "db-0")]),
    ("/api/v1/pods?fieldSelector=spec.host%3Dnode-1,status.podIP%3D10.244.0.10,metadata.name%3Dworker",
     [("default", "worker")]),
    ("/api/v1/pods?fieldSelector=spec.restartPolicy%3DAlways,spec.hostNetwork%3Dfalse&labelSelector=app%3Ddb",
     [("data", "db-0")]),
    # Accepted by the conversion, absent from ToSelectableFields upstream: reads as "".
    ("/api/v1/pods?fieldSelector=status.podIPs%3D10.244.0.10", []),
    ("/api/v1/namespaces/default/events?fieldSelector=involvedObject.name%3Dweb-2,type%3DWarning",
     [("default", "web-2.1")]),
    ("/api/v1/events?fieldSelector=source%3Ddefault-scheduler", [("default", "sched.1")]),
    ("/api/v1/namespaces/default/secrets?fieldSelector=type%3Dkubernetes.io/basic-auth",
     [("default", "db-pass")]),
    ("/api/v1/nodes?fieldSelector=spec.unschedulable%3Dtrue", [("", "node-2")]),
    ("/apis/batch/v1/jobs?fieldSelector=status.successful%3D1", [("data", "once")]),
    ("/apis/apps/v1/deployments?fieldSelector=metadata.name%3Dweb", [("default", "web")]),
])
def test_field_selectors_use_the_selectable_fields(api, path, expected):
    code, body = http_json(api, path)
    assert code == 200 and names(body) == expected


@pytest.mark.parametrize("path, message", [
    ("/api/v1/pods?fieldSelector=status.hostIP%3D1.2.3.4", "field label not supported: status.hostIP"),
    ("/api/v1/events?fieldSelector=message%3Dx", "field label not supported: message"),
    ("/api/v1/nodes?fieldSelector=metadata.namespace%3Dx", "field label not supported: metadata.namespace"),
    ("/apis/apps/v1/deployments?fieldSelector=spec.replicas%3D2",
     '"spec.replicas" is not a known field selector: only "metadata.name", "metadata.namespace"'),
    ("/apis/batch/v1/jobs?fieldSelector=status.failed%3D1", 'field label "status.failed" not supported for Job'),
    ("/api/v1/pods?fieldSelector=status.phase", "invalid selector: 'status.phase'; can't understand 'status.phase'"),
])
def test_unsupported_field_selectors_are_bad_requests(api, path, message):
    assert http_json(api, path) == (400, status(400, "BadRequest", message))


# ----------------------------------------------------------------------- logs --


def test_logs_are_plain_text_and_honour_tail_timestamps_and_limit(api):
    base = "/api/v1/namespaces/default/pods/web-1/log"
    assert http(api, base) == (200, "text/plain", "starting\nready\n")
    assert http(api, base + "?previous=true&tailLines=2")[2] == "line 3\nTraceback: boom\n"
    assert http(api, base + "?previous=true&tailLines=0")[2] == ""
    assert http(api, base + "?previous=true&tailLines=99")[2].startswith("line 1\n")
    assert http(api, base + "?timestamps=true&tailLines=1")[2] == "2024-05-01T10:00:00Z ready\n"
    assert http(api, base + "?limitBytes=5")[2] == "start"
    assert http_json(api, base + "?tailLines=-1")[1]["message"] == (
        'PodLogOptions "web-1" is invalid: tailLines: Invalid value: -1: must be greater than or equal to 0')


def test_log_errors_carry_the_apiserver_and_kubelet_messages(api):
    def message(path):
        code, body = http_json(api, path)
        return code, body["reason"], body["message"]

    assert message("/api/v1/namespaces/default/pods/gone/log") == (404, "NotFound", 'pods "gone" not found')
    assert message("/api/v1/namespaces/default/pods/worker/log") == (
        400, "BadRequest", "a container name must be specified for pod worker, choose one of: [main sidecar]")
    assert message("/api/v1/namespaces/default/pods/worker/log?container=nope") == (
        400, "BadRequest", "container nope is not valid for pod worker")
    assert message("/api/v1/namespaces/default/pods/worker/log?container=main&previous=true") == (
        400, "BadRequest", 'previous terminated container "main" in pod "worker" not found')
    assert message("/api/v1/namespaces/default/pods/web-2/log?container=app") == (
        400, "BadRequest", 'container "app" in pod "web-2" is waiting to start: trying and failing to pull image')


def test_the_kubelets_own_error_text_is_served_as_it_is():
    # A previous container the runtime has already removed: the kubelet has started a 200 answer
    # and writes the runtime's error into it (kubelet_pods.go GetKubeletContainerLogs,
    # kuberuntime_container.go GetContainerLogs). kube-apiserver v1.34.4 served it untouched with
    # timestamps=true (compare_standin.py): no timestamp, no tail.
    gone = "unable to retrieve container logs for containerd://c985d68ad060272bdcc6f49c1ad11a74"
    logs = {("default", "web-1", "app"): {"previous": gone, "current": "ready\n"}}
    with StandInAPIServer(objects=[pod("web-1", statuses=[running(restarts=1, last=CRASHED)])], logs=logs) as api:
        base = "/api/v1/namespaces/default/pods/web-1/log?container=app"
        assert http(api, base + "&previous=true&timestamps=true") == (200, "text/plain", gone)
        assert http(api, base + "&previous=true&tailLines=0")[2] == gone
        # The application's own log still gets its timestamps.
        assert http(api, base + "&timestamps=true")[2] == "2024-05-01T10:00:00Z ready\n"


def test_log_slots_follow_the_container_status():
    pods = [
        pod("pulling", statuses=[waiting("ErrImagePull")]),
        pod("creating", statuses=[waiting("ContainerCreating")]),
        pod("looping", statuses=[waiting("CrashLoopBackOff", last=CRASHED)]),
        pod("unscheduled", node=None, phase="Pending", ip=None),
        pod("quiet", statuses=[running()]),
    ]
    logs = {("default", "looping", "app"): {"previous": "panic: no config\n"}}
    with StandInAPIServer(objects=pods, logs=logs) as api:
        def get(name, query=""):
            code, _, body = http(api, f"/api/v1/namespaces/default/pods/{name}/log{query}")
            return code, (json.loads(body)["message"] if code != 200 else body)

        assert get("pulling") == (400, 'container "app" in pod "pulling" is waiting to start: image can\'t be pulled')
        assert get("creating") == (400, 'container "app" in pod "creating" is waiting to start: ContainerCreating')
        # In CrashLoopBackOff a plain read streams the last terminated run.
        assert get("looping") == (200, "panic: no config\n")
        assert get("looping", "?previous=1") == (200, "panic: no config\n")
        assert get("unscheduled") == (200, "")
        assert get("quiet") == (200, "")


# ---------------------------------------------------------------- permissions --


def test_forbidden_resources_answer_the_rbac_status():
    with StandInAPIServer(objects=cluster(), forbidden=["events", "pods/log", "nodes", ("secrets", "data")]) as api:
        assert http_json(api, "/api/v1/namespaces/default/events") == (403, status(
            403, "Forbidden",
            'events is forbidden: User "system:serviceaccount:default:standin" cannot list resource "events" '
            'in API group "" in the namespace "default"', {"kind": "events"}))
        assert http_json(api, "/api/v1/namespaces/default/pods/web-1/log",
                         headers={"Impersonate-User": "bob"})[1]["message"] == (
            'pods "web-1" is forbidden: User "bob" cannot get resource "pods/log" in API group "" '
            'in the namespace "default"')
        assert http_json(api, "/api/v1/nodes")[1]["message"].endswith(
            'cannot list resource "nodes" in API group "" at the cluster scope')
        # pods themselves stay readable; secrets only in "data" (and cluster-wide) are denied.
        assert http(api, "/api/v1/namespaces/default/pods/web-1")[0] == 200
        assert http(api, "/api/v1/namespaces/default/secrets")[0] == 200
        assert http(api, "/api/v1/namespaces/data/secrets")[0] == 403
        assert http(api, "/api/v1/secrets")[0] == 403
        # Authorization comes before the lookup: a missing object is still 403.
        assert http_json(api, "/api/v1/namespaces/default/pods/gone/log")[0] == 403


def test_qualified_forbidden_names_match_their_group():
    with StandInAPIServer(objects=cluster(), forbidden=["deployments"]) as api:
        code, body = http_json(api, "/apis/apps/v1/namespaces/default/deployments/web")
        assert (code, body["details"]) == (403, {"name": "web", "group": "apps", "kind": "deployments"})
        assert body["message"].startswith('deployments.apps "web" is forbidden: User ')
        assert 'in API group "apps"' in body["message"]


def test_get_on_a_post_only_subresource_is_405(api):
    # kube-apiserver v1.34.4: GET pods/x/eviction finds go-restful's route, not its method.
    expected = status(405, "MethodNotAllowed", "the server does not allow this method on the requested resource", {})
    for path in ("/api/v1/namespaces/default/pods/x/eviction", "/api/v1/namespaces/default/pods/web-1/binding"):
        assert http_json(api, path) == (405, expected), path
    by_name = {r["name"]: r for r in http_json(api, "/api/v1")[1]["resources"]}
    assert by_name["pods/eviction"]["verbs"] == ["create"] and by_name["pods/eviction"]["group"] == "policy"
    # Authorization comes first (the filter chain runs before go-restful routes).
    with StandInAPIServer(objects=cluster(), forbidden=["pods/eviction"]) as denied:
        code, body = http_json(denied, "/api/v1/namespaces/default/pods/x/eviction")
        assert (code, body["message"]) == (403, 'pods "x" is forbidden: User "system:serviceaccount:default:standin" '
                                                'cannot get resource "pods/eviction" in API group "" in the '
                                                'namespace "default"')


def test_every_other_verb_is_405_and_still_recorded(api):
    code, body = http_json(api, "/api/v1/namespaces/default/pods", method="POST",
                           headers={"Content-Type": "application/json"})
    assert (code, body) == (405, status(405, "MethodNotAllowed",
                                        "the server does not allow this method on the requested resource", {}))
    assert http(api, "/api/v1/namespaces/default/pods/web-1", method="DELETE")[0] == 405
    assert [(r.method, r.path) for r in api.requests] == [
        ("POST", "/api/v1/namespaces/default/pods"), ("DELETE", "/api/v1/namespaces/default/pods/web-1")]


def test_requests_are_recorded_in_order_with_query_and_headers(api):
    http(api, "/api/v1/namespaces/default/pods?labelSelector=app%3Dweb&limit=5",
         headers={"impersonate-user": "carol", "Impersonate-Group": "ops", "Authorization": "Bearer x"})
    http(api, "/api/v1/namespaces/default/pods/missing")
    first, second = api.requests
    assert (first.method, first.path, first.query) == (
        "GET", "/api/v1/namespaces/default/pods", {"labelSelector": "app=web", "limit": "5"})
    assert first.headers["Impersonate-User"] == "carol" and first.header("IMPERSONATE-GROUP") == "ops"
    assert second.path == "/api/v1/namespaces/default/pods/missing"  # failed requests too
    api.clear_requests()
    assert api.requests == []


# ------------------------------------------------------------ events.k8s.io --


def test_events_k8s_io_serves_the_core_events_converted(api):
    # pkg/apis/events/v1/conversion.go Convert_core_Event_To_v1_Event; the real v1.34.4 answer's
    # item keys (compare_standin.py): deprecatedCount, deprecatedFirstTimestamp,
    # deprecatedLastTimestamp, deprecatedSource, eventTime, metadata, note, reason, regarding,
    # reportingController, reportingInstance, type.
    kubelet_event = {
        "apiVersion": "v1", "kind": "Event",
        "metadata": {"name": "web-1.17f", "namespace": "default", "creationTimestamp": "2024-05-01T10:00:00Z"},
        "involvedObject": {"kind": "Pod", "namespace": "default", "name": "web-1", "apiVersion": "v1",
                           "fieldPath": "spec.containers{app}"},
        "reason": "BackOff", "message": "Back-off restarting failed container app in pod web-1_default(1234)",
        "source": {"component": "kubelet", "host": "node-1"}, "firstTimestamp": "2024-05-01T09:58:00Z",
        "lastTimestamp": "2024-05-01T10:00:00Z", "count": 7, "type": "Warning", "eventTime": None,
        "reportingComponent": "kubelet", "reportingInstance": "node-1"}
    with StandInAPIServer(objects=[kubelet_event]) as api:
        code, body = http_json(api, "/apis/events.k8s.io/v1/namespaces/default/events")
        assert (code, body["kind"], body["apiVersion"]) == (200, "EventList", "events.k8s.io/v1")
        item = body["items"][0]
        assert sorted(item) == ["deprecatedCount", "deprecatedFirstTimestamp", "deprecatedLastTimestamp",
                                "deprecatedSource", "eventTime", "metadata", "note", "reason", "regarding",
                                "reportingController", "reportingInstance", "type"]
        assert item["regarding"] == kubelet_event["involvedObject"]
        assert (item["note"], item["deprecatedCount"], item["reportingController"]) == (
            kubelet_event["message"], 7, "kubelet")
        assert item["deprecatedSource"] == {"component": "kubelet", "host": "node-1"}
        assert item["deprecatedLastTimestamp"] == "2024-05-01T10:00:00Z" and item["eventTime"] is None
        code, one = http_json(api, "/apis/events.k8s.io/v1/namespaces/default/events/web-1.17f")
        assert (one["kind"], one["apiVersion"], one["note"]) == ("Event", "events.k8s.io/v1", kubelet_event["message"])
        # The core API still serves it as it was.
        assert http_json(api, "/api/v1/namespaces/default/events")[1]["items"][0]["message"] == kubelet_event["message"]
        # Given in the events.k8s.io form, an event is stored as its core form.
    with StandInAPIServer(objects=[dict(item, kind="Event", apiVersion="events.k8s.io/v1")]) as again:
        core = http_json(again, "/api/v1/namespaces/default/events")[1]["items"][0]
        assert (core["message"], core["count"], core["involvedObject"]["name"], core["source"]["host"]) == (
            kubelet_event["message"], 7, "web-1", "node-1")


def test_events_k8s_io_field_selectors_use_its_own_names(api):
    base = "/apis/events.k8s.io/v1/events?fieldSelector="
    assert names(http_json(api, base + "regarding.name%3Dweb-2,type%3DWarning")[1]) == [("default", "web-2.1")]
    assert names(http_json(api, base + "reportingController%3D")[1]) == [
        ("default", "sched.1"), ("default", "web-1.1"), ("default", "web-2.1")]
    # AddFieldLabelConversionsForEvent knows no involvedObject.* or source.
    for label in ("involvedObject.name", "source"):
        assert http_json(api, base + label + "%3Dx") == (
            400, status(400, "BadRequest", f"field label not supported: {label}"))
    assert "events" in [r["name"] for r in http_json(api, "/apis/events.k8s.io/v1")[1]["resources"]]


# ------------------------------------------------------------- managedFields --


def test_objects_carry_the_managed_fields_a_real_server_keeps(api):
    # kube-apiserver v1.34.4 answers get, list and metadata-only reads with metadata.managedFields
    # (compare_standin.py); `kubectl get -o json` hides them, so fixtures have none.
    code, one = http_json(api, "/api/v1/namespaces/default/pods/web-1")
    entries = one["metadata"]["managedFields"]
    assert [(e["manager"], e["operation"], e.get("subresource")) for e in entries] == [
        ("kubectl-create", "Update", None), ("kubelet", "Update", "status")]
    assert all(e["fieldsType"] == "FieldsV1" and e["apiVersion"] == "v1" for e in entries)
    assert entries[0]["fieldsV1"]["f:spec"]["f:containers"]['k:{"name":"app"}']["f:image"] == {}
    assert entries[0]["fieldsV1"]["f:metadata"]["f:labels"] == {".": {}, "f:app": {}, "f:tier": {}}
    assert "f:phase" in entries[1]["fieldsV1"]["f:status"]
    listed = http_json(api, "/api/v1/namespaces/default/pods")[1]["items"]
    assert all(i["metadata"]["managedFields"] for i in listed)
    meta = http_json(api, "/api/v1/namespaces/default/secrets", accept=META_LIST_ACCEPT)[1]["items"]
    assert all(i["metadata"]["managedFields"][0]["fieldsV1"]["f:data"] for i in meta)
    owned = pod("web-7f9c-abcde")
    owned["metadata"]["ownerReferences"] = [{"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": "web-7f9c",
                                             "uid": "u-1", "controller": True}]
    given = pod("kept")
    given["metadata"]["managedFields"] = [{"manager": "helm", "operation": "Update"}]
    with StandInAPIServer(objects=[owned, given, event("e.1", "web-7f9c-abcde", "Pulled")]) as other:
        got = http_json(other, "/api/v1/namespaces/default/pods/web-7f9c-abcde")[1]["metadata"]["managedFields"]
        assert got[0]["manager"] == "kube-controller-manager"
        assert 'k:{"uid":"u-1"}' in got[0]["fieldsV1"]["f:metadata"]["f:ownerReferences"]
        assert http_json(other, "/api/v1/namespaces/default/pods/kept")[1]["metadata"]["managedFields"] == [
            {"manager": "helm", "operation": "Update"}]
        assert http_json(other, "/api/v1/namespaces/default/events/e.1")[1]["metadata"]["managedFields"][0][
            "manager"] == "kubelet"
    with StandInAPIServer(objects=[pod("bare")], managed_fields=False) as bare:
        assert "managedFields" not in http_json(bare, "/api/v1/namespaces/default/pods/bare")[1]["metadata"]


def test_kubectl_hides_managed_fields_as_it_does_on_a_real_server(api, tmp_path):
    result = kubectl(api, tmp_path, "get", "pod", "web-1", "-o", "json")
    assert result.returncode == 0, result.stderr
    assert "managedFields" not in json.loads(result.stdout)["metadata"]
    shown = kubectl(api, tmp_path, "get", "pod", "web-1", "-o", "json", "--show-managed-fields")
    assert json.loads(shown.stdout)["metadata"]["managedFields"][1]["manager"] == "kubelet"


# ------------------------------------------------------------- proxy, metrics --


def test_pod_proxy_serves_the_configured_answers_or_the_dial_error():
    pods = [pod("web-1", ports=[8080]), pod("pending", ip=None)]
    responses = {("default", "web-1", "8080", "/healthz"): (500, "unhealthy"),
                 ("default", "web-1", "9090", "metrics"): (200, "up 1\n")}
    with StandInAPIServer(objects=pods, proxy_responses=responses) as api:
        base = "/api/v1/namespaces/default/pods"
        assert http(api, f"{base}/web-1:8080/proxy/healthz")[0::2] == (500, "unhealthy")
        assert http(api, f"{base}/web-1/proxy/healthz")[0::2] == (500, "unhealthy")  # first container port
        assert http(api, f"{base}/web-1:9090/proxy/metrics")[0::2] == (200, "up 1\n")
        assert http_json(api, f"{base}/web-1:8080/proxy/ready") == (503, status(
            503, "ServiceUnavailable",
            "error trying to reach service: dial tcp 10.244.0.10:8080: connect: connection refused"))
        assert http_json(api, f"{base}/nope:8080/proxy/healthz")[1]["message"] == 'pods "nope" not found'
        assert http_json(api, f"{base}/pending:8080/proxy/")[1]["message"] == "address not allowed"


def test_metrics_api_lists_and_gets_pod_and_node_metrics():
    pod_metrics = [{"kind": "PodMetrics", "apiVersion": "metrics.k8s.io/v1beta1",
                    "metadata": {"name": "web-1", "namespace": "default", "labels": {"app": "web"}},
                    "timestamp": "2024-05-01T10:00:00Z", "window": "15s",
                    "containers": [{"name": "app", "usage": {"cpu": "5m", "memory": "120Mi"}}]}]
    node_metrics = [{"kind": "NodeMetrics", "metadata": {"name": "node-1"},
                     "usage": {"cpu": "250m", "memory": "2Gi"}}]
    with StandInAPIServer(metrics_enabled=True, pod_metrics=pod_metrics, node_metrics=node_metrics) as api:
        code, body = http_json(api, "/apis/metrics.k8s.io/v1beta1/namespaces/default/pods?labelSelector=app%3Dweb")
        assert (code, body["kind"], names(body)) == (200, "PodMetricsList", [("default", "web-1")])
        code, one = http_json(api, "/apis/metrics.k8s.io/v1beta1/namespaces/default/pods/web-1")
        assert (one["kind"], one["containers"][0]["usage"]["memory"]) == ("PodMetrics", "120Mi")
        assert http_json(api, "/apis/metrics.k8s.io/v1beta1/namespaces/default/pods/nope")[1]["message"] == \
            'podmetrics.metrics.k8s.io "default/nope" not found'
        assert names(http_json(api, "/apis/metrics.k8s.io/v1beta1/nodes")[1]) == [("", "node-1")]


# ------------------------------------------------------------------ plumbing --


def test_objects_load_from_kubectl_output_files(tmp_path):
    listed = tmp_path / "list.json"
    listed.write_text(json.dumps({"apiVersion": "v1", "kind": "List", "items": cluster()[:2]}))
    docs = tmp_path / "more.yaml"
    docs.write_text(yaml.safe_dump_all([cluster()[3], {"apiVersion": "v1", "kind": "PodList",
                                                       "items": [{"metadata": {"name": "raw", "namespace": "x"}}]}]))
    with StandInAPIServer.from_objects_file(listed, docs, forbidden=["nodes"]) as api:
        assert names(http_json(api, "/api/v1/pods")[1]) == [("data", "db-0"), ("default", "web-1"),
                                                            ("default", "web-2"), ("x", "raw")]
        assert http(api, "/api/v1/nodes")[0] == 403


def test_write_kubeconfig_points_at_the_server(api, tmp_path):
    path = api.write_kubeconfig(tmp_path / "sub" / "config", namespace="data", context="lab", token="t0k")
    config = yaml.safe_load(open(path))
    assert config["current-context"] == "lab"
    assert config["clusters"][0]["cluster"]["server"] == api.url
    assert config["contexts"][0]["context"] == {"cluster": "lab", "user": "lab", "namespace": "data"}
    assert config["users"][0]["user"]["token"] == "t0k"
    assert "namespace" not in yaml.safe_load(open(api.write_kubeconfig(tmp_path / "c2")))["contexts"][0]["context"]


def test_bad_fixtures_are_refused_at_construction():
    with pytest.raises(ValueError, match="duplicate Pod default/web-1"):
        StandInAPIServer(objects=[pod("web-1"), pod("web-1")])
    with pytest.raises(ValueError, match="not served"):
        StandInAPIServer(objects=[{"kind": "HorizontalPodAutoscaler", "metadata": {"name": "x"}}])


def test_stop_releases_the_port():
    api = StandInAPIServer().start()
    url = api.url
    assert http(api, "/version")[0] == 200
    api.stop()
    with pytest.raises(urllib.error.URLError):
        urllib.request.urlopen(url + "/version", timeout=2)
