"""What every workload analyzer receives: a controller (Deployment, ReplicaSet, StatefulSet,
DaemonSet, Job, CronJob) and the view, plus the engine's pod diagnosis passed in as a function.

A workload analyzer is `analyze(ctx: WorkloadContext) -> list[Finding]`. It judges the controller
itself — can it create pods, is its rollout progressing, did its Job fail — from the controller's
status, conditions and events. When the answer lies on its pods (a rollout stuck on crash-looping
pods, a Job whose pods exit 1), it asks `ctx.diagnose_pods(pods)`, which the engine supplies: the
analyzers never import the engine (that would point an arrow upwards).
"""

import json
import shlex
from dataclasses import dataclass, field
from typing import Callable, List, Optional

from ...findings import Finding, ObjectRef
from ...sanitize import clean
from ...targets import owned_pods
from ...timeutil import age
from ...view import ClusterView, event_time, meta
from ..base import SubjectContext, is_true, pick_condition

KUBECTL_NAME = {
    "Deployment": "deployment", "StatefulSet": "statefulset", "DaemonSet": "daemonset",
    "ReplicaSet": "replicaset", "Job": "job", "CronJob": "cronjob",
    "ReplicationController": "replicationcontroller",
}

REVISION = "deployment.kubernetes.io/revision"


def describe_event(view: ClusterView, ev: dict, on: Optional[str] = None) -> str:
    """`event FailedCreate (x17, 2m ago) on replicaset/web-5d9c: message` — as describe shows it."""
    count = ev.get("count") or 1
    when = age(event_time(ev), view.now) if event_time(ev) else None
    bits = [f"x{count}"] if count and int(count) > 1 else []
    if when:
        bits.append(f"{when} ago")
    head = f"event {clean(ev.get('reason', '?'))}" + (f" ({', '.join(bits)})" if bits else "")
    if on:
        head += f" on {clean(on)}"
    return f"{head}: {clean(ev.get('message', ''))}"


def condition(obj: dict, ctype: str) -> Optional[dict]:
    """The condition of that type (a type listed twice: the one that changed last)."""
    return pick_condition((obj.get("status") or {}).get("conditions"), ctype)


def condition_line(view: ClusterView, cond: dict, on: Optional[str] = None) -> str:
    since = age(cond.get("lastTransitionTime"), view.now)
    text = f"condition {clean(cond.get('type'))}={clean(cond.get('status'))}"
    inner = [clean(cond.get("reason"))] if cond.get("reason") else []
    if since:
        inner.append(f"since {since} ago")
    if inner:
        text += f" ({', '.join(inner)})"
    if on:
        text += f" on {clean(on)}"
    if cond.get("message"):
        text += f": {clean(cond.get('message'))}"
    return text


def revision(obj: dict) -> int:
    try:
        return int((meta(obj).get("annotations") or {}).get(REVISION) or 0)
    except ValueError:
        return 0


def int_field(obj: dict, *path, default: int = 0) -> int:
    cur = obj
    for key in path:
        if not isinstance(cur, dict):
            return default
        cur = cur.get(key)
    try:
        return int(cur) if cur is not None else default
    except (TypeError, ValueError):
        return default


def controlled_by(obj: dict, owner: dict, kind: str) -> bool:
    uid = meta(owner).get("uid")
    for ref in meta(obj).get("ownerReferences") or []:
        if ref.get("kind") == kind and ref.get("name") == meta(owner).get("name") and \
                (not uid or not ref.get("uid") or ref.get("uid") == uid):
            return True
    return False


# diagnose_pods(pods) -> findings: the engine's pod diagnosis, passed in (never imported here).
PodDiagnosis = Callable[[List[dict]], List[Finding]]


@dataclass
class WorkloadContext(SubjectContext):
    view: ClusterView
    obj: dict
    plugin: str
    diagnose_pods: Optional[PodDiagnosis] = None
    targeted: bool = False            # named on the command line (not found by a scan)
    _pods: Optional[List[dict]] = field(default=None, repr=False)

    # ---- the object ---------------------------------------------------------------------------
    @property
    def kind(self) -> str:
        return self.obj.get("kind") or ""

    @property
    def name(self) -> str:
        return meta(self.obj).get("name", "")

    @property
    def namespace(self) -> str:
        return meta(self.obj).get("namespace") or "default"

    @property
    def ref(self) -> ObjectRef:
        return ObjectRef(self.kind, self.namespace, self.name)

    @property
    def owner(self) -> ObjectRef:
        """The top owner: what suggestions patch (a CronJob for its Job, a Deployment for its RS)."""
        top = self.view.top_owner(self.obj) if meta(self.obj).get("ownerReferences") else None
        if top is not None and top.kind in KUBECTL_NAME:
            return top
        return self.ref

    @property
    def spec(self) -> dict:
        return self.obj.get("spec") or {}

    @property
    def status(self) -> dict:
        return self.obj.get("status") or {}

    def condition(self, ctype: str) -> Optional[dict]:
        return condition(self.obj, ctype)

    def condition_true(self, ctype: str) -> bool:
        return is_true(self.condition(ctype))

    @property
    def slash_name(self) -> str:
        return f"{KUBECTL_NAME.get(self.kind, self.kind.lower())}/{self.name}"

    # ---- related objects ----------------------------------------------------------------------
    def events(self, obj: Optional[dict] = None, kind: Optional[str] = None) -> List[dict]:
        obj = obj if obj is not None else self.obj
        return self.view.events_for(obj, kind or obj.get("kind") or self.kind)

    def replica_sets(self) -> List[dict]:
        """A Deployment's ReplicaSets, newest revision first."""
        if self.kind != "Deployment":
            return []
        owned = [rs for rs in self.view.list("ReplicaSet", self.namespace)
                 if controlled_by(rs, self.obj, "Deployment")]
        return sorted(owned, key=lambda rs: (revision(rs), meta(rs).get("creationTimestamp") or ""),
                      reverse=True)

    def newest_replica_set(self) -> Optional[dict]:
        sets = self.replica_sets()
        return sets[0] if sets else None

    def pods(self) -> List[dict]:
        if self._pods is None:
            self._pods = owned_pods(self.view, self.obj, self.kind)
        return self._pods

    def pod_diagnosis(self, pods: List[dict]) -> List[Finding]:
        if not self.diagnose_pods or not pods:
            return []
        return self.diagnose_pods(pods)

    # ---- findings and suggestions -------------------------------------------------------------
    @property
    def finding_owner(self) -> ObjectRef:
        return self.owner

    def top(self) -> str:
        """`deployment/web` — the object a fix must change."""
        o = self.owner
        return f"{KUBECTL_NAME.get(o.kind, o.kind.lower())}/{o.name}"

    def template_patch(self, pod_spec_patch: dict) -> str:
        """A strategic-merge patch of the top owner's pod template."""
        top = self.top()
        spec = {"template": {"spec": pod_spec_patch}}
        body = {"spec": {"jobTemplate": {"spec": spec}}} if top.startswith("cronjob/") else {"spec": spec}
        return (f"kubectl patch {shlex.quote(top)} {self.ns_flag} --type=strategic "
                f"-p {shlex.quote(json.dumps(body, separators=(',', ':')))}")

    def template_spec(self) -> dict:
        """The pod template's spec of the subject (a CronJob's is inside its jobTemplate)."""
        spec = self.spec
        if self.kind == "CronJob":
            spec = (spec.get("jobTemplate") or {}).get("spec") or {}
        return ((spec.get("template") or {}).get("spec")) or {}


# The pod catch-all says "not healthy" without a cause: never a root cause when another is known.
GENERIC = ("PodNotHealthy",)


def distinct_causes(findings: List[Finding], limit: int = 3, generic_ok: bool = True) -> List[Finding]:
    """One pod finding per root cause (reason, container, cause), errors first: what a rollout or
    a Job is stuck on, without repeating it for every replica."""
    seen, out = set(), []
    specific = any(f.rank >= 1 and f.reason not in GENERIC for f in findings)
    for f in sorted(findings, key=lambda f: -f.rank):
        key = (f.reason, f.container, f.cause)
        if f.rank < 1 or key in seen or (f.reason in GENERIC and (specific or not generic_ok)):
            continue
        seen.add(key)
        out.append(f)
    return out[:limit]


def q(value) -> str:
    return shlex.quote(str(value))
