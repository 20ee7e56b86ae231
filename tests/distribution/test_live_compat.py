"""The live path works across the dependency ranges setup.cfg allows: the versions vendored in the
Krew archive (pinned, pure Python), and the lowest and the highest versions `pip install` may pick.

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
# Not `import kubernetes`: the Krew archive ships only the modules kdebug loads, not the client
# that kubernetes/__init__.py would import.
from kdebug_core import quantity
from kdebug_core.cli import client_version
from kdebug_core.sources import kubeconfig
print(json.dumps({
    "live_exit": live, "live": json.loads(out.getvalue()),
    "offline_exit": offline, "offline": json.loads(offline_out.getvalue()),
    "kubernetes": client_version(), "kubernetes_file": kubeconfig.package()[0].__file__,
    "quantity_file": quantity._parse.__code__.co_filename,
}))
'''


def install_requires():
    """setup.cfg's runtime requirements: {name: (lowest, upper bound)} from `>=LOW,<HIGH`."""
    import configparser
    import re
    cfg = configparser.ConfigParser()
    cfg.read(os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(__file__))), "setup.cfg"))
    out = {}
    for line in cfg["options"]["install_requires"].split("\n"):
        m = re.fullmatch(r"\s*([A-Za-z0-9_.-]+)>=([\w.]+),<([\w.]+)\s*", line)
        if line.strip():
            assert m, f"not a compatible range (NAME>=LOW,<HIGH): {line!r}"
            out[m.group(1)] = (m.group(2), m.group(3))
    return out


def _pip_target(tmp_path_factory, name, requirements):
    target = str(tmp_path_factory.mktemp(name))
    proc = subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
                           "--no-compile", "--only-binary=:all:", "--target", target, *requirements],
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr
    return target


@pytest.fixture(scope="module")
def lowest_allowed(tmp_path_factory):
    """`pip install --target` of every runtime dependency at the lowest version setup.cfg allows."""
    return _pip_target(tmp_path_factory, "lowest",
                       [f"{n}=={low}" for n, (low, _high) in install_requires().items()])


@pytest.fixture(scope="module")
def highest_allowed(tmp_path_factory):
    """... and at the highest: what `pip install kdebug` takes today."""
    return _pip_target(tmp_path_factory, "highest",
                       [f"{n}>={low},<{high}" for n, (low, high) in install_requires().items()])


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
    assert ("CrashLoopBackOff", "crasher-859cdd79dd-fp4lk") in live
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


@pytest.mark.slow
def test_live_path_with_the_lowest_allowed_versions(lowest_allowed, source, standin, tmp_path):
    result = _diagnose(lowest_allowed, source, standin, tmp_path)
    assert result["kubernetes"] == install_requires()["kubernetes"][0]
    _check(result, lowest_allowed)


@pytest.mark.slow
def test_live_path_with_the_highest_allowed_versions(highest_allowed, source, standin, tmp_path):
    result = _diagnose(highest_allowed, source, standin, tmp_path)
    # The same release line as the Krew archive: both routes ship kubernetes 35.
    assert result["kubernetes"].split(".")[0] == "35", result["kubernetes"]
    _check(result, highest_allowed)
    # and none of the compiled dependency tree that kubernetes 36+ brings
    assert not any(os.path.isdir(os.path.join(highest_allowed, d)) for d in ("aiohttp", "pydantic"))


def test_every_runtime_dependency_has_a_compatible_range_that_holds_the_krew_pins():
    """Both routes ship the same: the versions vendored in the Krew archive are inside the
    ranges pip resolves, and kubernetes stays below the 36 line."""
    import re
    ranges = install_requires()
    assert set(ranges) >= {"kubernetes", "PyYAML", "tabulate"}
    root = os.path.dirname(os.path.dirname(os.path.dirname(__file__)))
    pins = {}
    for lock in ("tools/vendor.txt", "tools/vendor-pyyaml.txt"):
        with open(os.path.join(root, lock)) as fh:
            pins.update(re.findall(r"^([A-Za-z0-9_.-]+)==(\S+)", fh.read(), re.M))

    def key(v):
        return tuple(int(x) for x in re.findall(r"\d+", v)[:3])
    for name, (low, high) in ranges.items():
        assert name in pins, f"{name} is not vendored in the Krew archive"
        assert key(low) <= key(pins[name]) < key(high), (name, low, pins[name], high)
    assert key(ranges["kubernetes"][1]) <= (36,)
