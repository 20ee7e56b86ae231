"""MemoryNearLimit and NoMemoryLimit: limits against the metrics API's usage (what `kubectl top` shows)."""

from kdebug_core.analyzers.pod import memory_usage, oom_killed
from kdebug_core.errors import ClusterError
from kdebug_core.quantity import MI
from kdebug_core.sources.files import FileBackend
from kdebug_core.view import ClusterView, ViewOptions, meta
from tests.helpers import fixture, only, pod_context, view_of

NEAR = "search-api-at-95-percent-of-limit-with-podmetrics.json"
SEARCH = "search-api-6f8d9c7b5-t4r9k"


def view(name: str, **kw):
    return view_of(fixture("memory_usage", name), **kw)


def near_limit(v, pod: str):
    return memory_usage.analyze(pod_context(v, pod, "oomcheck"))


# ---- MemoryNearLimit -----------------------------------------------------------------------------

def test_a_container_at_95_percent_of_its_limit_is_warned_with_a_limit_from_its_usage():
    f = only(near_limit(view(NEAR), SEARCH), "MemoryNearLimit")
    assert f.severity == "warning" and f.plugin == "oomcheck"
    assert f.container == "app" and f.owner.name == "search-api"
    assert f.summary == ("container app uses 486.6Mi of its 512Mi memory limit (95%): the next spike gets it "
                         "OOM-killed")
    assert f.evidence[0] == ("metrics API: container app uses 486.6Mi of memory (working set, 20.063s window, "
                             "read 13s ago)")
    assert "memory limit 512Mi, request 256Mi: 95% of the limit in use" in f.evidence
    assert "restarted 1 time, last run ended with OOMKilled (exit 137)" in f.evidence
    # 498312Ki x 1.25 = 608Mi, rounded up to 640Mi; the request covers the usage
    assert f.suggestions[0] == ("kubectl set resources deployment/search-api -n default -c app "
                                "--limits=memory=640Mi --requests=memory=512Mi")
    assert f.details["usageBytes"] == 498312 * 1024 and f.details["usagePercent"] == 95


def test_the_sidecar_at_40_percent_and_a_quiet_pod_give_nothing():
    v = view(NEAR)
    assert [f.container for f in near_limit(v, SEARCH)] == ["app"]
    assert near_limit(v, "site-5b7c8d9f6-w2zq8") == []
    assert v.notes == []


def test_limits_in_every_quantity_form_are_compared_with_usage():
    v = view("limits-in-every-quantity-form.json")
    found = {meta(p)["name"].rsplit("-", 2)[0]: near_limit(v, meta(p)["name"]) for p in v.list("Pod", None)}
    assert only(found["plain-bytes"], "MemoryNearLimit").details["usagePercent"] == 96  # 134217728
    assert only(found["exponent"], "MemoryNearLimit").details["usagePercent"] == 94     # 129e6
    assert only(found["si-giga-fraction"], "MemoryNearLimit").details["usagePercent"] == 99  # 0.5G
    assert found["decimal-gi"] == []                                                    # 1.5Gi, 50 %
    assert found["si-mega"] == []                                                       # 500M, 61 %
    exponent = only(found["exponent"], "MemoryNearLimit")
    assert "its 129e6 (123Mi) memory limit" in exponent.summary
    # the request already covers the usage: kept as the manifest writes it
    assert exponent.suggestions[0].endswith("--limits=memory=192Mi --requests=memory=129e6")
    assert found["si-giga-fraction"][0].suggestions[0].endswith("--limits=memory=640Mi --requests=memory=0.5G")


def test_500M_is_not_500Mi():
    v = view("limits-in-every-quantity-form.json")
    pod = next(p for p in v.list("Pod", None) if meta(p)["name"].startswith("si-mega"))
    # 300000Ki of 500M (476.8Mi) is 61 %: below the threshold either way, and the limit is read in SI
    assert near_limit(v, meta(pod)["name"]) == []
    c = next(pod_context(v, meta(pod)["name"]).containers())
    assert memory_usage.memory_resources(c)[0] == "500M"
    assert memory_usage.quantity_text("500M") == "500M (476.8Mi)"


def test_without_podmetrics_usage_is_unknown_said_once_and_nothing_is_guessed():
    v = view("search-api-no-podmetrics.json")
    for p in v.list("Pod", None):
        assert near_limit(v, meta(p)["name"]) == []
    assert v.notes == [memory_usage.NO_METRICS_FILES]


class _MetricsDown(FileBackend):
    """A cluster whose metrics APIService is registered but its backend is down (503)."""

    def __init__(self, loaded):
        super().__init__(loaded)
        self.metrics_reads = 0

    def list(self, kind, namespace, **kw):
        if kind == "PodMetrics":
            self.metrics_reads += 1
            raise ClusterError("the Kubernetes API at https://10.0.0.1:6443 answered 503 for pods: "
                               "the server is currently unable to handle the request")
        return super().list(kind, namespace, **kw)


def test_a_metrics_api_that_answers_503_is_noted_once_and_not_asked_again():
    files = FileBackend.from_paths([fixture("memory_usage", NEAR)])
    backend = _MetricsDown(files._loaded)
    v = ClusterView(backend, ViewOptions(namespace=None, scan=True))
    for p in v.list("Pod", None):
        assert memory_usage.analyze(pod_context(v, meta(p)["name"], "oomcheck")) == []
    assert backend.metrics_reads == 1
    assert len(v.notes) == 1 and "the metrics API did not answer" in v.notes[0] and "503" in v.notes[0]


class _CountingMetrics(FileBackend):
    def __init__(self, loaded):
        super().__init__(loaded)
        self.metrics_reads = 0

    def list(self, kind, namespace, **kw):
        self.metrics_reads += kind == "PodMetrics"
        return super().list(kind, namespace, **kw)


def test_why_does_not_read_the_metrics_api_for_pods_without_a_memory_limit():
    """Nothing can be near a limit that is not set: `why -A` over pods without limits makes one
    request fewer (the metrics list), and a pod with a limit still has it read and judged."""
    def counting_view(name):
        backend = _CountingMetrics(FileBackend.from_paths([fixture("memory_usage", name)])._loaded)
        return ClusterView(backend, ViewOptions(namespace=None, scan=True)), backend

    v, backend = counting_view("replicas-without-memory-limit-besteffort.json")
    running = [p for p in v.list("Pod", None) if p["status"].get("phase") == "Running"]
    assert running
    for p in running:
        assert memory_usage.analyze_for_why(pod_context(v, meta(p)["name"], "why")) == []
    assert backend.metrics_reads == 0 and v.notes == []

    v, backend = counting_view(NEAR)
    f = only(memory_usage.analyze_for_why(pod_context(v, SEARCH, "why")), "MemoryNearLimit")
    assert f.container == "app" and f.details["usagePercent"] == 95
    assert backend.metrics_reads == 1


def test_pods_that_are_not_running_are_not_measured():
    v = view("replicas-without-memory-limit-besteffort.json")
    assert near_limit(v, "db-migrate-28771380-4kq9z") == []


# ---- the OOMKilled suggestion uses the observed usage ---------------------------------------------

def test_oom_killed_reads_the_usage_of_the_restarted_container_from_the_metrics_api():
    f = only(oom_killed.analyze(pod_context(view(NEAR), SEARCH, "oomcheck")), "OOMKilled")
    assert f.details["usageBytes"] == 498312 * 1024
    assert any(e.startswith("metrics API: container app uses 486.6Mi now") for e in f.evidence)
    # twice the limit (1Gi) holds more than 1.25 x the usage
    assert f.details["suggestedLimit"] == "1Gi"
    # a usage above what the doubled limit holds raises it: 900Mi x 1.25, rounded up past 1Gi
    assert oom_killed.suggest(512 * MI, 256 * MI, 900 * MI)[1] == "1280Mi"


# ---- NoMemoryLimit -------------------------------------------------------------------------------

def test_three_replicas_without_a_limit_give_one_finding_for_the_deployment():
    v = view("replicas-without-memory-limit-besteffort.json")
    f = only(memory_usage.analyze_scope(v, v.list("Pod", None), "oomcheck"), "NoMemoryLimit")
    assert f.severity == "info" and f.container == "worker"
    assert f.summary.startswith("container worker of deployment/thumbnailer (3 pods) has no memory limit")
    assert "no resources.limits.memory; request none; QoS class BestEffort" in f.evidence
    assert "BestEffort pods (no requests, no limits) are the node OOM killer's first victims" in f.evidence
    assert "metrics API: uses 1.3Gi now (the most of its pods)" in f.evidence
    # the busiest replica: 1402388Ki x 1.25, rounded up
    assert f.suggestions == ["kubectl set resources deployment/thumbnailer -n media -c worker "
                             "--limits=memory=1792Mi --requests=memory=1536Mi"]
    assert len(f.details["pods"]) == 3
    # the finished Job pod is not reported
    assert "db-migrate-28771380-4kq9z" not in f.details["pods"]


def test_a_container_without_limit_on_a_node_that_had_a_node_oom_is_a_warning():
    v = view_of(fixture("node_oom", "systemoom-kubelet-and-npd-python-worker-no-limit.json"))
    f = only(memory_usage.analyze_scope(v, v.list("Pod", None), "oomcheck"), "NoMemoryLimit")
    assert f.severity == "warning" and f.container == "worker"
    assert any(e.startswith("node ip-10-0-3-41.eu-west-1.compute.internal had 1 node-level OOM kill (SystemOOM)")
               for e in f.evidence)
    # no usage known: measure first, keep the request, fill in LIMIT
    assert f.suggestions[0].startswith("kubectl top pod report-worker-6c9f7d8b5-q2x7d -n analytics --containers")
    assert f.suggestions[1] == ("kubectl set resources deployment/report-worker -n analytics -c worker "
                                "--limits=memory=LIMIT --requests=memory=256Mi")
    assert f.details["suggestedLimit"] is None


def test_containers_with_limits_give_no_nomemorylimit():
    v = view(NEAR)
    assert memory_usage.analyze_scope(v, v.list("Pod", None), "oomcheck") == []
