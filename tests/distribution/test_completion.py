"""`kubectl_complete-<plugin>`: Cobra's completion protocol as kubectl (1.26+) calls it on TAB.

kubectl runs the helper with the words typed after the plugin name, the last one being the word
to complete, and reads one candidate per line then `:<directive>` (4: no file completion; 2: no
space; 0: the shell completes files). Names come from the stand-in API server through kubectl,
with one list request and no discovery."""

import os
import shutil
import subprocess
import sys

import pytest

from tests.distribution.conftest import ROOT, scenario

SCENARIOS = ("02-crashloop-backoff", "04-service-connectivity", "12-service-targetport-name-mismatch")


@pytest.fixture
def cluster(standin, tmp_path):
    server = standin(*(scenario(s) for s in SCENARIOS))
    kubeconfig = server.write_kubeconfig(str(tmp_path / "kubeconfig"), namespace="default")
    return server, kubeconfig


def complete(plugin, *words, kubeconfig=None, home=None):
    """(candidates, directive, stderr) from the helper, run the way kubectl runs it."""
    kubectl_dir = os.path.dirname(shutil.which("kubectl"))
    env = {"PATH": os.pathsep.join([kubectl_dir, "/usr/bin", "/bin"]), "HOME": home or "/nonexistent",
           "KUBECONFIG": kubeconfig or "/nonexistent/kubeconfig"}
    code = "import sys; from kdebug_core.completion import main; sys.exit(main(sys.argv[1], sys.argv[2:]))"
    proc = subprocess.run([sys.executable, "-c", code, plugin, *words], capture_output=True, text=True,
                          env=env, cwd=ROOT, timeout=60)
    assert proc.returncode == 0
    lines = proc.stdout.splitlines()
    assert lines and lines[-1].startswith(":"), proc.stdout
    return [line.split("\t")[0] for line in lines[:-1]], int(lines[-1][1:]), proc.stderr


def kubectl_requests(server):
    """Requests kubectl itself sent (a dispatching kubectl wrapper may add /version probes)."""
    return [r for r in server.requests if (r.header("User-Agent") or "").startswith("kubectl/")]


def test_pod_names_and_kind_prefixes_for_a_new_word(cluster, tmp_path):
    server, kubeconfig = cluster
    names, directive, err = complete("why", "", kubeconfig=kubeconfig, home=str(tmp_path))
    assert "crasher-859cdd79dd-fp4lk" in names
    assert {"pod/", "deployment/", "statefulset/", "service/"} <= set(names)
    assert directive == 4 and err == ""
    reqs = kubectl_requests(server)
    assert [(r.method, r.path) for r in reqs] == [("GET", "/api/v1/namespaces/default/pods")]


def test_names_are_filtered_by_the_typed_prefix(cluster, tmp_path):
    _, kubeconfig = cluster
    names, directive, _ = complete("probecheck", "cras", kubeconfig=kubeconfig, home=str(tmp_path))
    assert names == ["crasher-859cdd79dd-fp4lk"] and directive == 4


def test_a_kind_prefix_alone_gets_no_space_after_it(cluster, tmp_path):
    _, kubeconfig = cluster
    assert complete("why", "dep", kubeconfig=kubeconfig, home=str(tmp_path))[:2] == (["deployment/"], 6)
    assert complete("why", "sts", kubeconfig=kubeconfig, home=str(tmp_path))[:2] == (["sts/"], 6)


def test_names_of_a_kind_after_its_prefix(cluster, tmp_path):
    server, kubeconfig = cluster
    names, directive, _ = complete("why", "deploy/", kubeconfig=kubeconfig, home=str(tmp_path))
    assert "deploy/crasher" in names and "deploy/backend" in names
    assert directive == 4
    assert [r.path for r in kubectl_requests(server)] == ["/apis/apps/v1/namespaces/default/deployments"]


def test_kinds_the_plugin_does_not_take_complete_nothing(cluster, tmp_path):
    _, kubeconfig = cluster
    assert complete("endpoints-check", "deploy/", kubeconfig=kubeconfig, home=str(tmp_path))[:2] == ([], 4)
    names, _, _ = complete("oomcheck", "no", kubeconfig=kubeconfig, home=str(tmp_path))
    assert "node/" in names  # oomcheck takes node/NAME


def test_endpoints_check_completes_services(cluster, tmp_path):
    server, kubeconfig = cluster
    names, directive, _ = complete("endpoints-check", "", kubeconfig=kubeconfig, home=str(tmp_path))
    assert "backend-service" in names and "service/" in names
    assert "crasher-859cdd79dd-fp4lk" not in names
    assert [r.path for r in kubectl_requests(server)] == ["/api/v1/namespaces/default/services"]


def test_namespace_flag_value_lists_namespaces(cluster, tmp_path):
    server, kubeconfig = cluster
    names, directive, _ = complete("why", "-n", "", kubeconfig=kubeconfig, home=str(tmp_path))
    assert "default" in names and directive == 4
    assert [r.path for r in kubectl_requests(server)] == ["/api/v1/namespaces"]
    names, _, _ = complete("why", "--namespace=def", kubeconfig=kubeconfig, home=str(tmp_path))
    assert names == ["default"]


def test_the_namespace_on_the_line_is_where_names_are_listed(cluster, tmp_path):
    server, kubeconfig = cluster
    complete("why", "--namespace", "shop", "deploy/", kubeconfig=kubeconfig, home=str(tmp_path))
    assert [r.path for r in kubectl_requests(server)] == ["/apis/apps/v1/namespaces/shop/deployments"]


def test_context_flag_value_lists_kubeconfig_contexts(cluster, tmp_path):
    server, kubeconfig = cluster
    names, directive, _ = complete("why", "--context", "", kubeconfig=kubeconfig, home=str(tmp_path))
    assert names == ["standin"] and directive == 4
    assert kubectl_requests(server) == []


def test_flags_come_from_the_real_parser(tmp_path):
    from kdebug_core.cli import build_parser

    names, directive, _ = complete("probecheck", "-", home=str(tmp_path))
    options = {o for a in build_parser("probecheck")._actions for o in a.option_strings}
    assert set(names) == options and "--probe-now" in names and directive == 4
    names, _, _ = complete("why", "--n", home=str(tmp_path))
    assert names == ["--namespace", "--no-color"]


def test_output_formats_and_files(tmp_path):
    assert complete("why", "-o", "", home=str(tmp_path))[:2] == (["text", "wide", "json", "yaml", "name"], 4)
    assert complete("why", "--output=j", home=str(tmp_path))[:2] == (["json"], 4)
    assert complete("why", "-f", "", home=str(tmp_path))[:2] == ([], 0)  # the shell completes paths
    assert complete("why", "--kubeconfig", "", home=str(tmp_path))[:2] == ([], 0)


def test_all_namespaces_offers_no_names(cluster, tmp_path):
    server, kubeconfig = cluster
    assert complete("why", "-A", "", kubeconfig=kubeconfig, home=str(tmp_path))[:2] == ([], 4)
    assert complete("why", "-Ao", "", kubeconfig=kubeconfig, home=str(tmp_path))[0][:1] == ["text"]
    assert kubectl_requests(server) == []


def test_silent_when_the_cluster_cannot_be_reached(standin, tmp_path):
    server = standin(scenario("02-crashloop-backoff"))
    kubeconfig = server.write_kubeconfig(str(tmp_path / "kubeconfig"), namespace="default")
    server.stop()
    names, directive, err = complete("why", "", kubeconfig=kubeconfig, home=str(tmp_path))
    assert "crasher-859cdd79dd-fp4lk" not in names and "deployment/" in names
    assert err == ""
    names, directive, err = complete("why", "-n", "", kubeconfig=kubeconfig, home=str(tmp_path))
    assert (names, directive, err) == ([], 4, "")


def test_silent_without_kubectl(tmp_path):
    code = "import sys; from kdebug_core.completion import main; sys.exit(main('why', ['-n', '']))"
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          env={"PATH": str(tmp_path), "HOME": str(tmp_path)}, cwd=ROOT)
    assert (proc.returncode, proc.stdout, proc.stderr) == (0, ":4\n", "")


def test_completion_does_not_import_heavy_modules():
    code = ("import sys; from kdebug_core import completion; completion.main('why', ['-']); "
            "print(sorted(m for m in sys.modules if m.split('.')[0] in "
            "('kubernetes', 'yaml', 'urllib3', 'requests') or m in "
            "('kdebug_core.engine', 'kdebug_core.analyzers', 'kdebug_core.sources.live')))")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert proc.stdout.splitlines()[-1] == "[]"
