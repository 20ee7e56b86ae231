"""kubectl-plugin manners: --version, colour the way terminals expect, ages as kubectl prints them,
absolute times with their zone, a workload name given as a pod name, tables without empty
columns, --probe-now's 404 and an old Python met with one clear line."""

import io
import json
import os
import subprocess
import sys
from datetime import datetime, timezone
from types import SimpleNamespace

import pytest

from kdebug_core import __version__
from kdebug_core.cli import Options, build_parser, client_version
from kdebug_core.main import run
from kdebug_core.plugins import PLUGINS
from kdebug_core.timeutil import clock, human_duration
from tests.helpers import ROOT, SCENARIOS

LAUNCHERS = ("kubectl-why", "kubectl-endpoints_check", "kubectl-oomcheck", "kubectl-probecheck")


def _run(plugin, *args, env=None):
    out, err = io.StringIO(), io.StringIO()
    old = dict(os.environ)
    try:
        if env is not None:
            os.environ.update(env)
        code = run(plugin, list(args), stdout=out, stderr=err)
    except SystemExit as exc:  # argparse's --version / --help
        code = exc.code
    finally:
        os.environ.clear()
        os.environ.update(old)
    return code, out.getvalue(), err.getvalue()


# ---- --version ---------------------------------------------------------------------------------

def test_version_prints_ours_and_the_client_librarys_without_importing_it():
    code = ("import sys\n"
            "from kdebug_core.cli import build_parser\n"
            "try:\n    build_parser('why').parse_args(['--version'])\nexcept SystemExit as e:\n"
            "    assert e.code == 0\n"
            "assert 'kubernetes' not in sys.modules, 'the client library was imported'\n")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert proc.returncode == 0, proc.stderr
    line = proc.stdout.strip()
    assert line.startswith(f"kubectl why (kdebug) {__version__}; kubernetes client ")
    from importlib.metadata import version
    assert f"kubernetes client {version('kubernetes')};" in line and "Python 3." in line


def test_client_version_is_read_from_the_vendored_package_when_there_is_no_metadata(tmp_path, monkeypatch):
    pkg = tmp_path / "kubernetes"
    pkg.mkdir()
    (pkg / "__init__.py").write_text('__project__ = "kubernetes"\n__version__ = "35.0.0"\n')
    import importlib.metadata as md
    monkeypatch.setattr(md, "version", lambda name: (_ for _ in ()).throw(md.PackageNotFoundError(name)))
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delitem(sys.modules, "kubernetes", raising=False)
    assert client_version() == "35.0.0"


@pytest.mark.parametrize("launcher", LAUNCHERS)
def test_every_launcher_answers_version(launcher):
    proc = subprocess.run([sys.executable, os.path.join(ROOT, "plugins", launcher), "--version"],
                          capture_output=True, text=True)
    assert proc.returncode == 0 and f"(kdebug) {__version__}" in proc.stdout


# ---- colour ------------------------------------------------------------------------------------

class _Tty(io.StringIO):
    def isatty(self):
        return True


def _colour(args, env):
    spec = PLUGINS["why"]
    old = dict(os.environ)
    try:
        for k in ("NO_COLOR", "TERM"):
            os.environ.pop(k, None)
        os.environ.update(env)
        ns = build_parser("why").parse_args(["-A", *args])
        return Options.from_args(spec, ns).complete(_Tty()).color
    finally:
        os.environ.clear()
        os.environ.update(old)


@pytest.mark.parametrize("args,env,expected", [
    ([], {"TERM": "xterm-256color"}, True),
    ([], {"TERM": "dumb"}, False),                        # TERM=dumb: no escape codes
    ([], {"TERM": "xterm", "NO_COLOR": "1"}, False),
    (["--color=never"], {"TERM": "xterm"}, False),
    (["--no-color"], {"TERM": "xterm"}, False),
    (["--color=always"], {"TERM": "dumb", "NO_COLOR": "1"}, True),  # asked for explicitly
    (["--color=auto"], {"TERM": "xterm"}, True),
    (["--color=always", "-o", "json"], {}, False),        # never inside JSON
])
def test_colour_modes(args, env, expected):
    assert _colour(args, env) is expected


def test_colour_always_colours_a_pipe_and_a_bad_mode_is_a_usage_error():
    code, out, _ = _run("why", "-f", os.path.join(SCENARIOS, "01-image-pull-error"), "-A", "--color=always")
    assert code == 1 and "\x1b[31m" in out
    code, _, err = _run("why", "-A", "--color=sometimes")
    assert code == 2 and "--color" in err


# ---- times -------------------------------------------------------------------------------------

@pytest.mark.parametrize("seconds,text", [
    (45, "45s"), (119, "119s"), (200, "3m20s"), (300, "5m"), (42 * 60, "42m"), (179 * 60, "179m"),
    (5 * 3600 + 30 * 60, "5h30m"), (7 * 3600, "7h"), (20 * 3600, "20h"), (51 * 3600, "2d3h"),
    (3 * 86400, "3d"), (30 * 86400, "30d"), (800 * 86400, "2y70d"), (9 * 365 * 86400, "9y"),
    (-5, "0s"),
])
def test_ages_are_the_ones_kubectl_prints(seconds, text):
    # k8s.io/apimachinery/pkg/util/duration.HumanDuration, the AGE column of kubectl get
    assert human_duration(seconds) == text


def test_absolute_times_carry_their_zone():
    assert clock("2026-11-20T10:03:22Z") == "10:03:22 UTC"
    assert clock(datetime(2026, 11, 20, 12, 3, 22, tzinfo=timezone.utc)) == "12:03:22 UTC"
    code, out, _ = _run("oomcheck", "-f", os.path.join(SCENARIOS, "03-resource-constraints"), "-A", "-o", "json")
    f = json.loads(out)["findings"][0]
    assert any(", at " in e and " UTC after running" in e for e in f["evidence"]), f["evidence"]


def test_the_wide_timeline_says_its_zone():
    code, out, _ = _run("why", "-f", os.path.join(SCENARIOS, "02-crashloop-backoff"), "-A", "-o", "wide")
    assert "timeline (UTC):" in out


# ---- a workload's name given as a pod name -------------------------------------------------------

def test_a_deployment_name_given_as_a_pod_gets_did_you_mean_deploy():
    code, out, err = _run("why", "-f", os.path.join(SCENARIOS, "02-crashloop-backoff"), "crasher")
    assert code == 2 and out == ""
    assert err.strip() == 'error: pod "crasher" not found in namespace default; did you mean deploy/crasher?'


# ---- tables ------------------------------------------------------------------------------------

def test_endpoints_check_overview_has_no_always_empty_container_column():
    code, out, _ = _run("endpoints-check", "-f", SCENARIOS, "-A")
    header = out.splitlines()[0].split()
    assert header == ["NAMESPACE", "NAME", "REASON", "OWNER"]


def test_why_overview_keeps_the_container_column_it_fills():
    code, out, _ = _run("why", "-f", SCENARIOS, "-A")
    assert out.splitlines()[0].split()[:3] == ["NAMESPACE", "NAME", "CONTAINER"]


# ---- --probe-now and the API server's 404 --------------------------------------------------------

def test_probe_now_reports_the_proxys_404_instead_of_nothing():
    from kdebug_core.probe_now import Session
    status = json.dumps({"kind": "Status", "apiVersion": "v1", "status": "Failure",
                         "message": 'pods "web-1" not found', "reason": "NotFound", "code": 404})
    notes = []
    view = SimpleNamespace(backend=SimpleNamespace(raw_get=lambda url, timeout: (404, status)),
                           note=notes.append, options=SimpleNamespace(scan=False))
    probe = SimpleNamespace(scheme="HTTP", path="/healthz", timeout=1)
    outcome = Session(view)._get("default", "web-1", probe, 8080)
    assert outcome is not None and outcome.cause == "Unreachable" and outcome.status is None
    text = outcome.evidence()
    assert text.startswith("probe now: GET /healthz → not reached (port 8080")
    assert 'the API server answered 404 Not Found: pods "web-1" not found; the pod is gone' in text
    # the app's own 404 (its body, not a Status) stays an HTTP status
    view.backend.raw_get = lambda url, timeout: (404, "<html>404 page not found</html>")
    app = Session(view)._get("default", "web-1", probe, 8080)
    assert (app.status, app.cause) == (404, "HTTPStatus")


# ---- an old Python -----------------------------------------------------------------------------

@pytest.mark.parametrize("launcher", LAUNCHERS)
def test_a_launcher_under_python_3_8_says_so_and_exits_2(launcher, tmp_path):
    """The launcher is run as an old interpreter would run it: sys.version_info says 3.8."""
    path = os.path.join(ROOT, "plugins", launcher)
    fake = ("import sys\n"
            "sys.version_info = (3, 8, 10, 'final', 0)\n"
            "sys.executable = '/usr/bin/python3'\n"
            f"sys.argv = [{path!r}, '-A']\n"
            f"exec(compile(open({path!r}).read(), {path!r}, 'exec'), {{'__name__': '__main__', "
            f"'__file__': {path!r}}})\n")
    proc = subprocess.run([sys.executable, "-c", fake], capture_output=True, text=True)
    assert proc.returncode == 2
    assert proc.stderr == "kdebug needs Python 3.9 or newer (found 3.8 at /usr/bin/python3)\n"
    assert proc.stdout == ""


def test_the_launchers_version_check_parses_on_old_pythons():
    """No f-string, walrus or other 3.6+ syntax before the check (it must parse on old Pythons
    to refuse them): the lines up to the check are plain enough for Python 3.0's grammar."""
    import ast
    for launcher in LAUNCHERS:
        with open(os.path.join(ROOT, "plugins", launcher)) as fh:
            src = fh.read()
        head = src[:src.index("sys.exit(2)") + len("sys.exit(2)")]
        tree = ast.parse(head)
        assert not any(isinstance(n, (ast.JoinedStr, ast.NamedExpr)) for n in ast.walk(tree)), launcher
