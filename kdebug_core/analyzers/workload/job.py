"""JobFailed: the Job controller gave up on the Job.

The Job carries a `Failed=True` condition whose reason says why (pkg/controller/job/job_controller.go;
the same text is the Warning event of that reason on the Job):

* `BackoffLimitExceeded` — "Job has reached the specified backoff limit": more pods failed than
  `spec.backoffLimit` (6 by default) allows;
* `DeadlineExceeded` — "Job was active longer than specified deadline" (`activeDeadlineSeconds`);
* `PodFailurePolicy` — "Container main for pod default/x-8ckj8 failed with exit code 42 matching
  FailJob rule at index 0": a rule of `spec.podFailurePolicy` failed the Job at once;
* `MaxFailedIndexesExceeded` / `FailedIndexes` for indexed Jobs with a per-index backoff.

The root cause is on the failed pods: their diagnosis (from the engine, passed in) is merged under
the finding, one per distinct cause; when the pod analyzers have nothing more specific, the failed
container's exit code, its meaning and its log's error lines stand in. A Job of a CronJob is judged
only while it is its CronJob's latest: an older failure that a later run made good is history.
"""

import re
from typing import List, Optional

from ...sanitize import clean
from ...timeutil import parse_time
from ...view import meta
from ..pod.exits import error_lines, exit_code_meaning
from ..base import fix
from .base import WorkloadContext, condition_line, controlled_by, describe_event, distinct_causes, int_field, q

_CAUSE = {"BackoffLimitExceeded": "BackoffLimitExceeded", "DeadlineExceeded": "DeadlineExceeded",
          "PodFailurePolicy": "PodFailurePolicy", "MaxFailedIndexesExceeded": "BackoffLimitExceeded",
          "FailedIndexes": "BackoffLimitExceeded"}
_POLICY = re.compile(r"Container (\S+) for pod ([^/\s]+)/(\S+) failed with exit code (\d+) matching "
                     r"(\w+) rule at index (\d+)")


def analyze(ctx: WorkloadContext) -> List:
    if ctx.kind != "Job":
        return []
    failed = ctx.condition("Failed")
    if not failed or failed.get("status") != "True":
        return []
    if _superseded_by_later_run(ctx):
        return []
    reason = failed.get("reason") or ""
    cause = _CAUSE.get(reason, "Other")
    spec, st = ctx.spec, ctx.status
    backoff = int_field(ctx.obj, "spec", "backoffLimit", default=6)
    failed_pods_n, succeeded = int_field(st, "failed"), int_field(st, "succeeded")
    completions = int_field(ctx.obj, "spec", "completions", default=1)

    pods = ctx.pods()
    failed_pods = sorted((p for p in pods if (p.get("status") or {}).get("phase") == "Failed"),
                         key=lambda p: (p.get("status") or {}).get("startTime") or "")
    diagnosis = ctx.pod_diagnosis(failed_pods)
    causes = distinct_causes([f for f in diagnosis if f.reason != "JobFailed"], generic_ok=False)
    exit_lines, exit_detail = _exits(ctx, failed_pods)

    if cause == "BackoffLimitExceeded":
        what = f"{failed_pods_n} pod{'s' if failed_pods_n != 1 else ''} failed (backoffLimit {backoff})"
    elif cause == "DeadlineExceeded":
        what = f"it ran longer than its activeDeadlineSeconds ({clean(spec.get('activeDeadlineSeconds'))}s)"
    elif cause == "PodFailurePolicy":
        m = _POLICY.search(failed.get("message") or "")
        what = (f"container {clean(m.group(1))} of pod {clean(m.group(3))} exited {m.group(4)}, which its "
                f"podFailurePolicy rule {m.group(6)} answers with {clean(m.group(5))}"
                if m else "a podFailurePolicy rule failed it")
    else:
        what = clean(failed.get("message") or reason or "it failed")
    summary = f"{ctx.slash_name} failed: {what}, {succeeded} of {completions} completions succeeded"
    if causes:
        summary += f"; its pods fail with {', '.join(dict.fromkeys(f.reason for f in causes))}"
    elif exit_detail:
        summary += f"; {exit_detail}"

    evidence = [condition_line(ctx.view, failed)]
    for ev in [e for e in ctx.events() if e.get("type") == "Warning"][-2:]:
        line = describe_event(ctx.view, ev)
        if clean(failed.get("message") or "") not in line or ev.get("reason") != reason:
            evidence.append(line)
    evidence.append(f"{ctx.slash_name}: {int_field(st, 'active')} active, {succeeded} succeeded, "
                    f"{failed_pods_n} failed; backoffLimit {backoff}"
                    + (f", activeDeadlineSeconds {clean(spec.get('activeDeadlineSeconds'))}"
                       if spec.get("activeDeadlineSeconds") else ""))
    if not causes:
        evidence += exit_lines

    suggestions = []
    newest = failed_pods[-1] if failed_pods else None
    if newest is not None:
        container = _failed_container(newest)
        suggestions.append(fix(f"kubectl logs {q(meta(newest).get('name'))} {ctx.ns_flag}"
                               + (f" -c {q(container)}" if container else ""),
                               "what the last failed run printed"))
    suggestions.append(fix(f"kubectl describe job {q(ctx.name)} {ctx.ns_flag}", "its pods and events"))
    if ctx.owner.kind == "CronJob":
        suggestions.append(fix(f"kubectl create job {q(ctx.owner.name + '-manual')} "
                               f"--from=cronjob/{q(ctx.owner.name)} {ctx.ns_flag}",
                               "after the fix: run it once now instead of waiting for the schedule"))
    details = {"conditionReason": reason, "failed": failed_pods_n, "succeeded": succeeded,
               "backoffLimit": backoff, "failedPods": [meta(p).get("name") for p in failed_pods[-5:]]}
    return [ctx.finding("JobFailed", summary, cause=cause, evidence=evidence, suggestions=suggestions,
                        details=details, related=causes)]


def _superseded_by_later_run(ctx: WorkloadContext) -> bool:
    return superseded(ctx.view, ctx.obj)


def superseded(view, job_obj: dict) -> bool:
    """A CronJob's Job that a later Job of the same CronJob followed, and that one did not fail."""
    owner_ref = next((r for r in meta(job_obj).get("ownerReferences") or [] if r.get("kind") == "CronJob"), None)
    if not owner_ref:
        return False
    mine = parse_time(meta(job_obj).get("creationTimestamp"))
    for other in view.list("Job", meta(job_obj).get("namespace") or "default"):
        if meta(other).get("name") == meta(job_obj).get("name"):
            continue
        if not any(r.get("kind") == "CronJob" and r.get("name") == owner_ref.get("name")
                   for r in meta(other).get("ownerReferences") or []):
            continue
        theirs = parse_time(meta(other).get("creationTimestamp"))
        if mine and theirs and theirs > mine:
            conds = {c.get("type"): c.get("status") for c in (other.get("status") or {}).get("conditions") or []}
            if conds.get("Failed") != "True":
                return True
    return False


def _failed_container(pod: dict) -> Optional[str]:
    for cs in (pod.get("status") or {}).get("containerStatuses") or []:
        t = (cs.get("state") or {}).get("terminated") or (cs.get("lastState") or {}).get("terminated")
        if t and t.get("exitCode") not in (None, 0):
            return cs.get("name")
    return None


def _exits(ctx: WorkloadContext, failed_pods: List[dict]):
    """Evidence from the failed pods' containers: exit code, meaning, the log's error lines."""
    lines, detail, seen = [], None, set()
    for pod in failed_pods[-2:]:
        for cs in (pod.get("status") or {}).get("containerStatuses") or []:
            t = (cs.get("state") or {}).get("terminated") or (cs.get("lastState") or {}).get("terminated")
            if not t or t.get("exitCode") in (None, 0):
                continue
            code = t.get("exitCode")
            meaning = exit_code_meaning(code)
            lines.append(f"pod {clean(meta(pod).get('name'))} container {clean(cs.get('name'))} terminated: "
                         f"{clean(t.get('reason') or '?')}, exit code {code} — {meaning}")
            if detail is None:
                detail = f"container {clean(cs.get('name'))} exits with code {code}: {meaning}"
            log = ctx.view.logs(pod, cs.get("name"), previous=False)
            for line in error_lines(log, limit=4):
                if line not in seen:  # the same traceback from every retry is said once
                    seen.add(line)
                    lines.append(f"log {clean(meta(pod).get('name'))}: {clean(line)}")
    return lines[:10], detail


def analyze_pod(ctx) -> List:
    """JobFailed on a failed pod of a Job that has failed: the pod is one of its failed runs, and its
    container's exit says why (the Job's own finding gathers them). `ctx` is a PodContext."""
    if (ctx.status.get("phase") or "") != "Failed":
        return []
    ref = next((r for r in meta(ctx.pod).get("ownerReferences") or [] if r.get("kind") == "Job"), None)
    if not ref:
        return []
    job_obj = ctx.view.get("Job", ctx.namespace, ref.get("name"))
    failed = next((c for c in ((job_obj or {}).get("status") or {}).get("conditions") or []
                   if c.get("type") == "Failed" and c.get("status") == "True"), None)
    if failed is None or superseded(ctx.view, job_obj):
        return []
    name = _failed_container(ctx.pod)
    cs = next((c for c in ctx.containers(init=False) if c.name == name), None)
    t = (cs.terminated or cs.last_terminated) if cs else None
    cause = _CAUSE.get(failed.get("reason") or "", "Other")
    if t is None:
        what = f"the pod {clean(ctx.status.get('reason') or 'failed')}" + (
            f": {clean(ctx.status.get('message'))}" if ctx.status.get("message") else "")
        evidence = ["phase Failed" + (f" ({clean(ctx.status.get('reason'))})" if ctx.status.get("reason") else "")]
    else:
        code = t.get("exitCode")
        what = f"container {clean(name)} exited with code {code}: {exit_code_meaning(code)}"
        evidence = [f"container {clean(name)} terminated: {clean(t.get('reason') or '?')}, exit code {code}"]
        for line in error_lines(ctx.view.logs(ctx.pod, name, previous=False), limit=4):
            evidence.append(f"log: {clean(line)}")
    evidence.append(f"job {clean(ref.get('name'))}: condition Failed=True ({clean(failed.get('reason'))}): "
                    f"{clean(failed.get('message'))}")
    suggestions = [fix(f"kubectl logs {q(ctx.name)} {ctx.ns_flag}" + (f" -c {q(name)}" if name else ""),
                       "what this run printed")]
    return [ctx.finding("JobFailed", f"one of the failed runs of job/{clean(ref.get('name'))}: {what}",
                        container=name, cause=cause, evidence=evidence, suggestions=suggestions,
                        details={"job": ref.get("name")})]


def owned_jobs(ctx: WorkloadContext) -> List[dict]:
    return [j for j in ctx.view.list("Job", ctx.namespace) if controlled_by(j, ctx.obj, "CronJob")]
