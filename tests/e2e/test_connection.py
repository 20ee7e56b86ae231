"""Connection defaults as kubectl has them: namespace from flag → context → default, contexts and
KUBECONFIG merging, in-cluster config, and `-o wide`'s timeline."""

import os

import pytest

from kdebug_core.errors import ClusterError, UsageError
from kdebug_core.sources import kubeconfig, live
from tests.e2e.conftest import scenario


def _two_contexts(api, tmp_path):
    """A kubeconfig with the stand-in twice: context `ops` (namespace kube-system, current) and
    context `apps` (namespace default)."""
    ops = api.server.write_kubeconfig(str(tmp_path / "ops.yaml"), namespace="kube-system", context="ops")
    apps = api.server.write_kubeconfig(str(tmp_path / "apps.yaml"), namespace="default", context="apps")
    return ops, apps


def test_namespace_comes_from_the_current_context(cluster, kubectl, tmp_path):
    api = cluster(scenario("02-crashloop-backoff"), namespace="kube-system")
    result = kubectl(api, "why", "crasher-859cdd79dd-fp4lk")
    assert result.returncode == 2 and "namespace kube-system" in result.stderr
    assert kubectl(api, "why", "crasher-859cdd79dd-fp4lk", "-n", "default").returncode == 1


def test_context_flag_and_merged_kubeconfig_files(cluster, plugin, tmp_path):
    api = cluster(scenario("02-crashloop-backoff"))
    ops, apps = _two_contexts(api, tmp_path)
    merged = f"{ops}{os.pathsep}{apps}"
    # current context (first file) is ops → kube-system: the pod is not there
    assert plugin("kubectl-why", "crasher-859cdd79dd-fp4lk", kubeconfig=merged).returncode == 2
    result = plugin("kubectl-why", "crasher-859cdd79dd-fp4lk", "--context", "apps", "-o", "json",
                    kubeconfig=merged)
    assert result.returncode == 1 and result.reasons() == ["CrashLoopBackOff"]
    bad = plugin("kubectl-why", "x", "--context", "nope", kubeconfig=merged)
    assert bad.returncode == 2 and "context 'nope' does not exist" in bad.stderr and "apps" in bad.stderr


def test_in_cluster_config_when_there_is_no_kubeconfig(tmp_path, monkeypatch):
    incluster_config = kubeconfig.package()[1]  # the package's module, as kdebug loaded it
    token, ca, ns = tmp_path / "token", tmp_path / "ca.crt", tmp_path / "namespace"
    token.write_text("sa-token")
    ca.write_text("-----BEGIN CERTIFICATE-----\n-----END CERTIFICATE-----\n")
    ns.write_text("payments\n")
    monkeypatch.setattr(incluster_config, "SERVICE_TOKEN_FILENAME", str(token))
    monkeypatch.setattr(incluster_config, "SERVICE_CERT_FILENAME", str(ca))
    monkeypatch.setattr(kubeconfig, "IN_CLUSTER_NAMESPACE_FILE", str(ns))
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.delenv("KUBECONFIG", raising=False)
    monkeypatch.setenv("KUBERNETES_SERVICE_HOST", "10.96.0.1")
    monkeypatch.setenv("KUBERNETES_SERVICE_PORT", "443")
    cfg, namespace = kubeconfig.load_configuration(kubeconfig.ConnectionOptions())
    assert cfg.host == "https://10.96.0.1:443" and namespace == "payments"
    headers = live.LiveBackend(cfg, kubeconfig.ConnectionOptions())._headers("application/json")
    assert headers["authorization"].lower() == "bearer sa-token"  # the package writes "bearer"


def test_no_configuration_at_all_is_exit_3_with_a_pointer_to_f(tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.delenv("KUBECONFIG", raising=False)
    monkeypatch.delenv("KUBERNETES_SERVICE_HOST", raising=False)
    with pytest.raises(ClusterError) as err:
        kubeconfig.load_configuration(kubeconfig.ConnectionOptions())
    assert "-f FILE" in str(err.value)
    with pytest.raises(UsageError):
        kubeconfig.load_configuration(kubeconfig.ConnectionOptions(kubeconfig=str(tmp_path / "missing")))


def test_wide_output_adds_the_merged_timeline(plugin):
    result = plugin("kubectl-why", "-f", scenario("02-crashloop-backoff"), "crasher-859cdd79dd-fp4lk",
                    "-o", "wide")
    assert result.returncode == 1
    timeline = result.stdout.split("timeline (UTC):", 1)[1].splitlines()
    lines = [line.strip() for line in timeline if line.strip()]
    assert any("Scheduled" in line for line in lines)
    assert any("container app terminated: Error (exit 1)" in line for line in lines)
    times = [line[:8] for line in lines if line[:2].isdigit()]
    assert times == sorted(times), "timeline is in time order"
    assert lines[-1].startswith("now") and "CrashLoopBackOff" in lines[-1]


def test_offline_runs_take_the_namespace_from_the_context_too(cluster, plugin, tmp_path):
    api = cluster(scenario("02-crashloop-backoff"))
    ops, apps = _two_contexts(api, tmp_path)
    merged = f"{ops}{os.pathsep}{apps}"
    offline = plugin("kubectl-why", "-f", scenario("02-crashloop-backoff"), "crasher-859cdd79dd-fp4lk",
                     kubeconfig=merged)
    assert offline.returncode == 2 and "kube-system" in offline.stderr
    assert plugin("kubectl-why", "-f", scenario("02-crashloop-backoff"), "crasher-859cdd79dd-fp4lk",
                  "--context", "apps", kubeconfig=merged).returncode == 1
    assert api.requests == []  # -f never talks to the cluster, even with a kubeconfig


def test_a_token_file_ending_in_a_newline_works_as_with_kubectl(cluster, plugin, tmp_path):
    # `echo TOKEN > file` leaves a newline; client-go trims it (transport/token_source.go).
    api = cluster(scenario("02-crashloop-backoff"))
    token = tmp_path / "token"
    token.write_text("standin-token\n")
    text = open(api.kubeconfig).read().replace('token: "standin-token"', f'tokenFile: "{token}"')
    assert "tokenFile" in text
    cfg = tmp_path / "kubeconfig-tokenfile"
    cfg.write_text(text)
    result = plugin("kubectl-why", "crasher-859cdd79dd-fp4lk", "-o", "json", kubeconfig=str(cfg))
    assert result.returncode == 1, result.stderr
    assert result.reasons() == ["CrashLoopBackOff"]
