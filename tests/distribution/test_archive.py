"""The Krew archive: reproducible bytes, a tree Krew accepts, bytecode that is used as shipped, and a
vendored set that is exactly what kdebug imports."""

import os
import struct
import subprocess
import sys
import tarfile

from tests.distribution.conftest import (PLUGINS, SYSTEM_PYTHON, build_archive, build_dist, scenario)

VENDORED_PACKAGES = {"certifi", "charset_normalizer", "dateutil", "durationpy", "idna", "kubernetes",
                     "oauthlib", "requests", "requests_oauthlib", "six", "tabulate", "urllib3",
                     "websocket", "yaml"}


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
    assert len(pins) == 14 and "tabulate==0.9.0" in pins


def test_bytecode_for_every_interpreter_is_unchecked_hash(dist, interpreters):
    members = dist.members()
    sources = [n for n in members if n.endswith(".py") and n.split("/")[0] in ("kdebug_core", "vendor")]
    assert len(sources) > 500
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


AUDIT = r'''
import atexit, os, runpy, sys
tree, out = sys.argv[1], sys.argv[2]
def report():
    files = sorted({getattr(m, "__file__", None) or "" for m in list(sys.modules.values())})
    with open(out, "w") as fh:
        fh.write("\n".join(f for f in files if f))
atexit.register(report)
sys.argv = [os.path.join(tree, "plugins", "kubectl-why")] + sys.argv[3:]
runpy.run_path(sys.argv[0], run_name="__main__")
'''


def test_every_vendored_package_is_imported_and_nothing_else_is(unpacked, standin, tmp_path):
    """The proof that vendor/ is the import graph of kdebug's live path: a live diagnosis through
    the archive's launcher imports every vendored package, and, with site-packages out of the way
    (-S), runs on the archive and the standard library alone. (With site-packages, optional imports
    may pick up what a system happens to have, e.g. oauthlib's signals use blinker when present.)"""
    # A scan in text form: the overview table (tabulate) is part of the path, not only the JSON.
    server = standin(*[scenario(n) for n in ("01-image-pull-error", "02-crashloop-backoff",
                                             "03-resource-constraints", "05-config-issues")])
    kubeconfig = server.write_kubeconfig(str(tmp_path / "kubeconfig"), namespace="default")
    report = str(tmp_path / "modules.txt")
    proc = subprocess.run([SYSTEM_PYTHON, "-S", "-c", AUDIT, unpacked, report, "-n", "default",
                           "--kubeconfig", kubeconfig, "-l", "app"],
                          capture_output=True, text=True, env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)})
    assert proc.returncode == 1, proc.stderr  # problems found
    assert "CrashLoopBackOff" in proc.stdout and "OWNER" in proc.stdout  # the overview table
    with open(report) as fh:
        files = fh.read().splitlines()
    vendor = os.path.join(unpacked, "vendor") + os.sep
    used = {f[len(vendor):].split(os.sep)[0].replace(".py", "") for f in files if f.startswith(vendor)}
    shipped = {n.replace(".py", "") for n in os.listdir(vendor)
               if not n.endswith(".dist-info") and n not in ("VENDORED.txt", "__pycache__")}
    assert shipped == VENDORED_PACKAGES
    assert used == shipped, f"vendored but never imported: {shipped - used}"
    probe = subprocess.run([SYSTEM_PYTHON, "-S", "-c", "import sysconfig; print(sysconfig.get_paths()['stdlib'])"],
                           capture_output=True, text=True)
    stdlib = os.path.realpath(probe.stdout.strip()) + os.sep
    archive = os.path.realpath(unpacked) + os.sep
    outside = [f for f in files if not os.path.realpath(f).startswith((archive, stdlib))]
    assert outside == [], f"imported from outside the archive and the standard library: {outside}"
