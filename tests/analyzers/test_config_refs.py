"""Missing ConfigMaps, Secrets and keys: from the kubelet's words and from the pod's references."""

import json

from kdebug_core.analyzers.pod import config_refs
from kdebug_core.errors import Forbidden
from kdebug_core.sources.files import FileBackend
from kdebug_core.view import ClusterView, ViewOptions
from tests.helpers import fixture, only, pod_context, run_analyzer, view_of


def findings_for(name, pod, path=None):
    return run_analyzer(config_refs.analyze, path or fixture("config_refs", name), pod)


def variant(tmp_path, name, edit):
    """A copy of a fixture changed the way the cluster could have changed it."""
    with open(fixture("config_refs", name)) as fh:
        doc = json.load(fh)
    doc["items"] = edit(doc["items"]) or doc["items"]
    path = tmp_path / name
    path.write_text(json.dumps(doc))
    return str(path)


def kind_of(items, kind):
    return [o for o in items if o["kind"] == kind]


class SecretsForbidden(FileBackend):
    """The same files, read by someone whose Role does not allow listing Secrets."""

    def list(self, kind, namespace, label_selector=None, field_selector=None, metadata_only=False):
        if kind == "Secret":
            raise Forbidden("secrets", namespace, 'secrets is forbidden: User "dev" cannot list resource '
                                                  '"secrets" in API group "" in the namespace "default"')
        return super().list(kind, namespace, label_selector, field_selector, metadata_only)


def forbidden_view(path):
    return ClusterView(SecretsForbidden.from_paths([path]), ViewOptions(namespace=None, scan=True))


# ---- runbook Phase 5 -------------------------------------------------------------------------
def test_runbook_05_envfrom_configmap_missing_is_diagnosed_with_the_create_command():
    f = only(findings_for("missing-configmap-envfrom-runbook-05.json", "config-app-7c8d4f9b-k2m3n"),
             "ConfigMapNotFound")
    assert f.severity == "error"
    assert f.container == "app"
    assert f.summary == 'container app cannot start: ConfigMap "app-config" does not exist in namespace default'
    assert 'container app waiting: CreateContainerConfigError — configmap "app-config" not found' in f.evidence
    assert any(e.startswith("event Failed (x21") and 'Error: configmap "app-config" not found' in e
               for e in f.evidence)
    assert "referenced by container app: envFrom configMapRef app-config" in f.evidence
    assert "kubectl create configmap app-config -n default --from-literal=KEY=VALUE" in f.suggestions
    assert "kubectl get configmaps -n default" in f.suggestions
    assert f.details == {"kind": "ConfigMap", "name": "app-config", "key": None, "source": "kubelet",
                         "referencedBy": [{"via": "envFrom", "container": "app"}]}
    assert f.owner.kind == "Deployment" and f.owner.name == "config-app"


def test_runbook_05_still_diagnosed_from_status_alone_once_events_have_expired(tmp_path):
    path = variant(tmp_path, "missing-configmap-envfrom-runbook-05.json",
                   lambda items: [o for o in items if o["kind"] != "Event"])
    f = only(findings_for(None, "config-app-7c8d4f9b-k2m3n", path), "ConfigMapNotFound")
    assert f.severity == "error"
    assert not any(e.startswith("event ") for e in f.evidence)
    assert 'container app waiting: CreateContainerConfigError — configmap "app-config" not found' in f.evidence


def test_runbook_05_is_found_from_the_spec_when_the_kubelet_has_said_nothing_yet(tmp_path):
    def just_created(items):
        pod = items[0]
        pod["status"]["containerStatuses"][0]["state"] = {"waiting": {"reason": "ContainerCreating"}}
        return [o for o in items if o["kind"] != "Event"]
    f = only(findings_for(None, "config-app-7c8d4f9b-k2m3n", variant(
        tmp_path, "missing-configmap-envfrom-runbook-05.json", just_created)), "ConfigMapNotFound")
    assert f.severity == "error"
    assert f.details["source"] == "spec"
    assert 'no ConfigMap named "app-config" in namespace default' in f.evidence


def test_a_configmap_created_since_the_old_event_gives_no_finding_once_the_container_runs(tmp_path):
    def fixed(items):
        pod = items[0]
        pod["status"]["phase"] = "Running"
        pod["status"]["containerStatuses"][0]["state"] = {"running": {"startedAt": "2024-05-14T10:32:40Z"}}
        cm = dict(kind_of(items, "ConfigMap")[0])
        cm["metadata"] = dict(cm["metadata"], name="app-config", uid="6f1d2c3b-0a9e-4d8c-b7a6-5f4e3d2c1b0a")
        cm["data"] = {"ENV": "production", "LOG_LEVEL": "INFO"}
        return items + [cm]
    path = variant(tmp_path, "missing-configmap-envfrom-runbook-05.json", fixed)
    assert findings_for(None, "config-app-7c8d4f9b-k2m3n", path) == []


# ---- missing Secret, missing keys -----------------------------------------------------------
def test_secretkeyref_to_a_missing_secret_suggests_creating_it_with_the_referenced_key():
    f = only(findings_for("missing-secret-secretkeyref.json", "orders-api-5b7d9c6f4-q7w2e"), "SecretNotFound")
    assert f.container == "api"
    assert f.summary == 'container api cannot start: Secret "db-pass" does not exist in namespace default'
    assert "referenced by container api: env DB_PASSWORD from secretKeyRef db-pass key password" in f.evidence
    # Secret values never on the command line (shell history): one file per key.
    assert f.suggestions[0] == "kubectl create secret generic db-pass -n default --from-file=password=./password.txt"
    assert "shell history" in f.fixes[0].why
    assert "kubectl get secrets -n default" in f.suggestions


def test_a_key_missing_from_an_existing_configmap_names_the_keys_it_has_and_the_close_one():
    findings = findings_for("missing-key-in-existing-configmap.json", "checkout-6c9f8d7b5-x2v8p")
    f = only(findings, "ConfigMapKeyNotFound")
    assert len(findings) == 1  # LOG_LEVEL is there: one finding, for DB_HOST only
    assert f.summary == 'container checkout cannot start: ConfigMap "checkout-settings" has no key "DB_HOST"'
    assert 'ConfigMap "checkout-settings" has keys: DB_HOSTNAME, DB_PORT, LOG_LEVEL' in f.evidence
    assert f.details["key"] == "DB_HOST" and f.details["didYouMean"] == "DB_HOSTNAME"
    assert ("kubectl patch configmap checkout-settings -n shop --type=merge "
            """-p '{"data":{"DB_HOST":"VALUE"}}'""") in f.suggestions
    retarget = next(s for s in f.suggestions if s.startswith("kubectl patch deployment/checkout"))
    assert '"configMapKeyRef":{"key":"DB_HOSTNAME"}' in retarget and 'did you mean "DB_HOSTNAME"' in retarget.why


def test_older_kubelets_capitalised_couldnt_find_key_still_works(tmp_path):
    def older(items):
        for o in items:
            if o["kind"] == "Pod":
                o["status"]["containerStatuses"][0]["state"]["waiting"]["message"] = \
                    "Couldn't find key DB_HOST in ConfigMap shop/checkout-settings"
            if o["kind"] == "Event" and o["reason"] == "Failed":
                o["message"] = "Error: Couldn't find key DB_HOST in ConfigMap shop/checkout-settings"
    path = variant(tmp_path, "missing-key-in-existing-configmap.json", older)
    f = only(findings_for(None, "checkout-6c9f8d7b5-x2v8p", path), "ConfigMapKeyNotFound")
    assert f.details["key"] == "DB_HOST"


def test_a_key_only_in_binarydata_is_missing_for_an_env_var(tmp_path):
    def binary(items):
        cm = next(o for o in kind_of(items, "ConfigMap") if o["metadata"]["name"] == "checkout-settings")
        cm["binaryData"] = {"DB_HOST": "cGcuc2hvcC5zdmM="}
        for o in items:  # before the kubelet has tried
            if o["kind"] == "Pod":
                o["status"]["containerStatuses"][0]["state"] = {"waiting": {"reason": "ContainerCreating"}}
        return [o for o in items if o["kind"] != "Event"]
    f = only(findings_for(None, "checkout-6c9f8d7b5-x2v8p", variant(
        tmp_path, "missing-key-in-existing-configmap.json", binary)), "ConfigMapKeyNotFound")
    assert "binaryData" in f.summary


def test_a_key_missing_from_a_secret_comes_from_the_kubelet_and_no_secret_value_is_shown():
    f = only(findings_for("missing-key-in-existing-secret.json", "billing-7f6d5c4b3-h8j2k"), "SecretKeyNotFound")
    assert f.summary == 'container billing cannot start: Secret "db" has no key "password"'
    assert "container billing waiting: CreateContainerConfigError — couldn't find key password in Secret " \
           "default/db" in f.evidence
    assert ("kubectl create secret generic db -n default --from-file=password=./password.txt --dry-run=client "
            "-o yaml | kubectl apply -f -") in f.suggestions
    assert not any("VALUE" in s or "stringData" in s for s in f.suggestions)
    text = json.dumps(f.to_dict())
    assert "not-a-real-password" not in text and "passwd" not in text  # Secret data is never read


def test_secret_keys_are_never_judged_from_the_spec(tmp_path):
    def before_the_kubelet(items):
        items[0]["status"]["containerStatuses"][0]["state"] = {"waiting": {"reason": "ContainerCreating"}}
        return [o for o in items if o["kind"] != "Event"]
    path = variant(tmp_path, "missing-key-in-existing-secret.json", before_the_kubelet)
    assert findings_for(None, "billing-7f6d5c4b3-h8j2k", path) == []


def test_older_plural_api_error_wording_is_understood():
    f = only(findings_for("older-kubelet-plural-not-found-message.json", "legacy-billing-5f7c8d9b6-t2k4m"),
             "ConfigMapNotFound")
    assert f.details["name"] == "legacy-settings"
    assert f.summary.endswith('ConfigMap "legacy-settings" does not exist in namespace finance')
    assert "kubectl create configmap legacy-settings -n finance --from-literal=CURRENCY=VALUE" in f.suggestions


# ---- optional, healthy ----------------------------------------------------------------------
def test_optional_references_never_fail():
    assert findings_for("optional-refs-missing-pod-runs.json", "web-5d8c7b6f9-r4t6y") == []


def test_a_healthy_pod_with_every_reference_present_gives_no_finding():
    assert findings_for("healthy-all-refs-present.json", "orders-api-7c9d8b6f5-m2n4b") == []


# ---- volumes ---------------------------------------------------------------------------------
def test_configmap_volume_missing_keeps_the_pod_in_containercreating():
    f = only(findings_for("volume-configmap-missing-containercreating.json", "report-worker-84c6d9f7b-n5m2z"),
             "ConfigMapNotFound")
    assert f.severity == "error" and f.container == "worker"
    assert f.summary == ('container worker cannot start: volume "config" needs ConfigMap "report-worker-config", '
                         'which does not exist in namespace default')
    assert "container worker waiting: ContainerCreating" in f.evidence
    assert any('MountVolume.SetUp failed for volume "config" : configmap "report-worker-config" not found' in e
               for e in f.evidence)
    assert any("unmounted volumes=[config]" in e for e in f.evidence)
    assert ('volume "config" (configMap report-worker-config) mounted by worker at /etc/report-worker'
            in f.evidence)
    assert f.details["referencedBy"] == [{"via": "volume", "volume": "config", "mountedBy": ["worker"]}]


def test_a_secret_missing_behind_a_projected_volume():
    f = only(findings_for("projected-volume-secret-missing.json", "gateway-6b8d7c5f4-w9x3c"), "SecretNotFound")
    assert f.details["name"] == "gateway-upstream-creds"
    assert 'volume "creds" (projected secret gateway-upstream-creds, item key token) mounted by gateway at ' \
           '/var/run/gateway' in f.evidence
    assert ("kubectl create secret generic gateway-upstream-creds -n edge --from-file=token=./token.txt"
            in f.suggestions)


def test_a_volume_items_key_missing_from_the_configmap(tmp_path):
    def renamed_key(items):
        pod = items[0]
        pod["spec"]["volumes"][0]["configMap"]["items"] = [{"key": "worker.yaml", "path": "worker.yaml"}]
        cm = dict(kind_of(items, "ConfigMap")[0])
        cm["metadata"] = dict(cm["metadata"], name="report-worker-config",
                              uid="0c9d8e7f-6a5b-4c3d-2e1f-0a9b8c7d6e5f")
        cm["data"] = {"worker.yml": "queue: reports\n"}
        for ev in kind_of(items, "Event"):
            if ev["message"].startswith("MountVolume.SetUp"):
                ev["message"] = ('MountVolume.SetUp failed for volume "config" : configmap references '
                                 'non-existent config key: worker.yaml')
        return items + [cm]
    path = variant(tmp_path, "volume-configmap-missing-containercreating.json", renamed_key)
    f = only(findings_for(None, "report-worker-84c6d9f7b-n5m2z", path), "ConfigMapKeyNotFound")
    assert f.details["name"] == "report-worker-config" and f.details["key"] == "worker.yaml"
    assert f.details["didYouMean"] == "worker.yml"
    assert any("non-existent config key: worker.yaml" in e for e in f.evidence)


def test_a_typo_in_the_name_points_at_the_similar_configmap():
    f = only(findings_for("configmap-name-typo.json", "redis-deployment-6fd9d5fcb-lqxxd"), "ConfigMapNotFound")
    assert f.details["didYouMean"] == "redis-config"
    assert 'no ConfigMap named "redis-conig" in namespace default (a similar one exists: "redis-config")' \
        in f.evidence
    patch = f.suggestions[0]
    assert patch.startswith("kubectl patch deployment/redis-deployment -n default --type=strategic -p ")
    assert '"volumes":[{"name":"config","configMap":{"name":"redis-config"' in patch
    assert any("unattached volumes=[data config kube-api-access-f2g7h]" in e for e in f.evidence)


# ---- image pull secrets -----------------------------------------------------------------------
def test_a_missing_image_pull_secret_is_a_warning_about_the_pod():
    f = only(findings_for("imagepullsecret-missing.json", "cache-7d9b8c6f5-z3x7v"), "SecretNotFound")
    assert f.severity == "warning"
    assert f.container is None
    assert any(e.startswith("event FailedToRetrieveImagePullSecret (x6") for e in f.evidence)
    assert f.suggestions[0] == "read -rs REGISTRY_PASSWORD"
    assert f.suggestions[1].startswith("kubectl create secret docker-registry regcred -n default ")
    assert f.suggestions[1].endswith('--docker-password="$REGISTRY_PASSWORD"')
    assert '{"$patch":"delete","name":"regcred"}' in f.suggestions[2]


# ---- more than the kubelet says ---------------------------------------------------------------
def test_the_second_missing_reference_is_found_before_the_kubelet_reaches_it():
    findings = findings_for("two-missing-refs-kubelet-names-first.json", "notifier-59d7c8b6f-p3q9r")
    assert sorted(f.reason for f in findings) == ["ConfigMapNotFound", "SecretNotFound"]
    secret = only(findings, "SecretNotFound")
    assert secret.details["source"] == "spec"
    assert secret.severity == "error"  # the container has not started
    # one finding for the Secret, however many variables read it
    assert [r["env"] for r in secret.details["referencedBy"]] == ["SMTP_PASSWORD", "SMTP_USER"]
    assert ("kubectl create secret generic smtp-credentials -n default --from-file=password=./password.txt "
            "--from-file=username=./username.txt") in secret.suggestions


def test_a_running_pod_whose_configmap_was_deleted_is_warned_about_its_next_restart():
    f = only(findings_for("running-pod-configmap-deleted.json", "search-6f8b9c7d5-k8l2m"), "ConfigMapNotFound")
    assert f.severity == "warning"
    assert "runs now but will not start again" in f.summary


def test_a_reference_shared_by_init_and_app_containers_is_one_finding_on_the_init_container(tmp_path):
    path = variant(tmp_path, "healthy-all-refs-present.json", lambda items: [
        o for o in items if not (o["kind"] == "Secret" and o["metadata"]["name"] == "orders-db")])
    f = only(findings_for(None, "orders-api-7c9d8b6f5-m2n4b", path), "SecretNotFound")
    assert f.container == "migrate"
    assert [r["container"] for r in f.details["referencedBy"]] == ["migrate", "api"]
    assert "referenced by init container migrate: env DB_PASSWORD from secretKeyRef orders-db key password" \
        in f.evidence


# ---- what cannot be read ----------------------------------------------------------------------
def test_unreadable_secrets_give_no_finding_from_the_spec_alone():
    view = forbidden_view(fixture("config_refs", "two-missing-refs-kubelet-names-first.json"))
    findings = config_refs.analyze(pod_context(view, "notifier-59d7c8b6f-p3q9r"))
    assert [f.reason for f in findings] == ["ConfigMapNotFound"]
    assert any("could not read secrets" in n for n in view.notes)


def test_unreadable_secrets_still_reported_when_the_kubelet_names_them():
    view = forbidden_view(fixture("config_refs", "missing-secret-secretkeyref.json"))
    f = only(config_refs.analyze(pod_context(view, "orders-api-5b7d9c6f4-q7w2e")), "SecretNotFound")
    assert f.severity == "error"
    assert any("could not be checked" in e for e in f.evidence)


def test_files_without_any_configmap_prove_nothing_about_them(tmp_path):
    # `kubectl cluster-info dump` holds no ConfigMaps: a healthy pod must not look broken.
    path = variant(tmp_path, "healthy-all-refs-present.json",
                   lambda items: [o for o in items if o["kind"] != "ConfigMap"])
    view = view_of(path)
    assert config_refs.analyze(pod_context(view, "orders-api-7c9d8b6f5-m2n4b")) == []
    assert any("no configmaps in namespace default" in n for n in view.notes)
