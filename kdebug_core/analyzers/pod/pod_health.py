"""PodNotHealthy: the verdict for a pod that is not healthy when no specific cause explains it.

"Healthy" needs proof. A pod is healthy only when it is `Running` with every container ready (and
every readiness gate True), or `Succeeded`. Anything else gets at least one finding: its cause from
the other analyzers, or this one — what was seen (phase, each container's state and last
termination, the newest Warning events) and the commands that show more. A pod that is simply
young (created a moment ago, still pulling or creating its containers, no Warning events yet) is
not broken: it gets an `info` finding ("starting for 4s") so the exit code stays 0, but it is never
called healthy.

The engine runs `analyze` after the specific analyzers, with what they found.
"""

import re
from typing import List, Optional

from ...findings import Finding
from ...sanitize import clean
from ...timeutil import age, human_duration, parse_time
from . import init_containers
from ..base import PodContext, fix, quote

# A pod younger than this, with no Warning event, still creating or pulling, is "starting".
STARTING_GRACE_SECONDS = 120

# Waiting reasons the kubelet shows on the way up, before anything has gone wrong.
STARTING_WAITING = {"ContainerCreating", "PodInitializing"}

# Events a pod on its way up gets, each once.
STARTING_EVENTS = {"Scheduled", "Pulling", "Pulled", "Created", "Started", "AddedInterface",
                   "SuccessfulAttachVolume", "SuccessfulMountVolume"}

# Findings that are advice about a pod, not an explanation of why it is not healthy.
ADVICE = {"NoReadinessProbe", "LivenessEqualsReadiness", "NoMemoryLimit", "MemoryNearLimit"}


def conditions(pod: dict, ctype: str) -> List[dict]:
    """Every condition of a type (a status may list a type twice; the last one written wins)."""
    return [c for c in (pod.get("status") or {}).get("conditions") or []
            if isinstance(c, dict) and c.get("type") == ctype]


def condition_true(pod: dict, ctype: str) -> bool:
    found = conditions(pod, ctype)
    return bool(found) and all(str(c.get("status")) == "True" for c in found)


def is_healthy(pod: dict) -> bool:
    """Positive evidence only: Succeeded, or Running with every container ready and gates True."""
    status = pod.get("status") or {}
    spec = pod.get("spec") or {}
    phase = status.get("phase")
    if phase == "Succeeded":
        return True
    if phase != "Running" or (pod.get("metadata") or {}).get("deletionTimestamp"):
        return False
    containers = [c.get("name") for c in spec.get("containers") or [] if isinstance(c, dict)]
    statuses = {s.get("name"): s for s in status.get("containerStatuses") or [] if isinstance(s, dict)}
    if not containers and not statuses:
        return False
    names = containers or list(statuses)
    if not all((statuses.get(n) or {}).get("ready") is True for n in names):
        return False
    # Native sidecars (init containers with restartPolicy: Always) must be running and ready too.
    for c in spec.get("initContainers") or []:
        if isinstance(c, dict) and c.get("restartPolicy") == "Always":
            s = next((x for x in status.get("initContainerStatuses") or []
                      if isinstance(x, dict) and x.get("name") == c.get("name")), {})
            if s.get("ready") is not True:
                return False
    for gate in spec.get("readinessGates") or []:
        if isinstance(gate, dict) and not condition_true(pod, gate.get("conditionType")):
            return False
    # A Ready condition that says False outranks stale container flags.
    ready = conditions(pod, "Ready")
    if ready and not all(str(c.get("status")) == "True" for c in ready):
        return False
    return True


def explained(found: List[Finding]) -> bool:
    """True when a finding at warning or above names a cause (advice does not explain a pod)."""
    return any(f.rank >= 1 and f.reason not in ADVICE and f.reason != "PodNotHealthy" for f in found)


def starting_for(ctx: PodContext) -> Optional[str]:
    """`4s` when the pod is young and on its way up with nothing wrong said yet, else None."""
    created = parse_time((ctx.pod.get("metadata") or {}).get("creationTimestamp"))
    if created is None:
        return None
    seconds = (ctx.view.now - created).total_seconds()
    if seconds < 0 or seconds > STARTING_GRACE_SECONDS:
        return None
    if ctx.status.get("phase") not in ("Pending", "Running", None):
        return None
    if ctx.view.offline and not ctx.events():
        # Offline, "now" is read off the newest timestamp in the files; with no event about the
        # pod that may be the pod's own start, so its age is unknown, not zero (corpus 113).
        return None
    for ev in ctx.events():
        # Only the events of a first start: a Killing (Normal) or a second Started is a restart.
        if ev.get("type") == "Warning" or ev.get("reason") not in STARTING_EVENTS:
            return None
        try:
            if int(ev.get("count") or 1) > 1:
                return None
        except (TypeError, ValueError):
            return None
    for c in ctx.containers():
        if c.restarts or c.terminated and not c.init or c.last_terminated:
            return None
        if c.waiting and c.waiting.get("reason") not in STARTING_WAITING:
            return None
        if c.init and c.terminated and c.terminated.get("exitCode") not in (0, None):
            return None
    return age(created, ctx.view.now)


# status.reason of a pod the kubelet refused to run (pkg/kubelet/lifecycle/predicate.go: "OutOf" +
# the resource, e.g. OutOfcpu, OutOfmemory — older releases wrote OutOfMemory — and the others).
_ADMISSION = re.compile(r"^(OutOf\w+|NodeAffinity|NodeSelectorMismatching|NodePorts|InvalidNodeInfo|"
                        r"UnexpectedAdmissionError|PodOSNotSupported|PodOSSelectorNodeLabelDoesNotMatch)$")


def _rejected_at_admission(ctx: PodContext) -> List[Finding]:
    """A pod the kubelet rejected when it arrived on the node (phase Failed, reason OutOfcpu...):
    the scheduler placed it where the kubelet found no room. It is never retried."""
    reason = ctx.status.get("reason") or ""
    events = [ev for ev in ctx.events() if _ADMISSION.match(ev.get("reason") or "")]
    if ctx.status.get("phase") != "Failed" or not (_ADMISSION.match(reason) or events):
        return []
    reason = reason if _ADMISSION.match(reason) else events[-1].get("reason")
    message = ctx.status.get("message") or (events[-1].get("message") if events else "")
    node = ctx.spec.get("nodeName")
    on = f" on node {node}" if node else ""
    evidence = [f"phase Failed ({clean(reason)})"]
    if message:
        evidence.append(f"status message: {clean(message)}")
    evidence += [ctx.describe_event(ev) for ev in events[-2:]]
    suggestions = []
    if node:
        suggestions.append(fix(f"kubectl describe node {quote(node)}",
                               "its allocatable resources and what is already requested there"))
    if ctx.owned():
        suggestions.append(fix(f"kubectl delete pod {ctx.name} {ctx.ns_flag}",
                               f"the failed pod stays until deleted; {ctx.workload()} has made a new one"))
    else:
        suggestions.append(fix(f"kubectl get pod {ctx.name} {ctx.ns_flag} -o yaml > pod.yaml",
                               "a bare pod is not recreated: save it, then replace it"))
        suggestions.append(fix("kubectl replace --force -f pod.yaml", "runs it again (the scheduler picks a node)"))
    summary = (f"the kubelet{on} rejected the pod when it arrived ({clean(reason)}): "
               f"{clean(message) or 'no message'}; a rejected pod is never retried — the scheduler "
               f"placed it where the node had no room (a race with other pods, or another scheduler)")
    return [ctx.finding("PodNotHealthy", summary, cause="RejectedByKubelet", severity="error",
                        evidence=evidence, suggestions=suggestions,
                        details={"phase": "Failed", "admissionReason": reason, "node": node})]


def _container_lines(ctx: PodContext) -> List[str]:
    lines = []
    for c in ctx.containers():
        kind = "init container" if c.init else "container"
        if not c.status:
            lines.append(f"{kind} {c.name}: no status reported")
            continue
        state = c.state
        if c.waiting:
            now = f"waiting: {c.waiting.get('reason') or '?'}"
            if c.waiting.get("message"):
                now += f" — {clean(c.waiting.get('message'))}"
        elif c.terminated:
            t = c.terminated
            now = f"terminated: {t.get('reason') or '?'}, exit code {t.get('exitCode')}"
        elif state.get("running"):
            now = "running"
        else:
            now = "state not reported"
        bits = [now, "ready" if c.status.get("ready") else "not ready"]
        if c.restarts:
            bits.append(f"{c.restarts} restart{'s' if c.restarts != 1 else ''}")
        if c.status.get("started") is False:
            bits.append("started: false")
        last = c.last_terminated
        if last:
            bits.append(f"last terminated: {last.get('reason') or '?'}, exit code {last.get('exitCode')}")
        lines.append(f"{kind} {c.name}: " + "; ".join(clean(b) for b in bits))
    return lines


def analyze(ctx: PodContext, found: List[Finding], plugin_scope: str = "why") -> List[Finding]:
    """The catch-all: [] for a healthy or explained pod, else one PodNotHealthy finding."""
    if is_healthy(ctx.pod) or explained(found):
        return []
    phase = ctx.status.get("phase") or "unknown phase"
    rejected = _rejected_at_admission(ctx)
    if rejected:
        return rejected
    young = starting_for(ctx)
    if young is not None:
        waiting = sorted({c.waiting.get("reason") for c in ctx.containers() if c.waiting} - {None})
        doing = f" ({', '.join(waiting)})" if waiting else ""
        return [ctx.finding(
            "PodNotHealthy", f"starting for {young}{doing}: not ready yet, nothing has gone wrong so far",
            cause="Starting", severity="info", evidence=[f"phase {phase}"] + _container_lines(ctx),
            suggestions=[f"kubectl get pod {ctx.name} {ctx.ns_flag} -w"],
            details={"phase": phase, "ageSeconds": young})]

    held = _held_by_init(ctx, phase, plugin_scope)
    if held:
        return [held]

    evidence = [f"phase {phase}" + (f" ({clean(ctx.status.get('reason'))})" if ctx.status.get("reason") else "")]
    if ctx.status.get("message"):
        evidence.append(f"status message: {clean(ctx.status.get('message'))}")
    for ctype in ("PodScheduled", "Initialized", "ContainersReady", "Ready"):
        for cond in conditions(ctx.pod, ctype):
            if str(cond.get("status")) != "True":
                text = f"condition {ctype}={cond.get('status')}"
                if cond.get("reason"):
                    text += f" ({clean(cond.get('reason'))})"
                if cond.get("message"):
                    text += f": {clean(cond.get('message'))}"
                evidence.append(text)
    evidence.extend(_container_lines(ctx))
    warnings = [ev for ev in ctx.events() if ev.get("type") == "Warning"]
    for ev in warnings[-3:]:
        evidence.append(ctx.describe_event(ev))
    if not warnings:
        evidence.append("no Warning events on record (events expire after an hour)")

    waiting = [c for c in ctx.containers() if c.waiting]
    what = (f"{waiting[0].name} waiting: {waiting[0].waiting.get('reason') or '?'}" if waiting
            else f"phase {phase}")
    if plugin_scope == "why":
        summary = f"the pod is not healthy ({clean(what)}) and no known cause matches what the cluster shows"
    else:
        # oomcheck/probecheck: not their class, but a broken pod is never a pass (exit 1): it
        # points at the whole triage, and `-o name | kubectl why -` carries it there.
        summary = (f"the pod is not healthy ({clean(what)}), and not for a reason "
                   f"{plugin_scope} can see: kubectl why has the whole triage")
    suggestions = [f"kubectl describe pod {ctx.name} {ctx.ns_flag}"]
    restarted = [c for c in ctx.containers() if c.restarts or c.last_terminated]
    for c in restarted[:2]:
        suggestions.append(ctx.logs_cmd(c.name, previous=True))
    if plugin_scope != "why":
        suggestions.insert(0, f"kubectl why pod/{ctx.name} {ctx.ns_flag}")
    return [ctx.finding("PodNotHealthy", summary, evidence=evidence,
                        container=waiting[0].name if len(waiting) == 1 else None,
                        suggestions=suggestions, details={"phase": phase})]


def _held_by_init(ctx: PodContext, phase: str, plugin_scope: str) -> Optional[Finding]:
    """An init container still running (not yet long enough to be called stuck) holds the pod: name
    it, its command, how long it has run and what it waits on (cause InitContainerRunning)."""
    c = init_containers.running_init(ctx)
    if c is None:
        return None
    started_at = (c.state.get("running") or {}).get("startedAt")
    started = parse_time(started_at)
    # Offline with no event, "now" is the newest time in the files, maybe the start itself: unknown.
    known = started is not None and not (ctx.view.offline and not ctx.events())
    seconds = (ctx.view.now - started).total_seconds() if known else None
    ran = f"for {human_duration(seconds)}" if seconds is not None and seconds >= 0 else \
        (f"since {clean(started_at)}" if started_at else "")
    log = ctx.view.logs(ctx.pod, c.name, previous=False)
    hosts, service_lines, checks = init_containers.waits_for(ctx, c, log)
    summary = (f"init container {c.name} has been running {ran}" if ran else
               f"init container {c.name} is still running") + f": the pod stays {phase} until it finishes"
    if hosts:
        summary += f' (it waits for "{clean(hosts[0])}")'
    evidence = [f"phase {phase}", f"init container {c.name} running" + (f" {ran}" if ran else "")]
    command = init_containers.command_line(c)
    if command:
        evidence.append(f"command: {clean(command)}")
    evidence += [f"log: {clean(line)}" for line in (log or "").splitlines()[-3:] if line.strip()]
    evidence += [line for line in _container_lines(ctx) if not line.startswith(f"init container {c.name}:")]
    evidence += service_lines
    warnings = [ev for ev in ctx.events() if ev.get("type") == "Warning"]
    evidence += [ctx.describe_event(ev) for ev in warnings[-2:]]
    suggestions = ([f"kubectl why pod/{ctx.name} {ctx.ns_flag}"] if plugin_scope != "why" else []) + \
        [ctx.logs_cmd(c.name, previous=False)] + checks + [f"kubectl describe pod {ctx.name} {ctx.ns_flag}"]
    details = {"phase": phase, "initContainer": c.name, "startedAt": started_at}
    if seconds is not None:
        details["runningSeconds"] = int(seconds)
    if hosts:
        details["dependsOn"] = hosts
    return ctx.finding("PodNotHealthy", summary, container=c.name, cause="InitContainerRunning",
                       evidence=evidence, suggestions=suggestions, details=details)


def pod_summary(pod: dict) -> str:
    """`Running, 1/1 ready, 0 restarts` — the one-line state of a pod judged healthy."""
    status = pod.get("status") or {}
    statuses = status.get("containerStatuses") or []
    ready = sum(1 for s in statuses if s.get("ready"))
    restarts = sum(int(s.get("restartCount") or 0) for s in statuses)
    total = len((pod.get("spec") or {}).get("containers") or []) or len(statuses)
    phase = status.get("phase") or "Unknown"
    if phase == "Succeeded":
        return "Succeeded (completed)"
    return f"{phase}, {ready}/{total} ready, {restarts} restart{'s' if restarts != 1 else ''}"
