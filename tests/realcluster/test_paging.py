"""Pagination over a few thousand real objects: the real API server's limit/continue.

3000 events are created in a namespace beside a crash-looping Deployment; their names sort before
the kubelet's real events, so the crash loop's BackOff event is only on the last page (kdebug lists
500 at a time). The diagnosis must still quote it.
"""
import json
import os
import subprocess
import tempfile
import time

import pytest

pytestmark = pytest.mark.skipif(not os.environ.get("KDEBUG_REAL_CLUSTER"),
                                reason="needs the real test cluster: run `make test-cluster`")

NS = "paging"
N = 3000


def kubectl(*args, timeout=300, check=True, stdin=None):
    p = subprocess.run(["kubectl", *args], capture_output=True, text=True, timeout=timeout, input=stdin)
    if check:
        assert p.returncode == 0, f"kubectl {' '.join(args)}: {p.stderr}"
    return p


@pytest.fixture(scope="module")
def paging_namespace():
    kubectl("create", "namespace", NS)
    kubectl("create", "deployment", "pager", "-n", NS, "--image=busybox:1.35", "--", "sh", "-c",
            "echo 'pager: cannot reach the paging provider'; exit 1")
    items = [{"apiVersion": "v1", "kind": "Event",
              "metadata": {"name": f"aaa-noise-{i:05d}", "namespace": NS},
              "involvedObject": {"kind": "Pod", "namespace": NS, "name": f"gone-{i}"},
              "reason": "Pulled", "message": "an old event about a pod that is gone", "type": "Normal",
              "count": 1, "firstTimestamp": "2026-01-01T00:00:00Z", "lastTimestamp": "2026-01-01T00:00:00Z",
              "source": {"component": "kubelet"}} for i in range(N)]
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as fh:
        json.dump({"apiVersion": "v1", "kind": "List", "items": items}, fh)
    kubectl("create", "-f", fh.name)
    os.unlink(fh.name)
    deadline = time.time() + 150
    while True:
        pods = json.loads(kubectl("get", "pods", "-n", NS, "-o", "json").stdout)["items"]
        if any(s.get("restartCount", 0) >= 2 and s.get("state", {}).get("waiting", {}).get("reason") == "CrashLoopBackOff"
               for p in pods for s in p["status"].get("containerStatuses") or []):
            break
        assert time.time() < deadline, "pager never waited in CrashLoopBackOff after two restarts"
        time.sleep(3)
    yield
    # Wait for it to go: later modules (test_rbac) compare two scans and must not see it vanish
    # between them.
    kubectl("delete", "namespace", NS, "--wait=true", "--timeout=180s", check=False)


def test_events_are_read_across_pages(paging_namespace):
    total = len(json.loads(kubectl("get", "events", "-n", NS, "-o", "json").stdout)["items"])
    assert total > N
    p = kubectl("why", "deploy/pager", "-n", NS, "-o", "json", check=False)
    assert p.returncode == 1, p.stderr
    f = [f for f in json.loads(p.stdout)["findings"] if f["reason"] == "CrashLoopBackOff"]
    assert f, p.stdout[-2000:]
    text = "\n".join(f[0]["evidence"])
    assert "event BackOff" in text and "pager: cannot reach the paging provider" in text, text


def test_scan_of_the_namespace_pages_too(paging_namespace):
    p = kubectl("why", "-n", NS, "-l", "app=pager", "-o", "json", check=False)
    assert p.returncode == 1, p.stderr
    rep = json.loads(p.stdout)
    assert not rep.get("incomplete"), rep.get("incomplete")
    assert any(f["reason"] == "CrashLoopBackOff" and "event BackOff" in "\n".join(f["evidence"])
               for f in rep["findings"]), rep["findings"]
