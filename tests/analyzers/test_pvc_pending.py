"""PersistentVolumeClaimPending: a Pending pod whose claim is not bound, explained from the claim.

Wording from the persistentvolume controller (pkg/controller/volume/persistentvolume/pv_controller.go):
ProvisioningFailed `storageclass.storage.k8s.io "fast-ssd" not found`, FailedBinding (Normal) "no
persistent volumes available for this claim and no storage class is set", WaitForFirstConsumer
"waiting for first consumer to be created before binding", ExternalProvisioning "Waiting for a volume
to be created either by the external provisioner '...' or manually by the system administrator...";
the local-path provisioner's refusal of ReadWriteMany ("NodePath only supports ReadWriteOnce and
ReadWriteOncePod (1.22+) access modes", as `kubectl describe pvc` shows it on kind); the scheduler's
`pod has unbound immediate PersistentVolumeClaims` and `running PreBind plugin "VolumeBinding":
binding volumes: provisioning failed for PVC "x"`.
"""

from kdebug_core.analyzers.pod import pvc_pending
from kdebug_core.engine import analyze_pod
from tests.helpers import edited_fixture, fixture, only, pod_context, view_of


def diagnose(name, pod, path=None):
    view = view_of(path or fixture("pvc", name))
    return pvc_pending.analyze(pod_context(view, pod)), view


def test_storageclass_not_found_names_the_class_the_ones_that_exist_and_the_statefulset_fix():
    found, _ = diagnose("pending-storageclass-not-found-statefulset.json", "postgres-0")
    f = only(found, "PersistentVolumeClaimPending")
    assert f.cause == "StorageClassNotFound"
    assert 'PersistentVolumeClaim "data-postgres-0"' in f.summary and 'StorageClass "fast-ssd"' in f.summary
    assert "event ProvisioningFailed (x22, 0s ago): storageclass.storage.k8s.io \"fast-ssd\" not found" in f.evidence
    assert "StorageClasses that exist: standard (default)" in f.evidence
    assert f.suggestions == ["kubectl get storageclass", "kubectl delete pvc data-postgres-0 -n db"]
    assert "volumeClaimTemplates" in f.fixes[1].why
    assert f.details == {"claim": "data-postgres-0", "storageClassName": "fast-ssd"}


def test_without_events_the_missing_class_is_found_from_the_objects(tmp_path):
    path = edited_fixture(tmp_path, "pvc", "pending-storageclass-not-found-statefulset.json",
                          lambda items: items.__setitem__(slice(None), [o for o in items if o["kind"] != "Event"]))
    found, _ = diagnose(None, "postgres-0", path)
    assert only(found, "PersistentVolumeClaimPending").cause == "StorageClassNotFound"


def test_no_storage_class_and_no_default():
    found, _ = diagnose("pending-no-default-storageclass.json", "registry-6d9f7c8b5-pw4kt")
    f = only(found, "PersistentVolumeClaimPending")
    assert f.cause == "NoDefaultStorageClass"
    assert "names no StorageClass and the cluster has no default one" in f.summary
    assert any("FailedBinding (x21" in e for e in f.evidence)


def test_explicitly_empty_class_is_static_binding_with_no_matching_volume(tmp_path):
    def empty(items):
        pvc = next(o for o in items if o["kind"] == "PersistentVolumeClaim")
        pvc["spec"]["storageClassName"] = ""
    path = edited_fixture(tmp_path, "pvc", "pending-no-default-storageclass.json", empty)
    found, _ = diagnose(None, "registry-6d9f7c8b5-pw4kt", path)
    f = only(found, "PersistentVolumeClaimPending")
    assert f.cause == "NoMatchingVolume" and 'storageClassName: ""' in f.summary


def test_provisioner_refusal_quotes_the_provisioner():
    found, _ = diagnose("pending-provisioning-failed-rwx-local-path.json", "uploader-58b7c9d6f4-9xq2w")
    f = only(found, "PersistentVolumeClaimPending")
    assert f.cause == "ProvisioningFailed"
    assert f.summary.endswith("fails: NodePath only supports ReadWriteOnce and ReadWriteOncePod (1.22+) access modes")
    assert any("ReadWriteMany" in e for e in f.evidence)


def test_wait_for_first_consumer_alone_is_not_a_failure():
    found, _ = diagnose("pending-wait-for-first-consumer-is-not-the-cause.json", "warehouse-0")
    assert found == []


def test_a_missing_claim_the_scheduler_names(tmp_path):
    def drop_claim(items):
        items[:] = [o for o in items if o["kind"] != "PersistentVolumeClaim" and o["kind"] != "Event"]
        pod = next(o for o in items if o["kind"] == "Pod")
        pod["status"]["conditions"][0]["message"] = ('0/3 nodes are available: persistentvolumeclaim '
                                                     '"data-postgres-0" not found. preemption: 0/3 nodes are '
                                                     'available: 3 Preemption is not helpful for scheduling.')
    path = edited_fixture(tmp_path, "pvc", "pending-storageclass-not-found-statefulset.json", drop_claim)
    found, _ = diagnose(None, "postgres-0", path)
    f = only(found, "PersistentVolumeClaimPending")
    assert f.cause == "ClaimNotFound" and "does not exist in namespace db" in f.summary


def test_a_bound_claim_says_nothing(tmp_path):
    def bound(items):
        next(o for o in items if o["kind"] == "PersistentVolumeClaim")["status"]["phase"] = "Bound"
    path = edited_fixture(tmp_path, "pvc", "pending-storageclass-not-found-statefulset.json", bound)
    assert diagnose(None, "postgres-0", path)[0] == []


def test_the_claim_finding_replaces_the_schedulers_pvc_cause_in_the_pods_diagnosis():
    for name, pod in (("pending-storageclass-not-found-statefulset.json", "postgres-0"),
                      ("pending-provisioning-failed-rwx-local-path.json", "uploader-58b7c9d6f4-9xq2w")):
        view = view_of(fixture("pvc", name))
        reasons = [f.reason for f in analyze_pod(view, pod_context(view, pod).pod, "why")]
        assert reasons == ["PersistentVolumeClaimPending"], (name, reasons)
    view = view_of(fixture("pvc", "pending-wait-for-first-consumer-is-not-the-cause.json"))
    [f] = analyze_pod(view, pod_context(view, "warehouse-0").pod, "why")
    assert (f.reason, f.cause) == ("Unschedulable", "InsufficientMemory")
