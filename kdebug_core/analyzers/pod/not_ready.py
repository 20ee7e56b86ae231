"""PodNotReady: running, not crashing, yet not ready — and no probe failure explains it.

What is left when the other analyzers have nothing to say about a pod that Services skip:
a readiness gate nobody sets (load-balancer controllers use them), or a container whose readiness
probe fails only in events that have already expired.
"""

from typing import List

from ...findings import Finding
from ...sanitize import clean
from ...timeutil import age
from ..base import PodContext


def analyze(ctx: PodContext) -> List[Finding]:
    if ctx.status.get("phase") != "Running" or (ctx.pod.get("metadata") or {}).get("deletionTimestamp"):
        return []
    ready = ctx.condition("Ready")
    if not ready or ready.get("status") != "False":
        return []
    app = list(ctx.containers(init=False))
    if any(c.waiting or c.terminated or c.restarts >= 3 for c in app):
        return []  # crash loops, pulls, config errors: their analyzers explain the pod
    if ctx.events_where("Unhealthy"):
        return []  # the probe analyzers explain it
    evidence = []
    since = age(ready.get("lastTransitionTime"), ctx.view.now)
    evidence.append(f"condition Ready=False{f' for {since}' if since else ''}: "
                    f"{clean(ready.get('reason') or '')} {clean(ready.get('message') or '')}".rstrip())
    unready = [c.name for c in app if not c.status.get("ready")]
    gates = [g.get("conditionType") for g in ctx.spec.get("readinessGates") or []]
    failing_gates = []
    for gate in gates:
        cond = ctx.condition(gate)
        if not cond or cond.get("status") != "True":
            failing_gates.append(gate)
            evidence.append(f"readiness gate {clean(gate)}: "
                            f"{(cond or {}).get('status', 'not set by any controller')}")
    if failing_gates and not unready:
        summary = (f"the pod is not ready because readiness gate {', '.join(map(clean, failing_gates))} "
                   f"is not True: the controller that owns it has not marked the pod ready")
    else:
        summary = (f"container{'s' if len(unready) != 1 else ''} {', '.join(unready) or '?'} "
                   f"running but not ready; no probe failure is on record (events expire after an hour)")
    suggestions = [f"kubectl probecheck {ctx.name} {ctx.ns_flag}",
                   f"kubectl describe pod {ctx.name} {ctx.ns_flag}"]
    return [ctx.finding("PodNotReady", summary, container=unready[0] if len(unready) == 1 else None,
                        evidence=evidence, suggestions=suggestions,
                        details={"unready": unready, "readinessGates": failing_gates})]
