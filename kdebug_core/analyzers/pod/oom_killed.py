"""OOMKilled: the kernel killed the container for going over its memory limit.

Used by `kubectl why` and `kubectl oomcheck` (ctx.finding names whichever is running). Detected
from `state.terminated` or `lastState.terminated` with reason OOMKilled — the runtime's record of
an OOM event in the container's cgroup. An exit code of 137 alone is a SIGKILL from anywhere
(liveness probe, eviction, `kill -9`) and is never called an OOM kill here; the reverse also holds:
when the OOM killer takes a child process, the main process may exit with another code and the
runtime still says OOMKilled.

The suggestion is a new limit: the current one doubled and rounded up to a manifest-friendly value
(never less than twice the old limit, never less than the request), and a request of at least half
of it. Observed usage, when a source can provide it, raises the limit further (see
`observed_bytes`).
"""

import shlex
from typing import List, Optional, Tuple

from ...findings import Finding
from ...quantity import format_bytes, memory_bytes, round_up_memory
from ...sanitize import clean
from ...timeutil import age, human_duration, parse_time, seconds_between
from ..base import Container, PodContext, fix
from .memory import container_usage, fit_to_nodes, mem_string  # noqa: F401  (mem_string re-exported)
from .memory import memory_resources as _resources, quantity_text as _quantity
from .crashloop import waiting_line
from .exits import error_lines, exit_code_meaning, log_tail

OOM = "OOMKilled"
STABLE_SECONDS = 600

ADVICE = ("advice: if this much memory is not expected, a higher limit only postpones the next kill: "
          "reduce batch sizes, stream data instead of loading it all at once; for ML models use lower "
          "precision or quantization (FP16/INT8)")


def analyze(ctx: PodContext) -> List[Finding]:
    findings = []
    for c in ctx.containers():
        found = oom_termination(c)
        if found:
            findings.append(_finding(ctx, c, *found))
    return findings


def oom_termination(c: Container) -> Optional[Tuple[dict, bool]]:
    """(the OOMKilled termination, True if it is the current state) or None."""
    if (c.terminated or {}).get("reason") == OOM:
        return c.terminated, True
    if (c.last_terminated or {}).get("reason") == OOM:
        return c.last_terminated, False
    return None


# ---- the suggested limit ------------------------------------------------------------------------

def observed_bytes(ctx: PodContext, c: Container) -> Optional[int]:
    """Memory use of the container, when a source knows it: the metrics API's working set.

    PodMetrics (memory_usage.container_usage) hold the current reading, not the peak before the
    kill, so it only ever raises the suggestion above the doubled limit. Without the metrics API
    (or offline without PodMetrics) this is None and the suggestion is the doubled limit.
    """
    return container_usage(ctx.view, ctx.pod, c.name)


def suggest(limit: Optional[int], request: Optional[int],
            observed: Optional[int] = None) -> Optional[Tuple[int, str, int, str]]:
    """(limit bytes, limit text, request bytes, request text) to suggest, or None without a limit.

    New limit: twice the current one (or 1.25 × the observed peak, whichever is more), at least the
    request, rounded up with quantity.round_up_memory. Request: the current one or half the new
    limit, whichever is more.
    """
    if not limit:
        return None
    target = max(2 * limit, int(observed * 1.25) if observed else 0, request or 0)
    text = round_up_memory(target)
    new_limit = memory_bytes(text)
    if new_limit < target:  # never below the target, whatever the rounding does
        new_limit, text = target, mem_string(target)
    half = new_limit // 2
    if request and request > half:
        return new_limit, text, request, mem_string(request)
    return new_limit, text, half, mem_string(half)


# ---- the finding ---------------------------------------------------------------------------------

def _clock(value) -> Optional[str]:
    from ...timeutil import clock
    return clock(value)  # with its zone: `10:03:22 UTC`


def _running_for(ctx: PodContext, c: Container) -> Optional[float]:
    started = parse_time((c.state.get("running") or {}).get("startedAt"))
    return None if started is None else (ctx.view.now - started).total_seconds()


def _finding(ctx: PodContext, c: Container, term: dict, current: bool) -> Finding:
    who = f"{'init container' if c.init else 'container'} {c.name}"
    code = term.get("exitCode")
    ran = seconds_between(term.get("startedAt"), term.get("finishedAt"))
    limit_raw, request_raw = _resources(c)
    limit, request = memory_bytes(limit_raw), memory_bytes(request_raw)
    observed = observed_bytes(ctx, c)
    proposal = suggest(limit, request, observed)
    why = None
    if proposal:
        lim_s, req_s, why = fit_to_nodes(ctx.view, proposal[1], proposal[3])
        proposal = (memory_bytes(lim_s), lim_s, memory_bytes(req_s), req_s)

    line = f"{'terminated' if current else 'last terminated'}: OOMKilled, exit code {code}"
    if _clock(term.get("finishedAt")):
        line += f", at {_clock(term.get('finishedAt'))}"
    if ran is not None:
        line += f" after running {human_duration(ran)}"
    evidence = [line]
    if code is not None and int(code) != 137:
        evidence.append(f"exit code {code} ({exit_code_meaning(code)}): the OOM killer took a child "
                        f"process and the main process exited on its own")
    if term.get("message"):
        evidence.append(f"termination message: {clean(term['message'])}")
    if c.restarts:
        evidence.append(f"restarted {c.restarts} time{'' if c.restarts == 1 else 's'}")
    if c.waiting:
        evidence.append(waiting_line(c))

    if limit_raw is not None and limit:
        evidence.append(f"memory limit {_quantity(limit_raw)}, "
                        + (f"request {_quantity(request_raw)}" if request_raw else "no memory request"))
    else:
        evidence.append(f"{who} has no memory limit: the kernel killed it because the pod's cgroup or "
                        f"the node ran out of memory, not at a limit of its own"
                        + (f" (request {_quantity(request_raw)})" if request_raw else ""))
    if observed is not None:
        evidence.append(f"metrics API: {who} uses {format_bytes(observed)} now (the working set since "
                        f"its restart, not the peak before the kill)")
    evidence += _log_lines(ctx, c, current)
    evidence.append(ADVICE)

    running_for = _running_for(ctx, c)
    stable = running_for is not None and running_for >= STABLE_SECONDS
    if limit:
        summary = (f"{who} was killed by the kernel for using more memory than its "
                   f"{_quantity(limit_raw)} limit (OOMKilled)")
    else:
        summary = (f"{who} was OOM-killed with no memory limit of its own: its node or its pod's "
                   f"cgroup ran out of memory")
    times = f"{c.restarts} time{'' if c.restarts == 1 else 's'}"
    if c.waiting:
        summary += f"; restarted {times}, now waiting ({clean(c.waiting.get('reason', ''))})"
    elif c.restarts:
        summary += f"; restarted {times}"
    if stable:
        summary += f" (running again for {human_duration(running_for)})"

    details = {"exitCode": code, "restartCount": c.restarts, "state": "state" if current else "lastState",
               "finishedAt": term.get("finishedAt"), "ranSeconds": ran,
               "limit": limit_raw, "limitBytes": limit, "request": request_raw,
               "requestBytes": request, "lastKillAgo": age(term.get("finishedAt"), ctx.view.now)}
    if observed is not None:
        details["usageBytes"] = observed
    if proposal:
        details.update({"suggestedLimit": proposal[1], "suggestedLimitBytes": proposal[0],
                        "suggestedRequest": proposal[3], "suggestedRequestBytes": proposal[2]})
    return ctx.finding(OOM, summary, container=c.name, evidence=[e for e in evidence if e],
                       suggestions=_suggestions(ctx, c, proposal, limit, why),
                       severity="warning" if stable else None, details=details)


def _log_lines(ctx: PodContext, c: Container, current: bool) -> List[str]:
    # A container still in its OOM-killed state has no newer instance: its own log is the one.
    log = ctx.view.logs(ctx.pod, c.name, previous=not current)
    which = "last run" if current else "previous run"
    if not log or not log.strip():
        return []
    picked = error_lines(log, limit=4) or log_tail(log, 3)
    return [f"log ({which}): {clean(line)}" for line in picked]


def _suggestions(ctx: PodContext, c: Container, proposal, limit, why=None) -> List[str]:
    workload = ctx.workload()
    kind = workload.split("/")[0]
    if proposal:
        values = f"--limits=memory={proposal[1]} --requests=memory={proposal[3]}"
    else:
        values = "--limits=memory=LIMIT --requests=memory=REQUEST"
    out = []
    if kind in ("job", "pod"):
        # A Job's pod template and a pod's resources cannot be changed in place.
        lim, req = (proposal[1], proposal[3]) if proposal else ("LIMIT", "REQUEST")
        out.append(fix(f"kubectl get {workload} {ctx.ns_flag} -o yaml > {kind}.yaml",
                       f"in {kind}.yaml set container {c.name}'s resources.limits.memory: {lim} and "
                       f"resources.requests.memory: {req}, then run the next command"))
        out.append(fix(f"kubectl replace --force -f {kind}.yaml", f"recreates the {kind} with the new memory"))
    else:
        out.append(fix(f"kubectl set resources {workload} {ctx.ns_flag} -c {shlex.quote(c.name)} {values}", why))
    out.append(f"kubectl top pod {ctx.name} {ctx.ns_flag} --containers")
    if not limit:
        node = ctx.spec.get("nodeName")
        if node:
            out.append(f"kubectl describe node {shlex.quote(node)}")
    return out
