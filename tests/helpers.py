"""Shared test helpers: build a ClusterView over fixture files and run one analyzer on a pod."""

import os
from typing import List, Optional

from kdebug_core.analyzers.base import PodContext
from kdebug_core.sources.files import FileBackend
from kdebug_core.view import ClusterView, ViewOptions, meta

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FIXTURES = os.path.join(ROOT, "tests", "analyzers", "fixtures")
SCENARIOS = os.path.join(ROOT, "scenarios")


def fixture(*parts: str) -> str:
    return os.path.join(FIXTURES, *parts)


def view_of(*paths: str, namespace: Optional[str] = None, scan: bool = True) -> ClusterView:
    """A view over files, scoped to a namespace (None: all), as `kubectl why -f ... -A` builds it."""
    return ClusterView(FileBackend.from_paths(paths), ViewOptions(namespace=namespace, scan=scan))


def pod_context(view: ClusterView, pod_name: str, plugin: str = "why") -> PodContext:
    pod = next(p for p in view.list("Pod", None) if meta(p).get("name") == pod_name)
    return PodContext(view=view, pod=pod, plugin=plugin, owner=view.top_owner(pod))


def run_analyzer(analyze, path: str, pod_name: str, plugin: str = "why") -> List:
    """Findings of one analyzer for one pod of a fixture file."""
    view = view_of(path)
    return analyze(pod_context(view, pod_name, plugin))


def only(findings, reason: str):
    """The single finding with that reason (fails the test if there are none or several)."""
    matching = [f for f in findings if f.reason == reason]
    assert len(matching) == 1, f"expected one {reason}, got {[f.reason for f in findings]}"
    return matching[0]


def run_service_analyzer(analyze, path: str, name: str, patch=None, plugin: str = "endpoints-check"):
    """Findings of one Service analyzer for the Service `name` of a fixture file (optionally
    edited in place by `patch(service)` first)."""
    view = view_of(path)
    svc = next(s for s in view.list("Service", None) if meta(s)["name"] == name)
    if patch:
        patch(svc)
    import inspect
    if "diagnose" in inspect.signature(analyze).parameters:
        # as the engine does: the pod diagnosis handed in (analyzers never import the engine)
        from kdebug_core.engine import PodDiagnosis
        return analyze(view, svc, plugin, diagnose=PodDiagnosis(view, "why"))
    return analyze(view, svc, plugin)


def edited_fixture(tmp_path, folder: str, name: str, edit) -> str:
    """A copy of fixture `folder/name` whose items `edit(items)` changed, written under tmp_path."""
    import json
    with open(fixture(folder, name)) as fh:
        doc = json.load(fh)
    edit(doc["items"])
    path = tmp_path / name
    path.write_text(json.dumps(doc))
    return str(path)
