import pytest

from kdebug_core.errors import UsageError
from kdebug_core.labels import matches, parse_selector, requirements_from_label_selector, to_query


@pytest.mark.parametrize("selector,labels,expected", [
    ("app=web", {"app": "web", "tier": "api"}, True),
    ("app==web,tier=api", {"app": "web"}, False),
    ("app!=web", {"app": "db"}, True),
    ("app!=web", {}, True),
    ("env in (prod, staging)", {"env": "staging"}, True),
    ("env notin (prod)", {"env": "prod"}, False),
    ("tier", {"tier": "x"}, True),
    ("!tier", {"tier": "x"}, False),
    ("app=web,env in (a,b),!canary", {"app": "web", "env": "b"}, True),
])
def test_kubectl_selector_syntax_matches_like_the_server(selector, labels, expected):
    assert matches(parse_selector(selector), labels) is expected


@pytest.mark.parametrize("bad", ["app=we b", "=x", "app in (a", "a=b,,"])
def test_malformed_selectors_are_usage_errors(bad):
    with pytest.raises(UsageError):
        parse_selector(bad)


def test_workload_selector_with_expressions():
    reqs = requirements_from_label_selector({
        "matchLabels": {"app": "backend"},
        "matchExpressions": [{"key": "tier", "operator": "In", "values": ["api"]}]})
    assert matches(reqs, {"app": "backend", "tier": "api"})
    assert not matches(reqs, {"app": "backend"})
    assert to_query(reqs) == "app=backend,tier in (api)"
