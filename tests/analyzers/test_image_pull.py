"""ImagePullBackOff / InvalidImageName from the kubelet's events when no container status says so."""

import json

import pytest
import yaml

from kdebug_core.analyzers.pod import image_pull
from tests.helpers import fixture, only, pod_context, view_of


def findings(name, pod, edit=None, tmp_path=None):
    path = fixture("image_pull", name)
    if edit is not None:
        doc = yaml.safe_load(open(path))
        edit(doc)
        path = str(tmp_path / "edited.json")
        open(path, "w").write(json.dumps(doc))
    return image_pull.analyze(pod_context(view_of(path), pod))


def test_pull_failure_events_without_a_status_are_image_pull_back_off():
    """hjacobs/kube-ops-view#176: docker, DNS 'server misbehaving', events only."""
    found = findings("events-only-dns-server-misbehaving-docker.yaml", "kube-ops-view")
    f = only(found, "ImagePullBackOff")
    assert f.container == "service" and f.cause == "RegistryUnreachable"
    assert f.details["waitingReason"] == "ImagePullBackOff"
    assert any(e.startswith("event Failed (x2") and "server misbehaving" in e for e in f.evidence)
    assert 'image "hjacobs/kube-ops-view:0.8.1" cannot be pulled: the node cannot reach the registry' == f.summary


def test_a_later_pulled_event_means_the_image_arrived(tmp_path):
    def pulled(doc):
        doc["items"].append({"apiVersion": "v1", "kind": "Event", "metadata": {"name": "p", "namespace": "default"},
                             "involvedObject": {"kind": "Pod", "namespace": "default", "name": "kube-ops-view"},
                             "type": "Normal", "reason": "Pulled", "lastTimestamp": "2018-09-11T10:03:00Z",
                             "message": 'Successfully pulled image "hjacobs/kube-ops-view:0.8.1"'})
    assert findings("events-only-dns-server-misbehaving-docker.yaml", "kube-ops-view", pulled, tmp_path) == []


@pytest.mark.parametrize("message", [
    'Failed to pull image "hjacobs/kube-ops-view:0.8.1": rpc error: code = Unknown desc = Error response from '
    'daemon: Get https://registry-1.docker.io/v2/: dial tcp: lookup registry-1.docker.io on 127.0.0.53:53: '
    'server misbehaving',
    'failed to pull image "hjacobs/kube-ops-view:0.8.1": rpc error: code = Unknown desc = Error response from '
    'daemon: Get https://registry-1.docker.io/v2/: dial tcp: lookup registry-1.docker.io on 127.0.0.53:53: '
    'server misbehaving',
])
def test_the_kubelets_prefix_is_matched_whatever_its_case(tmp_path, message):
    def only_failed(doc):
        doc["items"] = [o for o in doc["items"] if o.get("reason") != "BackOff"]
        next(o for o in doc["items"] if o.get("reason") == "Failed")["message"] = message
    f = only(findings("events-only-dns-server-misbehaving-docker.yaml", "kube-ops-view", only_failed, tmp_path),
             "ImagePullBackOff")
    assert f.details["waitingReason"] == "ErrImagePull" and f.cause == "RegistryUnreachable"


def test_events_without_a_field_path_go_to_the_container_whose_image_they_name():
    found = findings("events-only-dns-server-misbehaving-docker.yaml", "kube-ops-view")
    assert [f.container for f in found] == ["service"]


def test_an_invalid_reference_in_the_events_is_invalid_image_name():
    """cloudfoundry-incubator/kubecf#63: InspectFailed 'invalid reference format', events only."""
    f = only(findings("events-only-invalid-reference-format.yaml", "12factor-demo-adcc188eef-0"), "InvalidImageName")
    assert f.container == "opi" and "is not a valid image reference" in f.summary
    assert any(e.startswith("event InspectFailed (x3") for e in f.evidence)


@pytest.mark.parametrize("message, cause", [
    # containerd 1.4+ (dell/csi-baremetal#391)
    ('rpc error: code = Unknown desc = failed to pull and unpack image "docker.io/library/centos:latest": failed '
     'to copy: httpReaderSeeker: failed open: unexpected status code https://registry-1.docker.io/v2/library/centos/'
     'manifests/sha256:dbbacecc: 429 Too Many Requests - Server message: toomanyrequests: You have reached your '
     'pull rate limit.', "RateLimited"),
    # CRI-O (red-hat-storage/ocs-ci#4494)
    ('rpc error: code = Unknown desc = Error reading manifest latest in docker.io/obsidiandynamics/kafdrop: '
     'toomanyrequests: You have reached your pull rate limit.', "RateLimited"),
    # containerd against Harbor: 401 (corpus 007)
    ('rpc error: code = Unknown desc = failed to pull and unpack image "registry.app.xxx.net/spm2fog/partsgo42:x": '
     'failed to resolve reference "registry.app.xxx.net/spm2fog/partsgo42:x": pulling from host '
     'registry.app.xxx.net failed with status code [manifests x]: 401 Unauthorized', "Unauthorized"),
    # CRI-O, DNS timeout (openshift, corpus 006)
    ('rpc error: code = Unknown desc = pinging container registry image-registry.openshift-image-registry.svc:5000: '
     'Get "https://image-registry.openshift-image-registry.svc:5000/v2/": dial tcp: lookup '
     'image-registry.openshift-image-registry.svc on 223.5.5.5:53: read udp 10.253.25.6:33734->223.5.5.5:53: '
     'i/o timeout', "RegistryUnreachable"),
])
def test_runtime_wordings_of_docker_containerd_and_crio_are_classified(message, cause):
    assert image_pull.classify(message) == cause


# ---- causes that name what the runtime said (corpus 116, 117, 131, 137-140) -----------------------

def test_err_image_never_pull_says_the_image_is_absent_and_the_policy_forbids_pulling():
    """k3s-io/k3s#1586 (containerd): 'Container image "nginx:latest" is not present with pull policy of Never'."""
    f = only(findings("errimageneverpull-events-k3s-containerd.yaml", "nginx-deployment-7f997555d8-7k6kf"),
             "ImagePullBackOff")
    assert f.cause == "NeverPull" and f.container == "nginx"
    assert f.summary == ('image "nginx:latest" is not present on node k3s-s-1 and imagePullPolicy Never '
                         'forbids pulling it')
    assert any('is not present with pull policy of Never' in e for e in f.evidence)
    patch = next(s for s in f.suggestions if s.startswith("kubectl patch replicaset/nginx-deployment-7f997555d8"))
    assert '"imagePullPolicy":"IfNotPresent"' in patch and '"name":"nginx"' in patch
    images = next(s for s in f.suggestions if s.startswith("kubectl get node k3s-s-1"))
    assert "kind load docker-image" in images.why and "ctr -n k8s.io images import" in images.why


def test_err_image_never_pull_from_the_events_alone(tmp_path):
    def no_status(doc):
        pod = next(o for o in doc["items"] if o["kind"] == "Pod")
        del pod["status"]["containerStatuses"]
    f = only(findings("errimageneverpull-events-k3s-containerd.yaml", "nginx-deployment-7f997555d8-7k6kf",
                      no_status, tmp_path), "ImagePullBackOff")
    assert f.cause == "NeverPull" and f.details["waitingReason"] == "ErrImageNeverPull"


def test_err_image_never_pull_as_a_bare_waiting_reason_is_enough():
    """smart-edge-open/converged-edge-experience-kits#38: describe cut after the state, no message, no events."""
    f = only(findings("errimageneverpull-reason-only-ovn.yaml", "producer-685fcbc569-swc8r"), "ImagePullBackOff")
    assert f.cause == "NeverPull" and "not present on node node01" in f.summary
    assert "imagePullPolicy: Never (as the waiting reason says)" in f.evidence
    assert any(s.startswith("kubectl patch deployment/producer") and "IfNotPresent" in s for s in f.suggestions)


def test_crio_short_name_asks_for_a_fully_qualified_image():
    """kubernetes/minikube#19395 (CRI-O): ImageInspectError, 'short-name ... did not resolve to an alias'."""
    f = only(findings("imageinspecterror-crio-short-name-minikube.yaml", "hello-minikube-5c898d8489-8gh5t"),
             "ImagePullBackOff")
    assert f.cause == "ShortName" and f.details["waitingReason"] == "ImageInspectError"
    assert "does not resolve the short name" in f.summary
    assert sum("did not resolve to an alias" in e for e in f.evidence) == 1  # the status line, not twice
    assert ("kubectl set image deployment/hello-minikube -n default "
            "echo-server=docker.io/kicbase/echo-server:1.0") in f.suggestions


def test_docker_platform_mismatch_names_the_platform():
    """cilium/image-tools#61 (docker): 'no matching manifest for linux/arm/v7 in the manifest list entries'."""
    f = only(findings("no-matching-manifest-arm-v7-docker.yaml", "cilium-node-init-v9f9m"), "ImagePullBackOff")
    assert f.cause == "PlatformMismatch" and f.details["platform"] == "linux/arm/v7"
    assert "has no image for linux/arm/v7, the node's platform" in f.summary
    assert any(s.startswith("docker buildx imagetools inspect docker.io/cilium/startup-script:") for s in f.suggestions)
    assert any(s.startswith("kubectl get node ubuntu4g -o jsonpath=") for s in f.suggestions)


def test_containerd_platform_mismatch_wins_over_its_not_found_code():
    """FoundationDB/fdb-kubernetes-operator#2294 (containerd): 'code = NotFound desc = ... no match for platform
    in manifest: not found' — the tag exists, only not for the node's platform."""
    f = only(findings("no-match-for-platform-containerd.yaml",
                      "fdb-kubernetes-operator-controller-manager-7f5575c8dd-6gprn"), "ImagePullBackOff")
    assert f.cause == "PlatformMismatch" and "does not exist" not in f.summary
    assert not any(s.startswith("kubectl set image") for s in f.suggestions)


def test_platform_mismatch_names_the_nodes_platform_when_the_runtime_does_not(tmp_path):
    def on_node(doc):
        pod = next(o for o in doc["items"] if o["kind"] == "Pod")
        pod["spec"]["nodeName"] = "worker-1"
        doc["items"].append({"apiVersion": "v1", "kind": "Node", "metadata": {"name": "worker-1"},
                             "status": {"nodeInfo": {"architecture": "arm64", "operatingSystem": "linux"}}})
    f = only(findings("no-match-for-platform-containerd.yaml",
                      "fdb-kubernetes-operator-controller-manager-7f5575c8dd-6gprn", on_node, tmp_path),
             "ImagePullBackOff")
    assert f.details["platform"] == "linux/arm64" and "no image for linux/arm64" in f.summary


def test_an_untrusted_certificate_is_not_an_unreachable_registry():
    """kubernetes/kubernetes#43924 (docker): 'x509: certificate signed by unknown authority'."""
    f = only(findings("x509-unknown-authority-docker.yaml", "monitorms-mmqhm"), "ImagePullBackOff")
    assert f.cause == "CertificateUntrusted"
    assert "does not trust its TLS certificate" in f.summary
    assert any(x.why and "/etc/docker/certs.d/10.78.0.228:5000/ca.crt" in x.why for x in f.suggestions)
    assert not any("nslookup" in s for s in f.suggestions)


def test_a_plain_http_registry_points_at_the_runtimes_insecure_registry_configuration():
    """kubernetes-sigs/cri-tools#551 (containerd): 'http: server gave HTTP response to HTTPS client'."""
    f = only(findings("http-response-to-https-client-containerd.yaml", "vm-0"), "ImagePullBackOff")
    assert f.cause == "InsecureRegistry" and "plain HTTP" in f.summary
    s = next(s for s in f.suggestions if s.startswith("kubectl debug node/iserver"))
    assert "insecure-registries" in s.why and 'server = "http://localhost:5000"' in s.why


@pytest.mark.parametrize("message, cause", [
    # docker (cilium/image-tools#61)
    ('Failed to pull image "docker.io/cilium/startup-script:af2a99046eca96c0138551393b21a5c044c7fe79": rpc error: '
     'code = Unknown desc = no matching manifest for linux/arm/v7 in the manifest list entries', "PlatformMismatch"),
    # containerd (FoundationDB/fdb-kubernetes-operator#2294)
    ('Failed to pull image "foundationdb/fdb-kubernetes-operator:v2.6.0": rpc error: code = NotFound desc = failed '
     'to pull and unpack image "docker.io/foundationdb/fdb-kubernetes-operator:v2.6.0": no match for platform in '
     'manifest: not found', "PlatformMismatch"),
    # CRI-O (cri-o/cri-o#3626)
    ('rpc error: code = Unknown desc = Error choosing image instance: no image found in manifest list for '
     'architecture arm, variant v8, OS linux', "PlatformMismatch"),
    # CRI-O (cri-o/cri-o#3233)
    ('rpc error: code = Unknown desc = Image architecture mismatch: image uses "amd64", expecting "arm64"',
     "PlatformMismatch"),
    # docker (kubernetes/kubernetes#43924)
    ('Failed to pull image "10.78.0.228:5000/monitorms": Error response from daemon: {"message":"Get '
     'https://10.78.0.228:5000/v1/_ping: x509: certificate signed by unknown authority"}', "CertificateUntrusted"),
    # containerd (kubernetes-sigs/cri-tools#551)
    ('Failed to pull image "localhost:5000/vm-runner:dev": rpc error: code = Unknown desc = failed to pull and '
     'unpack image "localhost:5000/vm-runner:dev": failed to resolve reference "localhost:5000/vm-runner:dev": '
     'failed to do request: Head https://localhost:5000/v2/vm-runner/manifests/dev: http: server gave HTTP '
     'response to HTTPS client', "InsecureRegistry"),
    # CRI-O (kubernetes/minikube#19395)
    ('Failed to inspect image "kicbase/echo-server:1.0": rpc error: code = Unknown desc = short-name '
     '"kicbase/echo-server:1.0" did not resolve to an alias and no unqualified-search registries are defined in '
     '"/etc/containers/registries.conf"', "ShortName"),
    # the kubelet's image manager (k3s-io/k3s#1586)
    ('Container image "nginx:latest" is not present with pull policy of Never', "NeverPull"),
])
def test_precise_runtime_wordings_win_over_the_broad_causes(message, cause):
    assert image_pull.classify(message) == cause


@pytest.mark.parametrize("message, platform", [
    ("no matching manifest for linux/arm/v7 in the manifest list entries", "linux/arm/v7"),
    ("Error choosing image instance: no image found in manifest list for architecture arm, variant v8, OS linux",
     "linux/arm/v8"),
    ('no image found in manifest list for architecture amd64, variant "", OS linux', "linux/amd64"),
    ('Image architecture mismatch: image uses "amd64", expecting "arm64"', "linux/arm64"),
    ("no match for platform in manifest: not found", None),
])
def test_the_platform_is_read_from_each_runtimes_words(message, platform):
    assert image_pull._platform(message) == platform


def test_a_bare_pod_never_pull_is_fixed_by_replacing_the_pod(tmp_path):
    # imagePullPolicy cannot change on a pod: patching it would be refused
    def bare(doc):
        doc["metadata"].pop("ownerReferences")
    f = only(findings("errimageneverpull-reason-only-ovn.yaml", "producer-685fcbc569-swc8r", bare, tmp_path),
             "ImagePullBackOff")
    assert f.cause == "NeverPull"
    assert not any(s.startswith("kubectl patch") for s in f.suggestions)
    i = f.suggestions.index("kubectl get pod/producer-685fcbc569-swc8r -n default -o yaml > pod.yaml")
    assert f.suggestions[i + 1] == "kubectl replace --force -f pod.yaml"
    assert "imagePullPolicy: IfNotPresent" in f.suggestions[i].why
