"""EvictedMemoryPressure: the kubelet evicted the pod because its node was low on memory.

oomcheck's view of an eviction, built on evicted.py (why's Evicted), which reads the pod's status
(`phase: Failed`, `reason: Evicted`) and the eviction manager's message:

    The node was low on resource: memory. Threshold quantity: 100Mi, available: 91560Ki.
    Container app was using 1656148Ki, request is 64Mi, has larger consumption of memory.

(older kubelets: `Container app was using 1656148Ki, which exceeds its request of 64Mi.`). Only
memory evictions are oomcheck's; disk and PID evictions stay why's. The finding names the container
that used the most beyond its request and by how much, the node's MemoryPressure condition, and the
fix: a request that matches real use (the scheduler placed the pod by its request, so a request far
below use is what let the node run out) and a limit above it, so the container is held to its own
cgroup instead of pushing the node into eviction.

`kubectl why` reports the same pod once, as Evicted (which carries the same memory facts); this
analyzer is registered for oomcheck only.
"""

from typing import List, Optional

from ...findings import Finding
from ...quantity import format_bytes, memory_bytes
from ...sanitize import clean
from ...timeutil import age
from . import evicted
from ..base import PodContext
from .memory import fit_to_nodes, memory_resources, quantity_text, resource_commands, suggest_from_usage


def analyze(ctx: PodContext) -> List[Finding]:
    base = next((f for f in evicted.analyze(ctx) if f.reason == "Evicted"), None)
    if base is None or (base.details or {}).get("resource") != "memory":
        return []
    d = base.details
    node, name = d.get("node"), d.get("container")
    usage, request = d.get("usageBytes"), d.get("requestBytes")
    c = ctx.container(name) if name else None
    limit_raw, request_raw = memory_resources(c) if c else (None, None)
    limit = memory_bytes(limit_raw)
    on = f' from node "{clean(node)}"' if node else ""

    summary = f"pod was evicted{on} because the node ran low on memory"
    if name and usage is not None:
        over = usage - (request or 0)
        summary += (f"; container {clean(name)} used {format_bytes(usage)}, "
                    + (f"{format_bytes(over)} more than its {format_bytes(request)} request" if request
                       else "with no memory request (the scheduler counted it as 0)"))
    evidence = list(base.evidence)
    if c is not None:
        evidence.append(f"container {clean(name)}: memory limit {quantity_text(limit_raw)}, request "
                        f"{quantity_text(request_raw)}"
                        + ("; without a limit it grows until the node, not its own cgroup, runs out"
                           if not limit else ""))
    if not any("MemoryPressure" in e for e in evidence) and node:
        evidence.append(f"node {clean(node)}: no MemoryPressure condition in the data read "
                        f"(the node may have recovered since, or was not read)")

    suggestions = []
    details = dict(d)
    if name and usage:
        new_limit, new_request = suggest_from_usage(usage, limit, request, request_raw, limit_raw)
        new_limit, new_request, why = fit_to_nodes(ctx.view, new_limit, new_request)
        suggestions += resource_commands(ctx, name, new_limit, new_request, why)
        details.update(suggestedLimit=new_limit, suggestedLimitBytes=memory_bytes(new_limit),
                       suggestedRequest=new_request, suggestedRequestBytes=memory_bytes(new_request))
        if request is not None:
            details["overRequestBytes"] = usage - request
    suggestions += [s for s in base.suggestions if not s.startswith("kubectl set resources")
                    and "-o yaml >" not in s]
    details.update(limit=limit_raw, limitBytes=limit, request=request_raw,
                   lastKillAgo=_evicted_ago(ctx))
    return [ctx.finding("EvictedMemoryPressure", summary, container=name, evidence=evidence,
                        suggestions=suggestions, severity=base.severity, details=details)]


def _evicted_ago(ctx: PodContext) -> Optional[str]:
    """How long ago the eviction was: the Evicted event, else the pod's last container exit."""
    events = ctx.events_where("Evicted")
    if events:
        from ...view import event_time
        return age(event_time(events[-1]), ctx.view.now)
    times = [((c.terminated or {}).get("finishedAt")) for c in ctx.containers()]
    times = [t for t in times if t]
    if times:
        return age(max(times), ctx.view.now)
    cond = ctx.condition("Ready") or ctx.condition("DisruptionTarget")
    return age((cond or {}).get("lastTransitionTime"), ctx.view.now) if cond else None
