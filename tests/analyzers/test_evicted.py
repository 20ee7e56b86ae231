"""Evicted: the kubelet evicted the pod; say which resource ran out, who used it, and what to request."""

import copy

from kdebug_core.analyzers.pod import evicted
from kdebug_core.analyzers.pod.evicted import parse_message
from tests.helpers import fixture, only, pod_context, view_of


def diagnose(name, pod):
    view = view_of(fixture("evicted", name))
    return evicted.analyze(pod_context(view, pod))


# ---- the kubelet's message -----------------------------------------------------------------------

def test_current_memory_message_gives_resource_threshold_and_the_offending_container():
    parsed = parse_message("The node was low on resource: memory. Threshold quantity: 100Mi, available: 91560Ki. "
                           "Container app was using 1656148Ki, request is 64Mi, has larger consumption of memory. ")
    assert (parsed["resource"], parsed["trigger"]) == ("memory", "NodePressure")
    assert (parsed["threshold"], parsed["available"]) == ("100Mi", "91560Ki")
    assert parsed["containers"] == [{"name": "app", "usage": "1656148Ki", "request": "64Mi"}]


def test_several_offending_containers_are_all_read():
    parsed = parse_message("The node was low on resource: memory. Container app was using 900Mi, request is 64Mi, "
                           "has larger consumption of memory. Container sidecar was using 300Mi, request is 0, "
                           "has larger consumption of memory. ")
    assert [c["name"] for c in parsed["containers"]] == ["app", "sidecar"]
    assert evicted._worst(parsed["containers"])["name"] == "app"


def test_storage_limit_evictions_need_no_node_pressure():
    assert parse_message('Usage of EmptyDir volume "cache" exceeds the limit "1Gi". ') == {
        "resource": "ephemeral-storage", "trigger": "EmptyDirLimit", "threshold": None, "available": None,
        "containers": [], "volume": "cache", "limit": "1Gi"}
    pod_limit = parse_message("Pod ephemeral local storage usage exceeds the total limit of containers 1Gi. ")
    assert (pod_limit["trigger"], pod_limit["limit"]) == ("PodLimit", "1Gi")
    container_limit = parse_message('Container app exceeded its local ephemeral storage limit "500Mi". ')
    assert (container_limit["trigger"], container_limit["containers"][0]["name"]) == ("ContainerLimit", "app")


def test_pid_and_old_filesystem_signal_names_map_to_our_causes():
    assert parse_message("The node was low on resource: pids. Threshold quantity: 1000, available: 850. ")[
        "resource"] == "pid"
    assert parse_message("The node was low on resource: nodefs. ")["resource"] == "ephemeral-storage"
    assert parse_message("The node was low on resource: imagefs. ")["resource"] == "ephemeral-storage"


def test_pod_rejected_at_admission_under_disk_pressure():
    parsed = parse_message("Pod was rejected: The node had condition: [DiskPressure]. ")
    assert (parsed["trigger"], parsed["resource"], parsed["conditions"]) == (
        "NodeCondition", "ephemeral-storage", ["DiskPressure"])


# ---- pods ----------------------------------------------------------------------------------------

def test_memory_pressure_eviction_names_the_container_and_requests_its_real_usage():
    f = only(diagnose("evicted-memory-pressure.json", "catalog-7c9d8b6f4-2xkqp"), "Evicted")
    assert (f.cause, f.container) == ("memory", "app")
    assert f.summary == ("pod was evicted from node kind-worker because the node ran low on memory; container app "
                         "was using 1.6Gi against its 64Mi request")
    assert f.details == {"resource": "memory", "node": "kind-worker", "container": "app",
                         "usageBytes": 1656148 * 1024, "requestBytes": 64 * 1024 ** 2, "threshold": "100Mi",
                         "available": "91560Ki", "trigger": "NodePressure",
                         "replacements": ["catalog-7c9d8b6f4-m8fzt"]}
    assert ("container app used 1.6Gi of memory, 25x its request of 64Mi (the scheduler placed it by the request)"
            in f.evidence)
    assert "node kind-worker: MemoryPressure=True for 3m4s (kubelet has insufficient memory available)" in f.evidence
    assert any("EvictionThresholdMet (x2" in e and "Attempting to reclaim memory" in e for e in f.evidence)
    assert any(e.startswith("replacement pod catalog-7c9d8b6f4-m8fzt is Running on kind-worker2") for e in f.evidence)
    assert f.suggestions[0].startswith(
        "kubectl set resources deployment/catalog -n shop -c app --requests=memory=1792Mi")
    assert "kubectl describe node kind-worker" in f.suggestions
    assert "kubectl top nodes" in f.suggestions
    cleanup = f.fixes[-1]
    assert cleanup == "kubectl delete pod catalog-7c9d8b6f4-2xkqp -n shop" and "clean-up" in cleanup.why
    assert sum(1 for s in f.suggestions if s.startswith("kubectl delete")) == 1


def test_a_running_replacement_makes_it_a_warning_without_one_it_is_an_error():
    f = only(diagnose("evicted-memory-pressure.json", "catalog-7c9d8b6f4-2xkqp"), "Evicted")
    assert f.severity == "warning"
    view = view_of(fixture("evicted", "evicted-memory-pressure.json"))
    ctx = pod_context(view, "catalog-7c9d8b6f4-2xkqp")
    replacement = next(p for p in view.list("Pod", None) if p["metadata"]["name"].endswith("m8fzt"))
    replacement["status"]["phase"] = "Pending"
    assert only(evicted.analyze(ctx), "Evicted").severity == "error"


def test_kubernetes_1_21_wording_with_nothing_but_the_pod_status():
    f = only(diagnose("evicted-memory-k8s-1.21-wording.json", "worker-5d9f7c8b6-lwq7t"), "Evicted")
    assert (f.cause, f.container) == ("memory", "worker")
    assert f.details["usageBytes"] == 1656148 * 1024 and f.details["requestBytes"] == 64 * 1024 ** 2
    assert f.details["threshold"] is None
    assert f.severity == "error"
    assert "kubectl set resources deployment/worker -n default -c worker --requests=memory=1792Mi" in f.suggestions[0]


def test_disk_pressure_eviction_of_a_container_with_no_storage_request():
    f = only(diagnose("evicted-ephemeral-storage.json", "report-builder-6b8c9d7f5-zq4nh"), "Evicted")
    assert (f.cause, f.container) == ("ephemeral-storage", "builder")
    assert f.summary.endswith("container builder had used 10.1Gi with no ephemeral-storage request")
    assert f.details["requestBytes"] == 0
    assert f.details["threshold"] == "10508926156" and f.details["available"] == "9874316Ki"
    assert "node kind-worker2: DiskPressure=True for 4m22s (kubelet has disk pressure)" in f.evidence
    assert any("Attempting to reclaim ephemeral-storage" in e for e in f.evidence)
    assert f.suggestions[0].startswith("kubectl set resources deployment/report-builder -n batch -c builder "
                                       "--requests=ephemeral-storage=11Gi")
    assert "kubectl top nodes" not in f.suggestions


def evicted_saying(name, pod, message):
    """The findings for a fixture's evicted pod whose status.message says `message` instead."""
    ctx = pod_context(view_of(fixture("evicted", name)), pod)
    ctx.pod = copy.deepcopy(ctx.pod)
    ctx.pod["status"]["message"] = message
    return evicted.analyze(ctx)


def test_offending_container_comes_from_the_event_annotations_when_the_message_lacks_it():
    f = only(evicted_saying("evicted-memory-pressure.json", "catalog-7c9d8b6f4-2xkqp",
                            "The node was low on resource: memory. "), "Evicted")
    assert f.container == "app" and f.details["usageBytes"] == 1656148 * 1024


def test_emptydir_limit_eviction_explains_the_size_limit():
    f = only(evicted_saying("evicted-memory-k8s-1.21-wording.json", "worker-5d9f7c8b6-lwq7t",
                            'Usage of EmptyDir volume "cache" exceeds the limit "1Gi". '), "Evicted")
    assert f.cause == "ephemeral-storage"
    assert 'emptyDir volume "cache" grew past its sizeLimit 1Gi' in f.summary


def test_pods_that_failed_for_other_reasons_or_run_are_not_evictions():
    assert diagnose("not-evicted-failed-job-and-running-pod.json", "import-orders-28593120-5kx8p") == []
    assert diagnose("not-evicted-failed-job-and-running-pod.json", "catalog-7c9d8b6f4-m8fzt") == []
