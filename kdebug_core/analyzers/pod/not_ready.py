"""PodNotReady: running, not crashing, yet not ready — and no probe failure explains it.

What is left when the other analyzers have nothing to say about a pod that Services skip:
a readiness gate nobody sets (load-balancer controllers use them), or a container whose readiness
probe fails only in events that have already expired.
"""

from typing import List, Optional

from ...findings import Finding
from ...sanitize import clean
from ...timeutil import age, parse_time
from ..base import PodContext
from .probe_config import Probe

# Seconds between the kubelet's probe result and the pod's Ready condition (its status sync).
STATUS_LAG = 2


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
    warming = _warming_up(ctx, [c for c in app if not c.status.get("ready")])
    if warming:
        return [warming]
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


def _warming_up(ctx: PodContext, unready) -> Optional[Finding]:
    """Not ready yet, not failing: every unready container started less than its readiness probe's
    first verdict ago (the first check comes 0-period s after initialDelaySeconds, ready after
    successThreshold passes), and no probe has failed. Seen on the test cluster's timeline: healthy
    pods (scenarios 15, 24) were PodNotReady warnings 1-2 s after their start, so a scan right after
    a rollout exited 1. Only where the clock is known (_clock_is_independent)."""
    if not unready or ctx.spec.get("readinessGates") or not _clock_is_independent(ctx):
        return None
    waits = []
    for c in unready:
        spec = next((s for s in ctx.spec.get("containers") or [] if s.get("name") == c.name), {})
        started = parse_time((c.state.get("running") or {}).get("startedAt"))
        if not isinstance(spec.get("readinessProbe"), dict) or started is None:
            return None
        p = Probe("readiness", spec["readinessProbe"])
        ready_by = p.initial_delay + p.period * p.success_threshold + p.timeout + STATUS_LAG
        running = (ctx.view.now - started).total_seconds()
        if running > ready_by:
            return None
        waits.append((c.name, int(running), ready_by, p))
    evidence = [f"container {name} started {running}s ago; its readiness probe passes at the earliest "
                f"after initialDelaySeconds {p.initial_delay}, then {p.success_threshold} check"
                f"{'s' if p.success_threshold != 1 else ''} every periodSeconds {p.period}: ready within about "
                f"{ready_by}s if the app answers" for name, running, ready_by, p in waits]
    names = ", ".join(w[0] for w in waits)
    return ctx.finding(
        "PodNotReady", f"starting: container{'s' if len(waits) != 1 else ''} {names} running, the readiness "
        f"probe has not passed yet and has not failed either: not ready yet, not broken",
        container=waits[0][0] if len(waits) == 1 else None, cause="Starting", severity="info",
        evidence=evidence, suggestions=[f"kubectl get pod {ctx.name} {ctx.ns_flag} -w"],
        details={"unready": [w[0] for w in waits]})


def _clock_is_independent(ctx: PodContext) -> bool:
    """Live, "now" is the clock. Offline it is the newest time in the input: only when something
    besides this pod and its events is newer (a node's heartbeat, another object's event) does it
    tell how long the pod has really run; a dump of the pod alone taken an hour later would make
    it look a second old."""
    if not ctx.view.offline:
        return True
    own = [ctx.status.get("startTime")]
    own += [c.get("lastTransitionTime") for c in ctx.status.get("conditions") or []]
    for group in ("containerStatuses", "initContainerStatuses"):
        for cs in ctx.status.get(group) or []:
            for st in list((cs.get("state") or {}).values()) + list((cs.get("lastState") or {}).values()):
                if isinstance(st, dict):
                    own += [st.get("startedAt"), st.get("finishedAt")]
    for ev in ctx.events():
        own += [ev.get("lastTimestamp"), ev.get("eventTime"), ev.get("firstTimestamp")]
    times = [t for t in map(parse_time, own) if t is not None]
    return bool(times) and ctx.view.now > max(times)
