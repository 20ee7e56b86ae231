"""Volumes that cannot be attached or mounted: claims, Multi-Attach, NFS, hostPath, CSI timeouts."""

import json

import pytest

from kdebug_core.analyzers.pod import volume_mount
from tests.helpers import fixture, only, run_analyzer, view_of


def findings_for(name, pod, path=None):
    return run_analyzer(volume_mount.analyze, path or fixture("volume_mount", name), pod)


def variant(tmp_path, name, edit, module="volume_mount"):
    with open(fixture(module, name)) as fh:
        doc = json.load(fh)
    doc["items"] = edit(doc["items"]) or doc["items"]
    path = tmp_path / name
    path.write_text(json.dumps(doc))
    return str(path)


# ---- claims ----------------------------------------------------------------------------------
def test_a_pending_claim_whose_storageclass_does_not_exist_blocks_the_scheduled_pod():
    f = only(findings_for("pvc-pending-storageclass-not-found.json", "data-loader"), "VolumeMountFailed")
    assert f.cause == "PVCPending"
    assert f.container == "loader"
    assert f.summary == ('pod cannot start: volume "scratch" needs PersistentVolumeClaim "data-loader-scratch", '
                         'which is Pending (no PersistentVolume is bound to it): '
                         'storageclass.storage.k8s.io "fast-ssd" not found')
    assert 'PersistentVolumeClaim "data-loader-scratch" phase Pending, storageClassName fast-ssd, requests 50Gi' \
        in f.evidence
    assert any(e.startswith("claim event ProvisioningFailed (x14") for e in f.evidence)
    assert any("error processing PVC default/data-loader-scratch: PVC is not bound" in e for e in f.evidence)
    assert "kubectl describe pvc data-loader-scratch -n default" in f.suggestions
    assert "kubectl get pvc,pv -n default" in f.suggestions
    assert any(s == "kubectl get storageclass" and '"fast-ssd" is not one of them' in s.why
               for s in f.fixes)
    assert f.details["claim"] == "data-loader-scratch" and f.details["storageClassName"] == "fast-ssd"


def test_a_pending_claim_is_found_from_its_status_after_the_events_expired(tmp_path):
    path = variant(tmp_path, "pvc-pending-storageclass-not-found.json",
                   lambda items: [o for o in items if o["kind"] != "Event"])
    f = only(findings_for(None, "data-loader", path), "VolumeMountFailed")
    assert f.cause == "PVCPending"
    assert not any(e.startswith(("event ", "claim event ")) for e in f.evidence)


def test_a_missing_claim_of_a_scheduled_pod_gets_a_create_hint(tmp_path):
    def claim_deleted(items):
        claim = next(o for o in items if o["kind"] == "PersistentVolumeClaim")
        claim["metadata"]["name"] = "data-loader-cache"   # another claim: the input does list claims
        return [o for o in items if not (o["kind"] == "Event"
                                         and o["involvedObject"]["kind"] == "PersistentVolumeClaim")]
    path = variant(tmp_path, "pvc-pending-storageclass-not-found.json", claim_deleted)
    f = only(findings_for(None, "data-loader", path), "VolumeMountFailed")
    assert f.cause == "PVCNotFound"
    assert 'PersistentVolumeClaim "data-loader-scratch", which does not exist in namespace default' in f.summary
    assert any('"kind":"PersistentVolumeClaim","metadata":{"name":"data-loader-scratch"}' in s
               and s.endswith("| kubectl apply -n default -f -") for s in f.suggestions)


def test_claims_absent_from_the_files_prove_nothing(tmp_path):
    path = variant(tmp_path, "pvc-pending-storageclass-not-found.json", lambda items: [
        o for o in items if o["kind"] != "PersistentVolumeClaim" and not (
            o["kind"] == "Event" and o["involvedObject"]["kind"] == "PersistentVolumeClaim")])
    f = only(findings_for(None, "data-loader", path), "VolumeMountFailed")
    # no claim object to judge: the kubelet's own words still name the unbound claim
    assert f.cause == "ClaimNotUsable"
    assert "PVC is not bound" in f.summary


def test_an_unbound_claim_that_keeps_the_pod_unscheduled_is_left_to_the_scheduler_diagnosis():
    assert findings_for("pvc-unbound-pod-unschedulable.json", "pg-0") == []


# ---- attach ----------------------------------------------------------------------------------
def test_multi_attach_names_the_pod_holding_the_volume_and_the_recreate_fix():
    f = only(findings_for("multi-attach-rwo-rolling-update.json", "grafana-6d5f7c9b8-x7k2p"), "VolumeMountFailed")
    assert f.cause == "MultiAttach"
    assert f.details["usedBy"] == ["grafana-7d9f5c6b8-abcde"]
    assert f.details["persistentVolume"] == "pvc-8e2b1f04-7c1a-4c2e-9a11-6b0d5a3e77ce"
    assert 'volume "storage" cannot be attached' in f.summary and "grafana-7d9f5c6b8-abcde" in f.summary
    assert any(e.startswith("event FailedAttachVolume") and "Multi-Attach error" in e for e in f.evidence)
    assert ("kubectl get pod grafana-7d9f5c6b8-abcde -n monitoring -o wide", "which node holds it") \
        in [(s, s.why) for s in f.fixes]
    assert "kubectl get volumeattachments | grep pvc-8e2b1f04-7c1a-4c2e-9a11-6b0d5a3e77ce" in f.suggestions
    assert any(s.startswith("kubectl patch deployment/grafana -n monitoring --type=merge -p ")
               and '"type":"Recreate"' in s for s in f.suggestions)


def test_the_running_pod_that_holds_the_volume_is_healthy():
    assert findings_for("multi-attach-rwo-rolling-update.json", "grafana-7d9f5c6b8-abcde") == []


# ---- mount -----------------------------------------------------------------------------------
def test_nfs_mount_refused_by_the_server_quotes_the_mount_output():
    f = only(findings_for("nfs-mount-failed-access-denied.json", "media-server-5c7b9d8f6-j4k8l"),
             "VolumeMountFailed")
    assert f.cause == "MountFailed"
    assert f.summary == ('pod cannot start: volume "library" (nfs) cannot be mounted: '
                         'mount failed: exit status 32 '
                         '(mount.nfs: access denied by server while mounting 10.0.0.50:/exports/media)')
    assert all("\n" not in e for e in f.evidence)
    assert any("showmount -e 10.0.0.50" in s and "/exports/media exported to node worker-1" in s.why
               for s in f.fixes)


def test_old_mount_events_on_a_pod_that_runs_now_are_history(tmp_path):
    def running(items):
        pod = next(o for o in items if o["kind"] == "Pod")
        pod["status"]["phase"] = "Running"
        pod["status"]["containerStatuses"][0]["state"] = {"running": {"startedAt": "2024-05-14T10:31:50Z"}}
    path = variant(tmp_path, "nfs-mount-failed-access-denied.json", running)
    assert findings_for(None, "media-server-5c7b9d8f6-j4k8l", path) == []


def test_hostpath_type_check_suggests_looking_on_the_node_and_directory_or_create():
    f = only(findings_for("hostpath-type-check-not-a-directory.json", "log-shipper-x8c2v"), "VolumeMountFailed")
    assert f.cause == "HostPathType"
    assert f.summary == ('pod cannot start: volume "spool" cannot be mounted: hostPath type check failed: '
                         '/mnt/fluent-bit/spool is not a directory')
    assert "kubectl debug node/worker-3 -it --profile=general --image=busybox:1.36 -- ls -ld /host/mnt/fluent-bit/spool" \
        in f.suggestions
    patch = next(s for s in f.suggestions if s.startswith("kubectl patch"))
    assert patch.startswith("kubectl patch daemonset/log-shipper -n logging --type=strategic -p ")
    assert '"hostPath":{"path":"/mnt/fluent-bit/spool","type":"DirectoryOrCreate"}' in patch


def test_a_csi_mount_that_only_times_out_points_at_the_attachment_and_the_node_plugin():
    f = only(findings_for("csi-mount-timeout-context-deadline.json", "object-store-0"), "VolumeMountFailed")
    assert f.cause == "Timeout"
    assert any("context deadline exceeded" in e for e in f.evidence)
    assert "kubectl get volumeattachments | grep pvc-3f8a9c2e-1b4d-4e6f-8a0c-2d4e6f8a0c2e" in f.suggestions
    assert any(s.startswith("kubectl get pods -A -o wide --field-selector spec.nodeName=worker-2") for s in
               f.suggestions)


@pytest.mark.parametrize("message", [
    # before 1.17
    'Unable to mount volumes for pod "object-store-0_storage(4c1f0a52-0c43-5e0c-9a4e-8a4f7e3b2d10)": timeout '
    'expired waiting for volumes to attach or mount for pod "storage"/"object-store-0". list of unmounted '
    'volumes=[data]. list of unattached volumes=[data default-token-5bblj]',
    # 1.17 - 1.25
    "Unable to attach or mount volumes: unmounted volumes=[data], unattached volumes=[kube-api-access-u8i9o "
    "data]: timed out waiting for the condition",
])
def test_older_follow_up_wordings_are_understood(tmp_path, message):
    def older(items):
        for o in items:
            if o["kind"] == "Event" and o["reason"] == "FailedMount":
                o["message"] = message
    path = variant(tmp_path, "csi-mount-timeout-context-deadline.json", older)
    f = only(findings_for(None, "object-store-0", path), "VolumeMountFailed")
    assert f.cause == "Timeout" and f.details["volume"] == "data"


# ---- not ours --------------------------------------------------------------------------------
@pytest.mark.parametrize("name, pod", [
    ("volume-configmap-missing-containercreating.json", "report-worker-84c6d9f7b-n5m2z"),
    ("projected-volume-secret-missing.json", "gateway-6b8d7c5f4-w9x3c"),
    ("configmap-name-typo.json", "redis-deployment-6fd9d5fcb-lqxxd"),
    ("healthy-all-refs-present.json", "orders-api-7c9d8b6f5-m2n4b"),
])
def test_missing_configmaps_and_secrets_behind_volumes_are_left_to_config_refs(name, pod):
    assert run_analyzer(volume_mount.analyze, fixture("config_refs", name), pod) == []


# ---- scheduled on any evidence (issue 9 §2) -------------------------------------------------------

def test_multi_attach_is_read_when_only_the_attach_detach_event_shows_the_pod_was_bound():
    """kubernetes/kubernetes#96142: no nodeName in the paste; the controller's event is the proof."""
    f = only(findings_for("multi-attach-events-only-no-node-name.yaml", "nginx-6b9d6bd7c9-rz8wq"),
             "VolumeMountFailed")
    assert f.cause == "MultiAttach"
    assert f.details["persistentVolume"] == "pvc-7a81d56f-1cf9-11eb-8295-b6961e0a47ed"
    assert any("Multi-Attach error" in e for e in f.evidence)


@pytest.mark.parametrize("evidence", ["nodeName", "hostIP", "PodScheduled", "Scheduled", "containerID"])
def test_each_sign_of_a_node_makes_the_pod_scheduled(tmp_path, evidence):
    import json
    import yaml
    from kdebug_core.analyzers.base import PodContext
    doc = yaml.safe_load(open(fixture("volume_mount", "multi-attach-events-only-no-node-name.yaml")))
    pod = doc["items"][0]
    doc["items"] = [pod]  # no events: only the one sign under test
    if evidence == "nodeName":
        pod["spec"]["nodeName"] = "10.66.4.14"
    elif evidence == "hostIP":
        pod["status"]["hostIP"] = "10.66.4.14"
    elif evidence == "PodScheduled":
        pod["status"]["conditions"] = [{"type": "PodScheduled", "status": "True"}]
    elif evidence == "Scheduled":
        doc["items"].append({"apiVersion": "v1", "kind": "Event", "metadata": {"name": "s", "namespace": "default"},
                             "involvedObject": {"kind": "Pod", "namespace": "default", "name": pod["metadata"]["name"]},
                             "reason": "Scheduled", "type": "Normal", "source": {"component": "default-scheduler"},
                             "message": "Successfully assigned default/nginx-6b9d6bd7c9-rz8wq to 10.66.4.14"})
    else:
        pod["status"]["containerStatuses"][0]["containerID"] = "containerd://ed9a503d4249"
    path = tmp_path / "p.json"
    path.write_text(json.dumps(doc))
    view = view_of(str(path))
    ctx = PodContext(view=view, pod=view.list("Pod", None)[0], plugin="why")
    assert ctx.scheduled() is True
    pod_only = {"metadata": pod["metadata"], "spec": {"containers": pod["spec"]["containers"]},
                "status": {"phase": "Pending", "conditions": [{"type": "PodScheduled", "status": "False",
                                                               "reason": "Unschedulable"}]}}
    assert PodContext(view=view, pod=pod_only, plugin="why").scheduled() is (evidence == "Scheduled")


def test_the_controllers_fixed_prefix_is_matched_whatever_its_case(tmp_path):
    import yaml
    doc = yaml.safe_load(open(fixture("volume_mount", "multi-attach-events-only-no-node-name.yaml")))
    ev = doc["items"][-1]
    ev["message"] = ev["message"].replace("Multi-Attach error", "multi-attach error")
    path = tmp_path / "lower.json"
    path.write_text(json.dumps(doc))
    f = only(findings_for(None, "nginx-6b9d6bd7c9-rz8wq", path=str(path)), "VolumeMountFailed")
    assert f.cause == "MultiAttach"


# ---- subPath: CreateContainerConfigError ---------------------------------------------------------
def _yaml_variant(tmp_path, name, edit):
    import yaml
    with open(fixture("volume_mount", name)) as fh:
        doc = yaml.safe_load(fh)
    edit(doc["items"])
    path = tmp_path / (name + ".json")
    path.write_text(json.dumps(doc))
    return str(path)


def test_a_subpath_whose_volume_directory_is_missing_names_the_directory_and_its_volume():
    """k3d-io/k3d#765 (k3d, containerd): CreateContainerConfigError, 'Error: stat /data/app: no such file or
    directory' — the hostPath PersistentVolume's directory is not on the node (the kubelet stats it to create
    the subPath)."""
    f = only(findings_for("subpath-stat-hostpath-pv-missing-k3d.yaml", "app-0"), "VolumeMountFailed")
    assert f.cause == "SubPathMissing" and f.container == "app"
    assert f.summary == ("pod cannot start: the kubelet cannot prepare the subPath mount of container app: the "
                         "directory /data/app of PersistentVolume app-volume does not exist on the node")
    assert "event Failed: Error: stat /data/app: no such file or directory" in f.evidence
    assert "PersistentVolume app-volume: hostPath /data/app" in f.evidence
    assert f.details["path"] == "/data/app" and f.details["persistentVolume"] == "app-volume"
    assert "kubectl get pod app-0 -n default -o jsonpath='{.spec.nodeName}'" in f.suggestions
    assert "kubectl get pv app-volume -o yaml" in f.suggestions


def test_the_same_error_in_the_waiting_message_on_a_known_node_suggests_creating_the_directory(tmp_path):
    # The kubelet returns the same error as the waiting message of CreateContainerConfigError and as the
    # 'Error: ...' Failed event (kuberuntime_container.go); here only the status carries it.
    def status_only(items):
        pod = items[0]
        pod["spec"]["nodeName"] = "k3d-dev-server-0"
        pod["status"]["containerStatuses"][0]["state"]["waiting"]["message"] = \
            "stat /data/app: no such file or directory"
        items[:] = [o for o in items if o.get("kind") != "Event"]
    path = _yaml_variant(tmp_path, "subpath-stat-hostpath-pv-missing-k3d.yaml", status_only)
    f = only(findings_for(None, "app-0", path), "VolumeMountFailed")
    assert f.cause == "SubPathMissing"
    mkdir = next(s for s in f.suggestions if s.startswith("kubectl debug node/k3d-dev-server-0"))
    assert mkdir.endswith("-- mkdir -p /host/data/app") and "DirectoryOrCreate" in mkdir.why


def test_a_running_container_has_no_subpath_finding_for_an_old_event(tmp_path):
    def running(items):
        items[0]["status"] = {"phase": "Running", "containerStatuses": [
            {"name": "app", "ready": True, "restartCount": 0, "state": {"running": {}}}]}
    path = _yaml_variant(tmp_path, "subpath-stat-hostpath-pv-missing-k3d.yaml", running)
    assert [f for f in findings_for(None, "app-0", path) if f.reason == "VolumeMountFailed"] == []


@pytest.mark.parametrize("message, verb", [
    # pkg/kubelet/kubelet_pods.go (makeMounts): the detail is withheld on purpose
    ('failed to create subPath directory for volumeMount "db-data" of container "postgres"', "create"),
    ('failed to prepare subPath for volumeMount "workdir" of container "app"', "prepare"),
])
def test_the_kubelets_other_subpath_errors_are_subpath_failed(tmp_path, message, verb):
    def other(items):
        pod = items[0]
        pod["status"]["containerStatuses"][0]["state"]["waiting"]["message"] = message
        items[:] = [o for o in items if o.get("kind") != "Event"]
    path = _yaml_variant(tmp_path, "subpath-stat-hostpath-pv-missing-k3d.yaml", other)
    f = only(findings_for(None, "app-0", path), "VolumeMountFailed")
    assert f.cause == "SubPathFailed" and f"cannot {verb} the subPath of volumeMount" in f.summary
