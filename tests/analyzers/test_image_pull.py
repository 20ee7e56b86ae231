"""ImagePullBackOff / InvalidImageName from the kubelet's events when no container status says so."""

import json

import pytest
import yaml

from kdebug_core.analyzers import image_pull
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
