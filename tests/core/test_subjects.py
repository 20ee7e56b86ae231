"""The subject registry: every subject names its analyzer table, and how each is selected."""

from types import SimpleNamespace

from kdebug_core import analyzers, subjects
from kdebug_core.targets import Target
from tests.helpers import fixture, view_of


def opts(**kw):
    base = dict(all_namespaces=False, selector=None)
    base.update(kw)
    return SimpleNamespace(**base)


def test_every_subject_has_its_analyzer_table_and_kinds_name_one_subject():
    for s in subjects.SUBJECTS.values():
        assert hasattr(analyzers, s.registry), s
        assert set(s.scan_kinds) <= set(s.target_kinds) | {"Pod"}, s
    kinds = [k for s in subjects.SUBJECTS.values() for k in s.target_kinds]
    assert len(kinds) == len(set(kinds))
    assert subjects.subject_of("CronJob").name == "workload"
    assert subjects.subject_of("Ingress").name == "ingress"
    assert subjects.analyzers_for("workload", "oomcheck") == []  # only why judges workloads
    assert subjects.analyzers_for("ingress", "endpoints-check")


def test_a_scan_judges_top_level_controllers_not_a_deployments_replicasets():
    view = view_of(fixture("workload", "deploy-rollout-deadline-exceeded-image-not-found.json"))
    got = [(o["kind"], o["metadata"]["name"], t)
           for o, t in subjects.select_workloads(view, opts(all_namespaces=True), [], None)]
    assert got == [("Deployment", "web", False)]


def test_a_cronjob_target_brings_its_jobs_and_a_scan_without_minus_a_none():
    view = view_of(fixture("workload", "cronjob-latest-job-backoff-limit-exceeded.json"))
    got = [(o["kind"], o["metadata"]["name"], t) for o, t in
           subjects.select_workloads(view, opts(), [Target("CronJob", "nightly-report", "reports")], None)]
    assert got == [("CronJob", "nightly-report", True), ("Job", "nightly-report-29919480", False)]
    assert subjects.select_workloads(view, opts(), [], "reports") == []


def test_the_pod_diagnosis_handed_to_analyzers_is_computed_once_per_pod():
    view = view_of(fixture("workload", "statefulset-ordered-rollout-blocked-by-crashloop.json"))
    diagnose = subjects.PodDiagnosis(view, "why")
    pods = view.list("Pod", None)
    first = diagnose(pods)
    assert [f.reason for f in first] == ["CrashLoopBackOff"]
    assert diagnose(pods)[0] is first[0]  # cached, not judged again
