"""End-to-end harness: the stand-in API server, and the plugins run the way users run them.

* `cluster(*paths, **server_kw)` starts a StandInAPIServer holding the objects (and logs) of
  fixture or scenario files and writes a kubeconfig for it.
* `kubectl(cluster, *args)` runs the REAL kubectl, which dispatches `kubectl why ...` to the
  `kubectl-why` executable found on PATH (the project's installed console scripts).
* `plugin(name, *args)` runs an executable directly, as for `kubectl-why -f FILE`.

PATH holds only the venv's bin directory (the console scripts), kubectl's directory and the
system directories; HOME is a temporary directory so kubectl's cache and config stay out of the
user's.
"""

import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from typing import List, Optional

import pytest

from kdebug_core.sources.files import load, log_runs
from tests.standin.apiserver import StandInAPIServer

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SCENARIOS = os.path.join(ROOT, "scenarios")
VENV_BIN = os.path.dirname(sys.executable)
KUBECTL = shutil.which("kubectl")


def scenario(name: str) -> str:
    return os.path.join(SCENARIOS, name)


@dataclass
class Result:
    returncode: int
    stdout: str
    stderr: str

    def json(self) -> dict:
        return json.loads(self.stdout)

    def reasons(self) -> List[str]:
        return [f["reason"] for f in self.json()["findings"]]


@dataclass
class Cluster:
    server: StandInAPIServer
    kubeconfig: str

    @property
    def requests(self):
        return self.server.requests

    def gets_only(self) -> bool:
        return all(r.method == "GET" for r in self.server.requests)

    def api_requests(self):
        """Requests a plugin made (kubectl's own discovery requests left out)."""
        return [r for r in self.server.requests
                if (r.header("User-Agent") or "").startswith("kdebug")]


def server_logs(loaded) -> dict:
    # A dump holds each container's latest output: for a crash-looping container the previous
    # (crashed) run, served as both; for a running one the current run only.
    return log_runs(loaded)


@pytest.fixture
def cluster(tmp_path):
    started = []

    def start(*paths: str, namespace: Optional[str] = "default", extra_objects=(), **server_kw) -> Cluster:
        loaded = load(paths)
        objects = list(loaded.objects.values()) + list(extra_objects)
        server = StandInAPIServer(objects=objects, logs=server_logs(loaded), **server_kw).start()
        started.append(server)
        kubeconfig = server.write_kubeconfig(str(tmp_path / f"kubeconfig-{len(started)}"),
                                             namespace=namespace)
        return Cluster(server, kubeconfig)

    yield start
    for server in started:
        server.stop()


def _env(tmp_home: str, kubeconfig: Optional[str] = None) -> dict:
    path = [VENV_BIN]
    if KUBECTL:
        path.append(os.path.dirname(os.path.realpath(KUBECTL)))
        path.append(os.path.dirname(KUBECTL))
    path += ["/usr/local/bin", "/usr/bin", "/bin"]
    env = {"PATH": os.pathsep.join(dict.fromkeys(path)), "HOME": tmp_home, "LANG": "C.UTF-8"}
    if kubeconfig:
        env["KUBECONFIG"] = kubeconfig
    return env


@pytest.fixture
def kubectl(tmp_path):
    assert KUBECTL, "kubectl is needed on PATH for plugin dispatch (.ci/run installs it)"
    home = tmp_path / "home"
    home.mkdir(exist_ok=True)

    def run(cluster: Optional[Cluster], *args: str, stdin: Optional[str] = None,
            timeout: float = 60) -> Result:
        proc = subprocess.run(["kubectl", *args], input=stdin, capture_output=True, text=True,
                              env=_env(str(home), cluster.kubeconfig if cluster else None),
                              timeout=timeout)
        return Result(proc.returncode, proc.stdout, proc.stderr)

    return run


@pytest.fixture
def plugin(tmp_path):
    home = tmp_path / "home"
    home.mkdir(exist_ok=True)

    def run(executable: str, *args: str, stdin: Optional[str] = None, kubeconfig: Optional[str] = None,
            timeout: float = 60) -> Result:
        proc = subprocess.run([os.path.join(VENV_BIN, executable), *args], input=stdin,
                              capture_output=True, text=True, env=_env(str(home), kubeconfig),
                              timeout=timeout, cwd=ROOT)
        return Result(proc.returncode, proc.stdout, proc.stderr)

    return run


@pytest.fixture
def unreachable_kubeconfig(tmp_path):
    """(kubeconfig path, "127.0.0.1:PORT") for a server address where nothing listens."""
    import socket
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    address = "127.0.0.1:%d" % sock.getsockname()[1]
    sock.close()  # nothing listens there now
    cfg = tmp_path / "unreachable-kubeconfig"
    cfg.write_text(f"""apiVersion: v1
kind: Config
clusters: [{{name: gone, cluster: {{server: "http://{address}"}}}}]
users: [{{name: u, user: {{token: t}}}}]
contexts: [{{name: gone, context: {{cluster: gone, user: u}}}}]
current-context: gone
""")
    return str(cfg), address
