"""`kubectl probecheck` end to end: through kubectl plugin dispatch against the stand-in API server
(the pod proxy included, for --probe-now), and with -f on files. Each scenario's expected.yaml holds
the diagnosis (scenario 06 is the runbook's Phase 6)."""

import json
import os

import pytest

from tests.e2e.conftest import SCENARIOS, scenario
from tests.e2e.oracle import check_run, scenario_dirs
from tests.helpers import fixture

PROBE_SCENARIOS = scenario_dirs(SCENARIOS, "probecheck") if os.path.isdir(SCENARIOS) else []
PROXY = "/proxy/"


def probe_fixture(name):
    return fixture("probes", name)


def proxy_requests(api):
    return [r for r in api.api_requests() if PROXY in r.path]


def test_the_probe_scenarios_are_there():
    for name in ("06-liveness-readiness", "20-readiness-wrong-port", "21-exec-probe-failing",
                 "22-slow-start-liveness", "23-probe-port-name-missing", "24-healthy-probes"):
        assert name in PROBE_SCENARIOS


@pytest.mark.parametrize("name", PROBE_SCENARIOS)
def test_scenario_offline_with_f(plugin, name):
    result = plugin("kubectl-probecheck", "-f", scenario(name), "-A", "-o", "json")
    check_run(result, scenario(name), "probecheck")


@pytest.mark.parametrize("name", PROBE_SCENARIOS)
def test_scenario_live_through_kubectl_plugin_dispatch(cluster, kubectl, name):
    api = cluster(scenario(name))
    result = kubectl(api, "probecheck", "-A", "-o", "json")
    check_run(result, scenario(name), "probecheck")
    assert api.gets_only() and not proxy_requests(api)


def test_runbook_06_in_text_both_paths_the_404_the_restarts_and_the_fix(cluster, kubectl):
    api = cluster(scenario("06-liveness-readiness"))
    result = kubectl(api, "probecheck", "deploy/probe-test", "--no-color")
    assert result.returncode == 1, result.stderr
    out = result.stdout
    assert "LivenessProbeFailed [HTTPStatus]" in out and "ReadinessProbeFailed [HTTPStatus]" in out
    assert "gets HTTP 404 for /healthz on port 80" in out and "gets HTTP 404 for /ready on port 80" in out
    assert "killed the container 5 times to restart it (5 restarts)" in out
    assert "liveness: http-get http://:80/healthz delay=5s timeout=1s period=5s #success=1 #failure=2" in out
    assert ("kubectl patch deployment/probe-test -n default --type=strategic -p '{\"spec\":{\"template\":"
            "{\"spec\":{\"containers\":[{\"name\":\"app\",\"livenessProbe\":{\"httpGet\":{\"path\":\"/\","
            "\"port\":80}},\"readinessProbe\":{\"httpGet\":{\"path\":\"/\",\"port\":80}}}]}}}}'") in out
    assert "curl -s -o /dev/null -w '%{http_code}\\n' http://localhost:80/" in out  # a GET, as the kubelet sends
    assert api.gets_only()


def test_a_single_pod_is_read_with_a_handful_of_requests(cluster, kubectl):
    api = cluster(scenario("22-slow-start-liveness"))
    result = kubectl(api, "probecheck", "inference-84d9cc7476-tfvtb", "-o", "json")
    assert result.reasons() == ["LivenessKillsSlowStart"]
    paths = [r.path for r in api.api_requests()]
    assert "/api/v1/namespaces/default/pods/inference-84d9cc7476-tfvtb" in paths
    logs = [r for r in api.api_requests() if r.path.endswith("/log")]
    assert len(logs) == 1 and logs[0].query.get("previous") == "true" and logs[0].query["container"] == "server"
    assert len(paths) <= 7, paths
    assert api.gets_only()


def test_why_includes_probecheck_findings_for_its_target(cluster, kubectl):
    api = cluster(scenario("22-slow-start-liveness"))
    result = kubectl(api, "why", "deploy/inference", "-o", "json")
    assert result.returncode == 1
    findings = result.json()["findings"]
    # the crash loop is the symptom; the liveness probe killing a slow start is the cause
    assert [f["reason"] for f in findings] == ["LivenessKillsSlowStart"]
    assert findings[0]["plugin"] == "probecheck"
    assert '"startupProbe"' in findings[0]["suggestions"][0]


def test_a_healthy_pod_says_so_and_exits_0(cluster, kubectl):
    api = cluster(scenario("24-healthy-probes"))
    result = kubectl(api, "probecheck", "deploy/docs", "--no-color")
    assert result.returncode == 0, result.stderr
    assert "pod/docs-6bd85559ff-j78f2 -n default: healthy" in result.stdout


def test_name_output_chains_into_why(cluster, kubectl):
    api = cluster(scenario("20-readiness-wrong-port"), scenario("24-healthy-probes"))
    names = kubectl(api, "probecheck", "-A", "-o", "name")
    assert names.stdout.splitlines() == ["default/pod/quote-service-95dfc6f85-7xczh"]
    why = kubectl(api, "why", "-", "-o", "json", stdin=names.stdout)
    assert sorted(why.reasons()) == ["ProbePortMismatch", "ReadinessProbeFailed"]


# ---- --probe-now --------------------------------------------------------------------------------

def test_probe_now_gets_each_http_probe_once_through_the_pod_proxy(cluster, kubectl):
    pod = "storefront-6c9f7d8b54-2xq7p"
    api = cluster(probe_fixture("liveness-404-restarts-exit-143.json"), namespace="shop", proxy_responses={
        ("shop", pod, "8080", "healthz"): (404, "Cannot GET /healthz\n"),
        ("shop", pod, "8080", "readyz"): (200, "ok\n")})
    result = kubectl(api, "probecheck", pod, "--probe-now", "-o", "json")
    assert result.returncode == 1, result.stderr
    doc = result.json()
    f = doc["findings"][0]
    assert f["reason"] == "LivenessProbeFailed"
    now = [e for e in f["evidence"] if e.startswith("probe now:")]
    assert len(now) == 1 and now[0].startswith("probe now: GET /healthz → 404 (port 8080, ")
    assert "the kubelet's events say 404" in now[0]
    assert any("readiness probe now: GET /readyz → 200" in n for n in doc.get("notes", []))
    assert sorted(r.path for r in proxy_requests(api)) == [
        f"/api/v1/namespaces/shop/pods/{pod}:8080/proxy/healthz",
        f"/api/v1/namespaces/shop/pods/{pod}:8080/proxy/readyz"]
    assert api.gets_only()


def test_probe_now_reports_a_refused_port_in_text(cluster, kubectl):
    api = cluster(scenario("20-readiness-wrong-port"))
    result = kubectl(api, "probecheck", "deploy/quote-service", "--probe-now", "--no-color")
    assert result.returncode == 1
    # nothing listens on 8080: the API server's dial is refused (503), as the kubelet's was
    assert ("probe now: GET / → connection refused (port 8080, " in result.stdout)
    assert "the API server: error trying to reach service: dial tcp 10.244.0.29:8080: connect: connection refused" \
        in result.stdout
    assert [r.path for r in proxy_requests(api)] == [
        "/api/v1/namespaces/default/pods/quote-service-95dfc6f85-7xczh:8080/proxy/"]


def test_probe_now_forbidden_is_one_clear_note_not_a_failure(cluster, kubectl):
    api = cluster(probe_fixture("liveness-404-restarts-exit-143.json"), namespace="shop",
                  forbidden=["pods/proxy"])
    result = kubectl(api, "probecheck", "-n", "shop", "--probe-now", "-o", "json")
    assert result.returncode == 1, result.stderr
    doc = result.json()
    assert [f["reason"] for f in doc["findings"]] == ["LivenessProbeFailed"]
    notes = [n for n in doc["notes"] if "--probe-now" in n]
    assert len(notes) == 1 and "forbids the pod proxy" in notes[0] and "pods/proxy" in notes[0]
    assert len(proxy_requests(api)) == 1


def test_probe_now_is_off_by_default_and_never_used_with_f(cluster, kubectl, plugin):
    api = cluster(probe_fixture("liveness-404-restarts-exit-143.json"), namespace="shop")
    kubectl(api, "probecheck", "-n", "shop", "-o", "json")
    assert not proxy_requests(api)
    result = plugin("kubectl-probecheck", "-f", probe_fixture("liveness-404-restarts-exit-143.json"), "-A",
                    "--probe-now", "-o", "json", kubeconfig=api.kubeconfig)
    assert result.returncode == 1
    assert "--probe-now needs a live cluster: ignored when reading files (-f)" in result.json()["notes"]
    assert not proxy_requests(api)


def test_probe_now_is_not_available_to_the_other_plugins(kubectl):
    result = kubectl(None, "why", "some-pod", "--probe-now")
    assert result.returncode == 2 and "unrecognized arguments: --probe-now" in result.stderr


# ---- scans --------------------------------------------------------------------------------------

def _many_pods(n_pods):
    """n copies of the slow starter (each with its own events) and of the healthy pod."""
    with open(os.path.join(scenario("22-slow-start-liveness"), "cluster-state.json")) as fh:
        slow = json.load(fh)["items"]
    with open(os.path.join(scenario("24-healthy-probes"), "cluster-state.json")) as fh:
        healthy = json.load(fh)["items"]
    out = [o for o in slow + healthy if o["kind"] != "Pod" and o["kind"] != "Event"]
    for i in range(n_pods):
        template = slow if i % 2 else healthy
        pod = json.loads(json.dumps(next(o for o in template if o["kind"] == "Pod")))
        old_uid, old_name = pod["metadata"]["uid"], pod["metadata"]["name"]
        pod["metadata"]["name"] = f"{old_name[:-5]}x{i:04d}"
        pod["metadata"]["uid"] = f"00000000-0000-4000-8000-{i:012d}"
        out.append(pod)
        for ev in template:
            if ev["kind"] == "Event" and ev["involvedObject"].get("uid") == old_uid:
                ev = json.loads(json.dumps(ev))
                ev["involvedObject"].update(uid=pod["metadata"]["uid"], name=pod["metadata"]["name"])
                ev["metadata"]["name"] = f"{pod['metadata']['name']}.{i:016x}"
                out.append(ev)
    return out


@pytest.mark.parametrize("n_pods", [40, 300])
def test_a_cluster_wide_scan_makes_a_bounded_number_of_requests(cluster, kubectl, tmp_path, n_pods):
    path = tmp_path / "big.json"
    path.write_text(json.dumps({"apiVersion": "v1", "kind": "List", "items": _many_pods(n_pods)}))
    api = cluster(str(path))
    result = kubectl(api, "probecheck", "-A", "-o", "json", timeout=120)
    assert result.returncode == 1, result.stderr
    findings = result.json()["findings"]
    assert len([f for f in findings if f["reason"] == "LivenessKillsSlowStart"]) == n_pods // 2
    requests = api.api_requests()
    assert api.gets_only()
    # pods, events, services, replicasets: once each, paged by 500; previous logs for 5 pods at most
    assert len([r for r in requests if r.path.endswith("/log")]) <= 5
    assert len(requests) <= 12, [r.path for r in requests]

    api.server.clear_requests()
    kubectl(api, "probecheck", "-A", "-o", "json", "--probe-now", timeout=120)
    # the slow starters are waiting to restart: nothing to ask them; a few healthy ones are asked
    assert 0 < len(proxy_requests(api)) <= 20


# ---- bad input ----------------------------------------------------------------------------------

def test_unknown_pod_exit_2_one_line(cluster, kubectl):
    api = cluster(scenario("21-exec-probe-failing"))
    result = kubectl(api, "probecheck", "heartbeat-7bd4cf5cf6-c4vzx")
    assert result.returncode == 2
    assert "not found" in result.stderr and "Traceback" not in result.stderr
    assert result.stderr.count("\n") == 1


@pytest.mark.parametrize("args,message", [
    (["-f", "scenarios/24-healthy-probes", "node/kind-worker"], "node"),
    (["-o", "table"], "invalid choice"),
    (["-f", "/nonexistent/dump.json"], "/nonexistent/dump.json"),
])
def test_bad_input_exit_2_one_line(plugin, args, message):
    result = plugin("kubectl-probecheck", *args)
    assert result.returncode == 2, (result.stdout, result.stderr)
    assert message in result.stderr.lower() or message in result.stderr
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr
