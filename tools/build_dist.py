#!/usr/bin/env python3
"""Build the Krew release archive: dist/kdebug-vX.Y.Z.tar.gz (standard library only).

    python3 tools/build_dist.py [--out dist] [--python python3.9 --python python3.13 ...]
                                [--repo-url https://github.com/OWNER/kdebug]
                                [--manifests krew-manifests/plugins | --no-manifests]

The archive runs with nothing but `python3` (3.9 or newer): no pip, no virtual environment.

    LICENSE, README.md               the licence Krew looks for, and the project's README
    plugins/kubectl-<name>           the four launchers (Krew links `bin` to one of them)
    completion/kubectl_complete-<n>  completion launchers (Krew cannot install them; see the README)
    kdebug_core/                     the package
    vendor/                          its pure-Python dependencies (tools/vendor.txt, vendor-pyyaml.txt),
                                     only the modules kdebug imports (KUBERNETES_MODULES: the
                                     generated client is left out; see prune_vendor)
    man/man1/kubectl-<name>.1        the man pages
    **/__pycache__/*.cpython-3N.pyc  bytecode for one or two interpreters (default: the one running
                                     this script); any other Python compiles on first run

Reproducible: entries sorted, directories 0755, launchers 0755, other files 0644, owner 0:0,
mtime fixed (SOURCE_DATE_EPOCH when set, else 1980-01-01), gzip header without name or time.
Bytecode is compiled with PYTHONHASHSEED=0 as unchecked-hash pycs (PEP 552): Krew does not keep
file times when it unpacks, so timestamp pycs would all be stale; hash pycs are used as they are.
The same source tree, the same wheels and the same interpreter versions give the same bytes.

With --manifests (the default: krew-manifests/plugins), spec.version, every platform's uri and
sha256, and homepage are rewritten in each manifest to match the archive just built.

This script does not import kdebug_core: it reads the version from kdebug_core/__init__.py.
"""

import argparse
import gzip
import hashlib
import io
import os
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
import zipfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
LOCKS = (
    # (requirements file, pip download target flags)
    ("tools/vendor.txt", ["--platform", "any", "--implementation", "py", "--abi", "none",
                          "--python-version", "3.9"]),
    ("tools/vendor-pyyaml.txt", ["--platform", "manylinux2014_x86_64", "--implementation", "cp",
                                 "--abi", "cp311", "--python-version", "3.11"]),
)
PLUGINS = ("why", "endpoints-check", "oomcheck", "probecheck")
DEFAULT_REPO_URL = "https://github.com/kdebug/kdebug"
DEFAULT_EPOCH = 315532800  # 1980-01-01T00:00:00Z, as in wheels
MIN_PYTHON = (3, 9)
MAX_PYTHONS = 2   # bytecode for at most this many interpreters: each one adds the tree's size again
EXECUTABLE_DIRS = ("plugins", "completion")

# What kdebug imports from the vendored `kubernetes` package (sources/kubeconfig.py loads these
# three modules and what they import, quantity.py loads utils/quantity.py by file; the package
# __init__ files are placeholders it never runs). The generated API client and models (~95% of the
# package) are never imported: tests/distribution/test_archive.py proves both directions.
KUBERNETES_MODULES = (
    "__init__.py", "client/__init__.py", "client/configuration.py",
    "config/__init__.py", "config/config_exception.py", "config/dateutil.py",
    "config/exec_provider.py", "config/incluster_config.py", "config/kube_config.py",
    "utils/__init__.py", "utils/quantity.py",
)
# Top-level packages kept besides kubernetes: what the live path imports (urllib3, six, yaml,
# tabulate), and what kube_config's OIDC token refresh imports when it runs (requests_oauthlib,
# oauthlib, requests and its idna, certifi, charset_normalizer).
VENDORED_TOPS = ("kubernetes", "urllib3", "six", "yaml", "tabulate", "requests_oauthlib",
                 "oauthlib", "requests", "idna", "certifi", "charset_normalizer")
DIST_TOPS = {"pyyaml": "yaml"}  # distribution name -> its top-level package, where they differ

COMPLETION_LAUNCHER = '''\
#!/usr/bin/env python3
"""kubectl_complete-{exe}: shell completion for `kubectl {name}` (kubectl >= 1.26 runs it on TAB)."""
import os
import sys

if sys.version_info < (3, 9):
    sys.exit(0)  # no completions rather than a traceback on TAB; the plugin itself says why

_here = os.path.dirname(os.path.realpath(__file__))
for _p in (os.path.join(_here, "..", "vendor"), os.path.join(_here, "..")):
    if os.path.isdir(_p) and _p not in sys.path:
        sys.path.insert(0, os.path.abspath(_p))

from kdebug_core.completion import main  # noqa: E402

sys.exit(main({name!r}))
'''

# Run by each interpreter: compile every .py under the given directories into __pycache__.
COMPILE_DRIVER = r'''
import os, py_compile, sys
root, tops = sys.argv[1], sys.argv[2:]
failed = []
for top in tops:
    for d, dirs, files in os.walk(os.path.join(root, top)):
        dirs[:] = sorted(x for x in dirs if x != "__pycache__")
        for f in sorted(files):
            if not f.endswith(".py"):
                continue
            path = os.path.join(d, f)
            rel = os.path.relpath(path, root).replace(os.sep, "/")
            try:
                py_compile.compile(path, dfile=rel, doraise=True,
                                   invalidation_mode=py_compile.PycInvalidationMode.UNCHECKED_HASH)
            except py_compile.PyCompileError as exc:
                failed.append(rel + ": " + str(exc.msg).strip().splitlines()[-1])
sys.stdout.write("\n".join(failed))
'''


class BuildError(Exception):
    pass


def read_version(root: str = ROOT) -> str:
    with open(os.path.join(root, "kdebug_core", "__init__.py"), encoding="utf-8") as fh:
        m = re.search(r'^__version__\s*=\s*["\']([^"\']+)["\']', fh.read(), re.M)
    if not m:
        raise BuildError("no __version__ in kdebug_core/__init__.py")
    version = m.group(1)
    if not re.fullmatch(r"\d+\.\d+\.\d+(-[0-9A-Za-z.-]+)?", version):
        raise BuildError(f"__version__ {version!r} is not semantic (X.Y.Z)")
    return version


def archive_name(version: str) -> str:
    return f"kdebug-v{version}.tar.gz"


def release_uri(repo_url: str, version: str) -> str:
    return f"{repo_url.rstrip('/')}/releases/download/v{version}/{archive_name(version)}"


# ---- vendored wheels ---------------------------------------------------------------------------

def parse_lock(path: str):
    """[(name, version, {sha256, ...})] from a pip requirements file with --hash options."""
    with open(path, encoding="utf-8") as fh:
        text = re.sub(r"\\\n", " ", fh.read())
    entries = []
    for line in text.splitlines():
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        m = re.match(r"([A-Za-z0-9_.-]+)==(\S+)", line)
        if not m:
            raise BuildError(f"{path}: not a pinned requirement: {line}")
        hashes = set(re.findall(r"--hash=sha256:([0-9a-f]{64})", line))
        if not hashes:
            raise BuildError(f"{path}: {m.group(1)} has no --hash")
        entries.append((m.group(1), m.group(2), hashes))
    return entries


def _sha256(path: str) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def fetch_wheels(cache: str, log=print):
    """The locked wheels, downloaded into `cache` by pip unless already there (hash-checked)."""
    os.makedirs(cache, exist_ok=True)
    wheels = []
    for lock, target in LOCKS:
        lock_path = os.path.join(ROOT, lock)
        entries = parse_lock(lock_path)

        def find():
            by_hash = {}
            for f in os.listdir(cache):
                if f.endswith(".whl"):
                    by_hash.setdefault(_sha256(os.path.join(cache, f)), os.path.join(cache, f))
            found, missing = [], []
            for name, version, hashes in entries:
                hit = next((by_hash[h] for h in sorted(hashes) if h in by_hash), None)
                (found if hit else missing).append(hit or f"{name}=={version}")
            return found, missing

        found, missing = find()
        if missing:
            log(f"downloading {', '.join(missing)}")
            cmd = [sys.executable, "-m", "pip", "download", "--quiet", "--disable-pip-version-check",
                   "--no-deps", "--require-hashes", "--only-binary=:all:", "--dest", cache,
                   "-r", lock_path] + target
            proc = subprocess.run(cmd, capture_output=True, text=True)
            if proc.returncode != 0:
                raise BuildError(f"pip download failed for {lock}:\n{proc.stderr.strip()}")
            found, missing = find()
            if missing:
                raise BuildError(f"{lock}: no wheel with a locked hash for {', '.join(missing)}")
        wheels.extend(found)
    return sorted(wheels, key=os.path.basename)


_COMPILED = re.compile(r"\.(so|pyd|dylib|dll)$")


def extract_wheel(wheel: str, dest: str) -> str:
    """Unpack a wheel's importable files into dest; returns 'name==version'."""
    with zipfile.ZipFile(wheel) as zf:
        dist_info = next(n.split("/")[0] for n in zf.namelist() if ".dist-info/" in n)
        name_version = dist_info[:-len(".dist-info")]
        for info in sorted(zf.infolist(), key=lambda i: i.filename):
            name = info.filename
            if name.endswith("/"):
                continue
            parts = name.split("/")
            if parts[0].endswith(".data"):
                if len(parts) > 2 and parts[1] in ("purelib", "platlib"):
                    name = "/".join(parts[2:])
                else:
                    continue  # scripts, headers, data: nothing the import path needs
            if parts[0] == dist_info and parts[-1] in ("RECORD", "INSTALLER", "REQUESTED",
                                                       "direct_url.json"):
                continue  # RECORD would list files dropped below
            if _COMPILED.search(name):
                continue  # PyYAML's optional libyaml binding: the pure implementation remains
            if parts[0] == "_yaml":
                continue  # PyYAML's shim around that binding
            target = os.path.join(dest, *name.split("/"))
            if os.path.commonpath([os.path.abspath(target), os.path.abspath(dest)]) != os.path.abspath(dest):
                raise BuildError(f"{wheel}: entry escapes the tree: {info.filename}")
            os.makedirs(os.path.dirname(target), exist_ok=True)
            with zf.open(info) as src, open(target, "wb") as out:
                shutil.copyfileobj(src, out)
    dist, _, version = name_version.partition("-")
    return f"{dist}=={version}"


# ---- the tree ----------------------------------------------------------------------------------

def _copy_py_tree(src: str, dest: str):
    for d, dirs, files in os.walk(src):
        dirs[:] = sorted(x for x in dirs if x != "__pycache__" and not x.startswith("."))
        rel = os.path.relpath(d, src)
        for f in sorted(files):
            if f.endswith((".pyc", ".pyo")) or f.startswith("."):
                continue
            out = os.path.join(dest, rel, f)
            os.makedirs(os.path.dirname(out), exist_ok=True)
            shutil.copyfile(os.path.join(d, f), out)


def stage(tree: str, wheels, source: str = ROOT, log=print):
    """Lay the archive's files out in `tree` (no bytecode yet), from the checkout at `source`."""
    for f in ("LICENSE", "README.md"):
        if os.path.exists(os.path.join(source, f)):
            shutil.copyfile(os.path.join(source, f), os.path.join(tree, f))
    if not os.path.exists(os.path.join(tree, "LICENSE")):
        raise BuildError("LICENSE is missing: Krew's validation wants a licence file on disk")
    os.makedirs(os.path.join(tree, "plugins"))
    os.makedirs(os.path.join(tree, "completion"))
    for name in PLUGINS:
        exe = name.replace("-", "_")
        src = os.path.join(source, "plugins", f"kubectl-{exe}")
        if not os.path.isfile(src):
            raise BuildError(f"launcher {src} is missing")
        shutil.copyfile(src, os.path.join(tree, "plugins", f"kubectl-{exe}"))
        with open(os.path.join(tree, "completion", f"kubectl_complete-{exe}"), "w",
                  encoding="utf-8", newline="\n") as fh:
            fh.write(COMPLETION_LAUNCHER.format(exe=exe, name=name))
    _copy_py_tree(os.path.join(source, "kdebug_core"), os.path.join(tree, "kdebug_core"))
    man_src = os.path.join(source, "man")
    if os.path.isdir(man_src):
        # man/man1/: a MANPATH root, so the `.so man1/...` alias page resolves too.
        os.makedirs(os.path.join(tree, "man", "man1"))
        for f in sorted(os.listdir(man_src)):
            if f.endswith(".1"):
                shutil.copyfile(os.path.join(man_src, f), os.path.join(tree, "man", "man1", f))
    vendor = os.path.join(tree, "vendor")
    os.makedirs(vendor)
    pins = [extract_wheel(w, vendor) for w in wheels]
    prune_vendor(vendor)
    with open(os.path.join(vendor, "VENDORED.txt"), "w", encoding="utf-8", newline="\n") as fh:
        fh.write("# Pure-Python dependencies of kdebug, unpacked from the wheels pinned in\n"
                 "# tools/vendor.txt and tools/vendor-pyyaml.txt (licences in each *.dist-info).\n")
        fh.write("".join(p + "\n" for p in sorted(pins, key=str.lower)))
    log(f"vendored {len(pins)} distributions: {', '.join(sorted(pins, key=str.lower))}")


def prune_vendor(vendor: str):
    """Keep only what kdebug imports: VENDORED_TOPS (and their *.dist-info, for the licences and
    the version `--version` reads), and of `kubernetes` only KUBERNETES_MODULES (+ its dist-info)."""
    kept = set(VENDORED_TOPS)
    for n in sorted(os.listdir(vendor)):
        path = os.path.join(vendor, n)
        top = n[:-3] if n.endswith(".py") else n
        if n.endswith(".dist-info"):
            continue  # checked below, once the packages are known
        if top not in kept:
            (shutil.rmtree if os.path.isdir(path) else os.remove)(path)
    tops = {n[:-3] if n.endswith(".py") else n for n in os.listdir(vendor) if not n.endswith(".dist-info")}
    missing = kept - tops
    if missing:
        raise BuildError(f"vendored packages missing from the wheels: {', '.join(sorted(missing))}")
    for n in sorted(os.listdir(vendor)):
        if n.endswith(".dist-info"):
            dist = re.sub(r"[-_.]+", "_", n[:-len(".dist-info")].rsplit("-", 1)[0]).lower()
            if DIST_TOPS.get(dist, dist) not in kept:
                shutil.rmtree(os.path.join(vendor, n))
    keep = {os.path.join(*m.split("/")) for m in KUBERNETES_MODULES}
    root = os.path.join(vendor, "kubernetes")
    for d, dirs, files in os.walk(root, topdown=False):
        for f in files:
            rel = os.path.relpath(os.path.join(d, f), root)
            if rel not in keep:
                os.remove(os.path.join(d, f))
        if not os.listdir(d):
            os.rmdir(d)
    absent = [m for m in KUBERNETES_MODULES if not os.path.isfile(os.path.join(root, *m.split("/")))]
    if absent:
        raise BuildError(f"the kubernetes wheel lacks modules kdebug loads: {', '.join(absent)}")


def interpreter_tag(exe: str):
    """(cache_tag, (major, minor)) of an interpreter, or None when it does not run."""
    try:
        proc = subprocess.run([exe, "-c", "import sys; print(sys.implementation.cache_tag, "
                                          "sys.version_info[0], sys.version_info[1])"],
                              capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        return None
    if proc.returncode != 0 or len(proc.stdout.split()) != 3:
        return None
    tag, major, minor = proc.stdout.split()
    return tag, (int(major), int(minor))


def find_interpreters(explicit=()):
    """The interpreters to compile bytecode with, one per cache tag: the explicit ones (at most
    MAX_PYTHONS), else the one running this script. Any other Python compiles on first run."""
    candidates = list(explicit) or [sys.executable]
    chosen = {}
    for exe in candidates:
        info = interpreter_tag(exe)
        if info is None:
            if explicit:
                raise BuildError(f"interpreter {exe} does not run")
            continue
        tag, version = info
        if version < MIN_PYTHON:
            if explicit:
                raise BuildError(f"{exe} is Python {version[0]}.{version[1]}; kdebug needs 3.9+")
            continue
        chosen.setdefault(tag, (version, exe))
    if len(chosen) > MAX_PYTHONS:
        raise BuildError(f"bytecode for {len(chosen)} interpreters: at most {MAX_PYTHONS} (each adds "
                         f"the whole tree's size again; other Pythons compile on first run)")
    return [(tag, exe) for tag, (version, exe) in sorted(chosen.items(), key=lambda kv: kv[1][0])]


def compile_bytecode(tree: str, interpreters, log=print):
    env = dict(os.environ, PYTHONHASHSEED="0")
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env.pop("PYTHONPYCACHEPREFIX", None)
    for tag, exe in interpreters:
        proc = subprocess.run([exe, "-s", "-c", COMPILE_DRIVER, tree, "kdebug_core", "vendor"],
                              capture_output=True, text=True, env=env)
        if proc.returncode != 0:
            raise BuildError(f"compiling with {exe} failed:\n{proc.stderr.strip()}")
        failed = [line for line in proc.stdout.splitlines() if line]
        ours = [f for f in failed if f.startswith("kdebug_core/")]
        if ours:
            raise BuildError(f"kdebug_core does not compile on {tag}:\n" + "\n".join(ours))
        for f in failed:
            log(f"warning: {tag}: vendored file not compiled: {f}")
        log(f"compiled bytecode with {exe} ({tag})")


def check_tree(tree: str):
    """Krew refuses symlinks and any path containing '..'; only files and directories."""
    for d, dirs, files in os.walk(tree):
        for n in dirs + files:
            p = os.path.join(d, n)
            rel = os.path.relpath(p, tree)
            if os.path.islink(p):
                raise BuildError(f"symlink in the archive tree: {rel}")
            if ".." in rel or "\\" in rel:
                raise BuildError(f"Krew would refuse the entry {rel!r}")
            if not (os.path.isdir(p) or os.path.isfile(p)):
                raise BuildError(f"not a regular file: {rel}")


def _entries(tree: str):
    """(arcname, path, is_dir) in a fixed order: each directory before its sorted contents."""
    def walk(rel):
        here = os.path.join(tree, rel) if rel else tree
        for n in sorted(os.listdir(here)):
            r = f"{rel}/{n}" if rel else n
            p = os.path.join(tree, *r.split("/"))
            if os.path.isdir(p):
                yield r, p, True
                yield from walk(r)
            else:
                yield r, p, False
    return list(walk(""))


def write_archive(tree: str, out_path: str, epoch: int) -> str:
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for arcname, path, is_dir in _entries(tree):
            info = tarfile.TarInfo(arcname)
            info.mtime = epoch
            info.uid = info.gid = 0
            info.uname = info.gname = ""
            if is_dir:
                info.type = tarfile.DIRTYPE
                info.mode = 0o755
                tar.addfile(info)
            else:
                info.size = os.path.getsize(path)
                info.mode = 0o755 if arcname.split("/")[0] in EXECUTABLE_DIRS else 0o644
                with open(path, "rb") as fh:
                    tar.addfile(info, fh)
    packed = io.BytesIO()
    with gzip.GzipFile(filename="", mode="wb", fileobj=packed, mtime=0, compresslevel=9) as gz:
        gz.write(raw.getvalue())
    data = packed.getvalue()
    os.makedirs(os.path.dirname(os.path.abspath(out_path)), exist_ok=True)
    tmp = out_path + ".tmp"
    with open(tmp, "wb") as fh:
        fh.write(data)
    os.replace(tmp, out_path)
    return hashlib.sha256(data).hexdigest()


# ---- manifests ---------------------------------------------------------------------------------

def update_manifests(directory: str, version: str, uri: str, sha256: str, homepage: str):
    """Rewrite spec.version, homepage and every platform's uri and sha256 in place."""
    changed = []
    for f in sorted(os.listdir(directory)):
        if not f.endswith(".yaml"):
            continue
        path = os.path.join(directory, f)
        with open(path, encoding="utf-8") as fh:
            text = fh.read()
        new = re.sub(r"(?m)^(  version: ).*$", lambda m: m.group(1) + "v" + version, text)
        new = re.sub(r"(?m)^(  homepage: ).*$", lambda m: m.group(1) + homepage, new)
        new = re.sub(r"(?m)^(\s+uri: ).*$", lambda m: m.group(1) + uri, new)
        new = re.sub(r"(?m)^(\s+sha256: ).*$", lambda m: m.group(1) + '"' + sha256 + '"', new)
        if new != text:
            with open(path, "w", encoding="utf-8", newline="\n") as fh:
                fh.write(new)
            changed.append(f)
    return changed


# ---- main --------------------------------------------------------------------------------------

def build(out_dir: str, interpreters, cache: str, epoch: int, source: str = ROOT, log=print):
    """Build the archive of the checkout at `source` into out_dir; returns (path, sha256)."""
    version = read_version(source)
    wheels = fetch_wheels(cache, log)
    with tempfile.TemporaryDirectory(prefix="kdebug-dist-") as tmp:
        tree = os.path.join(tmp, "tree")
        os.makedirs(tree)
        stage(tree, wheels, source, log)
        compile_bytecode(tree, interpreters, log)
        check_tree(tree)
        path = os.path.join(out_dir, archive_name(version))
        digest = write_archive(tree, path, epoch)
    with open(path + ".sha256", "w", encoding="utf-8", newline="\n") as fh:
        fh.write(f"{digest}  {os.path.basename(path)}\n")
    return path, digest


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", default=os.path.join(ROOT, "dist"), help="output directory (dist/)")
    ap.add_argument("--python", action="append", default=[], metavar="EXE",
                    help=f"interpreter to compile bytecode with (at most {MAX_PYTHONS}; default: "
                         f"this one; other Pythons compile on first run)")
    ap.add_argument("--wheel-cache", default=os.path.join(ROOT, "build", "wheels"),
                    help="where the locked wheels are downloaded (build/wheels)")
    ap.add_argument("--repo-url", default=os.environ.get("KDEBUG_REPO_URL", DEFAULT_REPO_URL),
                    help="project URL: homepage, and base of the release download URI")
    ap.add_argument("--manifests", default=os.path.join(ROOT, "krew-manifests", "plugins"),
                    help="directory of Krew manifests to update (krew-manifests/plugins)")
    ap.add_argument("--no-manifests", action="store_true", help="leave the manifests alone")
    ap.add_argument("--source", default=ROOT,
                    help="checkout to package (default: this one; e.g. a `git archive` export)")
    args = ap.parse_args(argv)

    try:
        interpreters = find_interpreters(args.python)
        if not interpreters:
            raise BuildError("no Python >= 3.9 interpreter to compile bytecode with")
        epoch = int(os.environ.get("SOURCE_DATE_EPOCH") or DEFAULT_EPOCH)
        path, digest = build(args.out, interpreters, args.wheel_cache, epoch, args.source)
        version = read_version(args.source)
        print(f"{os.path.relpath(path)}  {os.path.getsize(path)} bytes  sha256 {digest}")
        print(f"bytecode: {', '.join(tag for tag, _ in interpreters)}")
        if not args.no_manifests:
            uri = release_uri(args.repo_url, version)
            changed = update_manifests(args.manifests, version, uri, digest, args.repo_url.rstrip("/"))
            print(f"manifests: uri {uri}; updated {', '.join(changed) or 'none (already current)'}")
    except BuildError as exc:
        print(f"build_dist: error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
