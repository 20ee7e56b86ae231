"""Scans scale linearly, and their requests are the pages of the kinds listed (issue 14).

The world is bench/world.py's (pods in 10 namespaces, 20 % failing with the scenarios' real
statuses and events, ~3.5 events a pod, a Service and EndpointSlice per 10 pods). These tests
count, they do not time: timings are bench/scale.py's business (bench/RESULTS.md).

* Complexity: the Python lines kdebug executes in its view, engine and analyzers (sys.settrace;
  parsing and rendering left out) for N pods and for 2N. A pass over a namespace's (or the
  cluster's) objects per pod makes that ratio ~3 at these sizes (measured on the code before the
  indexes: 3.0-3.2 for the four plugins at 150 → 300 pods); linear work makes it 2.
* Requests at 10,000 pods: one request per page of each kind listed (500 objects a page), previous
  logs for 5 pods at most, nothing per pod or per Service.
"""

import io
import json
import math
import os
import sys
from collections import Counter

import pytest

import kdebug_core
from kdebug_core.main import run
from tests.e2e.conftest import ROOT

sys.path.insert(0, os.path.join(ROOT, "bench"))
from world import world  # noqa: E402

PKG = os.path.dirname(os.path.abspath(kdebug_core.__file__))
NOT_COUNTED = (os.path.join(PKG, "sources"), os.path.join(PKG, "render"))


def _write_world(tmp_path, n_pods):
    objects, _ = world(n_pods)
    path = tmp_path / f"world-{n_pods}.json"
    path.write_text(json.dumps({"apiVersion": "v1", "kind": "List", "items": objects}))
    return str(path)


def _lines_executed(plugin, path):
    """(Python lines executed in kdebug_core outside sources/ and render/, exit code, findings)."""
    count = [0]

    def local(frame, event, arg):
        if event == "line":
            count[0] += 1
        return local

    def start(frame, event, arg):
        name = frame.f_code.co_filename
        return local if name.startswith(PKG) and not name.startswith(NOT_COUNTED) else None

    out, err = io.StringIO(), io.StringIO()
    sys.settrace(start)
    try:
        rc = run(plugin, ["-f", path, "-A", "-o", "json"], stdout=out, stderr=err)
    finally:
        sys.settrace(None)
    assert rc in (0, 1), err.getvalue()
    return count[0], len(json.loads(out.getvalue())["findings"])


@pytest.mark.parametrize("plugin", ["why", "endpoints-check", "oomcheck", "probecheck"])
def test_doubling_the_pods_at_most_doubles_the_work(tmp_path, plugin):
    small, big = _write_world(tmp_path, 150), _write_world(tmp_path, 300)
    work_small, findings_small = _lines_executed(plugin, small)
    work_big, findings_big = _lines_executed(plugin, big)
    # the same diagnosis, twice as many times (the world repeats its failing pods)
    assert findings_small > 0 and findings_big == 2 * findings_small
    assert work_big <= 2.2 * work_small, f"{plugin}: {work_small} → {work_big} lines " \
                                         f"({work_big / work_small:.2f}×)"


def _served_count(api, path):
    """How many objects the server holds at a list path (read without kdebug's User-Agent)."""
    import urllib.request
    with urllib.request.urlopen(api.server.url + path) as resp:
        return len(json.loads(resp.read())["items"])


def test_a_10000_pod_scan_requests_only_the_pages_of_each_kind(cluster, kubectl):
    objects, logs = world(10_000)
    api = cluster(extra_objects=objects)
    del objects
    api.server.logs.update({k: dict(v) for k, v in logs.items()})
    result = kubectl(api, "why", "-A", "-o", "json", timeout=900)
    assert result.returncode == 1, result.stderr
    reasons = Counter(f["reason"] for f in result.json()["findings"])
    assert reasons["CrashLoopBackOff"] >= 200 and reasons["ImagePullBackOff"] >= 200, reasons

    requests = api.api_requests()
    assert api.gets_only()
    logs_read = [r for r in requests if r.path.endswith("/log")]
    lists = [r for r in requests if not r.path.endswith("/log")]
    assert len(logs_read) <= 5
    # Cluster-wide lists only: never a namespace's, a pod's or a Service's own read.
    assert not any("/namespaces/" in r.path for r in lists), sorted({r.path for r in lists})
    first_pages = Counter(r.path for r in lists if "continue" not in r.query)
    assert all(n == 1 for n in first_pages.values()), first_pages
    # Each kind listed: one request per page of 500 objects (an empty list is one page).
    per_path = Counter(r.path for r in lists)
    assert per_path["/api/v1/pods"] == 20 and per_path["/api/v1/events"] == 71, per_path
    for path, n in per_path.items():
        if "metrics.k8s.io" in path:
            continue  # not served by this server: one request, answered 404
        assert n == max(1, math.ceil(_served_count(api, path) / 500)), (path, n)
    assert len(requests) == sum(per_path.values()) + len(logs_read) < 120
