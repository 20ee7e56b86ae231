"""InitContainerFailed: an init container crashes, fails or never finishes, so the app never starts."""

import copy

from kdebug_core.analyzers.pod import init_containers
from tests.helpers import fixture, only, pod_context, view_of


def context(name, pod, logs=True):
    paths = [fixture("init_containers", name)]
    if logs:
        paths.append(fixture("init_containers", name.replace(".json", ".logs.txt")))
    return pod_context(view_of(*paths), pod)


CRASH = "init-crashloop-migrate-cannot-reach-postgres.json"
CRASH_POD = "web-5f7b8c9d4-x2lqz"


def test_crashlooping_migration_is_explained_by_its_exit_code_and_previous_log():
    f = only(init_containers.analyze(context(CRASH, CRASH_POD)), "InitContainerFailed")
    assert (f.container, f.cause, f.severity) == ("migrate", "Crashing", "error")
    assert f.summary == ('init container migrate keeps failing with exit code 1 (application error): '
                         'django.db.utils.OperationalError: connection to server at "postgres" (10.96.112.40), '
                         'port 5432 failed: Connection refused; the app containers never start')
    assert "last run ended: Error, exit code 1 — application error (the process exited with status 1), after 3s, " \
           "41s ago" in f.evidence
    assert "restarted 4 times" in f.evidence
    assert any(e.startswith("previous log: psycopg2.OperationalError: connection to server at \"postgres\"")
               for e in f.evidence)
    assert not any('File "' in e for e in f.evidence), "traceback frames are noise in evidence"
    assert any(e.startswith("event BackOff (x13") for e in f.evidence)
    assert "app containers waiting: web (PodInitializing)" in f.evidence
    assert f.details["restartCount"] == 4 and f.details["exitCode"] == 1


def test_the_service_it_needs_is_checked_and_its_backing_pods_named():
    f = only(init_containers.analyze(context(CRASH, CRASH_POD)), "InitContainerFailed")
    assert f.details["dependsOn"] == ["postgres"]
    assert ('service "postgres" exists but has no ready endpoints (1 not ready): nothing answers behind it'
            in f.evidence)
    assert f.suggestions[0] == "kubectl logs web-5f7b8c9d4-x2lqz -n shop -c migrate --previous"
    assert any(s.startswith("kubectl get pods -n shop -l app=postgres") for s in f.suggestions)
    assert (f.fixes[-1], f.fixes[-1].why) == ("kubectl edit deployment/web -n shop", "fix initContainers: migrate")


def test_native_sidecar_is_not_an_init_step():
    findings = init_containers.analyze(context(CRASH, CRASH_POD))
    assert [f.container for f in findings] == ["migrate"]


def test_crash_without_logs_still_gives_the_exit_code():
    f = only(init_containers.analyze(context(CRASH, CRASH_POD, logs=False)), "InitContainerFailed")
    assert f.summary == ("init container migrate keeps failing with exit code 1 (application error); "
                         "the app containers never start")
    assert "previous log: not available" in f.evidence
    # The DATABASE_URL still says what it depends on.
    assert f.details["dependsOn"] == ["postgres"]


def test_init_container_stuck_waiting_for_a_service_that_does_not_exist_is_a_warning():
    f = only(init_containers.analyze(context("init-stuck-wait-for-db.json", "orders-79d4c8f6b5-jr5tn")),
             "InitContainerFailed")
    assert (f.container, f.cause, f.severity) == ("wait-for-db", "Stuck", "warning")
    assert f.summary == ('init container wait-for-db has been running 12m; app containers wait for it '
                         '(it waits for "db", which has no Service)')
    assert "log: nslookup: can't resolve 'db.default.svc.cluster.local'" in f.evidence
    assert 'no service "db" in namespace default (the init container needs it)' in f.evidence
    assert "app containers waiting: orders (PodInitializing)" in f.evidence
    assert f.suggestions[0] == "kubectl logs orders-79d4c8f6b5-jr5tn -n default -c wait-for-db"
    # the Service is known to be missing: list what is there rather than a get that says NotFound
    assert "kubectl get svc -n default" in f.suggestions
    # The FQDN: busybox's nslookup would give a false NXDOMAIN for the short name.
    assert any(s.endswith("-- nslookup db.default.svc.cluster.local") for s in f.suggestions)


def test_an_init_container_running_for_a_minute_is_not_stuck():
    ctx = context("init-stuck-wait-for-db.json", "orders-79d4c8f6b5-jr5tn")
    ctx.pod = copy.deepcopy(ctx.pod)
    ctx.pod["status"]["initContainerStatuses"][0]["state"]["running"]["startedAt"] = "2024-05-14T09:29:10Z"
    assert init_containers.analyze(ctx) == []


def test_job_pod_whose_init_container_failed_once_is_fixed_by_replacing_the_job():
    f = only(init_containers.analyze(context("init-error-job-restart-never.json", "nightly-export-28594080-9c2xd")),
             "InitContainerFailed")
    assert (f.container, f.cause) == ("fetch-config", "Failed")
    assert f.summary.startswith("init container fetch-config failed with exit code 6")
    assert "curl: (6) Could not resolve host: config-server.platform" in f.summary
    assert f.summary.endswith("the pod failed before its app containers started")
    assert "log: curl: (6) Could not resolve host: config-server.platform" in f.evidence
    assert f.suggestions[0] == "kubectl logs nightly-export-28594080-9c2xd -n batch -c fetch-config"
    assert "kubectl get svc -n platform" in f.suggestions
    assert f.suggestions[-2] == "kubectl get job/nightly-export-28594080 -n batch -o yaml > job.yaml"
    assert f.suggestions[-1] == "kubectl replace --force -f job.yaml"


def test_completed_init_and_long_running_native_sidecar_are_healthy():
    ctx = context("healthy-native-sidecar-and-completed-init.json", "web-6c8d9f7b5-p7k2w", logs=False)
    assert init_containers.analyze(ctx) == []


def test_waiting_on_an_image_or_a_start_error_is_left_to_the_other_analyzers():
    ctx = context(CRASH, CRASH_POD)
    ctx.pod = copy.deepcopy(ctx.pod)
    status = ctx.pod["status"]["initContainerStatuses"][1]
    status["state"] = {"waiting": {"reason": "ImagePullBackOff",
                                   "message": 'Back-off pulling image "ghcr.io/acme/web:1.14.0"'}}
    status["lastState"] = {}
    assert init_containers.analyze(ctx) == []
    status["state"] = {"waiting": {"reason": "CrashLoopBackOff", "message": "back-off 40s restarting failed"}}
    status["lastState"] = {"terminated": {"exitCode": 128, "reason": "StartError",
                                          "message": 'exec: "pyhton": executable file not found in $PATH'}}
    assert init_containers.analyze(ctx) == []


def test_oom_killed_init_container_says_so():
    ctx = context(CRASH, CRASH_POD, logs=False)
    ctx.pod = copy.deepcopy(ctx.pod)
    last = ctx.pod["status"]["initContainerStatuses"][1]["lastState"]["terminated"]
    last.update(exitCode=137, reason="OOMKilled")
    f = only(init_containers.analyze(ctx), "InitContainerFailed")
    assert "exit code 137 (killed by the OOM killer" in f.summary


def test_init_crash_loop_with_no_recorded_exit_is_still_init_container_failed():
    """kubernetes/kubernetes#26892: Init:CrashLoopBackOff, 0 restarts, no last state."""
    from kdebug_core.analyzers.pod import init_containers
    from tests.helpers import fixture, only, pod_context, view_of
    ctx = pod_context(view_of(fixture("init_containers", "init-crashloop-no-last-state.yaml")), "zoo-0")
    f = only(init_containers.analyze(ctx), "InitContainerFailed")
    assert f.container == "bootstrap" and f.cause == "Crashing" and f.severity == "error"
    assert "its last exit code was not recorded" in f.summary and "the app containers never start" in f.summary
    assert f.details["exitCode"] is None and f.details["state"] == "CrashLoopBackOff"
    assert any(e.startswith("no record of its last run") for e in f.evidence)
    assert "app containers waiting: zk (PodInitializing)" in f.evidence
    assert f.suggestions[0] == "kubectl logs zoo-0 -n default -c bootstrap --previous"


# ---- an init container still running: the pod is held, not failed (pod_health) -----------------

def test_a_pending_pod_held_by_a_running_init_container_names_it_and_what_it_waits_for():
    """kubesphere/kubesphere#158 (docker, 2018): Pending, init container wait-mysql running an
    `until nc -z openpitrix-db.openpitrix-system.svc 3306` loop; describe cut before the events."""
    from kdebug_core.analyzers.pod import pod_health
    ctx = pod_context(view_of(fixture("init_containers", "init-running-nc-loop-kubesphere.yaml")),
                      "ks-account-797644fb8b-v2c8m")
    assert init_containers.analyze(ctx) == []  # not failing, and not known to be stuck
    f = only(pod_health.analyze(ctx, []), "PodNotHealthy")
    assert (f.container, f.cause, f.severity) == ("wait-mysql", "InitContainerRunning", "warning")
    # offline with no event, the dump's "now" may be the start itself: no made-up duration
    assert f.summary == ('init container wait-mysql has been running since 2018-08-23T11:45:53Z: the pod stays '
                         'Pending until it finishes (it waits for "openpitrix-db")')
    assert 'command: sh -c until nc -z openpitrix-db.openpitrix-system.svc 3306; do echo "waiting for mysql"; ' \
           'sleep 2; done;' in f.evidence
    assert "container ks-account: no status reported" in f.evidence
    assert f.suggestions[0] == "kubectl logs ks-account-797644fb8b-v2c8m -n kubesphere-system -c wait-mysql"
    assert "kubectl get svc -n openpitrix-system" in f.suggestions
    assert f.details["dependsOn"] == ["openpitrix-db"]


def test_a_running_init_container_younger_than_stuck_gets_its_duration_and_log():
    from kdebug_core.analyzers.pod import pod_health
    ctx = context("init-stuck-wait-for-db.json", "orders-79d4c8f6b5-jr5tn")
    ctx.pod = copy.deepcopy(ctx.pod)
    ctx.pod["status"]["initContainerStatuses"][0]["state"]["running"]["startedAt"] = "2024-05-14T09:29:10Z"
    assert init_containers.analyze(ctx) == []
    f = only(pod_health.analyze(ctx, []), "PodNotHealthy")
    assert f.cause == "InitContainerRunning" and f.container == "wait-for-db"
    assert f.summary.startswith("init container wait-for-db has been running for ")
    assert f.details["runningSeconds"] < init_containers.STUCK_SECONDS
    assert "log: nslookup: can't resolve 'db.default.svc.cluster.local'" in f.evidence
    assert 'no service "db" in namespace default (the init container needs it)' in f.evidence
    assert "container orders: waiting: PodInitializing; not ready; started: false" in f.evidence


def test_a_pod_whose_init_containers_finished_is_not_held_by_them():
    from kdebug_core.analyzers.pod import pod_health
    ctx = context("healthy-native-sidecar-and-completed-init.json", "web-6c8d9f7b5-p7k2w", logs=False)
    assert init_containers.running_init(ctx) is None
    assert pod_health.analyze(ctx, []) == []
