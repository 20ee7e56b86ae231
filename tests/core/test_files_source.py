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


# ---- hostile files (issue 11): never hang, exhaust memory or abort the report ----------------

def run_why(*argv, stdin=""):
    from kdebug_core.main import run
    out, err = io.StringIO(), io.StringIO()
    code = run("why", list(argv), io.StringIO(stdin), out, err)
    return code, out.getvalue(), err.getvalue()


def test_a_dev_zero_symlink_in_a_dump_directory_is_skipped_with_a_note(tmp_path):
    import os
    write(tmp_path, "d/pods.json", json.dumps(POD))
    os.symlink("/dev/zero", str(tmp_path / "d" / "zero.json"))
    loaded = load([str(tmp_path / "d")])
    assert ("Pod", "shop", "web-1") in loaded.objects
    assert loaded.notes == [f"{tmp_path / 'd' / 'zero.json'}: skipped: not a regular file (a device)"]


def test_a_fifo_in_a_dump_directory_does_not_hang_the_run(tmp_path):
    import os
    write(tmp_path, "d/pods.json", json.dumps(POD))
    os.mkfifo(str(tmp_path / "d" / "events.json"))  # nobody ever writes to it
    code, out, err = run_why("-f", str(tmp_path / "d"), "-A", "-o", "json")
    doc = json.loads(out)
    assert any("events.json: skipped: not a regular file (a pipe)" in n for n in doc["notes"])
    assert "internal error" not in err


def test_a_named_pipe_is_read_as_process_substitution_gives_it(tmp_path):
    import os
    import threading
    fifo = str(tmp_path / "pods.fifo")
    os.mkfifo(fifo)

    def writer():
        with open(fifo, "w") as fh:
            fh.write(json.dumps(POD))
    t = threading.Thread(target=writer)
    t.start()
    loaded = load([fifo])
    t.join(5)
    assert ("Pod", "shop", "web-1") in loaded.objects


def test_a_device_named_on_the_command_line_is_refused(tmp_path):
    with pytest.raises(InputError) as err:
        load(["/dev/zero"])
    assert str(err.value) == "cannot read /dev/zero: not a regular file (a device)"


def test_file_size_cap_is_overridable(tmp_path, monkeypatch):
    small = write(tmp_path, "d/a.json", json.dumps(POD))
    big = write(tmp_path, "d/b.json", json.dumps(dict(POD, metadata=dict(POD["metadata"], name="web-2")))
                + " " * 2000)
    monkeypatch.setenv("KDEBUG_MAX_FILE_BYTES", "1500")
    loaded = load([str(tmp_path / "d")])
    assert list(loaded.objects) == [("Pod", "shop", "web-1")]
    assert loaded.notes == [f"{big}: skipped: larger than 1,500 bytes (set KDEBUG_MAX_FILE_BYTES to "
                            f"read bigger files)"]
    with pytest.raises(InputError) as err:
        load([big])
    assert str(err.value).startswith(f"cannot read {big}: larger than 1,500 bytes")
    with pytest.raises(InputError) as err:
        load(["-"], stdin=io.StringIO(" " * 1501))
    assert "standard input is larger than 1,500 bytes" in str(err.value)
    monkeypatch.setenv("KDEBUG_MAX_FILE_BYTES", "lots")
    with pytest.raises(InputError) as err:
        load([small])
    assert "KDEBUG_MAX_FILE_BYTES='lots'" in str(err.value)
    monkeypatch.delenv("KDEBUG_MAX_FILE_BYTES")
    assert len(load([str(tmp_path / "d")]).objects) == 2


def test_200000_deep_json_is_one_error_line_for_that_file(tmp_path):
    path = write(tmp_path, "deep.json", "[" * 200_000 + "]" * 200_000)
    code, out, err = run_why("-f", path, "-A")
    assert code == 2 and out == ""
    assert err == f"error: {path}: line 1: JSON nested deeper than any Kubernetes object (the parser's limit)\n"


def test_deep_yaml_is_one_error_line_too(tmp_path):
    path = write(tmp_path, "deep.yaml", "kind: Pod\nmetadata: " + "[" * 50_000 + "]" * 50_000 + "\n")
    code, out, err = run_why("-f", path, "-A")
    assert code == 2 and err.count("\n") == 1 and "deep.yaml" in err and "nested deeper" in err


def test_yaml_alias_bomb_is_refused_quickly(tmp_path):
    import time
    # The "billion laughs": nine levels of nine aliases each expand to 9^9 (387M) nodes.
    lines = ['a0: &a0 ["lol"]']
    for i in range(1, 10):
        lines.append(f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 9) + "]")
    path = write(tmp_path, "bomb.yaml", "kind: ConfigMap\nmetadata: {name: x}\n" + "\n".join(lines) + "\n")
    started = time.monotonic()
    with pytest.raises(InputError) as err:
        load([path])
    assert time.monotonic() - started < 5
    assert "YAML aliases expand a document beyond 1,000,000 nodes" in str(err.value)


def test_recursive_yaml_alias_is_refused(tmp_path):
    path = write(tmp_path, "loop.yaml", "kind: Pod\nmetadata: &m {name: x, self: *m}\n")
    with pytest.raises(InputError):
        load([path])
    path = write(tmp_path, "loop2.yaml", "kind: Pod\nmetadata: {name: x}\nspec: &s [*s]\n")
    with pytest.raises(InputError) as err:
        load([path])
    assert "recursive YAML alias" in str(err.value)


def test_unquoted_yaml_timestamps_stay_strings_as_kubernetes_reads_them(tmp_path):
    path = write(tmp_path, "p.yaml", "apiVersion: v1\nkind: Pod\nmetadata:\n  name: web-1\n"
                                     "  namespace: shop\n  creationTimestamp: 2026-11-20T10:00:00Z\n")
    obj = FileBackend.from_paths([path]).get("Pod", "shop", "web-1")
    assert obj["metadata"]["creationTimestamp"] == "2026-11-20T10:00:00Z"


def test_malformed_objects_are_left_out_with_a_note_and_the_rest_is_read(tmp_path):
    bad_containers = json.loads(json.dumps(POD))
    bad_containers["metadata"]["name"] = "web-2"
    bad_containers["spec"]["containers"] = ["app"]                     # a string where an object belongs
    bad_count = json.loads(json.dumps(POD))
    bad_count["metadata"]["name"] = "web-3"
    bad_count["status"]["containerStatuses"] = [{"name": "app", "restartCount": "many"}]
    nulls = json.loads(json.dumps(POD))
    nulls["metadata"]["name"] = "web-4"
    nulls["status"]["conditions"] = None                               # null: the same as absent
    doc = {"apiVersion": "v1", "kind": "List",
           "items": [POD, "not an object", bad_containers, bad_count, nulls,
                     {"kind": "Pod", "metadata": None}]}
    path = write(tmp_path, "pods.json", json.dumps(doc))
    loaded = load([path])
    assert sorted(k[2] for k in loaded.objects) == ["web-1", "web-4"]
    assert loaded.notes == [
        f"{path}: left out item 1 of the List: a string where an object belongs",
        f"{path}: left out pod shop/web-2: spec.containers is a list holding a string where a list "
        f"of objects belongs",
        f"{path}: left out pod shop/web-3: status.containerStatuses[0].restartCount is a string where "
        f"a whole number belongs",
        f"{path}: 1 more objects left out",
    ]


def test_a_malformed_object_is_named_in_the_report_notes(tmp_path):
    pods = {"apiVersion": "v1", "kind": "List", "items": [
        dict(POD, metadata=dict(POD["metadata"], name="web-2"), spec="nope"), POD]}
    path = write(tmp_path, "pods.json", json.dumps(pods))
    code, out, err = run_why("-f", path, "-A", "-o", "json")
    assert err == ""
    doc = json.loads(out)
    assert f"{path}: left out pod shop/web-2: spec is a string where an object belongs" in doc["notes"]
    # The well-formed pod is still judged.
    assert code in (0, 1) and [f["object"]["name"] for f in doc["findings"]] == ["web-1"]


def _restarted(state):
    """scenarios/22-slow-start-liveness's container as captured (restartCount 3, lastState the killed
    run), in the state `state`."""
    pod = json.loads(json.dumps(POD))
    pod["status"]["containerStatuses"] = [{
        "name": "app", "restartCount": 3, "ready": False, "state": state,
        "lastState": {"terminated": {"exitCode": 137, "reason": "Error", "containerID": "containerd://ac91",
                                     "startedAt": "2026-12-05T18:27:15Z", "finishedAt": "2026-12-05T18:28:15Z"}}}]
    return pod


@pytest.mark.parametrize("state,previous_is_in_the_dump", [
    ({"running": {"startedAt": "2026-12-05T18:28:15Z"}}, False),                      # a new run going on
    ({"waiting": {"reason": "CrashLoopBackOff", "message": "back-off 40s"}}, True),   # waits after the last run
])
def test_a_dumps_log_is_the_previous_run_only_when_the_container_is_not_running(tmp_path, state, previous_is_in_the_dump):
    """cluster-info dump reads `kubectl logs` without --previous: for a running container that is
    the run going on (22's capture: its first two lines, not the killed run's last ones)."""
    d = tmp_path / "dump"
    write(d, "shop/pods.json", json.dumps({"kind": "PodList", "apiVersion": "v1", "items": [_restarted(state)]}))
    write(d, "shop/web-1/logs.txt", "==== START logs for container app of pod shop/web-1 ====\n"
                                      "INFO loading model weights\n==== END logs for container app of pod shop/web-1 ====\n")
    backend = FileBackend.from_paths([str(d)])
    assert backend.logs("shop", "web-1", "app", previous=False, tail_lines=None).strip() == "INFO loading model weights"
    previous = backend.logs("shop", "web-1", "app", previous=True, tail_lines=None)
    assert (previous.strip() if previous else previous) == ("INFO loading model weights" if previous_is_in_the_dump else None)


def test_the_slow_starters_capture_is_not_read_as_the_killed_runs_output():
    """Scenario 22 was captured 16 s into the fourth run: probecheck keeps its diagnosis, and does not
    present that run's first lines as the output before the kill."""
    import os
    from kdebug_core.main import run
    out, err = io.StringIO(), io.StringIO()
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    code = run("probecheck", ["-f", os.path.join(root, "scenarios", "22-slow-start-liveness"), "-A", "-o", "json"],
               stdout=out, stderr=err)
    assert code == 1, err.getvalue()
    f = [f for f in json.loads(out.getvalue())["findings"] if f["reason"] == "LivenessKillsSlowStart"][0]
    assert "killed 3 times" in f["summary"]
    assert not any(e.startswith("last output before the kill") for e in f["evidence"]), f["evidence"]


@pytest.mark.parametrize("text", [
    # kubectl cluster-info dump's own failure to read a log, written in its place (scenarios/09 as
    # captured: the app container waits behind its failing init container)
    "Request log error: the server rejected our request for an unknown reason (get pods web-1)\n",
    # the kubelet's error when the container is gone (tests/realcluster/scenarios/98 as captured: an
    # evicted pod), with no newline before the END line
    "unable to retrieve container logs for containerd://2abda54fdd960ca589d8aa882dbcda9886008bf7d89b3d24e2a6620e016f614b",
])
def test_an_error_where_the_log_should_be_is_not_the_containers_output(tmp_path, text):
    d = tmp_path / "dump"
    write(d, "shop/pods.json", json.dumps({"kind": "PodList", "apiVersion": "v1", "items": [POD]}))
    write(d, "shop/web-1/logs.txt", "==== START logs for container app of pod shop/web-1 ====\n" + text
          + "==== END logs for container app of pod shop/web-1 ====\n")
    backend = FileBackend.from_paths([str(d)])
    assert backend.logs("shop", "web-1", "app", previous=False, tail_lines=None) is None
