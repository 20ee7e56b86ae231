"""Node-level classes on the real test cluster; run last (they change the node for good).

* Unschedulable on an untolerated taint: the node is tainted NoSchedule, a new Deployment's pod
  stays Pending with the real scheduler's wording.
* NodeNotReady: the kubelet is stopped (by the pid cluster-up.sh recorded); the node lifecycle
  controller marks the node Unknown after --node-monitor-grace-period (20s here).
"""
import json
import os
import signal
import subprocess
import time

import pytest

pytestmark = pytest.mark.skipif(not os.environ.get("KDEBUG_CLUSTER_RUN"),
                                reason="needs the test cluster of `make test-cluster` (it stops its kubelet)")

NODE = "127.0.0.1"
TAINT = "kdebug.dev/maintenance=true:NoSchedule"


def kubectl(*args, timeout=120, check=False):
    p = subprocess.run(["kubectl", *args], capture_output=True, text=True, timeout=timeout)
    if check:
        assert p.returncode == 0, f"kubectl {' '.join(args)}: {p.stderr}"
    return p


def poll(what, fn, timeout):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if fn():
            return
        time.sleep(2)
    pytest.fail(f"{what} did not happen within {timeout}s")


def findings(*args):
    p = kubectl(*args, "-o", "json")
    assert p.returncode in (0, 1), p.stderr
    return json.loads(p.stdout)["findings"]


def test_unschedulable_untolerated_taint():
    kubectl("taint", "node", NODE, TAINT, "--overwrite", check=True)
    try:
        kubectl("create", "deployment", "reporting-ui", "-n", "default", "--image=busybox:1.35",
                "--", "sleep", "3600", check=True)

        def pending():
            ev = kubectl("get", "events", "-n", "default", "--field-selector", "reason=FailedScheduling",
                         "-o", "json").stdout
            return any("reporting-ui" in e["involvedObject"]["name"] and "untolerated taint" in e.get("message", "")
                       for e in json.loads(ev or '{"items": []}')["items"])
        poll("FailedScheduling for reporting-ui", pending, 90)
        got = [f for f in findings("why", "deploy/reporting-ui", "-n", "default") if f["reason"] == "Unschedulable"]
        assert got, "no Unschedulable finding for deploy/reporting-ui"
        text = "\n".join([got[0]["summary"]] + got[0]["evidence"])
        assert "untolerated taint" in text and "kdebug.dev/maintenance" in text, text
        assert (got[0].get("owner") or {}).get("name") == "reporting-ui"
    finally:
        kubectl("taint", "node", NODE, TAINT + "-")


def test_node_not_ready_after_the_kubelet_stops():
    pidfile = os.path.join(os.environ["KDEBUG_CLUSTER_RUN"], "pids", "kubelet.pid")
    with open(pidfile) as fh:
        pid = int(fh.read())
    os.kill(pid, signal.SIGTERM)

    def not_ready():
        node = json.loads(kubectl("get", "node", NODE, "-o", "json", check=True).stdout)
        return any(c["type"] == "Ready" and c["status"] != "True" for c in node["status"]["conditions"])
    poll("node NotReady", not_ready, 120)
    got = [f for f in findings("why", "-A") if f["reason"] == "NodeNotReady"]
    assert got, "no NodeNotReady finding with the kubelet stopped"
    print(json.dumps(got[:2], indent=1))
    for f in got:
        text = "\n".join([f["summary"]] + f["evidence"])
        assert NODE in text, text
        assert "Kubelet stopped posting node status" in text or "NodeStatusUnknown" in text, text
