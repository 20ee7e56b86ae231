"""Pods match the Service but are not ready: which pods, and why (the `why` analyzers name the
root cause: a failing readiness probe with the kubelet's message, a crash loop...)."""

import json

from kdebug_core.analyzers.service import service_readiness
from tests.helpers import fixture, only, run_service_analyzer


def service_findings(path, name, patch=None):
    return run_service_analyzer(service_readiness.analyze, path, name, patch)


def test_a_readiness_probe_answering_503_leaves_the_service_without_ready_endpoints():
    f = only(service_findings(fixture("service_readiness", "readiness-probe-503-no-ready-endpoints.json"),
                              "orders-api"), "EndpointsNotReady")
    assert f.severity == "error"
    assert f.summary.startswith('service "orders-api" has no ready endpoints: all 2 matching pods are not ready')
    assert f.evidence[0].startswith("EndpointSlice orders-api-") and f.evidence[0].endswith("0/2 endpoints ready")
    for pod in ("orders-api-7f8c6d5b9-w2kqz", "orders-api-7f8c6d5b9-v8mtx"):
        line = next(e for e in f.evidence if e.startswith(f"pod {pod}: "))
        assert "Running, 0/1 ready" in line
        assert "containers with unready status: [api]" in line
        assert "Readiness probe failed: HTTP probe failed with statuscode: 503" in line
    assert (f.owner.kind, f.owner.name) == ("Deployment", "orders-api")
    assert "kubectl why deployment/orders-api -n default" in f.suggestions
    assert f.details["source"] == "EndpointSlice" and f.details["ready"] == 0 and f.details["total"] == 2


def test_the_root_cause_is_named_once_per_workload_by_the_why_analyzers():
    f = only(service_findings(fixture("service_readiness", "readiness-probe-503-no-ready-endpoints.json"),
                              "orders-api"), "EndpointsNotReady")
    causes = [(r.reason, r.container) for r in f.related]
    # both pods fail the same way: one explanation, not two
    assert causes.count(("ReadinessProbeFailed", "api")) == 1
    probe = next(r for r in f.related if r.reason == "ReadinessProbeFailed")
    assert probe.cause == "HTTPStatus"
    assert "ReadinessProbeFailed" in f.summary


def test_an_older_dump_with_only_v1_endpoints_is_read_from_not_ready_addresses():
    f = only(service_findings(fixture("service_readiness", "endpoints-only-not-ready-addresses.json"),
                              "orders-api"), "EndpointsNotReady")
    assert f.details["source"] == "Endpoints"
    assert f.evidence[0] == "Endpoints orders-api: 0/2 endpoints ready"
    assert sum(1 for e in f.evidence if e.startswith("pod orders-api-")) == 2


def test_without_any_endpoints_in_the_input_readiness_comes_from_the_pods():
    f = only(service_findings(fixture("service_readiness", "readiness-refused-no-endpoints-dumped.json"),
                              "catalog"), "EndpointsNotReady")
    assert f.details["source"] == "computed"
    assert f.evidence[0].startswith("computed from the pods") and f.evidence[0].endswith("0/1 endpoints ready")
    assert f.summary.startswith('service "catalog" has no ready endpoints: the only matching pod is not ready')
    line = f.evidence[1]
    assert "dial tcp 10.244.0.163:3000: connect: connection refused" in line
    probe = next(r for r in f.related if r.reason == "ReadinessProbeFailed")
    assert probe.cause == "ConnectionRefused"


def test_one_crash_looping_pod_of_three_is_a_warning_naming_that_pod():
    f = only(service_findings(fixture("service_readiness", "one-of-three-crashlooping.json"), "inventory"),
             "EndpointsNotReady")
    assert f.severity == "warning"
    assert f.summary.startswith('1 of 3 endpoints of service "inventory" is not ready')
    assert "traffic goes to the other 2 only" in f.summary
    pod_lines = [e for e in f.evidence if e.startswith("pod ")]
    assert len(pod_lines) == 1 and pod_lines[0].startswith("pod inventory-5d7b9c8f6-n4zsq: ")
    assert "CrashLoopBackOff" in pod_lines[0] and "7 restarts" in pod_lines[0]
    assert [r.reason for r in f.related] == ["CrashLoopBackOff"]
    assert "kubectl describe pod inventory-5d7b9c8f6-n4zsq -n default" in f.suggestions


def test_a_terminating_pod_during_a_rollout_is_not_a_problem():
    assert service_findings(fixture("service_readiness", "rollout-terminating-pod-not-counted.json"),
                            "inventory") == []


def test_ready_endpoints_give_no_finding():
    assert service_findings(fixture("service_selector", "healthy-two-ready-endpoints.json"),
                            "backend-service") == []


def test_publish_not_ready_addresses_sends_traffic_anyway():
    def publish(svc):
        svc["spec"]["publishNotReadyAddresses"] = True
    assert service_findings(fixture("service_readiness", "readiness-probe-503-no-ready-endpoints.json"),
                            "orders-api", patch=publish) == []


def test_a_pending_pod_without_ip_is_matched_but_not_an_endpoint(tmp_path):
    with open(fixture("service_readiness", "readiness-refused-no-endpoints-dumped.json")) as fh:
        doc = json.load(fh)
    pod = next(o for o in doc["items"] if o["kind"] == "Pod")
    pod["status"] = {
        "conditions": [{"lastProbeTime": None, "lastTransitionTime": "2024-05-14T09:12:03Z",
                        "message": "0/3 nodes are available: 3 Insufficient memory. preemption: 0/3 nodes are "
                                   "available: 3 No preemption victims found for incoming pod..",
                        "reason": "Unschedulable", "status": "False", "type": "PodScheduled"}],
        "phase": "Pending", "qosClass": "BestEffort"}
    pod["spec"].pop("nodeName")
    doc["items"] = [o for o in doc["items"] if o["kind"] != "Event"]
    path = tmp_path / "pending.json"
    path.write_text(json.dumps(doc))
    f = only(service_findings(str(path), "catalog"), "EndpointsNotReady")
    assert "no pod IP yet, not an endpoint" in f.evidence[1]
    assert f.severity == "error"
