"""`kubectl why` end to end: through kubectl plugin dispatch against the stand-in API server,
and with -f on files. Each scenario's expected.yaml holds the runbook's diagnosis."""

import json
import os

import pytest

from tests.e2e.conftest import SCENARIOS, scenario
from tests.e2e.oracle import check, check_run, expected_for, scenario_dirs

WHY_SCENARIOS = scenario_dirs(SCENARIOS, "why") if os.path.isdir(SCENARIOS) else []


def test_there_are_scenarios_to_check():
    assert len(WHY_SCENARIOS) >= 11


@pytest.mark.parametrize("name", WHY_SCENARIOS)
def test_scenario_offline_with_f(plugin, name):
    result = plugin("kubectl-why", "-f", scenario(name), "-A", "-o", "json")
    check_run(result, scenario(name), "why")


@pytest.mark.parametrize("name", WHY_SCENARIOS)
def test_scenario_live_through_kubectl_plugin_dispatch(cluster, kubectl, name):
    api = cluster(scenario(name), metrics_enabled=True)  # why merges oomcheck's MemoryNearLimit (32)
    result = kubectl(api, "why", "-A", "-o", "json")
    check_run(result, scenario(name), "why")
    assert api.gets_only()


def test_all_scenarios_at_once_offline(plugin):
    result = plugin("kubectl-why", "-f", SCENARIOS, "-A", "-o", "json")
    assert result.returncode == 1, result.stderr
    expected = [e for name in WHY_SCENARIOS for e in expected_for(scenario(name), "why")]
    check(result.json()["findings"], expected)


def test_image_pull_pod_in_text_names_cause_and_fix(cluster, kubectl):
    api = cluster(scenario("01-image-pull-error"))
    result = kubectl(api, "why", "broken-image-845fbd988f-kbm72")
    assert result.returncode == 1
    assert "ImagePullBackOff" in result.stdout
    assert "nonexistent/fake-image:v1.0.0" in result.stdout
    assert "kubectl set image deployment/broken-image -n default app=" in result.stdout
    # a single pod is read with a handful of targeted requests
    paths = [r.path for r in api.api_requests()]
    assert "/api/v1/namespaces/default/pods/broken-image-845fbd988f-kbm72" in paths
    assert len(paths) <= 6, paths


def test_deployment_target_resolves_to_its_pods(cluster, kubectl):
    api = cluster(scenario("02-crashloop-backoff"))
    result = kubectl(api, "why", "deploy/crasher", "-o", "json")
    findings = result.json()["findings"]
    assert [f["reason"] for f in findings] == ["CrashLoopBackOff"]
    assert findings[0]["owner"] == {"kind": "Deployment", "namespace": "default", "name": "crasher"}
    assert any("Starting..." in e for e in findings[0]["evidence"])


def test_crashloop_reads_previous_logs_with_tail(cluster, kubectl):
    api = cluster(scenario("02-crashloop-backoff"))
    kubectl(api, "why", "crasher-859cdd79dd-fp4lk", "--tail", "7")
    logs = [r for r in api.api_requests() if r.path.endswith("/log")]
    assert logs and logs[0].query.get("previous") == "true" and logs[0].query.get("tailLines") == "7"
    assert logs[0].query.get("container") == "app"


def test_secrets_are_read_metadata_only(cluster, kubectl):
    api = cluster(scenario("10-missing-secret-key"))
    result = kubectl(api, "why", "-A", "-o", "json")
    assert "SecretKeyNotFound" in result.reasons()
    secret_reads = [r for r in api.requests if "/secrets" in r.path]
    assert secret_reads, "the secret's existence should have been checked"
    for r in secret_reads:
        assert "as=PartialObjectMetadata" in (r.header("Accept") or ""), r


def _synthetic_cluster(n_pods):
    """n crash-looping pods of one Deployment, plus a healthy one: what a big namespace looks like."""
    with open(os.path.join(scenario("02-crashloop-backoff"), "cluster-state.json")) as fh:
        state = json.load(fh)
    pod = next(o for o in state["items"] if o["kind"] == "Pod")
    others = [o for o in state["items"] if o["kind"] != "Pod"]
    pods = []
    for i in range(n_pods):
        p = json.loads(json.dumps(pod))
        p["metadata"]["name"] = f"{pod['metadata']['name'][:-5]}x{i:04d}"
        p["metadata"]["uid"] = f"00000000-0000-4000-8000-{i:012d}"
        pods.append(p)
    return others + pods


@pytest.mark.parametrize("n_pods", [30, 300])
def test_a_cluster_wide_scan_makes_a_bounded_number_of_requests(cluster, kubectl, tmp_path, n_pods):
    path = tmp_path / "big.json"
    path.write_text(json.dumps({"apiVersion": "v1", "kind": "List", "items": _synthetic_cluster(n_pods)}))
    api = cluster(str(path))
    result = kubectl(api, "why", "-A", "-o", "json")
    assert result.returncode == 1
    assert len(result.json()["findings"]) >= n_pods
    requests = api.api_requests()
    assert api.gets_only()
    # pods (paged by 500), events, owners, configmaps...: once each; logs for 5 pods at most
    assert len([r for r in requests if r.path.endswith("/log")]) <= 5
    assert len(requests) <= 15, [r.path for r in requests]
    # the workloads are subjects too: each kind listed once for the whole cluster, never per pod
    for path in ("/apis/apps/v1/deployments", "/apis/apps/v1/replicasets", "/apis/apps/v1/statefulsets",
                 "/apis/apps/v1/daemonsets", "/apis/batch/v1/jobs", "/apis/batch/v1/cronjobs", "/api/v1/nodes"):
        assert [r.path for r in requests].count(path) == 1, (path, [r.path for r in requests])
    assert not [r.path for r in requests if "/namespaces/" in r.path and not r.path.endswith("/log")]


def test_unknown_pod_exit_2_with_close_names(cluster, kubectl):
    api = cluster(scenario("02-crashloop-backoff"))
    result = kubectl(api, "why", "crasher-859cdd79dd-mk2n4")
    assert result.returncode == 2
    assert "not found" in result.stderr and "crasher-859cdd79dd-fp4lk" in result.stderr
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr


def test_unreachable_server_exit_3_names_it(plugin, unreachable_kubeconfig):
    cfg, address = unreachable_kubeconfig
    result = plugin("kubectl-why", "some-pod", "--request-timeout", "5s", kubeconfig=cfg)
    assert result.returncode == 3
    assert address in result.stderr and "Traceback" not in result.stderr
    assert result.stderr.count("\n") == 1


def test_forbidden_events_still_give_a_diagnosis_and_say_what_is_missing(cluster, kubectl):
    api = cluster(scenario("03-resource-constraints"), forbidden=["events"])
    result = kubectl(api, "why", "-A")
    assert result.returncode == 1
    assert "OOMKilled" in result.stdout
    assert "could not read events" in result.stdout


def test_malformed_file_exit_2_names_file_and_line(plugin, tmp_path):
    bad = tmp_path / "pods.json"
    bad.write_text('{"kind": "List",\n "items": [\n  {"kind": "Pod",, }\n]}')
    result = plugin("kubectl-why", "-f", str(bad), "-A")
    assert result.returncode == 2
    assert "pods.json" in result.stderr and "line 3" in result.stderr


def test_no_api_request_with_f(cluster, plugin):
    api = cluster(scenario("01-image-pull-error"))
    plugin("kubectl-why", "-f", scenario("01-image-pull-error"), "-A", kubeconfig=api.kubeconfig)
    assert api.requests == []


def test_name_output_pipes_into_why_stdin(cluster, kubectl):
    api = cluster(scenario("01-image-pull-error"), scenario("02-crashloop-backoff"))
    names = kubectl(api, "why", "-A", "-o", "name")
    assert "default/pod/broken-image-845fbd988f-kbm72" in names.stdout.splitlines()
    piped = kubectl(api, "why", "-", "-o", "json", stdin=names.stdout)
    assert {"ImagePullBackOff", "CrashLoopBackOff"} <= set(piped.reasons())


def test_healthy_pod_prints_one_line_and_exits_0(cluster, kubectl):
    api = cluster(scenario("04-service-connectivity"))
    pods = [r for r in kubectl(api, "get", "pods", "-o", "name").stdout.split()]
    assert pods
    result = kubectl(api, "why", pods[0].split("/", 1)[1])
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.count("\n") == 1 and "healthy" in result.stdout


def test_impersonation_headers_are_sent(cluster, kubectl):
    api = cluster(scenario("01-image-pull-error"))
    kubectl(api, "why", "-A", "--as", "jane", "--as-group", "devs", "--as-group", "ops")
    r = api.api_requests()[0]
    assert r.header("Impersonate-User") == "jane"


def test_why_agrees_with_oomcheck_on_a_pod_near_its_memory_limit(cluster, kubectl):
    """SPEC: why delegates to the other plugins and merges their findings: the pod oomcheck flags
    at 95 % of its limit is not "all healthy" in why."""
    api = cluster(scenario("32-memory-near-limit"), metrics_enabled=True)
    why = kubectl(api, "why", "-A", "-o", "json")
    oom = kubectl(api, "oomcheck", "-A", "-o", "json")
    assert why.returncode == oom.returncode == 1
    near = [f for f in why.json()["findings"] if f["reason"] == "MemoryNearLimit"]
    assert [(f["object"]["name"], f["container"]) for f in near] == \
        [("session-cache-b9w5t2kq6h-t8n4q", "redis")]
    assert near[0]["suggestions"] == next(f for f in oom.json()["findings"]
                                          if f["reason"] == "MemoryNearLimit")["suggestions"]
    assert "all healthy" not in kubectl(api, "why", "-A").stdout


def test_why_without_a_metrics_api_says_nothing_about_it(cluster, kubectl):
    api = cluster(scenario("32-memory-near-limit"))  # no metrics-server
    result = kubectl(api, "why", "-A")
    assert result.returncode == 0, result.stdout
    assert "metrics" not in result.stdout and "all healthy" in result.stdout
