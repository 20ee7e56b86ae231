"""The Krew index: every manifest keeps Krew's rules, and `make dist` makes them point at the archive."""

import copy
import hashlib
import os
import tarfile

import pytest
import yaml

from kdebug_core import __version__
from tests.distribution import krew as krewlib
from tests.distribution.conftest import PLUGINS, ROOT, build_dist, tar_bytes

INDEX = os.path.join(ROOT, "krew-manifests", "plugins")


def test_the_index_holds_one_manifest_per_plugin():
    assert sorted(os.listdir(INDEX)) == sorted(f"{p}.yaml" for p in PLUGINS)


@pytest.mark.parametrize("plugin", PLUGINS)
def test_committed_manifest_keeps_krews_rules(plugin):
    assert krewlib.validate(os.path.join(INDEX, f"{plugin}.yaml")) == []


@pytest.mark.parametrize("plugin", PLUGINS)
def test_committed_manifest_names_this_version_and_its_own_launcher(plugin):
    doc = krewlib.load_manifest(os.path.join(INDEX, f"{plugin}.yaml"))
    assert doc["spec"]["version"] == f"v{__version__}"
    for p in doc["spec"]["platforms"]:
        assert p["bin"] == f"plugins/{krewlib.bin_name(plugin)}"
        assert p["uri"].endswith(f"/v{__version__}/kdebug-v{__version__}.tar.gz")


def test_all_four_manifests_point_at_the_same_archive():
    docs = [krewlib.load_manifest(os.path.join(INDEX, f"{p}.yaml")) for p in PLUGINS]
    pairs = {(pl["uri"], pl["sha256"]) for d in docs for pl in d["spec"]["platforms"]}
    assert len(pairs) == 1


@pytest.mark.parametrize("plugin", PLUGINS)
def test_manifests_written_by_the_build_match_the_archive(dist, plugin):
    path = dist.manifest(plugin)
    assert krewlib.validate(path, dist.data) == []
    doc = krewlib.load_manifest(path)
    for p in doc["spec"]["platforms"]:
        assert p["sha256"] == hashlib.sha256(dist.data).hexdigest() == dist.sha256
        assert p["uri"] == f"{build_dist.release_uri('https://github.com/kdebug/kdebug', dist.version)}"
        assert p["uri"].endswith("/" + os.path.basename(dist.path))


def test_updating_the_manifests_changes_only_version_homepage_uri_and_sha(tmp_path):
    for f in os.listdir(INDEX):
        with open(os.path.join(INDEX, f)) as src, open(tmp_path / f, "w") as dst:
            dst.write(src.read())
    build_dist.update_manifests(str(tmp_path), "9.8.7", "https://example.org/r/v9.8.7/kdebug-v9.8.7.tar.gz",
                                "ab" * 32, "https://example.org/kdebug")
    for f in os.listdir(INDEX):
        old = krewlib.load_manifest(os.path.join(INDEX, f))
        new = krewlib.load_manifest(str(tmp_path / f))
        assert new["spec"]["version"] == "v9.8.7"
        assert new["spec"]["homepage"] == "https://example.org/kdebug"
        assert {p["sha256"] for p in new["spec"]["platforms"]} == {"ab" * 32}
        for key in ("version", "homepage", "platforms"):
            old["spec"].pop(key), new["spec"].pop(key)
        assert old == new


# ---- the validator fails where Krew would --------------------------------------------------------

def _why():
    return krewlib.load_manifest(os.path.join(INDEX, "why.yaml"))


def _overlap(doc):
    doc["spec"]["platforms"].append(copy.deepcopy(doc["spec"]["platforms"][0]))
    doc["spec"]["platforms"][-1]["selector"] = {"matchExpressions": [
        {"key": "arch", "operator": "In", "values": ["arm64"]}]}


def _windows(doc):
    p = copy.deepcopy(doc["spec"]["platforms"][0])
    p["selector"] = {"matchLabels": {"os": "windows"}}
    doc["spec"]["platforms"].append(p)


BROKEN = {
    "two platforms select linux/arm64": (_overlap, "overlapping selectors"),
    "a windows platform": (_windows, "windows"),
    "no darwin platform": (lambda d: d["spec"]["platforms"].pop(), "no platform for darwin/arm64"),
    "uppercase sha256": (lambda d: d["spec"]["platforms"][0].update(sha256="AB" * 32), "lowercase"),
    "version without v": (lambda d: d["spec"].update(version="0.1.0"), "semantic version"),
    "version not semver": (lambda d: d["spec"].update(version="v1.2"), "semantic version"),
    "name unlike the file": (lambda d: d["metadata"].update(name="kdebug-why"), "should be named"),
    "long shortDescription": (lambda d: d["spec"].update(shortDescription="x" * 71), "at most 70"),
    "two-line shortDescription": (lambda d: d["spec"].update(shortDescription="a\nb"), "one line"),
    "long description line": (lambda d: d["spec"].update(description="y" * 81 + "\n"), "over 80"),
    "flags in the description": (lambda d: d["spec"].update(description="Use --namespace or -A.\n"),
                                 "lists a flag"),
    "caveats without python3": (lambda d: d["spec"].update(caveats="Needs get and list on pods.\n"),
                                "python3"),
    "unknown field": (lambda d: d["spec"].update(license="Apache-2.0"), "unknown field spec.license"),
    "selector on distro": (lambda d: d["spec"]["platforms"][0].update(
        selector={"matchLabels": {"os": "linux", "distro": "debian"}}), "not supported"),
    "empty selector": (lambda d: d["spec"]["platforms"][0].update(selector={}), "empty selector"),
    "no bin": (lambda d: d["spec"]["platforms"][0].pop("bin"), "`bin` has to be set"),
    "http uri": (lambda d: d["spec"]["platforms"][0].update(uri="http://x/kdebug.tar.gz"), "https"),
    "wrong kind": (lambda d: d.update(kind="Plugins"), "want Plugin"),
}


@pytest.mark.parametrize("case", sorted(BROKEN))
def test_validator_rejects(case, tmp_path):
    mutate, message = BROKEN[case]
    doc = _why()
    mutate(doc)
    path = tmp_path / "why.yaml"
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    errors = krewlib.validate(str(path))
    assert any(message in e for e in errors), errors


def test_validator_rejects_a_file_named_unlike_the_plugin(tmp_path):
    path = tmp_path / "kubectl-why.yaml"
    path.write_text(yaml.safe_dump(_why(), sort_keys=False))
    assert any("should be named" in e for e in krewlib.validate(str(path)))


def test_validator_checks_the_sha256_and_bin_against_the_archive(dist, tmp_path):
    doc = krewlib.load_manifest(dist.manifest("why"))
    doc["spec"]["platforms"][1]["sha256"] = "0" * 64
    doc["spec"]["platforms"][0]["bin"] = "plugins/kubectl-who"
    path = tmp_path / "why.yaml"
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    errors = krewlib.validate(str(path), dist.data)
    assert any("does not match the archive" in e for e in errors)
    assert any("kubectl-who" in e and "not a file" in e for e in errors)


def test_validator_wants_a_licence_in_the_archive(dist, tmp_path):
    info = tarfile.TarInfo("plugins/kubectl-why")
    info.mode = 0o755
    info.size = 3
    archive = tar_bytes([(info, b"#!\n")])
    doc = krewlib.load_manifest(dist.manifest("why"))
    for p in doc["spec"]["platforms"]:
        p["sha256"] = hashlib.sha256(archive).hexdigest()
    path = tmp_path / "why.yaml"
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    assert krewlib.validate(str(path), archive) == [
        "LICENSE (or alike) file is not extracted from the archive"]
