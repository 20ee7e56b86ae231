"""Conditions are read as the API server means them: only "True" is true; a type listed twice is
read once (the newest), as a patched status or a status rebuilt from a `describe` paste can have."""

import json

import yaml

from kdebug_core.analyzers.pod import unschedulable
from kdebug_core.analyzers.base import is_true, pick_condition
from tests.helpers import fixture, pod_context, view_of


def test_only_true_is_true():
    assert is_true({"status": "True"}) and is_true({"status": "true"})
    for status in ("False", "Unknown", "", None):
        assert not is_true({"status": status})
    assert not is_true(None)


def test_a_condition_listed_twice_is_read_as_the_newest():
    conditions = [
        {"type": "PodScheduled", "status": "False", "reason": "Unschedulable",
         "lastTransitionTime": "2024-05-01T10:00:00Z"},
        {"type": "Ready", "status": "False"},
        {"type": "PodScheduled", "status": "True", "lastTransitionTime": "2024-05-01T10:03:00Z"},
    ]
    assert pick_condition(conditions, "PodScheduled")["status"] == "True"
    assert pick_condition(list(reversed(conditions)), "PodScheduled")["status"] == "True"
    # Without times, the later entry wins.
    assert pick_condition([{"type": "Ready", "status": "False"}, {"type": "Ready", "status": "True"}],
                          "Ready")["status"] == "True"
    assert pick_condition([{"type": "Ready"}, "junk", None], "Initialized") is None


def _unschedulable_pod(tmp_path, conditions):
    """The unschedulable fixture of the control-plane taint, with its PodScheduled conditions replaced."""
    path = fixture("unschedulable", "pending-untolerated-taint.json")
    doc = json.load(open(path)) if path.endswith(".json") else yaml.safe_load(open(path))
    pod = next(o for o in doc["items"] if o["kind"] == "Pod")
    pod["status"]["conditions"] = conditions
    doc["items"] = [o for o in doc["items"] if o.get("reason") != "FailedScheduling"]
    out = tmp_path / "pod.json"
    out.write_text(json.dumps(doc))
    return pod_context(view_of(str(out)), pod["metadata"]["name"])


def test_unschedulable_reads_not_true_and_a_duplicated_condition(tmp_path):
    cond = {"type": "PodScheduled", "status": "False", "reason": "Unschedulable",
            "message": "0/1 nodes are available: 1 node(s) had untolerated taint "
                       "{node-role.kubernetes.io/control-plane: }. preemption: 0/1 nodes are available: "
                       "1 Preemption is not helpful for scheduling..",
            "lastTransitionTime": "2024-05-01T10:00:00Z"}
    assert [f.reason for f in unschedulable.analyze(_unschedulable_pod(tmp_path, [cond]))] == ["Unschedulable"]
    unknown = dict(cond, status="Unknown")
    assert [f.reason for f in unschedulable.analyze(_unschedulable_pod(tmp_path, [unknown]))] == ["Unschedulable"]
    bound = {"type": "PodScheduled", "status": "True", "lastTransitionTime": "2024-05-01T10:05:00Z"}
    assert unschedulable.analyze(_unschedulable_pod(tmp_path, [cond, bound])) == []
    assert [f.reason for f in unschedulable.analyze(_unschedulable_pod(tmp_path, [cond, cond]))] == ["Unschedulable"]
