"""EvictedMemoryPressure: pods the kubelet evicted because their node was low on memory."""

from kdebug_core import engine
from kdebug_core.analyzers.pod import memory_pressure
from tests.helpers import fixture, only, pod_context, view_of

TWO = "evicted-memory-two-containers-over-request.json"
EVICTED = "ingest-api-7b5d8c9f4-lq8zt"


def view(name: str):
    return view_of(fixture("memory_pressure", name))


def diagnose(name: str, pod: str, plugin: str = "oomcheck"):
    return memory_pressure.analyze(pod_context(view(name), pod, plugin))


def test_an_eviction_under_memory_pressure_names_the_container_and_how_far_over_its_request():
    f = only(diagnose(TWO, EVICTED), "EvictedMemoryPressure")
    assert f.plugin == "oomcheck" and f.container == "app" and f.owner.name == "ingest-api"
    assert f.summary == ('pod was evicted from node "kind-worker2" because the node ran low on memory; '
                         "container app used 1.6Gi, 1.5Gi more than its 64Mi request")
    assert f.details["usageBytes"] == 1656148 * 1024 and f.details["requestBytes"] == 64 * 1024 * 1024
    assert f.details["overRequestBytes"] == (1656148 * 1024 - 64 * 1024 * 1024)
    assert any(e.startswith("event Evicted") and "Threshold quantity: 100Mi, available: 91560Ki" in e
               for e in f.evidence)
    assert any("MemoryPressure" in e and "True" in e for e in f.evidence)
    assert ("container app: memory limit none, request 64Mi; without a limit it grows until the node, not its "
            "own cgroup, runs out") in f.evidence


def test_the_fix_requests_what_it_used_and_limits_it_with_headroom():
    f = only(diagnose(TWO, EVICTED), "EvictedMemoryPressure")
    # 1656148Ki used: request rounded up to 1792Mi, limit 1.25x rounded up to 2Gi
    assert f.suggestions[0] == ("kubectl set resources deployment/ingest-api -n default -c app "
                                "--limits=memory=2Gi --requests=memory=1792Mi")
    assert "kubectl describe node kind-worker2" in f.suggestions
    assert any(s.startswith(f"kubectl delete pod {EVICTED} -n default") for s in f.suggestions)
    # the Deployment already replaced the pod: a warning, not an outage
    assert f.severity == "warning"


def test_an_older_kubelets_wording_and_a_limit_that_was_not_reached():
    f = only(diagnose("evicted-memory-older-kubelet-wording-statefulset.json", "indexer-1"), "EvictedMemoryPressure")
    assert f.owner.kind == "StatefulSet" and f.container == "worker"
    assert "container worker used 2.7Gi, 1.7Gi more than its 1Gi request" in f.summary
    assert any("which exceeds its request of 1Gi" in e for e in f.evidence)
    # 2.7Gi is under the 4Gi limit: the limit is kept, the request is what must change
    assert f.suggestions[0] == ("kubectl set resources statefulset/indexer -n search -c worker "
                                "--limits=memory=4Gi --requests=memory=2816Mi")
    assert f.severity == "error"


def test_a_disk_eviction_is_not_a_memory_finding():
    assert diagnose("evicted-ephemeral-storage-not-memory.json", "report-builder-6b8c9d7f5-zq4nh") == []


def test_the_running_replacement_pod_gives_nothing():
    assert diagnose(TWO, "ingest-api-7b5d8c9f4-9vcx2") == []


def test_why_reports_the_eviction_once_and_oomcheck_under_its_own_reason():
    v = view(TWO)
    pod = next(p for p in v.list("Pod", None) if p["metadata"]["name"] == EVICTED)
    why = [f.reason for f in engine.analyze_pod(v, pod, "why")]
    assert why.count("Evicted") == 1 and "EvictedMemoryPressure" not in why
    assert [f.reason for f in engine.analyze_pod(v, pod, "oomcheck")] == ["EvictedMemoryPressure"]
