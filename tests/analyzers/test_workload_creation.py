"""PodCreationFailed: a controller whose pods the API server refuses, explained from the refusal.

The refusals are worded as the admission plugins word them and as the controllers record them
(`Error creating: ` + the API error, kubernetes/kubernetes pkg/controller/controller_utils.go):
plugin/pkg/admission/resourcequota (exceeded quota: NAME, requested: ..., used: ..., limited: ...),
staging/src/k8s.io/pod-security-admission (violates PodSecurity "restricted:latest": ...),
plugin/pkg/admission/serviceaccount (error looking up service account ns/sa: serviceaccount "sa"
not found), plugin/pkg/admission/limitranger (maximum memory usage per Container is 1Gi, but limit
is 2Gi) and the webhook dispatcher (admission webhook "x" denied the request: ...). Message shapes
were checked against `kubectl describe rs` output people posted (quota with the generateName
prefix `nginx-deployment-4262182780-` in the Deployment docs, with the full name on newer servers).
"""

import json

from kdebug_core.analyzers.workload import creation
from kdebug_core.analyzers.workload.base import WorkloadContext
from kdebug_core.view import meta
from tests.helpers import edited_fixture, fixture, only, view_of


def ctx_of(path, kind, name, targeted=True, view=None):
    view = view or view_of(path)
    obj = next(o for o in view.list(kind, None) if meta(o)["name"] == name)
    return WorkloadContext(view=view, obj=obj, plugin="why", targeted=targeted)


def diagnose(name, kind, obj_name, **kw):
    return creation.analyze(ctx_of(fixture("workload", name), kind, obj_name, **kw))


# ---- the refusal's wording -----------------------------------------------------------------------

def test_quota_message_is_parsed_into_requested_used_and_limited():
    cause, p = creation.classify(
        'Error creating: pods "nginx-deployment-4262182780-" is forbidden: exceeded quota: object-counts, '
        "requested: pods=1, used: pods=3, limited: pods=2")
    assert cause == "QuotaExceeded"
    assert p == {"quota": "object-counts", "requested": {"pods": "1"}, "used": {"pods": "3"},
                 "limited": {"pods": "2"}}
    _, p = creation.classify(
        'pods "test2-dgggb" is forbidden: exceeded quota: tool-tf-test, requested: limits.cpu=500m,'
        "limits.memory=512Mi, used: limits.cpu=1,limits.memory=1Gi, limited: limits.cpu=100m,limits.memory=12")
    assert p["requested"] == {"limits.cpu": "500m", "limits.memory": "512Mi"}
    assert p["limited"]["limits.memory"] == "12"


def test_quota_that_requires_limits_is_a_quota_cause_naming_the_fields():
    cause, p = creation.classify('Error creating: pods "chiya-api-5c7d-" is forbidden: failed quota: compute-quota: '
                                 "must specify limits.cpu for: podinfo; limits.memory for: podinfo")
    assert cause == "QuotaExceeded"
    assert p == {"quota": "compute-quota", "mustSpecify": ["limits.cpu", "limits.memory"]}


def test_every_admission_wording_maps_to_its_cause():
    cases = {
        'pods "x" is forbidden: violates PodSecurity "baseline:latest": hostPath volumes (volumes "data", "var-log")':
            "PodSecurity",
        'admission webhook "vault.hashicorp.com" denied the request: error validating agent configuration: no Vault role found':
            "AdmissionWebhook",
        'Internal error occurred: failed calling webhook "mutate.kyverno.svc-fail": failed to call webhook: '
        'Post "https://kyverno-svc.kyverno.svc:443/mutate?timeout=10s": context deadline exceeded':
            "AdmissionWebhook",
        'pods "aibrix-gateway-plugins-58cdbc746f-" is forbidden: error looking up service account '
        'aibrix-system/aibrix-gateway-plugin: serviceaccount "aibrix-gateway-plugin" not found':
            "ServiceAccountMissing",
        'pods "constraints-mem-demo-2" is forbidden: maximum memory usage per Container is 1Gi, but limit is 1536Mi':
            "LimitRange",
        'pods is forbidden: minimum cpu usage per Container is 50m, but request is 10m': "LimitRange",
        'pods "x-" is forbidden: unable to validate against any security context constraint: []': "Other",
    }
    for message, cause in cases.items():
        assert creation.classify(message)[0] == cause, message


def test_pod_security_violations_split_outside_parentheses():
    _, p = creation.classify(
        'pods "bad" is forbidden: violates PodSecurity "restricted:latest": unrestricted capabilities '
        '(container "bad" must set securityContext.capabilities.drop=["ALL"]), runAsNonRoot != true '
        '(container "bad" must set securityContext.runAsNonRoot=true)')
    assert p["level"] == "restricted" and p["version"] == "latest"
    assert [v.split(" (")[0] for v in p["violations"]] == ["unrestricted capabilities", "runAsNonRoot != true"]
    assert p["containers"] == ["bad"]


# ---- the analyzer on controllers ----------------------------------------------------------------

def test_deployment_whose_replicaset_hits_the_quota_names_quota_numbers_and_both_fixes():
    f = only(diagnose("deploy-quota-exceeded-no-pods.json", "Deployment", "report-api"), "PodCreationFailed")
    assert f.cause == "QuotaExceeded"
    assert f.object.kind == "Deployment" and f.object.name == "report-api"
    assert f.owner.kind == "Deployment" and f.owner.name == "report-api"
    assert 'ResourceQuota "team-quota"' in f.summary
    assert "requests.memory 1792Mi of 2Gi is used and a pod needs 512Mi more" in f.summary
    assert any(e.startswith("event FailedCreate (x17") and "on replicaset/report-api-7c9d8f6b5" in e
               for e in f.evidence)
    assert "replicaset/report-api-7c9d8f6b5: 0 of 2 replicas created, 0 ready" in f.evidence
    assert any("requests.memory 1792Mi/2Gi" in e for e in f.evidence)  # the ResourceQuota's own status
    assert any("at most 256Mi of requests.memory" in e for e in f.evidence)
    patch = next(s for s in f.suggestions if s.startswith("kubectl patch resourcequota"))
    assert patch == ("kubectl patch resourcequota team-quota -n team-a --type=merge "
                     """-p '{"spec":{"hard":{"requests.memory":"2304Mi"}}}'""")
    assert patch.why and "quota" in patch.why
    assert f.details["quota"] == "team-quota" and f.details["creator"] == "replicaset/report-api-7c9d8f6b5"


def test_the_replicaset_itself_as_target_names_the_deployment_as_owner():
    f = only(diagnose("deploy-quota-exceeded-no-pods.json", "ReplicaSet", "report-api-7c9d8f6b5"),
             "PodCreationFailed")
    assert f.object.kind == "ReplicaSet" and f.owner.kind == "Deployment" and f.owner.name == "report-api"


def test_pod_security_names_level_violations_and_patches_the_deployment_template():
    f = only(diagnose("deploy-pod-security-restricted.json", "Deployment", "legacy-web"), "PodCreationFailed")
    assert f.cause == "PodSecurity"
    assert '"restricted"' in f.summary
    for v in ("allowPrivilegeEscalation != false", "unrestricted capabilities", "runAsNonRoot != true",
              "seccompProfile"):
        assert v in f.summary
    assert "namespace payments has label pod-security.kubernetes.io/enforce=restricted" in f.evidence
    patch = f.suggestions[0]
    assert patch.startswith("kubectl patch deployment/legacy-web -n payments --type=strategic -p ")
    body = json.loads(patch.split(" -p ", 1)[1].strip("'"))
    spec = body["spec"]["template"]["spec"]
    assert spec["securityContext"] == {"runAsNonRoot": True, "seccompProfile": {"type": "RuntimeDefault"}}
    assert spec["containers"] == [{"name": "nginx", "securityContext": {
        "allowPrivilegeEscalation": False, "capabilities": {"drop": ["ALL"]}}}]


def test_daemonset_refused_by_a_webhook_names_it_and_its_message():
    f = only(diagnose("daemonset-webhook-denied.json", "DaemonSet", "node-agent"), "PodCreationFailed")
    assert f.cause == "AdmissionWebhook"
    assert 'admission webhook "validation.gatekeeper.sh" refuses them' in f.summary
    assert "Privileged container is not allowed: agent" in f.summary
    assert "daemonset/node-agent: 0 of 3 daemon pods created" in f.evidence
    assert f.details["webhook"] == "validation.gatekeeper.sh"


def test_statefulset_with_a_missing_service_account_suggests_creating_it():
    f = only(diagnose("statefulset-serviceaccount-missing.json", "StatefulSet", "kafka"), "PodCreationFailed")
    assert f.cause == "ServiceAccountMissing"
    assert 'ServiceAccount "kafka", which does not exist in namespace streaming' in f.summary
    assert f.suggestions[0] == "kubectl create serviceaccount kafka -n streaming"


def test_job_over_the_limitrange_names_the_container_and_the_limit_to_set():
    f = only(diagnose("job-limitrange-max-memory.json", "Job", "db-migrate"), "PodCreationFailed")
    assert f.cause == "LimitRange"
    assert "memory limit must be at most 1Gi but is 2Gi" in f.summary
    assert "container migrate sets limit memory=2Gi" in f.evidence
    assert f.suggestions[0] == "kubectl set resources job/db-migrate -n batch -c migrate --limits=memory=1Gi"
    assert "job/db-migrate: 0 active of parallelism 1, 0 succeeded" in f.evidence


def test_an_old_refusal_the_replicaset_got_over_is_history():
    assert diagnose("deploy-failedcreate-resolved.json", "Deployment", "web") == []
    assert diagnose("deploy-failedcreate-resolved.json", "ReplicaSet", "web-6b8c9d7f5") == []


def test_a_held_replicafailure_condition_counts_even_when_the_events_expired(tmp_path):
    path = edited_fixture(tmp_path, "workload", "deploy-quota-exceeded-no-pods.json",
                          lambda items: items.__setitem__(slice(None), [o for o in items if o["kind"] != "Event"]))
    f = only(creation.analyze(ctx_of(path, "Deployment", "report-api")), "PodCreationFailed")
    assert f.cause == "QuotaExceeded"
    assert any(e.startswith("condition ReplicaFailure=True (FailedCreate") for e in f.evidence)


# ---- a Deployment with no pods always gets an answer --------------------------------------------

def test_scaled_to_zero_is_said_as_a_warning_when_asked_about_it():
    f = only(diagnose("deploy-no-pods-scaled-to-zero-and-no-replicaset.json", "Deployment", "idle"),
             "PodCreationFailed")
    assert f.cause == "ScaledToZero" and f.severity == "warning"
    assert "scaled to zero (spec.replicas: 0)" in f.summary
    assert f.suggestions == ["kubectl scale deployment/idle -n default --replicas=1"]


def test_scaled_to_zero_is_not_reported_by_a_scan():
    assert diagnose("deploy-no-pods-scaled-to-zero-and-no-replicaset.json", "Deployment", "idle",
                    targeted=False) == []


def test_no_replicaset_at_all_says_what_was_seen():
    f = only(diagnose("deploy-no-pods-scaled-to-zero-and-no-replicaset.json", "Deployment", "orphan"),
             "PodCreationFailed")
    assert f.cause == "Other" and f.severity == "error"
    assert "wants 2 pods and has none" in f.summary and "no ReplicaSet exists" in f.summary
    assert "deployment/orphan: 2 desired, 0 current, 0 ready, 0 available" in f.evidence


def test_a_statefulset_with_no_pods_and_no_refusal_says_what_its_status_shows(tmp_path):
    path = edited_fixture(tmp_path, "workload", "statefulset-serviceaccount-missing.json",
                          lambda items: items.__setitem__(slice(None), [o for o in items if o["kind"] != "Event"]))
    f = only(creation.analyze(ctx_of(path, "StatefulSet", "kafka")), "PodCreationFailed")
    assert f.cause == "Other" and "wants 3 pods and has none" in f.summary
    assert creation.analyze(ctx_of(path, "StatefulSet", "kafka", targeted=False)) == []


def test_a_daemonset_no_node_qualifies_for(tmp_path):
    def no_nodes(items):
        items[:] = [o for o in items if o["kind"] != "Event"]
        ds = next(o for o in items if o["kind"] == "DaemonSet")
        ds["status"].update(desiredNumberScheduled=0, numberUnavailable=0)
        ds["spec"]["template"]["spec"]["nodeSelector"] = {"node-role.kubernetes.io/gpu": "true"}
    path = edited_fixture(tmp_path, "workload", "daemonset-webhook-denied.json", no_nodes)
    f = only(creation.analyze(ctx_of(path, "DaemonSet", "node-agent")), "PodCreationFailed")
    assert f.cause == "NoEligibleNode" and f.severity == "warning"
    assert "nodeSelector node-role.kubernetes.io/gpu=true" in f.evidence
