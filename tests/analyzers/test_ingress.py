"""Ingress analyzers (endpoints-check ingress/NAME): backends, class and TLS Secret of an Ingress.

Shapes are networking.k8s.io/v1 as `kubectl get ingress -o json` prints them; the IngressClass is
ingress-nginx's (controller k8s.io/ingress-nginx, marked ingressclass.kubernetes.io/is-default-class);
its Sync "Scheduled for sync" events are the ones ingress-nginx records on the Ingresses it takes.
"""

from kdebug_core.analyzers.ingress import backend, ingress_class, tls
from kdebug_core.view import meta
from tests.helpers import edited_fixture, fixture, only, view_of

PATH = fixture("ingress", "shop-ingresses.json")


def run(analyze, name, path=PATH):
    view = view_of(path)
    ing = next(i for i in view.list("Ingress", None) if meta(i)["name"] == name)
    return analyze(view, ing, "endpoints-check")


def test_a_backend_service_that_does_not_exist():
    f = only(run(backend.analyze, "storefront"), "IngressBackendMissing")
    assert f.cause == "ServiceNotFound" and f.object.kind == "Ingress" and f.object.name == "storefront"
    assert 'sends rule shop.example.com path /api to Service "api-gateway", which does not exist' in f.summary
    assert "Services in the namespace: admin, docs, storefront" in f.evidence
    assert f.suggestions == ["kubectl get services -n shop"]


def test_a_backend_port_the_service_does_not_have_names_the_ports_it_has():
    f = only(run(backend.analyze, "admin"), "IngressBackendMissing")
    assert f.cause == "PortNotFound"
    assert "to port 8443 of Service \"admin\", which has no such port (it has https:443)" in f.summary
    assert "the Service's port (not its targetPort)" in f.evidence[0]


def test_a_backend_port_by_name_that_exists_is_fine():
    assert run(backend.analyze, "docs") == []


def test_an_ingress_class_that_does_not_exist():
    f = only(run(ingress_class.analyze, "admin"), "IngressClassMissing")
    assert f.severity == "error"
    assert 'names the IngressClass "nginx-internal", which does not exist' in f.summary
    assert "IngressClasses that exist: nginx (k8s.io/ingress-nginx)" in f.evidence
    patch = f.suggestions[0]
    assert patch == ("kubectl patch ingress admin -n shop --type=merge "
                     """-p '{"spec":{"ingressClassName":"nginx"}}'""")


def test_an_existing_class_or_a_served_ingress_is_fine(tmp_path):
    assert run(ingress_class.analyze, "storefront") == []

    def unknown_class_but_served(items):
        ing = next(o for o in items if o["kind"] == "Ingress" and o["metadata"]["name"] == "docs")
        ing["spec"]["ingressClassName"] = "traefik"
    path = edited_fixture(tmp_path, "ingress", "shop-ingresses.json", unknown_class_but_served)
    assert run(ingress_class.analyze, "docs", path) == []  # an address and controller events: served


def test_no_class_and_no_default_is_a_warning(tmp_path):
    def no_default(items):
        for o in items:
            if o["kind"] == "IngressClass":
                o["metadata"].pop("annotations", None)
            if o["kind"] == "Ingress" and o["metadata"]["name"] == "admin":
                del o["spec"]["ingressClassName"]
    path = edited_fixture(tmp_path, "ingress", "shop-ingresses.json", no_default)
    f = only(run(ingress_class.analyze, "admin", path), "IngressClassMissing")
    assert f.severity == "warning" and f.cause == "NoDefaultClass"


def test_the_legacy_annotation_is_not_checked_against_ingressclasses(tmp_path):
    def annotated(items):
        ing = next(o for o in items if o["kind"] == "Ingress" and o["metadata"]["name"] == "admin")
        del ing["spec"]["ingressClassName"]
        ing["metadata"]["annotations"] = {"kubernetes.io/ingress.class": "nginx-internal"}
    path = edited_fixture(tmp_path, "ingress", "shop-ingresses.json", annotated)
    assert run(ingress_class.analyze, "admin", path) == []


def test_a_tls_secret_that_does_not_exist_checked_by_metadata():
    f = only(run(tls.analyze, "storefront"), "IngressTLSSecretMissing")
    assert 'names the TLS Secret "storefront-tls" for shop.example.com, which does not exist' in f.summary
    assert f.suggestions[0] == "kubectl create secret tls storefront-tls -n shop --cert=CERT_FILE --key=KEY_FILE"
    assert run(tls.analyze, "docs") == []


def test_without_secrets_in_the_input_the_secret_is_only_not_in_the_input(tmp_path):
    path = edited_fixture(tmp_path, "ingress", "shop-ingresses.json",
                          lambda items: items.__setitem__(slice(None), [o for o in items if o["kind"] != "Secret"]))
    f = only(run(tls.analyze, "storefront", path), "IngressTLSSecretMissing")
    assert f.severity == "warning" and f.cause == "NotInInput"
    assert "the input holds no Secret in namespace shop" in f.evidence[1]


def test_a_backend_service_in_another_namespace_is_named_with_the_externalname_way_out(tmp_path):
    def move(items):
        for o in items:
            if o["kind"] == "Ingress" and o["metadata"]["name"] == "storefront":
                o["spec"]["rules"][0]["http"]["paths"][1]["backend"]["service"]["name"] = "docs-elsewhere"
        svc = next(o for o in items if o["kind"] == "Service" and o["metadata"]["name"] == "docs")
        import copy
        other = copy.deepcopy(svc)
        other["metadata"].update(name="docs-elsewhere", namespace="kb", uid="4f1c2d3e-5a6b-4c7d-8e9f-0a1b2c3d4e5f")
        items.append(other)
    path = edited_fixture(tmp_path, "ingress", "shop-ingresses.json", move)
    f = only(run(backend.analyze, "storefront", path), "IngressBackendMissing")
    assert f.cause == "ServiceInOtherNamespace"
    assert "which is in namespace kb, not in the Ingress's namespace shop" in f.summary
    assert f.suggestions == ["kubectl create service externalname docs-elsewhere -n shop "
                             "--external-name docs-elsewhere.kb.svc.cluster.local"]
