"""A running pod that is not ready, with nothing else to explain it, is still named."""

from kdebug_core.analyzers.pod import not_ready
from kdebug_core.timeutil import parse_time
from tests.helpers import edited_fixture, fixture, only, pod_context, run_analyzer, view_of


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


STARTING = "readiness-not-passed-yet-1s-after-start.json"


def live_at(view, when):
    """The view as a live scan at `when` sees it: the clock is the real one, not the dump's newest time."""
    view.backend.offline = False
    view._now = parse_time(when)
    return view


def test_offline_the_same_pod_stays_a_warning_when_nothing_in_the_input_is_newer():
    """A dump's "now" is its newest timestamp; here that is the pod's own start, so the input cannot
    tell a pod 1 s old from one an hour old: not called starting (a pods-only dump taken later would be)."""
    f = only(not_ready.analyze(pod_context(view_of(fixture("not_ready", STARTING)), "docs-6bd85559ff-fvgp2")),
             "PodNotReady")
    assert f.severity == "warning" and f.cause is None


def test_a_pod_whose_readiness_probe_has_not_had_its_first_check_is_starting_not_a_warning():
    """Scenario 24 on the test cluster's timeline (v1.34.4, 2026-12-05): docs' pod 1 s after its
    start, Ready=False (ContainersNotReady), readiness probe every 5 s, no Unhealthy event. It became
    ready a moment later; kdebug had called it a PodNotReady warning (exit 1 on a healthy rollout)."""
    ctx = pod_context(live_at(view_of(fixture("not_ready", STARTING)), "2026-12-05T19:42:20Z"),
                      "docs-6bd85559ff-fvgp2")
    f = only(not_ready.analyze(ctx), "PodNotReady")
    assert (f.cause, f.severity, f.container) == ("Starting", "info", "web")
    assert "not ready yet, not broken" in f.summary
    assert any("ready within about 8s if the app answers" in e for e in f.evidence), f.evidence


def test_past_the_first_verdict_it_is_a_warning_again(tmp_path):
    def started_long_ago(items):
        for o in items:
            if o["kind"] == "Pod":
                o["status"]["containerStatuses"][0]["state"]["running"]["startedAt"] = "2026-12-05T19:40:00Z"
    ctx = pod_context(live_at(view_of(edited_fixture(tmp_path, "not_ready", STARTING, started_long_ago)),
                              "2026-12-05T19:42:20Z"), "docs-6bd85559ff-fvgp2")
    f = only(not_ready.analyze(ctx), "PodNotReady")
    assert f.severity == "warning" and f.cause is None
