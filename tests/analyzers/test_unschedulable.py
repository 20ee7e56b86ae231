"""Unschedulable: a Pending pod no node can take, explained from the scheduler's own message."""

import copy

from kdebug_core.analyzers.pod import unschedulable
from kdebug_core.analyzers.pod.unschedulable import dominant, parse_message, pod_requests
from tests.helpers import fixture, only, pod_context, view_of


def diagnose(name, pod):
    view = view_of(fixture("unschedulable", name))
    return unschedulable.analyze(pod_context(view, pod))


# ---- the scheduler's message ---------------------------------------------------------------------

def test_current_message_is_split_into_causes_with_node_counts_and_the_preemption_tail_dropped():
    total, causes = parse_message(
        "0/3 nodes are available: 1 node(s) had untolerated taint {node-role.kubernetes.io/control-plane: }, "
        "2 Insufficient memory. preemption: 0/3 nodes are available: 1 Preemption is not helpful for "
        "scheduling, 2 No preemption victims found for incoming pod..")
    assert total == 3
    assert [(c["cause"], c["nodes"]) for c in causes] == [("UntoleratedTaint", 1), ("InsufficientMemory", 2)]
    assert causes[0]["taint"] == {"key": "node-role.kubernetes.io/control-plane", "value": ""}
    assert not any("reemption" in c["text"] for c in causes)
    assert dominant(causes)["cause"] == "InsufficientMemory"


def test_older_taint_wording_with_its_inner_comma_stays_one_cause():
    _, causes = parse_message("0/3 nodes are available: 1 node(s) had taint {node-role.kubernetes.io/master: }, "
                              "that the pod didn't tolerate, 2 node(s) didn't match node selector.")
    assert [(c["cause"], c["nodes"]) for c in causes] == [("UntoleratedTaint", 1), ("NodeSelectorMismatch", 2)]
    assert causes[0]["taint"]["key"] == "node-role.kubernetes.io/master"


def test_every_filter_plugin_wording_maps_to_a_cause():
    cases = {
        "Insufficient cpu": "InsufficientCPU",
        "Insufficient nvidia.com/gpu": "InsufficientResource",
        "Too many pods": "TooManyPods",
        "node(s) had untolerated taint(s)": "UntoleratedTaint",
        "node(s) had taints that the pod didn't tolerate": "UntoleratedTaint",
        "node(s) didn't match Pod's node affinity": "NodeSelectorMismatch",
        "node(s) didn't match pod affinity rules": "PodAffinity",
        "node(s) didn't match pod anti-affinity rules": "PodAntiAffinity",
        "node(s) didn't satisfy existing pods anti-affinity rules": "PodAntiAffinity",
        "node(s) didn't have free ports for the requested pod ports": "HostPortConflict",
        "node(s) had volume node affinity conflict": "VolumeNodeAffinityConflict",
        "node(s) didn't match pod topology spread constraints": "TopologySpread",
        "node(s) were unschedulable": "NodeUnschedulable",
    }
    for text, cause in cases.items():
        _, causes = parse_message(f"0/4 nodes are available: 4 {text}.")
        assert [c["cause"] for c in causes] == [cause], text
    assert causes[0]["nodes"] == 4


def test_a_prefilter_sentence_holds_for_every_node():
    total, causes = parse_message('0/3 nodes are available: persistentvolumeclaim "data" not found. preemption: '
                                  "0/3 nodes are available: 3 Preemption is not helpful for scheduling..")
    assert causes == [{"cause": "PVCNotFound", "nodes": 3, "text": 'persistentvolumeclaim "data" not found',
                       "claim": "data"}]


def test_dra_note_before_the_preemption_tail_is_dropped():
    _, causes = parse_message("0/3 nodes are available: 1 node(s) had untolerated taint(s), 2 Insufficient cpu. "
                              "no new claims to deallocate, preemption: 0/3 nodes are available: 3 Preemption "
                              "is not helpful for scheduling.")
    assert [c["text"] for c in causes] == ["node(s) had untolerated taint(s)", "Insufficient cpu"]


def test_pre_1_9_predicate_wording_with_counts_in_parentheses():
    _, causes = parse_message("No nodes are available that match all of the predicates: Insufficient cpu (3), "
                              "MatchNodeSelector (2).")
    assert [(c["cause"], c["nodes"]) for c in causes] == [("InsufficientCPU", 3), ("NodeSelectorMismatch", 2)]


def test_effective_request_sums_app_containers_and_takes_the_largest_init_container():
    spec = {"initContainers": [{"name": "warm", "resources": {"requests": {"memory": "3Gi"}}},
                               {"name": "proxy", "restartPolicy": "Always",
                                "resources": {"requests": {"memory": "128Mi"}}}],
            "containers": [{"name": "a", "resources": {"requests": {"memory": "1Gi", "cpu": "250m"}}},
                           {"name": "b", "resources": {"limits": {"memory": "512Mi"}}}]}
    req = pod_requests(spec)
    assert int(req["memory"]) == 3 * 1024 ** 3          # the init container's 3Gi beats 1Gi+512Mi+128Mi
    assert str(req["cpu"]) == "0.250"
    spec["initContainers"][0]["resources"]["requests"]["memory"] = "1Gi"
    assert int(pod_requests(spec)["memory"]) == (1024 + 512 + 128) * 1024 ** 2


# ---- pods ----------------------------------------------------------------------------------------

def test_pod_asking_more_memory_than_any_node_has_gets_a_request_that_fits_the_largest_node():
    f = only(diagnose("pending-insufficient-memory.json", "ml-inference-6d8f9c7b5d-q7x2k"), "Unschedulable")
    assert f.cause == "InsufficientMemory"
    assert f.summary == ("no node can run the pod: 2 nodes lack memory for its 16Gi request, 1 node has a taint "
                         "(node-role.kubernetes.io/control-plane) it does not tolerate")
    assert {"cause": "InsufficientMemory", "nodes": 2, "text": "Insufficient memory"} in f.details["causes"]
    assert any(e.startswith("event FailedScheduling (x7") for e in f.evidence)
    assert "pod requests cpu 2, memory 16Gi" in f.evidence
    assert "kind-worker: allocatable cpu 8, memory 7.6Gi" in f.evidence
    assert ("requests 16Gi memory; the largest node (kind-worker) has 7.6Gi allocatable: no node is big enough"
            in f.evidence)
    set_resources = f.suggestions[0]
    assert set_resources.startswith("kubectl set resources deployment/ml-inference -n ml -c model "
                                    "--requests=memory=5632Mi")
    assert "kubectl describe nodes | grep -A 8 'Allocated resources'" in f.suggestions[1]
    assert "kubectl top nodes" in f.suggestions
    # The control plane's taint is how it should be: no toleration is suggested for it.
    assert not any("tolerations" in s for s in f.suggestions)


def test_kubernetes_1_20_wording_without_node_objects_still_names_insufficient_memory():
    f = only(diagnose("pending-insufficient-memory-k8s-1.20.json", "report-worker-7b9c6d5f8-hk4wz"),
             "Unschedulable")
    assert f.cause == "InsufficientMemory"
    assert "2 nodes lack memory for its 12Gi request" in f.summary
    assert "(node-role.kubernetes.io/master)" in f.summary
    assert f.evidence[0].startswith("event FailedScheduling (x14")
    assert ("kubectl set resources deployment/report-worker -n default -c worker --requests=memory=VALUE"
            in f.suggestions)


def test_node_selector_no_node_matches_shows_the_labels_and_the_label_fix():
    f = only(diagnose("pending-node-selector-mismatch.json", "api-84d5f6b7c9-tn6jr"), "Unschedulable")
    assert f.cause == "NodeSelectorMismatch"
    assert "2 nodes do not match its nodeSelector disktype=ssd" in f.summary
    assert "nodeSelector disktype=ssd" in f.evidence
    assert any(e.startswith("kind-worker: ") and "labels: disktype=hdd" in e for e in f.evidence)
    assert any(e.startswith("kind-worker2: ") and "no disktype label" in e for e in f.evidence)
    assert "kubectl get nodes -L disktype" in f.suggestions
    assert "kubectl label node kind-worker disktype=ssd" in f.suggestions
    assert any(s.startswith("kubectl patch deployment/api -n shop") and '"nodeSelector":{"disktype":null}' in s
               for s in f.suggestions)


def test_untolerated_taint_gets_the_toleration_patch_for_that_taint():
    f = only(diagnose("pending-untolerated-taint.json", "trainer-5c6b7d8f9-vb2mn"), "Unschedulable")
    assert f.cause == "UntoleratedTaint"
    assert f.summary.startswith("no node can run the pod: 2 nodes have a taint (dedicated=gpu) it does not tolerate")
    assert "kind-worker: allocatable cpu 8, memory 7.6Gi; taints dedicated=gpu:NoSchedule" in f.evidence
    assert "kubectl describe node kind-worker | grep -A 3 Taints" in f.suggestions
    assert not any("describe node kind-control-plane" in s for s in f.suggestions)
    patch = next(s for s in f.suggestions if s.startswith("kubectl patch deployment/trainer -n ml"))
    assert '"tolerations":[{"key":"dedicated","operator":"Equal","value":"gpu","effect":"NoSchedule"}]' in patch


def test_cordoned_nodes_are_named_with_uncordon():
    f = only(diagnose("pending-nodes-cordoned.json", "frontend-6f8d9c7b4-pl9wq"), "Unschedulable")
    assert f.cause == "NodeUnschedulable"
    assert "2 nodes are cordoned (unschedulable)" in f.summary
    assert "kind-worker: allocatable cpu 8, memory 7.6Gi; cordoned (unschedulable)" in f.evidence
    assert [(s, s.why) for s in f.fixes if s.startswith("kubectl uncordon")] == [
        ("kubectl uncordon kind-worker", "once its maintenance is over"),
        ("kubectl uncordon kind-worker2", "once its maintenance is over")]


def test_unbound_claim_points_at_the_claim_and_its_missing_storage_class():
    f = only(diagnose("pending-unbound-pvc.json", "postgres-0"), "Unschedulable")
    assert f.cause == "UnboundPVC"
    assert f.summary == 'no node can run the pod: its PersistentVolumeClaim "data-postgres-0" is not bound to a volume'
    assert 'persistentvolumeclaim "data-postgres-0" is Pending (storageClassName "fast-ssd")' in f.evidence
    assert any('ProvisioningFailed (x82' in e and '"fast-ssd" not found' in e for e in f.evidence)
    assert f.suggestions[:2] == ["kubectl get pvc -n shop", "kubectl describe pvc data-postgres-0 -n shop"]


def test_claim_that_does_not_exist():
    f = only(diagnose("pending-unbound-pvc.json", "uploader-59c7d6b8f4-r4kfx"), "Unschedulable")
    assert f.cause == "PVCNotFound"
    assert f.summary == 'no node can run the pod: its PersistentVolumeClaim "uploads" does not exist'
    assert 'persistentvolumeclaim "uploads" does not exist in namespace shop' in f.evidence
    assert "kubectl get pvc -n shop" in f.suggestions


def test_status_alone_is_enough_once_the_events_expired():
    view = view_of(fixture("unschedulable", "pending-node-selector-mismatch.json"))
    ctx = pod_context(view, "api-84d5f6b7c9-tn6jr")
    ctx._events = []
    f = only(unschedulable.analyze(ctx), "Unschedulable")
    assert f.cause == "NodeSelectorMismatch"
    assert f.evidence[0].startswith("condition PodScheduled=False (Unschedulable")


def test_a_pod_that_waited_for_a_node_and_got_one_has_no_finding():
    assert diagnose("healthy-scheduled-after-waiting.json", "billing-7d6c5b4f9-8kq2m") == []


def test_scheduling_gates_are_a_warning_not_a_capacity_problem():
    view = view_of(fixture("unschedulable", "pending-insufficient-memory.json"))
    ctx = pod_context(view, "ml-inference-6d8f9c7b5d-q7x2k")
    ctx.pod = copy.deepcopy(ctx.pod)
    ctx.pod["spec"]["schedulingGates"] = [{"name": "example.com/quota-check"}]
    ctx.pod["status"]["conditions"] = [{"type": "PodScheduled", "status": "False", "reason": "SchedulingGated",
                                        "message": "Scheduling is blocked due to non-empty scheduling gates"}]
    ctx._events = []
    f = only(unschedulable.analyze(ctx), "Unschedulable")
    assert (f.cause, f.severity) == ("SchedulingGated", "warning")
    assert '"example.com/quota-check"' in f.summary


def _with_message(message, resources):
    view = view_of(fixture("unschedulable", "pending-insufficient-memory.json"))
    ctx = pod_context(view, "ml-inference-6d8f9c7b5d-q7x2k")
    ctx.pod = copy.deepcopy(ctx.pod)
    ctx.pod["spec"]["containers"][0]["resources"] = resources
    ctx.pod["status"]["conditions"][0]["message"] = message
    ctx._events = []
    return only(unschedulable.analyze(ctx), "Unschedulable")


def test_cpu_request_larger_than_any_node_gets_a_cpu_value_that_fits():
    f = _with_message("0/3 nodes are available: 1 node(s) had untolerated taint {node-role.kubernetes.io/control-plane: "
                      "}, 2 Insufficient cpu. preemption: 0/3 nodes are available: 3 Preemption is not helpful for "
                      "scheduling..", {"requests": {"cpu": "12", "memory": "1Gi"}})
    assert f.cause == "InsufficientCPU"
    assert "2 nodes lack CPU for its 12 CPU request" in f.summary
    assert "requests 12 cpu; the largest node (kind-worker) has 8 allocatable: no node is big enough" in f.evidence
    assert f.suggestions[0].startswith("kubectl set resources deployment/ml-inference -n ml -c model --requests=cpu=6")


def test_missing_gpu_is_a_capacity_question_not_a_smaller_request():
    f = _with_message("0/3 nodes are available: 3 Insufficient nvidia.com/gpu.", {"limits": {"nvidia.com/gpu": "1"}})
    assert (f.cause, f.summary) == ("InsufficientResource",
                                    "no node can run the pod: 3 nodes lack nvidia.com/gpu (it requests 1)")
    assert "pod requests nvidia.com/gpu 1" in f.evidence
    assert not any(s.startswith("kubectl set resources") for s in f.suggestions)
    assert f.suggestions[0].startswith("kubectl get nodes -o 'custom-columns=NAME:.metadata.name,ALLOCATABLE:"
                                       ".status.allocatable.nvidia\\.com/gpu'")
