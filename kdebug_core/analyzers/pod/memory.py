"""Memory helpers shared by the memory analyzers (oom_killed, memory_usage, memory_pressure,
node_oom, not_oom, evicted): the metrics API's readings, a container's limit and request, manifest
quantities, and the limits kdebug suggests (never above the largest node's allocatable memory).

It sits below those analyzers and imports none of them, so they no longer import each other.
"""

import shlex
from typing import List, Optional, Tuple

from ...errors import ClusterError
from ...quantity import GI, MI, format_bytes, memory_bytes, round_up_memory
from ...sanitize import clean
from ...view import ClusterView, meta
from ..base import Container, PodContext, fix

HEADROOM = 1.25     # suggested limit = observed usage × HEADROOM, rounded up


def _metrics_list(view: ClusterView, namespace: str, optional: bool = False) -> List[dict]:
    try:
        return view.list("PodMetrics", namespace, optional=optional)
    except ClusterError as exc:  # a source that raises it for an unusable metrics API
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


def mem_string(n: int) -> str:
    """Bytes as a manifest would write them: `256Mi`, `2Gi`, else the plain number."""
    n = int(n)
    if n and n % GI == 0:
        return f"{n // GI}Gi"
    if n and n % MI == 0:
        return f"{n // MI}Mi"
    return str(n)


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
