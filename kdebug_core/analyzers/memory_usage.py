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

import shlex
from typing import Dict, List, Optional, Tuple

from ..errors import ClusterError
from ..findings import Finding
from ..quantity import format_bytes, memory_bytes, round_up_memory
from ..sanitize import clean
from ..timeutil import age
from ..view import ClusterView, meta
from .base import Container, PodContext, fix

NEAR = 0.9          # usage / limit at or above which a container is near its limit
HEADROOM = 1.25     # suggested limit = observed usage × HEADROOM, rounded up

NO_METRICS_LIVE = ("memory usage not known: the metrics API (metrics.k8s.io, served by metrics-server) "
                   "is not available, so limits were not compared with usage")
NO_METRICS_FILES = ("memory usage not known: the files hold no PodMetrics (save `kubectl get "
                    "pods.metrics.k8s.io -A -o json` with the dump to compare limits with usage)")


# ---- reading the metrics API ---------------------------------------------------------------------

def _metrics_list(view: ClusterView, namespace: str, optional: bool = False) -> List[dict]:
    try:
        return view.list("PodMetrics", namespace, optional=optional)
    except ClusterError as exc:
        if optional:
            view.prime("PodMetrics", namespace, [])
            return []
        # An APIService whose backend is down answers 503: not a reason to abandon the run.
        view.note(f"memory usage not known: the metrics API did not answer ({clean(str(exc))})")
        view.prime("PodMetrics", namespace, [])
        view.prime("PodMetrics", None, [])
        return []


def pod_metrics(view: ClusterView, pod: dict, optional: bool = False) -> Optional[dict]:
    """The PodMetrics object of a pod, or None (no metrics API, or no reading for this pod yet).
    `optional`: a metrics API that fails or is absent is not noted (see analyze_for_why)."""
    ns, name = meta(pod).get("namespace") or "default", meta(pod).get("name")
    return next((m for m in _metrics_list(view, ns, optional) if meta(m).get("name") == name), None)


def container_usage(view: ClusterView, pod: dict, container: str) -> Optional[int]:
    """Working-set bytes of one container from the metrics API, or None when unknown."""
    m = pod_metrics(view, pod)
    for c in (m or {}).get("containers") or []:
        if c.get("name") == container:
            return memory_bytes((c.get("usage") or {}).get("memory"))
    return None


def say_if_metrics_missing(view: ClusterView):
    """One note per run when the scope (a namespace, or all of them) holds no PodMetrics at all."""
    if _metrics_list(view, view.options.namespace) \
            or (not view.readable("PodMetrics") and view.served("PodMetrics")) \
            or any(n.startswith("memory usage not known") for n in view.notes):
        return
    view.note(NO_METRICS_FILES if view.offline else NO_METRICS_LIVE)


# ---- the container's resources -------------------------------------------------------------------

def memory_resources(c: Container) -> Tuple[Optional[str], Optional[str]]:
    """(limit, request) as written in the manifest, or None."""
    res = c.spec.get("resources") or {}
    limit = (res.get("limits") or {}).get("memory")
    request = (res.get("requests") or {}).get("memory")
    return (None if limit is None else str(limit), None if request is None else str(request))


def quantity_text(raw: Optional[str]) -> str:
    """`128Mi`; `129e6 (123Mi)` when the manifest's form is not the readable one."""
    if raw is None:
        return "none"
    n = memory_bytes(raw)
    if n is None:
        return f"{clean(raw)} (not a quantity)"
    readable = format_bytes(n)
    return clean(raw) if readable == raw else f"{clean(raw)} ({readable})"


def suggest_from_usage(usage: int, limit: Optional[int], request: Optional[int],
                       request_raw: Optional[str] = None, limit_raw: Optional[str] = None,
                       must_raise: bool = False) -> Tuple[str, str]:
    """(limit, request) to suggest from an observed usage.

    Limit: usage × 1.25 rounded up; a current limit that already leaves that headroom is kept as the
    manifest writes it, unless `must_raise` (the container is at its limit). Request: at least the
    usage (a request that already covers it is kept as written), never above the limit.
    """
    target = max(int(usage * HEADROOM), request or 0)
    if must_raise and limit:
        target = max(target, limit + 1)
    if limit and limit >= target and not must_raise:
        new_limit = clean(limit_raw) if limit_raw else _manifest(limit)
        new_limit_b = limit
    else:
        new_limit = round_up_memory(target)
        new_limit_b = memory_bytes(new_limit)
    if request and request >= usage:
        new_request = clean(request_raw) if request_raw else _manifest(request)
    else:
        new_request = round_up_memory(usage)
        if memory_bytes(new_request) > new_limit_b:
            new_request = new_limit
    return new_limit, new_request


def _manifest(n: int) -> str:
    from .oom_killed import mem_string
    return mem_string(n)


def running_containers(ctx: PodContext) -> List[Container]:
    """App containers and native sidecars: what runs for the life of the pod."""
    return [c for c in ctx.containers() if not c.init or c.sidecar]


def largest_node_memory(view: ClusterView) -> Optional[Tuple[int, str]]:
    """(allocatable bytes, node name) of the node with the most allocatable memory, if nodes were read.
    Nodes that take no ordinary pods (cordoned, or tainted NoSchedule/NoExecute like a control
    plane) count only when there is no other."""
    def ordinary(node: dict) -> bool:
        spec = node.get("spec") or {}
        return not spec.get("unschedulable") and not any(
            t.get("effect") in ("NoSchedule", "NoExecute") for t in spec.get("taints") or [])
    nodes = view.list("Node", None)
    best = None
    for node in [n for n in nodes if ordinary(n)] or nodes:
        n = memory_bytes(((node.get("status") or {}).get("allocatable") or {}).get("memory"))
        if n and (best is None or n > best[0]):
            best = (n, meta(node).get("name", ""))
    return best


def round_down_memory(n: float) -> str:
    """The largest manifest value not above n: 64Mi steps under 1Gi, 256Mi steps above."""
    mi, gi = 1024 ** 2, 1024 ** 3
    step = 256 * mi if n >= gi else 64 * mi
    value = max(int(n) // step * step, step)
    return f"{value // gi}Gi" if value % gi == 0 else f"{value // mi}Mi"


def fit_to_nodes(view: ClusterView, limit: str, request: str) -> Tuple[str, str, Optional[str]]:
    """(limit, request, why): a suggestion never asks for more memory than the largest node can
    give (its allocatable); the why says it was capped, or that no node can fit the container."""
    largest = largest_node_memory(view)
    limit_b, request_b = memory_bytes(limit), memory_bytes(request)
    if largest is None:
        return limit, request, None
    top, node = largest
    cap = round_down_memory(top)
    why = None
    if request_b is not None and request_b > top:
        why = (f"no node can fit it: it needs {format_bytes(request_b)} but the largest node ({node}) "
               f"has {format_bytes(top)} allocatable; add a bigger node or make it use less memory")
        request = cap
    if limit_b is not None and limit_b > top:
        why = why or (f"{limit} would not fit any node: capped at the largest node's allocatable memory "
                      f"({format_bytes(top)} on {node})")
        limit = cap
    return limit, request, why


def resource_commands(ctx: PodContext, container: str, limit: str, request: str,
                      why: Optional[str] = None) -> List[str]:
    """`kubectl set resources` on the owner, or get/replace where the template cannot change."""
    workload = ctx.workload()
    kind = workload.split("/")[0]
    values = f"--limits=memory={limit} --requests=memory={request}"
    if kind in ("job", "pod"):
        return [fix(f"kubectl get {workload} {ctx.ns_flag} -o yaml > {kind}.yaml",
                    f"in {kind}.yaml set container {container}'s resources.limits.memory: {limit} and "
                    f"resources.requests.memory: {request}, then run the next command"
                    + (f" ({why})" if why else "")),
                fix(f"kubectl replace --force -f {kind}.yaml", f"recreates the {kind} with the new memory")]
    return [fix(f"kubectl set resources {workload} {ctx.ns_flag} -c {shlex.quote(container)} {values}", why)]


# ---- MemoryNearLimit -----------------------------------------------------------------------------

def analyze_for_why(ctx: PodContext) -> List[Finding]:
    """oomcheck's MemoryNearLimit, merged into `kubectl why` (a pod at 95 % of its limit is not
    "all healthy" there); why promises no usage figures, so it adds no note when metrics are absent."""
    return analyze(ctx, note_missing_metrics=False)


def analyze(ctx: PodContext, note_missing_metrics: bool = True) -> List[Finding]:
    if (ctx.status.get("phase") or "") != "Running":
        return []
    metrics = pod_metrics(ctx.view, ctx.pod, optional=not note_missing_metrics)
    if metrics is None:
        if note_missing_metrics:
            say_if_metrics_missing(ctx.view)
        return []
    found = []
    for c in running_containers(ctx):
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
