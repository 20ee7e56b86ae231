"""Evicted: the kubelet killed the pod to relieve pressure on its node (or a storage limit).

Detected from status (events expire): `status.phase: Failed`, `status.reason: Evicted`. The
message is the kubelet eviction manager's (pkg/kubelet/eviction/helpers.go):

    The node was low on resource: memory. Threshold quantity: 100Mi, available: 91560Ki.
    Container app was using 1656148Ki, request is 64Mi, has larger consumption of memory.

Older kubelets wrote `Container app was using 1656148Ki, which exceeds its request of 64Mi.` and no
threshold sentence; the oldest named the signal's filesystem (`nodefs`, `imagefs`) instead of
`ephemeral-storage`. Local-storage limits evict without node pressure (`Container app exceeded its
local ephemeral storage limit "1Gi".`, `Pod ephemeral local storage usage exceeds the total limit of
containers 1Gi.`, `Usage of EmptyDir volume "cache" exceeds the limit "1Gi".`), and a pod the
kubelet refused at admission says `The node had condition: [DiskPressure].`

The container that used most beyond its request is the one to fix: its request is what the
scheduler placed it by, so a request far below real use is what let the node run out.
"""

import re
from typing import Dict, List, Optional

from ... import quantity
from ...findings import Finding
from ...sanitize import clean
from ...timeutil import age
from ...view import meta
from ..base import PodContext, fix, quote

_NODE_LOW = re.compile(r"The node was low on resource: ([\w./-]+?)\.(?:\s|$)")
_THRESHOLD = re.compile(r"Threshold quantity: (\S+?), available: (\S+?)\.(?:\s|$)")
_USING_NEW = re.compile(r"Container (\S+) was using (\S+?), request is (\S+?), "
                        r"has larger consumption of ([\w.-]+)")
_USING_OLD = re.compile(r"Container (\S+) was using (\S+?), which exceeds its request of (\S+?)\.(?:\s|$)")
_CONTAINER_LIMIT = re.compile(r'Container (\S+) exceeded its local ephemeral storage limit "([^"]+)"')
_POD_LIMIT = re.compile(r"Pod ephemeral local storage usage exceeds the total limit of containers "
                        r"(\S+?)\.?(?:\s|$)")
_EMPTYDIR = re.compile(r'Usage of EmptyDir volume "([^"]+)" exceeds the limit "([^"]+)"')
_CONDITION = re.compile(r"The node had condition: \[([^\]]*)\]")

# The kubelet's resource names → the cause we report.
_RESOURCE = {"memory": "memory", "ephemeral-storage": "ephemeral-storage", "nodefs": "ephemeral-storage",
             "imagefs": "ephemeral-storage", "pids": "pid", "pid": "pid", "inodes": "inodes",
             "nodefsInodes": "inodes", "imagefsInodes": "inodes"}
_CONDITION_RESOURCE = {"MemoryPressure": "memory", "DiskPressure": "ephemeral-storage",
                       "PIDPressure": "pid"}
_PRESSURE = {"memory": "MemoryPressure", "ephemeral-storage": "DiskPressure", "inodes": "DiskPressure",
             "pid": "PIDPressure"}
_WORDS = {"memory": "memory", "ephemeral-storage": "disk space (ephemeral-storage)",
          "pid": "process IDs", "inodes": "inodes (files on disk)"}


def parse_message(message: str) -> Dict:
    """The eviction message as data: resource, trigger, threshold/available, offending containers."""
    text = message or ""
    out: Dict = {"resource": None, "trigger": None, "threshold": None, "available": None,
                 "containers": []}
    m = _NODE_LOW.search(text)
    if m:
        out["resource"] = _RESOURCE.get(m.group(1), m.group(1))
        out["signal"] = m.group(1)
        out["trigger"] = "NodePressure"
    t = _THRESHOLD.search(text)
    if t:
        out["threshold"], out["available"] = t.group(1), t.group(2)
    for u in _USING_NEW.finditer(text):
        out["containers"].append({"name": u.group(1), "usage": u.group(2), "request": u.group(3)})
    if not out["containers"]:
        for u in _USING_OLD.finditer(text):
            out["containers"].append({"name": u.group(1), "usage": u.group(2), "request": u.group(3)})
    cl = _CONTAINER_LIMIT.search(text)
    if cl:
        out.update(resource="ephemeral-storage", trigger="ContainerLimit", limit=cl.group(2))
        out["containers"] = out["containers"] or [{"name": cl.group(1), "usage": None, "request": None}]
    pl = _POD_LIMIT.search(text)
    if pl:
        out.update(resource="ephemeral-storage", trigger="PodLimit", limit=pl.group(1))
    ed = _EMPTYDIR.search(text)
    if ed:
        out.update(resource="ephemeral-storage", trigger="EmptyDirLimit", volume=ed.group(1),
                   limit=ed.group(2))
    cond = _CONDITION.search(text)
    if cond and not out["resource"]:
        names = [c.strip() for c in re.split(r"[\s,]+", cond.group(1)) if c.strip()]
        out["conditions"] = names
        out["trigger"] = "NodeCondition"
        out["resource"] = next((_CONDITION_RESOURCE[n] for n in names if n in _CONDITION_RESOURCE), None)
    return out


def _bytes(value) -> Optional[int]:
    q = quantity.parse(value)
    return None if q is None else int(q)


def _worst(containers: List[Dict]) -> Optional[Dict]:
    """The container whose usage exceeded its request by the most."""
    best, margin = None, None
    for c in containers:
        used, req = _bytes(c.get("usage")), _bytes(c.get("request")) or 0
        over = (used - req) if used is not None else -1
        if best is None or over > margin:
            best, margin = c, over
    return best


def analyze(ctx: PodContext) -> List[Finding]:
    status = ctx.status
    if status.get("reason") != "Evicted" or (status.get("phase") or "Failed") != "Failed":
        return []
    message = status.get("message") or ""
    evicted_events = ctx.events_where("Evicted")
    if not message and evicted_events:
        message = evicted_events[-1].get("message") or ""
    parsed = parse_message(message)
    if not parsed["containers"] and evicted_events:
        parsed["containers"] = _from_annotations(evicted_events[-1])
    resource = parsed["resource"] or _starved(evicted_events) or "unknown"
    node_name = ctx.spec.get("nodeName")
    worst = _worst(parsed["containers"])
    container = worst["name"] if worst else None
    usage_b = _bytes(worst.get("usage")) if worst else None
    request_b = _bytes(worst.get("request")) if worst else None
    if worst and request_b is None and worst.get("request") is not None:
        request_b = 0

    summary = _summary(parsed, resource, node_name, worst, usage_b, request_b)
    evidence = [f"status Failed/Evicted: {clean(message.strip())}" if message else "status Failed/Evicted"]
    if evicted_events:
        same = (evicted_events[-1].get("message") or "").strip() == message.strip()
        # The event repeats the status message; it adds when (and how often) it happened.
        evidence[-1:] = [ctx.describe_event(evicted_events[-1])] if same else \
            evidence[-1:] + [ctx.describe_event(evicted_events[-1])]
    if worst and usage_b is not None:
        evidence.append(_usage_line(ctx, worst, resource, usage_b, request_b))
    node = ctx.view.get("Node", None, node_name) if node_name else None
    if node is not None:
        evidence += _node_lines(ctx, node, resource)
    if node_name:
        evidence += _node_events(ctx, node_name, resource)
    replacements = _replacements(ctx)
    for p in replacements[:2]:
        where = (p.get("spec") or {}).get("nodeName")
        evidence.append(f"replacement pod {clean(meta(p).get('name'))} is Running"
                        + (f" on {clean(where)}" if where else "")
                        + f": the {ctx.owner.kind if ctx.owner else 'owner'} recreated it, this pod object "
                          f"is only a record")

    suggestions = _suggestions(ctx, parsed, resource, node_name, worst, usage_b)
    details = {"resource": resource, "node": node_name, "container": container,
               "usageBytes": usage_b, "requestBytes": request_b,
               "threshold": parsed.get("threshold"), "available": parsed.get("available"),
               "trigger": parsed.get("trigger")}
    if parsed.get("limit"):
        details["limit"] = parsed["limit"]
    if parsed.get("volume"):
        details["volume"] = parsed["volume"]
    if replacements:
        details["replacements"] = [meta(p).get("name") for p in replacements]
    # With a healthy replacement running, the workload is fine now; the eviction will recur.
    severity = "warning" if replacements else None
    return [ctx.finding("Evicted", summary, container=container, cause=resource, severity=severity,
                        evidence=[e for e in evidence if e], suggestions=suggestions, details=details)]


def _from_annotations(ev: dict) -> List[Dict]:
    """The Evicted event's `offending_containers` / `offending_containers_usage` annotations."""
    ann = (ev.get("metadata") or {}).get("annotations") or {}
    names = [n for n in (ann.get("offending_containers") or "").split(",") if n]
    usages = (ann.get("offending_containers_usage") or "").split(",")
    return [{"name": n, "usage": usages[i] if i < len(usages) and usages[i] else None, "request": None}
            for i, n in enumerate(names)]


def _starved(events: List[dict]) -> Optional[str]:
    for ev in reversed(events):
        ann = (ev.get("metadata") or {}).get("annotations") or {}
        if ann.get("starved_resource"):
            return _RESOURCE.get(ann["starved_resource"], ann["starved_resource"])
    return None


def _summary(parsed, resource, node_name, worst, usage_b, request_b) -> str:
    on = f" from node {clean(node_name)}" if node_name else ""
    trigger = parsed.get("trigger")
    if trigger == "EmptyDirLimit":
        return (f'pod was evicted{on}: emptyDir volume "{clean(parsed.get("volume"))}" grew past its '
                f"sizeLimit {clean(parsed.get('limit'))}")
    if trigger == "ContainerLimit":
        return (f"pod was evicted{on}: container {clean(worst['name'])} wrote more than its "
                f"ephemeral-storage limit {clean(parsed.get('limit'))} to its writable layer and logs")
    if trigger == "PodLimit":
        return (f"pod was evicted{on}: its containers together wrote more local storage than their "
                f"total ephemeral-storage limit {clean(parsed.get('limit'))}")
    if trigger == "NodeCondition":
        conds = ", ".join(parsed.get("conditions") or []) or "pressure"
        return f"pod was rejected and evicted{on}: the node had {clean(conds)} when the pod arrived"
    low = _WORDS.get(resource, resource)
    text = f"pod was evicted{on} because the node ran low on {low}"
    if worst and usage_b is not None:
        verb = "was using" if resource == "memory" else "had used"
        text += f"; container {clean(worst['name'])} {verb} {quantity.format_bytes(usage_b)}"
        text += (f" with no {resource} request" if not request_b else
                 f" against its {quantity.format_bytes(request_b)} request")
    return text


def _usage_line(ctx, worst, resource, usage_b, request_b) -> str:
    used = quantity.format_bytes(usage_b)
    if request_b:
        times = usage_b / request_b
        ratio = f"{times:.0f}x" if times >= 2 else f"{times:.1f}x"
        return (f"container {clean(worst['name'])} used {used} of {resource}, {ratio} its request of "
                f"{quantity.format_bytes(request_b)} (the scheduler placed it by the request)")
    return (f"container {clean(worst['name'])} used {used} of {resource} with no request set "
            f"(the scheduler counted it as 0)")


def _node_lines(ctx: PodContext, node: dict, resource: str) -> List[str]:
    lines = []
    name = clean(meta(node).get("name"))
    want = _PRESSURE.get(resource)
    for c in (node.get("status") or {}).get("conditions") or []:
        if c.get("type") not in ("MemoryPressure", "DiskPressure", "PIDPressure"):
            continue
        if c.get("status") != "True" and c.get("type") != want:
            continue
        since = age(c.get("lastTransitionTime"), ctx.view.now)
        if c.get("status") == "True":
            state = "=True" + (f" for {since}" if since else "")
        else:
            state = f"={c.get('status')} now" + (f", changed {since} ago" if since else "")
        lines.append(f"node {name}: {c.get('type')}{state}"
                     + (f" ({clean(c.get('message'))})" if c.get("message") else ""))
    if resource == "memory":
        alloc = ((node.get("status") or {}).get("allocatable") or {}).get("memory")
        if alloc:
            lines.append(f"node {name}: allocatable memory {quantity.format_bytes(_bytes(alloc))}")
    return lines


def _node_events(ctx: PodContext, node_name: str, resource: str) -> List[str]:
    # Kubelet events about a node carry the node's name as involvedObject.uid, not the Node's
    # metadata.uid: match them by kind and name only.
    events = ctx.view.events_for({"metadata": {"name": node_name}}, "Node")
    wanted = [e for e in events if e.get("reason") in ("EvictionThresholdMet", "NodeHasInsufficientMemory",
                                                       "NodeHasDiskPressure", "NodeHasInsufficientPID",
                                                       "FreeDiskSpaceFailed", "ImageGCFailed")]
    return [f"node {clean(node_name)}: " + ctx.describe_event(e) for e in wanted[-3:]]


def _replacements(ctx: PodContext) -> List[dict]:
    """Running pods of the same owner: the controller already replaced the evicted one."""
    if ctx.owner is None:
        return []
    uid = meta(ctx.pod).get("uid")
    out = []
    for p in ctx.view.list("Pod", ctx.namespace):
        if meta(p).get("name") == ctx.name or (uid and meta(p).get("uid") == uid):
            continue
        if (p.get("status") or {}).get("phase") != "Running":
            continue
        top = ctx.view.top_owner(p)
        if top and (top.kind, top.name) == (ctx.owner.kind, ctx.owner.name):
            out.append(p)
    return out


def _spec_container(ctx: PodContext, name: str) -> Optional[dict]:
    return next((c for c in ctx.spec.get("containers") or [] if c.get("name") == name), None)


def _suggestions(ctx, parsed, resource, node_name, worst, usage_b) -> List[str]:
    out = []
    workload = ctx.workload()
    editable = ctx.owned() and not workload.startswith("job/")
    if worst and usage_b and resource in ("memory", "ephemeral-storage") and \
            parsed.get("trigger") == "NodePressure":
        value = quantity.round_up_memory(usage_b)
        spec = _spec_container(ctx, worst["name"]) or {}
        limit = _bytes(((spec.get("resources") or {}).get("limits") or {}).get(resource))
        extra = f" --limits={resource}={value}" if limit is not None and limit < usage_b else ""
        why = "request what it really uses, so the scheduler places it on a node with room"
        if resource == "memory":
            from .memory import fit_to_nodes
            value, _, capped = fit_to_nodes(ctx.view, value, value)
            why = capped or why
            extra = f" --limits={resource}={value}" if extra else ""
        if editable:
            out.append(fix(f"kubectl set resources {workload} {ctx.ns_flag} -c {quote(worst['name'])} "
                           f"--requests={resource}={value}{extra}", why))
        else:
            out.append(fix(f"kubectl get {workload} {ctx.ns_flag} -o yaml > pod.yaml",
                           f"in pod.yaml set resources.requests.{resource}: {value} for {worst['name']}, "
                           f"then run the next command"))
            out.append(fix("kubectl replace --force -f pod.yaml", "recreates the pod with the new request"))
    elif parsed.get("trigger") in ("ContainerLimit", "PodLimit") and worst and editable:
        out.append(fix(f"kubectl set resources {workload} {ctx.ns_flag} -c {quote(worst['name'])} "
                       f"--limits=ephemeral-storage=VALUE", "or write less to the container filesystem"))
    elif parsed.get("trigger") == "EmptyDirLimit":
        out.append(fix(f"kubectl get {workload} {ctx.ns_flag} -o jsonpath='{{{ctx.pod_spec_path()}.volumes}}'",
                       f"raise the sizeLimit of {parsed.get('volume')} or write less to it"))
    if node_name:
        out.append(f"kubectl describe node {quote(node_name)}")
    if resource in ("memory", "pid"):
        out.append("kubectl top nodes")
    if resource in ("ephemeral-storage", "inodes") and node_name:
        out.append(fix(f"kubectl debug node/{quote(node_name)} -it --profile=general --image=busybox:1.36 "
                       f"-- df -h /host", "disk use on the node"))
    out.append(fix(f"kubectl delete pod {quote(ctx.name)} {ctx.ns_flag}",
                   "clean-up: evicted pods stay as records until garbage-collected"))
    return out


