"""The live backend's contract (kdebug_core/sources/live.py), read by read: what it retries, what is
a failed read (ReadFailed/Forbidden), an API not served (NotServed), and what ends the run
(ClusterError)."""

import json
import time

import pytest

from kdebug_core.errors import ClusterError, Forbidden, NotServed, ReadFailed
from kdebug_core.sources import live
from tests.standin.faults import Fault, FaultyStandIn

POD = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "web-1", "namespace": "shop"},
       "spec": {"containers": [{"name": "app", "image": "nginx"}]}, "status": {"phase": "Running"}}
EVENT = {"apiVersion": "v1", "kind": "Event", "metadata": {"name": "web-1.1", "namespace": "shop"},
         "involvedObject": {"kind": "Pod", "name": "web-1", "namespace": "shop"},
         "reason": "Started", "message": "Started container app", "type": "Normal"}


@pytest.fixture
def backend(tmp_path):
    servers = []

    def make(faults=(), timeout=2.0, verified=True, **kw):
        server = FaultyStandIn(objects=[POD, EVENT], faults=list(faults), **kw).start()
        servers.append(server)
        from kubernetes import client
        cfg = client.Configuration()
        cfg.host = server.url
        b = live.LiveBackend(cfg, live.ConnectionOptions(request_timeout=timeout))
        if verified:
            b._verified = True  # as after the run's first read
        return b, server

    yield make
    for s in servers:
        s.stop()


def test_a_missing_object_is_none_and_an_api_not_served_is_not_served(backend):
    b, _ = backend(verified=False)
    assert b.get("Pod", "shop", "nope") is None       # `pods "nope" not found`, details.name set
    with pytest.raises(NotServed):
        b.list("PodMetrics", "shop")                   # no metrics-server: /apis/metrics.k8s.io 404
    with pytest.raises(NotServed):
        b.get("PodMetrics", "shop", "web-1")


def test_5xx_without_retry_after_is_retried_twice_then_a_failed_read(backend):
    b, server = backend([Fault(r"/events$", "status", code=503, times=None)])
    with pytest.raises(ReadFailed) as err:
        b.list("Event", "shop")
    assert err.value.status == 503 and err.value.resource == "events"
    assert str(err.value) == "HTTP 503: the server is currently unable to handle the request"
    assert server.fault_hits == [3]


def test_retry_after_is_retried_up_to_client_gos_ten_times(backend):
    b, server = backend([Fault(r"/events$", "status", code=429, retry_after="0", times=None)])
    with pytest.raises(ReadFailed) as err:
        b.list("Event", "shop")
    assert err.value.status == 429 and server.fault_hits == [1 + live.MAX_RETRIES]


def test_a_retry_after_beyond_the_deadline_is_not_waited_for(backend):
    b, server = backend([Fault(r"/events$", "status", code=429, retry_after="5", times=None)], timeout=1.0)
    started = time.monotonic()
    with pytest.raises(ReadFailed):
        b.list("Event", "shop")
    assert time.monotonic() - started < 0.5 and server.fault_hits == [1]


def test_a_reset_after_the_first_answer_is_a_failed_read_not_the_end_of_the_run(backend):
    b, _ = backend([Fault(r"/log$", "reset", times=None)], timeout=0.8)
    with pytest.raises(ReadFailed) as err:
        b.logs("shop", "web-1", "app", False, 20)
    assert err.value.resource == "pods/log" and "connection failed" in str(err.value)


def test_the_same_failure_before_any_answer_ends_the_run(backend):
    b, _ = backend([Fault(r"/pods", "reset", times=None)], timeout=0.8, verified=False)
    with pytest.raises(ClusterError) as err:
        b.list("Pod", "shop")
    assert str(err.value).startswith(f"cannot reach the Kubernetes API at {b.host}: ")


def test_a_continue_token_that_does_not_advance_stops_the_list(backend):
    page = {"kind": "EventList", "apiVersion": "v1", "metadata": {"continue": "same-token"},
            "items": [EVENT]}
    b, server = backend([Fault(r"/events$", "status", code=200, times=None,
                               body=json.dumps(page).encode())])
    with pytest.raises(ReadFailed) as err:
        b.list("Event", "shop")
    assert "does not advance" in str(err.value)
    assert server.fault_hits == [2]


def test_forbidden_carries_the_servers_message(backend):
    b, _ = backend([Fault(r"/secrets$", "status", code=403, times=None)])
    with pytest.raises(Forbidden) as err:
        b.list("Secret", "shop", metadata_only=True)
    assert err.value.status == 403 and 'cannot list resource "secrets"' in str(err.value)


def test_a_dripping_answer_is_cut_at_the_deadline(backend):
    b, _ = backend([Fault(r"/events$", "drip", times=None, interval=0.1)], timeout=0.7)
    started = time.monotonic()
    with pytest.raises(ReadFailed) as err:
        b.list("Event", "shop")
    assert 0.6 < time.monotonic() - started < 1.5
    assert "request deadline" in str(err.value)


def test_objects_without_their_kinds_shape_are_left_out_with_a_note(backend):
    bad = {"kind": "EventList", "apiVersion": "v1", "metadata": {},
           "items": [EVENT, {"metadata": {"name": "e2", "namespace": "shop"}, "involvedObject": "web-1"}]}
    b, _ = backend([Fault(r"/events$", "status", code=200, times=1, body=json.dumps(bad).encode())])
    assert [e["metadata"]["name"] for e in b.list("Event", "shop")] == ["web-1.1"]
    assert b.notes == ["/api/v1/namespaces/shop/events: left out event shop/e2: involvedObject is a "
                       "string where an object belongs"]


def test_json_that_is_not_the_apis_is_not_an_empty_list(backend):
    # Some other JSON service at the kubeconfig's address: `{}` must not read as "no pods".
    b, _ = backend([Fault(r"^/", "status", code=200, times=None, body=b'{"status": "ok"}')], verified=False)
    with pytest.raises(ClusterError) as err:
        b.list("Pod", None)
    assert "does not look like a Kubernetes API server (got JSON that is not a Kubernetes object or " \
           "list, HTTP 200)" in str(err.value)
    b, _ = backend([Fault(r"/events$", "status", code=200, times=None, body=b'{"status": "ok"}')])
    with pytest.raises(ReadFailed) as err:
        b.list("Event", "shop")
    assert str(err.value) == "the answer is not a Kubernetes list"
