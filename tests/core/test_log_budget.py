"""A scan's log budget (cli.SCAN_LOG_BUDGET pods) goes to the pods the run judges.

With `-l`, the pods in the namespace scope are more than the run's subjects: the budget is ranked
among the pods the selector chose, so crash-looping pods it left out cannot take every slot and
leave the selected pod's diagnosis without its log.

Live, through the stand-in API server (tests/standin), which records every request. The pods are
the crashloop fixtures of tests/analyzers (captured pods: a Python app that exits 1, a Go app that
panicked and restarted), the Python one copied into six replicas of its ReplicaSet.
"""

import copy
import io
import json

import pytest

from kdebug_core.cli import SCAN_LOG_BUDGET
from kdebug_core.main import run
from kdebug_core.sources.files import load
from tests.helpers import fixture
from tests.standin.apiserver import StandInAPIServer

CRASHER = fixture("crashloop", "crashloop-exit-1-python-starting.json")
PAYMENTS = fixture("crashloop", "crashloop-exit-2-go-panic.json")
PAYMENTS_POD = "payments-api-84d5c6f7b9-tq2lm"
REPLICAS = 6  # more crash-looping pods than the budget, each needing its log more than PAYMENTS_POD


def _cluster():
    """(objects, logs): six replicas of the crasher in `default`, the payments pod in `payments`."""
    objects, logs = [], {}
    for path in (CRASHER, PAYMENTS):
        loaded = load([path, path.replace(".json", ".logs.txt")])
        for (ns, pod, container), text in loaded.logs.items():
            logs[(ns, pod, container)] = {"current": text, "previous": text}
        for obj in loaded.objects.values():
            if obj["kind"] == "Pod" and obj["metadata"]["name"].startswith("crasher-"):
                for i in range(REPLICAS):
                    p = copy.deepcopy(obj)
                    p["metadata"]["name"] = f"crasher-859cdd79dd-r{i}"
                    p["metadata"]["uid"] = f"00000000-0000-4000-8000-{i:012d}"
                    objects.append(p)
                    logs[("default", p["metadata"]["name"], "app")] = logs[("default", obj["metadata"]["name"], "app")]
            else:
                objects.append(obj)
    return objects, logs


@pytest.fixture
def api(tmp_path, monkeypatch):
    objects, logs = _cluster()
    server = StandInAPIServer(objects=objects, logs=logs).start()
    # --kubeconfig, not KUBECONFIG: the kubernetes package reads KUBECONFIG once per process
    server.kubeconfig = server.write_kubeconfig(str(tmp_path / "kubeconfig"), namespace="default")
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.delenv("KUBECONFIG", raising=False)
    yield server
    server.stop()


def why(server, *args):
    out, err = io.StringIO(), io.StringIO()
    code = run("why", ["--kubeconfig", server.kubeconfig, *args], stdin=io.StringIO(""), stdout=out, stderr=err)
    assert "Traceback" not in err.getvalue() and "internal error" not in out.getvalue()
    return code, out.getvalue(), err.getvalue()


def log_reads(server):
    return sorted({r.path.split("/")[-2] for r in server.requests if r.path.endswith("/log")})


def test_with_a_label_selector_the_log_budget_goes_to_the_selected_pods(api):
    code, out, err = why(api, "-A", "-l", "app=payments-api", "-o", "json")
    assert code == 1, err
    doc = json.loads(out)
    assert {f["object"]["name"] for f in doc["findings"]} == {PAYMENTS_POD}
    f = next(f for f in doc["findings"] if f["reason"] == "CrashLoopBackOff")
    assert f["container"] == "api"
    # the selected pod's log was read, and its diagnosis quotes the panic it shows
    assert log_reads(api) == [PAYMENTS_POD]
    assert any("panic: runtime error: invalid memory address" in e for e in f["evidence"]), f["evidence"]
    assert not any("not available here" in e for e in f["evidence"]), f["evidence"]
    assert not any("logs not read" in n for n in doc.get("notes") or [])


def test_without_a_selector_the_budget_still_caps_the_scan(api):
    """The fix narrows who competes for the budget, not the budget: a scan of every pod reads
    SCAN_LOG_BUDGET logs, the pods that need one most first, and names what it skipped."""
    code, out, err = why(api, "-A", "-o", "json")
    assert code == 1, err
    read = log_reads(api)
    assert len(read) == SCAN_LOG_BUDGET and PAYMENTS_POD not in read
    assert all(name.startswith("crasher-859cdd79dd-r") for name in read)
    doc = json.loads(out)
    assert any("logs not read for 2 more pod(s)" in n for n in doc.get("notes") or [])
