"""OOMKilled for `kubectl why` and `kubectl oomcheck`, as the runbook's Phase 3 diagnoses it."""

import os

import pytest

from kdebug_core.analyzers.pod import oom_killed
from kdebug_core.analyzers.base import PodContext
from kdebug_core.quantity import MI, memory_bytes
from kdebug_core.view import meta
from tests.helpers import fixture, only, pod_context, view_of


def _paths(folder: str, name: str):
    paths = [fixture(folder, name)]
    logs = paths[0].replace(".json", ".logs.txt")
    if os.path.exists(logs):
        paths.append(logs)
    return paths


def diagnose(name: str, pod: str, plugin: str = "why", folder: str = "oom_killed"):
    return oom_killed.analyze(pod_context(view_of(*_paths(folder, name)), pod, plugin))


# ---- runbook scenario 03 ----------------------------------------------------------------------

def test_memory_hog_is_oom_killed_with_limit_request_and_the_stress_log():
    f = only(diagnose("oom-runbook-memory-hog-last-state.json", "memory-hog-5c8d7f9b-xm4k2"), "OOMKilled")
    assert f.severity == "error" and f.plugin == "why"
    assert f.container == "app"
    assert f.owner.kind == "Deployment" and f.owner.name == "memory-hog"
    assert "128Mi limit" in f.summary and "restarted 5 times" in f.summary
    assert f.evidence[0] == "last terminated: OOMKilled, exit code 137, at 10:03:12 UTC after running 8s"
    assert "restarted 5 times" in f.evidence
    assert "memory limit 128Mi, request 64Mi" in f.evidence
    assert "log (previous run): stress: FAIL: [1] (415) <-- worker 7 got signal 9" in f.evidence
    advice = next(e for e in f.evidence if e.startswith("advice:"))
    assert "reduce batch sizes" in advice and "stream" in advice and "FP16/INT8" in advice


def test_memory_hog_suggestion_doubles_the_limit_on_the_deployment_and_checks_usage():
    f = only(diagnose("oom-runbook-memory-hog-last-state.json", "memory-hog-5c8d7f9b-xm4k2"), "OOMKilled")
    assert f.suggestions[0] == ("kubectl set resources deployment/memory-hog -n default -c app "
                                "--limits=memory=256Mi --requests=memory=128Mi")
    assert "kubectl top pod memory-hog-5c8d7f9b-xm4k2 -n default --containers" in f.suggestions
    # stress allocates 256M (= 244Mi): the suggested limit must hold it.
    assert f.details["suggestedLimitBytes"] >= 256 * 1000 * 1000
    assert f.details["limit"] == "128Mi" and f.details["limitBytes"] == 128 * MI
    assert f.details["request"] == "64Mi" and f.details["requestBytes"] == 64 * MI
    assert f.details["suggestedLimit"] == "256Mi" and f.details["suggestedRequest"] == "128Mi"


def test_oomcheck_reports_the_same_kill_under_its_own_name():
    f = only(diagnose("oom-runbook-memory-hog-last-state.json", "memory-hog-5c8d7f9b-xm4k2",
                      plugin="oomcheck"), "OOMKilled")
    assert f.plugin == "oomcheck"


# ---- where the kill is recorded ------------------------------------------------------------------

def test_job_pod_oom_killed_in_its_current_state_gets_replace_instructions():
    f = only(diagnose("oom-job-pod-current-state.json", "embed-batch-x7k2p"), "OOMKilled")
    assert f.evidence[0] == "terminated: OOMKilled, exit code 137, at 22:18:41 UTC after running 3m38s"
    assert f.details["state"] == "state"
    assert "log (last run): 2024-10-02 22:17:58 INFO batch 12/62 done" in f.evidence
    # A Job's pod template is immutable: no `set resources job/...`.
    assert not any(s.startswith("kubectl set resources") for s in f.suggestions)
    assert f.suggestions[0].startswith("kubectl get job/embed-batch -n ml -o yaml > job.yaml")
    assert f.suggestions[0] == "kubectl get job/embed-batch -n ml -o yaml > job.yaml"
    assert "resources.limits.memory: 4Gi" in f.fixes[0].why
    assert "resources.requests.memory: 2Gi" in f.fixes[0].why
    assert "kubectl replace --force -f job.yaml" in f.suggestions


def test_oom_killed_child_process_with_exit_1_is_still_oom_and_explained():
    f = only(diagnose("oom-child-process-killed-exit-1.json", "ml-inference-7f8c6d5b9-kx2j7"), "OOMKilled")
    assert f.evidence[0].startswith("last terminated: OOMKilled, exit code 1,")
    assert any("OOM killer took a child process" in e for e in f.evidence)
    assert "log (previous run): RuntimeError: DataLoader worker (pid 37) is killed by signal: Killed." \
        in f.evidence
    assert "container model waiting: CrashLoopBackOff, back-off 40s before the next restart" in f.evidence
    # 1.5Gi doubled is 3Gi; the 500M request is below half of it.
    assert f.suggestions[0] == ("kubectl set resources deployment/ml-inference -n ml -c model "
                                "--limits=memory=3Gi --requests=memory=1536Mi")
    assert "memory limit 1.5Gi, request 500M (476.8Mi)" in f.evidence


# ---- every legal quantity form -----------------------------------------------------------------

def test_limit_in_plain_bytes_on_a_statefulset():
    f = only(diagnose("oom-statefulset-limit-in-plain-bytes.json", "redis-cache-0"), "OOMKilled")
    assert "memory limit 134217728 (128Mi), request 134217728 (128Mi)" in f.evidence
    assert f.details["limitBytes"] == 134217728
    assert f.suggestions[0] == ("kubectl set resources statefulset/redis-cache -n cache -c redis "
                                "--limits=memory=256Mi --requests=memory=128Mi")


def test_limit_written_as_129e6_on_a_cronjobs_pod_patches_the_cronjob():
    f = only(diagnose("oom-cronjob-limit-129e6.json", "nightly-report-28472640-q9w2v", plugin="oomcheck"),
             "OOMKilled")
    assert f.owner.kind == "CronJob" and f.owner.name == "nightly-report"
    assert "memory limit 129e6 (123Mi), request 100M (95.4Mi)" in f.evidence
    assert f.details["limitBytes"] == 129_000_000
    assert f.details["suggestedLimitBytes"] >= 2 * 129_000_000
    assert f.suggestions[0] == ("kubectl set resources cronjob/nightly-report -n reports -c report "
                                "--limits=memory=256Mi --requests=memory=128Mi")
    assert not any(e.startswith("restarted") for e in f.evidence)  # never restarted: nothing to say


@pytest.mark.parametrize("limit,req,expect_limit,expect_request", [
    ("128Mi", "64Mi", "256Mi", "128Mi"),
    ("134217728", "134217728", "256Mi", "128Mi"),
    ("129e6", "100M", "256Mi", "128Mi"),
    ("1.5Gi", "500M", "3Gi", "1536Mi"),
    ("500M", "500M", "960Mi", "480Mi"),    # 2 × 500M = 953.7Mi, rounded up to the next 64Mi
    ("0.5G", None, "960Mi", "480Mi"),
    ("2Gi", "2Gi", "4Gi", "2Gi"),
    ("100Mi", "300Mi", "320Mi", "300Mi"),  # a request above the doubled limit lifts the limit
])
def test_suggested_limit_is_at_least_twice_the_limit_and_the_request(limit, req, expect_limit,
                                                                       expect_request):
    lb, rb = memory_bytes(limit), memory_bytes(req)
    new_limit, new_limit_text, new_request, new_request_text = oom_killed.suggest(lb, rb)
    assert (new_limit_text, new_request_text) == (expect_limit, expect_request)
    assert new_limit == memory_bytes(new_limit_text) >= 2 * lb
    assert new_limit >= (rb or 0)
    assert new_request == memory_bytes(new_request_text) >= new_limit // 2


def test_observed_usage_above_the_doubled_limit_raises_the_suggestion():
    new_limit, text, _, _ = oom_killed.suggest(128 * MI, 64 * MI, observed=300 * MI)
    assert new_limit >= 375 * MI and text == "384Mi"


def test_no_limit_means_the_node_or_cgroup_ran_out_and_the_values_are_left_to_the_reader():
    f = only(diagnose("oom-no-memory-limit.json", "log-indexer-6d5f4c8b7-p2r9m"), "OOMKilled")
    assert "no memory limit" in f.summary
    assert any("has no memory limit" in e and "node ran out of memory" in e for e in f.evidence)
    assert f.suggestions[0] == ("kubectl set resources deployment/log-indexer -n logging -c indexer "
                                "--limits=memory=LIMIT --requests=memory=REQUEST")
    assert "kubectl describe node worker-5" in f.suggestions
    assert "suggestedLimit" not in f.details and f.details["limit"] is None


# ---- a bare 137 is not OOM -----------------------------------------------------------------------

def test_exit_137_from_a_liveness_kill_is_not_called_oom():
    for pod in ("slow-api-59c7d8b6f-m9k2n", "slow-api-59c7d8b6f-q7w4x"):
        assert diagnose("exit-137-liveness-kill-not-oom.json", pod, folder="crashloop") == []


def test_exit_137_sigkill_without_oom_reason_is_not_oom():
    assert diagnose("exit-137-sigkill-not-oom-no-probe.json", "cache-warmer-7b6d5c4f8-h4n8s",
                    folder="crashloop") == []


def test_healthy_pods_and_other_crashes_give_no_oom_finding():
    assert diagnose("healthy-running.json", "web-7c9d8f6b5-b2kx9", folder="crashloop") == []
    assert diagnose("healthy-running.json", "web-7c9d8f6b5-f8mzt", folder="crashloop") == []
    assert diagnose("crashloop-exit-1-python-starting.json", "crasher-7d4f5b8c-mk2n3",
                    folder="crashloop") == []


# ---- variants ----------------------------------------------------------------------------------

def _edited(name: str, pod: str, edit, plugin: str = "why") -> PodContext:
    view = view_of(*_paths("oom_killed", name))
    obj = next(p for p in view.list("Pod", None) if meta(p).get("name") == pod)
    edit(obj)
    return PodContext(view=view, pod=obj, plugin=plugin, owner=view.top_owner(obj))


def test_without_logs_and_events_the_status_alone_gives_the_diagnosis():
    view = view_of(fixture("oom_killed", "oom-runbook-memory-hog-last-state.json"))
    ctx = pod_context(view, "memory-hog-5c8d7f9b-xm4k2")
    ctx._events = []
    f = only(oom_killed.analyze(ctx), "OOMKilled")
    assert not any(e.startswith("log (") for e in f.evidence)
    assert f.details["suggestedLimit"] == "256Mi"


def test_oom_killed_init_container_is_reported_as_an_init_container():
    def init_oom(pod):
        app = pod["spec"]["containers"][0]
        pod["spec"]["initContainers"] = [dict(app, name="warm-cache")]
        pod["status"]["initContainerStatuses"] = [dict(pod["status"]["containerStatuses"][0],
                                                       name="warm-cache")]
        pod["status"]["containerStatuses"][0] = {
            "image": app["image"], "imageID": "", "lastState": {}, "name": "app", "ready": False,
            "restartCount": 0, "started": False, "state": {"waiting": {"reason": "PodInitializing"}}}
    ctx = _edited("oom-runbook-memory-hog-last-state.json", "memory-hog-5c8d7f9b-xm4k2", init_oom)
    f = only(oom_killed.analyze(ctx), "OOMKilled")
    assert f.container == "warm-cache"
    assert f.summary.startswith("init container warm-cache was killed")


def test_an_old_oom_kill_on_a_container_running_steadily_since_is_a_warning():
    def later(pod):
        cs = pod["status"]["containerStatuses"][0]
        cs["state"] = {"running": {"startedAt": "2024-01-01T10:05:52Z"}}
        pod["status"]["conditions"][0]["lastTransitionTime"] = "2024-01-01T12:00:00Z"
    ctx = _edited("oom-runbook-memory-hog-last-state.json", "memory-hog-5c8d7f9b-xm4k2", later)
    ctx.view._now = None
    f = only(oom_killed.analyze(ctx), "OOMKilled")
    assert f.severity == "warning"
    assert "running again for" in f.summary
