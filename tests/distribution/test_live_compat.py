"""The live path works with both `kubernetes` releases kdebug supports: the version vendored in the
Krew archive (pinned, pure Python) and the newest release pip installs.

Each runs in a fresh interpreter with site-packages off (-S), so nothing but the standard library,
the given dependency directory and the project is importable, against the stand-in API server."""

import json
import os
import subprocess
import sys

import pytest

from tests.distribution.conftest import scenario

RUNNER = r'''
import json, sys
deps, project, kubeconfig = sys.argv[1:4]
sys.path[:0] = [deps, project]
import io, contextlib
from kdebug_core.main import run
out = io.StringIO()
with contextlib.redirect_stdout(out):
    live = run("why", ["deploy/crasher", "--kubeconfig", kubeconfig, "-o", "json"], stdout=out)
offline_out = io.StringIO()
offline = run("oomcheck", ["-f", sys.argv[4], "-A", "-o", "json"], stdout=offline_out)
import kubernetes
from kdebug_core import quantity
print(json.dumps({
    "live_exit": live, "live": json.loads(out.getvalue()),
    "offline_exit": offline, "offline": json.loads(offline_out.getvalue()),
    "kubernetes": kubernetes.__version__, "kubernetes_file": kubernetes.__file__,
    "quantity_file": quantity._parse.__code__.co_filename,
}))
'''


@pytest.fixture(scope="module")
def newest_kubernetes(tmp_path_factory):
    """`pip install --target` of the newest kubernetes (and PyYAML) release."""
    target = str(tmp_path_factory.mktemp("newest-kubernetes"))
    proc = subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
                           "--no-compile", "--target", target, "--upgrade", "kubernetes", "PyYAML"],
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr
    return target


def _diagnose(deps, source, standin, tmp_path):
    server = standin(scenario("02-crashloop-backoff"))
    kubeconfig = server.write_kubeconfig(str(tmp_path / "kubeconfig"), namespace="default")
    proc = subprocess.run([sys.executable, "-S", "-c", RUNNER, deps, source, kubeconfig,
                           scenario("03-resource-constraints")],
                          capture_output=True, text=True, env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)},
                          timeout=120)
    assert proc.returncode == 0, proc.stderr
    result = json.loads(proc.stdout.splitlines()[-1])
    assert all(r.method == "GET" for r in server.requests)
    return result


def _check(result, deps):
    assert result["live_exit"] == 1
    live = {(f["reason"], f["object"]["name"]) for f in result["live"]["findings"]}
    assert ("CrashLoopBackOff", "crasher-7d4f5b8c-mk2n3") in live
    # The quantity parser is the kubernetes package's own file, loaded from this dependency tree.
    assert result["quantity_file"].startswith(deps)
    assert result["kubernetes_file"].startswith(deps)
    assert result["offline_exit"] == 1
    oom = [f for f in result["offline"]["findings"] if f["reason"] == "OOMKilled"]
    assert oom and any("128Mi" in " ".join(f["evidence"] + [f["summary"]]) for f in oom)


def test_live_path_with_the_pinned_vendored_kubernetes(unpacked, source, standin, tmp_path):
    deps = os.path.join(unpacked, "vendor")
    result = _diagnose(deps, source, standin, tmp_path)
    assert result["kubernetes"] == "35.0.0"
    _check(result, deps)


def test_live_path_with_the_newest_kubernetes(newest_kubernetes, source, standin, tmp_path):
    result = _diagnose(newest_kubernetes, source, standin, tmp_path)
    # Newer than the pinned line: this is the release line with compiled dependencies.
    assert int(result["kubernetes"].split(".")[0]) > 35, result["kubernetes"]
    _check(result, newest_kubernetes)
