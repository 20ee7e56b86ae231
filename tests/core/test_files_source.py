"""The offline source reads what operators have: get -o json/yaml, cluster-info dumps, stdin."""

import io
import json

import pytest

from kdebug_core.errors import InputError
from kdebug_core.sources.files import FileBackend, load

POD = {
    "apiVersion": "v1", "kind": "Pod",
    "metadata": {"name": "web-1", "namespace": "shop", "uid": "u-1",
                 "creationTimestamp": "2026-11-20T10:00:00Z"},
    "spec": {"containers": [{"name": "app", "image": "nginx:1.21"}]},
    "status": {"phase": "Running", "startTime": "2026-11-20T10:00:01Z"},
}


def write(tmp_path, name, text):
    p = tmp_path / name
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_text(text)
    return str(p)


def test_reads_a_kubectl_get_list_in_json(tmp_path):
    path = write(tmp_path, "pods.json", json.dumps({"apiVersion": "v1", "kind": "List", "items": [POD]}))
    backend = FileBackend.from_paths([path])
    assert [p["metadata"]["name"] for p in backend.list("Pod", "shop")] == ["web-1"]
    assert backend.list("Pod", "default") == []


def test_reads_multi_document_yaml(tmp_path):
    text = ("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a, namespace: shop}\ndata: {K: v}\n"
            "---\napiVersion: v1\nkind: Pod\nmetadata: {name: web-1, namespace: shop}\n")
    backend = FileBackend.from_paths([write(tmp_path, "x.yaml", text)])
    assert backend.get("ConfigMap", "shop", "a")["data"] == {"K": "v"}
    assert backend.get("Pod", "shop", "web-1") is not None


def test_typed_lists_of_a_cluster_info_dump_give_items_their_kind(tmp_path):
    # cluster-info dump prints PodList/EventList documents back to back, items without kind,
    # with log sections in between.
    pods = {"kind": "PodList", "apiVersion": "v1", "items": [dict(POD, kind=None)]}
    del pods["items"][0]["kind"]
    events = {"kind": "EventList", "apiVersion": "v1", "items": []}
    stream = (json.dumps(pods, indent=4) + "\n" + json.dumps(events, indent=4) + "\n"
              "==== START logs for container app of pod shop/web-1 ====\n"
              "Starting...\nTraceback (most recent call last):\nValueError: boom\n"
              "==== END logs for container app of pod shop/web-1 ====\n")
    backend = FileBackend.from_paths([write(tmp_path, "dump.txt", stream)])
    assert backend.get("Pod", "shop", "web-1")["kind"] == "Pod"
    assert backend.logs("shop", "web-1", "app", True, 2) == "Traceback (most recent call last):\nValueError: boom"


def test_reads_the_output_directory_tree_of_cluster_info_dump(tmp_path):
    write(tmp_path, "dump/nodes.json", json.dumps({"kind": "NodeList", "apiVersion": "v1", "items": [
        {"metadata": {"name": "kind-worker"}, "status": {}}]}))
    write(tmp_path, "dump/shop/pods.json", json.dumps({"kind": "PodList", "apiVersion": "v1",
                                                       "items": [POD]}))
    write(tmp_path, "dump/shop/web-1/logs.txt",
          "==== START logs for container app of pod shop/web-1 ====\nhello\n"
          "==== END logs for container app of pod shop/web-1 ====\n")
    backend = FileBackend.from_paths([str(tmp_path / "dump")])
    assert backend.get("Node", None, "kind-worker") is not None
    assert backend.logs("shop", "web-1", "app", True, 20) == "hello"


def test_stdin_is_read_with_dash():
    backend = FileBackend.from_paths(["-"], stdin=io.StringIO(json.dumps(POD)))
    assert backend.get("Pod", "shop", "web-1")


def test_live_state_wins_over_an_applied_manifest_of_the_same_object(tmp_path):
    write(tmp_path, "d/manifest.yaml", "apiVersion: v1\nkind: Pod\nmetadata: {name: web-1, namespace: shop}\n")
    write(tmp_path, "d/state.json", json.dumps(POD))
    backend = FileBackend.from_paths([str(tmp_path / "d")])
    assert backend.get("Pod", "shop", "web-1")["status"]["phase"] == "Running"


def test_directory_walk_skips_documents_that_are_not_objects(tmp_path):
    write(tmp_path, "d/expected.yaml", "why:\n  - reason: X\n")
    write(tmp_path, "d/README.md", "# not read")
    write(tmp_path, "d/state.json", json.dumps(POD))
    assert FileBackend.from_paths([str(tmp_path / "d")]).get("Pod", "shop", "web-1")


def test_malformed_json_names_file_and_line(tmp_path):
    path = write(tmp_path, "bad.json", '{\n  "kind": "Pod",\n  "metadata": {,\n}')
    with pytest.raises(InputError) as err:
        load([path])
    assert "bad.json" in str(err.value) and "line 3" in str(err.value)


def test_malformed_yaml_names_file_and_line(tmp_path):
    path = write(tmp_path, "bad.yaml", "kind: Pod\nmetadata:\n  name: [unclosed\n")
    with pytest.raises(InputError) as err:
        load([path])
    assert "bad.yaml" in str(err.value) and "line" in str(err.value)


def test_missing_file_is_an_input_error(tmp_path):
    with pytest.raises(InputError) as err:
        load([str(tmp_path / "nope.json")])
    assert "nope.json" in str(err.value)


def test_offline_now_is_the_newest_timestamp_in_the_dump(tmp_path):
    path = write(tmp_path, "p.json", json.dumps(POD))
    assert FileBackend.from_paths([path]).now().isoformat() == "2026-11-20T10:00:01+00:00"
