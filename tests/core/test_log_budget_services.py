"""endpoints-check's log budget goes to the pods behind the Services it judges.

The same cluster as test_log_budget.py (six crash-looping replicas in `default`, the payments pod
that panicked in `payments`), plus a Service in front of the payments pod. With `-l`, the run
judges that Service only: the pods it chains into (its backing pods) compete for the budget, not
every pod of the scope.
"""

import io
import json

import pytest

from kdebug_core.main import run
from tests.core.test_log_budget import PAYMENTS_POD, _cluster, log_reads
from tests.standin.apiserver import StandInAPIServer

SERVICE = {
    "apiVersion": "v1", "kind": "Service",
    "metadata": {"name": "payments-api", "namespace": "payments", "uid": "5e7c1d2a-0000-4000-8000-000000000001",
                 "labels": {"app": "payments-api"}, "creationTimestamp": "2026-11-20T09:00:00Z"},
    "spec": {"type": "ClusterIP", "clusterIP": "10.96.40.12", "selector": {"app": "payments-api"},
             "ports": [{"name": "http", "port": 80, "protocol": "TCP", "targetPort": "http"}]},
}


def _payments_back_in_its_back_off(objects):
    """The payments pod as it is between two restarts: waiting in CrashLoopBackOff, not ready."""
    for o in objects:
        if o["kind"] == "Pod" and o["metadata"]["name"] == PAYMENTS_POD:
            cs = o["status"]["containerStatuses"][0]
            cs["ready"] = False
            cs["state"] = {"waiting": {"reason": "CrashLoopBackOff", "message": (
                f"back-off 40s restarting failed container={cs['name']} pod={PAYMENTS_POD}_payments("
                f"{o['metadata']['uid']})")}}
            for c in o["status"].get("conditions") or []:
                if c["type"] in ("Ready", "ContainersReady"):
                    c["status"] = "False"
    return objects


@pytest.fixture
def api(tmp_path, monkeypatch):
    objects, logs = _cluster()
    objects = _payments_back_in_its_back_off(objects)
    server = StandInAPIServer(objects=objects + [SERVICE], logs=logs).start()
    server.kubeconfig = server.write_kubeconfig(str(tmp_path / "kubeconfig"), namespace="default")
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.delenv("KUBECONFIG", raising=False)
    yield server
    server.stop()


def test_with_a_label_selector_endpoints_check_reads_the_backing_pods_log(api):
    out, err = io.StringIO(), io.StringIO()
    code = run("endpoints-check", ["--kubeconfig", api.kubeconfig, "-A", "-l", "app=payments-api", "-o", "json"],
               stdin=io.StringIO(""), stdout=out, stderr=err)
    assert code == 1, err.getvalue()
    doc = json.loads(out.getvalue())
    f = next(f for f in doc["findings"] if f["object"]["name"] == "payments-api")
    assert f["reason"] == "EndpointsNotReady", f
    assert log_reads(api) == [PAYMENTS_POD]
    text = json.dumps(f)
    assert "panic: runtime error: invalid memory address" in text, text
