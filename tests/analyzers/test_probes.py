"""Probe failures and misconfigurations, diagnosed the way the runbook's Phase 6 does by hand."""

import json
import os

import pytest

from kdebug_core.analyzers.pod import probe_evidence, probes
from kdebug_core.analyzers.pod.probe_config import Probe, resolve_port
from kdebug_core.probe_now import MAX_REQUESTS, SCAN_HEALTHY_CHECKS
from kdebug_core.sources.files import FileBackend, load
from kdebug_core.view import ClusterView, ViewOptions
from tests.helpers import SCENARIOS, fixture, only, pod_context, view_of


def probe_fixture(name):
    return fixture("probes", name)


def findings_for(pod_name, *files, plugin="probecheck"):
    view = view_of(*[probe_fixture(f) for f in files])
    return probes.analyze(pod_context(view, pod_name, plugin))


def reasons(found):
    return sorted(f.reason for f in found)


def edited(tmp_path, name, change):
    """A copy of a fixture (JSON or YAML) with `change(doc)` applied: the same cluster, one fact
    different. Written as JSON under tmp_path."""
    import yaml
    with open(probe_fixture(name)) as fh:
        doc = json.load(fh) if name.endswith(".json") else yaml.safe_load(fh)
    change(doc)
    path = tmp_path / (os.path.splitext(name)[0] + ".json")
    path.write_text(json.dumps(doc))
    return str(path)


def items(doc, kind):
    return [o for o in doc["items"] if o["kind"] == kind]


def patch_body(suggestion):
    """The JSON body of a `kubectl patch ... -p '{...}'` suggestion."""
    body = suggestion.split(" -p ", 1)[1].split("  #", 1)[0].strip()
    assert body[0] == "'" and body[-1] == "'", suggestion
    return json.loads(body[1:-1])


def container_patch(suggestion):
    return patch_body(suggestion)["spec"]["template"]["spec"]["containers"][0]


# ---- the runbook's scenario 06 -------------------------------------------------------------------

def test_runbook_06_both_paths_404_restarts_and_the_fix_probes_root_for_both():
    view = view_of(os.path.join(SCENARIOS, "06-liveness-readiness"))
    found = probes.analyze(pod_context(view, "probe-test-84bd6894f8-zf4xl", "probecheck"))
    assert reasons(found) == ["LivenessProbeFailed", "ReadinessProbeFailed"]
    live, ready = only(found, "LivenessProbeFailed"), only(found, "ReadinessProbeFailed")
    for f, path in ((live, "/healthz"), (ready, "/ready")):
        assert f.cause == "HTTPStatus" and f.details["statusCode"] == 404
        assert f.container == "app" and f.severity == "error"
        assert path in f.summary and "404" in f.summary
    assert "killed the container 5 times" in live.summary and "(5 restarts)" in live.summary
    assert any("Killing (x5" in e for e in live.evidence)
    assert 'service "probe-test"' in ready.summary
    # Runbook Fix 1: probe / on port 80 for both, in one patch of the Deployment.
    fix = [s for s in live.suggestions if s.startswith("kubectl patch")][0]
    assert fix.startswith("kubectl patch deployment/probe-test -n default --type=strategic -p ")
    assert container_patch(fix) == {"name": "app",
                                    "livenessProbe": {"httpGet": {"path": "/", "port": 80}},
                                    "readinessProbe": {"httpGet": {"path": "/", "port": 80}}}
    assert fix in ready.suggestions
    # ... presented as a guess, with the command that checks it first.
    assert "guess" in fix.why
    # a GET as the kubelet sends it (curl -I would send a HEAD, which many frameworks answer 405)
    assert ("kubectl exec probe-test-84bd6894f8-zf4xl -n default -c app -- curl -s -o /dev/null "
            "-w '%{http_code}\\n' http://localhost:80/") in live.suggestions
    assert not any("curl -sI" in s or "curl -I" in s for s in live.suggestions)
    assert any(s.startswith("kubectl debug probe-test-84bd6894f8-zf4xl") for s in live.suggestions)


# ---- failing probes -----------------------------------------------------------------------------

def test_liveness_404_counts_failures_and_restarts_and_fixes_only_that_probe():
    found = findings_for("storefront-6c9f7d8b54-2xq7p", "liveness-404-restarts-exit-143.json")
    assert reasons(found) == ["LivenessProbeFailed"]
    f = found[0]
    assert (f.cause, f.container, f.severity) == ("HTTPStatus", "web", "error")
    assert f.details["failures"] == 14 and f.details["killedByProbe"] == 4 and f.details["restarts"] == 4
    assert f.details["firstFailure"].startswith("2026-11-20T09:50:13")
    assert "liveness probe failed at least 14 times, first 4m44s ago, last 0s ago" in f.evidence
    assert any("exit code 143 (Error) after 31s" in e for e in f.evidence)
    # The effective configuration in one line, with its budget.
    assert ("liveness: http-get http://:http/healthz delay=10s timeout=1s period=10s #success=1 #failure=3 "
            "(budget 30–40s: initialDelaySeconds 10, then failureThreshold 3 failed checks periodSeconds 10 apart, "
            "the first 0–10s after the delay)") in f.evidence
    patch = [s for s in f.suggestions if s.startswith("kubectl patch")][0]
    # The readiness probe works: only liveness moves, and the named port stays as written.
    assert container_patch(patch) == {"name": "web", "livenessProbe": {"httpGet": {"path": "/", "port": "http"}}}
    assert any("curl -s -o /dev/null -w '%{http_code}\\n' http://localhost:8080/" in s for s in f.suggestions)


def test_readiness_refused_on_a_port_the_container_does_not_have():
    found = findings_for("orders-api-7f9c6d5b8d-k4wzt", "readiness-refused-wrong-port.json")
    assert reasons(found) == ["ProbePortMismatch", "ReadinessProbeFailed"]
    failed, port = only(found, "ReadinessProbeFailed"), only(found, "ProbePortMismatch")
    assert failed.cause == "ConnectionRefused" and failed.details["failures"] == 91
    assert "refused on port 8080" in failed.summary and 'service "orders-api"' in failed.summary
    assert port.severity == "error" and port.cause == "PortNotDeclared"
    assert "8080" in port.summary and "3000/TCP (http)" in port.summary
    assert container_patch(port.suggestions[0]) == {"name": "api", "readinessProbe": {"httpGet": {"port": 3000}}}
    assert port.suggestions[0].startswith("kubectl patch deployment/orders-api -n shop --type=strategic")
    assert failed.suggestions == port.suggestions


def test_an_undeclared_numeric_port_with_no_refusals_is_only_informational(tmp_path):
    def healthy(doc):
        doc["items"] = [o for o in doc["items"] if o.get("reason") != "Unhealthy"]
        p = items(doc, "Pod")[0]
        p["status"]["containerStatuses"][0]["ready"] = True
        for c in p["status"]["conditions"]:
            c["status"] = "True"
    view = view_of(edited(tmp_path, "readiness-refused-wrong-port.json", healthy))
    found = probes.analyze(pod_context(view, "orders-api-7f9c6d5b8d-k4wzt", "probecheck"))
    assert reasons(found) == ["ProbePortMismatch"]
    assert found[0].severity == "info" and found[0].cause == "PortNotDeclared"


def test_exec_probe_failure_quotes_the_command_and_its_output():
    found = findings_for("heartbeat-5b7d9c4f6v-r8mvd", "exec-liveness-cat-file-missing.json")
    f = only(found, "LivenessProbeFailed")
    assert f.cause == "ExecFailed" and f.container == "worker"
    assert "`cat /tmp/healthy`" in f.summary
    assert "can't open '/tmp/healthy': No such file or directory" in f.summary
    assert f.details["output"] == "cat: can't open '/tmp/healthy': No such file or directory"
    assert "killed the container 3 times" in f.summary
    assert any("exit code 137 (Error)" in e for e in f.evidence)
    assert f.suggestions[0].startswith("kubectl exec heartbeat-5b7d9c4f6v-r8mvd -n default -c worker -- "
                                       "cat /tmp/healthy")
    assert "exec [cat /tmp/healthy]" in " ".join(f.evidence)


def test_startup_probe_timeouts_kill_a_slow_jvm_and_the_fix_raises_its_threshold():
    found = findings_for("ledger-0", "startup-probe-timeout-statefulset.json")
    assert reasons(found) == ["StartupProbeFailed"]
    f = found[0]
    assert f.cause == "Timeout"  # the latest failures; the earlier ones were refused
    assert f.details["causes"] == ["ConnectionRefused", "Timeout"] and f.details["failures"] == 22
    assert any("connection refused" in e for e in f.evidence)
    assert any("Client.Timeout exceeded" in e for e in f.evidence)
    assert "before it finished starting" in f.summary
    assert any("Killing (x3" in e for e in f.evidence)
    # The owner is the StatefulSet; a startup budget of 30s becomes 150s.
    assert container_patch(f.suggestions[0]) == {"name": "ledger", "startupProbe": {"failureThreshold": 30}}
    assert f.suggestions[0].startswith("kubectl patch statefulset/ledger -n payments")
    assert "150s to start" in f.fixes[0].why


def test_readiness_timeouts_read_from_events_k8s_io_v1():
    found = findings_for("quotes-api-6b8f9d7c54-vl2xz", "readiness-timeout-events-k8s-io-v1.json")
    f = only(found, "ReadinessProbeFailed")
    assert f.cause == "Timeout" and f.details["failures"] == 58
    assert "within 1s" in f.summary
    assert container_patch(f.suggestions[-1]) == {"name": "app", "readinessProbe": {"timeoutSeconds": 5}}


def test_an_older_kubelet_wording_still_counts_the_kills():
    found = findings_for("legacy-billing-7c9d8b6f5-8xk2w", "liveness-timeout-older-kubelet-wording.json")
    f = only(found, "LivenessProbeFailed")
    assert f.cause == "Timeout" and f.details["killedByProbe"] == 4
    assert any("Container will be killed and recreated" in e for e in f.evidence)
    # It ran for ten minutes before the timeouts began: not a slow start.
    assert "LivenessKillsSlowStart" not in reasons(found)


# ---- slow starters ------------------------------------------------------------------------------

def test_a_slow_starter_killed_by_liveness_gets_a_startup_probe_not_a_longer_delay():
    found = findings_for("inference-api-58d6b9c7f4-hz6vq", "slow-start-killed-by-liveness.json",
                         "slow-start-killed-by-liveness.logs.txt")
    # One diagnosis: the readiness refusals and liveness failures are what a slow start looks like.
    assert reasons(found) == ["LivenessKillsSlowStart"]
    f = found[0]
    assert f.cause == "ConnectionRefused" and f.severity == "error" and f.container == "server"
    assert "before it has finished starting" in f.summary and "each time 30–40s after it started" in f.summary
    text = "\n".join(f.evidence)
    assert "never ready" in text and "loaded 47/48 weight shards" in text
    assert "the last run lasted 60s" in text
    startup = container_patch(f.suggestions[0])["startupProbe"]
    assert startup == {"httpGet": {"path": "/health", "port": 8080, "scheme": "HTTP"},
                       "periodSeconds": 10, "failureThreshold": 30}
    assert "initialDelaySeconds" not in f.suggestions[0]
    assert (f.suggestions[1], f.fixes[1].why) == (
        "kubectl logs inference-api-58d6b9c7f4-hz6vq -n ml -c server --previous", "how far did startup get?")


def test_a_slow_start_is_seen_from_the_status_alone_when_events_are_gone():
    found = findings_for("thumbnailer-6f8b7c9d5-mx2kq", "status-only-killed-before-ready.json")
    f = only(found, "LivenessKillsSlowStart")
    assert f.cause is None
    assert any("no Unhealthy or Killing events" in e for e in f.evidence)
    assert any("exit code 137 (Error) after 45s" in e for e in f.evidence)
    assert f.suggestions[0].startswith("kubectl patch deployment/thumbnailer -n default")


def test_a_container_that_ran_for_hours_is_not_a_slow_starter():
    found = findings_for("report-api-84d7c9b6f5-q9z8x", "status-only-liveness-kill-after-hours.json")
    assert reasons(found) == ["LivenessProbeFailed"]
    f = found[0]
    assert f.cause is None and f.severity == "error"
    assert "exit code 137, not an OOM kill" in f.summary and "7 restarts" in f.summary
    assert f.details["certainty"] == "status-only" and "no event is left" in f.summary
    assert any("after 3h" in e for e in f.evidence)


def test_a_kill_that_is_not_a_signal_is_not_blamed_on_the_probe(tmp_path):
    def oom(doc):
        doc["status"]["containerStatuses"][0]["lastState"]["terminated"]["reason"] = "OOMKilled"
    view = view_of(edited(tmp_path, "status-only-liveness-kill-after-hours.json", oom))
    assert probes.analyze(pod_context(view, "report-api-84d7c9b6f5-q9z8x", "probecheck")) == []


# ---- configuration ------------------------------------------------------------------------------

def test_a_probe_port_name_the_container_lacks_is_an_error_for_each_probe():
    found = findings_for("go-api-6cd9c47c75-pq269", "named-probe-port-missing.json")
    assert reasons(found) == ["ProbePortMismatch", "ProbePortMismatch"]
    by_probe = {f.details["probe"]: f for f in found}
    ready = by_probe["readiness"]
    assert ready.severity == "error" and ready.cause == "PortNameNotFound"
    assert 'port name "http"' in ready.summary and "never becomes ready" in ready.summary
    assert any("strconv.Atoi: parsing" in e for e in ready.evidence)
    assert container_patch(ready.suggestions[0]) == {"name": "api", "readinessProbe": {"httpGet": {"port": 8080}}}
    assert "never restarts a hung container" in by_probe["liveness"].summary


def test_the_older_errored_wording_for_a_missing_port_name(tmp_path):
    def older(doc):
        for e in items(doc, "Event"):
            e["message"] = e["message"].replace(" and resulted in unknown state", "")
    view = view_of(edited(tmp_path, "named-probe-port-missing.json", older))
    found = probes.analyze(pod_context(view, "go-api-6cd9c47c75-pq269", "probecheck"))
    assert reasons(found) == ["ProbePortMismatch", "ProbePortMismatch"]
    assert any('Readiness probe errored: strconv.Atoi: parsing "http"' in e for f in found for e in f.evidence)


def test_no_readiness_probe_behind_a_service_warns_for_the_serving_container_only():
    found = findings_for("checkout-5f6d8c7b9x-t7hkp", "no-readiness-probe-behind-service.json")
    f = only(found, "NoReadinessProbe")
    assert f.container == "checkout" and f.severity == "warning"  # not the log-shipper sidecar
    assert 'service "checkout"' in f.summary
    assert container_patch(f.suggestions[0]) == {
        "name": "checkout", "readinessProbe": {"tcpSocket": {"port": 8080}, "periodSeconds": 10}}


@pytest.mark.parametrize("change", ["other-selector", "publish-not-ready", "no-selector"])
def test_no_readiness_probe_needs_a_service_that_waits_for_readiness(tmp_path, change):
    def edit(doc):
        spec = items(doc, "Service")[0]["spec"]
        if change == "other-selector":
            spec["selector"] = {"app": "payments"}
        elif change == "publish-not-ready":
            spec["publishNotReadyAddresses"] = True
        else:
            del spec["selector"]
    view = view_of(edited(tmp_path, "no-readiness-probe-behind-service.json", edit))
    assert probes.analyze(pod_context(view, "checkout-5f6d8c7b9x-t7hkp", "probecheck")) == []


def test_identical_liveness_and_readiness_is_advice():
    found = findings_for("recommendations-7d9c5b8f6q-b6l4s", "liveness-same-as-readiness.json")
    f = only(found, "LivenessEqualsReadiness")
    assert f.severity == "info" and reasons(found) == ["LivenessEqualsReadiness"]
    assert container_patch(f.suggestions[0]) == {
        "name": "api", "livenessProbe": {"httpGet": None, "tcpSocket": {"port": "http"}}}


def test_a_healthy_pod_with_start_up_probe_noise_has_no_finding():
    assert findings_for("catalog-7b4d9f8c6d-w2n5j", "healthy-probes-start-up-noise.json") == []


def test_readiness_that_fails_again_long_after_start_is_a_warning(tmp_path):
    def flapping(doc):
        ev = [e for e in items(doc, "Event") if "Readiness" in e.get("message", "")][0]
        ev["count"], ev["lastTimestamp"] = 9, "2026-11-20T09:41:50Z"
    view = view_of(edited(tmp_path, "healthy-probes-start-up-noise.json", flapping))
    found = probes.analyze(pod_context(view, "catalog-7b4d9f8c6d-w2n5j", "probecheck"))
    f = only(found, "ReadinessProbeFailed")
    assert f.severity == "warning" and "drops out of the endpoints" in f.summary


def test_probe_findings_carry_the_owner_and_object():
    f = findings_for("storefront-6c9f7d8b54-2xq7p", "liveness-404-restarts-exit-143.json", plugin="why")[0]
    assert f.plugin == "probecheck"
    assert (f.owner.kind, f.owner.name) == ("Deployment", "storefront")
    assert (f.object.kind, f.object.namespace, f.object.name) == ("Pod", "shop", "storefront-6c9f7d8b54-2xq7p")


# ---- message parsing and configuration helpers -------------------------------------------------

@pytest.mark.parametrize("body,handler,errored,expected", [
    ("HTTP probe failed with statuscode: 404", "httpGet", False, ("HTTPStatus", 404)),
    ("HTTP probe failed with statuscode: 503", "httpGet", False, ("HTTPStatus", 503)),
    ('Get "http://10.244.0.163:3000/ready": dial tcp 10.244.0.163:3000: connect: connection refused',
     "httpGet", False, ("ConnectionRefused", None)),
    ('Get "http://10.1.2.3:8080/health": context deadline exceeded (Client.Timeout exceeded while '
     'awaiting headers)', "httpGet", False, ("Timeout", None)),
    ("Get http://10.244.0.7:8080/healthz: net/http: request canceled (Client.Timeout exceeded while "
     "awaiting headers)", "httpGet", False, ("Timeout", None)),
    ("dial tcp 10.244.1.5:6379: i/o timeout", "tcpSocket", False, ("Timeout", None)),
    ("dial tcp 10.244.1.5:6379: connect: connection refused", "tcpSocket", False, ("ConnectionRefused", None)),
    ("cat: can't open '/tmp/healthy': No such file or directory", "exec", False, ("ExecFailed", None)),
    ("", "exec", False, ("ExecFailed", None)),
    ('command "pg_isready -U app" timed out', "exec", False, ("Timeout", None)),
    ('service unhealthy (responded with "NOT_SERVING")', "grpc", False, ("GRPCNotServing", None)),
    ('Get "http://10.1.2.3:8080/": read tcp 10.1.0.1:51234->10.1.2.3:8080: read: connection reset by peer',
     "httpGet", False, ("ConnectionReset", None)),
    ('strconv.Atoi: parsing "http": invalid syntax', "httpGet", True, ("PortNotFound", None)),
])
def test_probe_failure_messages_are_classified(body, handler, errored, expected):
    assert probe_evidence.classify(body, handler, errored) == expected


def test_probe_defaults_and_budget_for_a_manifest_without_them():
    p = Probe("liveness", {"httpGet": {"path": "/healthz", "port": 8080}, "initialDelaySeconds": 15})
    assert (p.period, p.timeout, p.failure_threshold, p.success_threshold) == (10, 1, 3, 1)
    # the kubelet's checks tick from the worker's start: the first counted one lands 0-10s after the delay
    assert (p.budget_min, p.budget) == (35, 45)
    assert p.describe() == ("liveness: http-get http://:8080/healthz delay=15s timeout=1s period=10s "
                            "#success=1 #failure=3 (budget 35–45s: initialDelaySeconds 15, then failureThreshold "
                            "3 failed checks periodSeconds 10 apart, the first 0–10s after the delay)")
    one = Probe("readiness", {"tcpSocket": {"port": 80}, "failureThreshold": 1, "periodSeconds": 5})
    assert (one.budget_min, one.budget, one.budget_range()) == (0, 5, "0–5s")
    assert Probe("liveness", {"exec": {"command": ["cat", "/tmp/healthy"]}}).target() == "exec [cat /tmp/healthy]"


def test_probe_ports_resolve_like_the_kubelet():
    spec = {"ports": [{"name": "http", "containerPort": 3000, "protocol": "TCP"}]}
    assert resolve_port(spec, "http") == (3000, "declared")
    assert resolve_port(spec, 3000) == (3000, "declared")
    assert resolve_port(spec, "3000") == (3000, "declared")  # an int written as a string
    assert resolve_port(spec, 8080) == (8080, "undeclared")
    assert resolve_port(spec, "metrics") == (None, "missing-name")
    assert resolve_port({}, 8080) == (8080, "no-ports")


# ---- --probe-now -------------------------------------------------------------------------------

class ProxyBackend(FileBackend):
    """Files for the objects, plus the API server's pod proxy, as the live backend offers it."""

    offline = False

    def __init__(self, loaded, answers):
        super().__init__(loaded)
        self.answers = answers
        self.paths = []
        self.timeout = 30.0
        self.timeouts = []

    def raw_get(self, path, accept="*/*", timeout=None):
        self.paths.append(path)
        self.timeouts.append(timeout)
        answer = self.answers(path)
        return answer[0], answer[1]


def status_body(code, reason, message):
    return json.dumps({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
                       "message": message, "reason": reason, "code": code})


def live_view(files, answers, probe_now=True, scan=False):
    backend = ProxyBackend(load([probe_fixture(f) for f in files]), answers)
    view = ClusterView(backend, ViewOptions(namespace=None, scan=scan))
    view.probe_now = probe_now
    return view, backend


def test_probe_now_gets_the_probe_path_through_the_pod_proxy_and_shows_the_answer():
    view, backend = live_view(["liveness-404-restarts-exit-143.json"],
                              lambda path: (404, "<html><body>Cannot GET /healthz</body></html>")
                              if path.endswith("/healthz") else (200, "ok"))
    found = probes.analyze(pod_context(view, "storefront-6c9f7d8b54-2xq7p", "probecheck"))
    assert sorted(backend.paths) == [
        "/api/v1/namespaces/shop/pods/storefront-6c9f7d8b54-2xq7p:8080/proxy/healthz",
        "/api/v1/namespaces/shop/pods/storefront-6c9f7d8b54-2xq7p:8080/proxy/readyz"]
    f = only(found, "LivenessProbeFailed")
    line = [e for e in f.evidence if e.startswith("probe now:")]
    assert len(line) == 1 and line[0].startswith("probe now: GET /healthz → 404 (port 8080, ")
    assert "the kubelet's events say 404" in line[0]
    assert f.details["probeNow"]["status"] == 404
    # the healthy readiness probe is reported as a note, not a finding
    assert any("readiness probe now: GET /readyz → 200" in n for n in view.notes)
    # a short timeout for the proxy request, then the connection's own again
    assert backend.timeouts == [5.0, 5.0] and backend.timeout == 30.0


def test_probe_now_is_off_unless_asked():
    view, backend = live_view(["liveness-404-restarts-exit-143.json"], lambda p: (200, ""), probe_now=False)
    probes.analyze(pod_context(view, "storefront-6c9f7d8b54-2xq7p", "probecheck"))
    assert backend.paths == [] and view.notes == []


def test_probe_now_is_never_used_on_files():
    view = view_of(probe_fixture("liveness-404-restarts-exit-143.json"))
    view.probe_now = True
    found = probes.analyze(pod_context(view, "storefront-6c9f7d8b54-2xq7p", "probecheck"))
    assert not any(e.startswith("probe now:") for f in found for e in f.evidence)
    assert view.notes == ["--probe-now needs a live cluster: ignored when reading files (-f)"]


def test_probe_now_forbidden_says_so_once_and_stops():
    forbidden = status_body(403, "Forbidden", 'pods "x" is forbidden: User "jane" cannot get resource '
                                              '"pods/proxy" in API group "" in the namespace "shop"')
    view, backend = live_view(["liveness-404-restarts-exit-143.json", "readiness-refused-wrong-port.json"],
                              lambda path: (403, forbidden))
    for pod in ("storefront-6c9f7d8b54-2xq7p", "orders-api-7f9c6d5b8d-k4wzt"):
        probes.analyze(pod_context(view, pod, "probecheck"))
    assert len(backend.paths) == 1
    assert len(view.notes) == 1 and "forbids the pod proxy" in view.notes[0] and "pods/proxy" in view.notes[0]


def test_probe_now_reports_a_refused_port_as_the_api_server_says_it():
    refused = status_body(503, "ServiceUnavailable", "error trying to reach service: dial tcp "
                                                     "10.244.1.17:8080: connect: connection refused")
    view, backend = live_view(["readiness-refused-wrong-port.json"], lambda path: (503, refused))
    found = probes.analyze(pod_context(view, "orders-api-7f9c6d5b8d-k4wzt", "probecheck"))
    assert backend.paths == ["/api/v1/namespaces/shop/pods/orders-api-7f9c6d5b8d-k4wzt:8080/proxy/ready"]
    f = only(found, "ReadinessProbeFailed")
    line = [e for e in f.evidence if e.startswith("probe now:")][0]
    assert line.startswith("probe now: GET /ready → connection refused (port 8080")
    assert "the kubelet's events say ConnectionRefused" in line


def test_probe_now_asks_an_endpoint_shared_by_two_probes_once():
    view, backend = live_view(["liveness-same-as-readiness.json"], lambda path: (200, "ok"))
    probes.analyze(pod_context(view, "recommendations-7d9c5b8f6q-b6l4s", "probecheck"))
    assert backend.paths == ["/api/v1/namespaces/shop/pods/recommendations-7d9c5b8f6q-b6l4s:8080/proxy/health"]


def test_probe_now_uses_the_https_form_for_https_probes(tmp_path):
    def https(doc):
        items(doc, "Pod")[0]["spec"]["containers"][0]["livenessProbe"]["httpGet"]["scheme"] = "HTTPS"
    path = edited(tmp_path, "liveness-404-restarts-exit-143.json", https)
    backend = ProxyBackend(load([path]), lambda p: (200, "ok"))
    view = ClusterView(backend, ViewOptions(namespace=None))
    view.probe_now = True
    probes.analyze(pod_context(view, "storefront-6c9f7d8b54-2xq7p", "probecheck"))
    assert "/api/v1/namespaces/shop/pods/https:storefront-6c9f7d8b54-2xq7p:8080/proxy/healthz" in backend.paths


def test_probe_now_gives_the_cause_when_the_events_are_gone():
    view, backend = live_view(["status-only-liveness-kill-after-hours.json"],
                              lambda path: (404, "404 page not found") if path.endswith("/healthz")
                              else (200, "ok"))
    found = probes.analyze(pod_context(view, "report-api-84d7c9b6f5-q9z8x", "probecheck"))
    f = only(found, "LivenessProbeFailed")
    assert f.cause == "HTTPStatus" and f.details["statusCode"] == 404
    assert any(e.startswith("probe now: GET /healthz → 404") for e in f.evidence)


@pytest.mark.parametrize("ready,expected", [(False, MAX_REQUESTS), (True, SCAN_HEALTHY_CHECKS)])
def test_probe_now_is_bounded_in_scans(tmp_path, ready, expected):
    """30 pods with two HTTP probes each: at most 20 proxy GETs, and only 5 for pods that look fine."""
    with open(probe_fixture("liveness-404-restarts-exit-143.json")) as fh:
        doc = json.load(fh)
    pod = items(doc, "Pod")[0]
    pod["status"]["containerStatuses"][0]["ready"] = ready
    pods = []
    for i in range(30):
        p = json.loads(json.dumps(pod))
        p["metadata"]["name"] = f"storefront-6c9f7d8b54-x{i:04d}"
        p["metadata"]["uid"] = f"00000000-0000-4000-8000-{i:012d}"
        pods.append(p)
    path = tmp_path / "many.json"
    path.write_text(json.dumps({"apiVersion": "v1", "kind": "List", "items": pods}))
    backend = ProxyBackend(load([str(path)]), lambda p: (200, "ok"))
    view = ClusterView(backend, ViewOptions(namespace=None, scan=True))
    view.probe_now = True
    for p in pods:
        probes.analyze(pod_context(view, p["metadata"]["name"], "probecheck"))
    assert len(backend.paths) == expected
    assert any("at most 20 probes per run" in n for n in view.notes) == (not ready)


def test_probe_now_sends_nothing_to_a_container_waiting_to_restart(tmp_path):
    """06 as captured, a moment later: the container waits in CrashLoopBackOff (the capture caught it
    running its sixth run)."""
    with open(os.path.join(SCENARIOS, "06-liveness-readiness", "cluster-state.json")) as fh:
        doc = json.load(fh)
    for pod in items(doc, "Pod"):
        pod["status"]["containerStatuses"][0]["state"] = {"waiting": {
            "reason": "CrashLoopBackOff",
            "message": f"back-off 1m20s restarting failed container=app pod={pod['metadata']['name']}_default("
                       f"{pod['metadata']['uid']})"}}
    path = tmp_path / "06-waiting.json"
    path.write_text(json.dumps(doc))
    backend = ProxyBackend(load([str(path)]), lambda p: (200, "ok"))
    view = ClusterView(backend, ViewOptions(namespace=None))
    view.probe_now = True
    found = probes.analyze(pod_context(view, "probe-test-84bd6894f8-zf4xl", "probecheck"))
    assert backend.paths == []
    live = only(found, "LivenessProbeFailed")
    assert "probe now: GET /healthz not sent (container app is not running now: CrashLoopBackOff)" in live.evidence
    assert live.cause == "HTTPStatus"  # still the events' verdict


def test_liveness_failing_without_a_kill_yet_is_a_warning(tmp_path):
    def misses(doc):
        ev = json.loads(json.dumps([e for e in items(doc, "Event") if "Readiness" in e.get("message", "")][0]))
        ev["message"] = "Liveness probe failed: HTTP probe failed with statuscode: 500"
        ev["count"], ev["firstTimestamp"], ev["lastTimestamp"] = 2, "2026-11-20T09:41:30Z", "2026-11-20T09:41:40Z"
        ev["metadata"]["name"] += "1"
        doc["items"].append(ev)
    view = view_of(edited(tmp_path, "healthy-probes-start-up-noise.json", misses))
    found = probes.analyze(pod_context(view, "catalog-7b4d9f8c6d-w2n5j", "probecheck"))
    f = only(found, "LivenessProbeFailed")
    assert f.severity == "warning" and f.details["statusCode"] == 500
    assert "3 failures in a row restart the container" in f.summary


# ---- verdicts from whatever evidence is left (issue 9 §2) ----------------------------------------

def test_liveness_failures_and_back_offs_without_a_killing_event_are_an_inferred_liveness_kill():
    """rancher/rancher#31371: Unhealthy x340 and BackOff x1283, no Killing event, no last state."""
    found = findings_for("rancher-6b774d9468-2lwh6", "liveness-refused-backoff-no-killing-rancher.yaml")
    live = only(found, "LivenessProbeFailed")
    assert live.severity == "error" and live.cause == "ConnectionRefused" and live.container == "rancher"
    assert "is refused on port 80 (340 failures recorded)" in live.summary
    assert "it keeps restarting" in live.summary
    assert "no Killing event is left to prove the liveness probe killed it" in live.summary
    assert "killed by its liveness probe" not in live.summary
    assert live.details["certainty"] == "inferred"
    assert "340 liveness failures recorded (failureThreshold 3)" in live.details["inferredFrom"]
    assert "BackOff events (x1283)" in live.details["inferredFrom"]
    assert "no record of the last exit" in live.details["inferredFrom"]
    assert any(e.startswith("inferred, not seen: no Killing event names the liveness probe")
               for e in live.evidence)
    assert any("Back-off" not in e and "x340" in e for e in live.evidence)


def test_an_inferred_liveness_kill_supersedes_the_crash_loop_in_why():
    from kdebug_core.analyzers import SUPERSEDED_BY, crashloop
    view = view_of(probe_fixture("liveness-refused-backoff-no-killing-rancher.yaml"))
    ctx = pod_context(view, "rancher-6b774d9468-2lwh6", "why")
    found = probes.analyze(ctx) + crashloop.analyze(ctx)
    assert "LivenessProbeFailed" in reasons(found)
    assert "LivenessProbeFailed" in SUPERSEDED_BY["CrashLoopBackOff"]


def test_a_killing_event_makes_the_verdict_confirmed():
    """The same pod with the kubelet's Killing event still there: 'killed by its liveness probe'."""
    found = findings_for("probe-test-84bd6894f8-zf4xl", os.path.join(SCENARIOS, "06-liveness-readiness"))
    live = only(found, "LivenessProbeFailed")
    assert live.details["certainty"] == "confirmed" and "inferredFrom" not in live.details
    assert live.summary.count("killed by its liveness probe: the kubelet killed the container 5 times") == 1
    assert "no Killing event" not in live.summary


def test_a_container_that_exits_by_itself_is_not_blamed_on_its_failing_liveness_probe(tmp_path):
    """Liveness failures around an app that exits 1: the crash explains the failures, not the reverse."""
    def crash(doc):
        pod = items(doc, "Pod")[0]
        pod["status"]["containerStatuses"][0]["restartCount"] = 12
        pod["status"]["containerStatuses"][0]["lastState"] = {
            "terminated": {"exitCode": 1, "reason": "Error"}}
    path = edited(tmp_path, "liveness-refused-backoff-no-killing-rancher.yaml", crash)
    found = probes.analyze(pod_context(view_of(path), "rancher-6b774d9468-2lwh6", "probecheck"))
    assert "LivenessProbeFailed" not in reasons(found)


def test_startup_failures_past_the_threshold_and_recreations_are_an_inferred_startup_kill():
    """kube-prometheus#1674: Startup probe 503 x1741, Created x30, no Killing event, no status."""
    found = findings_for("prometheus-k8s-0", "startup-503-no-killing-prometheus.yaml")
    start = only(found, "StartupProbeFailed")
    assert start.severity == "error" and start.cause == "HTTPStatus"
    assert start.details["statusCode"] == 503 and start.details["certainty"] == "inferred"
    assert "gets HTTP 503 for /-/ready on port 9090 (1741 failures recorded)" in start.summary
    assert "no Killing event is left to prove the startup probe killed it" in start.summary
    assert "1741 startup failures recorded (failureThreshold 60)" in start.details["inferredFrom"]
    assert "created 30 times (Created events)" in start.details["inferredFrom"]
    assert "ReadinessProbeFailed" not in reasons(found)


def test_startup_failures_below_the_threshold_with_no_restart_are_still_starting(tmp_path):
    def young(doc):
        for ev in items(doc, "Event"):
            if ev["reason"] == "Unhealthy":
                ev["count"] = 12
            if ev["reason"] in ("Created", "Pulled"):
                ev["count"] = 1
    path = edited(tmp_path, "startup-503-no-killing-prometheus.yaml", young)
    found = probes.analyze(pod_context(view_of(path), "prometheus-k8s-0", "probecheck"))
    assert "StartupProbeFailed" not in reasons(found)


def test_liveness_kills_of_an_app_that_exits_0_on_sigterm_are_inferred():
    """kubernetes/kubernetes#109537: httpd exits 0 when the liveness probe (404) has it stopped."""
    found = findings_for("liveness", "liveness-404-exit-0-httpd.yaml")
    live = only(found, "LivenessProbeFailed")
    assert live.cause == "HTTPStatus" and live.details["statusCode"] == 404
    assert live.details["certainty"] == "inferred" and live.severity == "error"
    assert "last exit code 0 (an app that shuts down cleanly on SIGTERM)" in live.details["inferredFrom"]
    assert "2 restarts" in live.summary


@pytest.mark.parametrize("message", [
    "Liveness probe failed: HTTP probe failed with statuscode: 404",
    "liveness probe failed: HTTP probe failed with statuscode: 404",
    "LIVENESS PROBE FAILED: HTTP probe failed with statuscode: 404",
])
def test_the_kubelets_fixed_prefix_is_matched_whatever_its_case(tmp_path, message):
    def reworded(doc):
        items(doc, "Event")[0]["message"] = message
    path = edited(tmp_path, "liveness-404-exit-0-httpd.yaml", reworded)
    found = probes.analyze(pod_context(view_of(path), "liveness", "probecheck"))
    assert only(found, "LivenessProbeFailed").details["statusCode"] == 404


@pytest.mark.parametrize("message, container, kind", [
    # kuberuntime (1.1x-1.3x): kubernetes/kubernetes pkg/kubelet/kuberuntime computePodActions
    ("Container router failed liveness probe, will be restarted", "router", "liveness"),
    ("Container ad failed startup probe, will be restarted", "ad", "startup"),
    # dockershim, before 1.10: fossasia/open-event-server#4633
    ("Killing container with id docker://api-server:Container failed liveness probe.. Container will "
     "be killed and recreated.", "api-server", "liveness"),
    # Kubernetes 1.3 (openshift/origin#17154)
    ('Killing container with docker id 5dc225aababe: pod  "router-2-snkr4_(a745fe1c-bff2-11e7-8280-'
     '02054b51d9c9)" container  "router" is unhealthy, it will be killed and re-created.', "router",
     "liveness"),
])
def test_killing_events_of_every_release_name_the_probe(tmp_path, message, container, kind):
    def killed(doc):
        pod = items(doc, "Pod")[0]
        pod["spec"]["containers"][0]["name"] = container
        pod["status"]["containerStatuses"][0]["name"] = container
        doc["items"].append({"apiVersion": "v1", "kind": "Event", "metadata": {"name": "k", "namespace": "default"},
                             "involvedObject": {"kind": "Pod", "namespace": "default", "name": "liveness"},
                             "reason": "Killing", "type": "Normal", "message": message,
                             "lastTimestamp": "2022-04-19T08:00:46Z"})
    path = edited(tmp_path, "liveness-404-exit-0-httpd.yaml", killed)
    ctx = pod_context(view_of(path), "liveness", "probecheck")
    c = ctx.container(container)
    assert list(probe_evidence.read_kills(ctx, c)) == [kind]


def test_a_dockershim_killing_event_about_another_container_is_not_this_ones(tmp_path):
    def sidecar_killed(doc):
        doc["items"].append({"apiVersion": "v1", "kind": "Event", "metadata": {"name": "k", "namespace": "default"},
                             "involvedObject": {"kind": "Pod", "namespace": "default", "name": "liveness"},
                             "reason": "Killing", "type": "Normal", "lastTimestamp": "2022-04-19T08:00:46Z",
                             "message": 'Killing container with docker id 5dc225aababe: pod "liveness_(x)" '
                                        'container "sidecar" is unhealthy, it will be killed and re-created.'})
    path = edited(tmp_path, "liveness-404-exit-0-httpd.yaml", sidecar_killed)
    ctx = pod_context(view_of(path), "liveness", "probecheck")
    assert probe_evidence.read_kills(ctx, ctx.container("liveness")) == {}


def test_an_events_only_dump_past_the_threshold_is_an_inferred_kill_that_says_what_it_rests_on(tmp_path):
    """cloudnativelabs/kube-router#831: one Unhealthy line (x19), no status, no probe settings."""
    def events_only(doc):
        pod = items(doc, "Pod")[0]
        del pod["status"]
        del pod["spec"]["containers"][0]["livenessProbe"]
        doc["items"] = [o for o in doc["items"] if o.get("reason") != "BackOff"]
        items(doc, "Event")[0].update(count=19,
                                      message="Liveness probe failed: HTTP probe failed with statuscode: 500")
    path = edited(tmp_path, "liveness-refused-backoff-no-killing-rancher.yaml", events_only)
    found = probes.analyze(pod_context(view_of(path), "rancher-6b774d9468-2lwh6", "probecheck"))
    live = only(found, "LivenessProbeFailed")
    assert live.cause == "HTTPStatus" and live.details["certainty"] == "inferred"
    assert "19 failures are past its failureThreshold of 3, so the kubelet restarts the container" in live.summary
    assert "no container status recorded" in live.details["inferredFrom"]
    assert any("settings were not recorded" in b for b in live.details["inferredFrom"])


def test_readiness_failures_of_an_events_only_dump_are_reported_without_a_status():
    """istio/istio#23410: Readiness 503 x298, no container status, no probe spec."""
    found = findings_for("app-with-sidecar", "readiness-503-events-only-istio-proxy.yaml")
    f = only(found, "ReadinessProbeFailed")
    assert f.container == "istio-proxy" and f.cause == "HTTPStatus" and f.severity == "error"
    assert f.summary.startswith("the readiness probe of container istio-proxy gets HTTP 503 (298 failures recorded)")
    assert " on port ?" not in f.summary and " for  " not in f.summary


def test_a_killing_event_alone_is_a_confirmed_liveness_kill_even_without_unhealthy_events():
    """aws-samples/eks-blueprints-for-terraform-workshop#24: only Killing, Created x2."""
    f = only(findings_for("carts-66c7c59ddf-64lsb", "killing-only-no-unhealthy-events-eks.yaml"),
             "LivenessProbeFailed")
    assert f.details["certainty"] == "confirmed" and f.severity == "error" and f.cause is None
    assert "killed by its liveness probe" in f.summary and "(created 2 times)" in f.summary
    assert "its Unhealthy events are not on record" in f.summary
    assert not any(e.startswith("no Unhealthy or Killing events") for e in f.evidence)
    assert "kubectl logs carts-66c7c59ddf-64lsb -n carts -c carts --previous" in f.suggestions


def test_created_events_of_a_pasted_describe_count_only_for_the_container_they_name():
    from kdebug_core.analyzers.pod.probe_evidence import _names_container
    io = {"kind": "Pod", "name": "p"}
    assert _names_container({"involvedObject": io, "message": "Created container carts"}, "carts")
    assert not _names_container({"involvedObject": io, "message": "Created container istio-proxy"}, "carts")
    # dockershim's old form names no container
    assert _names_container({"involvedObject": io, "message": "Created container with docker id 84ca35d0421b"}, "x")
    assert _names_container({"involvedObject": dict(io, fieldPath="spec.containers{a}"),
                             "message": "Created container b"}, "a")
