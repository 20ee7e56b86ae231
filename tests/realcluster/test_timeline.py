"""No false "healthy" at any moment of a real cluster's first minutes (`make test-cluster`).

test-cluster.sh snapshots the cluster every 10 s from before the scenarios are applied until
every failure has happened (tests/cluster/capture.py series): pods Pending, pulling, starting,
crashing, restarting, between a kill and the next start, terminated and waiting. The state a
real kubelet passes through between two restarts is where kdebug was once confidently wrong
(`terminated: Error` before `waiting: CrashLoopBackOff`).

For every snapshot, `kubectl why -f SNAPSHOT -A` (and oomcheck's and probecheck's scans) must give every pod that is not provably healthy
(Running with every container ready and the Ready condition True, or Succeeded) a finding, exit
without a traceback, and name a cause for each: no PodNotHealthy "no known cause matches" at any
moment (the first run of this test found a Job's failed pods there, now ContainerFailed).
"""

import io
import json
import os

import pytest

from kdebug_core.main import run

TIMELINE = os.environ.get("KDEBUG_TIMELINE", "")

pytestmark = pytest.mark.skipif(not (os.environ.get("KDEBUG_REAL_CLUSTER") and TIMELINE),
                                reason="needs make test-cluster's timeline snapshots")


def snapshots():
    if not os.path.isdir(TIMELINE):
        return []
    return sorted(os.path.join(TIMELINE, f) for f in os.listdir(TIMELINE) if f.endswith(".json"))


def provably_healthy(pod):
    status = pod.get("status") or {}
    if status.get("phase") == "Succeeded":
        return True
    if status.get("phase") != "Running":
        return False
    statuses = (status.get("containerStatuses") or [])
    ready = any(c.get("type") == "Ready" and c.get("status") == "True" for c in status.get("conditions") or [])
    return bool(statuses) and all(s.get("ready") for s in statuses) and ready


def scan(plugin, path):
    out, err = io.StringIO(), io.StringIO()
    code = run(plugin, ["-f", path, "-A", "-o", "json"], stdin=io.StringIO(""), stdout=out, stderr=err)
    return code, out.getvalue(), err.getvalue()


def test_the_timeline_was_recorded():
    assert len(snapshots()) >= 6, f"only {len(snapshots())} snapshots in {TIMELINE}"


@pytest.mark.parametrize("plugin", ["why", "oomcheck", "probecheck"])
def test_no_pod_is_healthy_without_proof_at_any_moment(plugin):
    misses, unknown, seen = [], [], 0
    for path in snapshots():
        with open(path) as fh:
            items = json.load(fh).get("items") or []
        pods = [o for o in items if o.get("kind") == "Pod"]
        code, out, err = scan(plugin, path)
        assert code in (0, 1, 3) and "Traceback" not in err, f"{os.path.basename(path)}: exit {code}\n{err}"
        findings = json.loads(out)["findings"] if out.strip() else []
        named = {(f["object"].get("namespace"), f["object"]["name"]) for f in findings
                 if f["object"]["kind"] == "Pod"}
        for f in findings:
            for r in f.get("related") or []:
                if r["object"]["kind"] == "Pod":
                    named.add((r["object"].get("namespace"), r["object"]["name"]))
        for p in pods:
            key = (p["metadata"].get("namespace"), p["metadata"]["name"])
            seen += 1
            if not provably_healthy(p) and key not in named:
                states = [(s["name"], list((s.get("state") or {}).keys()), s.get("ready"))
                          for s in (p.get("status") or {}).get("containerStatuses") or []]
                misses.append(f"{os.path.basename(path)} {key[0]}/{key[1]}: phase "
                              f"{(p.get('status') or {}).get('phase')}, {states}")
        for f in findings:
            if f["reason"] == "PodNotHealthy" and not f.get("cause") and "no known cause" in f.get("summary", ""):
                unknown.append(f"{os.path.basename(path)} {f['object']['name']}: {f['summary'][:200]}")
    assert seen, "no pods in the snapshots"
    assert not misses, f"{len(misses)} of {seen} pod-moments not provably healthy got no finding:\n" + "\n".join(misses[:30])
    # every state these scenarios pass through has a cause kdebug can name (a Job's failed run
    # before the Job gave up was "no known cause" until ContainerFailed)
    assert not unknown, f"{len(unknown)} pod-moments left without a known cause:\n" + "\n".join(unknown[:30])
