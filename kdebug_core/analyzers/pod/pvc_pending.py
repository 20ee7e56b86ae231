"""PersistentVolumeClaimPending: the pod waits for a claim that is not bound (or does not exist).

The scheduler only says `pod has unbound immediate PersistentVolumeClaims` or
`persistentvolumeclaim "data" not found` (Unschedulable's PVC causes, which this finding replaces);
why the claim is not bound is on the claim, in the persistentvolume controller's events
(pkg/controller/volume/persistentvolume/pv_controller.go) and in the objects:

* `ProvisioningFailed` (Warning) `storageclass.storage.k8s.io "fast" not found` — the claim names a
  class that does not exist (cause `StorageClassNotFound`);
* `FailedBinding` (Normal) `no persistent volumes available for this claim and no storage class is
  set` — no class named, no default class, no matching volume (cause `NoDefaultStorageClass`, or
  `NoMatchingVolume` when the claim asked for static binding with `storageClassName: ""`);
* `VolumeMismatch` (Warning) `Cannot bind to requested volume "pv1": requested PV is too small` /
  `incompatible accessMode` / `storageClassName does not match` (cause `NoMatchingVolume`);
* `ProvisioningFailed` (Warning) from a provisioner, e.g. `failed to provision volume with
  StorageClass "standard": NodePath only supports ReadWriteOnce and ReadWriteOncePod (1.22+) access
  modes` (cause `ProvisioningFailed`, with the provisioner's message);
* `ExternalProvisioning` (Normal) `Waiting for a volume to be created either by the external
  provisioner 'x' or manually ...` for a long time: the provisioner is not running (cause
  `WaitingForProvisioner`);
* `WaitForFirstConsumer` (Normal) `waiting for first consumer to be created before binding` — not a
  failure: the claim binds once the pod is scheduled.

Events expire after an hour: without them the claim's storageClassName is checked against the
StorageClasses (cluster-scoped; their absence from offline input proves nothing).
"""

import json
import re
from typing import Dict, List, Optional

from ...sanitize import clean
from ...timeutil import age, seconds_between
from ...view import meta
from ..base import PodContext, fix, quote

DEFAULT_CLASS = "storageclass.kubernetes.io/is-default-class"
_SC_NOT_FOUND = re.compile(r'storageclass\.storage\.k8s\.io "([^"]*)" not found')
_NO_CLASS = "no persistent volumes available for this claim and no storage class is set"
_MISMATCH = re.compile(r'Cannot bind to requested volume "([^"]+)": (.+)')
_EXTERNAL = re.compile(r"(?:external provisioner|by external provisioner) ['\"]([^'\"]+)['\"]")


def claims(spec: dict, pod_name: str) -> List[str]:
    """The claims a pod mounts: persistentVolumeClaim volumes and generic ephemeral volumes
    (whose claim is named POD-VOLUME)."""
    out = []
    for v in spec.get("volumes") or []:
        if (v.get("persistentVolumeClaim") or {}).get("claimName"):
            out.append(v["persistentVolumeClaim"]["claimName"])
        elif v.get("ephemeral"):
            out.append(f"{pod_name}-{v.get('name')}")
    return out


def analyze(ctx: PodContext) -> List:
    if (ctx.status.get("phase") or "Pending") != "Pending":
        return []
    found = []
    for claim in claims(ctx.spec, ctx.name):
        f = _claim(ctx, claim)
        if f is not None:
            found.append(f)
    return found[:1] if found else []


def _scheduler_says_missing(ctx: PodContext, claim: str) -> bool:
    text = f'persistentvolumeclaim "{claim}" not found'
    cond = ctx.condition("PodScheduled") or {}
    return text in (cond.get("message") or "") or any(text in (e.get("message") or "")
                                                      for e in ctx.events_where("FailedScheduling"))


def _claim(ctx: PodContext, claim: str):
    view = ctx.view
    pvc = view.get("PersistentVolumeClaim", ctx.namespace, claim)
    if pvc is None:
        exists = view.exists("PersistentVolumeClaim", ctx.namespace, claim)
        if exists is False or _scheduler_says_missing(ctx, claim):
            return _missing(ctx, claim)
        return None
    phase = (pvc.get("status") or {}).get("phase") or "Pending"
    if phase == "Bound":
        return None
    spec = pvc.get("spec") or {}
    events = view.events_for(pvc, "PersistentVolumeClaim")
    sc_name = spec.get("storageClassName")
    sc_field = "storageClassName" in spec
    evidence = [_claim_line(pvc, claim, phase, ctx)]
    if phase == "Lost":
        return _finding(ctx, claim, "VolumeLost",
                        f'its PersistentVolumeClaim "{clean(claim)}" is Lost: the volume '
                        f'"{clean(spec.get("volumeName"))}" it was bound to no longer exists',
                        evidence, [fix(f"kubectl describe pvc {quote(claim)} {ctx.ns_flag}", "what it was bound to")])

    def latest(reason: str, contains: Optional[str] = None):
        evs = [e for e in events if e.get("reason") == reason and (not contains or contains in (e.get("message") or ""))]
        return evs[-1] if evs else None

    ev = latest("ProvisioningFailed")
    m = _SC_NOT_FOUND.search((ev or {}).get("message") or "")
    if m:
        evidence.append(ctx.describe_event(ev))
        return _class_not_found(ctx, claim, pvc, m.group(1), evidence)
    mismatch = latest("VolumeMismatch") or latest("FailedBinding", "Cannot bind to requested volume")
    if mismatch:
        evidence.append(ctx.describe_event(mismatch))
        mm = _MISMATCH.search(mismatch.get("message") or "")
        what = (f'the volume "{clean(mm.group(1))}" it asks for does not fit: {clean(mm.group(2))}'
                if mm else "no volume fits it")
        return _finding(ctx, claim, "NoMatchingVolume", f'its PersistentVolumeClaim "{clean(claim)}" is '
                        f"Pending: {what}", evidence + _pv_evidence(ctx, pvc),
                        [fix(f"kubectl get pv {quote(spec.get('volumeName'))}" if spec.get("volumeName") else "kubectl get pv",
                             "the volume's capacity, access modes and class against the claim's")])
    if ev is not None:
        evidence.append(ctx.describe_event(ev))
        return _finding(ctx, claim, "ProvisioningFailed",
                        f'its PersistentVolumeClaim "{clean(claim)}" is Pending: the provisioner of '
                        f'StorageClass "{clean(sc_name)}" fails: {clean(_short(ev.get("message")))}',
                        evidence, [fix(f"kubectl describe pvc {quote(claim)} {ctx.ns_flag}", "every attempt, with its count"),
                                   fix(f"kubectl describe storageclass {quote(sc_name)}" if sc_name else "kubectl get storageclass",
                                       "the class's provisioner and parameters")])
    no_class = latest("FailedBinding", _NO_CLASS)
    if no_class is not None or (sc_field and sc_name == "") or not sc_name:
        if no_class is not None:
            evidence.append(ctx.describe_event(no_class))
        if sc_field and sc_name == "":
            return _finding(ctx, claim, "NoMatchingVolume",
                            f'its PersistentVolumeClaim "{clean(claim)}" is Pending: it asks for a '
                            f'pre-created volume (storageClassName: "") and no PersistentVolume matches it',
                            evidence + _pv_evidence(ctx, pvc),
                            [fix("kubectl get pv", "volumes, their capacity, access modes and claims")])
        # No storageClassName at all on a Pending claim: the DefaultStorageClass admission plugin
        # found no default when the claim was created, and none has appeared since (1.28+ assigns
        # one retroactively).
        classes = view.list("StorageClass")
        return _no_default(ctx, claim, pvc, classes, evidence)
    if sc_name:
        sc = view.get("StorageClass", None, sc_name)
        if sc is None and view.exists("StorageClass", None, sc_name) is False:
            return _class_not_found(ctx, claim, pvc, sc_name, evidence)
        if sc is not None and sc.get("volumeBindingMode") == "WaitForFirstConsumer":
            return None  # binds once the pod is scheduled: not a failure
    waiting = latest("ExternalProvisioning")
    if waiting is not None:
        long = seconds_between(meta(pvc).get("creationTimestamp"), view.now.isoformat())
        if long is not None and long >= 300:
            evidence.append(ctx.describe_event(waiting))
            pm = _EXTERNAL.search(waiting.get("message") or "")
            who = f"the external provisioner {clean(pm.group(1))!r}" if pm else "its external provisioner"
            return _finding(ctx, claim, "WaitingForProvisioner",
                            f'its PersistentVolumeClaim "{clean(claim)}" has waited '
                            f"{age(meta(pvc).get('creationTimestamp'), view.now)} for {who} to create a "
                            f"volume: is the provisioner running?", evidence,
                            [fix("kubectl get pods -A -o wide", "find the provisioner's pods and whether they run"),
                             fix(f"kubectl describe pvc {quote(claim)} {ctx.ns_flag}", "its events")])
    return None


def _short(message: Optional[str]) -> str:
    text = (message or "").strip()
    text = re.sub(r'^[Ff]ailed to provision volume with StorageClass "[^"]*":\s*', "", text)
    return text[:300]


def _claim_line(pvc: dict, claim: str, phase: str, ctx: PodContext) -> str:
    spec = pvc.get("spec") or {}
    bits = []
    if "storageClassName" in spec:
        bits.append(f'storageClassName "{clean(spec.get("storageClassName"))}"')
    else:
        bits.append("no storageClassName")
    size = ((spec.get("resources") or {}).get("requests") or {}).get("storage")
    if size:
        bits.append(f"{clean(size)}")
    if spec.get("accessModes"):
        bits.append(",".join(clean(a) for a in spec["accessModes"]))
    since = age(meta(pvc).get("creationTimestamp"), ctx.view.now)
    return (f'persistentvolumeclaim "{clean(claim)}" is {clean(phase)}' + (f" for {since}" if since else "")
            + f" ({'; '.join(bits)})")


def _pv_evidence(ctx: PodContext, pvc: dict) -> List[str]:
    lines = []
    for pv in ctx.view.list("PersistentVolume")[:5]:
        s, st = pv.get("spec") or {}, pv.get("status") or {}
        lines.append(f"persistentvolume {clean(meta(pv).get('name'))}: {clean((s.get('capacity') or {}).get('storage'))}, "
                     f"{','.join(clean(a) for a in s.get('accessModes') or [])}, class "
                     f"\"{clean(s.get('storageClassName') or '')}\", {clean(st.get('phase') or '?')}"
                     + (f" (claimed by {clean((s.get('claimRef') or {}).get('name'))})" if s.get("claimRef") else ""))
    return lines


def _recreate(ctx: PodContext, claim: str) -> List:
    """A claim's class cannot be changed in place: a Pending claim holds no data, so delete it and
    let the fixed template (or manifest) create it again."""
    out = []
    if ctx.owner and ctx.owner.kind == "StatefulSet":
        out.append(fix(f"kubectl delete pvc {quote(claim)} {ctx.ns_flag}",
                       "after fixing storageClassName in the StatefulSet's volumeClaimTemplates (recreate the "
                       "StatefulSet: that field is immutable), so it creates the claim again"))
    else:
        out.append(fix(f"kubectl get pvc {quote(claim)} {ctx.ns_flag} -o yaml",
                       "storageClassName cannot be changed in place: re-create the claim from a fixed manifest"))
    return out


def _class_not_found(ctx: PodContext, claim: str, pvc: dict, sc_name: str, evidence: List[str]):
    classes = ctx.view.list("StorageClass")
    names = [meta(c).get("name") for c in classes]
    if names:
        default = [meta(c).get("name") for c in classes
                   if (meta(c).get("annotations") or {}).get(DEFAULT_CLASS) == "true"]
        evidence.append("StorageClasses that exist: " + ", ".join(
            clean(n) + (" (default)" if n in default else "") for n in names))
    summary = (f'its PersistentVolumeClaim "{clean(claim)}" is Pending: it names the StorageClass '
               f'"{clean(sc_name)}", which does not exist, so nothing provisions a volume for it')
    return _finding(ctx, claim, "StorageClassNotFound", summary, evidence,
                    [fix("kubectl get storageclass", "the classes that exist: name one of them in the claim")]
                    + _recreate(ctx, claim), details={"storageClassName": sc_name})


def _no_default(ctx: PodContext, claim: str, pvc: dict, classes: List[dict], evidence: List[str]):
    names = [meta(c).get("name") for c in classes]
    if names:
        evidence.append("StorageClasses that exist, none marked default: " + ", ".join(clean(n) for n in names))
    elif ctx.view.readable("StorageClass") and not ctx.view.offline:
        evidence.append("the cluster has no StorageClass at all")
    summary = (f'its PersistentVolumeClaim "{clean(claim)}" is Pending: it names no StorageClass and the '
               f"cluster has no default one, so nothing provisions a volume (and no PersistentVolume matches)")
    fixes = []
    if len(names) == 1:
        body = json.dumps({"metadata": {"annotations": {DEFAULT_CLASS: "true"}}}, separators=(",", ":"))
        fixes.append(fix(f"kubectl patch storageclass {quote(names[0])} -p {quote(body)}",
                         f"make {names[0]} the default class (claims created later get it)"))
    fixes.append(fix("kubectl get storageclass", "the classes that exist: name one in the claim, or mark one default"))
    return _finding(ctx, claim, "NoDefaultStorageClass", summary, evidence, fixes + _recreate(ctx, claim))


def _missing(ctx: PodContext, claim: str):
    summary = (f'its PersistentVolumeClaim "{clean(claim)}" does not exist in namespace '
               f"{clean(ctx.namespace)}, so the pod cannot be scheduled")
    return _finding(ctx, claim, "ClaimNotFound", summary,
                    [f'persistentvolumeclaim "{clean(claim)}" not found in namespace {clean(ctx.namespace)}'],
                    [fix(f"kubectl get pvc {ctx.ns_flag}", "the claims that exist (a typo in claimName?)")])


def _finding(ctx: PodContext, claim: str, cause: str, summary: str, evidence: List[str], suggestions: List,
             details: Optional[Dict] = None):
    return ctx.finding("PersistentVolumeClaimPending", summary, cause=cause, evidence=evidence,
                       suggestions=suggestions, details=dict(details or {}, claim=claim))
