"""The view decides how many reads a run makes: scans list once per kind, single pods use GETs."""

from datetime import datetime, timezone

from kdebug_core.errors import Forbidden
from kdebug_core.view import ClusterView, ViewOptions, normalize_event


class RecordingBackend:
    offline = False

    def __init__(self, objects, forbidden=()):
        self.objects = objects
        self.forbidden = set(forbidden)
        self.calls = []

    def list(self, kind, namespace, label_selector=None, field_selector=None, metadata_only=False):
        self.calls.append(("list", kind, namespace, field_selector, metadata_only))
        if kind in self.forbidden:
            raise Forbidden(kind.lower() + "s", namespace, "forbidden")
        return [o for o in self.objects if o["kind"] == kind
                and (namespace is None or o["metadata"].get("namespace") == namespace)]

    def get(self, kind, namespace, name, metadata_only=False):
        self.calls.append(("get", kind, namespace, name, metadata_only))
        return next((o for o in self.objects if o["kind"] == kind and o["metadata"]["name"] == name), None)

    def logs(self, namespace, pod, container, previous, tail_lines):
        self.calls.append(("logs", pod, container, previous))
        return "line"

    def now(self):
        return datetime(2026, 11, 20, 10, 5, tzinfo=timezone.utc)


def pods(n):
    return [{"kind": "Pod", "metadata": {"name": f"p{i}", "namespace": "ns", "uid": f"u{i}"}}
            for i in range(n)]


def test_scan_lists_each_kind_once_whatever_the_number_of_pods():
    backend = RecordingBackend(pods(300) + [{"kind": "ConfigMap", "metadata": {"name": "c", "namespace": "ns"}}])
    view = ClusterView(backend, ViewOptions(namespace="ns", scan=True))
    for p in view.list("Pod"):
        view.events_for(p, "Pod")
        view.exists("ConfigMap", "ns", "c")
        view.exists("Secret", "ns", "s")
    kinds = [c[1] for c in backend.calls]
    assert kinds.count("Pod") == 1 and kinds.count("Event") == 1
    assert kinds.count("ConfigMap") == 1 and kinds.count("Secret") == 1


def test_secrets_are_only_ever_read_metadata_only():
    backend = RecordingBackend([])
    ClusterView(backend, ViewOptions(namespace="ns", scan=True)).exists("Secret", "ns", "db")
    ClusterView(backend, ViewOptions(namespace="ns", scan=False)).exists("Secret", "ns", "db")
    secret_calls = [c for c in backend.calls if c[1] == "Secret"]
    assert secret_calls and all(c[-1] is True for c in secret_calls)


def test_single_pod_asks_for_its_events_with_a_field_selector():
    backend = RecordingBackend(pods(1))
    view = ClusterView(backend, ViewOptions(namespace="ns", scan=False))
    view.events_for(view.get("Pod", "ns", "p0"), "Pod")
    ev_calls = [c for c in backend.calls if c[1] == "Event"]
    assert ev_calls == [("list", "Event", "ns",
                         "involvedObject.name=p0,involvedObject.kind=Pod,involvedObject.namespace=ns",
                         False)]


def test_forbidden_kind_degrades_to_unknown_and_says_so():
    backend = RecordingBackend(pods(1), forbidden={"Event", "Secret"})
    view = ClusterView(backend, ViewOptions(namespace="ns", scan=True))
    assert view.events_for(view.list("Pod")[0], "Pod") == []
    assert view.exists("Secret", "ns", "db") is None  # unknown, not "missing"
    assert any("events" in n and "forbidden" in n for n in view.notes)


def test_scan_fetches_logs_for_a_few_pods_only():
    backend = RecordingBackend(pods(20))
    view = ClusterView(backend, ViewOptions(namespace="ns", scan=True, log_budget=3))
    got = [view.logs(p, "app") for p in view.list("Pod")]
    assert got.count("line") == 3 and got.count(None) == 17
    assert any("17 more" in n for n in view.finish_notes())


def test_owner_chain_falls_back_to_the_pod_template_hash_when_the_replicaset_is_missing():
    pod = {"kind": "Pod", "metadata": {"name": "web-5d6f8b4c7-xk9m2", "namespace": "ns",
                                       "labels": {"pod-template-hash": "5d6f8b4c7"},
                                       "ownerReferences": [{"kind": "ReplicaSet", "name": "web-5d6f8b4c7",
                                                            "controller": True}]}}
    view = ClusterView(RecordingBackend([pod]), ViewOptions(namespace="ns", scan=True))
    assert [(r.kind, r.name) for r in view.owner_chain(pod)] == [
        ("ReplicaSet", "web-5d6f8b4c7"), ("Deployment", "web")]


def test_events_k8s_io_events_are_read_in_core_shape():
    ev = normalize_event({"apiVersion": "events.k8s.io/v1", "kind": "Event",
                          "regarding": {"kind": "Pod", "name": "p"}, "note": "Back-off",
                          "reason": "BackOff", "deprecatedCount": 7,
                          "deprecatedLastTimestamp": "2026-11-20T10:00:00Z"})
    assert ev["involvedObject"]["name"] == "p" and ev["message"] == "Back-off" and ev["count"] == 7
    series = normalize_event({"involvedObject": {}, "lastTimestamp": None, "eventTime": "2026-11-20T10:00:00.123456Z",
                              "series": {"count": 4, "lastObservedTime": "2026-11-20T10:04:00.000001Z"}})
    assert series["count"] == 4 and series["lastTimestamp"].startswith("2026-11-20T10:04")


def test_an_eviction_explains_the_kills_of_every_container_of_the_pod():
    from kdebug_core.engine import drop_superseded
    from kdebug_core.findings import Finding, ObjectRef

    pod = ObjectRef("Pod", "ns", "p")
    found = [Finding("why", "Evicted", pod, "evicted", container="app"),
             Finding("why", "ContainerExitedSIGKILL", pod, "killed", container="sidecar"),
             Finding("why", "ImagePullBackOff", pod, "pull", container="sidecar")]
    assert [f.reason for f in drop_superseded(found)] == ["Evicted", "ImagePullBackOff"]
