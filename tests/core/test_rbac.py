"""The shipped RBAC is read-only and covers every kind the plugins read."""

import os

import yaml

from kdebug_core.kinds import KINDS

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def roles():
    with open(os.path.join(ROOT, "rbac", "kdebug-rbac.yaml")) as fh:
        return {(d["kind"], d["metadata"]["name"]): d for d in yaml.safe_load_all(fh) if d}


def granted(role):
    out = set()
    for rule in role["rules"]:
        for group in rule["apiGroups"]:
            for resource in rule["resources"]:
                out.add((group, resource))
    return out


def test_every_rule_is_read_only():
    for role in roles().values():
        for rule in role["rules"]:
            assert set(rule["verbs"]) <= {"get", "list"}, (role["metadata"]["name"], rule)


def test_the_reader_role_covers_every_kind_kdebug_reads_except_secrets():
    grants = granted(roles()[("ClusterRole", "kdebug-reader")])
    for k in KINDS:
        group = k.group_version.rpartition("/")[0]
        if k.kind == "Secret":
            assert (group, k.resource) not in grants  # optional role only
        else:
            assert (group, k.resource) in grants, k.kind
    assert ("", "pods/log") in grants


def test_secret_existence_and_probe_proxy_are_separate_optional_roles():
    assert granted(roles()[("ClusterRole", "kdebug-secret-existence")]) == {("", "secrets")}
    assert granted(roles()[("ClusterRole", "kdebug-probe-now")]) == {("", "pods/proxy")}
