"""The Krew archive: reproducible bytes, a tree Krew accepts, bytecode that is used as shipped, a
vendored set that is exactly what kdebug imports, and a lean size (≤ 5 MB to download, ≤ 20 MB
unpacked per plugin)."""

import os
import struct
import subprocess
import sys
import tarfile

from tests.distribution.conftest import (PLUGINS, SYSTEM_PYTHON, build_archive, build_dist, scenario)

# What every live run imports, and what kube_config's OIDC token refresh imports when it runs.
LIVE_PACKAGES = {"kubernetes", "six", "tabulate", "urllib3", "yaml"}
OIDC_PACKAGES = {"certifi", "charset_normalizer", "idna", "oauthlib", "requests", "requests_oauthlib"}
VENDORED_PACKAGES = LIVE_PACKAGES | OIDC_PACKAGES
# The kubernetes package __init__ files kdebug's light loader makes placeholder modules of,
# without running them (running them would import the whole generated client).
PLACEHOLDERS = {"kubernetes/__init__.py", "kubernetes/client/__init__.py",
                "kubernetes/config/__init__.py", "kubernetes/utils/__init__.py"}
MAX_DOWNLOAD = 5 * 1000 ** 2
MAX_UNPACKED = 20 * 1000 ** 2


def test_same_tree_gives_the_same_bytes(dist, source, interpreters, tmp_path):
    path, digest = build_archive(source, str(tmp_path), interpreters)
    assert digest == dist.sha256
    with open(path, "rb") as fh:
        assert fh.read() == dist.data


def test_a_changed_tree_gives_other_bytes(dist, source, interpreters, tmp_path):
    import shutil

    changed = str(tmp_path / "src")
    shutil.copytree(source, changed)
    with open(os.path.join(changed, "kdebug_core", "__init__.py"), "a") as fh:
        fh.write("# changed\n")
    _, digest = build_archive(changed, str(tmp_path / "out"), interpreters)
    assert digest != dist.sha256


def test_archive_is_named_after_the_version(dist):
    assert os.path.basename(dist.path) == f"kdebug-v{dist.version}.tar.gz"
    with open(dist.path + ".sha256") as fh:
        assert fh.read() == f"{dist.sha256}  kdebug-v{dist.version}.tar.gz\n"


def test_gzip_header_has_no_time_and_no_name(dist):
    magic, method, flags, mtime = struct.unpack("<HBBI", dist.data[:8])
    assert (magic, method) == (0x8B1F, 8)
    assert mtime == 0
    assert flags & 0x08 == 0  # FNAME


def test_entries_are_sorted_with_fixed_owner_time_and_modes(dist):
    with tarfile.open(dist.path) as tar:
        members = tar.getmembers()
    names = [m.name for m in members]
    # Each directory before its contents, siblings in sorted order.
    assert names == sorted(names, key=lambda n: n.split("/"))
    for m in members:
        assert (m.uid, m.gid, m.uname, m.gname) == (0, 0, "", "")
        assert m.mtime == build_dist.DEFAULT_EPOCH
        assert m.isdir() or m.isreg(), f"{m.name} is neither a file nor a directory"
        assert ".." not in m.name and not m.name.startswith("/")
        if m.isdir() or m.name.split("/")[0] in ("plugins", "completion"):
            assert m.mode == 0o755, m.name
        else:
            assert m.mode == 0o644, m.name


def test_archive_holds_launchers_licence_man_pages_and_the_package(dist):
    members = dist.members()
    for plugin in PLUGINS:
        exe = plugin.replace("-", "_")
        assert members[f"plugins/kubectl-{exe}"].mode & 0o111
        assert members[f"completion/kubectl_complete-{exe}"].mode & 0o111
        assert f"man/man1/kubectl-{plugin}.1" in members
    assert members["LICENSE"].isreg()
    assert "kdebug_core/main.py" in members and "kdebug_core/completion.py" in members
    assert "vendor/VENDORED.txt" in members


def test_no_compiled_code_is_vendored(dist):
    binary = [n for n in dist.members() if n.endswith((".so", ".pyd", ".dylib", ".dll"))]
    assert binary == []
    assert not any(n.startswith("vendor/_yaml") for n in dist.members())


def test_vendored_versions_are_the_pinned_ones(unpacked):
    with open(os.path.join(unpacked, "vendor", "VENDORED.txt")) as fh:
        pins = [line.strip() for line in fh if line.strip() and not line.startswith("#")]
    assert "kubernetes==35.0.0" in pins
    assert "pyyaml==6.0.3" in pins
    assert len(pins) == 11 and "tabulate==0.9.0" in pins
    assert not any(p.startswith(("websocket", "durationpy", "python_dateutil")) for p in pins)


def test_one_plugin_downloads_at_most_5_MB_and_unpacks_to_at_most_20_MB(dist, unpacked):
    """Krew downloads the archive once per plugin and unpacks it into each plugin's store."""
    assert len(dist.data) <= MAX_DOWNLOAD, f"{len(dist.data) / 1e6:.1f} MB"
    size = sum(os.path.getsize(os.path.join(d, f)) for d, _, fs in os.walk(unpacked) for f in fs)
    assert size <= MAX_UNPACKED, f"{size / 1e6:.1f} MB unpacked"


def test_bytecode_for_at_most_two_interpreters(dist, monkeypatch):
    tags = {n.rsplit(".", 2)[-2] for n in dist.members() if n.endswith(".pyc")}
    assert 1 <= len(tags) <= 2, tags
    import pytest
    found = iter([("cpython-311", (3, 11)), ("cpython-312", (3, 12)), ("cpython-313", (3, 13))])
    monkeypatch.setattr(build_dist, "interpreter_tag", lambda exe: next(found))
    with pytest.raises(build_dist.BuildError, match="at most 2"):
        build_dist.find_interpreters(["python3.11", "python3.12", "python3.13"])


def test_bytecode_for_every_interpreter_is_unchecked_hash(dist, interpreters):
    members = dist.members()
    sources = [n for n in members if n.endswith(".py") and n.split("/")[0] in ("kdebug_core", "vendor")]
    assert len(sources) > 100
    tags = [tag for tag, _ in interpreters]
    assert "cpython-%d%d" % sys.version_info[:2] in tags
    import tarfile as _t
    with _t.open(dist.path) as tar:
        for src in sources:
            d, f = os.path.split(src)
            for tag in tags:
                pyc = f"{d}/__pycache__/{f[:-3]}.{tag}.pyc"
                assert pyc in members, pyc
            if src in ("kdebug_core/main.py", "vendor/kubernetes/__init__.py"):
                header = tar.extractfile(f"{d}/__pycache__/{f[:-3]}.{tags[0]}.pyc").read(8)
                # PEP 552: flags 0b01 = hash-based, source not checked.
                assert struct.unpack("<I", header[4:8])[0] == 0b01


def test_pure_python_yaml_works_without_libyaml(unpacked):
    code = ("import sys; sys.path.insert(0, sys.argv[1]); import yaml; "
            "assert not yaml.__with_libyaml__, 'C binding loaded'; "
            "print(yaml.safe_load('a: [1, 2]\\nb: {c: d}'), yaml.__file__)")
    proc = subprocess.run([SYSTEM_PYTHON, "-S", "-c", code, os.path.join(unpacked, "vendor")],
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("{'a': [1, 2], 'b': {'c': 'd'}}")
    assert os.path.join(unpacked, "vendor", "yaml") in proc.stdout


AUDIT = r"""
import atexit, os, runpy, sys
tree, out, what = sys.argv[1], sys.argv[2], sys.argv[3]
opened = set()
def hook(event, args):
    if event == "open" and args and isinstance(args[0], str):
        opened.add(args[0])
sys.addaudithook(hook)
def report():
    files = {getattr(m, "__file__", None) or "" for m in list(sys.modules.values())}
    with open(out, "w") as fh:
        fh.write("\n".join(sorted(f for f in files | opened if f)))
atexit.register(report)
if what == "oidc":
    # kube_config's OIDC token refresh: the two imports kdebug defers until it runs.
    sys.path[:0] = [os.path.join(tree, "vendor"), tree]
    from kdebug_core.sources import kubeconfig
    kubeconfig.package()
    import importlib
    importlib.import_module("oauthlib.oauth2")
    kubeconfig._oauth2_session(client_id="kdebug")
else:
    sys.argv = [os.path.join(tree, "plugins", "kubectl-why")] + sys.argv[4:]
    runpy.run_path(sys.argv[0], run_name="__main__")
"""


def _audit(unpacked, tmp_path, what, *args, env=None):
    report = str(tmp_path / f"modules-{what}.txt")
    proc = subprocess.run([SYSTEM_PYTHON, "-S", "-c", AUDIT, unpacked, report, what, *args],
                          capture_output=True, text=True,
                          env=env or {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)})
    with open(report) as fh:
        files = fh.read().splitlines()
    return proc, files


def _vendored_sources(files, unpacked):
    """vendor-relative .py paths of the modules loaded (from source or from shipped bytecode)."""
    import re
    vendor = os.path.join(unpacked, "vendor") + os.sep
    out = set()
    for f in files:
        if f.startswith(vendor):
            rel = f[len(vendor):].replace(os.sep, "/")
            rel = re.sub(r"__pycache__/([^/]+)\.[a-z]+-\d+\.pyc$", r"\1.py", rel)
            if rel.endswith(".py"):
                out.add(rel)
    return out


def test_every_vendored_module_is_imported_and_nothing_else_is(unpacked, standin, tmp_path):
    """The proof that vendor/ is the import graph of kdebug: a live diagnosis through the archive's
    launcher imports every package of LIVE_PACKAGES, kube_config's OIDC refresh the others, and of
    the pruned kubernetes package every shipped module but the placeholder __init__ files (which
    nothing runs); with site-packages out of the way (-S), it runs on the archive and the standard
    library alone."""
    # A scan in text form: the overview table (tabulate) is part of the path, not only the JSON.
    server = standin(*[scenario(n) for n in ("01-image-pull-error", "02-crashloop-backoff",
                                             "03-resource-constraints", "05-config-issues")])
    kubeconfig = server.write_kubeconfig(str(tmp_path / "kubeconfig"), namespace="default")
    proc, live = _audit(unpacked, tmp_path, "live", "-n", "default", "--kubeconfig", kubeconfig, "-l", "app")
    assert proc.returncode == 1, proc.stderr  # problems found
    assert "CrashLoopBackOff" in proc.stdout and "OWNER" in proc.stdout  # the overview table
    proc, oidc = _audit(unpacked, tmp_path, "oidc")
    assert proc.returncode == 0, proc.stderr
    vendor = os.path.join(unpacked, "vendor")
    shipped_tops = {n.replace(".py", "") for n in os.listdir(vendor)
                    if not n.endswith(".dist-info") and n not in ("VENDORED.txt", "__pycache__")}
    assert shipped_tops == VENDORED_PACKAGES
    live_used, oidc_used = _vendored_sources(live, unpacked), _vendored_sources(oidc, unpacked)
    tops = lambda files: {f.split("/")[0].replace(".py", "") for f in files}  # noqa: E731
    assert tops(live_used) == LIVE_PACKAGES
    assert tops(live_used | oidc_used) == shipped_tops, \
        f"vendored but never imported: {shipped_tops - tops(live_used | oidc_used)}"
    # kubernetes, module by module: what is shipped is what is loaded, plus the placeholders
    shipped_k8s = {os.path.relpath(os.path.join(d, f), vendor).replace(os.sep, "/")
                   for d, _, fs in os.walk(os.path.join(vendor, "kubernetes")) for f in fs if f.endswith(".py")}
    used_k8s = {f for f in live_used if f.startswith("kubernetes/")}
    assert not used_k8s & PLACEHOLDERS, "a placeholder __init__ ran: the generated client would load"
    assert shipped_k8s == used_k8s | PLACEHOLDERS, (shipped_k8s ^ (used_k8s | PLACEHOLDERS))
    probe = subprocess.run([SYSTEM_PYTHON, "-S", "-c", "import sysconfig; print(sysconfig.get_paths()['stdlib'])"],
                           capture_output=True, text=True)
    stdlib = os.path.realpath(probe.stdout.strip()) + os.sep
    archive = os.path.realpath(unpacked) + os.sep
    modules = [f for f in live + oidc if f.endswith((".py", ".pyc", ".so"))]
    outside = [f for f in modules if not os.path.realpath(f).startswith((archive, stdlib))]
    assert outside == [], f"imported from outside the archive and the standard library: {outside}"
