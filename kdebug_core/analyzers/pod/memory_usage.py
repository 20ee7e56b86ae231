"""MemoryNearLimit and NoMemoryLimit: memory limits against what the containers really use.

Usage comes from the metrics API, `metrics.k8s.io/v1beta1` PodMetrics — what `kubectl top pod
--containers` shows: each container's working set as metrics-server last read it from the kubelet
(`containers[].usage.memory`, e.g. `120388Ki`). The working set is what the kernel compares with
the limit, so a container at 90 % of its limit is one allocation spike away from an OOM kill.

The metrics API is optional: a cluster without metrics-server answers 404 (the live source then
gives no objects), a saved dump simply holds no PodMetrics, and an APIService whose backend is down
answers 503. In all three cases the run says so once and goes on without usage.

A container without a memory limit (NoMemoryLimit, info) can take the whole node: when the node
runs out, the kernel's OOM killer picks by oom_score_adj, highest first — BestEffort pods (1000),
then Burstable ones using much more than they requested. On a node that already had a node-level
OOM kill the finding is a warning. It is reported once per workload and container, not per replica.

Suggested values (`kubectl set resources`): a limit of the usage × 1.25 rounded up to a manifest
value (quantity.round_up_memory), a request of at least the usage, so the scheduler counts what
the container really needs.
"""

from typing import Dict, List, Tuple

from ...findings import Finding
from ...quantity import format_bytes, memory_bytes
from ...sanitize import clean
from ...timeutil import age
from ...view import ClusterView
from ..base import PodContext, fix
from .memory import (  # noqa: F401  (re-exported: the module's public helpers before the split)
    _metrics_list, container_usage, fit_to_nodes, memory_resources, pod_metrics, quantity_text,
    resource_commands, running_containers, suggest_from_usage)

NEAR = 0.9          # usage / limit at or above which a container is near its limit

NO_METRICS_LIVE = ("memory usage not known: the metrics API (metrics.k8s.io, served by metrics-server) "
                   "is not available, so limits were not compared with usage")
NO_METRICS_FILES = ("memory usage not known: the files hold no PodMetrics (save `kubectl get "
                    "pods.metrics.k8s.io -A -o json` with the dump to compare limits with usage)")


# ---- reading the metrics API ---------------------------------------------------------------------

def say_if_metrics_missing(view: ClusterView):
    """One note per run when the scope (a namespace, or all of them) holds no PodMetrics at all."""
    if _metrics_list(view, view.options.namespace) \
            or (not view.readable("PodMetrics") and view.served("PodMetrics")) \
            or any(n.startswith("memory usage not known") for n in view.notes):
        return
    view.note(NO_METRICS_FILES if view.offline else NO_METRICS_LIVE)


# ---- MemoryNearLimit -----------------------------------------------------------------------------

def analyze_for_why(ctx: PodContext) -> List[Finding]:
    """oomcheck's MemoryNearLimit, merged into `kubectl why` (a pod at 95 % of its limit is not
    "all healthy" there); why promises no usage figures, so it adds no note when metrics are absent."""
    return analyze(ctx, note_missing_metrics=False)


def analyze(ctx: PodContext, note_missing_metrics: bool = True) -> List[Finding]:
    if (ctx.status.get("phase") or "") != "Running":
        return []
    limited = [c for c in running_containers(ctx) if memory_bytes(memory_resources(c)[0])]
    if not limited and not note_missing_metrics:
        # No memory limit: nothing to be near. `why` then does not read the metrics API at all
        # (oomcheck still does, to say once when usage is unknown).
        return []
    metrics = pod_metrics(ctx.view, ctx.pod, optional=not note_missing_metrics)
    if metrics is None:
        if note_missing_metrics:
            say_if_metrics_missing(ctx.view)
        return []
    found = []
    for c in limited:
        usage = container_usage(ctx.view, ctx.pod, c.name)
        limit_raw, request_raw = memory_resources(c)
        limit = memory_bytes(limit_raw)
        if usage is None or not limit or usage < NEAR * limit:
            continue
        found.append(_near_limit(ctx, c, metrics, usage, limit_raw, limit, request_raw))
    return found


def _near_limit(ctx, c, metrics, usage, limit_raw, limit, request_raw) -> Finding:
    request = memory_bytes(request_raw)
    pct = round(usage * 100 / limit)
    new_limit, new_request = suggest_from_usage(usage, limit, request, request_raw, limit_raw,
                                                must_raise=True)
    new_limit, new_request, why = fit_to_nodes(ctx.view, new_limit, new_request)
    when = age(metrics.get("timestamp"), ctx.view.now)
    window = metrics.get("window")
    reading = f"metrics API: container {c.name} uses {format_bytes(usage)} of memory (working set"
    reading += f", {clean(window)} window" if window else ""
    reading += f", read {when} ago)" if when else ")"
    evidence = [reading,
                f"memory limit {quantity_text(limit_raw)}, request {quantity_text(request_raw)}: "
                f"{pct}% of the limit in use",
                "at the limit the kernel kills the container (OOMKilled, exit 137)"]
    if c.restarts:
        last = c.last_terminated or {}
        evidence.append(f"restarted {c.restarts} time{'' if c.restarts == 1 else 's'}"
                        + (f", last run ended with {clean(last.get('reason'))} (exit {last.get('exitCode')})"
                           if last.get("reason") else ""))
    summary = (f"container {c.name} uses {format_bytes(usage)} of its {quantity_text(limit_raw)} memory "
               f"limit ({pct}%): the next spike gets it OOM-killed")
    suggestions = resource_commands(ctx, c.name, new_limit, new_request, why)
    suggestions.append(f"kubectl top pod {ctx.name} {ctx.ns_flag} --containers")
    details = {"usageBytes": usage, "usagePercent": pct, "limit": limit_raw, "limitBytes": limit,
               "request": request_raw, "requestBytes": request, "restartCount": c.restarts,
               "metricsTimestamp": metrics.get("timestamp"),
               "suggestedLimit": new_limit, "suggestedLimitBytes": memory_bytes(new_limit),
               "suggestedRequest": new_request, "suggestedRequestBytes": memory_bytes(new_request)}
    return ctx.finding("MemoryNearLimit", summary, container=c.name, evidence=evidence,
                       suggestions=suggestions, details=details)


# ---- NoMemoryLimit (once per workload and container) ---------------------------------------------

def analyze_scope(view: ClusterView, pods: List[dict], plugin: str) -> List[Finding]:
    from .node_oom import nodes_with_system_oom

    groups: Dict[Tuple[str, str, str], List[PodContext]] = {}
    for pod in pods:
        phase = (pod.get("status") or {}).get("phase")
        if phase in ("Succeeded", "Failed"):
            continue
        ctx = PodContext(view=view, pod=pod, plugin=plugin, owner=view.top_owner(pod))
        for c in running_containers(ctx):
            if memory_bytes(memory_resources(c)[0]):
                continue
            groups.setdefault((ctx.namespace, ctx.workload(), c.name), []).append(ctx)
    if not groups:
        return []
    oom_nodes = nodes_with_system_oom(view, {(p.get("spec") or {}).get("nodeName") for p in pods} - {None})
    return [_no_limit(view, ctxs, container, oom_nodes)
            for (_ns, _workload, container), ctxs in groups.items()]


def _no_limit(view: ClusterView, ctxs: List[PodContext], container: str, oom_nodes: Dict[str, str]
              ) -> Finding:
    ctx = ctxs[0]
    c = ctx.container(container)
    _limit_raw, request_raw = memory_resources(c)
    request = memory_bytes(request_raw)
    usages = [u for u in (container_usage(view, x.pod, container) for x in ctxs) if u is not None]
    usage = max(usages) if usages else None
    qos = ctx.status.get("qosClass")
    many = len(ctxs) > 1
    owner = ctx.workload()
    who = (f"container {container} of {owner} ({len(ctxs)} pods)" if many and ctx.owned()
           else f"container {container}")
    summary = f"{who} has no memory limit: it can use the node's memory until the OOM killer steps in"
    evidence = [f"no resources.limits.memory; request {quantity_text(request_raw)}"
                + (f"; QoS class {clean(qos)}" if qos else "")]
    if qos == "BestEffort":
        evidence.append("BestEffort pods (no requests, no limits) are the node OOM killer's first victims")
    if usage is not None:
        evidence.append(f"metrics API: uses {format_bytes(usage)} now"
                        + (" (the most of its pods)" if len(usages) > 1 else ""))
    hit = sorted({oom_nodes[x.spec.get('nodeName')] for x in ctxs if x.spec.get("nodeName") in oom_nodes})
    evidence.extend(hit)
    if usage is not None:
        new_limit, new_request = suggest_from_usage(usage, None, request, request_raw)
        new_limit, new_request, why = fit_to_nodes(ctx.view, new_limit, new_request)
    else:
        why = None
        new_limit, new_request = "LIMIT", clean(request_raw) if request_raw else "REQUEST"
    suggestions = []
    if usage is None:
        suggestions.append(fix(f"kubectl top pod {ctx.name} {ctx.ns_flag} --containers",
                               "measure first: set LIMIT above the peak it needs"))
    suggestions += resource_commands(ctx, container, new_limit, new_request, why)
    details = {"pods": [x.name for x in ctxs], "request": request_raw, "requestBytes": request,
               "usageBytes": usage, "qosClass": qos,
               "suggestedLimit": None if new_limit == "LIMIT" else new_limit,
               "suggestedRequest": None if new_request == "REQUEST" else new_request}
    if hit:
        details["nodesWithSystemOOM"] = sorted({x.spec.get("nodeName") for x in ctxs
                                                if x.spec.get("nodeName") in oom_nodes})
    return ctx.finding("NoMemoryLimit", summary, container=container, evidence=evidence,
                       suggestions=suggestions, severity="warning" if hit else None, details=details)
