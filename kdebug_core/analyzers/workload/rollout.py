"""RolloutStuck: a rollout that does not progress — the new pods never become available.

Deployment: the controller sets `Progressing=False` with reason `ProgressDeadlineExceeded` and the
message `ReplicaSet "web-7f9c" has timed out progressing.` once `progressDeadlineSeconds` (600 s by
default) pass without progress (pkg/controller/deployment/util/deployment_util.go, TimedOutReason).
Before the deadline, a rollout is stuck when the newest ReplicaSet's pods fail while an older
ReplicaSet still serves: the old pods keep running (maxUnavailable protects them) and the update
never completes. Either way the root cause is on the new pods; their diagnosis (from the engine,
passed in) is merged under the finding, one per distinct cause.

StatefulSet: with the default `OrderedReady` policy, pod N+1 is created only once pod N is Ready;
one failing pod blocks the ordinals after it, and a rolling update (updateRevision !=
currentRevision) stops at the first updated pod that does not become Ready.
DaemonSet: a rolling update stops when updated pods are unavailable on some nodes.

A Deployment whose new pods cannot even be created is PodCreationFailed's case, not this one.
"""

import re
from typing import List

from ...sanitize import clean
from ...view import meta
from ..base import fix
from .base import (WorkloadContext, condition_line, controlled_by, distinct_causes, int_field, q,
                   revision)
from .creation import _refusal


def analyze(ctx: WorkloadContext) -> List:
    if ctx.kind == "Deployment":
        return _deployment(ctx)
    if ctx.kind == "StatefulSet":
        return _statefulset(ctx)
    if ctx.kind == "DaemonSet":
        return _daemonset(ctx)
    return []


def _rs_pods(ctx: WorkloadContext, rs: dict) -> List[dict]:
    return [p for p in ctx.pods() if controlled_by(p, rs, "ReplicaSet")]


def _deployment(ctx: WorkloadContext) -> List:
    if ctx.spec.get("paused"):
        return []
    sets = ctx.replica_sets()
    new = sets[0] if sets else None
    old_serving = [rs for rs in sets[1:] if int_field(rs, "status", "replicas") > 0]
    progressing = ctx.condition("Progressing") or {}
    deadline = progressing.get("status") == "False" and progressing.get("reason") == "ProgressDeadlineExceeded"
    desired = int_field(ctx.obj, "spec", "replicas", default=1)
    if new is None and not deadline:
        return []
    new_available = int_field(new, "status", "availableReplicas") if new else 0
    if not deadline and (not old_serving or new_available >= int_field(new, "spec", "replicas")):
        return []
    if new is not None and _refusal(ctx, new):
        return []  # PodCreationFailed explains it
    new_pods = _rs_pods(ctx, new) if new is not None else []
    causes = distinct_causes(ctx.pod_diagnosis(new_pods))
    if not deadline and not causes:
        return []  # a rollout under way whose new pods are not failing: just slow, or starting
    rev = revision(new) if new is not None else revision(ctx.obj)
    m = re.search(r'ReplicaSet "([^"]+)"', progressing.get("message") or "")
    rs_name = meta(new).get("name", "?") if new is not None else (m.group(1) if m else "?")
    st = ctx.status
    updated, available = int_field(st, "updatedReplicas"), int_field(st, "availableReplicas")
    which = (f"revision {rev} (replicaset {clean(rs_name)})" if rev and rs_name != "?" else
             f"replicaset {clean(rs_name)}" if rs_name != "?" else "the new revision")
    what = (f"the rollout of {which} "
            + ("has exceeded its progress deadline" if deadline else "is not progressing"))
    counted = any(k in st for k in ("replicas", "updatedReplicas", "availableReplicas"))
    if counted:
        counts = f"{updated} of {desired} replicas updated, {available} available"
    elif ctx.condition_true("Available"):
        # Only the conditions were recorded: the old pods still serve, the counts are unknown.
        counts = "the previous revision still serves (Available=True); replica counts not recorded"
    else:
        counts = "replica counts not recorded"
    if causes:
        because = ", ".join(dict.fromkeys(f.reason for f in causes))
        summary = f"{what}: {counts}; its new pods fail with {because}"
    else:
        summary = f"{what}: {counts}; its new pods never became available"
    evidence = []
    if deadline:
        evidence.append(condition_line(ctx.view, progressing))
    if counted:
        evidence.append(f"{ctx.slash_name}: {desired} desired, {int_field(st, 'replicas')} current, "
                        f"{updated} updated, {int_field(st, 'readyReplicas')} ready, {available} available"
                        + (f", {int_field(st, 'unavailableReplicas')} unavailable" if st.get("unavailableReplicas") else ""))
    available_cond = ctx.condition("Available")
    if available_cond:
        evidence.append(condition_line(ctx.view, available_cond))
    if new is not None:
        evidence.append(f"replicaset {clean(rs_name)} (revision {rev}, new): "
                        f"{int_field(new, 'status', 'replicas')} pods, {new_available} available")
    for rs in old_serving[:3]:
        evidence.append(f"replicaset {clean(meta(rs).get('name'))} (revision {revision(rs)}, old) still "
                        f"runs {int_field(rs, 'status', 'replicas')} pods, "
                        f"{int_field(rs, 'status', 'availableReplicas')} available")
    if new is not None and not new_pods and not causes:
        evidence.append(f"no pod of replicaset {clean(rs_name)} is in the input")
    suggestions = []
    if old_serving or len(sets) > 1 or (new is None and rev != 1):
        suggestions.append(fix(f"kubectl rollout undo {q(ctx.slash_name)} {ctx.ns_flag}",
                               f"go back to the previous revision while {f'revision {rev}' if rev else 'the new one'} is fixed"))
    suggestions.append(fix(f"kubectl rollout status {q(ctx.slash_name)} {ctx.ns_flag}",
                           "watch the rollout after a fix"))
    if rev:
        suggestions.append(fix(f"kubectl rollout history {q(ctx.slash_name)} {ctx.ns_flag} --revision={rev}",
                               f"what revision {rev} changed"))
    if "-" in rs_name:
        suggestions.append(fix(f"kubectl get pods {ctx.ns_flag} -l pod-template-hash={q(rs_name.rsplit('-', 1)[-1])}",
                               "the new revision's pods: kubectl why on one says why it is not available"))
    details = {"revision": rev, "replicaSet": rs_name, "desired": desired, "updated": updated,
               "available": available, "deadlineExceeded": deadline,
               "oldReplicaSets": [meta(rs).get("name") for rs in old_serving]}
    return [ctx.finding("RolloutStuck", summary, evidence=evidence, suggestions=suggestions,
                        details=details, related=causes)]


def _ordinal(pod: dict, sts_name: str) -> int:
    name = meta(pod).get("name", "")
    try:
        return int(name[len(sts_name) + 1:]) if name.startswith(sts_name + "-") else -1
    except ValueError:
        return -1


def _statefulset(ctx: WorkloadContext) -> List:
    desired = int_field(ctx.obj, "spec", "replicas", default=1)
    st = ctx.status
    ready = int_field(st, "readyReplicas")
    updating = bool(st.get("updateRevision")) and st.get("updateRevision") != st.get("currentRevision")
    if ready >= desired:
        return []
    pods = ctx.pods()
    by_ordinal = {_ordinal(p, ctx.name): p for p in pods}
    missing = [i for i in range(desired) if i not in by_ordinal]
    ordered = (ctx.spec.get("podManagementPolicy") or "OrderedReady") == "OrderedReady"
    if not ((ordered and missing) or updating):
        return []  # every pod exists and no update is under way: the pods' own findings say it
    diagnosis = ctx.pod_diagnosis(pods)
    causes = distinct_causes(diagnosis)
    if not causes:
        return []
    bad = {f.object.name for f in diagnosis if f.rank >= 1}
    blocking = next((by_ordinal[i] for i in sorted(by_ordinal)
                     if i >= 0 and meta(by_ordinal[i]).get("name") in bad), None)
    block_name = meta(blocking).get("name") if blocking else None
    parts = []
    if ordered and missing and block_name:
        parts.append(f"pod {clean(block_name)} is not ready, so "
                     f"{', '.join(f'{clean(ctx.name)}-{i}' for i in missing[:5])}"
                     f"{' ...' if len(missing) > 5 else ''} "
                     f"{'is' if len(missing) == 1 else 'are'} not created (OrderedReady)")
    if updating:
        parts.append(f"the update to revision {clean(st.get('updateRevision'))} stops at "
                     f"{clean(block_name) if block_name else 'a pod that is not ready'}")
    summary = (f"{ctx.slash_name} is stuck with {ready} of {desired} replicas ready: " + "; ".join(parts)
               + f"; its pods fail with {', '.join(dict.fromkeys(f.reason for f in causes))}")
    evidence = [f"{ctx.slash_name}: {desired} desired, {int_field(st, 'replicas')} current, "
                f"{ready} ready, {int_field(st, 'updatedReplicas')} updated"]
    if updating:
        evidence.append(f"currentRevision {clean(st.get('currentRevision'))}, updateRevision "
                        f"{clean(st.get('updateRevision'))}")
    suggestions = [fix(f"kubectl rollout status {q(ctx.slash_name)} {ctx.ns_flag}", "watch it after a fix")]
    if updating:
        suggestions.insert(0, fix(f"kubectl rollout undo {q(ctx.slash_name)} {ctx.ns_flag}",
                                  "go back to the previous revision"))
    if block_name:
        suggestions.append(fix(f"kubectl describe pod {q(block_name)} {ctx.ns_flag}",
                               "the pod every later ordinal waits for"))
    return [ctx.finding("RolloutStuck", summary, evidence=evidence, suggestions=suggestions,
                        related=causes, details={"missingOrdinals": missing, "blockingPod": block_name,
                                                 "desired": desired, "ready": ready})]


def _daemonset(ctx: WorkloadContext) -> List:
    st = ctx.status
    desired = int_field(st, "desiredNumberScheduled")
    updated = int_field(st, "updatedNumberScheduled")
    unavailable = int_field(st, "numberUnavailable")
    if not unavailable or updated >= desired:
        return []  # not an update under way: the pods' own findings say it
    pods = ctx.pods()
    diagnosis = ctx.pod_diagnosis(pods)
    causes = distinct_causes(diagnosis)
    if not causes:
        return []
    bad = {f.object.name for f in diagnosis if f.rank >= 1}
    nodes = sorted({(p.get("spec") or {}).get("nodeName") or "?" for p in pods
                    if meta(p).get("name") in bad})
    summary = (f"{ctx.slash_name}'s rolling update is stuck: {updated} of {desired} nodes updated, "
               f"{unavailable} unavailable; its pods fail with "
               f"{', '.join(dict.fromkeys(f.reason for f in causes))} on {', '.join(clean(n) for n in nodes[:5])}")
    evidence = [f"{ctx.slash_name}: {desired} desired, {int_field(st, 'currentNumberScheduled')} scheduled, "
                f"{updated} updated, {int_field(st, 'numberAvailable')} available, {unavailable} unavailable"]
    return [ctx.finding("RolloutStuck", summary, evidence=evidence, related=causes,
                        suggestions=[fix(f"kubectl rollout undo {q(ctx.slash_name)} {ctx.ns_flag}",
                                         "go back to the previous revision"),
                                     fix(f"kubectl rollout status {q(ctx.slash_name)} {ctx.ns_flag}",
                                         "watch it after a fix")],
                        details={"nodes": nodes, "desired": desired, "updated": updated,
                                 "unavailable": unavailable})]
