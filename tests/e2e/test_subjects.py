"""Workloads, claims, nodes and Ingresses end to end: the real kubectl dispatches `kubectl why
deploy/NAME` (and `kubectl endpoints-check ingress/NAME`) to the installed plugins, which read the
stand-in API server. The scenarios (40-44) and fixtures hold the controllers' own wording."""

import json
import os

from tests.e2e.conftest import scenario
from tests.helpers import fixture


def test_a_deployment_with_no_pods_says_why_quota_and_exit_1(cluster, kubectl):
    api = cluster(scenario("40-quota-exhausted-no-pods"), namespace="team-a")
    result = kubectl(api, "why", "deploy/report-api", "-o", "json")
    assert result.returncode == 1, result.stderr
    [f] = result.json()["findings"]
    assert (f["reason"], f["cause"], f["object"]["kind"]) == ("PodCreationFailed", "QuotaExceeded", "Deployment")
    assert "768Mi of 1Gi is used" in f["summary"]
    assert f["group"] == "team-a/deployment/report-api:PodCreationFailed::QuotaExceeded"
    paths = [r.path for r in api.api_requests()]
    assert "/api/v1/namespaces/team-a/resourcequotas/team-quota" in paths or "/api/v1/namespaces/team-a/resourcequotas" in paths
    assert api.gets_only()
    text = kubectl(api, "why", "deploy/report-api")
    assert text.returncode == 1
    assert text.stdout.startswith("deployment/report-api -n team-a\n  ✗ PodCreationFailed [QuotaExceeded]")
    assert "nothing to examine" not in text.stdout


def test_a_deployment_with_no_pods_and_nothing_on_record_still_gets_an_answer(cluster, kubectl):
    api = cluster(fixture("workload", "deploy-no-pods-scaled-to-zero-and-no-replicaset.json"))
    result = kubectl(api, "why", "deploy/orphan", "-o", "json")
    assert result.returncode == 1
    [f] = result.json()["findings"]
    assert f["cause"] == "Other" and "wants 2 pods and has none" in f["summary"]
    scaled = kubectl(api, "why", "deploy/idle")
    assert scaled.returncode == 1 and "scaled to zero (spec.replicas: 0)" in scaled.stdout


def test_a_stuck_rollout_comes_first_with_its_new_pods_cause_under_it(cluster, kubectl):
    api = cluster(scenario("41-rollout-stuck-bad-image-tag"), namespace="catalog")
    result = kubectl(api, "why", "deploy/catalog-api", "-o", "json")
    assert result.returncode == 1
    findings = result.json()["findings"]
    assert [f["reason"] for f in findings] == ["RolloutStuck", "ImagePullBackOff"]
    assert [r["reason"] for r in findings[0]["related"]] == ["ImagePullBackOff"]
    assert findings[0]["suggestions"][0] == "kubectl rollout undo deployment/catalog-api -n catalog"
    text = kubectl(api, "why", "deploy/catalog-api").stdout
    assert "ImagePullBackOff [NotFound]  container api  on pod/catalog-api-7f4cf68bf8-2nlrg (in full below)" in text
    assert text.count("kubectl set image deployment/catalog-api") == 1  # the pod's fixes, once


def test_a_failed_job_reads_its_failed_pods_log(cluster, kubectl):
    api = cluster(scenario("42-job-backoff-limit"), namespace="batch")
    result = kubectl(api, "why", "job/schema-migrate", "-o", "json")
    assert result.returncode == 1
    job = next(f for f in result.json()["findings"] if f["reason"] == "JobFailed")
    assert job["cause"] == "BackoffLimitExceeded"
    assert any('could not translate host name "postgres"' in e for e in job["evidence"])
    assert any(r.path.endswith("/log") and r.query.get("previous") is None for r in api.api_requests())


def test_a_cronjob_target_brings_its_failed_job(cluster, kubectl):
    path = fixture("workload", "cronjob-latest-job-backoff-limit-exceeded.json")
    api = cluster(path, path.replace(".json", ".logs.txt"), namespace="reports")
    result = kubectl(api, "why", "cronjob/nightly-report", "-o", "json")
    assert result.returncode == 1
    job = next(f for f in result.json()["findings"] if f["reason"] == "JobFailed")
    assert job["object"]["name"] == "nightly-report-29919480"
    assert job["owner"] == {"kind": "CronJob", "namespace": "reports", "name": "nightly-report"}


def test_a_pending_claim_replaces_the_schedulers_words(cluster, kubectl):
    api = cluster(scenario("43-pvc-storageclass-not-found"), namespace="data")
    result = kubectl(api, "why", "postgres-0", "-o", "json")
    assert result.returncode == 1
    assert [(f["reason"], f["cause"]) for f in result.json()["findings"]] == \
        [("PersistentVolumeClaimPending", "StorageClassNotFound")]
    paths = [r.path for r in api.api_requests()]
    assert any(p.startswith("/apis/storage.k8s.io/v1/storageclasses") for p in paths)


def test_a_node_that_stopped_reporting_in_a_scan(cluster, kubectl):
    api = cluster(fixture("node", "node-unreachable-pod-stuck-terminating.json"))
    result = kubectl(api, "why", "-A", "-o", "json")
    assert result.returncode == 1
    got = [(f["reason"], f["object"]["kind"], f["object"]["name"]) for f in result.json()["findings"]]
    assert ("NodeNotReady", "Node", "kind-worker2") in got
    assert ("NodeNotReady", "Pod", "api-7f8d9c6b54-kq7vx") in got
    assert not [g for g in got if g[2] == "api-7f8d9c6b54-d2m8r"]  # its replacement runs fine


def test_ingress_target_judges_the_ingress_then_its_services(cluster, kubectl):
    api = cluster(scenario("44-ingress-backend-missing"), namespace="web")
    result = kubectl(api, "endpoints-check", "ingress/storefront")
    assert result.returncode == 1, result.stderr
    assert result.stdout.startswith("ingress/storefront -n web\n  ✗ IngressBackendMissing [ServiceNotFound]")
    assert "✓ svc/storefront -n web: 2/2 endpoints ready on port 80 → http (80)" in result.stdout
    doc = kubectl(api, "endpoints-check", "ingress/storefront", "-o", "json").json()
    assert [(f["reason"], f["object"]["name"]) for f in doc["findings"]] == [("IngressBackendMissing", "storefront")]
    assert api.gets_only()


def test_unknown_ingress_is_exit_2_with_one_line(cluster, kubectl):
    api = cluster(scenario("44-ingress-backend-missing"), namespace="web")
    result = kubectl(api, "endpoints-check", "ingress/storefrnt")
    assert result.returncode == 2
    assert 'ingress "storefrnt" not found' in result.stderr and "storefront" in result.stderr
    assert result.stderr.count("\n") == 1


def test_a_tls_secret_is_checked_by_metadata_only(cluster, kubectl):
    api = cluster(fixture("ingress", "shop-ingresses.json"), namespace="shop")
    result = kubectl(api, "endpoints-check", "ingress/storefront", "-o", "json")
    reasons = [f["reason"] for f in result.json()["findings"]]
    assert "IngressTLSSecretMissing" in reasons and "IngressBackendMissing" in reasons
    secret_reads = [r for r in api.requests if "/secrets" in r.path]
    assert secret_reads
    for r in secret_reads:
        assert "as=PartialObjectMetadata" in (r.header("Accept") or ""), r


def test_one_root_cause_on_many_pods_is_shown_once(cluster, kubectl, tmp_path):
    with open(os.path.join(scenario("02-crashloop-backoff"), "cluster-state.json")) as fh:
        state = json.load(fh)
    pod = next(o for o in state["items"] if o["kind"] == "Pod")
    items = [o for o in state["items"] if o["kind"] != "Pod"]
    for i in range(10):
        p = json.loads(json.dumps(pod))
        p["metadata"]["name"] = f"crasher-859cdd79dd-z{i:04d}"
        p["metadata"]["uid"] = f"00000000-0000-4000-8000-{i:012d}"
        items.append(p)
    path = tmp_path / "ten.json"
    path.write_text(json.dumps({"apiVersion": "v1", "kind": "List", "items": items}))
    api = cluster(str(path))
    text = kubectl(api, "why", "deploy/crasher").stdout
    assert text.count("✗ CrashLoopBackOff") == 1
    assert "on 10 of 10 pods of deployment/crasher: crasher-859cdd79dd-z0000, crasher-859cdd79dd-z0001 and 8 more" in text
    assert "\n10 pods examined: 1 problem on 10 pods (1 error, 0 warnings), 0 healthy\n" in text
    wide = kubectl(api, "why", "deploy/crasher", "-o", "wide").stdout
    assert "crasher-859cdd79dd-z0009" in wide.split("timeline:")[0]
    doc = kubectl(api, "why", "deploy/crasher", "-o", "json").json()
    assert len(doc["findings"]) == 10  # JSON keeps one finding per object
    assert {f["group"] for f in doc["findings"]} == {"default/deployment/crasher:CrashLoopBackOff:app:"}
