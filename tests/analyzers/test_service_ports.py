"""targetPort against the backend containers' ports: a named port nobody declares is an error; a
number nobody declares is a warning unless the kubelet found it refusing connections."""


from kdebug_core.analyzers.service import service_ports
from tests.helpers import edited_fixture, fixture, only, run_service_analyzer


def service_findings(path, name):
    return run_service_analyzer(service_ports.analyze, path, name)


def edited(tmp_path, name, edit):
    return edited_fixture(tmp_path, "service_ports", name, edit)


def test_a_named_target_port_no_container_declares_is_an_error_with_both_fixes():
    f = only(service_findings(fixture("service_ports", "named-targetport-not-declared.json"), "catalog"),
             "TargetPortMismatch")
    assert f.severity == "error"
    assert 'targetPort "http" of port 80 of service "catalog"' in f.summary
    assert "no port to forward to" in f.summary
    assert 'service port http 80/TCP → targetPort "http"' in f.evidence
    assert any("container catalog declares web=8080/TCP; no TCP port named \"http\"" in e for e in f.evidence)
    # what the EndpointSlice controller really published: the pods, without a port
    assert any("2 endpoints without this port" in e and "<unset>" in e for e in f.evidence)
    assert f.suggestions[0].startswith(
        """kubectl patch service/catalog -n default --type=json -p '[{"op":"replace","path":"/spec/ports/0/targetPort","value":"web"}]'""")
    assert f.suggestions[1].startswith(
        "kubectl patch deployment/catalog -n default --type=strategic -p "
        """'{"spec":{"template":{"spec":{"containers":[{"name":"catalog","ports":[{"containerPort":8080,"name":"http"}]}]}}}}'""")
    assert (f.owner.kind, f.owner.name) == ("Deployment", "catalog")


def test_a_named_target_port_that_resolves_is_fine():
    assert service_findings(fixture("service_ports", "named-targetport-resolves.json"), "catalog") == []


def test_a_named_port_with_another_protocol_does_not_count(tmp_path):
    def udp(items):
        for o in items:
            if o["kind"] == "Pod":
                o["spec"]["containers"][0]["ports"] = [{"containerPort": 8080, "name": "http", "protocol": "UDP"}]
    f = only(service_findings(edited(tmp_path, "named-targetport-resolves.json", udp), "catalog"),
             "TargetPortMismatch")
    assert any('names 8080/UDP "http", but the Service port is TCP' in e for e in f.evidence)


def test_a_named_port_of_a_native_sidecar_counts(tmp_path):
    def sidecar(items):
        for o in items:
            if o["kind"] == "Pod":
                o["spec"]["initContainers"] = [{"name": "proxy", "image": "envoyproxy/envoy:v1.30.1",
                                                "restartPolicy": "Always",
                                                "ports": [{"containerPort": 15001, "name": "http", "protocol": "TCP"}]}]
    assert service_findings(edited(tmp_path, "named-targetport-not-declared.json", sidecar), "catalog") == []


def _not_ready(items):
    for i in items:
        if i["kind"] == "Pod":
            for c in i["status"]["conditions"]:
                if c["type"] in ("Ready", "ContainersReady"):
                    c["status"] = "False"
            for cs in i["status"]["containerStatuses"]:
                cs["ready"] = False


def test_a_number_no_container_declares_with_ready_backends_is_no_finding():
    # containerPort is informational: Ready backends and no refusal on record prove nothing wrong
    # (corpus 097, kubernetes/kubernetes#73049: declared 9999, the app serves 3000).
    found = service_findings(fixture("service_ports", "numeric-targetport-not-declared.json"), "storefront")
    assert [f.reason for f in found] == []


def test_a_number_no_container_declares_is_a_warning_when_the_backends_are_not_ready(tmp_path):
    path = edited_fixture(tmp_path, "service_ports", "numeric-targetport-not-declared.json", _not_ready)
    f = only(service_findings(path, "storefront"), "TargetPortMismatch")
    assert f.severity == "warning"
    assert "targetPort 8080" in f.summary and "containerPort is informational" in f.summary
    assert any("container web declares 80/TCP" in e for e in f.evidence)
    assert f.suggestions[0].startswith(
        """kubectl patch service/storefront -n default --type=json -p '[{"op":"replace","path":"/spec/ports/0/targetPort","value":80}]'""")


def test_a_number_the_kubelet_found_refusing_connections_is_an_error():
    f = only(service_findings(fixture("service_ports", "numeric-targetport-refused.json"), "payments"),
             "TargetPortMismatch")
    assert f.severity == "error"
    assert "refuses connections" in f.summary
    assert any("dial tcp 10.244.1.23:9000: connect: connection refused" in e for e in f.evidence)
    assert '"value":8080' in f.suggestions[0]


def test_a_refusal_on_another_port_is_no_evidence_against_the_target_port(tmp_path):
    def other_port(items):
        for o in items:
            if o["kind"] == "Event":
                o["message"] = o["message"].replace(":9000", ":9001")
    f = only(service_findings(edited(tmp_path, "numeric-targetport-refused.json", other_port), "payments"),
             "TargetPortMismatch")
    assert f.severity == "warning"


def test_containers_that_declare_no_ports_are_not_second_guessed():
    # nginx listens on 80, declares nothing; targetPort 80: containerPort is informational.
    assert service_findings(fixture("service_selector", "healthy-two-ready-endpoints.json"),
                            "backend-service") == []
