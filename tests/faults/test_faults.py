"""A flaky, throttled or locked-down API server never turns into a wrong verdict (issue 11).

Each plugin runs (in-process, through `kdebug_core.main.run`, as the executables do) against the
stand-in API server with one fault injected (tests/standin/faults.py), single target and `-A`:

* a transient fault (one 500, a 503 or 429 with Retry-After, a reset, a truncated body, a 410 on
  a continue token, a proxy's 502 page) changes no finding: same findings and exit code as the
  run without the fault;
* a persistent fault on a read other than the subject gives exit 1 (problems found) or 3 (nothing
  found, something unread), never 0, and `-o json` lists the failed read under `incomplete`;
* the subject unreadable (403, 401, an HTML page, no answer) is exit 3 with one clear line.

Short Retry-After values and --request-timeout keep the whole suite well under a minute.
"""

import io
import json
import time
from typing import List, Optional, Tuple

import pytest

from kdebug_core.main import run
from kdebug_core.sources import live
from kdebug_core.sources.files import load
from tests.e2e.conftest import scenario, server_logs
from tests.standin.faults import Fault, FaultyStandIn

# (plugin, scenario, single target)
PLUGINS = [
    ("why", "02-crashloop-backoff", "crasher-859cdd79dd-fp4lk"),
    ("oomcheck", "31-node-oom", "batch-import-7xk4d9bfwq-h2xnr"),
    ("probecheck", "06-liveness-readiness", "probe-test-84bd6894f8-zf4xl"),
    ("endpoints-check", "04-service-connectivity", "svc/backend-service"),
]
# The subject's collection in each plugin's requests.
SUBJECT = {"why": r"/pods(/[^/]+)?$", "oomcheck": r"/pods(/[^/]+)?$", "probecheck": r"/pods(/[^/]+)?$",
           "endpoints-check": r"/services(/[^/]+)?$"}
# A read every run of the plugin makes besides its subject: events (the pod plugins) and pods
# (endpoints-check reads the Service's pods).
OTHER = {"why": r"/events$", "oomcheck": r"/events$", "probecheck": r"/events$",
         "endpoints-check": r"/pods$"}
TIMEOUT = "2s"
SHORT = "0.6s"   # where every read of a run may wait for the deadline


class Outcome:
    def __init__(self, code: int, stdout: str, stderr: str, elapsed: float, server: FaultyStandIn):
        self.code, self.stdout, self.stderr, self.elapsed, self.server = code, stdout, stderr, elapsed, server

    @property
    def doc(self) -> dict:
        return json.loads(self.stdout) if self.stdout.strip() else {}

    def findings(self) -> List[Tuple[str, str, Optional[str]]]:
        return sorted((f["reason"], f["object"]["name"], f.get("container"))
                      for f in self.doc.get("findings", []))

    def incomplete(self) -> List[dict]:
        return self.doc.get("incomplete") or []

    def __repr__(self):
        return f"exit {self.code} in {self.elapsed:.1f}s\n{self.stdout[-1500:]}\n{self.stderr}"


@pytest.fixture
def plugin_run(tmp_path):
    servers = []

    def go(plugin: str, scenario_name: str, args, faults=(), timeout: str = TIMEOUT, **server_kw) -> Outcome:
        loaded = load([scenario(scenario_name)])
        server = FaultyStandIn(objects=list(loaded.objects.values()), logs=server_logs(loaded),
                               faults=list(faults), **server_kw).start()
        servers.append(server)
        kubeconfig = server.write_kubeconfig(str(tmp_path / f"kc-{len(servers)}"), namespace="default")
        out, err = io.StringIO(), io.StringIO()
        started = time.monotonic()
        code = run(plugin, [*args, "--kubeconfig", kubeconfig, "-o", "json", "--request-timeout", timeout],
                   io.StringIO(""), out, err)
        return Outcome(code, out.getvalue(), err.getvalue(), time.monotonic() - started, server)

    yield go
    for server in servers:
        server.stop()


def _args(target: str, mode: str):
    return [target] if mode == "single" else ["-A"]


# ---- transient faults: the same findings as without them --------------------------------------

TRANSIENT = {
    "one 500 on the other read": lambda p: [Fault(OTHER[p], "status", code=500, times=1)],
    "503 with Retry-After on the subject, twice": lambda p: [
        Fault(SUBJECT[p], "status", code=503, retry_after="0", times=2)],
    "429 from flow control on the first three requests": lambda p: [
        Fault(r"^/api", "status", code=429, retry_after="0", times=3)],
    "a connection reset on the other read": lambda p: [Fault(OTHER[p], "reset", times=1)],
    "a truncated answer on the subject": lambda p: [Fault(SUBJECT[p], "truncate", times=1)],
    "a proxy's 502 page on the other read": lambda p: [Fault(OTHER[p], "html", code=502, times=1)],
}


@pytest.mark.parametrize("mode", ["single", "scan"])
@pytest.mark.parametrize("plugin,scenario_name,target", PLUGINS)
def test_transient_faults_change_no_finding(plugin_run, plugin, scenario_name, target, mode):
    baseline = plugin_run(plugin, scenario_name, _args(target, mode))
    assert baseline.code == 1 and baseline.findings(), baseline
    assert baseline.incomplete() == [], baseline
    for name, faults in TRANSIENT.items():
        result = plugin_run(plugin, scenario_name, _args(target, mode), faults(plugin))
        assert sum(result.server.fault_hits) >= 1, f"{name}: the fault was never hit"
        assert (result.code, result.findings()) == (baseline.code, baseline.findings()), f"{name}: {result!r}"
        assert result.incomplete() == [], f"{name}: {result!r}"
        assert result.stderr == "", f"{name}: {result!r}"


def test_retry_after_is_honoured(plugin_run):
    # The flow-control 429 (plain text, Retry-After: 1) twice: kubectl waits and gets through.
    result = plugin_run("why", "02-crashloop-backoff", ["crasher-859cdd79dd-fp4lk"],
                        [Fault(r"/pods/crasher", "status", code=429, retry_after="1", times=2)], timeout="10s")
    assert result.code == 1 and ("CrashLoopBackOff", "crasher-859cdd79dd-fp4lk", "app") in result.findings()
    assert result.elapsed >= 2.0, "waited the server's Retry-After twice"
    pod_gets = [r for r in result.server.requests if r.path.endswith("/pods/crasher-859cdd79dd-fp4lk")]
    assert len(pod_gets) == 3


def test_a_410_on_a_continue_token_restarts_the_list_once(plugin_run, monkeypatch):
    monkeypatch.setattr(live, "PAGE_SIZE", 2)  # page through the scenario's events
    baseline = plugin_run("why", "02-crashloop-backoff", ["-A"])
    result = plugin_run("why", "02-crashloop-backoff", ["-A"],
                        [Fault(r"/events$", "status", code=410, continue_only=True, times=1)])
    assert result.server.fault_hits == [1]
    assert (result.code, result.findings()) == (baseline.code, baseline.findings()) and \
        result.incomplete() == [], result
    event_reads = [r for r in result.server.requests if r.path == "/api/v1/events"]
    starts = [r for r in event_reads if "continue" not in r.query]
    assert len(starts) == 2, "read once more from the beginning"


def test_a_410_again_after_the_restart_is_a_failed_read_not_a_loop(plugin_run, monkeypatch):
    monkeypatch.setattr(live, "PAGE_SIZE", 2)
    result = plugin_run("why", "02-crashloop-backoff", ["-A"],
                        [Fault(r"/events$", "status", code=410, continue_only=True, times=None)])
    assert result.code == 1
    assert [(i["resource"], i["status"]) for i in result.incomplete()] == [("events", 410)], result
    assert sum(1 for r in result.server.requests if r.path == "/api/v1/events") <= 4


# ---- persistent faults on a read other than the subject: never exit 0 -------------------------

PERSISTENT = {
    "500 on every try": lambda path: [Fault(path, "status", code=500, times=None)],
    "no answer at all": lambda path: [Fault(path, "hang", times=None)],
    "an answer dripping one byte every half second": lambda path: [Fault(path, "drip", times=None)],
    "an answer that is not JSON": lambda path: [Fault(path, "garbage", times=None)],
    "403": lambda path: [Fault(path, "status", code=403, times=None)],
}


@pytest.mark.parametrize("mode", ["single", "scan"])
@pytest.mark.parametrize("plugin,scenario_name,target", PLUGINS)
def test_a_persistent_fault_on_another_read_is_reported_as_incomplete(plugin_run, plugin, scenario_name,
                                                                      target, mode):
    for name, faults in PERSISTENT.items():
        result = plugin_run(plugin, scenario_name, _args(target, mode), faults(OTHER[plugin]), timeout=SHORT)
        assert result.code in (1, 3), f"{name}: {result!r}"
        missing = {i["resource"] for i in result.incomplete()}
        expected = "events" if plugin != "endpoints-check" else "pods"
        assert expected in missing, f"{name}: {result!r}"
        assert result.elapsed < 6, f"{name}: the deadline bounds every read ({result.elapsed:.1f}s)"


HEALTHY = [("probecheck", "24-healthy-probes", "docs-6bd85559ff-j78f2", r"/events$"),
           ("endpoints-check", "15-service-healthy", "svc/storefront", r"/pods$"),
           ("why", "24-healthy-probes", "docs-6bd85559ff-j78f2", r"/events$")]


@pytest.mark.parametrize("mode", ["single", "scan"])
@pytest.mark.parametrize("plugin,scenario_name,target,path", HEALTHY)
def test_a_healthy_verdict_needs_every_read(plugin_run, plugin, scenario_name, target, path, mode):
    baseline = plugin_run(plugin, scenario_name, _args(target, mode))
    assert baseline.code == 0, baseline
    result = plugin_run(plugin, scenario_name, _args(target, mode), [Fault(path, "status", code=500, times=None)])
    assert result.code == 3, result
    assert result.incomplete() and all(i["status"] == 500 for i in result.incomplete()), result


def test_a_500_on_a_pods_log_is_not_no_memory_kills(plugin_run):
    result = plugin_run("oomcheck", "03-resource-constraints", ["-A"],
                        [Fault(r"/log$", "status", code=500, times=None)])
    assert result.code in (1, 3) and any(i["resource"] == "pods/log" for i in result.incomplete()), result


def test_a_500_on_secrets_does_not_drop_the_missing_key_silently(plugin_run):
    baseline = plugin_run("why", "10-missing-secret-key", ["-A"])
    assert ("SecretKeyNotFound", "payments-api-8496f6466f-25w5d") in [f[:2] for f in baseline.findings()]
    result = plugin_run("why", "10-missing-secret-key", ["-A"], [Fault(r"/secrets$", "status", code=500, times=None)])
    assert result.code in (1, 3)
    assert any(i["resource"] == "secrets" and i["status"] == 500 for i in result.incomplete()), result


def test_a_500_on_nodes_does_not_turn_a_system_oom_into_a_container_oom(plugin_run):
    result = plugin_run("oomcheck", "31-node-oom", ["-A"], [Fault(r"/nodes", "status", code=500, times=None)])
    assert result.code in (1, 3) and any(i["resource"] == "nodes" for i in result.incomplete()), result
    assert "OOMKilled" not in [f[0] for f in result.findings()], result


def test_endpoints_check_with_pods_forbidden_invents_no_selector_mismatch(plugin_run):
    result = plugin_run("endpoints-check", "15-service-healthy", ["-A"],
                        [Fault(r"/pods$", "status", code=403, times=None)])
    assert result.code == 3, result
    assert "SelectorMismatch" not in [f[0] for f in result.findings()], result


# ---- the subject unreadable: exit 3, one clear line --------------------------------------------

@pytest.mark.parametrize("mode", ["single", "scan"])
@pytest.mark.parametrize("plugin,scenario_name,target", PLUGINS)
def test_the_subject_forbidden_is_exit_3_naming_the_fix(plugin_run, plugin, scenario_name, target, mode):
    result = plugin_run(plugin, scenario_name, _args(target, mode),
                        [Fault(SUBJECT[plugin], "status", code=403, times=None)])
    assert result.code == 3, result
    resource = "services" if plugin == "endpoints-check" else "pods"
    text = result.stderr + result.stdout
    assert f"kubectl auth can-i" in text and resource in text, result
    assert "not found" not in result.stderr


@pytest.mark.parametrize("plugin,scenario_name,target", PLUGINS)
def test_an_html_page_instead_of_the_api_is_one_line_exit_3(plugin_run, plugin, scenario_name, target):
    for mode in ("single", "scan"):
        result = plugin_run(plugin, scenario_name, _args(target, mode), [Fault(r"^/", "html", code=404, times=None)])
        assert result.code == 3 and result.stdout == "", result
        assert result.stderr.count("\n") == 1 and "<" not in result.stderr
        assert "does not look like a Kubernetes API server (got an HTML page, HTTP 404): check the " \
               "kubeconfig's server address" in result.stderr


@pytest.mark.parametrize("fault,words", [
    (Fault(r"^/", "status", code=401, times=None), "refused our credentials (401 Unauthorized)"),
    (Fault(r"^/", "drip", times=None, interval=0.2), "did not answer within 0.6s (--request-timeout)"),
    (Fault(r"^/", "hang", times=None), "did not answer within 0.6s (--request-timeout)"),
    (Fault(r"^/", "reset", times=None), "cannot reach the Kubernetes API at"),
    (Fault(r"^/", "html", code=200, times=None), "does not look like a Kubernetes API server"),
    (Fault(r"^/", "html", code=502, times=None), "does not look like a Kubernetes API server"),
    (Fault(r"^/", "garbage", times=None),
     "does not look like a Kubernetes API server (got an answer that is not JSON, HTTP 200)"),
])
def test_an_unusable_server_is_one_line_exit_3_within_the_deadline(plugin_run, fault, words):
    for plugin, scenario_name, target in PLUGINS:
        result = plugin_run(plugin, scenario_name, [target], [fault], timeout=SHORT)
        assert result.code == 3 and result.stdout == "", result
        assert result.stderr.count("\n") == 1 and words in result.stderr, result
        assert result.elapsed < 3, result


def test_server_error_bodies_reach_the_terminal_as_one_safe_line(plugin_run):
    hostile = (b'{"kind":"Status","apiVersion":"v1","status":"Failure","code":500,"reason":"InternalError",'
               b'"message":"boom\\u001b]52;c;ZXZpbA==\\u0007\\r\\nline two \\u202eevil"}')
    result = plugin_run("why", "02-crashloop-backoff", ["-A"],
                        [Fault(r"/events$", "status", code=500, times=None, body=hostile)])
    message = next(i["message"] for i in result.incomplete() if i["resource"] == "events")
    assert "\x1b" not in message and "\r" not in message and "\n" not in message and "\u202e" not in message
    assert message.startswith("HTTP 500: boom^[]52;c;ZXZpbA==\\x07 line two \\u202eevil")


def test_credentials_refused_mid_run_end_the_run_in_one_line(plugin_run):
    # The token expired between two reads: nothing after it can be trusted to be readable.
    result = plugin_run("why", "02-crashloop-backoff", ["-A"], [Fault(r"/events$", "status", code=401, times=None)])
    assert result.code == 3 and result.stdout == "", result
    assert result.stderr.count("\n") == 1 and "refused our credentials (401 Unauthorized)" in result.stderr


def test_hostile_text_from_the_cluster_is_neutralised_in_text_output(plugin_run, tmp_path):
    # An event message carrying a bidi override, an isolate and an escape sequence.
    loaded = load([scenario("02-crashloop-backoff")])
    objects = list(loaded.objects.values())
    event = next(o for o in objects if o["kind"] == "Event" and o.get("reason") == "BackOff")
    event["message"] = "Back-off \u202eevil\u2066 \x1b]0;pwned\x07restarting failed container app"
    server = FaultyStandIn(objects=objects, logs=server_logs(loaded)).start()
    try:
        kubeconfig = server.write_kubeconfig(str(tmp_path / "kc"), namespace="default")
        out, err = io.StringIO(), io.StringIO()
        code = run("why", ["crasher-859cdd79dd-fp4lk", "--kubeconfig", kubeconfig, "-o", "wide"],
                   io.StringIO(""), out, err)
    finally:
        server.stop()
    text = out.getvalue() + err.getvalue()
    assert code == 1
    assert not any(ch in text for ch in "\u202e\u2066\x1b\x07")
    assert "Back-off \\u202eevil\\u2066 ^[]0;pwned\\x07restarting" in text
