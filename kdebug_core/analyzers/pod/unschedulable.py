"""Unschedulable: no node can take the pod, so it stays Pending.

Detected from status first (events expire after an hour): the pod is Pending without a node and
its PodScheduled condition is False with reason Unschedulable; the scheduler's `FailedScheduling`
events carry the same message (and a count) while they last.

The scheduler's message is a histogram of why each node was filtered out
(pkg/scheduler/framework/types.go, FitError.Error):

    0/3 nodes are available: 1 node(s) had untolerated taint {node-role.kubernetes.io/control-plane: },
    2 Insufficient memory. preemption: 0/3 nodes are available: 1 Preemption is not helpful for
    scheduling, 2 No preemption victims found for incoming pod..

A PreFilter failure (a missing or unbound PersistentVolumeClaim) replaces the histogram with one
sentence that holds for every node. The reasons are the filter plugins' texts, which moved between
releases (`had taint {k: v}, that the pod didn't tolerate` → `had untolerated taint {k: v}` →
`had untolerated taint(s)`; `didn't match node selector` → `didn't match Pod's node affinity` →
`didn't match Pod's node affinity/selector`); each is mapped to a short kdebug cause. When Node
objects are readable the diagnosis adds what the nodes offer: allocatable cpu/memory, taints,
cordons, the labels the pod selects on.
"""

import re
from decimal import Decimal
from typing import Dict, List, Optional, Tuple

from ... import quantity
from ...findings import Finding
from ...sanitize import clean
from ...timeutil import age
from ...view import meta
from ..base import PodContext, fix, is_true, pick_condition, quote

# ---- the scheduler's message ---------------------------------------------------------------------

_AVAILABLE = re.compile(r"(?:(\d+)/(\d+) )?nodes are available(?: that match all of the "
                        r"(?:following )?predicates)?:+\s*", re.I)
# What follows the filter histogram: DRA's note and the preemption attempt's own histogram.
_TAIL = re.compile(r"\.?\s*(?:no new claims to deallocate,?\s*)?preemption:.*$|"
                   r"\.?\s+no new claims to deallocate.*$", re.I | re.S)
_COUNTED = re.compile(r"^(\d+)\s+(.+)$", re.S)
_COUNTED_OLD = re.compile(r"^(.+?)\s+\((\d+)\)$", re.S)  # `Insufficient cpu (3)` (k8s <= 1.8)
_TAINT = re.compile(r"\{([^:{}]+):\s?([^{}]*)\}")

# Filter-plugin texts → kdebug causes. First match wins, so the specific come first.
_RULES: List[Tuple[str, "re.Pattern"]] = [
    ("PVCNotFound", re.compile(r'persistentvolumeclaim "[^"]+" not found', re.I)),
    ("UnboundPVC", re.compile(r"unbound immediate PersistentVolumeClaims|"
                              r"didn't find available persistent volumes to bind|"
                              r"bound to non-existent (?:pv|persistent volume)|"
                              r"persistentvolumeclaim \"[^\"]+\" is being deleted|"
                              r"did not have enough free storage", re.I)),
    ("VolumeNodeAffinityConflict", re.compile(r"volume node affinity conflict|"
                                              r"NoVolumeZoneConflict|volume zone conflict", re.I)),
    ("VolumeLimit", re.compile(r"max volume count|exceed max volume|had no available disk", re.I)),
    ("TooManyPods", re.compile(r"^Too many pods$|^Insufficient pods$", re.I)),
    ("Insufficient", re.compile(r"^Insufficient (\S+)$", re.I)),
    ("UntoleratedTaint", re.compile(r"untolerated taint|had taints? .*didn't tolerate|"
                                    r"PodToleratesNodeTaints", re.I)),
    ("NodeUnschedulable", re.compile(r"were unschedulable|CheckNodeUnschedulable", re.I)),
    ("NodeSelectorMismatch", re.compile(r"didn't match (?:Pod's )?node (?:affinity|selector)|"
                                        r"scheduler-enforced node affinity|MatchNodeSelector",
                                        re.I)),
    ("NodeNameMismatch", re.compile(r"didn't match the requested (?:node name|hostname)|"
                                    r"^HostName$", re.I)),
    ("PodAffinity", re.compile(r"pod affinity/anti-affinity|didn't match pod affinity rules|"
                               r"MatchInterPodAffinity", re.I)),
    ("PodAntiAffinity", re.compile(r"anti-affinity", re.I)),
    ("TopologySpread", re.compile(r"topology spread", re.I)),
    ("HostPortConflict", re.compile(r"free ports|PodFitsHostPorts", re.I)),
    ("NodeNotReady", re.compile(r"not ready|unknown conditions|memory pressure|disk pressure|"
                                r"pid pressure|out of disk|network unavailable", re.I)),
]

_INSUFFICIENT = {"cpu": "InsufficientCPU", "memory": "InsufficientMemory",
                 "ephemeral-storage": "InsufficientEphemeralStorage", "pods": "TooManyPods"}

# Which cause leads when several rule out the same number of nodes: the one whose fix matters.
_PRIORITY = ["PVCNotFound", "UnboundPVC", "InsufficientMemory", "InsufficientCPU",
             "InsufficientResource", "InsufficientEphemeralStorage", "TooManyPods",
             "NodeSelectorMismatch", "NodeUnschedulable", "UntoleratedTaint", "PodAntiAffinity",
             "PodAffinity", "TopologySpread", "HostPortConflict", "VolumeNodeAffinityConflict",
             "VolumeLimit", "NodeNameMismatch", "NodeNotReady", "Other"]

# Taints that keep ordinary pods off on purpose: a reason, but never the one to "fix".
_EXPECTED_TAINTS = ("node-role.kubernetes.io/control-plane", "node-role.kubernetes.io/master")


def parse_message(message: str) -> Tuple[Optional[int], List[Dict]]:
    """The scheduler's message as (number of nodes, [{cause, nodes, text, ...}]).

    `nodes` is how many nodes a reason ruled out; a PreFilter sentence (no count) holds for all.
    """
    text = (message or "").strip()
    m = _AVAILABLE.search(text)
    total = int(m.group(2)) if m and m.group(2) else None
    body = text[m.end():] if m else text
    body = _TAIL.sub("", body).strip().rstrip(".").strip()
    if not body:
        return total, []
    if re.search(r"\(\d+\)(?:,|$)", body):
        parts = re.split(r"(?<=\)),\s+", body)
    else:
        parts = re.split(r",\s+(?=\d+\s)", body)
    causes = []
    for part in parts:
        part = part.strip().rstrip(".")
        if not part:
            continue
        nodes: Optional[int] = total
        counted = _COUNTED.match(part)
        old = _COUNTED_OLD.match(part) if not counted else None
        if counted:
            nodes, part = int(counted.group(1)), counted.group(2).strip()
        elif old:
            part, nodes = old.group(1).strip(), int(old.group(2))
        causes.append(_classify(part, nodes))
    return total, causes


def _classify(text: str, nodes: Optional[int]) -> Dict:
    entry: Dict = {"cause": "Other", "nodes": nodes, "text": text}
    for cause, pattern in _RULES:
        m = pattern.search(text)
        if not m:
            continue
        if cause == "Insufficient":
            resource = m.group(1)
            entry["resource"] = resource
            cause = _INSUFFICIENT.get(resource, "InsufficientResource")
        elif cause == "UntoleratedTaint":
            t = _TAINT.search(text)
            if t:
                entry["taint"] = {"key": t.group(1).strip(), "value": t.group(2).strip()}
        elif cause == "PVCNotFound":
            entry["claim"] = re.search(r'persistentvolumeclaim "([^"]+)"', text).group(1)
        entry["cause"] = cause
        break
    return entry


def dominant(causes: List[Dict]) -> Optional[Dict]:
    """The cause that rules out most nodes; ties go to the one whose fix matters most."""
    if not causes:
        return None

    def key(c):
        expected = c["cause"] == "UntoleratedTaint" and _expected_taint(c)
        rank = _PRIORITY.index(c["cause"]) if c["cause"] in _PRIORITY else len(_PRIORITY)
        return (-(c["nodes"] or 0), expected, rank)
    return sorted(causes, key=key)[0]


def _expected_taint(c: Dict) -> bool:
    return (c.get("taint") or {}).get("key") in _EXPECTED_TAINTS


# ---- what the pod asks for -----------------------------------------------------------------------

def _requests_of(container: dict) -> Dict[str, Decimal]:
    out = {}
    for name, value in ((container.get("resources") or {}).get("requests") or {}).items():
        q = quantity.parse(value)
        if q is not None:
            out[name] = q
    # A container with limits but no requests gets requests equal to its limits.
    for name, value in ((container.get("resources") or {}).get("limits") or {}).items():
        if name not in out:
            q = quantity.parse(value)
            if q is not None:
                out[name] = q
    return out


def pod_requests(spec: dict) -> Dict[str, Decimal]:
    """The effective request the scheduler uses: the app containers (and native sidecars) summed,
    or the largest init container (plus the sidecars started before it) if that is more, plus the
    pod overhead."""
    total: Dict[str, Decimal] = {}
    sidecars: Dict[str, Decimal] = {}
    init_peak: Dict[str, Decimal] = {}
    for c in spec.get("initContainers") or []:
        req = _requests_of(c)
        if c.get("restartPolicy") == "Always":
            for k, v in req.items():
                sidecars[k] = sidecars.get(k, Decimal(0)) + v
            continue
        for k in set(req) | set(sidecars):
            need = req.get(k, Decimal(0)) + sidecars.get(k, Decimal(0))
            init_peak[k] = max(init_peak.get(k, Decimal(0)), need)
    for c in spec.get("containers") or []:
        for k, v in _requests_of(c).items():
            total[k] = total.get(k, Decimal(0)) + v
    for k, v in sidecars.items():
        total[k] = total.get(k, Decimal(0)) + v
    for k, v in init_peak.items():
        total[k] = max(total.get(k, Decimal(0)), v)
    for k, v in (spec.get("overhead") or {}).items():
        q = quantity.parse(v)
        if q is not None:
            total[k] = total.get(k, Decimal(0)) + q
    return total


def _fmt(resource: str, value) -> str:
    if value is None:
        return "?"
    if resource == "cpu":
        return quantity.format_cpu(str(value))
    if resource in ("memory", "ephemeral-storage") or resource.startswith("hugepages-"):
        return quantity.format_bytes(value)
    return f"{Decimal(value).normalize():f}"


# ---- nodes ---------------------------------------------------------------------------------------

def _tolerates(tolerations: List[dict], taint: dict) -> bool:
    for t in tolerations or []:
        if t.get("effect") and t.get("effect") != taint.get("effect"):
            continue
        if t.get("operator") == "Exists":
            if not t.get("key") or t.get("key") == taint.get("key"):
                return True
        elif t.get("key") == taint.get("key") and (t.get("value") or "") == (taint.get("value") or ""):
            return True
    return False


def _blocking_taints(node: dict, tolerations: List[dict]) -> List[dict]:
    taints = (node.get("spec") or {}).get("taints") or []
    return [t for t in taints if t.get("effect") in ("NoSchedule", "NoExecute")
            and not _tolerates(tolerations, t)]


def _taint_str(t: dict) -> str:
    value = t.get("value")
    return f"{t.get('key')}{'=' + value if value else ''}:{t.get('effect')}"


def _alloc(node: dict, resource: str) -> Optional[Decimal]:
    return quantity.parse(((node.get("status") or {}).get("allocatable") or {}).get(resource))


def _required_affinity(spec: dict) -> List[str]:
    """The pod's required node affinity terms in words: `zone In [a, b]`."""
    required = (((spec.get("affinity") or {}).get("nodeAffinity") or {})
                .get("requiredDuringSchedulingIgnoredDuringExecution") or {})
    terms = []
    for term in required.get("nodeSelectorTerms") or []:
        exprs = []
        for e in (term.get("matchExpressions") or []) + (term.get("matchFields") or []):
            values = e.get("values") or []
            exprs.append(f"{e.get('key')} {e.get('operator')}"
                         + (f" [{', '.join(str(v) for v in values)}]" if values else ""))
        if exprs:
            terms.append(" and ".join(exprs))
    return terms


# ---- words ---------------------------------------------------------------------------------------

def _nodes(n: Optional[int], singular: str, plural: str) -> str:
    if n is None:
        return f"nodes {plural}"
    return f"{n} node {singular}" if n == 1 else f"{n} nodes {plural}"


def _phrase(c: Dict, requests: Dict[str, Decimal], spec: dict) -> str:
    cause, n = c["cause"], c["nodes"]
    if cause in ("InsufficientMemory", "InsufficientCPU", "InsufficientEphemeralStorage",
                 "InsufficientResource"):
        resource = c.get("resource", "")
        what = {"cpu": "CPU"}.get(resource, resource)
        req = requests.get(resource)
        if not req:
            tail = ""
        elif resource == "cpu":
            tail = f" for its {_fmt(resource, req)} CPU request"
        elif resource in ("memory", "ephemeral-storage"):
            tail = f" for its {_fmt(resource, req)} request"
        else:
            tail = f" (it requests {_fmt(resource, req)})"
        return _nodes(n, f"lacks {what}", f"lack {what}") + tail
    if cause == "TooManyPods":
        return _nodes(n, "already runs its maximum number of pods",
                      "already run their maximum number of pods")
    if cause == "UntoleratedTaint":
        taint = c.get("taint")
        which = f" ({clean(taint['key'])}{'=' + clean(taint['value']) if taint.get('value') else ''})" \
            if taint else ""
        return _nodes(n, f"has a taint{which} it does not tolerate",
                      f"have a taint{which} it does not tolerate")
    if cause == "NodeSelectorMismatch":
        sel = spec.get("nodeSelector") or {}
        which = (" " + clean(", ".join(f"{k}={v}" for k, v in sel.items()))) if sel else ""
        what = f"its nodeSelector{which}" if sel else "its node affinity"
        return _nodes(n, f"does not match {what}", f"do not match {what}")
    if cause == "NodeUnschedulable":
        return _nodes(n, "is cordoned (unschedulable)", "are cordoned (unschedulable)")
    if cause == "PVCNotFound":
        return f'its PersistentVolumeClaim "{clean(c.get("claim"))}" does not exist'
    if cause == "UnboundPVC":
        claim = f' "{clean(c["claim"])}"' if c.get("claim") else ""
        return f"its PersistentVolumeClaim{claim} is not bound to a volume"
    if cause == "PodAffinity":
        return _nodes(n, "does not satisfy its pod affinity", "do not satisfy its pod affinity")
    if cause == "PodAntiAffinity":
        return _nodes(n, "conflicts with pod anti-affinity rules", "conflict with pod anti-affinity rules")
    if cause == "TopologySpread":
        return _nodes(n, "would break its topology spread constraints",
                      "would break its topology spread constraints")
    if cause == "HostPortConflict":
        return _nodes(n, "already uses its hostPort", "already use its hostPort")
    if cause == "VolumeNodeAffinityConflict":
        return _nodes(n, "cannot reach its volume (volume node affinity)",
                      "cannot reach its volume (volume node affinity)")
    if cause == "VolumeLimit":
        return _nodes(n, "has no room for another volume", "have no room for another volume")
    if cause == "NodeNameMismatch":
        return _nodes(n, "is not the node it names", "are not the node it names")
    if cause == "NodeNotReady":
        return _nodes(n, "is not ready", "are not ready")
    return (f"{n} node: " if n == 1 else f"{n} nodes: " if n else "") + clean(c["text"])


# ---- the analyzer --------------------------------------------------------------------------------

def analyze(ctx: PodContext) -> List[Finding]:
    if (ctx.status.get("phase") or "Pending") != "Pending":
        return []
    cond = ctx.condition("PodScheduled") or {}
    # "Not True" rather than "False": Unknown, or a status rebuilt from a paste, counts too.
    not_scheduled = bool(cond) and not is_true(cond)
    if not_scheduled and cond.get("reason") == "SchedulingGated":
        return [_gated(ctx, cond)]
    unschedulable = not_scheduled and cond.get("reason") == "Unschedulable"
    events = ctx.events_where("FailedScheduling")
    if not unschedulable and not events:
        return []
    if is_true(cond) or ctx.scheduled():
        return []  # bound since (any sign of a node): the old FailedScheduling events are history
    message = (cond.get("message") if unschedulable else "") or (events[-1].get("message") if events else "")
    return [_unschedulable(ctx, message, cond if unschedulable else None, events)]


def _gated(ctx: PodContext, cond: dict) -> Finding:
    gates = [g.get("name") for g in ctx.spec.get("schedulingGates") or [] if g.get("name")]
    summary = "the scheduler is not trying yet: the pod is held by scheduling gates"
    if gates:
        summary += " " + ", ".join(f'"{clean(g)}"' for g in gates)
    return ctx.finding(
        "Unschedulable", summary,
        cause="SchedulingGated", severity="warning",
        evidence=["condition PodScheduled=False (SchedulingGated)"
                  + (f": {clean(cond.get('message'))}" if cond.get("message") else "")],
        suggestions=[fix(f"kubectl get pod {quote(ctx.name)} {ctx.ns_flag} -o jsonpath='{{.spec.schedulingGates}}'",
                         "the controller that added the gate removes it when ready")],
        details={"causes": [{"cause": "SchedulingGated", "nodes": None, "text": ", ".join(gates)}]})


def _unschedulable(ctx: PodContext, message: str, cond: Optional[dict], events: List[dict]) -> Finding:
    total, causes = parse_message(message)
    for c in causes:
        if c["cause"] == "UnboundPVC" and not c.get("claim"):
            unbound = _unbound_claims(ctx)
            if len(unbound) == 1:
                c["claim"] = unbound[0]
    top = dominant(causes)
    requests = pod_requests(ctx.spec)
    nodes = sorted(ctx.view.list("Node"), key=lambda n: meta(n).get("name", ""))
    tolerations = ctx.spec.get("tolerations") or []

    # Summary: every cause, the biggest first.
    ordered = sorted(causes, key=lambda c: (-(c["nodes"] or 0), _PRIORITY.index(c["cause"])
                                            if c["cause"] in _PRIORITY else 99))
    if ordered:
        summary = "no node can run the pod: " + ", ".join(_phrase(c, requests, ctx.spec) for c in ordered)
    elif total == 0 or re.search(r"no nodes available", message or "", re.I):
        summary = "no node can run the pod: the cluster has no nodes the scheduler can use"
    else:
        summary = "no node can run the pod" + (f": {clean(message)}" if message else "")

    # Evidence: what the scheduler said, what the pod asks for, what the nodes offer.
    evidence = []
    if events:
        evidence.append(ctx.describe_event(events[-1]))
    elif cond:
        since = age(cond.get("lastTransitionTime"), ctx.view.now)
        evidence.append(f"condition PodScheduled=False (Unschedulable{' for ' + since if since else ''}): "
                        f"{clean(message)}")
    if requests:
        shown = [f"{r} {_fmt(r, v)}" for r, v in sorted(requests.items())]
        evidence.append("pod requests " + ", ".join(shown))
    else:
        evidence.append("pod requests no cpu or memory")
    sel = ctx.spec.get("nodeSelector") or {}
    affinity = _required_affinity(ctx.spec)
    present = {c["cause"] for c in causes}
    if sel and (present & {"NodeSelectorMismatch"} or not causes):
        evidence.append("nodeSelector " + ", ".join(f"{k}={v}" for k, v in sel.items()))
    if affinity and "NodeSelectorMismatch" in present:
        evidence.append("required node affinity: " + " or ".join(affinity))
    evidence += _node_evidence(nodes, present, sel, tolerations)
    largest = _largest_fit(ctx, nodes, present, requests, tolerations)
    evidence += [line for line, _node, _res in largest]
    if present & {"PVCNotFound", "UnboundPVC"}:
        evidence += _pvc_evidence(ctx, causes)

    suggestions = _suggestions(ctx, causes, top, requests, nodes, largest)
    details = {"causes": [{"cause": c["cause"], "nodes": c["nodes"], "text": c["text"]} for c in causes],
               "nodes": total,
               "requests": {r: _fmt(r, v) for r, v in requests.items()}}
    if message:
        details["message"] = message
    return ctx.finding("Unschedulable", summary, cause=top["cause"] if top else "Other",
                       evidence=[e for e in evidence if e], suggestions=suggestions, details=details)


def _node_evidence(nodes: List[dict], present: set, selector: dict, tolerations: List[dict]) -> List[str]:
    lines = []
    for node in nodes[:6]:
        name = meta(node).get("name", "?")
        bits = []
        cpu, mem = _alloc(node, "cpu"), _alloc(node, "memory")
        if cpu is not None or mem is not None:
            bits.append(f"allocatable cpu {_fmt('cpu', cpu)}, memory {_fmt('memory', mem)}")
        if (node.get("spec") or {}).get("unschedulable"):
            bits.append("cordoned (unschedulable)")
        blocking = [t for t in _blocking_taints(node, tolerations)
                    if t.get("key") != "node.kubernetes.io/unschedulable"]  # said as "cordoned"
        if blocking:
            bits.append("taints " + ", ".join(_taint_str(t) for t in blocking))
        if selector and "NodeSelectorMismatch" in present:
            labels = meta(node).get("labels") or {}
            shown = [f"{k}={labels[k]}" if k in labels else f"no {k} label" for k in selector]
            bits.append("labels: " + ", ".join(shown))
        ready = pick_condition((node.get("status") or {}).get("conditions"), "Ready")
        if ready and not is_true(ready):
            bits.append(f"not Ready ({ready.get('reason', '?')})")
        lines.append(f"{clean(name)}: " + "; ".join(bits) if bits else None)
    if len(nodes) > 6:
        lines.append(f"... and {len(nodes) - 6} more nodes")
    return lines


def _usable(node: dict, tolerations: List[dict]) -> bool:
    return not (node.get("spec") or {}).get("unschedulable") and not _blocking_taints(node, tolerations)


def _largest_fit(ctx, nodes, present, requests, tolerations) -> List[Tuple[str, dict, str]]:
    """For each resource the scheduler found short: the request vs the largest usable node."""
    out = []
    wanted = {"InsufficientMemory": "memory", "InsufficientCPU": "cpu",
              "InsufficientEphemeralStorage": "ephemeral-storage"}
    for cause, resource in wanted.items():
        if cause not in present or resource not in requests:
            continue
        candidates = [n for n in nodes if _usable(n, tolerations) and _alloc(n, resource) is not None] \
            or [n for n in nodes if _alloc(n, resource) is not None]
        if not candidates:
            continue
        big = max(candidates, key=lambda n: _alloc(n, resource))
        have, want = _alloc(big, resource), requests[resource]
        name = clean(meta(big).get("name"))
        if want > have:
            line = (f"requests {_fmt(resource, want)} {resource}; the largest node ({name}) has "
                    f"{_fmt(resource, have)} allocatable: no node is big enough")
        else:
            line = (f"requests {_fmt(resource, want)} {resource}; the largest node ({name}) has "
                    f"{_fmt(resource, have)} allocatable, but other pods' requests already use it")
        out.append((line, big, resource))
    return out


def _claims(ctx: PodContext) -> List[str]:
    return [(v.get("persistentVolumeClaim") or {}).get("claimName")
            for v in ctx.spec.get("volumes") or [] if (v.get("persistentVolumeClaim") or {}).get("claimName")]


def _unbound_claims(ctx: PodContext) -> List[str]:
    out = []
    for claim in _claims(ctx):
        pvc = ctx.view.get("PersistentVolumeClaim", ctx.namespace, claim)
        if pvc is not None and (pvc.get("status") or {}).get("phase") != "Bound":
            out.append(claim)
    return out


def _pvc_evidence(ctx: PodContext, causes: List[Dict]) -> List[str]:
    lines = []
    for claim in _claims(ctx)[:4]:
        pvc = ctx.view.get("PersistentVolumeClaim", ctx.namespace, claim)
        if pvc is None:
            if ctx.view.readable("PersistentVolumeClaim") and any(
                    c["cause"] == "PVCNotFound" and c.get("claim") == claim for c in causes):
                lines.append(f'persistentvolumeclaim "{clean(claim)}" does not exist in namespace '
                             f"{clean(ctx.namespace)}")
            continue
        phase = (pvc.get("status") or {}).get("phase") or "?"
        sc = (pvc.get("spec") or {}).get("storageClassName")
        line = f'persistentvolumeclaim "{clean(claim)}" is {clean(phase)}'
        line += f' (storageClassName "{clean(sc)}")' if sc else " (no storageClassName)"
        lines.append(line)
        if phase != "Bound":
            for ev in ctx.view.events_for(pvc, "PersistentVolumeClaim")[-1:]:
                lines.append(ctx.describe_event(ev))
    return lines


# ---- suggestions ---------------------------------------------------------------------------------

def _round_down_memory(n: Decimal) -> str:
    mi = quantity.MI
    step = 256 * mi if n >= quantity.GI else 64 * mi
    value = max(int(n) // step * step, step)
    return f"{value // quantity.GI}Gi" if value % quantity.GI == 0 else f"{value // mi}Mi"


def _round_down_cpu(n: Decimal) -> str:
    milli = max(int(n * 1000) // 100 * 100, 100)
    return f"{milli // 1000}" if milli % 1000 == 0 else f"{milli}m"


def _biggest_container(spec: dict, resource: str) -> Tuple[Optional[str], Decimal]:
    best, value = None, Decimal(0)
    for c in spec.get("containers") or []:
        v = _requests_of(c).get(resource, Decimal(0))
        if best is None or v > value:
            best, value = c.get("name"), v
    return best, value


def _suggestions(ctx, causes, top, requests, nodes, largest) -> List[str]:
    out: List[str] = []
    present = {c["cause"] for c in causes}
    workload = ctx.workload()
    ordered = [top] + [c for c in causes if c is not top] if top else []
    done = set()
    for c in ordered:
        cause = c["cause"]
        if cause in done:
            continue
        done.add(cause)
        if cause == "UntoleratedTaint" and _expected_taint(c) and len(present) > 1:
            continue  # the control plane keeps workloads off by design; the other causes matter
        out += _fix_for(ctx, cause, c, requests, nodes, largest, workload)
    seen, unique = set(), []
    for s in out:
        if s not in seen:
            seen.add(s)
            unique.append(s)
    return unique or [f"kubectl describe pod {quote(ctx.name)} {ctx.ns_flag}"]


def _fix_for(ctx, cause, c, requests, nodes, largest, workload) -> List[str]:
    ns = ctx.ns_flag
    out = []
    if cause == "InsufficientResource":
        resource = c.get("resource", "")
        column = resource.replace(".", "\\.")
        out.append(fix(f"kubectl get nodes -o 'custom-columns=NAME:.metadata.name,ALLOCATABLE:"
                       f".status.allocatable.{column}'",
                       f"no node has one free: add nodes that offer {resource} (or install its device plugin)"))
        out.append("kubectl describe nodes | grep -A 8 'Allocated resources'")
    elif cause in ("InsufficientMemory", "InsufficientCPU", "InsufficientEphemeralStorage"):
        resource = c.get("resource", "memory")
        container, current = _biggest_container(ctx.spec, resource)
        value = "VALUE"
        limit_flag, no_fit = "", False
        for _line, node, res in largest:
            if res == resource and requests.get(resource) is not None:
                have = _alloc(node, resource)
                if have is not None and requests[resource] > have:
                    other = requests[resource] - current
                    target = have * Decimal("0.75") - other
                    if target > 0:
                        value = (_round_down_memory(target) if resource != "cpu"
                                 else _round_down_cpu(target))
                    else:
                        no_fit = True
                # A limit above what the largest node can give is never met either: cap it too.
                spec_c = next((x for x in ctx.spec.get("containers") or [] if x.get("name") == container), {})
                limit = quantity.parse(((spec_c.get("resources") or {}).get("limits") or {}).get(resource))
                if resource == "memory" and have is not None and limit is not None and limit > have:
                    limit_flag = f" --limits={resource}={_round_down_memory(have)}"
        if container and ctx.owned() and not workload.startswith("job/"):
            note = ("fits the largest node's allocatable" + (", the limit too" if limit_flag else "")
                    if value != "VALUE" else
                    "no node can fit the other containers' requests: add a bigger node, or lower them too"
                    if no_fit else None)
            out.append(fix(f"kubectl set resources {workload} {ns} -c {quote(container)} "
                           f"--requests={resource}={value}{limit_flag}", note))
        elif container:
            out.append(fix(f"kubectl get {workload} {ns} -o yaml > pod.yaml",
                           f"lower resources.requests.{resource} of {container} in pod.yaml, then run "
                           f"the next command"))
            out.append(fix("kubectl replace --force -f pod.yaml", "recreates the pod with the new request"))
        out.append(fix("kubectl describe nodes | grep -A 8 'Allocated resources'",
                       "what is already requested; add a node if they are full"))
        if resource in ("cpu", "memory"):
            out.append("kubectl top nodes")
    elif cause == "TooManyPods":
        out.append("kubectl get nodes -o custom-columns=NAME:.metadata.name,MAXPODS:.status.allocatable.pods")
        out.append(fix("kubectl get pods -A -o wide --field-selector=status.phase=Running",
                       "every node is at its pod limit: add a node or remove pods"))
    elif cause == "NodeSelectorMismatch":
        sel = ctx.spec.get("nodeSelector") or {}
        keys = list(sel)
        out.append("kubectl get nodes "
                   + (" ".join(f"-L {quote(k)}" for k in keys) if keys else "--show-labels"))
        tolerations = ctx.spec.get("tolerations") or []
        target = next((meta(n).get("name") for n in nodes if _usable(n, tolerations)), None)
        if sel:
            out.append(f"kubectl label node {quote(target) if target else 'NODE'} "
                       + " ".join(quote(f"{k}={v}") for k, v in sel.items()))
            out.append(fix(ctx.template_patch({"nodeSelector": {k: None for k in keys}}),
                           "or drop the selector"))
        else:
            out.append(f"kubectl get {workload} {ns} -o jsonpath='{{{ctx.pod_spec_path()}.affinity.nodeAffinity}}'")
    elif cause == "UntoleratedTaint":
        taint = c.get("taint")
        tainted = [n for n in nodes if any(not taint or t.get("key") == taint["key"]
                                           for t in _blocking_taints(n, ctx.spec.get("tolerations") or []))]
        for n in tainted[:3]:
            out.append(f"kubectl describe node {quote(meta(n).get('name'))} | grep -A 3 Taints")
        if not tainted:
            out.append("kubectl describe nodes | grep -A 3 Taints")
        effect = "NoSchedule"
        if taint:
            for n in tainted:
                for t in (n.get("spec") or {}).get("taints") or []:
                    if t.get("key") == taint["key"]:
                        effect = t.get("effect") or effect
        if taint and not _expected_taint(c):
            tol = {"key": taint["key"], "operator": "Equal", "value": taint["value"], "effect": effect} \
                if taint["value"] else {"key": taint["key"], "operator": "Exists", "effect": effect}
            out.append(fix(ctx.template_patch({"tolerations": [tol]}), "only if the pod belongs there"))
        elif not taint:
            out.append(ctx.template_patch({"tolerations": [{"key": "KEY", "operator": "Equal",
                                                            "value": "VALUE", "effect": "NoSchedule"}]}))
    elif cause == "NodeUnschedulable":
        cordoned = [meta(n).get("name") for n in nodes if (n.get("spec") or {}).get("unschedulable")]
        for name in cordoned[:3] or ["NODE"]:
            out.append(fix(f"kubectl uncordon {quote(name) if name != 'NODE' else name}",
                           "once its maintenance is over"))
        out.append(fix("kubectl get nodes", "SchedulingDisabled marks cordoned nodes"))
    elif cause in ("PVCNotFound", "UnboundPVC"):
        out.append(f"kubectl get pvc {ns}")
        claim = c.get("claim")
        if not claim:
            claim = next(((v.get("persistentVolumeClaim") or {}).get("claimName")
                          for v in ctx.spec.get("volumes") or [] if v.get("persistentVolumeClaim")), None)
        if cause == "UnboundPVC" and claim:
            out.append(f"kubectl describe pvc {quote(claim)} {ns}")
            out.append(fix("kubectl get storageclass", "the claim's class must exist (or a default one)"))
        elif cause == "PVCNotFound":
            out.append(fix(f"kubectl get {workload} {ns} -o jsonpath='{{{ctx.pod_spec_path()}.volumes}}'",
                           f"create the claim{(' ' + claim) if claim else ''} or fix its name"))
    elif cause in ("PodAffinity", "PodAntiAffinity", "TopologySpread"):
        out.append(f"kubectl get {workload} {ns} -o jsonpath='{{{ctx.pod_spec_path()}.affinity}}'")
        if cause == "TopologySpread":
            out.append(f"kubectl get {workload} {ns} "
                       f"-o jsonpath='{{{ctx.pod_spec_path()}.topologySpreadConstraints}}'")
        out.append(fix("kubectl get pods -A -o wide --show-labels", "which pods the rules count, on which nodes"))
    elif cause == "HostPortConflict":
        out.append(fix("kubectl get pods -A -o wide | grep -v Completed", "who holds the hostPort on each node"))
    elif cause == "VolumeNodeAffinityConflict":
        out.append("kubectl get pv -o custom-columns=NAME:.metadata.name,CLAIM:.spec.claimRef.name,"
                   "NODEAFFINITY:.spec.nodeAffinity")
    elif cause == "NodeNotReady":
        out.append("kubectl get nodes")
        out.append("kubectl describe nodes | grep -A 8 Conditions")
    else:
        out.append(f"kubectl describe pod {quote(ctx.name)} {ns}")
    return out


