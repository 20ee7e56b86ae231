"""Flags and targets follow kubectl's conventions; bad input is one line and exit code 2."""

import io

import pytest

from kdebug_core.cli import Options, build_parser
from kdebug_core.errors import UsageError
from kdebug_core.main import run
from kdebug_core.plugins import PLUGINS
from kdebug_core.targets import Target, parse_target, targets_from_stdin

WHY = PLUGINS["why"].target_kinds


def options(*argv, plugin="why"):
    args = build_parser(plugin).parse_args(list(argv))
    return Options.from_args(PLUGINS[plugin], args).complete(io.StringIO()).validate()


@pytest.mark.parametrize("text,expected", [
    ("crasher-859cdd79dd-fp4lk", Target("Pod", "crasher-859cdd79dd-fp4lk")),
    ("po/x", Target("Pod", "x")),
    ("deploy/web", Target("Deployment", "web")),
    ("deployments.apps/web", Target("Deployment", "web")),
    ("sts/db", Target("StatefulSet", "db")),
    ("cj/nightly", Target("CronJob", "nightly")),
    ("shop/pod/web-1", Target("Pod", "web-1", "shop")),
])
def test_targets_use_kubectl_kinds_and_short_names(text, expected):
    assert parse_target(text, WHY) == expected


@pytest.mark.parametrize("bad", ["frob/x", "deploy/", "a/b/c/d", "node/kind-worker"])
def test_unknown_or_unsupported_targets_are_usage_errors(bad):
    with pytest.raises(UsageError):
        parse_target(bad, WHY)


def test_stdin_accepts_name_lines_and_reports():
    assert targets_from_stdin("default/pod/a\nshop/deployment/b\n", WHY) == [
        Target("Pod", "a", "default"), Target("Deployment", "b", "shop")]
    report = '{"apiVersion":"kdebug/v1","kind":"Report","findings":[{"object":{"kind":"Pod","namespace":"x","name":"p"}}]}'
    assert targets_from_stdin(report, WHY) == [Target("Pod", "p", "x")]


def test_why_needs_a_target_or_a_scan():
    with pytest.raises(UsageError) as err:
        options()
    assert "-A" in str(err.value)
    assert options("-A").all_namespaces
    assert options(plugin="oomcheck").targets == []  # oomcheck scans the namespace by default


def test_names_across_all_namespaces_are_refused_like_kubectl():
    with pytest.raises(UsageError):
        options("web-1", "-A")


def test_bad_flag_is_one_line_and_exit_2():
    err = io.StringIO()
    assert run("why", ["--frobnicate"], stderr=err, stdout=io.StringIO()) == 2
    assert err.getvalue().count("\n") == 1 and "kubectl why --help" in err.getvalue()


def test_bad_selector_is_exit_2():
    err = io.StringIO()
    assert run("why", ["-l", "app in (x", "-f", "-"], stdin=io.StringIO("{}"), stderr=err,
               stdout=io.StringIO()) == 2
    assert "label selector" in err.getvalue()


def test_help_is_written_as_kubectl_why(capsys):
    with pytest.raises(SystemExit) as exit_:
        build_parser("why").parse_args(["--help"])
    assert exit_.value.code == 0
    assert capsys.readouterr().out.startswith("usage: kubectl why")


def test_request_timeout_uses_kubectl_durations():
    from kdebug_core.sources.live import parse_request_timeout
    assert parse_request_timeout("1m30s") == 90 and parse_request_timeout("0") is None
    with pytest.raises(UsageError):
        options("-A", "--request-timeout", "soon")


def test_a_bare_name_is_the_plugins_subject():
    assert parse_target("backend-service", PLUGINS["endpoints-check"].target_kinds) == \
        Target("Service", "backend-service")
    assert parse_target("web-1", PLUGINS["oomcheck"].target_kinds) == Target("Pod", "web-1")


def test_a_cluster_scoped_target_goes_with_all_namespaces():
    assert options("node/kind-worker", "-A", plugin="oomcheck").targets == ["node/kind-worker"]


def test_stdin_skips_other_plugins_subjects():
    assert targets_from_stdin("node/kind-worker\ndefault/pod/a\n", WHY) == [Target("Pod", "a", "default")]
