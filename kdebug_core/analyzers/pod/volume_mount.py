"""VolumeMountFailed: a volume cannot be attached or mounted, so the pod stays in ContainerCreating.

Status first: a claim that is missing, Pending or Lost is read from the PersistentVolumeClaim
itself, which does not expire like events do. Then the kubelet's and the attach/detach
controller's events name the rest: `FailedMount` (`MountVolume.SetUp failed for volume "nfs" :
mount failed: exit status 32 ...`, `hostPath type check failed: /data is not a directory`,
CSI `rpc error`s), `FailedAttachVolume` (`Multi-Attach error for volume "pvc-..." Volume is already
used by pod(s) other-pod`, `AttachVolume.Attach failed ...`) and `FailedMapVolume` (block volumes).

The generic follow-up `Unable to attach or mount volumes: unmounted volumes=[data], unattached
volumes=[...]: timed out waiting for the condition` (newer kubelets add `failed to process
volumes=[...]` and end in `context deadline exceeded`; before 1.17 it read `Unable to mount volumes
for pod "...": timeout expired waiting for volumes to attach or mount ... list of unmounted
volumes=[data]`) only says which volumes are stuck; it becomes a finding of its own only when
nothing more specific explains them.

A subPath the kubelet cannot prepare stops the container before the runtime sees it: the container
waits in `CreateContainerConfigError` (pkg/kubelet/kubelet_pods.go, makeMounts). When the subPath
does not exist yet the kubelet stats the volume's own directory to copy its mode, and a missing
directory comes out raw, `stat /data/app: no such file or directory` (a hostPath volume or
PersistentVolume whose directory is not on the node; k3d/k3s-io#765): cause SubPathMissing. The
kubelet's other subPath errors hide the detail on purpose: `failed to create subPath directory for
volumeMount "X" of container "Y"` and `failed to prepare subPath for volumeMount "X" of container
"Y"` (a read-only or root-squashed volume, a symlink out of the volume, a stale NFS handle): cause
SubPathFailed.

Missing ConfigMaps and Secrets (and their keys) behind configMap/secret/projected volumes belong to
config_refs; a claim that keeps an unscheduled pod Pending belongs to the unschedulable analyzer.
"""

import json
import re
import shlex
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Tuple

from ...findings import Finding
from ...sanitize import clean
from . import config_refs
from ..base import Container, PodContext, fix, is_true, quote, status_line

_EVENT_REASONS = ("FailedMount", "FailedAttachVolume", "FailedMapVolume")
_UNMOUNTED = re.compile(r"unmounted volumes=\[([^\]]*)\]", re.I)
_TIMEOUT = re.compile(r"timed out waiting for the condition|context deadline exceeded|"
                      r"timeout expired waiting for volumes", re.I)
# `MountVolume.SetUp failed for volume "nfs" : ...`, `MountVolume.MountDevice failed for volume
# "pvc-1" : ...`, `AttachVolume.Attach failed for volume "pvc-1" : ...`, `MapVolume.SetUpDevice ...`
_OP_FAILED = re.compile(r'\b((?:MountVolume|AttachVolume|MapVolume|UnmapVolume)\.\w+) failed for volume '
                        r'"([^"]+)"(?:.*?\(spec\.Name: "([^"]+)"\))?[^:]*?: ?(.*)', re.S | re.I)
_MULTI_ATTACH = re.compile(r'Multi-Attach error for volume "([^"]+)"\s*(.*)', re.S | re.I)
_USED_BY = re.compile(r"already used by pod\(s\) ([^\n]+?)(?: and \d+ pod\(s\) in different namespaces)?$", re.I)
_PROCESSING_PVC = re.compile(r"error processing PVC \"?([^/\s\"]+)\"?/\"?([^:\s\"]+)\"?: (.*)", re.S | re.I)
_PVC_NOT_FOUND = re.compile(r'persistentvolumeclaims? "([^"]+)" not found', re.I)
_PROVISIONER = re.compile(r"external provisioner ['\"]([^'\"]+)['\"]")
_SC_NOT_FOUND = re.compile(r'storageclass(?:\.storage\.k8s\.io)? "([^"]+)" not found', re.I)
_OUTPUT = re.compile(r"Output: (.*)", re.S)
# causes read from a mount/attach error (a later error of the same volume replaces them)
_EVENT_CAUSES = ("Timeout", "MountFailed", "AttachFailed", "HostPathType")


@dataclass
class Issue:
    volume: str
    cause: str
    what: str                          # the plain-words explanation for the summary
    evidence: List[str] = field(default_factory=list)
    details: Dict = field(default_factory=dict)
    suggestions: List[str] = field(default_factory=list)


def _scheduler_message(ctx: PodContext) -> str:
    cond = ctx.condition("PodScheduled")
    text = (cond.get("message") or "") if cond is not None and not is_true(cond) else ""
    events = ctx.events_where("FailedScheduling")
    if events:
        text += " " + (events[-1].get("message") or "")
    return text


def _stuck(ctx: PodContext) -> bool:
    """Scheduled but no container has started: what a volume that will not mount looks like."""
    if ctx.status.get("phase") not in (None, "", "Pending"):
        return False
    for c in ctx.containers():
        if c.state.get("running") or c.terminated or c.last_terminated:
            return False
        if c.waiting and c.waiting.get("reason") not in ("ContainerCreating", "PodInitializing"):
            return False  # waiting for something else (image pull, config error)
    return True


def analyze(ctx: PodContext) -> List[Finding]:
    if ctx.status.get("phase") in ("Succeeded", "Failed") or _deleting(ctx):
        return []
    volumes = {v.get("name"): v for v in ctx.spec.get("volumes") or []}
    mounts: Dict[str, List[Tuple[Container, str]]] = {}
    for c in ctx.containers():
        for m in (c.spec.get("volumeMounts") or []) + (c.spec.get("volumeDevices") or []):
            mounts.setdefault(m.get("name"), []).append((c, m.get("mountPath") or m.get("devicePath", "")))
    # Bound to a node, on any evidence (nodeName, PodScheduled=True, hostIP, kubelet or
    # attach/detach events, kubelet-written statuses): then the mount and attach events are read.
    scheduled = ctx.scheduled()
    stuck = _stuck(ctx)
    issues: Dict[str, Issue] = {}

    # 1. Claims, from their own status.
    claims = {name: _claim_name(ctx, vol) for name, vol in volumes.items() if name in mounts}
    claims = {k: v for k, v in claims.items() if v}
    sched = "" if scheduled else _scheduler_message(ctx)
    scheduler_covers = bool(re.search(r"persistentvolumeclaim|volume", sched, re.I))
    if stuck and not scheduler_covers:
        for vname, claim in claims.items():
            issue = _claim_issue(ctx, vname, claim, scheduled)
            if issue:
                issues[vname] = issue

    # 2. Events: only while the pod is stuck (afterwards they are history), never config_refs'.
    if stuck and scheduled:
        pv_to_volume = {}
        for vname, claim in claims.items():
            pvc = ctx.view.get("PersistentVolumeClaim", ctx.namespace, claim) or {}
            pv = (pvc.get("spec") or {}).get("volumeName")
            if pv:
                pv_to_volume[pv] = vname
        explained = _config_ref_volumes(ctx)
        waiting_on: Dict[str, List[dict]] = {}
        for ev in [e for e in ctx.events() if e.get("reason") in _EVENT_REASONS]:
            msg = ev.get("message") or ""
            if config_refs.config_ref_message(msg) and not _PVC_NOT_FOUND.search(msg):
                continue
            m = _MULTI_ATTACH.search(msg)
            if m:
                vname = pv_to_volume.get(m.group(1), m.group(1))
                issues[vname] = _multi_attach(ctx, vname, m.group(1), m.group(2), ev, issues.get(vname))
                continue
            m = _UNMOUNTED.search(msg)
            if m and re.search(r"Unable to (?:attach or )?mount volumes", msg, re.I):
                tail = msg[msg.rfind("]") + 1:].lstrip(": ").strip()
                for vname in m.group(1).split():
                    waiting_on.setdefault(vname, []).append(ev)
                p = _PROCESSING_PVC.search(tail)
                if p and not _TIMEOUT.fullmatch(tail):
                    vname = next((v for v, c in claims.items() if c == p.group(2)), p.group(2))
                    if vname not in issues:
                        issues[vname] = _claim_issue(ctx, vname, p.group(2), scheduled) or Issue(
                            vname, "ClaimNotUsable", f'volume "{clean(vname)}" needs PersistentVolumeClaim '
                            f'"{clean(p.group(2))}", which the kubelet cannot use: {clean(p.group(3))}')
                    _add_event(ctx, issues[vname], ev)
                continue
            m = _OP_FAILED.search(msg)
            if m:
                op, name, spec_name, rest = m.groups()
                vname = spec_name or pv_to_volume.get(name, name)
                if vname in explained:
                    continue
                issue = issues.get(vname)
                if issue is None or issue.cause in _EVENT_CAUSES:
                    # events come oldest first: the newest error of the volume is the one to explain
                    newer = _op_issue(ctx, vname, op, name, rest, volumes.get(vname) or {})
                    newer.evidence = issue.evidence if issue else []
                    issue = issues[vname] = newer
                _add_event(ctx, issue, ev)
        for vname, evs in waiting_on.items():
            if vname in explained:
                continue
            if vname in issues:
                for ev in evs[-1:]:
                    _add_event(ctx, issues[vname], ev)
                continue
            if vname not in volumes:
                continue
            issue = _timeout_issue(ctx, vname, volumes[vname], claims.get(vname))
            _add_event(ctx, issue, evs[-1])
            issues[vname] = issue

    findings = []
    for vname, issue in issues.items():
        findings.append(_finding(ctx, issue, volumes.get(vname), mounts.get(vname) or [], claims.get(vname)))
    findings += _subpath_findings(ctx, volumes)
    return findings


# ---- subPath (CreateContainerConfigError) ------------------------------------------------------
_SUBPATH_STAT = re.compile(r"^\s*(?:Error:\s*)?stat (/\S*): no such file or directory\s*$", re.I)
_SUBPATH_OTHER = re.compile(r'failed to (create|prepare) subPath(?: directory)? for volumeMount "([^"]*)" '
                            r'of container "([^"]*)"', re.I)


def _subpath_message(ctx: PodContext, c: Container) -> Tuple[Optional[str], List[dict]]:
    """The kubelet's subPath error for this container: from its waiting message, else its events."""
    waiting = c.waiting or {}
    if c.state.get("running") or waiting.get("reason") not in (None, "CreateContainerConfigError"):
        return None, []
    events = [e for e in ctx.events_where("Failed", c.name, init=c.init)
              if _SUBPATH_STAT.match(e.get("message") or "") or _SUBPATH_OTHER.search(e.get("message") or "")]
    message = waiting.get("message") or ""
    if _SUBPATH_STAT.match(message) or _SUBPATH_OTHER.search(message):
        return message, events
    if events and (waiting.get("reason") == "CreateContainerConfigError" or not c.status):
        return re.sub(r"^\s*Error:\s*", "", events[-1].get("message") or ""), events
    return None, []


def _volume_at(ctx: PodContext, volumes: Dict[str, dict], path: str) -> Tuple[Optional[str], Optional[str]]:
    """(pod volume name, PersistentVolume name) whose directory on the node is `path`."""
    def host_path(spec: dict) -> Optional[str]:
        return ((spec.get("hostPath") or {}).get("path") or (spec.get("local") or {}).get("path") or "").rstrip("/") \
            or None
    want = path.rstrip("/")
    for vname, vol in volumes.items():
        if host_path(vol) == want:
            return vname, None
        claim = _claim_name(ctx, vol)
        if claim:
            pvc = ctx.view.get("PersistentVolumeClaim", ctx.namespace, claim) or {}
            pv_name = (pvc.get("spec") or {}).get("volumeName")
            pv = ctx.view.get("PersistentVolume", None, pv_name) if pv_name else None
            if pv and host_path(pv.get("spec") or {}) == want:
                return vname, pv_name
    if not volumes or any(_claim_name(ctx, v) for v in volumes.values()):
        # the pod's volumes were not captured, or a claim's volume could not be followed
        for pv in ctx.view.list("PersistentVolume", None, optional=True):
            if host_path(pv.get("spec") or {}) == want:
                return None, (pv.get("metadata") or {}).get("name")
    return None, None


def _subpath_findings(ctx: PodContext, volumes: Dict[str, dict]) -> List[Finding]:
    findings = []
    node = ctx.spec.get("nodeName")
    for c in ctx.containers():
        message, events = _subpath_message(ctx, c)
        if not message:
            continue
        kind = "init container" if c.init else "container"
        evidence = [status_line(c)] if c.waiting else []
        if events:
            evidence.append(ctx.describe_event(events[-1]))
        suggestions: List = []
        details: Dict = {"message": message}
        subpaths = [m for m in c.spec.get("volumeMounts") or [] if m.get("subPath") or m.get("subPathExpr")]
        stat = _SUBPATH_STAT.match(message)
        if stat:
            path = stat.group(1)
            vname, pv = _volume_at(ctx, volumes, path)
            cause = "SubPathMissing"
            owner = (f'volume "{clean(vname)}"' if vname else "") + \
                (f"{' (' if vname else ''}PersistentVolume {clean(pv)}{')' if vname else ''}" if pv else "")
            what = (f"the kubelet cannot prepare the subPath mount of {kind} {c.name}: the directory {clean(path)}"
                    f"{' of ' + owner if owner else ' of its volume'} does not exist on the node")
            details.update({"path": path, "volume": vname, "persistentVolume": pv})
            if pv:
                evidence.append(f"PersistentVolume {clean(pv)}: hostPath {clean(path)}")
            if node:
                suggestions.append(fix(f"kubectl debug node/{quote(node)} -it --profile=sysadmin --image=busybox:1.36 "
                                       f"-- mkdir -p {quote('/host' + path)}",
                                       f"create the directory on node {node}: a hostPath is not made for you "
                                       f"(unless its type is DirectoryOrCreate)"))
            else:
                suggestions.append(fix(f"kubectl get pod {quote(ctx.name)} {ctx.ns_flag} -o "
                                       f"jsonpath='{{.spec.nodeName}}'",
                                       f"the node on which {path} must exist (create it there, or give the "
                                       f"hostPath type DirectoryOrCreate)"))
            if pv:
                suggestions.append(f"kubectl get pv {quote(pv)} -o yaml")
        else:
            m = _SUBPATH_OTHER.search(message)
            verb, vname = m.group(1).lower(), m.group(2)
            cause = "SubPathFailed"
            what = (f'the kubelet cannot {verb} the subPath of volumeMount "{clean(vname)}" of {kind} {c.name} '
                    + ("(it could not create the directory in the volume: read-only, or root-squashed NFS)"
                       if verb == "create" else
                       "(a path that escapes the volume through a symlink, or a stale NFS handle)"))
            details["volume"] = vname
        for mnt in subpaths[:3]:
            evidence.append(f"volumeMount {clean(mnt.get('name'))} → {clean(mnt.get('mountPath'))} "
                            f"(subPath {clean(mnt.get('subPath') or mnt.get('subPathExpr'))})")
        group = "initContainers" if c.init else "containers"
        suggestions.append(f"kubectl get {ctx.workload()} {ctx.ns_flag} -o jsonpath='{{{ctx.pod_spec_path()}."
                           f"{group}[?(@.name==\"{c.name}\")].volumeMounts}}'")
        suggestions.append(f"kubectl describe pod {quote(ctx.name)} {ctx.ns_flag}")
        findings.append(ctx.finding("VolumeMountFailed", f"pod cannot start: {what}", container=c.name,
                                    cause=cause, evidence=[e for e in evidence if e],
                                    suggestions=suggestions, details=details))
    return findings


def _deleting(ctx: PodContext) -> bool:
    return bool((ctx.pod.get("metadata") or {}).get("deletionTimestamp"))


def _claim_name(ctx: PodContext, vol: dict) -> Optional[str]:
    if vol.get("persistentVolumeClaim"):
        return vol["persistentVolumeClaim"].get("claimName")
    if vol.get("ephemeral"):
        return f"{ctx.name}-{vol.get('name')}"   # generic ephemeral volumes: POD-VOLUME
    return None


def _config_ref_volumes(ctx: PodContext) -> set:
    """Volumes whose failure config_refs explains (a missing ConfigMap/Secret or key)."""
    out = set()
    for f in config_refs.analyze(ctx):
        for ref in (f.details or {}).get("referencedBy") or []:
            if ref.get("volume"):
                out.add(ref["volume"])
    return out


def _volume_type(vol: dict) -> str:
    for key in vol:
        if key != "name":
            return key
    return "volume"


def _add_event(ctx: PodContext, issue: Issue, ev: dict):
    line = ctx.describe_event(ev)
    if line not in issue.evidence:
        issue.evidence.append(line)


# ---- claims ----------------------------------------------------------------------------------
def _claim_issue(ctx: PodContext, vname: str, claim: str, scheduled: bool) -> Optional[Issue]:
    ns, nsf = ctx.namespace, ctx.ns_flag
    exists = ctx.view.exists("PersistentVolumeClaim", ns, claim)
    if exists is None:
        return None
    cq = f'PersistentVolumeClaim "{clean(claim)}"'
    needs = f'volume "{clean(vname)}" needs {cq}, which'
    if exists is False:
        issue = Issue(vname, "PVCNotFound", f"{needs} does not exist in namespace {ns}",
                      details={"claim": claim})
        issue.suggestions = [
            f"kubectl get pvc {nsf}",
            "echo " + shlex.quote(json.dumps(
                {"apiVersion": "v1", "kind": "PersistentVolumeClaim", "metadata": {"name": claim},
                 "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "SIZE"}}}},
                separators=(",", ":"))) + f" | kubectl apply {nsf} -f -",
        ]
        return issue
    pvc = ctx.view.get("PersistentVolumeClaim", ns, claim) or {}
    phase = (pvc.get("status") or {}).get("phase") or "Pending"
    spec = pvc.get("spec") or {}
    sc = spec.get("storageClassName")
    events = ctx.view.events_for(pvc, "PersistentVolumeClaim")
    if phase == "Pending":
        why = _pending_reason(events)
        if not scheduled and not why:
            # Unscheduled, and nothing says binding failed: a WaitForFirstConsumer claim binds once
            # the scheduler picks a node, and anything else is the scheduler's to report.
            return None
        issue = Issue(vname, "PVCPending", f"{needs} is Pending (no PersistentVolume is bound to it)"
                      + (f": {why}" if why else ""),
                      details={"claim": claim, "phase": phase, "storageClassName": sc})
        size = ((spec.get("resources") or {}).get("requests") or {}).get("storage", "?")
        issue.evidence.append(f"{cq} phase Pending, storageClassName "
                              f"{clean(sc) if sc else '(none)'}, requests {clean(size)}")
        for ev in _last_per_reason(events):
            issue.evidence.append(ctx.describe_event(ev).replace("event ", "claim event ", 1))
        text = " ".join(e.get("message") or "" for e in events)
        sc_missing = _SC_NOT_FOUND.search(text)
        prov = _PROVISIONER.search(text)
        issue.suggestions = [f"kubectl describe pvc {quote(claim)} {nsf}", f"kubectl get pvc,pv {nsf}",
                             fix("kubectl get storageclass",
                                 f'"{sc_missing.group(1)}" is not one of them: recreate the claim with an '
                                 f"existing storageClassName (it cannot be changed)" if sc_missing else None)]
        if "no storage class is set" in text:
            body = {"metadata": {"annotations": {"storageclass.kubernetes.io/is-default-class": "true"}}}
            issue.suggestions.append(fix(
                "kubectl patch storageclass STORAGECLASS -p " + shlex.quote(json.dumps(body, separators=(",", ":"))),
                "a default class is given to claims without one (1.28+)"))
        elif prov:
            issue.suggestions.append(fix(f"kubectl get pods -A -o wide | grep -i {quote(prov.group(1).split('.')[0])}",
                                         f"is the provisioner {prov.group(1)} running?"))
        return issue
    if phase == "Lost":
        pv = spec.get("volumeName")
        issue = Issue(vname, "PVCLost", f"{needs} is Lost: its PersistentVolume "
                                        f"\"{clean(pv or '?')}\" no longer exists",
                      details={"claim": claim, "phase": phase, "persistentVolume": pv})
        issue.evidence.append(f"{cq} phase Lost, volumeName {clean(pv or '(none)')}")
        issue.suggestions = [f"kubectl describe pvc {quote(claim)} {nsf}",
                             f"kubectl get pv {quote(pv)}" if pv else "kubectl get pv"]
        return issue
    return None


def _pending_reason(events: List[dict]) -> str:
    """Why the claim is not bound, in the persistentvolume controller's or provisioner's words."""
    for ev in reversed(events):
        if ev.get("reason") in ("ProvisioningFailed", "FailedBinding", "ExternalProvisioning"):
            return clean(ev.get("message") or "")
    return ""


def _last_per_reason(events: List[dict], limit: int = 3) -> List[dict]:
    seen, out = set(), []
    for ev in reversed(events):
        if ev.get("reason") not in seen:
            seen.add(ev.get("reason"))
            out.append(ev)
    return list(reversed(out[:limit]))


# ---- events ----------------------------------------------------------------------------------
def _multi_attach(ctx: PodContext, vname: str, pv: str, rest: str, ev: dict,
                  previous: Optional[Issue]) -> Issue:
    rest = rest.strip()
    m = _USED_BY.search(rest)
    others = [p.strip() for p in m.group(1).split(",")] if m else []
    who = (f"pod(s) {', '.join(clean(o) for o in others)}" if others else "another pod on another node")
    issue = Issue(vname, "MultiAttach",
                  f'volume "{clean(vname)}" cannot be attached: PersistentVolume "{clean(pv)}" is still '
                  f"attached to another node, used by {who} (a ReadWriteOnce volume attaches to one "
                  f"node at a time)",
                  details={"persistentVolume": pv, "usedBy": others})
    if previous is not None:
        issue.evidence = [e for e in previous.evidence if e]
    _add_event(ctx, issue, ev)
    nsf = ctx.ns_flag
    for other in others:
        issue.suggestions.append(fix(f"kubectl get pod {quote(other)} {nsf} -o wide", "which node holds it"))
    issue.suggestions.append(f"kubectl get volumeattachments | grep {quote(pv)}")
    if ctx.workload().startswith("deployment/"):
        body = '{"spec":{"strategy":{"type":"Recreate","rollingUpdate":null}}}'
        issue.suggestions.append(fix(f"kubectl patch {ctx.workload()} {nsf} --type=merge -p {shlex.quote(body)}",
                                     "stop old and new pods sharing the volume during rollouts"))
    return issue


def _op_issue(ctx: PodContext, vname: str, op: str, name: str, rest: str, vol: dict) -> Issue:
    rest = rest.strip()
    node = ctx.spec.get("nodeName")
    nsf = ctx.ns_flag
    short = clean(rest.splitlines()[0] if rest else "")
    output = _OUTPUT.search(rest)
    detail = {"operation": op, "error": rest}
    if name != vname:
        detail["persistentVolume"] = name
    if "hostPath type check failed" in rest:
        issue = Issue(vname, "HostPathType", f'volume "{clean(vname)}" cannot be mounted: {short}',
                      details=detail)
        hp = vol.get("hostPath") or {}
        path = hp.get("path", "PATH")
        if node:
            issue.suggestions.append(f"kubectl debug node/{quote(node)} -it --profile=general --image=busybox:1.36 "
                                     f"-- ls -ld {quote('/host' + path)}")
        create = {"Directory": "DirectoryOrCreate", "File": "FileOrCreate"}.get(hp.get("type"))
        if create:
            issue.suggestions.append(ctx.template_patch(
                {"volumes": [{"name": vname, "hostPath": {"path": path, "type": create}}]}))
        return issue
    if op.startswith("AttachVolume"):
        issue = Issue(vname, "AttachFailed", f'volume "{clean(vname)}" cannot be attached to node '
                                             f"{clean(node or '?')}: {short}", details=detail)
        issue.suggestions = [f"kubectl get volumeattachments | grep {quote(name)}",
                             "kubectl get csidrivers"]
        return issue
    why = short
    if output:
        why = f"{clean(rest.split('Mounting command')[0].strip().rstrip(':'))} ({clean(output.group(1).strip())})"
    issue = Issue(vname, "MountFailed", f'volume "{clean(vname)}" ({_volume_type(vol) if vol else "volume"}) '
                                        f"cannot be mounted: {why}", details=detail)
    issue.suggestions.append(f"kubectl describe pod {quote(ctx.name)} {nsf}")
    if vol.get("nfs"):
        nfs = vol["nfs"]
        server = nfs.get("server", "SERVER")
        issue.suggestions.append(fix(
            f"kubectl run nfs-check {nsf} --rm -it --restart=Never --image=alpine:3.19 -- sh -c "
            + quote(f"apk add -q nfs-utils && showmount -e {server}"),
            f"is {nfs.get('path')} exported to node {node or '?'}? (the node also needs an NFS client)"))
    elif "csi" in rest.lower() or "rpc error" in rest or vol.get("csi") or vol.get("persistentVolumeClaim"):
        issue.suggestions.append("kubectl get csidrivers")
        if node:
            issue.suggestions.append(fix(f"kubectl get pods -A -o wide --field-selector spec.nodeName={quote(node)}"
                                         f" | grep -i csi", "the CSI node plugin on that node"))
    return issue


def _timeout_issue(ctx: PodContext, vname: str, vol: dict, claim: Optional[str]) -> Issue:
    """Only the kubelet's generic follow-up is left: say which volume, and where to look."""
    issue = Issue(vname, "Timeout", f'volume "{clean(vname)}" ({_volume_type(vol)}) could not be mounted: '
                                    f"the kubelet timed out waiting for it and gave no other reason")
    node = ctx.spec.get("nodeName")
    pvc = ctx.view.get("PersistentVolumeClaim", ctx.namespace, claim) if claim else None
    pv = ((pvc or {}).get("spec") or {}).get("volumeName")
    if pv:
        issue.details["persistentVolume"] = pv
        issue.suggestions.append(f"kubectl get volumeattachments | grep {quote(pv)}")
    if claim or vol.get("csi"):
        issue.suggestions.append("kubectl get csidrivers")
        if node:
            issue.suggestions.append(fix(f"kubectl get pods -A -o wide --field-selector spec.nodeName={quote(node)}"
                                         f" | grep -i csi", "the CSI node plugin on that node"))
    issue.suggestions.append(fix(f"kubectl get events {ctx.ns_flag} --field-selector "
                                 f"involvedObject.name={quote(ctx.name)}", "a more specific FailedMount may follow"))
    return issue


# ---- the finding -----------------------------------------------------------------------------
def _finding(ctx: PodContext, issue: Issue, vol: Optional[dict], mounted: List[Tuple[Container, str]],
             claim: Optional[str]) -> Finding:
    first = mounted[0][0] if mounted else None
    evidence = []
    stuck_line = next((status_line(c) for c in ctx.containers() if c.waiting), None)
    if stuck_line:
        evidence.append(stuck_line)
    evidence += issue.evidence
    if vol is not None:
        source = _volume_type(vol) + (f" {clean(claim)}" if claim else "")
        where = ", ".join(f"{c.name} at {clean(p)}" for c, p in mounted) or "no container"
        evidence.append(f'volume "{clean(issue.volume)}" ({source}) mounted by {where}')
    suggestions = list(issue.suggestions)
    if claim and not any(s.startswith("kubectl get pvc") for s in suggestions):
        suggestions.append(f"kubectl describe pvc {quote(claim)} {ctx.ns_flag}")
        suggestions.append(f"kubectl get pvc,pv {ctx.ns_flag}")
    if not suggestions:
        suggestions.append(f"kubectl describe pod {quote(ctx.name)} {ctx.ns_flag}")
    details = {"volume": issue.volume, **issue.details}
    if claim:
        details.setdefault("claim", claim)
    return ctx.finding("VolumeMountFailed", f"pod cannot start: {issue.what}",
                       container=first.name if first else None, cause=issue.cause,
                       evidence=evidence, suggestions=suggestions, details=details)
