"""CrashLoopBackOff and ContainerExitedSIGKILL, as the runbook's Phase 2 diagnoses them."""

import os

from kdebug_core.analyzers.pod import crashloop
from kdebug_core.analyzers.base import PodContext
from kdebug_core.sources.files import FileBackend
from kdebug_core.view import ClusterView, ViewOptions, meta
from tests.helpers import fixture, only, pod_context, view_of


class _PreviousRunLogs(FileBackend):
    """A fixture's `.logs.txt` is the crashed run's output, as `kubectl logs --previous` answers
    it live, also for a container that is running again. (A cluster-info dump of a running
    container holds its current run, so the files source does not answer that as the previous
    run: sources/files.is_running.)"""

    def logs(self, namespace, pod, container, previous, tail_lines):
        return super().logs(namespace, pod, container, False, tail_lines)


def crashloop_view(name: str) -> ClusterView:
    """A cluster-wide view over a crashloop fixture and its logs, if any."""
    paths = [fixture("crashloop", name)]
    logs = paths[0].replace(".json", ".logs.txt")
    if os.path.exists(logs):
        paths.append(logs)
    return ClusterView(_PreviousRunLogs.from_paths(paths), ViewOptions(namespace=None, scan=True))


def diagnose(name: str, pod: str, plugin: str = "why"):
    """Findings of the crash-loop analyzer for one pod of a fixture (with its logs, if any)."""
    return crashloop.analyze(pod_context(crashloop_view(name), pod, plugin))


def evidence_of(finding) -> str:
    return "\n".join(finding.evidence)


# ---- runbook scenario 02 ----------------------------------------------------------------------

def test_python_app_exiting_1_is_a_crash_loop_with_exit_code_runtime_and_previous_log():
    f = only(diagnose("crashloop-exit-1-python-starting.json", "crasher-7d4f5b8c-mk2n3"),
             "CrashLoopBackOff")
    assert f.severity == "error"
    assert f.container == "app"
    assert f.owner.kind == "Deployment" and f.owner.name == "crasher"
    assert "exits with code 1 (application error)" in f.summary
    assert "restarted 5 times" in f.summary
    ev = f.evidence
    assert ev[0].startswith("last exit code 1 (application error")
    assert ev[0].endswith("reason Error, after running 1s")
    assert "restarted 5 times" in ev
    assert "container app waiting: CrashLoopBackOff, back-off 2m40s before the next restart" in ev
    assert any(e.startswith("event BackOff (x24") and "Back-off restarting failed container app in pod "
               "crasher-7d4f5b8c-mk2n3_default(" in e for e in ev)
    assert "log (previous run): Starting..." in ev
    assert f.details == {"exitCode": 1, "restartCount": 5, "lastReason": "Error", "ranSeconds": 1.0,
                         "backOff": "2m40s", "finishedAt": "2024-01-01T12:00:01Z",
                         "signal": None, "exitKind": "application"}


def test_runbook_crash_loop_suggests_previous_logs_then_the_runbooks_fixes_on_the_deployment():
    f = only(diagnose("crashloop-exit-1-python-starting.json", "crasher-7d4f5b8c-mk2n3"),
             "CrashLoopBackOff")
    assert f.suggestions[0] == "kubectl logs crasher-7d4f5b8c-mk2n3 -n default -c app --previous"
    assert "kubectl set image deployment/crasher -n default app=IMAGE:TAG" in f.suggestions
    assert "kubectl edit deployment/crasher -n default" in f.suggestions
    assert not any("replicaset/" in s for s in f.suggestions)


# ---- exit codes -------------------------------------------------------------------------------

def test_exit_127_through_a_shell_names_the_missing_command_and_checks_command_and_args():
    f = only(diagnose("crashloop-exit-127-command-not-found.json", "report-worker-6f9c8d7b5d-p8x2w"),
             "CrashLoopBackOff")
    assert f.container == "worker"
    assert 'command "pythn"' in f.summary and "exit 127" in f.summary
    assert f.evidence[0].startswith("last exit code 127 (command not found")
    assert "log (previous run): /bin/sh: 1: pythn: not found" in f.evidence
    assert f.suggestions[0] == "kubectl logs report-worker-6f9c8d7b5d-p8x2w -n batch -c worker --previous"
    check = f.suggestions[1]
    assert check.startswith("kubectl get deployment/report-worker -n batch -o jsonpath="
                            "'{.spec.template.spec.containers[?(@.name==\"worker\")].command}")
    assert ".args}" in check
    assert "kubectl edit deployment/report-worker -n batch" in f.suggestions
    assert f.details["exitCode"] == 127


def test_go_panic_exit_2_while_running_between_crashes_is_still_a_crash_loop():
    f = only(diagnose("crashloop-exit-2-go-panic.json", "payments-api-84d5c6f7b9-tq2lm"),
             "CrashLoopBackOff")
    assert "Go program panics (exit 2)" in f.summary
    assert "restarted 3 times" in f.summary
    ev = evidence_of(f)
    assert "log (previous run): panic: runtime error: invalid memory address or nil pointer " \
           "dereference" in ev
    assert "goroutine 1 [running]:" in ev
    assert "Go programs exit with code 2 when they panic" in ev
    assert "container api running again for" in ev
    assert f.details["backOff"] is None  # not waiting right now
    # A panic is an application bug: not a command/args problem.
    assert not any("jsonpath" in s for s in f.suggestions)
    assert "kubectl set image deployment/payments-api -n payments api=IMAGE:TAG" in f.suggestions


def test_exit_0_in_a_deployment_says_the_process_exits_on_its_own_and_suggests_a_job():
    f = only(diagnose("crashloop-exit-0-completed-in-deployment.json", "db-migrate-5f7b8d9c6-r2vzk"),
             "CrashLoopBackOff")
    assert ("the process exits on its own; a Deployment expects it to keep running; use a Job for "
            "run-to-completion work") in f.summary
    assert f.details["exitCode"] == 0 and f.details["lastReason"] == "Completed"
    assert "log (previous run): 2024-06-03T08:14:04Z INFO all migrations applied (42/42)" in f.evidence
    assert ("kubectl create job db-migrate-run -n default --image=ghcr.io/acme/migrate:2.3.0 -- "
            "/app/migrate --apply") in f.suggestions
    assert "kubectl edit deployment/db-migrate -n default" in f.suggestions


def test_exit_139_is_a_segfault_and_missing_logs_give_the_logs_command():
    f = only(diagnose("crashloop-exit-139-segfault-no-logs.json", "thumbnailer-66b8c9d5f4-8wq5n"),
             "CrashLoopBackOff")
    assert "segmentation fault" in f.summary and "139" in f.summary
    cmd = "kubectl logs thumbnailer-66b8c9d5f4-8wq5n -n media -c thumbnailer --previous"
    assert f"log of the previous run not available here: read it with {cmd}" in f.evidence
    assert f.suggestions[0] == cmd
    assert any(s.startswith("kubectl rollout undo deployment/thumbnailer -n media") for s in f.suggestions)


def test_older_kubelet_backoff_event_without_container_and_pod_is_still_quoted():
    f = only(diagnose("crashloop-old-kubelet-backoff-without-pod-suffix.json", "frontend-6b9f7c5d4-2xkqz"),
             "CrashLoopBackOff")
    assert "event BackOff (x70, 0s ago): Back-off restarting failed container" in f.evidence
    assert "log (previous run): Error: Cannot find module '/app/server.js'" in f.evidence
    assert f.details["backOff"] == "5m0s"
    assert f.suggestions[0] == "kubectl logs frontend-6b9f7c5d4-2xkqz -n web -c app --previous"


# ---- SIGKILL is not OOM -------------------------------------------------------------------------

def test_exit_137_from_liveness_kills_is_explained_as_the_probe_not_oom():
    f = only(diagnose("exit-137-liveness-kill-not-oom.json", "slow-api-59c7d8b6f-m9k2n"),
             "CrashLoopBackOff")
    assert "its failing liveness probe gets it killed (exit 137)" in f.summary
    assert "not an OOM kill" in f.summary
    assert "OOMKilled" not in f.summary
    ev = evidence_of(f)
    assert "event Killing (x5, 74s ago): Container app failed liveness probe, will be restarted" in ev
    assert "Liveness probe failed: HTTP probe failed with statuscode: 404" in ev
    assert "kubectl probecheck slow-api-59c7d8b6f-m9k2n -n default" in f.suggestions
    assert ("kubectl get events --field-selector involvedObject.name=slow-api-59c7d8b6f-m9k2n -n default"
            in f.suggestions)


def test_a_single_liveness_kill_below_the_threshold_is_left_to_the_probe_analyzer():
    assert diagnose("exit-137-liveness-kill-not-oom.json", "slow-api-59c7d8b6f-q7w4x") == []


def test_nginx_killed_by_liveness_exits_0_and_is_not_called_a_run_to_completion_program():
    f = only(diagnose("liveness-kill-nginx-exit-0.json", "probe-test-7d4f5b8c-m9k2n"), "CrashLoopBackOff")
    assert "failing liveness probe" in f.summary
    assert "use a Job" not in f.summary
    assert not any("create job" in s for s in f.suggestions)


def test_sigkill_without_oom_or_probe_on_a_container_that_is_not_looping():
    f = only(diagnose("exit-137-sigkill-not-oom-no-probe.json", "cache-warmer-7b6d5c4f8-h4n8s"),
             "ContainerExitedSIGKILL")
    # Killed once, running and ready again since: history (info, exit 0), still explained —
    # a healthy near miss as in kubernetes/kubernetes#122256 (tests/corpus/056).
    assert f.severity == "info"
    assert "it has been running and ready since 2024-07-19T03:44:12Z, so this is history" in f.summary
    assert f.container == "warmer"
    assert "killed with SIGKILL" in f.summary
    assert "something other than the OOM killer" in f.summary
    assert f.evidence[0].startswith("last exit code 137")
    assert "after running 42m" in f.evidence[0]
    assert "log (previous run): 2024-07-19T03:44:08Z INFO warmed 186000/240000 keys" in f.evidence
    assert ("kubectl get events --field-selector involvedObject.name=cache-warmer-7b6d5c4f8-h4n8s "
            "-n default") in f.suggestions
    assert "kubectl describe node ip-10-0-1-17.ec2.internal" in f.suggestions
    assert f.details["lastReason"] == "Error" and f.details["restartCount"] == 1


# ---- not ours ---------------------------------------------------------------------------------

def test_oom_killed_loop_is_left_to_the_oom_analyzer():
    view = view_of(fixture("oom_killed", "oom-runbook-memory-hog-last-state.json"))
    assert crashloop.analyze(pod_context(view, "memory-hog-5c8d7f9b-xm4k2")) == []


def test_oom_killed_with_exit_1_is_still_not_a_crash_loop_finding():
    view = view_of(fixture("oom_killed", "oom-child-process-killed-exit-1.json"))
    assert crashloop.analyze(pod_context(view, "ml-inference-7f8c6d5b9-kx2j7")) == []


def test_start_error_loop_is_left_to_cannot_run():
    assert diagnose("start-error-exec-not-found-not-crashloop.json", "report-api-6c8b9d7f5-z9p3k") == []


def test_init_container_crash_loop_is_left_to_the_init_analyzer():
    assert diagnose("init-container-crashloop-not-app.json", "orders-5d7c9b8f4-hw6zt") == []


def test_healthy_pod_and_a_single_restart_give_no_finding():
    assert diagnose("healthy-running.json", "web-7c9d8f6b5-b2kx9") == []
    assert diagnose("healthy-running.json", "web-7c9d8f6b5-f8mzt") == []


def test_crashes_hours_ago_with_the_container_running_steadily_since_are_only_a_warning():
    f = only(diagnose("restarted-earlier-running-steadily.json", "order-consumer-78f6d9c5b-n5t7c"),
             "CrashLoopBackOff")
    assert f.severity == "warning"
    assert "running again for 3h" in f.summary
    assert "the last run ended with exit code 1 (application error) after running 30s" in f.summary
    assert "kafka: client has run out of available brokers" in evidence_of(f)


# ---- variants and robustness --------------------------------------------------------------------

def _edited(name: str, pod: str, edit) -> PodContext:
    """A pod context over a fixture after `edit(pod)` changed the pod in place."""
    view = crashloop_view(name)
    obj = next(p for p in view.list("Pod", None) if meta(p).get("name") == pod)
    edit(obj)
    return PodContext(view=view, pod=obj, plugin="why", owner=view.top_owner(obj))


def test_restart_count_alone_detects_the_loop_once_events_have_expired():
    def drop_waiting(pod):
        cs = pod["status"]["containerStatuses"][0]
        cs["state"] = {"running": {"startedAt": "2024-05-14T09:22:20Z"}}
    ctx = _edited("crashloop-exit-127-command-not-found.json", "report-worker-6f9c8d7b5d-p8x2w",
                  drop_waiting)
    ctx._events = []  # events expired
    f = only(crashloop.analyze(ctx), "CrashLoopBackOff")
    assert f.details["exitCode"] == 127 and f.details["restartCount"] == 4


def test_capitalised_backoff_waiting_message_of_old_kubelets_still_gives_the_backoff():
    def old_message(pod):
        w = pod["status"]["containerStatuses"][0]["state"]["waiting"]
        w["message"] = w["message"].replace("back-off", "Back-off")
    ctx = _edited("crashloop-exit-1-python-starting.json", "crasher-7d4f5b8c-mk2n3", old_message)
    f = only(crashloop.analyze(ctx), "CrashLoopBackOff")
    assert f.details["backOff"] == "2m40s"


def test_a_bare_pod_gets_replace_instructions_not_a_deployment_edit():
    def orphan(pod):
        del pod["metadata"]["ownerReferences"]
    ctx = _edited("crashloop-exit-127-command-not-found.json", "report-worker-6f9c8d7b5d-p8x2w", orphan)
    f = only(crashloop.analyze(ctx), "CrashLoopBackOff")
    assert f.suggestions[1].startswith(
        "kubectl get pod/report-worker-6f9c8d7b5d-p8x2w -n batch -o jsonpath="
        "'{.spec.containers[?(@.name==\"worker\")].command}")
    assert "kubectl replace --force -f pod.yaml" in f.suggestions
    assert not any("deployment/" in s for s in f.suggestions)


def test_termination_message_is_quoted_and_control_characters_neutralised():
    def message(pod):
        last = pod["status"]["containerStatuses"][0]["lastState"]["terminated"]
        last["message"] = "config error: missing DB_HOST\x1b]52;c;bad\x07"
    ctx = _edited("crashloop-exit-1-python-starting.json", "crasher-7d4f5b8c-mk2n3", message)
    f = only(crashloop.analyze(ctx), "CrashLoopBackOff")
    line = next(e for e in f.evidence if e.startswith("termination message:"))
    assert "config error: missing DB_HOST" in line
    assert "\x1b" not in line and "\x07" not in line


def test_crash_loop_without_last_state_still_reports_what_it_can():
    def no_last(pod):
        pod["status"]["containerStatuses"][0]["lastState"] = {}
    ctx = _edited("crashloop-exit-139-segfault-no-logs.json", "thumbnailer-66b8c9d5f4-8wq5n", no_last)
    f = only(crashloop.analyze(ctx), "CrashLoopBackOff")
    assert f.details["exitCode"] is None
    assert "keeps crashing" in f.summary


def test_exit_0_restarts_in_a_job_with_restart_policy_on_failure_are_not_a_crash_loop():
    def as_job_pod(pod):
        pod["spec"]["restartPolicy"] = "OnFailure"
        pod["status"]["containerStatuses"][0]["state"] = {"running": {"startedAt": "2024-06-03T08:16:00Z"}}
    ctx = _edited("crashloop-exit-0-completed-in-deployment.json", "db-migrate-5f7b8d9c6-r2vzk", as_job_pod)
    assert crashloop.analyze(ctx) == []


# ---- crashes by signal: 128+N (issue 9 §2) --------------------------------------------------------
# The runtimes (docker, containerd, CRI-O) record a death by signal N as exit status 128+N, reason
# Error; K8S-MESSAGES.md "Exit codes".

import pytest  # noqa: E402

from kdebug_core.analyzers.pod.exits import exit_code_meaning, exit_kind, signal_of  # noqa: E402


@pytest.mark.parametrize("code, sig, words", [
    (139, "SIGSEGV", "segmentation fault"),
    (134, "SIGABRT", "aborted"),
    (136, "SIGFPE", "floating-point exception"),
    (135, "SIGBUS", "bus error"),
    (132, "SIGILL", "illegal instruction"),
])
def test_a_process_that_dies_of_its_own_signal_is_a_crash_not_an_application_error(code, sig, words):
    def crash(pod):
        pod["status"]["containerStatuses"][0]["lastState"]["terminated"]["exitCode"] = code
    ctx = _edited("crashloop-exit-139-segfault-no-logs.json", "thumbnailer-66b8c9d5f4-8wq5n", crash)
    f = only(crashloop.analyze(ctx), "CrashLoopBackOff")
    assert f"the process crashes with {sig} (exit {code} = 128+{code - 128}: {words}" in f.summary
    assert "not an error the application reported" in f.summary
    assert "application error" not in f.summary
    assert f.details["signal"] == sig and f.details["exitKind"] == "crash"
    assert any(s.startswith("kubectl rollout undo deployment/thumbnailer -n media") and "#" not in s
               for s in f.suggestions)


@pytest.mark.parametrize("code, sig", [(130, "SIGINT"), (131, "SIGQUIT"), (129, "SIGHUP")])
def test_other_signals_are_read_as_128_plus_n_from_outside(code, sig):
    def killed(pod):
        pod["status"]["containerStatuses"][0]["lastState"]["terminated"]["exitCode"] = code
    ctx = _edited("crashloop-exit-139-segfault-no-logs.json", "thumbnailer-66b8c9d5f4-8wq5n", killed)
    f = only(crashloop.analyze(ctx), "CrashLoopBackOff")
    assert f"it is killed by signal {sig} (exit {code} = 128+{code - 128})" in f.summary
    assert f.details["exitKind"] == "signal"


def test_exit_codes_below_129_are_the_applications_own():
    assert exit_kind(1) == exit_kind(2) == exit_kind(128) == "application"
    assert signal_of(128) is None and signal_of(255) is None and signal_of(None) is None
    assert exit_code_meaning(136).startswith("floating-point exception, SIGFPE (128+8)")
    assert exit_code_meaning(159).startswith("crashed with SIGSYS (128+31)")
    assert exit_code_meaning(130) == "killed by SIGINT (128+2)"


def test_a_second_sigkill_of_a_ready_container_is_a_warning_again():
    def twice(pod):
        pod["status"]["containerStatuses"][0]["restartCount"] = 2
    ctx = _edited("exit-137-sigkill-not-oom-no-probe.json", "cache-warmer-7b6d5c4f8-h4n8s", twice)
    f = only(crashloop.analyze(ctx), "ContainerExitedSIGKILL")
    assert f.severity == "warning" and "history" not in f.summary


def test_a_sigkilled_container_that_is_not_ready_is_a_warning():
    def unready(pod):
        pod["status"]["containerStatuses"][0]["ready"] = False
    ctx = _edited("exit-137-sigkill-not-oom-no-probe.json", "cache-warmer-7b6d5c4f8-h4n8s", unready)
    assert only(crashloop.analyze(ctx), "ContainerExitedSIGKILL").severity == "warning"


def test_between_two_restarts_terminated_error_with_backoff_events_is_still_a_crash_loop(tmp_path):
    # On a real v1.34 cluster (tests/cluster) a crash-looping container shows `terminated: Error`
    # for a moment before the kubelet writes CrashLoopBackOff again; its restarts and BackOff
    # events already say what it is. The same pod as runbook 02, caught in that moment.
    import json
    doc = json.load(open(fixture("crashloop", "crashloop-exit-1-python-starting.json")))
    for item in doc["items"]:
        if item["kind"] == "Pod":
            cs = item["status"]["containerStatuses"][0]
            cs["state"] = {"terminated": dict(cs["lastState"]["terminated"])}
            cs["restartCount"] = 1  # early in the loop: below the restart count a loop needs alone
    path = tmp_path / "between-restarts.json"
    path.write_text(json.dumps(doc))
    f = only(crashloop.analyze(pod_context(view_of(str(path)), "crasher-7d4f5b8c-mk2n3")),
             "CrashLoopBackOff")
    assert f.container == "app" and "exit code 1" in " ".join(f.evidence)
