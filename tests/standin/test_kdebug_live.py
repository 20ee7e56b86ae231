"""kdebug's live source against the answers the stand-in now gives as kube-apiserver v1.34.4 does:
managedFields on every object, and the kubelet's own error text in a 200 log answer."""

import pytest

from kdebug_core.sources import live
from tests.standin.apiserver import StandInAPIServer

POD = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "web-1", "namespace": "shop",
                                                       "labels": {"app": "web"}},
       "spec": {"nodeName": "node-1", "containers": [{"name": "app", "image": "nginx"}]},
       "status": {"phase": "Running", "containerStatuses": [{
           "name": "app", "ready": True, "restartCount": 1,
           "state": {"running": {"startedAt": "2024-05-01T10:00:00Z"}},
           "lastState": {"terminated": {"exitCode": 1, "reason": "Error", "containerID": "containerd://0123abcd",
                                        "startedAt": "2024-05-01T09:59:00Z",
                                        "finishedAt": "2024-05-01T09:59:30Z"}}}]}}
# What kube-apiserver v1.34.4 returned for the previous log of a crash-looping container whose
# previous instance containerd had already removed (tests/cluster/compare_standin.py).
GONE = "unable to retrieve container logs for containerd://c985d68ad060272bdcc6f49c1ad11a7425e12f97f68f4662ac8d1617ab9f6729"


@pytest.fixture
def backend():
    logs = {("shop", "web-1", "app"): {"previous": GONE, "current": "listening on :8080\n"}}
    with StandInAPIServer(objects=[POD], logs=logs) as api:
        from kubernetes import client
        cfg = client.Configuration()
        cfg.host = api.url
        yield live.LiveBackend(cfg, live.ConnectionOptions(request_timeout=5)), api


def test_objects_read_live_keep_no_managed_fields(backend):
    b, api = backend
    raw = b.request("/api/v1/namespaces/shop/pods/web-1")[1]
    assert b'"managedFields"' in raw  # what the server sends, as a real one does
    got = b.get("Pod", "shop", "web-1")
    assert got["metadata"]["name"] == "web-1" and "managedFields" not in got["metadata"]
    listed = b.list("Pod", "shop")
    assert [p["metadata"]["name"] for p in listed] == ["web-1"]
    assert "managedFields" not in listed[0]["metadata"]
    meta = b.get("Pod", "shop", "web-1", metadata_only=True)
    assert "managedFields" not in meta["metadata"]


def test_the_kubelets_error_text_is_not_read_as_the_containers_log(backend):
    b, api = backend
    assert b.logs("shop", "web-1", "app", previous=True, tail_lines=20) is None
    assert b.logs("shop", "web-1", "app", previous=False, tail_lines=20) == "listening on :8080\n"
    # One request each: no retry, no fallback read.
    assert [r.path for r in api.requests].count("/api/v1/namespaces/shop/pods/web-1/log") == 2
