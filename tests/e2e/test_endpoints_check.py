"""`kubectl endpoints-check` end to end: through kubectl plugin dispatch against the stand-in API
server, and with -f on files. Each scenario's expected.yaml holds the diagnosis a tool must give."""

import copy
import json
import os
import uuid
from collections import Counter

import pytest

from tests.e2e.conftest import SCENARIOS, scenario
from tests.e2e.oracle import check_run, scenario_dirs

SCENARIOS_WITH_SERVICES = scenario_dirs(SCENARIOS, "endpoints-check") if os.path.isdir(SCENARIOS) else []


def state(name):
    return os.path.join(scenario(name), "cluster-state.json")


def test_there_are_service_scenarios_to_check():
    # the runbook's 04, the Service in 06, and 12-15 (name mismatch, readiness, policy, healthy)
    assert len(SCENARIOS_WITH_SERVICES) >= 6, SCENARIOS_WITH_SERVICES


@pytest.mark.parametrize("name", SCENARIOS_WITH_SERVICES)
def test_scenario_offline_with_f(plugin, name):
    result = plugin("kubectl-endpoints_check", "-f", scenario(name), "-A", "-o", "json")
    check_run(result, scenario(name), "endpoints-check")


@pytest.mark.parametrize("name", SCENARIOS_WITH_SERVICES)
def test_scenario_live_through_kubectl_plugin_dispatch(cluster, kubectl, name):
    api = cluster(scenario(name))
    result = kubectl(api, "endpoints-check", "-A", "-o", "json")
    check_run(result, scenario(name), "endpoints-check")
    assert api.gets_only()
    # every kind once, cluster-wide: no request names a namespace or an object
    paths = [r.path for r in api.api_requests()
             if not r.path.endswith("/log") and "continue" not in r.query]
    assert len(paths) == len(set(paths)), paths
    assert not any("/namespaces/" in p for p in paths), paths


def test_runbook_04_selector_mismatch_in_text_with_both_fixes(cluster, kubectl):
    api = cluster(scenario("04-service-connectivity"))
    result = kubectl(api, "endpoints-check", "svc/backend-service")
    assert result.returncode == 1, result.stderr
    out = result.stdout
    assert "SelectorMismatch" in out
    assert "lack tier=api" in out
    assert "app=backend ✓, tier missing (service wants api)" in out
    assert ("kubectl patch deployment/backend -n default --type=strategic "
            """-p '{"spec":{"template":{"metadata":{"labels":{"tier":"api"}}}}}'""") in out
    assert ("kubectl patch service/backend-service -n default --type=merge "
            """-p '{"spec":{"selector":{"tier":null}}}'""") in out
    assert api.gets_only()


def test_a_single_service_is_read_with_a_handful_of_requests(cluster, kubectl):
    api = cluster(scenario("13-service-readiness-probe-failing"))
    result = kubectl(api, "endpoints-check", "svc/orders", "-o", "json")
    assert result.returncode == 1
    f = result.json()["findings"][0]
    assert f["reason"] == "EndpointsNotReady"
    assert {r["reason"] for r in f["related"]} == {"ReadinessProbeFailed", "ProbePortMismatch"}
    paths = [r.path for r in api.api_requests()]
    assert paths[0] == "/api/v1/namespaces/default/services/orders"
    assert "/api/v1/namespaces/default/pods" in paths
    assert "/apis/discovery.k8s.io/v1/namespaces/default/endpointslices" in paths
    assert "/apis/networking.k8s.io/v1/namespaces/default/networkpolicies" in paths
    # the two pods' events come from one namespace list, not one field-selected list per pod
    assert paths.count("/api/v1/namespaces/default/events") == 1
    assert len(paths) <= 10, paths


def test_a_healthy_service_prints_one_line_and_exits_0(cluster, kubectl):
    api = cluster(scenario("15-service-healthy"))
    result = kubectl(api, "endpoints-check", "svc/storefront")
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.count("\n") == 1, result.stdout
    assert result.stdout == "✓ svc/storefront -n default: 2/2 endpoints ready on port 80 → 80\n"


def test_a_named_target_port_is_shown_resolved_when_healthy(plugin, tmp_path):
    with open(state("12-service-targetport-name-mismatch")) as fh:
        doc = json.load(fh)
    for o in doc["items"]:
        if o["kind"] == "Service" and o["metadata"]["name"] == "catalog":
            o["spec"]["ports"][0]["targetPort"] = "web"
        if o["kind"] == "EndpointSlice" and o["metadata"]["name"].startswith("catalog-"):
            o["ports"] = [{"name": "http", "port": 80, "protocol": "TCP"}]
    path = tmp_path / "fixed.json"
    path.write_text(json.dumps(doc))
    result = plugin("kubectl-endpoints_check", "-f", str(path), "svc/catalog")
    assert result.returncode == 0, result.stdout
    assert "2/2 endpoints ready on port 80 → web (80)" in result.stdout


def test_unknown_service_exit_2_with_close_names(cluster, kubectl):
    api = cluster(scenario("13-service-readiness-probe-failing"))
    result = kubectl(api, "endpoints-check", "svc/order")
    assert result.returncode == 2
    assert 'service "order" not found in namespace default' in result.stderr
    assert "orders" in result.stderr
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr


def test_bad_input_is_a_usage_error(plugin, tmp_path):
    r = plugin("kubectl-endpoints_check", "-f", scenario("15-service-healthy"), "-A", "svc/storefront")
    assert r.returncode == 2 and "across all namespaces" in r.stderr
    r = plugin("kubectl-endpoints_check", "-f", scenario("15-service-healthy"), "deploy/storefront")
    assert r.returncode == 2 and "svc/NAME" in r.stderr
    bad = tmp_path / "svc.json"
    bad.write_text('{"kind": "List", "items": [\n {"kind": "Service",\n "metadata": {"name": "x"},, }]}')
    r = plugin("kubectl-endpoints_check", "-f", str(bad), "-A")
    assert r.returncode == 2 and "svc.json" in r.stderr and "line 3" in r.stderr


def test_no_api_request_with_f(cluster, plugin):
    api = cluster(scenario("13-service-readiness-probe-failing"))
    result = plugin("kubectl-endpoints_check", "-f", scenario("13-service-readiness-probe-failing"), "-A",
                    kubeconfig=api.kubeconfig)
    assert result.returncode == 1
    assert api.requests == []


def test_label_selector_picks_services_by_their_labels(plugin, tmp_path):
    with open(state("13-service-readiness-probe-failing")) as fh:
        doc = json.load(fh)
    for o in doc["items"]:
        if o["kind"] == "Service" and o["metadata"]["name"] == "orders":
            o["metadata"]["labels"] = {"team": "checkout"}
    path = tmp_path / "labelled.json"
    path.write_text(json.dumps(doc))
    result = plugin("kubectl-endpoints_check", "-f", str(path), "-l", "team=checkout", "-o", "json")
    assert [f["object"]["name"] for f in result.json()["findings"]] == ["orders"]
    result = plugin("kubectl-endpoints_check", "-f", str(path), "-l", "team=billing")
    assert result.returncode == 0 and "no services in namespace default match -l team=billing" in result.stdout


def test_name_output_pipes_into_why(cluster, kubectl):
    api = cluster(scenario("13-service-readiness-probe-failing"))
    names = kubectl(api, "endpoints-check", "-o", "name")
    assert names.stdout.splitlines() == ["default/service/orders"]
    piped = kubectl(api, "why", "-", "-o", "json", stdin=names.stdout)
    assert {"ReadinessProbeFailed", "ProbePortMismatch"} <= set(piped.reasons())


def test_forbidden_network_policies_degrade_and_say_so(cluster, kubectl):
    api = cluster(scenario("14-service-networkpolicy-deny-all"), forbidden=["networkpolicies"])
    result = kubectl(api, "endpoints-check", "svc/web", "-n", "shop")
    # The deny-all policy could isolate the pods: unread, the Service is not called healthy (exit 3).
    assert result.returncode == 3, result.stdout + result.stderr
    assert "could not read networkpolicies" in result.stdout
    assert ("? service/web -n shop: 2/2 endpoints ready on port 80 → http (80); could not verify: "
            "networkpolicies.networking.k8s.io in namespace shop could not be read (HTTP 403)") in result.stdout
    assert "✓" not in result.stdout


def _copy_into(objects, namespace):
    """The scenario's objects as if applied again in another namespace (new uids)."""
    uids = {}

    def new_uid(old):
        if old not in uids:
            uids[old] = str(uuid.uuid5(uuid.NAMESPACE_URL, f"{namespace}/{old}"))
        return uids[old]

    out = []
    for o in objects:
        if o["metadata"]["name"] in ("kubernetes", "kube-root-ca.crt") or o["kind"] == "Node":
            continue   # the cluster's own objects, and the node every scenario shows
        o = copy.deepcopy(o)
        o["metadata"]["namespace"] = namespace
        o["metadata"]["uid"] = new_uid(o["metadata"]["uid"])
        for ref in o["metadata"].get("ownerReferences") or []:
            ref["uid"] = new_uid(ref["uid"])
        for key in ("involvedObject",):
            if key in o:
                o[key]["namespace"] = namespace
                o[key]["uid"] = new_uid(o[key]["uid"])
        for ep in o.get("endpoints") or []:
            if ep.get("targetRef"):
                ep["targetRef"]["namespace"] = namespace
                ep["targetRef"]["uid"] = new_uid(ep["targetRef"]["uid"])
        out.append(o)
    return out


def _synthetic_cluster(n_namespaces):
    """Every service scenario (selector mismatch, readiness, ports, policy, healthy) in n namespaces."""
    items = []
    for name in ("04-service-connectivity", "12-service-targetport-name-mismatch",
                 "13-service-readiness-probe-failing", "15-service-healthy"):
        with open(state(name)) as fh:
            objects = json.load(fh)["items"]
        for i in range(n_namespaces):
            items += _copy_into(objects, f"team-{i:02d}")
    with open(state("14-service-networkpolicy-deny-all")) as fh:
        objects = json.load(fh)["items"]
    for i in range(n_namespaces):
        items += _copy_into(objects, f"team-{i:02d}")
    return items


@pytest.mark.parametrize("n_namespaces", [2, 15])
def test_all_namespaces_lists_each_kind_once_whatever_the_number_of_services(cluster, kubectl, tmp_path,
                                                                                n_namespaces):
    path = tmp_path / "many.json"
    path.write_text(json.dumps({"apiVersion": "v1", "kind": "List", "items": _synthetic_cluster(n_namespaces)}))
    api = cluster(str(path))
    result = kubectl(api, "endpoints-check", "-A", "-o", "json")
    assert result.returncode == 1, result.stderr
    findings = result.json()["findings"]
    per_reason = Counter(f["reason"] for f in findings)
    assert per_reason["SelectorMismatch"] == n_namespaces
    assert per_reason["EndpointsNotReady"] == n_namespaces
    assert per_reason["TargetPortMismatch"] == n_namespaces
    # the deny-all of 14 now sits in each team namespace and isolates every Service with pods there
    assert per_reason["NetworkPolicyIsolated"] == 4 * n_namespaces
    requests = api.api_requests()
    assert api.gets_only()
    # one list per kind (the first page; big lists come in pages of 500 with `continue`)
    lists = [r.path for r in requests if "continue" not in r.query]
    assert len(lists) == len(set(lists)), sorted(lists)
    assert not any("/namespaces/" in r.path for r in requests)  # never per namespace or per Service
    assert len(lists) <= 10, lists
    assert len(requests) <= 16, [(r.path, r.query.get("continue", "")[:8]) for r in requests]
