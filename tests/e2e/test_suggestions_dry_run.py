"""Every command any plugin suggests for any scenario is one kubectl accepts.

The suggestions of all four plugins over all scenarios are run, finding by finding and in order
(a `kubectl get ... -o yaml > job.yaml` writes the file the next `kubectl replace` reads), by the
REAL kubectl against the stand-in API server holding the scenarios:

* read commands (get, describe, logs, explain) really run: the objects, names, field selectors,
  JSONPath and flags must all be right;
* commands that would change something (set, patch, create, apply, delete, label, uncordon,
  expose, replace) run with `--dry-run=client`: kubectl reads the object from the server and
  applies the change locally, so a patch body that does not fit the object, a bad quantity or a
  wrong flag fails; nothing is written (the stand-in is read-only anyway);
* interactive ones (exec, debug, run -it, port-forward, top, edit) get `--help` inserted after
  the verb: kubectl's own flag parser still rejects an unknown flag or subcommand;
* kubectl plugins (`kubectl why ...`) run through kubectl's plugin dispatch.

Placeholders a person fills in (IMAGE:TAG, LIMIT, FILE...) get sample values first; files the
commands read (`--from-file=./password.txt`) exist in the working directory. Every command line
must also parse in bash (`bash -n`).
"""

import io
import json
import os
import re
import shlex
import subprocess
from typing import Dict, List, Optional

import pytest

from kdebug_core.main import run
from kdebug_core.sources.files import load
from tests.e2e.conftest import KUBECTL, SCENARIOS, _env, server_logs
from tests.standin.apiserver import StandInAPIServer

pytestmark = pytest.mark.skipif(not KUBECTL, reason="needs kubectl on PATH")

PLUGINS = ("why", "oomcheck", "probecheck", "endpoints-check")
READ = {"get", "describe", "logs", "explain", "api-resources", "auth"}
MUTATE = {"set", "patch", "create", "apply", "delete", "label", "annotate", "uncordon", "cordon",
          "expose", "replace", "scale", "taint"}
HELP_ONLY = {"exec", "debug", "run", "port-forward", "top", "edit", "attach", "cp"}
PLUGIN_VERBS = {"why", "oomcheck", "probecheck", "endpoints-check"}
# What a person types for the placeholders (whole words only).
PLACEHOLDERS = {"IMAGE:TAG": "nginx:1.27", "LIMIT": "1Gi", "REQUEST": "512Mi", "VALUE": "1Gi",
                "PORT_NAME_OR_NUMBER": "8080", "PORT": "8080", "NODE": "kind-worker",
                "STORAGECLASS": "standard", "REGISTRY": "registry.example.com", "USER": "someone"}
FILES = {"app.env": "KEY=value\n", "secret.env": "KEY=value\n", "config.yaml": "a: 1\n",
         "CERT_FILE": "", "KEY_FILE": "", "MANIFEST.yaml": ""}


def _fix_sequences() -> Dict[str, List[List[str]]]:
    """plugin -> the suggestion lists of its findings (related findings included), deduplicated."""
    out: Dict[str, List[List[str]]] = {}
    for plugin in PLUGINS:
        buf, err = io.StringIO(), io.StringIO()
        code = run(plugin, ["-f", SCENARIOS, "-A", "-o", "json"], stdout=buf, stderr=err)
        assert code in (0, 1), err.getvalue()
        seqs: List[List[str]] = []

        def walk(f):
            if f["suggestions"] and f["suggestions"] not in seqs:
                seqs.append(f["suggestions"])
            for r in f.get("related") or []:
                walk(r)
        for f in json.loads(buf.getvalue())["findings"]:
            walk(f)
        out[plugin] = seqs
    return out


SEQUENCES = _fix_sequences()
CASES = [(plugin, i) for plugin, seqs in SEQUENCES.items() for i in range(len(seqs))]


@pytest.fixture(scope="module")
def standin(tmp_path_factory):
    loaded = load([SCENARIOS])
    server = StandInAPIServer(objects=list(loaded.objects.values()), logs=server_logs(loaded),
                              metrics_enabled=True).start()
    home = tmp_path_factory.mktemp("home")
    kubeconfig = server.write_kubeconfig(str(home / "kubeconfig"), namespace="default")
    yield _env(str(home), kubeconfig)
    server.stop()


def _fill(cmd: str) -> str:
    for word, value in PLACEHOLDERS.items():
        cmd = re.sub(rf"(?<![\w./-]){re.escape(word)}(?![\w.-])", value, cmd)
    return cmd


def _segments(cmd: str) -> List[List[str]]:
    """The command split at |, && and ;, each segment's words (redirections kept as words)."""
    lex = shlex.shlex(cmd, posix=True, punctuation_chars=True)
    lex.whitespace_split = True
    segs: List[List[str]] = [[]]
    for tok in lex:
        if tok in ("|", "&&", ";"):
            segs.append([])
        else:
            segs[-1].append(tok)
    return [s for s in segs if s]


def _kubectl(words: List[str], env: dict, cwd: str, stdin: Optional[str]) -> subprocess.CompletedProcess:
    return subprocess.run(words, input=stdin, capture_output=True, text=True, env=env, cwd=cwd, timeout=60)


def _verb(words: List[str]) -> str:
    return next((w for w in words[1:] if not w.startswith("-")), "")


def _check_kubectl(words: List[str], env: dict, cwd: str, stdin: Optional[str], original: str) -> Optional[str]:
    """Run one kubectl segment the way its verb allows; returns its stdout."""
    redirect = None
    if ">" in words:
        i = words.index(">")
        words, redirect = words[:i], words[i + 1]
    verb = _verb(words)
    if verb in PLUGIN_VERBS:
        proc = _kubectl(words, env, cwd, stdin)
        assert proc.returncode in (0, 1), f"{original}\n{proc.stderr}"
        return proc.stdout
    if verb == "rollout":
        sub = next((w for w in words[words.index("rollout") + 1:] if not w.startswith("-")), "")
        if sub in ("undo", "restart", "pause", "resume"):
            words = words + ["--dry-run=client"]
        elif sub == "status":
            # one look, no waiting; a stuck rollout is exit 1 by design ("exceeded its progress deadline")
            proc = _kubectl(words + ["--watch=false"], env, cwd, stdin)
            assert proc.returncode == 0 or "exceeded its progress deadline" in proc.stderr, \
                f"{original}\n{proc.stderr}"
            return proc.stdout
        else:
            assert sub == "history", f"no rule for kubectl rollout {sub}: {original}"
    elif verb in HELP_ONLY:
        # before `--` (what follows goes to the container); cobra still parses every flag
        at = words.index("--") if "--" in words else len(words)
        words = words[:at] + ["--help"] + words[at:]
    elif verb in MUTATE:
        if "--" in words:
            i = words.index("--")
            words = words[:i] + ["--dry-run=client"] + words[i:]
        elif not any(w.startswith("--dry-run") for w in words):
            words = words + ["--dry-run=client"]
        if verb == "replace" and "--force" in words:
            words.remove("--force")  # --force deletes first: kubectl refuses it with a dry run
        if "-f" in words:
            words.append("--validate=false")  # the stand-in serves no OpenAPI schema to validate with
    elif verb != "rollout":
        assert verb in READ, f"no rule for kubectl {verb}: {original}"
    proc = _kubectl(words, env, cwd, stdin)
    assert proc.returncode == 0, f"{original}\n→ {shlex.join(words)}\n{proc.stderr}{proc.stdout[-500:]}"
    assert "unknown flag" not in proc.stderr and "unknown shorthand" not in proc.stderr, proc.stderr
    if redirect:
        with open(os.path.join(cwd, redirect), "w") as fh:
            fh.write(proc.stdout)
    return proc.stdout


def _check(cmd: str, env: dict, cwd: str):
    syntax = subprocess.run(["bash", "-n", "-c", cmd], capture_output=True, text=True)
    assert syntax.returncode == 0, f"bash cannot parse: {cmd}\n{syntax.stderr}"
    filled = _fill(cmd)
    stdin = None
    for words in _segments(filled):
        head = words[0]
        if head == "kubectl":
            stdin = _check_kubectl(words, env, cwd, stdin, cmd)
        elif head == "echo":
            stdin = " ".join(words[1:]) + "\n"
            json.loads(stdin)  # what is piped to kubectl apply is a whole JSON object
        elif head == "read":
            assert "-s" in words[1] or "-rs" in words, f"read without -s echoes the secret: {cmd}"
            env[words[-1]] = "not-a-real-secret"
            stdin = None
        elif head in ("grep", "docker"):
            stdin = None  # a filter of the previous output, or a tool outside kubectl
        else:
            pytest.fail(f"unexpected command {head!r} in a suggestion: {cmd}")


def _tls_pair(where):
    """A throwaway self-signed certificate and key as CERT_FILE and KEY_FILE (openssl)."""
    import shutil as _shutil
    if not _shutil.which("openssl"):
        pytest.skip("needs openssl to make a certificate for `kubectl create secret tls`")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
                    "-nodes", "-days", "1", "-subj", "/CN=kdebug-test", "-keyout", str(where / "KEY_FILE"),
                    "-out", str(where / "CERT_FILE")], check=True, capture_output=True)


@pytest.mark.parametrize("plugin,index", CASES, ids=[f"{p}-{i}" for p, i in CASES])
def test_every_suggested_command_passes_kubectl(standin, tmp_path, plugin, index):
    for name, text in FILES.items():
        (tmp_path / name).write_text(text)
    if any("--cert=CERT_FILE" in c for c in SEQUENCES[plugin][index]):
        _tls_pair(tmp_path)  # kubectl create secret tls parses the pair even with --dry-run=client
    for seq_cmd in SEQUENCES[plugin][index]:
        for word in re.findall(r"--from-file=(?:[^=\s]+=)?(\S+)", seq_cmd):
            (tmp_path / word).write_text("x")
    env = dict(standin)
    for cmd in SEQUENCES[plugin][index]:
        _check(cmd, env, str(tmp_path))


def test_the_dry_run_check_catches_a_bad_command(standin, tmp_path):
    env = dict(standin)
    with pytest.raises(AssertionError):
        _check("kubectl set resources deployment/memory-hog -n default -c app --limits=memory=lots",
               env, str(tmp_path))
    with pytest.raises(AssertionError):
        _check("kubectl logs memory-hog-5bb769c8d4-2mz8t -n default --prevous", env, str(tmp_path))
    with pytest.raises(AssertionError):
        _check("kubectl debug memory-hog-5bb769c8d4-2mz8t -n default --profil=general -- sh", env, str(tmp_path))
    with pytest.raises(AssertionError):
        _check("kubectl patch deployment/memory-hog -n default --type=strategic -p '{\"spec\":", env,
               str(tmp_path))


def test_there_are_plenty_of_suggestions_to_check():
    assert sum(len(s) for seqs in SEQUENCES.values() for s in seqs) > 80
