"""`kubectl oomcheck` end to end: through kubectl plugin dispatch against the stand-in API server (with
the metrics API serving PodMetrics), and with -f on files. Each scenario's expected.yaml holds the
diagnosis."""

import json
import os

import pytest

from kdebug_core.quantity import memory_bytes
from tests.e2e.conftest import SCENARIOS, scenario
from tests.e2e.oracle import check_run, expected_for, scenario_dirs

OOM_SCENARIOS = scenario_dirs(SCENARIOS, "oomcheck") if os.path.isdir(SCENARIOS) else []


def test_there_are_scenarios_to_check():
    assert {"03-resource-constraints", "08-evicted-memory-pressure", "30-exit-137-not-oom", "31-node-oom",
            "32-memory-near-limit"} <= set(OOM_SCENARIOS)


@pytest.mark.parametrize("name", OOM_SCENARIOS)
def test_scenario_offline_with_f(plugin, name):
    result = plugin("kubectl-oomcheck", "-f", scenario(name), "-A", "-o", "json")
    check_run(result, scenario(name), "oomcheck")


@pytest.mark.parametrize("name", OOM_SCENARIOS)
def test_scenario_live_through_kubectl_plugin_dispatch(cluster, kubectl, name):
    api = cluster(scenario(name), metrics_enabled=True)
    result = kubectl(api, "oomcheck", "-A", "-o", "json")
    check_run(result, scenario(name), "oomcheck")
    assert api.gets_only()


def test_all_scenarios_at_once_offline(plugin):
    result = plugin("kubectl-oomcheck", "-f", SCENARIOS, "-A", "-o", "json")
    assert result.returncode == 1, result.stderr
    findings = result.json()["findings"]
    for name in OOM_SCENARIOS:
        # (the oracle's no-surprise rule is per scenario: other scenarios' errors are expected here)
        for exp in expected_for(scenario(name), "oomcheck"):
            assert any(f["reason"] == exp["reason"] and f["object"]["name"] == exp["object"]["name"]
                       for f in findings), exp
    # exit 137 is never called an OOM kill, whatever else the cluster holds
    assert not any(f["reason"] == "OOMKilled" and f["object"]["name"].startswith("ledger-sync") for f in findings)


# ---- the runbook's Phase 3 ---------------------------------------------------------------------

def test_memory_hog_gets_a_limit_that_holds_256M_and_the_command_to_set_it(cluster, kubectl):
    api = cluster(scenario("03-resource-constraints"))
    result = kubectl(api, "oomcheck")
    assert result.returncode == 1, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].split()[:3] == ["NAMESPACE", "POD", "CONTAINER"]
    row = lines[1].split()
    assert row[:3] == ["default", "memory-hog-5bb769c8d4-2mz8t", "app"] and "OOMKilled" in row
    suggested = row[-1]
    assert memory_bytes(suggested) >= 256 * 1024 * 1024  # stress allocates 256M; 256Mi holds it
    assert (f"  kubectl set resources deployment/memory-hog -n default -c app --limits=memory={suggested} "
            f"--requests=memory=128Mi") in lines
    doc = json.loads(kubectl(api, "oomcheck", "deploy/memory-hog", "-o", "json").stdout)
    (f,) = doc["findings"]
    assert f["details"]["suggestedLimitBytes"] >= 256 * 1024 * 1024
    assert any(s.startswith("kubectl set resources deployment/memory-hog") for s in f["suggestions"])


def test_why_includes_the_node_oom_for_its_target(cluster, kubectl):
    api = cluster(scenario("31-node-oom"))
    result = kubectl(api, "why", "batch-import-7xk4d9bfwq-h2xnr", "-o", "json")
    assert result.returncode == 1, result.stderr
    assert result.reasons() == ["SystemOOM"]  # not OOMKilled: the node killed it
    paths = [r.path for r in api.api_requests()]
    assert "/api/v1/nodes/kind-worker2" in paths
    assert len(paths) <= 8, paths


# ---- the metrics API ----------------------------------------------------------------------------

def test_usage_is_read_from_the_metrics_api_when_it_is_served(cluster, kubectl):
    api = cluster(scenario("32-memory-near-limit"), metrics_enabled=True)
    result = kubectl(api, "oomcheck", "-o", "json")
    (f,) = result.json()["findings"]
    assert f["reason"] == "MemoryNearLimit" and f["details"]["usagePercent"] == 95
    assert "notes" not in result.json()
    metrics = [r for r in api.api_requests() if r.path.startswith("/apis/metrics.k8s.io/")]
    assert [r.path for r in metrics] == ["/apis/metrics.k8s.io/v1beta1/namespaces/default/pods"]


def test_without_the_metrics_api_it_says_so_once_and_goes_on(cluster, kubectl):
    api = cluster(scenario("32-memory-near-limit"), scenario("03-resource-constraints"))  # no metrics-server
    result = kubectl(api, "oomcheck", "-A", "-o", "json")
    assert result.returncode == 1, result.stderr
    doc = result.json()
    assert [f["reason"] for f in doc["findings"]] == ["OOMKilled"]
    assert doc["notes"] == ["memory usage not known: the metrics API (metrics.k8s.io, served by metrics-server) "
                            "is not available, so limits were not compared with usage"]
    text = kubectl(api, "oomcheck", "-A").stdout
    assert text.count("note: memory usage not known") == 1
    # one try at the metrics API, not one per pod
    assert len([r for r in api.api_requests() if "metrics.k8s.io" in r.path]) == 2  # one per run


def test_metrics_forbidden_does_not_abort_the_run(cluster, kubectl):
    api = cluster(scenario("32-memory-near-limit"), metrics_enabled=True, forbidden=["pods.metrics.k8s.io"])
    result = kubectl(api, "oomcheck", "-A")
    # Usage vs limit could not be compared: nothing found, but not a verified "fine" (exit 3).
    assert result.returncode == 3, result.stderr
    assert "forbidden" in result.stdout and result.stdout.count("note:") == 1
    assert "no memory kills" not in result.stdout


# ---- bounded requests ---------------------------------------------------------------------------

def _synthetic_cluster(n_pods):
    """n OOM-killed replicas of the runbook's memory hog, with their PodMetrics, plus a node OOM."""
    with open(os.path.join(scenario("03-resource-constraints"), "cluster-state.json")) as fh:
        state = json.load(fh)
    with open(os.path.join(scenario("31-node-oom"), "cluster-state.json")) as fh:
        node_oom = json.load(fh)["items"]
    pod = next(o for o in state["items"] if o["kind"] == "Pod")
    others = [o for o in state["items"] if o["kind"] != "Pod"] + node_oom
    pods, metrics = [], []
    for i in range(n_pods):
        p = json.loads(json.dumps(pod))
        p["metadata"]["name"] = f"{pod['metadata']['name'][:-5]}x{i:04d}"
        p["metadata"]["namespace"] = f"team-{i % 7}"
        p["metadata"]["uid"] = f"00000000-0000-4000-8000-{i:012d}"
        pods.append(p)
        metrics.append({"apiVersion": "metrics.k8s.io/v1beta1", "kind": "PodMetrics",
                        "metadata": {"name": p["metadata"]["name"], "namespace": p["metadata"]["namespace"],
                                     "creationTimestamp": "2026-11-20T10:05:00Z"},
                        "timestamp": "2026-11-20T10:04:52Z", "window": "10.871s",
                        "containers": [{"name": "app", "usage": {"cpu": "1000000n", "memory": "1024Ki"}}]})
    return others + pods, metrics


@pytest.mark.parametrize("n_pods", [30, 300])
def test_an_all_namespaces_scan_makes_a_number_of_requests_that_does_not_grow_with_pods(
        cluster, kubectl, tmp_path, n_pods):
    objects, metrics = _synthetic_cluster(n_pods)
    path = tmp_path / "big.json"
    path.write_text(json.dumps({"apiVersion": "v1", "kind": "List", "items": objects}))
    api = cluster(str(path), metrics_enabled=True, pod_metrics=metrics)
    result = kubectl(api, "oomcheck", "-A", "-o", "json")
    assert result.returncode == 1, result.stderr
    reasons = result.json()["findings"]
    assert len([f for f in reasons if f["reason"] == "OOMKilled"]) == n_pods
    assert any(f["reason"] == "SystemOOM" for f in reasons)
    requests = api.api_requests()
    assert api.gets_only()
    logs = [r for r in requests if r.path.endswith("/log")]
    assert len(logs) <= 5
    # pods, replicasets, events, nodes, PodMetrics: one list each, whatever the number of pods
    lists = sorted(r.path for r in requests if not r.path.endswith("/log"))
    assert lists == ["/api/v1/events", "/api/v1/nodes", "/api/v1/pods", "/apis/apps/v1/replicasets",
                     "/apis/metrics.k8s.io/v1beta1/pods"], lists
    assert len(requests) <= 10


# ---- targets -------------------------------------------------------------------------------------

def test_node_target_shows_the_node_oom_and_the_pods_it_hit(cluster, kubectl):
    api = cluster(scenario("31-node-oom"), scenario("32-memory-near-limit"))
    result = kubectl(api, "oomcheck", "node/kind-worker2", "-o", "json")
    assert result.returncode == 1, result.stderr
    findings = result.json()["findings"]
    assert [(f["reason"], f["severity"], f["object"]["name"]) for f in findings] == [
        ("SystemOOM", "error", "batch-import-7xk4d9bfwq-h2xnr"),
        # a container without a limit on a node that had a node OOM: a warning, not advice
        ("NoMemoryLimit", "warning", "batch-import-7xk4d9bfwq-h2xnr")]
    # session-cache runs there too, within its limit; kind-worker's session-gateway is not looked at
    assert "session-gateway" not in result.stdout


def test_offline_node_target_and_pipeline_into_why(plugin):
    result = plugin("kubectl-oomcheck", "-f", scenario("31-node-oom"), "node/kind-worker2", "-o", "name")
    assert result.returncode == 1, result.stderr
    assert result.stdout == "default/pod/batch-import-7xk4d9bfwq-h2xnr\n"
    why = plugin("kubectl-why", "-f", scenario("31-node-oom"), "-", "-o", "json", stdin=result.stdout)
    assert why.returncode == 1, why.stderr
    assert why.reasons() == ["SystemOOM"]


# ---- bad input (SPEC: exit 2 usage/input, 3 cluster; one line on stderr) -------------------------

@pytest.mark.parametrize("args, says", [
    (["node/kind-worker9"], 'node "kind-worker9" not found'),
    (["deploy/memory-hogg"], "did you mean memory-hog"),
    (["frobnicate/x"], "unknown kind 'frobnicate'"),
    (["-o", "table"], "invalid choice"),
    (["-A", "deploy/memory-hog"], "cannot be retrieved by name across all namespaces"),
])
def test_bad_input_is_exit_2_with_one_line(cluster, kubectl, args, says):
    api = cluster(scenario("03-resource-constraints"), scenario("31-node-oom"))
    result = kubectl(api, "oomcheck", *args)
    assert result.returncode == 2, (result.stdout, result.stderr)
    assert says in result.stderr and result.stderr.count("\n") == 1 and "Traceback" not in result.stderr


def test_unreadable_file_is_exit_2(plugin, tmp_path):
    bad = tmp_path / "dump.json"
    bad.write_text('{"apiVersion": "v1", "kind": "List", "items": [')
    for path in (str(bad), str(tmp_path / "missing.json")):
        result = plugin("kubectl-oomcheck", "-f", path, "-A")
        assert result.returncode == 2 and result.stderr.count("\n") == 1, result.stderr


def test_unreachable_server_is_exit_3(plugin, unreachable_kubeconfig):
    cfg, address = unreachable_kubeconfig
    result = plugin("kubectl-oomcheck", "-A", "--request-timeout", "5s", kubeconfig=cfg)
    assert result.returncode == 3 and address in result.stderr
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr
