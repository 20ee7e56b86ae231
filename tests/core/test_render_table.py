"""oomcheck's default text view: the table, the commands below it and the advice."""

import io
import json
import os

from kdebug_core.analyzers.pod import memory_usage, oom_killed
from kdebug_core.findings import Report
from kdebug_core.main import run
from kdebug_core.render import render
from kdebug_core.render.table import HEADERS, render as render_table
from tests.helpers import SCENARIOS, fixture, pod_context, view_of


def oomcheck(*args):
    out, err = io.StringIO(), io.StringIO()
    code = run("oomcheck", list(args), stdin=io.StringIO(""), stdout=out, stderr=err)
    return code, out.getvalue(), err.getvalue()


def rows(text):
    lines = text.splitlines()
    return [l.split() for l in lines[1:lines.index("")]] if "" in lines else [l.split() for l in lines[1:]]


def test_the_runbooks_memory_hog_is_one_row_with_the_set_resources_command_below():
    code, out, _ = oomcheck("-f", os.path.join(SCENARIOS, "03-resource-constraints"), "-A")
    assert code == 1
    lines = out.splitlines()
    assert lines[0].split() == HEADERS
    assert rows(out) == [["default", "memory-hog-5bb769c8d4-2mz8t", "app", "5", "(28s", "ago)", "OOMKilled",
                          "64Mi", "128Mi", "-", "256Mi"]]
    assert "to set the suggested memory:" in lines
    assert ("  kubectl set resources deployment/memory-hog -n default -c app --limits=memory=256Mi "
            "--requests=memory=128Mi") in lines
    advice = [l for l in lines if l.startswith("advice:")]
    assert len(advice) == 1 and "stream data instead of loading it all at once" in advice[0] \
        and "FP16/INT8" in advice[0]


def test_kinds_of_kill_side_by_side_and_exit_137_never_called_oom():
    code, out, _ = oomcheck("-f", os.path.join(SCENARIOS, "30-exit-137-not-oom"),
                            "-f", os.path.join(SCENARIOS, "31-node-oom"),
                            "-f", os.path.join(SCENARIOS, "08-evicted-memory-pressure"), "-A")
    assert code == 1
    table = {r[1]: r for r in rows(out)}
    assert table["ledger-sync-7b89d4f797-2x9cg"][6] == "SIGKILL-not-OOM"
    assert table["ledger-sync-7b89d4f797-2x9cg"][-1] == "-"
    assert table["batch-import-7xk4d9bfwq-h2xnr"][6] == "SystemOOM"
    assert table["cache-warmer-84c6f5d9b7-ws9zr"][6] == "Evicted"
    assert "14Gi at eviction" in out
    assert not any("OOMKilled" in r for r in table.values())
    assert any(l.startswith("advice: exit 137 without reason OOMKilled is a SIGKILL from elsewhere")
               for l in out.splitlines())
    assert any(l.startswith("advice: the node ran out of memory, not the container") for l in out.splitlines())
    # the node OOM's fix has the LIMIT placeholder to fill in
    assert ("  kubectl set resources deployment/batch-import -n default -c importer --limits=memory=LIMIT "
            "--requests=memory=256Mi") in out.splitlines()


def test_usage_from_the_metrics_api_and_its_share_of_the_limit():
    _, out, _ = oomcheck("-f", os.path.join(SCENARIOS, "32-memory-near-limit"), "-A")
    (row,) = rows(out)
    assert row[:3] == ["default", "session-cache-b9w5t2kq6h-t8n4q", "redis"]
    assert row[4:] == ["near", "limit", "128Mi", "256Mi", "243.2Mi", "(95%)", "320Mi"]
    assert "✓ 1 other pod: no memory kills" in out
    assert "note:" not in out  # PodMetrics were there


def test_one_command_per_workload_and_container_with_the_largest_limit():
    v = view_of(fixture("memory_usage", "search-api-at-95-percent-of-limit-with-podmetrics.json"))
    ctx = pod_context(v, "search-api-6f8d9c7b5-t4r9k", "oomcheck")
    found = oom_killed.analyze(ctx) + memory_usage.analyze(ctx)
    assert sorted(f.details["suggestedLimit"] for f in found) == ["1Gi", "640Mi"]
    out = render_table(Report(findings=found))
    (row,) = rows(out)
    assert row[6:] == ["OOMKilled,", "near", "limit", "256Mi", "512Mi", "486.6Mi", "(95%)", "1Gi"]
    commands = [l for l in out.splitlines() if l.startswith("  kubectl set resources")]
    assert commands == ["  kubectl set resources deployment/search-api -n default -c app --limits=memory=1Gi "
                        "--requests=memory=512Mi"]


def test_containers_without_limit_are_listed_once_per_workload_below_the_table():
    _, out, _ = oomcheck("-f", fixture("memory_usage", "replicas-without-memory-limit-besteffort.json"), "-A")
    assert out.splitlines()[0] == "i no memory limit: media/deployment/thumbnailer (worker, 3 pods)"
    assert "✓ 4 pods checked: no memory kills, none near its memory limit" in out


def test_a_healthy_namespace_is_one_line_and_exit_0():
    code, out, _ = oomcheck("-f", os.path.join(SCENARIOS, "15-service-healthy"), "-A")
    assert code == 0
    assert "NAMESPACE" not in out
    assert "✓ 2 pods checked: no memory kills, none near its memory limit" in out.splitlines()


def test_colour_marks_the_kind_and_keeps_the_columns_aligned():
    v = view_of(os.path.join(SCENARIOS, "03-resource-constraints"))
    found = oom_killed.analyze(pod_context(v, "memory-hog-5bb769c8d4-2mz8t", "oomcheck"))
    plain = render_table(Report(findings=found)).splitlines()
    coloured = render_table(Report(findings=found), color=True).splitlines()
    assert "\x1b[31mOOMKilled\x1b[0m" in coloured[1]
    strip = coloured[1].replace("\x1b[31m", "").replace("\x1b[0m", "")
    assert strip == plain[1]


def test_cluster_text_in_the_table_cannot_drive_the_terminal():
    v = view_of(os.path.join(SCENARIOS, "03-resource-constraints"))
    ctx = pod_context(v, "memory-hog-5bb769c8d4-2mz8t", "oomcheck")
    f = oom_killed.analyze(ctx)[0]
    f.object.name = "evil\x1b]52;c;aGk=\x07pod"
    f.container = "app\x1b[2J"
    out = render_table(Report(findings=[f]))
    assert "\x1b" not in out and "\x07" not in out
    assert "evil^[]52;c;aGk=\\x07pod" in out


def test_wide_json_and_name_are_the_other_plugins_views():
    path = os.path.join(SCENARIOS, "03-resource-constraints")
    _, wide, _ = oomcheck("-f", path, "-A", "-o", "wide")
    assert wide.startswith("pod/memory-hog-5bb769c8d4-2mz8t -n default  (Deployment memory-hog)")
    assert "timeline (UTC):" in wide and "NAMESPACE" not in wide
    _, js, _ = oomcheck("-f", path, "-A", "-o", "json")
    doc = json.loads(js)
    assert doc["kind"] == "Report" and [f["reason"] for f in doc["findings"]] == ["OOMKilled"]
    _, names, _ = oomcheck("-f", path, "-A", "-o", "name")
    assert names == "default/pod/memory-hog-5bb769c8d4-2mz8t\n"
    # why keeps its own view
    report = Report(findings=oom_killed.analyze(pod_context(view_of(path), "memory-hog-5bb769c8d4-2mz8t")))
    assert not render(report, "text", False, "why").startswith("NAMESPACE")
