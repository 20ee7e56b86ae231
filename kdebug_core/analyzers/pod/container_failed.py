"""ContainerFailed: a container exited with an error and nothing restarts it, so its pod failed.

restartPolicy Never (a Job's pods, a bare pod): the pod's phase is Failed (or still Pending or
Running for the moment before the kubelet writes it) and the container is `terminated` with a
non-zero exit code. The kubelet will not run it again; a Job's controller may
start another pod. The diagnosis is the exit code and what it means, how long the run lasted, its
termination message and the error lines of its log (for a terminated container, `kubectl logs` and
a dump's log are that run). Seen on the test cluster: a Job's first failed pods while the Job
retries, which kdebug had left as PodNotHealthy "no known cause".

Severity follows what is left to do: an error while its Job still retries or for a bare pod; info
for a run of a Job that completed after it. A Job that has failed for good says so on the pod
itself (workload/job.analyze_pod, JobFailed). Not ours: evictions (evicted), OOM kills (oom_killed),
a process the runtime could not start (cannot_run), init containers (init_containers).
"""

from typing import List, Optional

from ...findings import Finding
from ...sanitize import clean
from ...timeutil import human_duration, seconds_between
from ...view import meta
from ..base import PodContext, fix, quote
from .exits import error_lines, exit_code_meaning, log_tail

OTHER_REASONS = {"OOMKilled", "StartError", "ContainerCannotRun", "RunContainerError",
                 "CreateContainerError", "Evicted"}


def analyze(ctx: PodContext) -> List[Finding]:
    phase = ctx.status.get("phase") or ""
    never = (ctx.spec.get("restartPolicy") or "Always") == "Never"
    # The kubelet writes the container's termination (and Ready=False, reason PodFailed) a moment
    # before the phase: seen on the test cluster as Pending or Running with the container already
    # `terminated` with exit 2. Under restartPolicy Never that run is already the pod's end.
    if not (phase == "Failed" or (never and phase in ("Pending", "Running"))) \
            or ctx.status.get("reason") == "Evicted":
        return []
    job = _job_of(ctx)
    if job is not None and _condition(job, "Failed"):
        return []   # JobFailed on the pod (workload/job.analyze_pod)
    out = []
    for c in ctx.containers(init=False):
        t = c.terminated
        if not t or t.get("exitCode") in (None, 0) or t.get("reason") in OTHER_REASONS:
            continue
        out.append(_finding(ctx, c, t, job))
    return out


def _finding(ctx: PodContext, c, t: dict, job: Optional[dict]) -> Finding:
    code = t.get("exitCode")
    ran = seconds_between(t.get("startedAt"), t.get("finishedAt"))
    policy = ctx.spec.get("restartPolicy") or "Always"
    exit_line = f"container {c.name} terminated: {clean(t.get('reason') or '?')}, exit code {code}" + (
        f", after running {human_duration(ran)}" if ran is not None else "")
    phase = ctx.status.get("phase") or "?"
    evidence = [exit_line, f"phase {clean(phase)}; restartPolicy {clean(policy)}: the kubelet does not restart it"
                + ("" if phase == "Failed" else " (the phase turns Failed next: the kubelet writes it last)")]
    if t.get("message"):
        evidence.append(f"termination message: {clean(t['message'])}")
    log = ctx.view.logs(ctx.pod, c.name, previous=False)
    if log is None:
        how = ("not read: a scan reads the logs of a few pods (--logs reads them all)"
               if ctx.view.log_skipped(ctx.pod) else "not available here")
        evidence.append(f"log of the run {how}: read it with {ctx.logs_cmd(c.name, previous=False)}")
    elif not log.strip():
        evidence.append("log: empty — the process printed nothing before it exited")
    else:
        evidence += [f"log: {clean(line)}" for line in (error_lines(log) or log_tail(log, 5))]
    what = f"container {c.name} exited with code {code} ({exit_code_meaning(code)})"
    suggestions = [fix(ctx.logs_cmd(c.name, previous=False), "what the run printed before it exited")]
    severity = None
    if job is None:
        summary = f"{what}; restartPolicy {clean(policy)}, so the pod failed and nothing runs it again"
        suggestions.append(fix(f"kubectl describe pod {quote(ctx.name)} {ctx.ns_flag}", "the pod's events"))
    else:
        name = meta(job).get("name", "")
        spec, status = job.get("spec") or {}, job.get("status") or {}
        limit = spec.get("backoffLimit", 6)
        failed = status.get("failed") or 0
        if _condition(job, "Complete"):
            severity = "info"
            summary = f"{what}: an earlier run of job/{clean(name)}, which completed after it"
        else:
            summary = (f"{what}; job/{clean(name)} retries in a new pod: {failed} failed run"
                       f"{'s' if failed != 1 else ''} so far, backoffLimit {limit}")
            evidence.append(f"job {clean(name)}: {status.get('active') or 0} active, {failed} failed, "
                            f"{status.get('succeeded') or 0} succeeded; backoffLimit {limit}")
        suggestions.append(fix(f"kubectl describe job {quote(name)} {ctx.ns_flag}", "the Job's runs and events"))
    return ctx.finding("ContainerFailed", summary, container=c.name, severity=severity,
                       evidence=evidence, suggestions=suggestions,
                       details={"exitCode": code, "ranSeconds": ran, "restartPolicy": policy,
                                "finishedAt": t.get("finishedAt"),
                                "job": meta(job).get("name") if job else None})


def _job_of(ctx: PodContext) -> Optional[dict]:
    ref = next((r for r in meta(ctx.pod).get("ownerReferences") or [] if r.get("kind") == "Job"), None)
    return ctx.view.get("Job", ctx.namespace, ref.get("name")) if ref else None


def _condition(obj: dict, ctype: str) -> bool:
    return any(c.get("type") == ctype and c.get("status") == "True"
               for c in (obj.get("status") or {}).get("conditions") or [])
