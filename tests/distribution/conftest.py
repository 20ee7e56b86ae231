"""Fixtures for the distribution tests: the archive built once per session, a Krew-style install
of it, a pip install into a fresh virtual environment, and environments as bare as a user's.

* `source` is a snapshot of the checkout (what the archive and the wheel are built from), so
  concurrent edits cannot make two builds differ and builds leave nothing in the work tree.
* `dist` is `tools/build_dist.py`'s archive of that snapshot, bytecode compiled with the same
  interpreters `make dist` finds, plus a copy of krew-manifests/ updated by the same code.
* `krew` installs the four plugins from those manifests the way Krew does (tests/distribution/krew.py).
* `bare_path(*dirs)` is a PATH of the given directories and a directory holding only `python3`
  (the system's, not a project virtual environment) and `kubectl`.
"""

import glob
import importlib.util
import io
import json
import os
import shutil
import subprocess
import sys
import tarfile
from dataclasses import dataclass
from typing import Dict, List, Optional

import pytest

from kdebug_core.sources.files import load, log_runs
from tests.distribution import krew as krewlib
from tests.standin.apiserver import StandInAPIServer

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SCENARIOS = os.path.join(ROOT, "scenarios")
WHEEL_CACHE = os.path.join(ROOT, "build", "wheels")
REPO_URL = "https://github.com/kdebug/kdebug"
PLUGINS = ("why", "endpoints-check", "oomcheck", "probecheck")
KUBECTL = shutil.which("kubectl")
# The system's python3, as a Krew user has it: not this test run's virtual environment.
SYSTEM_PYTHON = next((p for p in ("/usr/bin/python3", "/usr/local/bin/python3") if os.path.exists(p)),
                     getattr(sys, "_base_executable", sys.executable))


def _load_tool(name: str):
    spec = importlib.util.spec_from_file_location(f"_kdebug_{name}", os.path.join(ROOT, "tools", f"{name}.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


build_dist = _load_tool("build_dist")


def scenario(name: str) -> str:
    return os.path.join(SCENARIOS, name)


@dataclass
class Dist:
    path: str
    sha256: str
    data: bytes
    version: str
    manifests: str  # directory of manifests updated for this archive
    interpreters: list

    def members(self) -> Dict[str, tarfile.TarInfo]:
        return krewlib.archive_members(self.data)

    def manifest(self, plugin: str) -> str:
        return os.path.join(self.manifests, f"{plugin}.yaml")


def _snapshot(dest: str) -> str:
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", ".*")
    for d in ("kdebug_core", "plugins", "man"):
        if os.path.isdir(os.path.join(ROOT, d)):
            shutil.copytree(os.path.join(ROOT, d), os.path.join(dest, d), ignore=ignore)
    for f in ("LICENSE", "README.md", "setup.cfg", "pyproject.toml"):
        if os.path.exists(os.path.join(ROOT, f)):
            shutil.copy2(os.path.join(ROOT, f), os.path.join(dest, f))
    return dest


@pytest.fixture(scope="session")
def source(tmp_path_factory) -> str:
    return _snapshot(str(tmp_path_factory.mktemp("source")))


@pytest.fixture(scope="session")
def interpreters():
    found = build_dist.find_interpreters()
    assert found, "no Python >= 3.9 to compile bytecode with"
    return found


def build_archive(source: str, out_dir: str, interpreters) -> tuple:
    return build_dist.build(out_dir, interpreters, WHEEL_CACHE, build_dist.DEFAULT_EPOCH, source,
                            log=lambda *a: None)


@pytest.fixture(scope="session")
def dist(source, interpreters, tmp_path_factory) -> Dist:
    out = str(tmp_path_factory.mktemp("dist"))
    path, digest = build_archive(source, out, interpreters)
    version = build_dist.read_version(source)
    manifests = os.path.join(out, "manifests")
    shutil.copytree(os.path.join(ROOT, "krew-manifests", "plugins"), manifests)
    build_dist.update_manifests(manifests, version, build_dist.release_uri(REPO_URL, version),
                                digest, REPO_URL)
    with open(path, "rb") as fh:
        data = fh.read()
    return Dist(path, digest, data, version, manifests, interpreters)


@pytest.fixture(scope="session")
def unpacked(dist, tmp_path_factory) -> str:
    """The archive extracted the way Krew extracts it (for tests that look inside)."""
    target = str(tmp_path_factory.mktemp("unpacked"))
    krewlib.extract(dist.data, target)
    return target


@dataclass
class KrewInstall:
    root: str
    bin: str
    links: Dict[str, str]

    def store(self, plugin: str, version: str) -> str:
        return os.path.join(self.root, "store", plugin, version)


@pytest.fixture(scope="session")
def krew(dist, tmp_path_factory) -> KrewInstall:
    root = str(tmp_path_factory.mktemp("krew-root"))
    links = {p: krewlib.install(dist.manifest(p), dist.data, root) for p in PLUGINS}
    return KrewInstall(root, os.path.join(root, "bin"), links)


@pytest.fixture(scope="session")
def sysbin(tmp_path_factory) -> str:
    """A directory holding only python3 (the system's) and kubectl."""
    assert KUBECTL, "kubectl is needed on PATH (.ci/run installs it)"
    d = str(tmp_path_factory.mktemp("sysbin"))
    os.symlink(SYSTEM_PYTHON, os.path.join(d, "python3"))
    os.symlink(KUBECTL, os.path.join(d, "kubectl"))
    return d


def bare_env(path_dirs: List[str], home: str, kubeconfig: Optional[str] = None, **extra) -> dict:
    env = {"PATH": os.pathsep.join(path_dirs), "HOME": home, "LANG": "C.UTF-8"}
    env["KUBECONFIG"] = kubeconfig or os.path.join(home, "no-such-kubeconfig")
    env.update(extra)
    return env


@dataclass
class Run:
    returncode: int
    stdout: str
    stderr: str

    def json(self):
        return json.loads(self.stdout)

    def reasons(self):
        return {(f["reason"], f["object"]["name"]) for f in self.json()["findings"]}


def run(args, env, cwd=None, timeout=120, stdin=None) -> Run:
    proc = subprocess.run(args, env=env, cwd=cwd, capture_output=True, text=True, timeout=timeout,
                          input=stdin)
    return Run(proc.returncode, proc.stdout, proc.stderr)


@pytest.fixture
def standin():
    """Start a stand-in API server holding the objects (and logs) of scenario folders."""
    servers = []

    def start(*paths: str, **kw) -> StandInAPIServer:
        loaded = load(list(paths))
        logs = log_runs(loaded)
        server = StandInAPIServer(objects=list(loaded.objects.values()), logs=logs, **kw).start()
        servers.append(server)
        return server

    yield start
    for s in servers:
        s.stop()


def expected(scenario_dir: str, plugin: str):
    """(reason, object name) pairs scenarios/<x>/expected.yaml requires of a plugin."""
    import yaml

    with open(os.path.join(scenario_dir, "expected.yaml"), encoding="utf-8") as fh:
        doc = yaml.safe_load(fh) or {}
    return {(e["reason"], e["object"]["name"]) for e in doc.get(plugin) or []}


def tar_bytes(entries) -> bytes:
    """A .tar.gz of (TarInfo, data-or-None) pairs, for the installer's refusal tests."""
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w:gz") as tar:
        for info, data in entries:
            tar.addfile(info, io.BytesIO(data) if data is not None else None)
    return raw.getvalue()


def all_pyc_files(root: str) -> List[str]:
    return sorted(glob.glob(os.path.join(root, "**", "__pycache__", "*.pyc"), recursive=True))


def _kubectl_minor() -> int:
    try:
        out = subprocess.run(["kubectl", "version", "--client", "-o", "json"], capture_output=True,
                             text=True, timeout=30).stdout
        return int("".join(ch for ch in json.loads(out)["clientVersion"]["minor"] if ch.isdigit()))
    except Exception:
        return 0


def complete(plugin: str, args: List[str], env) -> Run:
    """Shell completion as kubectl asks for it. kubectl ≥ 1.26 runs `kubectl_complete-PLUGIN` for
    `kubectl __complete PLUGIN ...`; an older kubectl (Debian's kubernetes-client is 1.20) cannot,
    so the helper is called the way kubectl would call it."""
    if _kubectl_minor() >= 26:
        return run(["kubectl", "__complete", plugin, *args], env)
    return run(["kubectl_complete-" + plugin.replace("-", "_"), *args], env)
