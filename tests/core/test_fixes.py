"""Suggestions are commands a person can paste, in bash and in zsh: the why goes beside them.

Interactive zsh does not treat `#` as a comment (`kubectl logs x --previous  # how far did startup
get?` fails with "no matches found: get?"), so no suggestion carries a trailing comment: `-o json`
keeps `suggestions` (the commands) and adds `fixes: [{command, why}]`; text prints the why as its
own line above the bare command, with no `$ ` prompt for a triple-click to copy.
"""

import io
import json
import os
import re
import tokenize

import pytest

from kdebug_core.findings import Finding, Fix, ObjectRef, Report, as_fix
from kdebug_core.main import run
from kdebug_core.render import render
from tests.helpers import ROOT, SCENARIOS

PLUGINS = ("why", "oomcheck", "probecheck", "endpoints-check")
ANALYZERS = os.path.join(ROOT, "kdebug_core", "analyzers")


def report_of(plugin: str, *args: str) -> dict:
    out, err = io.StringIO(), io.StringIO()
    code = run(plugin, ["-f", SCENARIOS, "-A", "-o", "json", *args], stdout=out, stderr=err)
    assert code in (0, 1), err.getvalue()
    return json.loads(out.getvalue())


def all_findings(doc: dict):
    def walk(f):
        yield f
        for r in f.get("related") or []:
            yield from walk(r)
    for f in doc["findings"]:
        yield from walk(f)


@pytest.fixture(scope="module")
def reports():
    return {p: report_of(p) for p in PLUGINS}


def test_no_suggestion_of_any_scenario_carries_a_comment(reports):
    seen = 0
    for plugin, doc in reports.items():
        for f in all_findings(doc):
            for s in f["suggestions"]:
                seen += 1
                assert " #" not in s and not s.startswith("#"), f"{plugin} {f['reason']}: {s}"
                assert not s.startswith("$"), s
    assert seen > 100  # the scenarios suggest plenty: the check is not vacuous


def test_fixes_pair_each_suggested_command_with_its_why(reports):
    whys = 0
    for doc in reports.values():
        for f in all_findings(doc):
            assert [x["command"] for x in f["fixes"]] == f["suggestions"]
            for x in f["fixes"]:
                assert set(x) == {"command", "why"}
                if x["why"]:
                    whys += 1
                    assert "\n" not in x["why"] and not x["why"].startswith("#")
    assert whys > 20


def test_the_runbook_06_guess_explains_itself_beside_the_command(reports):
    f = next(f for f in reports["why"]["findings"] if f["reason"] == "LivenessProbeFailed"
             and f["object"]["name"].startswith("probe-test"))
    patch = next(x for x in f["fixes"] if x["command"].startswith("kubectl patch deployment/probe-test"))
    assert patch["command"].endswith("}'")  # the JSON body closes the command: nothing after it
    assert "guess" in patch["why"]


def _string_literals_with_comments(path: str):
    """String literals of a module that hold a shell comment (`"...  # why"`)."""
    with open(path, encoding="utf-8") as fh:
        for tok in tokenize.generate_tokens(fh.readline):
            if tok.type == tokenize.STRING and re.search(r"  # \S", tok.string):
                yield tok.start[0], tok.string


# Modules being split up right now (probes → probe_*): their suggestions still go through the
# transitional split in findings.as_fix. Every other analyzer passes fix(command, why).
TRANSITIONAL: set = set()


def test_analyzers_pass_the_why_separately_instead_of_a_trailing_comment():
    offenders = []
    for name in sorted(os.listdir(ANALYZERS)):
        if name.endswith(".py") and name not in TRANSITIONAL:
            offenders += [f"{name}:{line}: {text}"
                          for line, text in _string_literals_with_comments(os.path.join(ANALYZERS, name))]
    assert not offenders, "use fix(command, why) from analyzers/base.py:\n" + "\n".join(offenders)


def test_a_transitional_comment_string_is_split_into_command_and_why():
    x = as_fix("kubectl logs p -n default -c app --previous  # how far did startup get?")
    assert (str(x), x.why) == ("kubectl logs p -n default -c app --previous", "how far did startup get?")
    assert as_fix("echo '{\"a\":1}' | kubectl apply -f -").why is None


def _finding(**kw) -> Finding:
    base = dict(plugin="why", reason="CrashLoopBackOff", object=ObjectRef("Pod", "default", "crasher-1"),
                summary="container app keeps exiting", container="app",
                suggestions=[Fix("kubectl logs crasher-1 -n default -c app --previous", "what did it print?"),
                             "kubectl describe pod crasher-1 -n default"])
    base.update(kw)
    return Finding(**base)


def test_json_keeps_suggestions_as_commands_and_adds_fixes():
    f = _finding()
    f.suggestions.append("kubectl delete pod crasher-1 -n default  # clean-up")  # appended later
    d = json.loads(render(Report(findings=[f]), "json", False, "why"))["findings"][0]
    assert d["suggestions"] == ["kubectl logs crasher-1 -n default -c app --previous",
                                "kubectl describe pod crasher-1 -n default",
                                "kubectl delete pod crasher-1 -n default"]
    assert d["fixes"] == [
        {"command": "kubectl logs crasher-1 -n default -c app --previous", "why": "what did it print?"},
        {"command": "kubectl describe pod crasher-1 -n default", "why": None},
        {"command": "kubectl delete pod crasher-1 -n default", "why": "clean-up"}]
    yaml_text = render(Report(findings=[f]), "yaml", False, "why")
    assert "why: what did it print?" in yaml_text


def test_text_puts_the_why_above_a_bare_command():
    lines = render(Report(findings=[_finding()]), "text", False, "why").splitlines()
    i = lines.index("      what did it print?")
    assert lines[i + 1] == "        kubectl logs crasher-1 -n default -c app --previous"
    assert "        kubectl describe pod crasher-1 -n default" in lines
    assert not any(line.lstrip().startswith("$") for line in lines)


def test_colour_never_wraps_anything_but_the_command_on_its_line():
    lines = render(Report(findings=[_finding()]), "text", True, "why").splitlines()
    cmd = next(line for line in lines if "kubectl logs" in line)
    # the escape codes sit around the command only: a triple-click copies them as nothing
    assert re.sub(r"\x1b\[[0-9;]*m", "", cmd).strip() == "kubectl logs crasher-1 -n default -c app --previous"


# ---- fixes must not make things worse --------------------------------------------------------------

def _largest_allocatable(scenario: str):
    from kdebug_core.quantity import memory_bytes
    from kdebug_core.sources.files import load
    nodes = [o for o in load([os.path.join(SCENARIOS, scenario)]).objects.values() if o.get("kind") == "Node"]
    sizes = [memory_bytes(((n.get("status") or {}).get("allocatable") or {}).get("memory")) for n in nodes]
    return max([s for s in sizes if s] or [0]) or None


SCENARIO_DIRS = sorted(d for d in os.listdir(SCENARIOS) if os.path.isdir(os.path.join(SCENARIOS, d)))


@pytest.mark.parametrize("scenario", SCENARIO_DIRS)
def test_no_suggested_memory_exceeds_the_largest_nodes_allocatable(scenario):
    from kdebug_core.quantity import memory_bytes
    largest = _largest_allocatable(scenario)
    if largest is None:
        pytest.skip("the scenario holds no nodes")
    for plugin in ("why", "oomcheck"):
        out, err = io.StringIO(), io.StringIO()
        run(plugin, ["-f", os.path.join(SCENARIOS, scenario), "-A", "-o", "json"], stdout=out, stderr=err)
        for f in all_findings(json.loads(out.getvalue())):
            for s in f["suggestions"]:
                for value in re.findall(r"(?:--limits|--requests)=memory=(\w+)", s):
                    n = memory_bytes(value)
                    assert n is None or n <= largest, f"{scenario} {plugin} {f['reason']}: {s}"
            for key in ("suggestedLimit", "suggestedRequest"):
                value = (f.get("details") or {}).get(key)
                if value and memory_bytes(value):
                    assert memory_bytes(value) <= largest, f"{scenario} {plugin} {f['reason']} {key}={value}"


def test_runbook_07_lowers_the_request_and_caps_the_16Gi_limit_on_15_5Gi_nodes():
    doc = report_of("why")
    f = next(f for f in doc["findings"] if f["reason"] == "Unschedulable"
             and f["object"]["name"].startswith("model-server"))
    fix = next(x for x in f["fixes"] if x["command"].startswith("kubectl set resources deployment/model-server"))
    assert fix["command"] == ("kubectl set resources deployment/model-server -n default -c app "
                              "--requests=memory=11776Mi --limits=memory=15872Mi")
    assert "the limit too" in fix["why"]


def test_runbook_08_oomcheck_caps_18Gi_at_the_node_and_says_so():
    doc = report_of("oomcheck")
    f = next(f for f in doc["findings"] if f["reason"] == "EvictedMemoryPressure")
    assert f["details"]["suggestedLimit"] == "15872Mi"
    fix = next(x for x in f["fixes"] if x["command"].startswith("kubectl set resources"))
    assert "--limits=memory=15872Mi" in fix["command"]
    assert "18Gi would not fit any node" in fix["why"] and "15.5Gi on kind-worker" in fix["why"]


def test_a_container_no_node_can_hold_is_said_to_fit_nowhere():
    from kdebug_core.analyzers.pod.memory_usage import fit_to_nodes
    from tests.helpers import view_of
    view = view_of(os.path.join(SCENARIOS, "08-evicted-memory-pressure"))
    limit, request, why = fit_to_nodes(view, "40Gi", "32Gi")
    assert (limit, request) == ("15872Mi", "15872Mi")
    assert why.startswith("no node can fit it: it needs 32Gi but the largest node (kind-worker) has 15.5Gi")
    assert fit_to_nodes(view, "1Gi", "512Mi") == ("1Gi", "512Mi", None)
