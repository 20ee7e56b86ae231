"""NodeNotReady: a node whose `Ready` condition is `False` or `Unknown`, and the pods stuck on it.

When the kubelet stops reporting, the node lifecycle controller sets every condition to `Unknown`
with reason `NodeStatusUnknown` and message "Kubelet stopped posting node status."
(pkg/controller/nodelifecycle/node_lifecycle_controller.go), taints the node
`node.kubernetes.io/unreachable` (NoSchedule, then NoExecute), marks its pods not ready and records
`NodeNotReady` "Node is not ready" on each of them (source node-controller). A kubelet that still
reports but is unhealthy sets `Ready=False` itself (reason `KubeletNotReady`, e.g. "container
runtime network not ready: NetworkReady=false ... cni plugin not initialized") and the node gets
`node.kubernetes.io/not-ready`. Pods are evicted by the NoExecute taint after their toleration (300 s
by default); until the kubelet confirms, deleted pods stay `Terminating` forever.

Two views of the same fact: `analyze_node(view, node, plugin)` judges the node (a subject of its
own in scans and `node/NAME`), `analyze(ctx)` says so on each pod on it, which replaces the pod's
symptoms (not ready, not healthy): its status is stale, the node is the cause.
"""

import shlex
from typing import List, Optional

from ...findings import Finding, ObjectRef
from ...sanitize import clean
from ...timeutil import age
from ...view import ClusterView, meta
from ..base import PodContext, fix, new_finding

NODE_TAINTS = ("node.kubernetes.io/unreachable", "node.kubernetes.io/not-ready")


def ready_condition(node: dict) -> Optional[dict]:
    return next((c for c in (node.get("status") or {}).get("conditions") or [] if c.get("type") == "Ready"), None)


def not_ready(node: Optional[dict]) -> bool:
    cond = ready_condition(node) if node else None
    return bool(cond) and cond.get("status") in ("False", "Unknown")


def _ready_line(view: ClusterView, node: dict) -> str:
    cond = ready_condition(node) or {}
    since = age(cond.get("lastTransitionTime"), view.now)
    heard = age(cond.get("lastHeartbeatTime"), view.now)
    text = f"node {clean(meta(node).get('name'))} condition Ready={clean(cond.get('status'))}"
    inner = [clean(cond.get("reason"))] if cond.get("reason") else []
    if since:
        inner.append(f"since {since} ago")
    if heard:
        inner.append(f"last heartbeat {heard} ago")
    if inner:
        text += f" ({', '.join(inner)})"
    if cond.get("message"):
        text += f": {clean(cond.get('message'))}"
    return text


def _node_facts(view: ClusterView, node: dict) -> List[str]:
    lines = [_ready_line(view, node)]
    others = [c for c in (node.get("status") or {}).get("conditions") or []
              if c.get("type") != "Ready" and c.get("status") in ("True", "Unknown")
              and c.get("type") not in ("NetworkUnavailable",)]
    if others:
        lines.append("other conditions: " + ", ".join(
            f"{clean(c.get('type'))}={clean(c.get('status'))}" for c in others))
    taints = [t for t in (node.get("spec") or {}).get("taints") or [] if t.get("key") in NODE_TAINTS]
    if taints:
        lines.append("taints: " + ", ".join(f"{clean(t.get('key'))}:{clean(t.get('effect'))}" for t in taints))
    if (node.get("spec") or {}).get("unschedulable"):
        lines.append("the node is cordoned (spec.unschedulable)")
    return lines


def _why(node: dict) -> str:
    cond = ready_condition(node) or {}
    if cond.get("status") == "Unknown":
        return "its kubelet stopped reporting (node down, network cut, or kubelet stopped)"
    msg = (cond.get("message") or "").lower()
    if "cni" in msg or "network" in msg:
        return "its kubelet reports the pod network is not ready (CNI plugin)"
    if "runtime" in msg or "pleg" in msg:
        return "its kubelet reports the container runtime is not healthy"
    return "its kubelet reports it is not ready"


def _pods_on(view: ClusterView, name: str) -> List[dict]:
    on_node = view.group("Pod", None, "nodeName", lambda p: (p.get("spec") or {}).get("nodeName"))
    return [p for p in on_node.get(name, [])
            if (p.get("status") or {}).get("phase") not in ("Succeeded", "Failed")]


def _suggestions(node_name: str, stuck: Optional[dict]) -> List:
    n = shlex.quote(node_name)
    out = [fix(f"kubectl describe node {n}", "conditions, taints and the kubelet's last events"),
           fix(f"kubectl get pods -A -o wide --field-selector spec.nodeName={n}", "what runs (or ran) there")]
    if stuck is not None:
        out.append(fix(f"kubectl taint nodes {n} node.kubernetes.io/out-of-service=nodeshutdown:NoExecute",
                       "only once the node is known to be shut down: its pods are deleted and their volumes "
                       "detach, so they can start elsewhere"))
        out.append(fix(f"kubectl delete pod {shlex.quote(meta(stuck).get('name', ''))} -n "
                       f"{shlex.quote(meta(stuck).get('namespace') or 'default')} --grace-period=0 --force",
                       "a pod stuck Terminating on a dead node: only if its containers are surely stopped"))
    return out


def analyze_node(view: ClusterView, node: dict, plugin: str) -> List[Finding]:
    """NodeNotReady on the node itself, with the pods stuck on it."""
    if not not_ready(node):
        return []
    name = meta(node).get("name", "")
    pods = _pods_on(view, name)
    terminating = [p for p in pods if meta(p).get("deletionTimestamp")]
    cond = ready_condition(node) or {}
    since = age(cond.get("lastTransitionTime"), view.now)
    summary = (f"node {clean(name)} is not Ready{' since ' + since + ' ago' if since else ''}: {_why(node)}")
    if pods:
        summary += f"; {len(pods)} pod{'s' if len(pods) != 1 else ''} on it"
        if terminating:
            summary += f", {len(terminating)} stuck Terminating"
    evidence = _node_facts(view, node)
    if pods:
        shown = ", ".join(f"{clean(meta(p).get('namespace'))}/{clean(meta(p).get('name'))}" for p in pods[:6])
        evidence.append(f"pods on it: {shown}{' ...' if len(pods) > 6 else ''}")
    for ev in view.events_for(node, "Node")[-2:]:
        count = ev.get("count") or 1
        evidence.append(f"event {clean(ev.get('reason'))}" + (f" (x{count})" if int(count) > 1 else "")
                        + f": {clean(ev.get('message'))}")
    return [new_finding(plugin, "NodeNotReady", ObjectRef("Node", None, name), summary,
                        evidence=evidence,
                        suggestions=_suggestions(name, terminating[0] if terminating else None),
                        cause="NodeStatusUnknown" if cond.get("status") == "Unknown" else "KubeletNotReady",
                        details={"node": name, "pods": len(pods), "terminating": len(terminating)})]


def analyze(ctx: PodContext) -> List[Finding]:
    """NodeNotReady on a pod whose node is not Ready: the node is the cause of its state."""
    node_name = ctx.spec.get("nodeName")
    if not node_name or ctx.status.get("phase") in ("Succeeded", "Failed"):
        return []
    node = ctx.view.get("Node", None, node_name)
    if not not_ready(node):
        return []
    cond = ready_condition(node) or {}
    since = age(cond.get("lastTransitionTime"), ctx.view.now)
    terminating = bool(meta(ctx.pod).get("deletionTimestamp"))
    state = "stuck Terminating" if terminating else (
        "in an unknown state" if ctx.status.get("phase") == "Unknown" else "not serving")
    summary = (f"the pod is {state}: its node {clean(node_name)} is not Ready"
               f"{' since ' + since + ' ago' if since else ''}; {_why(node)}")
    evidence = _node_facts(ctx.view, node)
    for ev in ctx.events_where("NodeNotReady")[-1:]:
        evidence.append(ctx.describe_event(ev))
    if terminating:
        evidence.append(f"deletionTimestamp {clean(meta(ctx.pod).get('deletionTimestamp'))}: deleted, but the kubelet "
                        f"cannot confirm the containers stopped")
    return [ctx.finding("NodeNotReady", summary, evidence=evidence,
                        suggestions=_suggestions(node_name, ctx.pod if terminating else None),
                        cause="NodeStatusUnknown" if cond.get("status") == "Unknown" else "KubeletNotReady",
                        details={"node": node_name})]
