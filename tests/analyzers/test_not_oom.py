"""Exit 137 without OOMKilled, as oomcheck reports it: a SIGKILL from elsewhere, never an OOM kill."""

import os

from kdebug_core import engine
from kdebug_core.analyzers.pod import not_oom
from tests.helpers import fixture, only, pod_context, view_of


def paths(folder, name):
    out = [fixture(folder, name)]
    logs = out[0].replace(".json", ".logs.txt")
    return out + ([logs] if os.path.exists(logs) else [])


def diagnose(folder, name, pod):
    return not_oom.analyze(pod_context(view_of(*paths(folder, name)), pod, "oomcheck"))


def reasons(folder, name, pod, plugin="oomcheck"):
    v = view_of(*paths(folder, name))
    p = next(p for p in v.list("Pod", None) if p["metadata"]["name"] == pod)
    return [f.reason for f in engine.analyze_pod(v, p, plugin)]


def test_an_external_sigkill_is_reported_as_such_with_the_memory_limit_for_the_table():
    f = only(diagnose("crashloop", "exit-137-sigkill-not-oom-no-probe.json", "cache-warmer-7b6d5c4f8-h4n8s"),
             "ContainerExitedSIGKILL")
    assert "other than the OOM killer" in f.summary
    assert f.details["notOOM"] is True and f.details["exitCode"] == 137 and f.details["lastReason"] == "Error"
    assert f.details["limit"] == "1Gi" and f.details["request"] == "512Mi"
    assert f.details["lastKillAgo"]
    assert reasons("crashloop", "exit-137-sigkill-not-oom-no-probe.json", "cache-warmer-7b6d5c4f8-h4n8s") == \
        ["ContainerExitedSIGKILL"]


def test_a_liveness_kill_with_exit_137_is_the_probes_finding_not_oom():
    found = reasons("crashloop", "exit-137-liveness-kill-not-oom.json", "slow-api-59c7d8b6f-q7w4x")
    assert "OOMKilled" not in found
    assert any(r.startswith("Liveness") for r in found), found


def test_an_oom_kill_and_an_ordinary_crash_are_not_this_modules():
    assert diagnose("oom_killed", "oom-runbook-memory-hog-last-state.json", "memory-hog-5c8d7f9b-xm4k2") == []
    assert diagnose("crashloop", "crashloop-exit-1-python-starting.json", "crasher-7d4f5b8c-mk2n3") == []
    assert diagnose("crashloop", "healthy-running.json", "web-7c9d8f6b5-b2kx9") == []


def test_an_evicted_pod_is_left_to_the_eviction_analyzers():
    v = view_of(fixture("memory_pressure", "evicted-memory-two-containers-over-request.json"))
    assert not_oom.analyze(pod_context(v, "ingest-api-7b5d8c9f4-lq8zt", "oomcheck")) == []
