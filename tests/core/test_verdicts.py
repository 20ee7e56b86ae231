"""Verdicts rest on evidence: "healthy" needs proof, and a failed read is a fact, never a pass.

* A pod is healthy only when Running with every container ready (and its gates True) or Succeeded;
  every other pod leaves every plugin with at least one finding (its cause, or PodNotHealthy).
* A read that failed for good (403, 5xx, timeout) is recorded in the report's `incomplete`; a pod
  whose verdict needed it is "could not verify", and the exit code is 3 when nothing else is wrong.
* The subject itself unreadable (pods for the pod plugins, Services for endpoints-check) ends the
  run with exit 3 and one line, never "nothing to examine" or "not found".
"""

import itertools
import json
import random
from datetime import datetime, timedelta, timezone
from types import SimpleNamespace

import pytest

from kdebug_core import engine
from kdebug_core.analyzers.pod import pod_health
from kdebug_core.errors import ClusterError, Forbidden, ReadFailed
from kdebug_core.plugins import PLUGINS
from kdebug_core.render import render
from kdebug_core.view import ClusterView, ViewOptions

NOW = datetime(2026, 11, 20, 10, 5, tzinfo=timezone.utc)
PLUGIN_NAMES = ["why", "oomcheck", "probecheck"]


class StubBackend:
    """Objects in memory; `fail` maps a kind to the exception its reads raise."""
    offline = False

    def __init__(self, objects, fail=None):
        self.objects = objects
        self.fail = fail or {}

    def _maybe_fail(self, kind, namespace):
        exc = self.fail.get(kind)
        if exc is not None:
            raise exc(kind.lower() + "s", namespace)

    def list(self, kind, namespace, label_selector=None, field_selector=None, metadata_only=False):
        self._maybe_fail(kind, namespace)
        return [o for o in self.objects if o["kind"] == kind
                and (namespace is None or o["metadata"].get("namespace") == namespace)]

    def get(self, kind, namespace, name, metadata_only=False):
        self._maybe_fail(kind, namespace)
        return next((o for o in self.objects if o["kind"] == kind and o["metadata"]["name"] == name
                     and (namespace is None or o["metadata"].get("namespace") == namespace)), None)

    def logs(self, namespace, pod, container, previous, tail_lines):
        self._maybe_fail("Log", namespace)
        return None

    def now(self):
        return NOW


def server_error(resource, namespace):
    return ReadFailed(resource, namespace, "Internal error occurred: etcdserver: request timed out",
                      status=500)


def forbidden(resource, namespace):
    return Forbidden(resource, namespace, f'{resource} is forbidden: User "dev" cannot list resource')


def ts(delta: timedelta) -> str:
    return (NOW - delta).strftime("%Y-%m-%dT%H:%M:%SZ")


def pod(name="web-1", phase="Running", ready=True, state=None, last=None, restarts=0,
        created=timedelta(days=2), ns="shop", conditions=None, gates=None):
    status = {"name": "app", "ready": ready, "restartCount": restarts,
              "state": state if state is not None else {"running": {"startedAt": ts(created)}},
              "lastState": last or {}}
    p = {"kind": "Pod", "apiVersion": "v1",
         "metadata": {"name": name, "namespace": ns, "uid": f"uid-{name}",
                      "creationTimestamp": ts(created)},
         "spec": {"containers": [{"name": "app", "image": "registry.example/app:1"}],
                  "nodeName": "node-1"},
         "status": {"phase": phase, "containerStatuses": [status]}}
    if conditions is not None:
        p["status"]["conditions"] = conditions
    if gates:
        p["spec"]["readinessGates"] = [{"conditionType": g} for g in gates]
    return p


def event(pod_name, reason, message, type_="Warning", ns="shop", count=1):
    return {"kind": "Event", "apiVersion": "v1", "metadata": {"name": f"{pod_name}.{reason}", "namespace": ns},
            "involvedObject": {"kind": "Pod", "name": pod_name, "namespace": ns, "uid": f"uid-{pod_name}"},
            "reason": reason, "message": message, "type": type_, "count": count,
            "lastTimestamp": ts(timedelta(minutes=1))}


def run(objects, plugin="why", fail=None, scan=True):
    view = ClusterView(StubBackend(objects, fail), ViewOptions(namespace=None, scan=scan))
    opts = SimpleNamespace(plugin=PLUGINS[plugin], probe_now=False, output="json", selector=None)
    pods = [o for o in objects if o["kind"] == "Pod"]
    return engine.build_report(view, opts, pods)


# ---- healthy needs proof ----------------------------------------------------------------------

def test_running_and_ready_is_healthy_and_exits_0():
    report = run([pod()])
    assert [r.name for r in report.healthy] == ["web-1"]
    assert report.findings == [] and report.exit_code() == 0


def test_succeeded_is_healthy():
    p = pod(phase="Succeeded", ready=False,
            state={"terminated": {"exitCode": 0, "reason": "Completed"}})
    assert run([p]).exit_code() == 0


def test_a_status_with_no_cause_is_not_healthy_but_podnothealthy_with_what_was_seen():
    # Pending for an hour, no container state, no events: nothing specific fires.
    p = pod(phase="Pending", ready=False, state={}, created=timedelta(hours=1))
    report = run([p])
    assert not report.healthy
    f = next(f for f in report.findings if f.reason == "PodNotHealthy")
    assert f.severity == "warning"
    assert "phase Pending" in f.evidence
    assert "no Warning events on record (events expire after an hour)" in f.evidence
    assert f.suggestions[0] == "kubectl describe pod web-1 -n shop"
    assert report.exit_code() == 1


def test_podnothealthy_quotes_the_last_termination_and_the_newest_warning_events():
    # Running, not ready, restarted, no lastState (node restart wiped it): thin evidence.
    p = pod(ready=False, restarts=4, state={"running": {"startedAt": ts(timedelta(seconds=30))}},
            conditions=[{"type": "Ready", "status": "False", "reason": "ContainersNotReady",
                         "message": "containers with unready status: [app]"}])
    ev = event("web-1", "FailedPreStopHook", "PreStopHook failed")
    report = run([p, ev])
    f = next(f for f in report.findings if f.reason == "PodNotHealthy")
    assert f.rank >= 1
    joined = " | ".join(f.evidence)
    assert "condition Ready=False (ContainersNotReady): containers with unready status: [app]" in joined
    assert "container app: running; not ready; 4 restarts" in joined
    assert "FailedPreStopHook" in joined
    assert "kubectl logs web-1 -n shop -c app --previous" in f.suggestions


def test_a_young_pod_still_creating_is_info_starting_not_healthy_and_exit_0():
    p = pod(phase="Pending", ready=False, created=timedelta(seconds=4),
            state={"waiting": {"reason": "ContainerCreating"}})
    report = run([p, event("web-1", "Scheduled", "Successfully assigned shop/web-1 to node-1",
                           type_="Normal")])
    f = next(f for f in report.findings if f.reason == "PodNotHealthy")
    assert f.severity == "info" and f.cause == "Starting"
    assert f.summary.startswith("starting for 4s (ContainerCreating)")
    assert not report.healthy and report.exit_code() == 0
    text = render(report, "text", False, "why")
    assert "✓" not in text and "starting for 4s" in text


def test_a_young_pod_with_a_warning_event_is_not_just_starting():
    p = pod(phase="Pending", ready=False, created=timedelta(seconds=20),
            state={"waiting": {"reason": "ContainerCreating"}})
    ev = event("web-1", "FailedCreatePodSandBox", "Failed to create pod sandbox: rpc error: code = "
               "Unknown desc = failed to setup network for sandbox")
    report = run([p, ev])
    assert report.exit_code() == 1
    assert all(f.cause != "Starting" for f in report.findings)


def test_a_readiness_gate_not_true_is_not_healthy():
    p = pod(gates=["target-health.elbv2.k8s.aws/web"],
            conditions=[{"type": "Ready", "status": "False"}])
    report = run([p])
    assert not report.healthy and report.exit_code() == 1


def test_condition_types_listed_twice_need_every_copy_true():
    p = pod(conditions=[{"type": "Ready", "status": "True"}, {"type": "Ready", "status": "False"}])
    assert not pod_health.is_healthy(p)


@pytest.mark.parametrize("plugin", PLUGIN_NAMES)
def test_other_plugins_never_call_an_unhealthy_pod_healthy(plugin):
    p = pod(ready=False, restarts=7, state={"waiting": {"reason": "CrashLoopBackOff",
                                                         "message": "back-off 5m0s restarting failed container=app"}})
    report = run([p], plugin=plugin)
    assert not report.healthy
    assert report.findings, plugin
    assert report.exit_code() == 1, plugin


# A property over generated statuses: no pod that is not Running+Ready or Succeeded is healthy.
PHASES = ["Pending", "Running", "Succeeded", "Failed", "Unknown", None]
STATES = [
    {}, {"running": {}}, {"waiting": {"reason": "ContainerCreating"}},
    {"waiting": {"reason": "CrashLoopBackOff"}}, {"waiting": {"reason": "ImagePullBackOff"}},
    {"waiting": {"reason": "SomethingNew", "message": "a runtime of the future"}},
    {"terminated": {"exitCode": 0, "reason": "Completed"}},
    {"terminated": {"exitCode": 137, "reason": "Error"}},
]
LASTS = [{}, {"terminated": {"exitCode": 1, "reason": "Error"}},
         {"terminated": {"exitCode": 137, "reason": "OOMKilled"}}]


def generated_pods():
    rng = random.Random(20261205)
    combos = list(itertools.product(PHASES, [True, False], STATES, LASTS, [0, 1, 12],
                                    [timedelta(seconds=5), timedelta(days=1)]))
    rng.shuffle(combos)
    for i, (phase, ready, state, last, restarts, created) in enumerate(combos[:300]):
        p = pod(name=f"gen-{i}", phase=phase, ready=ready, state=state, last=last,
                restarts=restarts, created=created)
        if phase is None:
            del p["status"]["phase"]
        yield p


@pytest.mark.parametrize("plugin", PLUGIN_NAMES)
def test_property_no_pod_without_proof_is_ever_healthy(plugin):
    pods = list(generated_pods())
    report = run(pods, plugin=plugin)
    healthy = {r.name for r in report.healthy}
    with_findings = {f.object.name for f in report.findings}
    for p in pods:
        name = p["metadata"]["name"]
        if pod_health.is_healthy(p):
            continue
        assert name not in healthy, (plugin, p["status"])
        assert name in with_findings, (plugin, p["status"])


# ---- failed reads are facts -------------------------------------------------------------------

def test_a_500_on_events_makes_a_clean_pod_unverified_and_exit_3():
    report = run([pod()], fail={"Event": server_error})
    assert not report.healthy
    assert "shop/pod/web-1" in report.unverified
    assert "events could not be read (HTTP 500)" in report.unverified["shop/pod/web-1"]
    assert report.exit_code() == 3
    doc = report.to_dict()
    assert doc["incomplete"] == [{"resource": "events", "namespace": None, "status": 500,
                                  "message": "Internal error occurred: etcdserver: request timed out"}]
    text = render(report, "text", False, "why")
    assert "could not verify" in text and "✓" not in text


def test_a_failed_read_does_not_hide_a_problem_found_without_it():
    p = pod(ready=False, state={"waiting": {"reason": "ImagePullBackOff",
                                            "message": 'Back-off pulling image "registry.example/app:1"'}})
    report = run([p], fail={"Event": server_error})
    assert report.exit_code() == 1
    assert report.to_dict()["incomplete"]


def test_a_forbidden_pod_list_is_a_cluster_error_not_nothing_to_examine():
    view = ClusterView(StubBackend([pod()], {"Pod": forbidden}), ViewOptions(namespace=None, scan=True))
    opts = SimpleNamespace(plugin=PLUGINS["why"], selector=None)
    with pytest.raises(ClusterError) as err:
        engine.select_pods(view, opts, [], None)
    assert "cannot list pods" in str(err.value)
    assert "kubectl auth can-i list pods -A" in str(err.value)


def test_a_forbidden_single_pod_is_a_cluster_error_not_not_found():
    from kdebug_core.targets import parse_target
    view = ClusterView(StubBackend([pod()], {"Pod": forbidden}), ViewOptions(namespace="shop"))
    opts = SimpleNamespace(plugin=PLUGINS["why"], selector=None)
    with pytest.raises(ClusterError):
        engine.select_pods(view, opts, [parse_target("web-1", PLUGINS["why"].target_kinds)], "shop")


def test_an_analyzer_that_crashes_leaves_the_pod_unverified_not_healthy(monkeypatch):
    from kdebug_core import analyzers

    def broken(ctx):
        raise KeyError("spec")
    monkeypatch.setitem(analyzers.POD_ANALYZERS, "why", [broken])
    report = run([pod()])
    assert not report.healthy and report.unverified
    assert report.exit_code() == 3


def test_exit_code_table():
    from kdebug_core.findings import Report
    assert Report().exit_code() == 0
    assert Report(incomplete=[{"resource": "events"}]).exit_code() == 3


def test_json_report_of_an_incomplete_run_through_the_renderer():
    report = run([pod()], fail={"Event": forbidden})
    doc = json.loads(render(report, "json", False, "why"))
    assert doc["incomplete"][0]["status"] == 403
    assert doc["unverified"] == [{"object": "shop/pod/web-1",
                                  "missing": "events could not be read (HTTP 403)"}]


def test_oomcheck_never_says_no_memory_kills_when_the_events_could_not_be_read():
    p = pod(ready=False, restarts=5,
            state={"waiting": {"reason": "CrashLoopBackOff",
                               "message": "back-off 2m40s restarting failed container=app"}},
            last={"terminated": {"exitCode": 1, "reason": "Error"}})
    report = run([p, pod(name="calm")], plugin="oomcheck", fail={"Event": server_error})
    text = render(report, "text", False, "oomcheck")
    assert set(report.unverified) == {"shop/pod/calm"}
    assert [f.reason for f in report.findings if f.object.name == "web-1" and f.rank >= 1] == ["PodNotHealthy"]
    assert "no memory kills" not in text
    assert "pod/calm -n shop: could not verify: events could not be read (HTTP 500)" in text
    assert report.exit_code() == 1
    assert report.to_dict()["incomplete"][0]["resource"] == "events"
