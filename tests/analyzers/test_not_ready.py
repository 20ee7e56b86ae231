"""A running pod that is not ready, with nothing else to explain it, is still named."""

from kdebug_core.analyzers.pod import not_ready
from tests.helpers import fixture, only, run_analyzer


def test_a_readiness_gate_no_controller_sets_is_named():
    f = only(run_analyzer(not_ready.analyze, fixture("not_ready", "readiness-gate-never-set.json"),
                          "web-6d9f8b7c5-g7k2p"), "PodNotReady")
    assert "target-health.elbv2.k8s.aws/k8s-default-web-3f2a1b" in f.summary
    assert f.severity == "warning"
    assert any("kubectl probecheck web-6d9f8b7c5-g7k2p -n default" == s for s in f.suggestions)


def test_unready_container_without_events_says_events_may_have_expired():
    f = only(run_analyzer(not_ready.analyze, fixture("not_ready", "not-ready-events-expired.json"),
                          "web-6d9f8b7c5-q4w8z"), "PodNotReady")
    assert f.container == "web" and "expire" in f.summary
    assert any("containers with unready status: [web]" in e for e in f.evidence)


def test_probe_failures_on_record_are_left_to_the_probe_analyzer():
    assert run_analyzer(not_ready.analyze, fixture("not_ready", "readiness-failing-with-events.json"),
                        "web-6d9f8b7c5-x2v9m") == []
