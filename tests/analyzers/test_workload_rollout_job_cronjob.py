"""RolloutStuck, JobFailed and CronJobNotScheduling: the controller's own state, with the root cause
found on its pods merged under the finding.

Wording from kubernetes/kubernetes: `ReplicaSet "web-7b6c5d4f89" has timed out progressing.`
(pkg/controller/deployment/util/deployment_util.go, reason ProgressDeadlineExceeded); "Job has
reached the specified backoff limit", "Job was active longer than specified deadline" and "Container
main for pod ns/x failed with exit code 42 matching FailJob rule at index 0" (pkg/controller/job,
the last as in the pod failure policy task page); the cronjob controller's JobAlreadyActive "Not
starting job because prior execution is running and concurrency policy is Forbid" and
TooManyMissedTimes "too many missed start times: N. Set or decrease .spec.startingDeadlineSeconds or
check clock skew" (pkg/controller/cronjob/cronjob_controllerv2.go, utils.go); the statefulset
controller's "create Pod postgres-1 in StatefulSet postgres successful".
"""

import os
from datetime import datetime, timezone

import pytest

from kdebug_core.analyzers.workload import cronjob, job, rollout
from kdebug_core.analyzers.workload.base import WorkloadContext
from kdebug_core.analyzers.workload.cronjob import Schedule
from kdebug_core.engine import analyze_pod
from kdebug_core.view import meta
from tests.helpers import edited_fixture, fixture, only, view_of


def ctx_of(name_or_path, kind, obj_name, targeted=True, with_pods=True):
    path = name_or_path if os.path.isabs(name_or_path) else fixture("workload", name_or_path)
    paths = [path]
    if os.path.exists(path.replace(".json", ".logs.txt")):
        paths.append(path.replace(".json", ".logs.txt"))
    view = view_of(*paths)
    obj = next(o for o in view.list(kind, None) if meta(o)["name"] == obj_name)

    def diagnose(pods):
        return [f for p in pods for f in analyze_pod(view, p, "why")]

    return WorkloadContext(view=view, obj=obj, plugin="why", targeted=targeted,
                           diagnose_pods=diagnose if with_pods else None)


# ---- RolloutStuck ---------------------------------------------------------------------------------

def test_deadline_exceeded_names_the_revision_counts_and_the_new_pods_root_cause():
    f = only(rollout.analyze(ctx_of("deploy-rollout-deadline-exceeded-image-not-found.json", "Deployment", "web")),
             "RolloutStuck")
    assert f.summary.startswith("the rollout of revision 3 (replicaset web-7b6c5d4f89) has exceeded its "
                                "progress deadline: 1 of 3 replicas updated, 3 available")
    assert "its new pods fail with ImagePullBackOff" in f.summary
    assert any(e.startswith("condition Progressing=False (ProgressDeadlineExceeded") and
               'ReplicaSet "web-7b6c5d4f89" has timed out progressing.' in e for e in f.evidence)
    assert "replicaset web-5d4c8b7f96 (revision 2, old) still runs 3 pods, 3 available" in f.evidence
    [cause] = f.related
    assert cause.reason == "ImagePullBackOff" and cause.object.name == "web-7b6c5d4f89-r7xkq"
    assert "ghcr.io/acme/web:2.4.1" in cause.summary
    assert f.suggestions[0] == "kubectl rollout undo deployment/web -n shop"
    assert "kubectl rollout history deployment/web -n shop --revision=3" in f.suggestions
    assert f.details["oldReplicaSets"] == ["web-5d4c8b7f96"]


def test_before_the_deadline_a_rollout_whose_new_pods_fail_is_stuck_too(tmp_path):
    def no_deadline(items):
        dep = next(o for o in items if o["kind"] == "Deployment")
        dep["status"]["conditions"][1].update(status="True", reason="ReplicaSetUpdated",
                                              message='ReplicaSet "web-7b6c5d4f89" is progressing.')
    path = edited_fixture(tmp_path, "workload", "deploy-rollout-deadline-exceeded-image-not-found.json", no_deadline)
    f = only(rollout.analyze(ctx_of(path, "Deployment", "web")), "RolloutStuck")
    assert "is not progressing" in f.summary and "ImagePullBackOff" in f.summary
    # without the pods' diagnosis there is no evidence that it is stuck rather than slow
    assert rollout.analyze(ctx_of(path, "Deployment", "web", with_pods=False)) == []


def test_a_finished_rollout_is_not_stuck():
    assert rollout.analyze(ctx_of("deploy-failedcreate-resolved.json", "Deployment", "web")) == []


def test_a_new_replicaset_that_cannot_create_pods_is_left_to_pod_creation_failed():
    assert rollout.analyze(ctx_of("deploy-quota-exceeded-no-pods.json", "Deployment", "report-api")) == []


def test_statefulset_blocked_by_its_failing_ordinal_names_the_missing_ones():
    f = only(rollout.analyze(ctx_of("statefulset-ordered-rollout-blocked-by-crashloop.json", "StatefulSet",
                                    "postgres")), "RolloutStuck")
    assert "1 of 3 replicas ready" in f.summary
    assert "pod postgres-1 is not ready, so postgres-2 is not created (OrderedReady)" in f.summary
    assert [r.reason for r in f.related] == ["CrashLoopBackOff"]
    assert f.details["missingOrdinals"] == [2] and f.details["blockingPod"] == "postgres-1"


def test_statefulset_with_parallel_pod_management_is_left_to_the_pods(tmp_path):
    def parallel(items):
        next(o for o in items if o["kind"] == "StatefulSet")["spec"]["podManagementPolicy"] = "Parallel"
    path = edited_fixture(tmp_path, "workload", "statefulset-ordered-rollout-blocked-by-crashloop.json", parallel)
    assert rollout.analyze(ctx_of(path, "StatefulSet", "postgres")) == []


# ---- JobFailed ------------------------------------------------------------------------------------

def test_backoff_limit_exceeded_with_the_failed_pods_exit_code_and_log():
    f = only(job.analyze(ctx_of("cronjob-latest-job-backoff-limit-exceeded.json", "Job", "nightly-report-29919480")),
             "JobFailed")
    assert f.cause == "BackoffLimitExceeded"
    assert f.owner.kind == "CronJob" and f.owner.name == "nightly-report"
    assert "3 pods failed (backoffLimit 2), 0 of 1 completions succeeded" in f.summary
    assert any(e.startswith("condition Failed=True (BackoffLimitExceeded") for e in f.evidence)
    text = "\n".join(f.evidence + [r.summary for r in f.related] + [e for r in f.related for e in r.evidence])
    assert "container report exits with code 1: application error" in f.summary
    assert text.count("password authentication failed") == 1  # every retry's traceback, said once
    assert "password authentication failed" in text
    assert f.suggestions[0] == "kubectl logs nightly-report-29919480-c9w3n -n reports -c report"
    assert "kubectl create job nightly-report-manual --from=cronjob/nightly-report -n reports" in f.suggestions


def test_deadline_exceeded_names_the_deadline():
    f = only(job.analyze(ctx_of("job-deadline-exceeded.json", "Job", "full-export")), "JobFailed")
    assert f.cause == "DeadlineExceeded"
    assert "it ran longer than its activeDeadlineSeconds (600s)" in f.summary


def test_pod_failure_policy_names_container_exit_code_and_rule():
    f = only(job.analyze(ctx_of("job-pod-failure-policy-failjob.json", "Job", "job-pod-failure-policy-failjob")),
             "JobFailed")
    assert f.cause == "PodFailurePolicy"
    assert ("container main of pod job-pod-failure-policy-failjob-8ckj8 exited 42, which its podFailurePolicy "
            "rule 0 answers with FailJob") in f.summary


def test_a_cronjobs_failed_job_that_a_later_run_made_good_is_history(tmp_path):
    def later_success(items):
        import copy
        old = next(o for o in items if o["kind"] == "Job")
        new = copy.deepcopy(old)
        new["metadata"]["name"] = "nightly-report-29920920"
        new["metadata"]["uid"] = "6b1f3a52-1c1e-5f0e-9d1a-3c0a7e7b9f10"
        new["metadata"]["creationTimestamp"] = "2026-11-21T10:00:00Z"
        new["status"] = {"completionTime": "2026-11-21T10:01:10Z", "succeeded": 1,
                         "conditions": [{"type": "Complete", "status": "True",
                                         "lastTransitionTime": "2026-11-21T10:01:10Z"}]}
        items.append(new)
    path = edited_fixture(tmp_path, "workload", "cronjob-latest-job-backoff-limit-exceeded.json", later_success)
    assert job.analyze(ctx_of(path, "Job", "nightly-report-29919480")) == []
    from tests.helpers import pod_context
    assert job.analyze_pod(pod_context(view_of(path), "nightly-report-29919480-x7k2p")) == []


# ---- CronJobNotScheduling -----------------------------------------------------------------------

def cron(name, **kw):
    return cronjob.analyze(ctx_of("cronjobs-not-scheduling.json", "CronJob", name, **kw))


def test_suspended_is_a_warning_when_asked_and_info_in_a_scan():
    f = only(cron("cleanup"), "CronJobNotScheduling")
    assert f.cause == "Suspended" and f.severity == "warning"
    assert f.suggestions == ["kubectl patch cronjob cleanup -n ops --type=merge -p '{\"spec\":{\"suspend\":false}}'"]
    assert only(cron("cleanup", targeted=False), "CronJobNotScheduling").severity == "info"


def test_forbid_blocked_by_a_running_job_names_it():
    f = only(cron("sync-ledger"), "CronJobNotScheduling")
    assert f.cause == "ConcurrencyForbid"
    assert "job sync-ledger-29919450 is still running and concurrencyPolicy Forbid" in f.summary
    assert any("event JobAlreadyActive (x6" in e for e in f.evidence)


def test_too_many_missed_start_times():
    f = only(cron("billing-close"), "CronJobNotScheduling")
    assert f.cause == "MissedSchedule"
    assert any("too many missed start times: 145" in e for e in f.evidence)


def test_a_schedule_that_did_not_fire_with_no_event_is_not_firing():
    f = only(cron("digest"), "CronJobNotScheduling")
    assert f.cause == "NotFiring"
    assert "next run was due 2026-11-18T09:30:00Z" in "\n".join(f.evidence)


@pytest.mark.parametrize("text,after,due", [
    ("*/15 * * * *", "2026-11-20T10:03:00", "2026-11-20T10:15:00"),
    ("0 2 * * 1-5", "2026-11-20T10:03:00", "2026-11-23T02:00:00"),  # Friday → Monday
    ("@hourly", "2026-12-31T23:59:00", "2027-01-01T00:00:00"),
    ("30 9 1,15 * *", "2026-11-20T10:00:00", "2026-12-01T09:30:00"),
    ("0 0 * * sun", "2026-11-20T10:00:00", "2026-11-22T00:00:00"),
])
def test_schedule_next_fire_time(text, after, due):
    t = datetime.fromisoformat(after).replace(tzinfo=timezone.utc)
    assert Schedule(text).next_after(t) == datetime.fromisoformat(due).replace(tzinfo=timezone.utc)


def test_an_invalid_schedule_is_said_so():
    with pytest.raises(ValueError):
        Schedule("61 * * * *")
    with pytest.raises(ValueError):
        Schedule("* * *")


def test_each_failed_run_of_a_failed_job_is_explained_on_the_pod_with_its_exit():
    from kdebug_core.findings import root_groups
    from tests.helpers import pod_context
    path = fixture("workload", "cronjob-latest-job-backoff-limit-exceeded.json")
    view = view_of(path, path.replace(".json", ".logs.txt"))
    ctx = pod_context(view, "nightly-report-29919480-x7k2p")
    f = only(job.analyze_pod(ctx), "JobFailed")
    assert f.object.kind == "Pod" and f.container == "report" and f.cause == "BackoffLimitExceeded"
    assert f.summary == ("one of the failed runs of job/nightly-report-29919480: container report exited with code 1: "
                         "application error (the process exited with status 1)")
    assert any("password authentication failed" in e for e in f.evidence)
    [pod_verdict] = analyze_pod(view, ctx.pod, "why")  # replaces the catch-all PodNotHealthy
    assert pod_verdict.reason == "JobFailed"
    # one problem: the Job's finding and its runs' share a group
    job_finding = only(job.analyze(ctx_of(path, "Job", "nightly-report-29919480")), "JobFailed")
    groups = root_groups([job_finding, f])
    assert groups[id(job_finding)] == groups[id(f)]


def test_an_interval_schedule_is_valid_and_not_second_guessed(tmp_path):
    def every(items):
        next(o for o in items if o["kind"] == "CronJob" and o["metadata"]["name"] == "digest")["spec"]["schedule"] = "@every 6h"
    path = edited_fixture(tmp_path, "workload", "cronjobs-not-scheduling.json", every)
    assert cronjob.analyze(ctx_of(path, "CronJob", "digest")) == []
