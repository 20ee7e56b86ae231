"""Renderers: the JSON contract, `-o name` lines, and terminal safety of cluster-supplied text."""

import json

from kdebug_core.findings import Finding, ObjectRef, Report
from kdebug_core.render import render
from kdebug_core.sanitize import clean


def finding(**kw):
    base = dict(plugin="why", reason="CrashLoopBackOff", object=ObjectRef("Pod", "default", "crasher-1"),
                summary="container app keeps exiting", container="app",
                owner=ObjectRef("Deployment", "default", "crasher"),
                evidence=["last exit code 1"], suggestions=["kubectl logs crasher-1 -n default -c app --previous"])
    base.update(kw)
    return Finding(**base)


def test_json_report_has_the_spec_shape():
    doc = json.loads(render(Report(findings=[finding()]), "json", False, "why"))
    assert doc["apiVersion"] == "kdebug/v1" and doc["kind"] == "Report"
    f = doc["findings"][0]
    assert f["reason"] == "CrashLoopBackOff" and f["severity"] == "error"
    assert f["object"] == {"kind": "Pod", "namespace": "default", "name": "crasher-1"}
    assert f["owner"]["kind"] == "Deployment" and f["suggestions"]


def test_name_output_lists_objects_with_problems_once():
    report = Report(findings=[finding(), finding(reason="OOMKilled"),
                              finding(reason="NoMemoryLimit", object=ObjectRef("Pod", "default", "ok-1"))])
    assert render(report, "name", False, "why") == "default/pod/crasher-1\n"


def test_escape_sequences_from_the_cluster_are_neutralised():
    evil = "boom\x1b]52;c;ZWNobyBoaQ==\x07\x1b[2J"
    text = render(Report(findings=[finding(summary=evil, evidence=[evil],
                                           object=ObjectRef("Pod", "default", "x\x1b[31m"))]),
                  "text", False, "why")
    assert "\x1b" not in text and "\x07" not in text
    assert "^[]52;c;" in text


def test_clean_keeps_text_readable():
    assert clean("a\tb\r\nc", keep_newlines=True) == "a    b\\x0d\nc" or "\x0d" not in clean("a\r\nc")


def test_colour_only_when_asked():
    plain = render(Report(findings=[finding()]), "text", False, "why")
    coloured = render(Report(findings=[finding()]), "text", True, "why")
    assert "\x1b[" not in plain and "\x1b[31m" in coloured


def test_healthy_target_is_one_line():
    report = Report(healthy=[ObjectRef("Pod", "default", "web-1")],
                    healthy_detail={"default/pod/web-1": "Running, 1/1 ready, 0 restarts"})
    out = render(report, "text", False, "why")
    assert out == "✓ pod/web-1 -n default: healthy (Running, 1/1 ready, 0 restarts)\n"
