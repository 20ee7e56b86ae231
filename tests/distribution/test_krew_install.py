"""Installing the archive the way Krew does, then running the plugins with nothing but the system's
python3 and kubectl on PATH: no pip, no project virtual environment."""

import os
import re
import subprocess
import tarfile

import pytest

from tests.distribution import krew as krewlib
from tests.distribution.conftest import (PLUGINS, complete, ROOT, bare_env, build_dist, expected, run, scenario,
                                         tar_bytes)

DIAGNOSES = [
    ("why", "01-image-pull-error"),
    ("endpoints-check", "04-service-connectivity"),
    ("oomcheck", "03-resource-constraints"),
    ("probecheck", "06-liveness-readiness"),
]


def _env(krew, sysbin, tmp_path, kubeconfig=None, extra_path=()):
    return bare_env([krew.bin, sysbin, *extra_path], str(tmp_path), kubeconfig)


def test_krew_layout_store_and_links(krew, dist):
    for plugin in PLUGINS:
        link = krew.links[plugin]
        assert os.path.basename(link) == "kubectl-" + plugin.replace("-", "_")
        assert os.path.islink(link)
        store = krew.store(plugin, f"v{dist.version}")
        assert os.readlink(link) == os.path.join(store, "plugins", os.path.basename(link))
        assert os.access(link, os.X_OK)
        assert os.path.isfile(os.path.join(store, "LICENSE"))


@pytest.mark.parametrize("plugin", ["why", "endpoints-check"])
def test_help_through_kubectl_plugin_dispatch(plugin, krew, sysbin, tmp_path):
    result = run(["kubectl", plugin, "--help"], _env(krew, sysbin, tmp_path), cwd=str(tmp_path))
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith(f"usage: kubectl {plugin} ")
    assert "--namespace" in result.stdout and "exit codes:" in result.stdout
    assert result.stderr == ""


@pytest.mark.parametrize("plugin,folder", DIAGNOSES)
def test_offline_diagnosis_of_a_scenario(plugin, folder, krew, sysbin, tmp_path):
    result = run(["kubectl", plugin, "-f", scenario(folder), "-A", "-o", "json"],
                 _env(krew, sysbin, tmp_path), cwd=str(tmp_path))
    assert result.returncode == 1, result.stderr  # problems found
    want = expected(scenario(folder), plugin)
    assert want and want <= result.reasons()


def test_live_diagnosis_with_the_vendored_kubernetes(krew, sysbin, standin, tmp_path):
    server = standin(scenario("02-crashloop-backoff"))
    kubeconfig = server.write_kubeconfig(str(tmp_path / "kubeconfig"), namespace="default")
    result = run(["kubectl", "why", "deploy/crasher", "-o", "json"],
                 _env(krew, sysbin, tmp_path, kubeconfig), cwd=str(tmp_path))
    assert result.returncode == 1, result.stderr
    assert ("CrashLoopBackOff", "crasher-859cdd79dd-fp4lk") in result.reasons()
    ours = [r for r in server.requests if (r.header("User-Agent") or "").startswith("kdebug")]
    assert ours and all(r.method == "GET" for r in server.requests)


def test_kubectl_plugin_list_shows_the_four_without_warnings(krew, sysbin, tmp_path):
    result = run(["kubectl", "plugin", "list"], _env(krew, sysbin, tmp_path))
    assert result.returncode == 0, result.stderr
    listed = [line for line in result.stdout.splitlines() if line.startswith("/")]
    assert sorted(listed) == sorted(krew.links.values())
    assert "warning" not in result.stderr.lower()


def _doc_block(marker: str) -> str:
    with open(os.path.join(ROOT, "README.md"), encoding="utf-8") as fh:
        text = fh.read()
    m = re.search(re.escape(f"<!-- {marker} -->") + r"\s*```sh\n(.*?)```", text, re.S)
    assert m, f"README.md has no block marked {marker}"
    return m.group(1)


def test_the_documented_completion_one_liner_works_after_krew_install(krew, sysbin, standin, tmp_path):
    env = bare_env([krew.bin, sysbin, "/usr/bin", "/bin"], str(tmp_path), KREW_ROOT=krew.root)
    proc = subprocess.run(["sh", "-c", _doc_block("kdebug:krew-completion")], env=env,
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    for plugin in PLUGINS:
        assert os.access(os.path.join(krew.bin, "kubectl_complete-" + plugin.replace("-", "_")), os.X_OK)

    server = standin(scenario("02-crashloop-backoff"), scenario("04-service-connectivity"))
    kubeconfig = server.write_kubeconfig(str(tmp_path / "kubeconfig"), namespace="default")
    env["KUBECONFIG"] = kubeconfig
    pods = complete("why", ["cra"], env)
    assert pods.stdout.splitlines() == ["crasher-859cdd79dd-fp4lk", ":4"], pods.stdout + pods.stderr
    services = complete("endpoints-check", ["back"], env)
    assert services.stdout.splitlines() == ["backend-service", ":4"]


def test_the_documented_man_page_line_works_after_krew_install(krew, tmp_path):
    env = bare_env([krew.bin, "/usr/bin", "/bin"], str(tmp_path), KREW_ROOT=krew.root)
    proc = subprocess.run(["sh", "-c", _doc_block("kdebug:krew-man")], env=env, capture_output=True,
                          text=True)
    assert proc.returncode == 0, proc.stderr
    where = run(["man", "-w", "kubectl-why"], env)
    assert where.stdout.strip() == os.path.join(krew.root, "share", "man", "man1", "kubectl-why.1")


def test_every_supported_python_runs_the_archive_on_its_shipped_bytecode(krew, dist, tmp_path):
    """Each interpreter the bytecode was compiled for runs a diagnosis from the Krew store and
    writes no new .pyc: the shipped bytecode is what it used."""
    store = krew.store("oomcheck", f"v{dist.version}")
    before = sorted(os.path.join(d, f) for d, _, fs in os.walk(store) for f in fs)
    for tag, exe in dist.interpreters:
        result = run([exe, os.path.join(store, "plugins", "kubectl-oomcheck"),
                      "-f", scenario("03-resource-constraints"), "-A", "-o", "json"],
                     bare_env(["/usr/bin", "/bin"], str(tmp_path)), cwd=str(tmp_path))
        assert result.returncode == 1, f"{tag}: {result.stderr}"
        assert expected(scenario("03-resource-constraints"), "oomcheck") <= result.reasons(), tag
    after = sorted(os.path.join(d, f) for d, _, fs in os.walk(store) for f in fs)
    assert after == before


def _other_python(shipped_tags):
    """An installed CPython >= 3.9 the archive has no bytecode for, or None."""
    import glob
    for exe in sorted(glob.glob(os.path.expanduser("~/.pyenv/versions/3.*/bin/python3"))) + \
            [f"/usr/bin/python3.{n}" for n in range(9, 15)]:
        info = build_dist.interpreter_tag(exe) if os.path.exists(exe) else None
        if info and info[1] >= (3, 9) and info[0] not in shipped_tags:
            return exe, info[0]
    return None


def test_a_python_without_shipped_bytecode_compiles_on_first_run(krew, dist, tmp_path):
    """Bytecode ships for one or two interpreters; any other Python >= 3.9 runs the same archive
    and compiles what it imports on its first run (into the store, when it may write there)."""
    shipped = {tag for tag, _ in dist.interpreters}
    other = _other_python(shipped)
    if other is None:
        pytest.skip("no other Python >= 3.9 installed here")
    exe, tag = other
    store = krew.store("oomcheck", f"v{dist.version}")
    for _ in range(2):  # the first run compiles, the second uses what it wrote
        result = run([exe, os.path.join(store, "plugins", "kubectl-oomcheck"),
                      "-f", scenario("03-resource-constraints"), "-A", "-o", "json"],
                     bare_env(["/usr/bin", "/bin"], str(tmp_path)), cwd=str(tmp_path))
        assert result.returncode == 1, f"{tag}: {result.stderr}"
        assert expected(scenario("03-resource-constraints"), "oomcheck") <= result.reasons(), tag
    written = [f for d, _, fs in os.walk(store) for f in fs if f".{tag}." in f]
    assert written, f"{tag} wrote no bytecode into the store"


# ---- what Krew refuses ---------------------------------------------------------------------------

def _file(name, data=b"x", mode=0o644):
    info = tarfile.TarInfo(name)
    info.size, info.mode = len(data), mode
    return info, data


def test_installer_refuses_a_symlink(tmp_path):
    link = tarfile.TarInfo("plugins/kubectl-why")
    link.type, link.linkname = tarfile.SYMTYPE, "/bin/sh"
    with pytest.raises(krewlib.InstallError, match="unable to handle"):
        krewlib.extract(tar_bytes([_file("LICENSE"), (link, None)]), str(tmp_path))


def test_installer_refuses_parent_paths(tmp_path):
    with pytest.raises(krewlib.InstallError, match="suspicious"):
        krewlib.extract(tar_bytes([_file("plugins/../../evil")]), str(tmp_path))


def test_installer_refuses_an_archive_with_another_sha256(dist, tmp_path):
    other = tar_bytes([_file("LICENSE")])
    with pytest.raises(krewlib.InstallError, match="checksum"):
        krewlib.install(dist.manifest("why"), other, str(tmp_path))
