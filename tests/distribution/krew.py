"""Krew's rules, in Python: a manifest validator and an installer that does what `krew install` does.

The validator follows sigs.k8s.io/krew: `internal/index/validation/validate.go` (ValidatePlugin,
validatePlatform, validateSelector), `cmd/validate-krew-manifest` (file name = plugin name, every
platform matches a supported os/arch, no os/arch matched by two platforms, a licence file lands on
disk) and the strict YAML decoding of `indexscanner` (unknown fields are errors). On top of those it
checks the rules this project's manifests keep (issue 6): one-line shortDescription of at most 70
characters, description lines of at most 80 characters that list no flags, caveats naming the
python3 requirement and RBAC, https homepage, linux and darwin on every arch, no windows, and —
given the archive — a sha256 equal to the archive's and a `bin` that is an executable file in it.

The installer follows `internal/download/downloader.go` (sha256 of the downloaded bytes, then
extraction that refuses paths containing `..` or starting with `/`, and any entry that is not a
directory or a regular file, so symlinks) and `internal/installation` (the tree moved to
`store/<name>/<version>`, `bin/kubectl-<name with - turned into _>` a symlink to the platform's
`bin`).
"""

import hashlib
import io
import os
import re
import shutil
import tarfile
from typing import Dict, List, Optional

import yaml

API_VERSION = "krew.googlecontainertools.github.com/v1alpha2"
# validate-krew-manifest's allPlatforms()
ALL_PLATFORMS = [("windows", "386"), ("windows", "amd64"), ("windows", "arm64"),
                 ("linux", "386"), ("linux", "amd64"), ("linux", "arm"), ("linux", "arm64"),
                 ("linux", "ppc64le"), ("darwin", "386"), ("darwin", "amd64"), ("darwin", "arm64")]
LICENSE_FILES = {"license", "license.txt", "license.md", "licenses", "licenses.txt",
                 "licenses.md", "copying", "copying.txt"}
WINDOWS_FORBIDDEN = {"CON", "PRN", "AUX", "NUL"} | {f"COM{i}" for i in range(1, 10)} \
    | {f"LPT{i}" for i in range(1, 10)}
SEMVER = re.compile(r"^v(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)"
                    r"(?:-((?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*)"
                    r"(?:\.(?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*))*))?"
                    r"(?:\+([0-9a-zA-Z-]+(?:\.[0-9a-zA-Z-]+)*))?$")
SHA256 = re.compile(r"^[a-f0-9]{64}$")
FLAG = re.compile(r"(?:^|[\s(\[`'\"])--?[A-Za-z]")

# Fields Krew's types know (pkg/index/types.go); metadata is a full ObjectMeta, of which a
# manifest uses name (and may use labels/annotations).
_TOP = {"apiVersion", "kind", "metadata", "spec"}
_META = {"name", "labels", "annotations", "namespace"}
_SPEC = {"version", "shortDescription", "description", "caveats", "homepage", "platforms"}
_PLATFORM = {"selector", "uri", "sha256", "files", "bin"}
_SELECTOR = {"matchLabels", "matchExpressions"}
_EXPRESSION = {"key", "operator", "values"}
_FILE_OP = {"from", "to"}


class ManifestError(Exception):
    pass


def load_manifest(path: str) -> dict:
    with open(path, encoding="utf-8") as fh:
        doc = yaml.safe_load(fh)
    if not isinstance(doc, dict):
        raise ManifestError(f"{path}: not a YAML mapping")
    return doc


def _unknown(where: str, obj, allowed) -> List[str]:
    if not isinstance(obj, dict):
        return [f"{where} is not a mapping"]
    return [f"unknown field {where}.{k}" for k in obj if k not in allowed]


def selector_matches(selector: dict, os_: str, arch: str) -> bool:
    labels = {"os": os_, "arch": arch}
    for k, v in (selector.get("matchLabels") or {}).items():
        if labels.get(k) != v:
            return False
    for expr in selector.get("matchExpressions") or []:
        key, op, values = expr.get("key"), expr.get("operator"), expr.get("values") or []
        if op == "In" and labels.get(key) not in values:
            return False
        if op == "NotIn" and labels.get(key) in values:
            return False
        if op == "Exists" and key not in labels:
            return False
        if op == "DoesNotExist" and key in labels:
            return False
    return True


def _selector_errors(sel) -> List[str]:
    if sel is None:
        return ["nil selector is not supported"]
    errors = _unknown("selector", sel, _SELECTOR)
    if errors:
        return errors
    if sel.get("matchLabels") is None and not sel.get("matchExpressions"):
        return ["empty selector is not supported"]
    if "matchLabels" in sel and not sel["matchLabels"]:
        errors.append("`matchLabels` specified but empty")
    if "matchExpressions" in sel and not sel["matchExpressions"]:
        errors.append("`matchExpressions` specified but empty")
    keys = list((sel.get("matchLabels") or {}).keys())
    for expr in sel.get("matchExpressions") or []:
        errors += _unknown("matchExpressions[]", expr, _EXPRESSION)
        keys.append(expr.get("key"))
        op, values = expr.get("operator"), expr.get("values")
        if op in ("In", "NotIn") and not values:
            errors.append(f"operator {op} needs values")
        elif op in ("Exists", "DoesNotExist") and values:
            errors.append(f"operator {op} takes no values")
        elif op not in ("In", "NotIn", "Exists", "DoesNotExist"):
            errors.append(f"operator {op!r} is not a label selector operator")
    for key in keys:
        if key not in ("os", "arch"):
            errors.append(f"key {key!r} not supported")
    return errors


def archive_members(archive: bytes) -> Dict[str, tarfile.TarInfo]:
    with tarfile.open(fileobj=io.BytesIO(archive), mode="r:gz") as tar:
        return {m.name: m for m in tar.getmembers()}


def validate(path: str, archive: Optional[bytes] = None) -> List[str]:
    """Every rule the manifest at `path` breaks (empty when valid)."""
    errors: List[str] = []
    filename = os.path.basename(path)
    if not filename.endswith(".yaml"):
        return [f"expected manifest extension .yaml, found {os.path.splitext(filename)[1]!r}"]
    name_from_file = filename[:-len(".yaml")]
    try:
        doc = load_manifest(path)
    except (yaml.YAMLError, ManifestError) as exc:
        return [f"not valid YAML: {exc}"]

    errors += _unknown("", doc, _TOP)
    if doc.get("apiVersion") != API_VERSION:
        errors.append(f"apiVersion={doc.get('apiVersion')!r}, want {API_VERSION}")
    if doc.get("kind") != "Plugin":
        errors.append(f"kind={doc.get('kind')!r}, want Plugin")
    meta = doc.get("metadata") or {}
    errors += _unknown("metadata", meta, _META)
    if not re.fullmatch(r"[\w-]+", name_from_file) or name_from_file.upper() in WINDOWS_FORBIDDEN:
        errors.append(f"the plugin name {name_from_file!r} is not allowed")
    if meta.get("name") != name_from_file:
        errors.append(f"plugin should be named {name_from_file!r}, not {meta.get('name')!r}")

    spec = doc.get("spec") or {}
    errors += _unknown("spec", spec, _SPEC)
    version = spec.get("version")
    if not isinstance(version, str) or not SEMVER.match(version):
        errors.append(f"spec.version {version!r} is not a semantic version with a leading v")

    short = spec.get("shortDescription")
    if not isinstance(short, str) or not short.strip():
        errors.append("should have a short description")
    else:
        if "\n" in short.strip():
            errors.append("shortDescription spans more than one line")
        if len(short.strip()) > 70:
            errors.append(f"shortDescription is {len(short.strip())} characters (at most 70)")

    description = spec.get("description")
    if not isinstance(description, str) or not description.strip():
        errors.append("should have a description")
    else:
        for line in description.splitlines():
            if len(line) > 80:
                errors.append(f"description line over 80 characters: {line!r}")
            if FLAG.search(line):
                errors.append(f"description lists a flag: {line!r}")

    caveats = spec.get("caveats")
    if not isinstance(caveats, str) or not caveats.strip():
        errors.append("should have caveats (python3 requirement, RBAC)")
    else:
        if not re.search(r"python3\b.*3\.9", caveats, re.S):
            errors.append("caveats do not say python3 >= 3.9 is needed")
        if not (re.search(r"\bget\b", caveats) and re.search(r"\blist\b", caveats)):
            errors.append("caveats do not name the RBAC verbs the plugin needs")

    homepage = spec.get("homepage")
    if not isinstance(homepage, str) or not homepage.startswith("https://"):
        errors.append(f"homepage {homepage!r} is not an https URL")

    platforms = spec.get("platforms")
    if not isinstance(platforms, list) or not platforms:
        errors.append("should have a platform specified")
        return errors

    members = archive_members(archive) if archive is not None else None
    digest = hashlib.sha256(archive).hexdigest() if archive is not None else None
    for i, p in enumerate(platforms):
        where = f"spec.platforms[{i}]"
        errors += _unknown(where, p, _PLATFORM)
        if not isinstance(p, dict):
            continue
        uri, sha, bin_ = p.get("uri"), p.get("sha256"), p.get("bin")
        if not uri:
            errors.append(f"{where}: `uri` has to be set")
        elif not re.match(r"https://\S+\.(tar\.gz|zip)$", str(uri)):
            errors.append(f"{where}: uri {uri!r} is not an https .tar.gz or .zip")
        if not sha:
            errors.append(f"{where}: `sha256` sum has to be set")
        elif not SHA256.match(str(sha)):
            errors.append(f"{where}: `sha256` value {sha} is not lowercase 64-hex")
        elif digest is not None and sha != digest:
            errors.append(f"{where}: sha256 {sha} does not match the archive ({digest})")
        if not bin_:
            errors.append(f"{where}: `bin` has to be set")
        elif ".." in str(bin_) or str(bin_).startswith("/"):
            errors.append(f"{where}: bin {bin_!r} leaves the install directory")
        elif members is not None:
            m = members.get(bin_)
            if m is None or not m.isreg():
                errors.append(f"{where}: bin {bin_!r} is not a file in the archive")
            elif not m.mode & 0o111:
                errors.append(f"{where}: bin {bin_!r} is not executable in the archive")
        files = p.get("files")
        if files is not None:
            if not files:
                errors.append(f"{where}: `files` has to be unspecified or non-empty")
            for op in files or []:
                errors += _unknown(f"{where}.files[]", op, _FILE_OP)
                if not op.get("from") or not op.get("to"):
                    errors.append(f"{where}: files entries need `from` and `to`")
        sel_errors = _selector_errors(p.get("selector"))
        errors += [f"{where}: invalid platform selector: {e}" for e in sel_errors]
        if not sel_errors and not any(selector_matches(p["selector"], o, a) for o, a in ALL_PLATFORMS):
            errors.append(f"{where}: selector doesn't match any supported platforms")

    usable = [p for p in platforms if isinstance(p, dict) and not _selector_errors(p.get("selector"))]
    for os_, arch in ALL_PLATFORMS:
        matched = [i for i, p in enumerate(platforms) if p in usable
                   and selector_matches(p["selector"], os_, arch)]
        if len(matched) > 1:
            errors.append(f"multiple spec.platforms (at indexes {matched}) have overlapping "
                          f"selectors that select {os_}/{arch}")
        if os_ in ("linux", "darwin") and not matched:
            errors.append(f"no platform for {os_}/{arch} (the archive runs on every arch)")
        if os_ == "windows" and matched:
            errors.append(f"a platform selects {os_}/{arch}: Krew only runs .exe plugins there")

    if members is not None and not any(
            m.isreg() and os.path.basename(n).lower() in LICENSE_FILES for n, m in members.items()):
        errors.append("LICENSE (or alike) file is not extracted from the archive")
    return errors


# ---- install -----------------------------------------------------------------------------------

class InstallError(Exception):
    pass


def platform_for(manifest: dict, os_: str, arch: str) -> dict:
    matched = [p for p in manifest["spec"]["platforms"] if selector_matches(p["selector"], os_, arch)]
    if len(matched) != 1:
        raise InstallError(f"{len(matched)} platforms match {os_}/{arch}")
    return matched[0]


def _suspicious(name: str):
    if ".." in name:
        raise InstallError(f"refusing to unpack archive with suspicious entry {name!r}")
    if name.startswith("/") or name.startswith("\\"):
        raise InstallError(f"refusing to unpack archive with absolute entry {name!r}")


def extract(archive: bytes, target: str):
    """Krew's extractTARGZ: directories and regular files only, nothing outside `target`."""
    with tarfile.open(fileobj=io.BytesIO(archive), mode="r:gz") as tar:
        for m in tar:
            if m.name == "pax_global_header":
                continue
            _suspicious(m.name)
            path = os.path.join(target, *m.name.split("/"))
            if m.isdir():
                os.makedirs(path, mode=m.mode, exist_ok=True)
            elif m.isreg():
                os.makedirs(os.path.dirname(path), mode=0o755, exist_ok=True)
                fd = os.open(path, os.O_CREAT | os.O_WRONLY, m.mode)
                with os.fdopen(fd, "wb") as out:
                    shutil.copyfileobj(tar.extractfile(m), out)
            else:
                raise InstallError(f"unable to handle file type {m.type!r} for {m.name!r} in tar")


def bin_name(plugin: str) -> str:
    return "kubectl-" + plugin.replace("-", "_")


def install(manifest_path: str, archive: bytes, krew_root: str, os_: str = "linux",
            arch: str = "amd64") -> str:
    """Install one plugin from its manifest and the downloaded archive; returns the bin link."""
    manifest = load_manifest(manifest_path)
    name, version = manifest["metadata"]["name"], manifest["spec"]["version"]
    platform = platform_for(manifest, os_, arch)
    digest = hashlib.sha256(archive).hexdigest()
    if digest != platform["sha256"]:
        raise InstallError(f"checksum does not match, want: {platform['sha256']}, got {digest}")
    download = os.path.join(krew_root, "download", name)
    os.makedirs(download)
    extract(archive, download)
    store = os.path.join(krew_root, "store", name, version)
    os.makedirs(os.path.dirname(store), exist_ok=True)
    os.rename(download, store)
    target = os.path.join(store, *platform["bin"].split("/"))
    if not os.path.isfile(target):
        raise InstallError(f"bin {platform['bin']!r} is not in the archive")
    bin_dir = os.path.join(krew_root, "bin")
    os.makedirs(bin_dir, exist_ok=True)
    link = os.path.join(bin_dir, bin_name(name))
    os.symlink(os.path.abspath(target), link)
    return link
