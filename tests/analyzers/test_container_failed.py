"""ContainerFailed: a container that exited with an error in a pod nothing restarts.

The fixture is scenario 42's first run on kdebug's test cluster (v1.34.4, containerd 1.6.20),
taken from `make test-cluster`'s timeline on 2026-12-05, 5 s after the run failed: the Job
(backoffLimit 2) has one failed pod, exit 2, and is about to start the next. kdebug had left that
pod as PodNotHealthy "no known cause".
"""

import json

from kdebug_core.analyzers import SUPERSEDED_BY
from kdebug_core.analyzers.pod import container_failed
from tests.helpers import edited_fixture, fixture, only, pod_context, view_of

JOB_RETRYING = fixture("container_failed", "job-retrying-first-run-failed.json")
POD = "schema-migrate-k5hcc"


def test_a_jobs_failed_run_while_the_job_retries_is_an_error_with_its_exit_and_the_jobs_count():
    f = only(container_failed.analyze(pod_context(view_of(JOB_RETRYING), POD)), "ContainerFailed")
    assert (f.container, f.severity) == ("migrate", "error")
    assert f.summary.startswith("container migrate exited with code 2 (misuse of a shell builtin")
    assert "job/schema-migrate retries in a new pod: 1 failed run so far, backoffLimit 2" in f.summary
    assert "container migrate terminated: Error, exit code 2, after running 0s" in f.evidence
    assert "phase Failed; restartPolicy Never: the kubelet does not restart it" in f.evidence
    assert f.suggestions[0] == "kubectl logs schema-migrate-k5hcc -n batch -c migrate"   # that run: no --previous
    assert "kubectl describe job schema-migrate -n batch" in f.suggestions
    assert f.owner and (f.owner.kind, f.owner.name) == ("Job", "schema-migrate")


def test_the_run_log_is_quoted_when_the_input_has_it(tmp_path):
    log = tmp_path / "logs.txt"
    log.write_text("==== START logs for container migrate of pod batch/schema-migrate-k5hcc ====\n"
                   "psql: error: could not translate host name \"postgres\" to address: Name or service not known\n"
                   "==== END logs for container migrate of pod batch/schema-migrate-k5hcc ====\n")
    f = only(container_failed.analyze(pod_context(view_of(JOB_RETRYING, str(log)), POD)), "ContainerFailed")
    assert any("could not translate host name" in e for e in f.evidence), f.evidence


def test_a_failed_run_of_a_job_that_completed_later_is_history(tmp_path):
    def completed(items):
        job = next(o for o in items if o["kind"] == "Job")
        job["status"] = {"succeeded": 1, "failed": 1, "conditions": [
            {"type": "SuccessCriteriaMet", "status": "True"}, {"type": "Complete", "status": "True"}]}
    path = edited_fixture(tmp_path, "container_failed", "job-retrying-first-run-failed.json", completed)
    f = only(container_failed.analyze(pod_context(view_of(path), POD)), "ContainerFailed")
    assert f.severity == "info" and "which completed after it" in f.summary


def test_once_the_job_has_failed_the_pod_is_jobfaileds(tmp_path):
    def failed(items):
        job = next(o for o in items if o["kind"] == "Job")
        job["status"]["conditions"] = [{"type": "Failed", "status": "True", "reason": "BackoffLimitExceeded",
                                        "message": "Job has reached the specified backoff limit"}]
    path = edited_fixture(tmp_path, "container_failed", "job-retrying-first-run-failed.json", failed)
    assert container_failed.analyze(pod_context(view_of(path), POD)) == []


def test_a_bare_pod_says_nothing_runs_it_again(tmp_path):
    def bare(items):
        for o in items:
            if o["kind"] == "Pod":
                o["metadata"].pop("ownerReferences", None)
    path = edited_fixture(tmp_path, "container_failed", "job-retrying-first-run-failed.json", bare)
    f = only(container_failed.analyze(pod_context(view_of(path), POD)), "ContainerFailed")
    assert "restartPolicy Never, so the pod failed and nothing runs it again" in f.summary
    assert "kubectl describe pod schema-migrate-k5hcc -n batch" in f.suggestions


def test_a_running_or_succeeded_pod_and_other_classes_are_not_ours(tmp_path):
    def oom(items):
        for o in items:
            if o["kind"] == "Pod":
                o["status"]["containerStatuses"][0]["state"]["terminated"]["reason"] = "OOMKilled"
    assert container_failed.analyze(pod_context(view_of(
        edited_fixture(tmp_path, "container_failed", "job-retrying-first-run-failed.json", oom)), POD)) == []

    def succeeded(items):
        for o in items:
            if o["kind"] == "Pod":
                o["status"]["phase"] = "Succeeded"
    assert container_failed.analyze(pod_context(view_of(
        edited_fixture(tmp_path, "container_failed", "job-retrying-first-run-failed.json", succeeded)), POD)) == []
    assert "JobFailed" in SUPERSEDED_BY["ContainerFailed"] and "OOMKilled" in SUPERSEDED_BY["ContainerFailed"]


def test_why_gives_the_failed_run_its_cause_not_podnothealthy():
    from kdebug_core.main import run
    import io
    out, err = io.StringIO(), io.StringIO()
    code = run("why", ["-f", JOB_RETRYING, "-A", "-o", "json"], stdout=out, stderr=err)
    assert code == 1, err.getvalue()
    reasons = {(f["object"]["name"], f["reason"]) for f in json.loads(out.getvalue())["findings"]}
    assert (POD, "ContainerFailed") in reasons and (POD, "PodNotHealthy") not in reasons


def test_the_moment_before_the_kubelet_writes_phase_failed():
    """Scenario 93 on the test cluster's timeline (2026-12-05, snapshot t009): the third run's
    container is already `terminated` with exit 2 and Ready=False (PodFailed), its phase still
    Running. restartPolicy Never: that run is the pod's end; it was 'no known cause'."""
    path = fixture("container_failed", "job-run-terminated-phase-not-yet-failed.json")
    f = only(container_failed.analyze(pod_context(view_of(path), "nightly-report-n85d4")), "ContainerFailed")
    assert f.summary.startswith("container report exited with code 2")
    assert ("phase Running; restartPolicy Never: the kubelet does not restart it (the phase turns Failed "
            "next: the kubelet writes it last)") in f.evidence
    assert "2 failed runs so far, backoffLimit 2" in f.summary


def test_a_running_container_under_restart_policy_never_is_not_ours(tmp_path):
    def running(items):
        for o in items:
            if o["kind"] == "Pod" and o["metadata"]["name"] == "nightly-report-n85d4":
                o["status"]["containerStatuses"][0]["state"] = {"running": {"startedAt": "2026-12-05T19:42:52Z"}}
    path = edited_fixture(tmp_path, "container_failed", "job-run-terminated-phase-not-yet-failed.json", running)
    assert container_failed.analyze(pod_context(view_of(path), "nightly-report-n85d4")) == []
