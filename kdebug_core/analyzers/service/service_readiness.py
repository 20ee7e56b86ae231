"""EndpointsNotReady: pods match the Service, but they are not ready, so they get no traffic.

Readiness is read where kube-proxy reads it — the EndpointSlices' `conditions.ready`, else the v1
Endpoints' `notReadyAddresses`, else the pods' Ready condition — and each not-ready pod is then
explained by the same analyzers `kubectl why` runs on it, so the finding names the root cause
(a failing readiness probe with the kubelet's message, a crash loop, an image that cannot be
pulled...) rather than only "not ready".
"""

from collections import OrderedDict
from typing import Callable, List, Optional

from ...findings import Finding
from ...sanitize import clean
from ...view import meta
from ..base import status_line
from ..pod.pod_health import pod_summary
from .service_base import Endpoint, ServiceContext, is_pod_ready, kubectl_name, should_be_endpoint

MAX_PODS_SHOWN = 5
MAX_PODS_EXPLAINED = 5   # root causes are looked up for one pod per workload, this many at most


def analyze(view, service: dict, plugin: str,
            diagnose: Optional[Callable[[List[dict]], List[Finding]]] = None) -> List[Finding]:
    """EndpointsNotReady; with `diagnose` (the engine's pod diagnosis, passed in — never imported
    here), the root cause found on the not-ready pods goes under it as `related`."""
    ctx = ServiceContext(view, service, plugin)
    if ctx.type == "ExternalName" or ctx.spec.get("publishNotReadyAddresses"):
        return []
    eps = ctx.endpoints()
    # The namespace's pods by name, grouped once for the run (not rebuilt per Service).
    pods_by_name = ctx.view.group("Pod", ctx.namespace, "name", lambda p: meta(p).get("name"))
    not_ready: "OrderedDict[str, tuple]" = OrderedDict()   # key -> (pod or None, endpoint or None)
    for e in eps.not_ready:
        key = e.pod or e.address
        not_ready[key] = ((pods_by_name.get(e.pod) or [None])[-1] if e.pod else None, e)
    listed = {e.pod for e in eps.items if e.pod}
    for pod in ctx.pods():
        name = meta(pod).get("name")
        if name in listed or name in not_ready or meta(pod).get("deletionTimestamp"):
            continue
        if not should_be_endpoint(pod):
            if (pod.get("status") or {}).get("phase") == "Running" and is_pod_ready(pod):
                # Running and Ready: its IP was just not recorded (a describe paste, a thin
                # dump) — no evidence that it is missing from the endpoints (corpus 090, 097).
                continue
            # Pending without an IP, or finished: matched by the selector but not an endpoint.
            not_ready[name] = (pod, None)
    if not not_ready:
        return []

    ready = len(eps.ready)
    total = ready + len(not_ready)
    evidence = [_source_line(ctx, ready, total)]
    shown = list(not_ready.items())
    if sum(1 for _, (pod, _e) in shown if pod is not None) > 1:
        # Several pods to explain: one list of the namespace's events instead of one
        # field-selected list per pod (a scan has listed them already).
        ctx.view.list("Event", ctx.namespace)
    for key, (pod, endpoint) in shown[:MAX_PODS_SHOWN]:
        evidence.append(_pod_line(ctx, key, pod, endpoint))
    if len(shown) > MAX_PODS_SHOWN:
        evidence.append(f"… and {len(shown) - MAX_PODS_SHOWN} more not-ready endpoints")

    related, workloads, explained = [], [], set()
    seen_causes = set()
    for key, (pod, _e) in shown:
        if pod is None:
            continue
        wl = ctx.workload(pod)
        group = (wl.kind, wl.name) if wl else ("Pod", key)
        if wl and kubectl_name(wl) not in workloads:
            workloads.append(kubectl_name(wl))
        if group in explained or len(explained) >= MAX_PODS_EXPLAINED:
            continue
        explained.add(group)
        for f in _root_causes(diagnose, pod):
            sig = (f.reason, f.cause, f.container, group)
            if sig not in seen_causes:
                seen_causes.add(sig)
                related.append(f)

    first_pod = next((p for p, _ in not_ready.values() if p is not None), None)
    suggestions = [f"kubectl why {w} {ctx.ns_flag}" for w in workloads[:2]]
    if first_pod is not None:
        suggestions.append(f"kubectl describe pod {meta(first_pod).get('name')} {ctx.ns_flag}")
    suggestions.append(f"kubectl get endpointslices {ctx.ns_flag} -l kubernetes.io/service-name={ctx.name} -o wide")

    causes = sorted({f.reason for f in related})
    because = f" ({', '.join(causes)})" if causes else ""
    if ready == 0:
        summary = (f'service "{ctx.name}" has no ready endpoints: {_count(total)} '
                   f'{"is" if total == 1 else "are"} not ready{because}, so it sends traffic nowhere')
        severity = "error"
    else:
        summary = (f'{len(not_ready)} of {total} endpoints of service "{ctx.name}" '
                   f'{"is" if len(not_ready) == 1 else "are"} not ready{because}: traffic goes to '
                   f'the other {ready} only')
        severity = "warning"
    return [ctx.finding(
        "EndpointsNotReady", summary, evidence=evidence, suggestions=suggestions,
        owner=ctx.workload(first_pod) if first_pod is not None else None, severity=severity,
        related=related,
        details={"ready": ready, "total": total, "source": ctx.endpoints().source,
                 "notReady": [k for k in not_ready]})]


def _count(n: int) -> str:
    return "the only matching pod" if n == 1 else f"all {n} matching pods"


def _source_line(ctx: ServiceContext, ready: int, total: int) -> str:
    eps = ctx.endpoints()
    return f"{eps.describe_source()}: {ready}/{total} endpoints ready"


def _pod_line(ctx: ServiceContext, key: str, pod: Optional[dict], endpoint: Optional[Endpoint]) -> str:
    if pod is None:
        return f"endpoint {clean(key)}: not ready" + (f" (address {endpoint.address})" if endpoint else "")
    pctx = ctx.pod_context(pod)
    parts = [pod_summary(pod)]
    status = pod.get("status") or {}
    if endpoint is None:
        phase = status.get("phase")
        parts.append("finished, not an endpoint" if phase in ("Succeeded", "Failed")
                     else "no pod IP yet, not an endpoint")
    cond = pctx.condition("Ready") or {}
    if cond.get("status") == "False" and cond.get("message"):
        parts.append(f"Ready=False ({cond.get('reason', '')}: {cond.get('message')})")
    for c in pctx.containers(init=None):
        if c.init and not c.sidecar and not c.waiting:
            continue
        line = status_line(c)
        if line:
            parts.append(line)
            break
    probes = pctx.events_where("Unhealthy", contains="Readiness probe")
    if probes:
        parts.append(pctx.describe_event(probes[-1]))
    return f"pod {clean(meta(pod).get('name', ''))}: " + clean(" — ".join(parts))


def _root_causes(diagnose, pod: dict) -> List[Finding]:
    """What `kubectl why` says about the pod, errors and warnings only."""
    if diagnose is None:
        return []
    return [f for f in diagnose([pod]) if f.rank >= 1]
