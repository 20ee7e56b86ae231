"""NetworkPolicies that select the Service's pods for Ingress and let nothing (or nothing from the
namespace, or nothing on the Service's port) in: named, with what to run next."""

import json

from kdebug_core.analyzers.service import service_netpol
from tests.helpers import edited_fixture, fixture, only, run_service_analyzer


def service_findings(path, name="web"):
    return run_service_analyzer(service_netpol.analyze, path, name)


def edited(tmp_path, name, edit):
    return edited_fixture(tmp_path, "service_netpol", name, edit)


def test_a_default_deny_policy_isolates_the_backends_and_is_named():
    f = only(service_findings(fixture("service_netpol", "default-deny-ingress.json")), "NetworkPolicyIsolated")
    assert f.severity == "warning" and f.cause == "DenyAll"
    assert 'NetworkPolicy "default-deny-ingress"' in f.summary and "admits no traffic" in f.summary
    assert ("networkpolicy/default-deny-ingress: podSelector {} (all), policyTypes Ingress, "
            "no ingress rules (denies all ingress)") in f.evidence
    assert any("selects all backend pods of service \"web\"" in e for e in f.evidence)
    assert f.suggestions[0] == "kubectl describe networkpolicy default-deny-ingress -n default"
    allow = json.loads(f.suggestions[1].split("'")[1])
    assert allow["spec"]["podSelector"] == {"matchLabels": {"app": "web"}}
    assert allow["spec"]["ingress"] == [{"from": [{"podSelector": {}}], "ports": [{"protocol": "TCP", "port": 80}]}]
    assert f.details["policies"] == ["default-deny-ingress"]


def test_a_deny_all_with_an_allow_rule_for_the_frontend_is_fine():
    assert service_findings(fixture("service_netpol", "deny-all-and-allow-from-frontend.json")) == []


def test_a_policy_that_only_opens_the_metrics_port_blocks_the_service_port():
    f = only(service_findings(fixture("service_netpol", "only-metrics-port-admitted.json")),
             "NetworkPolicyIsolated")
    assert f.cause == "PortNotAdmitted" and f.severity == "warning"
    assert "target port 80/TCP" in f.summary
    assert any("ingress from anywhere on 9113/TCP" in e for e in f.evidence)


def test_only_the_ingress_controller_namespace_admitted_is_advice():
    f = only(service_findings(fixture("service_netpol", "only-ingress-controller-namespace-admitted.json")),
             "NetworkPolicyIsolated")
    assert f.severity == "info" and f.cause == "NamespaceNotAdmitted"
    assert "pods of namespace default cannot reach it" in f.summary
    # its rule names the container port "http": it does admit the Service's port
    assert any("namespaces kubernetes.io/metadata.name=ingress-nginx on http/TCP" in e for e in f.evidence)


def test_a_namespace_selector_on_a_label_we_cannot_see_is_not_judged(tmp_path):
    def team(items):
        for o in items:
            if o["kind"] == "NetworkPolicy":
                o["spec"]["ingress"][0]["from"] = [{"namespaceSelector": {"matchLabels": {"team": "shop"}}}]
    assert service_findings(edited(tmp_path, "only-ingress-controller-namespace-admitted.json", team)) == []


def test_an_egress_only_policy_does_not_isolate_ingress():
    assert service_findings(fixture("service_netpol", "egress-only-policy.json")) == []


def test_an_empty_rule_admits_everything(tmp_path):
    def allow_all(items):
        for o in items:
            if o["kind"] == "NetworkPolicy":
                o["spec"]["ingress"] = [{}]
    assert service_findings(edited(tmp_path, "default-deny-ingress.json", allow_all)) == []


def test_a_manifest_policy_without_policy_types_isolates_ingress(tmp_path):
    def no_types(items):
        for o in items:
            if o["kind"] == "NetworkPolicy":
                del o["spec"]["policyTypes"]
    f = only(service_findings(edited(tmp_path, "default-deny-ingress.json", no_types)), "NetworkPolicyIsolated")
    assert f.cause == "DenyAll"


def test_a_policy_selecting_other_pods_leaves_the_service_alone(tmp_path):
    def other(items):
        for o in items:
            if o["kind"] == "NetworkPolicy":
                o["spec"]["podSelector"] = {"matchLabels": {"app": "frontend"}}
    assert service_findings(edited(tmp_path, "default-deny-ingress.json", other)) == []
