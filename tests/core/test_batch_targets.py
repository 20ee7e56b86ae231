"""Targets from a stdin batch, and -n with -A (issue 9 §3), below the end-to-end tests."""

import pytest

from kdebug_core.cli import Options, build_parser
from kdebug_core.errors import NotFoundError, UsageError
from kdebug_core.plugins import PLUGINS
from kdebug_core.targets import MissingTargets, Target, parse_target, pods_of, targets_from_stdin
from tests.helpers import SCENARIOS, view_of


def options(*argv, plugin="why"):
    args = build_parser(plugin).parse_args(list(argv))
    return Options.from_args(PLUGINS[plugin], args).complete().validate()


def test_all_namespaces_wins_over_namespace():
    opts = options("-n", "kube-system", "-A")
    assert opts.all_namespaces and opts.namespace is None


def test_a_named_target_with_all_namespaces_is_refused_with_or_without_namespace():
    for argv in (("-A", "web-0"), ("-n", "x", "-A", "deploy/web")):
        with pytest.raises(UsageError, match="across all namespaces"):
            options(*argv)
    assert options("-A", "node/kind-worker", plugin="oomcheck").targets == ["node/kind-worker"]


def test_stdin_lines_are_marked_and_compare_equal_to_the_same_target():
    got = targets_from_stdin("default/pod/a\nshop/deployment.apps/web\n", ("Pod", "Deployment"))
    assert [t.from_stdin for t in got] == [True, True]
    assert got[0] == Target("Pod", "a", "default") and not parse_target("a", ("Pod",)).from_stdin


def test_a_vanished_stdin_pod_is_collected_not_raised():
    view = view_of(f"{SCENARIOS}/02-crashloop-backoff")
    gone = targets_from_stdin("default/pod/crasher-gone\n", ("Pod",))[0]
    missing = MissingTargets()
    assert pods_of(view, gone, "default", missing) == []
    assert len(missing) == 1 and 'pod "crasher-gone" not found in namespace default' in missing[0]
    assert "from standard input" in missing[0] and missing.exit_code == 2


def test_a_vanished_stdin_pod_without_a_collector_is_one_stderr_line(capsys):
    view = view_of(f"{SCENARIOS}/02-crashloop-backoff")
    gone = targets_from_stdin("default/pod/crasher-gone\n", ("Pod",))[0]
    assert pods_of(view, gone, "default") == []
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith('error: pod "crasher-gone" not found')


def test_a_named_target_that_does_not_exist_still_stops_the_run():
    view = view_of(f"{SCENARIOS}/02-crashloop-backoff")
    with pytest.raises(NotFoundError):
        pods_of(view, parse_target("crasher-gone", ("Pod",)), "default")


def test_lookup_skips_a_vanished_stdin_workload_and_raises_for_a_named_one():
    from kdebug_core.targets import lookup
    view = view_of(f"{SCENARIOS}/02-crashloop-backoff")
    gone = targets_from_stdin("default/deployment.apps/gone\n", ("Deployment",))[0]
    missing = MissingTargets()
    assert lookup(view, gone, "default", missing) is None
    assert len(missing) == 1 and 'deployment "gone" not found in namespace default' in missing[0]
    with pytest.raises(NotFoundError):
        lookup(view, parse_target("deploy/gone", ("Deployment",)), "default")
    pod = next(iter(view.list("Pod", "default")))
    assert lookup(view, parse_target(pod["metadata"]["name"], ("Pod",)), "default") is pod
