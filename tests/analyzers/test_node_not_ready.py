"""NodeNotReady: the node lifecycle controller's view of a node that stopped reporting.

Wording from pkg/controller/nodelifecycle/node_lifecycle_controller.go: every condition `Unknown`
with reason NodeStatusUnknown, "Kubelet stopped posting node status."; the node event
"Node kind-worker2 status is now: NodeNotReady" and the pod event NodeNotReady "Node is not ready"
(source node-controller); the taint-eviction controller's "Marking for deletion Pod ns/name"; taints
node.kubernetes.io/unreachable NoSchedule/NoExecute.
"""

from kdebug_core.analyzers.node import not_ready
from kdebug_core.engine import analyze_pod
from tests.helpers import fixture, only, pod_context, view_of

PATH = fixture("node", "node-unreachable-pod-stuck-terminating.json")


def test_the_node_itself_names_since_when_its_conditions_taints_and_pods():
    view = view_of(PATH)
    f = only(not_ready.analyze_node(view, view.get("Node", None, "kind-worker2"), "why"), "NodeNotReady")
    assert f.object.kind == "Node" and f.object.name == "kind-worker2" and f.object.namespace is None
    assert f.cause == "NodeStatusUnknown"
    assert f.summary == ("node kind-worker2 is not Ready since 19m ago: its kubelet stopped reporting (node down, "
                         "network cut, or kubelet stopped); 1 pod on it, 1 stuck Terminating")
    assert f.evidence[0].startswith("node kind-worker2 condition Ready=Unknown (NodeStatusUnknown, since 19m ago, "
                                    "last heartbeat 21m ago): Kubelet stopped posting node status.")
    assert "taints: node.kubernetes.io/unreachable:NoSchedule, node.kubernetes.io/unreachable:NoExecute" in f.evidence
    assert "pods on it: shop/api-7f8d9c6b54-kq7vx" in f.evidence
    assert "kubectl describe node kind-worker2" in f.suggestions
    assert "kubectl delete pod api-7f8d9c6b54-kq7vx -n shop --grace-period=0 --force" in f.suggestions


def test_a_ready_node_says_nothing():
    view = view_of(PATH)
    assert not_ready.analyze_node(view, view.get("Node", None, "kind-worker"), "why") == []


def test_the_pod_stuck_terminating_on_it_is_explained_by_the_node_and_nothing_else():
    view = view_of(PATH)
    ctx = pod_context(view, "api-7f8d9c6b54-kq7vx")
    f = only(not_ready.analyze(ctx), "NodeNotReady")
    assert f.summary.startswith("the pod is stuck Terminating: its node kind-worker2 is not Ready since 19m ago")
    assert "event NodeNotReady (19m ago): Node is not ready" in f.evidence
    assert f.owner.kind == "Deployment" and f.owner.name == "api"
    assert [x.reason for x in analyze_pod(view, ctx.pod, "why")] == ["NodeNotReady"]


def test_the_replacement_on_a_healthy_node_is_healthy():
    view = view_of(PATH)
    ctx = pod_context(view, "api-7f8d9c6b54-d2m8r")
    assert not_ready.analyze(ctx) == []
    assert analyze_pod(view, ctx.pod, "why") == []
