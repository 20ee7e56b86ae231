"""What every pod analyzer receives, and the small helpers they share.

An analyzer is a plain function `analyze(ctx: PodContext) -> list[Finding]`. It reads the pod and
asks `ctx.view` for events, logs and related objects; it never knows whether they came from the
API or from files, and it never writes anything.
"""

import json
import shlex
from dataclasses import dataclass, field
from typing import Dict, Iterator, List, Optional

from ..catalogue import REASONS
from ..findings import Finding, Fix, ObjectRef
from ..sanitize import clean
from ..timeutil import age
from ..view import ClusterView, event_time, meta

# kubectl resource names for suggestions (`kubectl set image deployment/x ...`).
KUBECTL_NAME = {
    "Deployment": "deployment", "StatefulSet": "statefulset", "DaemonSet": "daemonset",
    "ReplicaSet": "replicaset", "Job": "job", "CronJob": "cronjob", "Pod": "pod",
    "ReplicationController": "replicationcontroller",
}


@dataclass
class Container:
    """A container of the pod with its spec and status side by side."""
    name: str
    spec: dict
    status: dict
    init: bool = False
    sidecar: bool = False  # init container with restartPolicy: Always (native sidecar)

    @property
    def state(self) -> dict:
        return self.status.get("state") or {}

    @property
    def last_state(self) -> dict:
        return self.status.get("lastState") or {}

    @property
    def waiting(self) -> Optional[dict]:
        return self.state.get("waiting")

    @property
    def terminated(self) -> Optional[dict]:
        return self.state.get("terminated")

    @property
    def last_terminated(self) -> Optional[dict]:
        return self.last_state.get("terminated")

    @property
    def restarts(self) -> int:
        return int(self.status.get("restartCount") or 0)

    @property
    def field_path(self) -> str:
        return f"spec.{'initContainers' if self.init else 'containers'}{{{self.name}}}"


def namespace_flag(namespace: Optional[str]) -> str:
    """`-n NAMESPACE` for a suggested command, quoted for the shell."""
    return f"-n {shlex.quote(namespace or 'default')}"


def new_finding(plugin: str, reason: str, obj: ObjectRef, summary: str,
                owner: Optional[ObjectRef] = None, container: Optional[str] = None,
                evidence: Optional[List[str]] = None, suggestions: Optional[List[str]] = None,
                cause: Optional[str] = None, severity: Optional[str] = None,
                details: Optional[Dict] = None, related: Optional[List[Finding]] = None) -> Finding:
    """A finding about `obj`, filed under the running plugin when the reason is one of its own,
    else under the reason's first plugin (catalogue.py). Empty evidence lines are left out."""
    plugins = REASONS[reason].plugins
    return Finding(plugin=plugin if plugin in plugins else plugins[0], reason=reason, object=obj,
                   summary=summary, container=container, owner=owner,
                   evidence=[e for e in evidence or [] if e], suggestions=list(suggestions or []),
                   cause=cause, severity=severity, details=dict(details or {}),
                   related=list(related or []))


class SubjectContext:
    """What the pod, workload and Service contexts share: `finding()` about their subject and the
    `-n` flag of its namespace. A context has `plugin`, `ref` (the subject), `namespace`, and
    `finding_owner`: what its suggestions patch (None: the subject itself)."""

    finding_owner: Optional[ObjectRef] = None

    @property
    def ns_flag(self) -> str:
        return namespace_flag(self.namespace)

    def finding(self, reason: str, summary: str, container: Optional[str] = None,
                evidence: Optional[List[str]] = None, suggestions: Optional[List[str]] = None,
                cause: Optional[str] = None, severity: Optional[str] = None,
                details: Optional[Dict] = None, related: Optional[List[Finding]] = None,
                owner: Optional[ObjectRef] = None) -> Finding:
        return new_finding(self.plugin, reason, self.ref, summary,
                           owner=owner if owner is not None else self.finding_owner,
                           container=container, evidence=evidence, suggestions=suggestions,
                           cause=cause, severity=severity, details=details, related=related)


@dataclass
class PodContext(SubjectContext):
    view: ClusterView
    pod: dict
    plugin: str                      # the plugin that is running ("why", "oomcheck", ...)
    owner: Optional[ObjectRef] = None  # top owner: what suggestions should patch
    _events: Optional[List[dict]] = field(default=None, repr=False)

    # ---- the pod ------------------------------------------------------------------------------
    @property
    def name(self) -> str:
        return meta(self.pod).get("name", "")

    @property
    def namespace(self) -> str:
        return meta(self.pod).get("namespace") or "default"

    @property
    def ref(self) -> ObjectRef:
        return ObjectRef("Pod", self.namespace, self.name)

    @property
    def spec(self) -> dict:
        return self.pod.get("spec") or {}

    @property
    def status(self) -> dict:
        return self.pod.get("status") or {}

    def containers(self, init: Optional[bool] = None) -> Iterator[Container]:
        """Containers with their statuses; init=True/False restricts to init or app containers."""
        groups = []
        if init in (None, True):
            groups.append(("initContainers", "initContainerStatuses", True))
        if init in (None, False):
            groups.append(("containers", "containerStatuses", False))
        for spec_key, status_key, is_init in groups:
            statuses = {s.get("name"): s for s in self.status.get(status_key) or []}
            for c in self.spec.get(spec_key) or []:
                yield Container(c.get("name", ""), c, statuses.get(c.get("name"), {}), is_init,
                                is_init and c.get("restartPolicy") == "Always")

    def container(self, name: str) -> Optional[Container]:
        return next((c for c in self.containers() if c.name == name), None)

    def condition(self, ctype: str) -> Optional[dict]:
        """The pod's condition of that type; listed twice (a patched or pasted status), the newest."""
        return pick_condition(self.status.get("conditions"), ctype)

    def condition_true(self, ctype: str) -> Optional[bool]:
        """True when the condition is True, False when it is anything else (False, Unknown, odd
        casing), None when the pod does not have it."""
        cond = self.condition(ctype)
        return None if cond is None else is_true(cond)

    def scheduled(self) -> bool:
        """Was the pod bound to a node? Any evidence will do: spec.nodeName, PodScheduled=True,
        status.hostIP, a Scheduled event, events from the kubelet or the attach/detach controller
        (they act only on bound pods), or container statuses the kubelet wrote."""
        if self.spec.get("nodeName") or self.status.get("hostIP") or self.condition_true("PodScheduled"):
            return True
        for ev in self.events():
            if ev.get("reason") == "Scheduled" or \
                    (ev.get("source") or {}).get("component") in ("kubelet", "attachdetach-controller") or \
                    ev.get("reason") in ("FailedMount", "FailedAttachVolume", "FailedMapVolume",
                                         "SuccessfulAttachVolume"):
                return True
        statuses = (self.status.get("containerStatuses") or []) + (self.status.get("initContainerStatuses") or [])
        return any(s.get("containerID") or s.get("imageID") or s.get("lastState") or
                   (s.get("state") or {}).get("running") or (s.get("state") or {}).get("terminated")
                   for s in statuses)

    # ---- events -------------------------------------------------------------------------------
    def events(self) -> List[dict]:
        if self._events is None:
            self._events = self.view.events_for(self.pod, "Pod")
        return self._events

    def events_where(self, reason: Optional[str] = None, container: Optional[str] = None,
                     contains: Optional[str] = None, init: Optional[bool] = None) -> List[dict]:
        """Pod events filtered by reason, by the container they are about, by message text."""
        out = []
        for ev in self.events():
            if reason and ev.get("reason") != reason:
                continue
            if container:
                fp = (ev.get("involvedObject") or {}).get("fieldPath") or ""
                if fp and not fp.endswith("{" + container + "}"):
                    continue
                if fp and init is not None and ("initContainers" in fp) != init:
                    continue
            if contains and contains not in (ev.get("message") or ""):
                continue
            out.append(ev)
        return out

    def describe_event(self, ev: dict) -> str:
        """`event Failed (x4, 2m ago): message` — one evidence line, as describe would show it."""
        count = ev.get("count") or 1
        when = age(event_time(ev), self.view.now) if event_time(ev) else None
        bits = [f"x{count}"] if count and int(count) > 1 else []
        if when:
            bits.append(f"{when} ago")
        head = f"event {ev.get('reason', '?')}" + (f" ({', '.join(bits)})" if bits else "")
        return f"{head}: {clean(ev.get('message', ''))}"

    # ---- findings and suggestions -------------------------------------------------------------
    @property
    def finding_owner(self) -> Optional[ObjectRef]:
        return self.owner

    def workload(self) -> str:
        """`deployment/broken-image` — the object a fix must change (never the ReplicaSet's pod)."""
        owner = self.owner
        if owner and owner.kind in KUBECTL_NAME and owner.kind != "ReplicaSet":
            return f"{KUBECTL_NAME[owner.kind]}/{owner.name}"
        if owner and owner.kind == "ReplicaSet":
            return f"replicaset/{owner.name}"
        return f"pod/{self.name}"

    def pod_spec_path(self) -> str:
        """JSONPath of the pod spec inside the object `workload()` names (for `-o jsonpath=`)."""
        kind = self.workload().split("/")[0]
        if kind == "pod":
            return ".spec"
        if kind == "cronjob":
            return ".spec.jobTemplate.spec.template.spec"
        return ".spec.template.spec"

    def owned(self) -> bool:
        return self.workload().split("/")[0] != "pod"

    def template_patch(self, pod_spec_patch: dict) -> str:
        """A strategic-merge `kubectl patch` of the owner's pod template (or of a bare pod)."""
        body = pod_spec_patch if not self.owned() else _wrap_template(self.workload(), pod_spec_patch)
        return (f"kubectl patch {self.workload()} {self.ns_flag} --type=strategic "
                f"-p {shlex.quote(json.dumps(body, separators=(',', ':')))}")

    def logs_cmd(self, container: str, previous: bool = True) -> str:
        return (f"kubectl logs {self.name} {self.ns_flag} -c {shlex.quote(container)}"
                + (" --previous" if previous else ""))


def _wrap_template(workload: str, pod_spec_patch: dict) -> dict:
    spec = {"template": {"spec": pod_spec_patch}}
    if workload.startswith("cronjob/"):
        return {"spec": {"jobTemplate": {"spec": spec}}}
    return {"spec": spec}


def fix(command: str, why: str = None) -> Fix:
    """A suggestion: the command alone (safe to paste in bash and zsh) and its one-line why."""
    return Fix(command, why)


def quote(value) -> str:
    return shlex.quote(str(value))


def status_line(c: Container) -> Optional[str]:
    """The container's state as evidence: `container app waiting: ImagePullBackOff (message)`."""
    if c.waiting:
        msg = c.waiting.get("message")
        return (f"container {c.name} waiting: {c.waiting.get('reason', '?')}"
                + (f" — {clean(msg)}" if msg else ""))
    if c.terminated:
        t = c.terminated
        return (f"container {c.name} terminated: {t.get('reason', '?')}, exit code {t.get('exitCode')}"
                + (f" — {clean(t.get('message'))}" if t.get("message") else ""))
    return None


def is_true(cond: Optional[dict]) -> bool:
    """A condition is True only when it says so; False, Unknown or a missing status are not True."""
    return str((cond or {}).get("status") or "").strip().lower() == "true"


def pick_condition(conditions, ctype: str) -> Optional[dict]:
    """The condition of that type; when a type is listed twice, the one that changed last (the
    later one in the list on a tie or without times)."""
    found = None
    for c in conditions or []:
        if not isinstance(c, dict) or c.get("type") != ctype:
            continue
        if found is None or str(c.get("lastTransitionTime") or "") >= str(found.get("lastTransitionTime") or ""):
            found = c
    return found
