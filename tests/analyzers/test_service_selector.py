"""The Service selects no pod: which labels are missing or different on the closest pods, the
runbook's two fixes, pods in the wrong namespace, and Services without a selector."""

import json

from kdebug_core import analyzers
from kdebug_core.analyzers.service import service_selector
from kdebug_core.labels import matches, requirements_from_map
from kdebug_core.services import service_summary
from kdebug_core.view import meta
from tests.helpers import fixture, only, run_service_analyzer, view_of


def service_findings(analyze, path, name, plugin="endpoints-check"):
    return run_service_analyzer(analyze, path, name, plugin=plugin)


def merge_patch(target, patch):
    """RFC 7386 JSON merge patch, as `kubectl patch --type=merge` applies it."""
    if not isinstance(patch, dict):
        return patch
    out = dict(target) if isinstance(target, dict) else {}
    for k, v in patch.items():
        if v is None:
            out.pop(k, None)
        else:
            out[k] = merge_patch(out.get(k), v)
    return out


def patch_body(command):
    return json.loads(command.split(" -p ", 1)[1].split("'")[1])


def test_pods_lacking_a_selector_label_get_the_runbook_diagnosis_and_both_fixes():
    f = only(service_findings(service_selector.analyze,
                              fixture("service_selector", "selector-pods-lack-tier-label.json"),
                              "backend-service"), "SelectorMismatch")
    assert f.severity == "error"
    assert f.object.kind == "Service" and f.object.name == "backend-service"
    assert (f.owner.kind, f.owner.name) == ("Deployment", "backend")
    assert "lack tier=api" in f.summary and "app=backend,tier=api" in f.summary
    assert "service selector: app=backend,tier=api" in f.evidence
    for pod in ("backend-6b7c9d8f5c-4xk2p", "backend-6b7c9d8f5c-q9zvm"):
        assert f"pod {pod} (deployment/backend): app=backend ✓, tier missing (service wants api)" in f.evidence
    # the frontend pod carries tier=web: it shares no selector label value, it is not "close"
    assert not any("frontend" in e for e in f.evidence)
    assert any("EndpointSlice backend-service-" in e and "no endpoints" in e for e in f.evidence)
    fix_template, fix_service = f.suggestions
    assert fix_template.startswith(
        "kubectl patch deployment/backend -n default --type=strategic "
        """-p '{"spec":{"template":{"metadata":{"labels":{"tier":"api"}}}}}'""")
    assert fix_service.startswith(
        """kubectl patch service/backend-service -n default --type=merge -p '{"spec":{"selector":{"tier":null}}}'""")
    assert "selector becomes app=backend: 2 pods (deployment/backend)" == fix_service.why


def test_the_service_fix_really_removes_the_key_and_then_selects_the_pods():
    # The runbook's own Fix 2 (`kubectl patch service backend-service -p 'spec: selector: app: backend'`)
    # is a strategic merge patch: maps merge, tier: api would stay. The suggested merge patch with
    # null deletes it.
    path = fixture("service_selector", "selector-pods-lack-tier-label.json")
    view = view_of(path)
    svc = next(s for s in view.list("Service", None) if meta(s)["name"] == "backend-service")
    f = only(service_selector.analyze(view, svc, "endpoints-check"), "SelectorMismatch")
    patched = merge_patch(svc, patch_body(f.suggestions[1]))
    assert patched["spec"]["selector"] == {"app": "backend"}
    reqs = requirements_from_map(patched["spec"]["selector"])
    selected = [meta(p)["name"] for p in view.list("Pod", "default") if matches(reqs, meta(p).get("labels"))]
    assert selected == ["backend-6b7c9d8f5c-4xk2p", "backend-6b7c9d8f5c-q9zvm"]


def test_the_template_fix_makes_the_pods_match():
    path = fixture("service_selector", "selector-pods-lack-tier-label.json")
    view = view_of(path)
    svc = next(s for s in view.list("Service", None) if meta(s)["name"] == "backend-service")
    f = only(service_selector.analyze(view, svc, "endpoints-check"), "SelectorMismatch")
    body = patch_body(f.suggestions[0])
    deploy = view.get("Deployment", "default", "backend")
    labels = dict(deploy["spec"]["template"]["metadata"]["labels"], **body["spec"]["template"]["metadata"]["labels"])
    assert matches(requirements_from_map(svc["spec"]["selector"]), labels)
    # and the Deployment's own (immutable) selector still matches its new template
    assert matches(requirements_from_map(deploy["spec"]["selector"]["matchLabels"]), labels)


def test_a_workload_whose_selector_disagrees_with_its_template_is_called_out():
    # The runbook's manifest as written: the API server refuses the Deployment, only the Service exists.
    f = only(service_findings(service_selector.analyze,
                              fixture("service_selector",
                                      "deployment-selector-not-matching-template-from-manifest.json"),
                              "backend-service"), "SelectorMismatch")
    assert "the pod template of deployment/backend lacks tier=api" in f.summary
    assert "deployment/backend pod template (no pods): app=backend ✓, tier missing (service wants api)" in f.evidence
    problem = next(e for e in f.evidence if "its own spec.selector" in e)
    assert "(app=backend,tier=api) does not match its template labels (app=backend)" in problem
    assert "`selector` does not match template `labels`" in problem
    assert "never accepted" in problem
    apply_fix, service_fix = f.suggestions
    assert apply_fix.startswith("kubectl apply -n default -f MANIFEST.yaml")
    assert "tier: api" in apply_fix.why and "spec.template.metadata.labels of deployment/backend" in apply_fix.why
    assert '"selector":{"tier":null}' in service_fix


def test_a_different_value_pinned_by_the_workloads_own_selector_only_gets_the_service_fix():
    f = only(service_findings(service_selector.analyze,
                              fixture("service_selector", "selector-value-differs-pinned-by-workload-selector.json"),
                              "payments"), "SelectorMismatch")
    assert "have track=canary instead of track=stable" in f.summary
    assert any("track=canary ✗ (service wants stable)" in e for e in f.evidence)
    assert any("cannot change track in its pod template" in e and "immutable" in e for e in f.evidence)
    assert len(f.suggestions) == 1
    assert f.suggestions[0].startswith(
        """kubectl patch service/payments -n shop --type=merge -p '{"spec":{"selector":{"track":"canary"}}}'""")


def test_pods_with_every_label_in_another_namespace():
    found = service_findings(service_selector.analyze,
                             fixture("service_selector", "pods-in-other-namespace.json"), "inventory")
    f = only(found, "PodsInOtherNamespace")
    assert [x.reason for x in found] == ["PodsInOtherNamespace"]  # nothing local comes close
    assert "run in namespace warehouse, but the Service is in default" in f.summary
    assert any("warehouse/inventory-8d6b5f7c9-k4wxp" in e for e in f.evidence)
    assert (f.owner.kind, f.owner.namespace, f.owner.name) == ("Deployment", "warehouse", "inventory")
    assert f.suggestions[0].startswith(
        "kubectl expose deployment/inventory -n warehouse --name=inventory --port=80 --target-port=8080")


def test_no_selector_and_no_endpoints_forwards_nowhere():
    f = only(service_findings(service_selector.analyze,
                              fixture("service_selector", "no-selector-no-endpoints.json"), "external-db"),
             "NoSelectorNoEndpoints")
    assert f.severity == "error"
    assert any("spec.selector: not set" in e for e in f.evidence)
    assert any("no EndpointSlice labelled kubernetes.io/service-name=external-db" in e for e in f.evidence)
    slice_cmd = next(s for s in f.suggestions if "EndpointSlice" in s)
    body = json.loads(slice_cmd.split("'")[1])
    assert body["metadata"]["labels"] == {"kubernetes.io/service-name": "external-db"}
    assert body["ports"] == [{"name": "postgres", "port": 5432, "protocol": "TCP"}]


def test_no_selector_with_endpoints_listed_by_hand_is_fine():
    path = fixture("service_selector", "no-selector-manual-endpoints.json")
    assert service_findings(service_selector.analyze, path, "external-db") == []
    view = view_of(path)
    svc = view.get("Service", "default", "external-db")
    assert service_summary(view, svc, "endpoints-check").startswith("1/1 endpoints ready on port 5432 → 5432")


def test_no_selector_when_the_input_holds_no_endpoints_is_not_judged_but_said():
    view = view_of(fixture("service_selector", "no-selector-endpoints-not-dumped.json"))
    svc = view.get("Service", "default", "external-db")
    assert service_selector.analyze(view, svc, "endpoints-check") == []
    assert any("whether anyone manages its endpoints is unknown" in n for n in view.notes)


def test_a_healthy_service_gives_no_finding_from_any_service_analyzer():
    view = view_of(fixture("service_selector", "healthy-two-ready-endpoints.json"))
    svc = view.get("Service", "default", "backend-service")
    for analyze in analyzers.SERVICE_ANALYZERS["endpoints-check"]:
        assert analyze(view, svc, "endpoints-check") == [], analyze.__module__
    assert service_summary(view, svc, "endpoints-check") == "2/2 endpoints ready on port 80 → 80"


def test_mismatch_is_found_from_the_pods_alone_when_no_endpoints_were_dumped(tmp_path):
    with open(fixture("service_selector", "selector-pods-lack-tier-label.json")) as fh:
        doc = json.load(fh)
    doc["items"] = [o for o in doc["items"] if o["kind"] not in ("EndpointSlice", "Endpoints")]
    path = tmp_path / "pods-and-services.json"
    path.write_text(json.dumps(doc))
    f = only(service_findings(service_selector.analyze, str(path), "backend-service"), "SelectorMismatch")
    assert "no endpoints: no pod matches the selector" in f.evidence


def test_an_external_name_service_has_no_endpoints_by_design(tmp_path):
    svc = {"apiVersion": "v1", "kind": "Service",
           "metadata": {"name": "billing", "namespace": "default", "uid": "0d6c5e0a-1c7e-4b8e-9f62-54a1c1c2f0b1",
                        "creationTimestamp": "2024-05-14T09:12:04Z", "resourceVersion": "812455"},
           "spec": {"externalName": "billing.example.com", "sessionAffinity": "None", "type": "ExternalName"},
           "status": {"loadBalancer": {}}}
    path = tmp_path / "svc.json"
    path.write_text(json.dumps({"apiVersion": "v1", "kind": "List", "items": [svc]}))
    view = view_of(str(path))
    for analyze in analyzers.SERVICE_ANALYZERS["endpoints-check"]:
        assert analyze(view, svc, "endpoints-check") == []
    assert "ExternalName → billing.example.com" in service_summary(view, svc, "endpoints-check")
