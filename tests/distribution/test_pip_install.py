"""The pip route: `pip install .` into a fresh virtual environment gives kubectl four plugins (and
no warnings), the four completion helpers, and man pages that `man` finds."""

import os
import subprocess
import sys

import pytest

from tests.distribution.conftest import PLUGINS, bare_env, complete, run, scenario

COMPLETERS = ["kubectl_complete-" + p.replace("-", "_") for p in PLUGINS]


@pytest.fixture(scope="module")
def venv(source, tmp_path_factory):
    """A virtual environment with the project pip-installed into it (from a snapshot)."""
    root = str(tmp_path_factory.mktemp("pip"))
    venv = os.path.join(root, "venv")
    subprocess.run([sys.executable, "-m", "venv", venv], check=True)
    proc = subprocess.run([os.path.join(venv, "bin", "python"), "-m", "pip", "install", "--quiet",
                           "--disable-pip-version-check", source],
                          capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stderr
    return venv


@pytest.fixture
def kubectl_only(tmp_path):
    """A directory holding only kubectl (the venv's bin provides python)."""
    import shutil

    d = tmp_path / "kbin"
    d.mkdir()
    os.symlink(shutil.which("kubectl"), d / "kubectl")
    return str(d)


def test_pip_install_creates_plugins_and_completion_helpers(venv):
    bin_dir = os.path.join(venv, "bin")
    for name in ["kubectl-" + p.replace("-", "_") for p in PLUGINS] + COMPLETERS:
        assert os.access(os.path.join(bin_dir, name), os.X_OK), name


def test_kubectl_plugin_list_shows_the_four_without_warnings(venv, kubectl_only, tmp_path):
    bin_dir = os.path.join(venv, "bin")
    result = run(["kubectl", "plugin", "list"], bare_env([bin_dir, kubectl_only], str(tmp_path)))
    assert result.returncode == 0, result.stderr
    listed = sorted(line for line in result.stdout.splitlines() if line.startswith("/"))
    assert listed == sorted(os.path.join(bin_dir, "kubectl-" + p.replace("-", "_")) for p in PLUGINS)
    assert "warning" not in result.stderr.lower()


def test_pip_installed_plugin_diagnoses_through_kubectl(venv, kubectl_only, tmp_path):
    env = bare_env([os.path.join(venv, "bin"), kubectl_only], str(tmp_path))
    result = run(["kubectl", "why", "-f", scenario("02-crashloop-backoff"), "-A", "-o", "json"], env)
    assert result.returncode == 1, result.stderr
    assert ("CrashLoopBackOff", "crasher-859cdd79dd-fp4lk") in result.reasons()


@pytest.mark.parametrize("page", ["kubectl-why", "kubectl-endpoints-check", "kubectl-oomcheck",
                                  "kubectl-probecheck"])
def test_man_finds_the_installed_page(page, venv, tmp_path):
    env = bare_env([os.path.join(venv, "bin"), "/usr/bin", "/bin"], str(tmp_path))
    where = run(["man", "-w", page], env)
    assert where.returncode == 0, where.stderr
    assert where.stdout.strip() == os.path.join(venv, "share", "man", "man1", page + ".1")


def test_man_page_under_the_executables_name_is_the_same_page(venv, tmp_path):
    env = bare_env([os.path.join(venv, "bin"), "/usr/bin", "/bin"], str(tmp_path), MANWIDTH="100")
    alias = run(["man", "-P", "cat", "kubectl-endpoints_check"], env)
    page = run(["man", "-P", "cat", "kubectl-endpoints-check"], env)
    assert alias.returncode == 0, alias.stderr
    assert "say why a Service has no or not-ready endpoints" in alias.stdout
    assert "--namespace" in alias.stdout
    assert alias.stdout == page.stdout


def test_completion_through_kubectl_after_pip_install(venv, kubectl_only, standin, tmp_path):
    server = standin(scenario("02-crashloop-backoff"), scenario("04-service-connectivity"))
    kubeconfig = server.write_kubeconfig(str(tmp_path / "kubeconfig"), namespace="default")
    env = bare_env([os.path.join(venv, "bin"), kubectl_only], str(tmp_path), kubeconfig)
    result = complete("why", ["crash"], env)
    assert result.stdout.splitlines() == ["crasher-859cdd79dd-fp4lk", ":4"], result.stderr
    result = complete("oomcheck", ["-n", ""], env)
    assert result.stdout.splitlines()[-1] == ":4"
    assert "default" in result.stdout.splitlines()
