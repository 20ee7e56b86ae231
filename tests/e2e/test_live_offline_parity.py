"""A live scan finds what the offline one finds.

Every scenario, every plugin: `kubectl PLUGIN -A -o json` through kubectl against the stand-in API
server holding the scenario (logs served as a dump holds them) gives the same reasons, causes and
suggestions as `kubectl-PLUGIN -f SCENARIO -A -o json`. A scan reads logs for a few pods only:
the budget goes to the pods whose diagnosis needs a log, the most severe first.
"""

import io
import json
import os

import pytest

from kdebug_core.main import run
from kdebug_core.view import log_need
from tests.e2e.conftest import KUBECTL, SCENARIOS

pytestmark = pytest.mark.skipif(not KUBECTL, reason="needs kubectl on PATH")

PLUGINS = ("why", "oomcheck", "probecheck", "endpoints-check")
SCENARIO_DIRS = sorted(d for d in os.listdir(SCENARIOS) if os.path.isdir(os.path.join(SCENARIOS, d)))


def verdicts(doc: dict):
    """What must agree: reason, object, container, cause and the commands, per finding."""
    out = []
    for f in doc["findings"]:
        o = f["object"]
        out.append((f["reason"], o["kind"], o.get("namespace"), o["name"], f.get("container"),
                    f.get("cause"), tuple(f["suggestions"])))
    return sorted(out)


def offline(plugin: str, path: str) -> dict:
    buf, err = io.StringIO(), io.StringIO()
    code = run(plugin, ["-f", path, "-A", "-o", "json"], stdout=buf, stderr=err)
    assert code in (0, 1), err.getvalue()
    return json.loads(buf.getvalue())


@pytest.mark.parametrize("scenario", SCENARIO_DIRS)
def test_live_scan_equals_offline_scan(cluster, kubectl, scenario):
    path = os.path.join(SCENARIOS, scenario)
    api = cluster(path, metrics_enabled=True)  # the scenarios' PodMetrics, served as metrics-server would
    for plugin in PLUGINS:
        live = kubectl(api, plugin, "-A", "-o", "json")
        assert live.returncode in (0, 1), live.stderr
        assert verdicts(live.json()) == verdicts(offline(plugin, path)), f"{plugin} on {scenario}"
    assert api.gets_only()


def test_the_log_budget_goes_to_the_pods_that_need_a_log_most(cluster, kubectl):
    """All scenarios at once: more failing pods than the budget of 5. The init container that
    cannot reach orders-db (the pod cannot start) is read before healthy or merely pending pods
    that sort earlier, so its finding keeps what the log says and the DNS/Service commands."""
    api = cluster(SCENARIOS, metrics_enabled=True)
    result = kubectl(api, "why", "-A", "-o", "json")
    doc = result.json()
    f = next(f for f in doc["findings"] if f["reason"] == "InitContainerFailed"
             and f["object"]["name"].startswith("orders-api"))
    assert any("orders-db" in e for e in f["evidence"]), f["evidence"]
    assert any("nslookup orders-db.default.svc.cluster.local" in s for s in f["suggestions"])
    log_reads = [r for r in api.api_requests() if r.path.endswith("/log")]
    pods = {r.path.split("/")[-2] for r in log_reads}
    assert "orders-api-65ff49bd55-gms5j" in pods and len(pods) == 5
    # and what it did not read, it says, with the way to read everything
    text = kubectl(api, "why", "-A").stdout
    assert "use --logs to read them all" in text


def test_log_need_ranks_init_failures_over_crash_loops_over_healthy_pods():
    def pod(group, state, restarts=3, last=None):
        cs = {"name": "c", "state": state, "restartCount": restarts}
        if last:
            cs["lastState"] = {"terminated": last}
        return {"status": {group: [cs]}}
    init_fail = pod("initContainerStatuses", {"waiting": {"reason": "CrashLoopBackOff"}})
    crash = pod("containerStatuses", {"waiting": {"reason": "CrashLoopBackOff"}}, restarts=9)
    crashed_once = pod("containerStatuses", {"running": {}}, 1, {"exitCode": 1})
    stuck_init = pod("initContainerStatuses", {"running": {}}, 0)
    healthy = pod("containerStatuses", {"running": {}}, 0)
    ranks = [log_need(p) for p in (init_fail, crash, crashed_once, stuck_init, healthy)]
    assert ranks == sorted(ranks, reverse=True) and ranks[-1] == 0 and len(set(ranks)) == 5
