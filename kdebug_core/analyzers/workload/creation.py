"""PodCreationFailed: the controller cannot create its pods, so there is no pod to diagnose.

The API server refuses the controller's create request at admission; the controller records the
refusal as a `FailedCreate` Warning event on itself (ReplicaSet, StatefulSet, DaemonSet, Job) and a
ReplicaSet also sets its `ReplicaFailure` condition (reason FailedCreate), which the Deployment
copies. The message is the API error, prefixed `Error creating: ` in the event
(pkg/controller/controller_utils.go, RealPodControl.createPods; replicaset.go manageReplicas):

    Error creating: pods "web-5d9c8b7f4-" is forbidden: exceeded quota: compute-quota,
      requested: requests.memory=512Mi, used: requests.memory=768Mi, limited: requests.memory=1Gi
      (plugin/pkg/admission/resourcequota/controller.go)
    pods "x-" is forbidden: failed quota: compute-quota: must specify limits.cpu for: app; ...
    pods "x-" is forbidden: violates PodSecurity "restricted:latest": allowPrivilegeEscalation != false
      (container "app" must set securityContext.allowPrivilegeEscalation=false), ...
      (staging/src/k8s.io/pod-security-admission/admission/admission.go)
    admission webhook "validate.kyverno.svc-fail" denied the request: ...
    pods "x-" is forbidden: error looking up service account shop/deployer: serviceaccount
      "deployer" not found  (plugin/pkg/admission/serviceaccount/admission.go)
    pods "x-" is forbidden: maximum memory usage per Container is 1Gi, but limit is 2Gi
      (plugin/pkg/admission/limitranger/admission.go)

Older servers name the pod by its generateName prefix (`web-5d9c8b7f4-`), newer ones by the full
generated name; neither matters here. An event alone may be history (the quota was raised since):
a refusal counts only while the controller is short of pods or its ReplicaFailure condition holds.

A Deployment with no pods and no refusal on record still gets an answer: what was seen (replicas,
conditions, the newest ReplicaSet's events), as `PodCreationFailed` with cause `Other`.
"""

import json
import re
from decimal import Decimal
from typing import Dict, List, Optional, Tuple

from ... import quantity
from ...sanitize import clean
from ...view import meta
from ..base import fix
from .base import WorkloadContext, condition, condition_line, describe_event, int_field, q, revision

CREATORS = ("ReplicaSet", "StatefulSet", "DaemonSet", "Job", "ReplicationController")

# ---- the admission message ------------------------------------------------------------------------

_QUOTA = re.compile(r"exceeded quota: ([^,]+), requested: (\S*), used: (\S*), limited: (\S*)")
_QUOTA_MUST = re.compile(r"failed quota: ([^:]+): must specify (.+)$")
_PSA = re.compile(r'violates PodSecurity "([^":]+)(?::([^"]+))?": (.+)$')
_WEBHOOK = re.compile(r'admission webhook "([^"]+)" denied the request:?\s*(.*)$', re.S)
_WEBHOOK_CALL = re.compile(r'failed calling webhook "([^"]+)":?\s*(.*)$', re.S)
_SA = re.compile(r'error looking up service account ([^/\s]+)/([^:\s]+): serviceaccount "([^"]+)" not found')
_LIMIT = re.compile(r"(maximum|minimum) (\S+) usage per (Container|Pod|PersistentVolumeClaim) is "
                    r"([^,\]]+), but (limit|request) is ([^,\]\s.]+(?:\.\d+)?)")
_RATIO = re.compile(r"(\S+) max limit to request ratio per (Container|Pod) is ([^,]+), but provided "
                    r"ratio is ([\d.]+)")


def _pairs(text: str) -> Dict[str, str]:
    out = {}
    for part in text.split(","):
        if "=" in part:
            k, v = part.split("=", 1)
            out[k.strip()] = v.strip()
    return out


def _split_top(text: str) -> List[str]:
    """Split on commas outside parentheses: Pod Security lists violations with `(container ...)`."""
    out, depth, cur = [], 0, ""
    for ch in text:
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth = max(0, depth - 1)
        if ch == "," and depth == 0:
            out.append(cur.strip())
            cur = ""
        else:
            cur += ch
    if cur.strip():
        out.append(cur.strip())
    return out


def classify(message: str) -> Tuple[str, Dict]:
    """(cause, parsed details) of one admission refusal."""
    msg = (message or "").strip()
    if msg.startswith("Error creating: "):
        msg = msg[len("Error creating: "):]
    m = _QUOTA.search(msg)
    if m:
        return "QuotaExceeded", {"quota": m.group(1).strip(), "requested": _pairs(m.group(2)),
                                 "used": _pairs(m.group(3)), "limited": _pairs(m.group(4))}
    m = _QUOTA_MUST.search(msg)
    if m:
        missing = sorted({r.strip() for part in m.group(2).split(";") for r in
                          part.split(" for:")[0].split(",") if r.strip()})
        return "QuotaExceeded", {"quota": m.group(1).strip(), "mustSpecify": missing}
    m = _PSA.search(msg)
    if m:
        violations = _split_top(m.group(3).rstrip("."))
        containers = sorted(set(re.findall(r'container "([^"]+)"', m.group(3))))
        return "PodSecurity", {"level": m.group(1), "version": m.group(2) or "latest",
                               "violations": violations, "containers": containers}
    m = _WEBHOOK.search(msg) or _WEBHOOK_CALL.search(msg)
    if m:
        return "AdmissionWebhook", {"webhook": m.group(1), "message": m.group(2).strip()}
    m = _SA.search(msg)
    if m:
        return "ServiceAccountMissing", {"namespace": m.group(1), "serviceAccount": m.group(3)}
    limits = [{"bound": b, "resource": r, "scope": s, "value": v.strip(), "field": f, "actual": a}
              for b, r, s, v, f, a in _LIMIT.findall(msg)]
    ratios = [{"resource": r, "scope": s, "maxRatio": v.strip(), "ratio": a} for r, s, v, a in _RATIO.findall(msg)]
    if limits or ratios:
        return "LimitRange", {"violations": limits, "ratios": ratios}
    return "Other", {}


# ---- which controller, which refusal ------------------------------------------------------------

def _short_of_pods(obj: dict) -> bool:
    """The controller has fewer pods than it wants (so a refusal on record still matters)."""
    kind = obj.get("kind")
    if kind in ("ReplicaSet", "StatefulSet", "ReplicationController"):
        return int_field(obj, "status", "replicas") < int_field(obj, "spec", "replicas", default=1)
    if kind == "DaemonSet":
        return int_field(obj, "status", "currentNumberScheduled") < \
            int_field(obj, "status", "desiredNumberScheduled")
    if kind == "Job":
        conds = {c.get("type"): c.get("status") for c in (obj.get("status") or {}).get("conditions") or []}
        if conds.get("Complete") == "True" or conds.get("Failed") == "True":
            return False
        return int_field(obj, "status", "active") < int_field(obj, "spec", "parallelism", default=1)
    return False


def _refusal(ctx: WorkloadContext, obj: dict) -> Optional[Dict]:
    """The latest creation refusal that still holds on this controller, or None."""
    cond = condition(obj, "ReplicaFailure")
    cond = cond if cond and cond.get("status") == "True" else None
    events = [e for e in ctx.events(obj, obj.get("kind")) if e.get("reason") == "FailedCreate"]
    if not cond and not (events and _short_of_pods(obj)):
        return None
    if events and cond:
        # The condition keeps its first message; the event is the latest attempt.
        message = events[-1].get("message") or cond.get("message") or ""
    else:
        message = (events[-1].get("message") if events else cond.get("message")) or ""
    return {"obj": obj, "event": events[-1] if events else None, "condition": cond, "message": message}


def _creators(ctx: WorkloadContext) -> List[dict]:
    """The controllers that create this workload's pods: the Deployment's ReplicaSets that want
    pods (newest first), or the object itself. (A CronJob's Jobs are subjects of their own.)"""
    if ctx.kind == "Deployment":
        return [rs for rs in ctx.replica_sets() if int_field(rs, "spec", "replicas") > 0]
    if ctx.kind in CREATORS:
        return [ctx.obj]
    return []


def analyze(ctx: WorkloadContext) -> List:
    if ctx.kind not in CREATORS + ("Deployment",):
        return []
    for obj in _creators(ctx):
        refusal = _refusal(ctx, obj)
        if refusal:
            return [_finding(ctx, refusal)]
    # No pods in view: say why — unless the Deployment's own status counts pods that the input
    # simply does not hold (a dump of the Deployment alone).
    if ctx.kind == "Deployment" and ctx.targeted and not ctx.pods() and not int_field(ctx.obj, "status", "replicas"):
        if ctx.condition_true("Available") and int_field(ctx.obj, "spec", "replicas", default=1) > 0:
            # The controller wrote Available=True: pods exist and serve, the input just holds
            # neither them nor the counts (a describe paste of the conditions; corpus 142).
            return []
        return [_no_pods(ctx)]
    if ctx.kind in ("ReplicaSet", "StatefulSet", "DaemonSet", "Job") and ctx.targeted and not ctx.pods():
        f = _no_pods_controller(ctx)
        return [f] if f else []
    return []


def _no_pods_controller(ctx: WorkloadContext):
    """A ReplicaSet, StatefulSet, DaemonSet or Job named on the command line that has no pods and no
    refusal on record: say what its status shows (or that it wants none)."""
    st = ctx.status
    if ctx.kind == "DaemonSet":
        if int_field(st, "currentNumberScheduled"):
            return None  # its pods exist; the input does not hold them
        if int_field(st, "desiredNumberScheduled") == 0:
            sel = (ctx.template_spec().get("nodeSelector") or {})
            return ctx.finding(
                "PodCreationFailed", f"{ctx.slash_name} runs no pod: no node qualifies for it "
                                     f"(desiredNumberScheduled 0)", cause="NoEligibleNode", severity="warning",
                evidence=[f"{ctx.slash_name}: 0 desired, 0 scheduled"]
                + ([f"nodeSelector {', '.join(f'{clean(k)}={clean(v)}' for k, v in sel.items())}"] if sel else []),
                suggestions=[fix("kubectl get nodes --show-labels", "the nodes' labels against its nodeSelector and "
                                                                    "their taints against its tolerations")])
        return None
    if ctx.kind == "Job":
        if ctx.spec.get("suspend"):
            return ctx.finding("PodCreationFailed", f"{ctx.slash_name} has no pods: it is suspended (spec.suspend: true)",
                               cause="Suspended", severity="warning",
                               suggestions=[fix(f"kubectl patch job {q(ctx.name)} {ctx.ns_flag} --type=merge "
                                                f"-p '{{\"spec\":{{\"suspend\":false}}}}'", "if it should run: resume it")])
        return None  # finished Jobs may have had their pods removed: nothing to say
    desired = int_field(ctx.obj, "spec", "replicas", default=1)
    if int_field(st, "replicas"):
        return None  # its status counts pods the input does not hold
    evidence = [f"{ctx.slash_name}: {desired} desired, {int_field(st, 'replicas')} current, "
                f"{int_field(st, 'readyReplicas')} ready"]
    evidence += [describe_event(ctx.view, ev, on=ctx.slash_name) for ev in ctx.events()[-3:]]
    if desired == 0:
        return ctx.finding("PodCreationFailed", f"{ctx.slash_name} has no pods because it is scaled to zero "
                                                f"(spec.replicas: 0)", cause="ScaledToZero", severity="warning",
                           evidence=evidence)
    return ctx.finding("PodCreationFailed", f"{ctx.slash_name} wants {desired} pod{'s' if desired != 1 else ''} and "
                                            f"has none, and no refusal is on record (events expire after an hour)",
                       cause="Other", evidence=evidence,
                       suggestions=[fix(f"kubectl describe {q(ctx.slash_name)} {ctx.ns_flag}", "its conditions and events")])


# ---- the finding --------------------------------------------------------------------------------

def _obj_name(obj: dict) -> str:
    from .base import KUBECTL_NAME
    return f"{KUBECTL_NAME.get(obj.get('kind'), str(obj.get('kind')).lower())}/{meta(obj).get('name')}"


def _counts(ctx: WorkloadContext, obj: dict) -> str:
    kind = obj.get("kind")
    if kind == "DaemonSet":
        return (f"{int_field(obj, 'status', 'currentNumberScheduled')} of "
                f"{int_field(obj, 'status', 'desiredNumberScheduled')} daemon pods created")
    if kind == "Job":
        return (f"{int_field(obj, 'status', 'active')} active of parallelism "
                f"{int_field(obj, 'spec', 'parallelism', default=1)}, "
                f"{int_field(obj, 'status', 'succeeded')} succeeded")
    return (f"{int_field(obj, 'status', 'replicas')} of {int_field(obj, 'spec', 'replicas', default=1)} "
            f"replicas created, {int_field(obj, 'status', 'readyReplicas')} ready")


def _finding(ctx: WorkloadContext, refusal: Dict):
    obj = refusal["obj"]
    on = _obj_name(obj)
    cause, parsed = classify(refusal["message"])
    evidence = []
    if refusal["event"] is not None:
        evidence.append(describe_event(ctx.view, refusal["event"], on=on))
    if refusal["condition"] is not None and refusal["event"] is None:
        evidence.append(condition_line(ctx.view, refusal["condition"], on=on))
    evidence.append(f"{on}: {_counts(ctx, obj)}")
    if ctx.kind == "Deployment" and revision(obj) > 1:
        evidence.append(f"{on} is revision {revision(obj)} of {ctx.slash_name}")
    summary, more, suggestions = _EXPLAIN.get(cause, _other)(ctx, parsed, on)
    evidence += more
    details = dict(parsed, creator=on, message=clean(refusal["message"]))
    return ctx.finding("PodCreationFailed", summary, cause=cause, evidence=evidence,
                       suggestions=suggestions, details=details)


def _fmt(resource: str, value: Optional[Decimal]) -> str:
    """An exact quantity as a manifest would write it (2304Mi, 1500m, 3): usable in a patch."""
    if value is None:
        return "?"
    if "memory" in resource or "storage" in resource:
        n = int(value)
        for unit, size in (("Gi", quantity.GI), ("Mi", quantity.MI), ("Ki", 1024)):
            if n and n % size == 0:
                return f"{n // size}{unit}"
        return str(n)
    if "cpu" in resource:
        milli = int(value * 1000)
        return f"{milli // 1000}" if milli % 1000 == 0 else f"{milli}m"
    return f"{value.normalize():f}" if isinstance(value, Decimal) else str(value)


def _quota(ctx: WorkloadContext, p: Dict, on: str):
    name = p["quota"]
    more, suggestions = [], []
    rq = ctx.view.get("ResourceQuota", ctx.namespace, name)
    if "mustSpecify" in p:
        need = ", ".join(p["mustSpecify"])
        summary = (f'{on} can create no pods: the ResourceQuota "{clean(name)}" requires every '
                   f"container to set {clean(need)}, and the pod template does not")
        # Limits equal to the requests the template already has (else nothing to propose).
        for c in ctx.template_spec().get("containers") or []:
            res_of = c.get("resources") or {}
            flags = {}
            for r in p["mustSpecify"]:
                kind, _, res = r.partition(".")
                if res not in ("cpu", "memory") or (res_of.get(kind) or {}).get(res):
                    continue
                value = (res_of.get("requests") or {}).get(res) if kind == "limits" else \
                    (res_of.get("limits") or {}).get(res)
                if value:
                    flags.setdefault(kind, []).append(f"{res}={value}")
            if flags:
                suggestions.append(fix(
                    f"kubectl set resources {q(ctx.top())} {ctx.ns_flag} -c {q(c.get('name'))} "
                    + " ".join(f"--{k}={','.join(v)}" for k, v in sorted(flags.items())),
                    "set what the quota requires (here: limits equal to the requests)"))
        suggestions.append(fix(f"kubectl describe resourcequota {q(name)} {ctx.ns_flag}",
                               "what the quota constrains"))
        return summary, more, suggestions
    over = []
    for res, lim in p["limited"].items():
        used, req, hard = (quantity.parse(p["used"].get(res)), quantity.parse(p["requested"].get(res)),
                           quantity.parse(lim))
        if used is not None and req is not None and hard is not None and used + req > hard:
            over.append((res, used, req, hard))
    parts = [f"{clean(res)} {_fmt(res, used)} of {_fmt(res, hard)} is used and a pod needs "
             f"{_fmt(res, req)} more" for res, used, req, hard in over]
    summary = (f'{on} can create no more pods: the namespace\'s ResourceQuota "{clean(name)}" is '
               f"exhausted" + (f" ({'; '.join(parts)})" if parts else ""))
    if rq is not None:
        st = rq.get("status") or {}
        hard, used = st.get("hard") or {}, st.get("used") or {}
        shown = [f"{clean(k)} {clean(used.get(k, '0'))}/{clean(v)}" for k, v in sorted(hard.items())]
        if shown:
            more.append(f'resourcequota "{clean(name)}" used/hard: ' + ", ".join(shown))
    for res, used, req, hard in over:
        if res == "pods" or res.startswith("count/"):
            continue
        kind, _, r = res.partition(".")
        if kind in ("requests", "limits") and r in ("cpu", "memory"):
            room = hard - used
            if room > 0:
                value = _fmt(r, room)
                more.append(f"a pod fits if it asks for at most {value} of {kind}.{r} "
                            f"(per pod, across its containers)")
    if over:
        needed = {res: _fmt(res, used + req) for res, used, req, hard in over}
        body = json.dumps({"spec": {"hard": needed}}, separators=(",", ":"))
        suggestions.append(fix(f"kubectl patch resourcequota {q(name)} {ctx.ns_flag} --type=merge -p {q(body)}",
                               "raise the quota to what is used plus one more pod (needs the "
                               "namespace admin's rights)"))
    suggestions.append(fix(f"kubectl describe resourcequota {q(name)} {ctx.ns_flag}",
                           "what the quota allows and what is used"))
    suggestions.append(fix(f"kubectl get pods {ctx.ns_flag} -o "
                           + q("custom-columns=NAME:.metadata.name,REQUESTS:.spec.containers[*].resources.requests"),
                           "which pods use the quota: scale down or shrink what is not needed"))
    return summary, more, suggestions


# Pod Security violations → the securityContext fields that satisfy them.
_PSA_FIX = [
    ("allowPrivilegeEscalation", "container", {"allowPrivilegeEscalation": False}),
    ("unrestricted capabilities", "container", {"capabilities": {"drop": ["ALL"]}}),
    ("runAsNonRoot", "pod", {"runAsNonRoot": True}),
    ("seccompProfile", "pod", {"seccompProfile": {"type": "RuntimeDefault"}}),
    ("privileged", "container", {"privileged": False}),
]


def _psa(ctx: WorkloadContext, p: Dict, on: str):
    level = p["level"]
    ns = ctx.view.get("Namespace", None, ctx.namespace)
    labels = (meta(ns).get("labels") or {}) if ns else {}
    enforce = labels.get("pod-security.kubernetes.io/enforce")
    names = [v.split(" (")[0] for v in p["violations"]]
    summary = (f"{on} can create no pods: the namespace enforces the Pod Security level "
               f'"{clean(level)}" and the pod template violates it: {clean(", ".join(names))}')
    more = []
    if enforce:
        more.append(f"namespace {clean(ctx.namespace)} has label pod-security.kubernetes.io/enforce="
                    f"{clean(enforce)}")
    pod_sc: Dict = {}
    cont_sc: Dict = {}
    fixable = " ".join(p["violations"])
    for key, where, patch in _PSA_FIX:
        if key in fixable:
            (pod_sc if where == "pod" else cont_sc).update(patch)
    containers = p["containers"] or [c.get("name") for c in ctx.template_spec().get("containers") or []]
    pod_patch: Dict = {}
    if pod_sc:
        pod_patch["securityContext"] = pod_sc
    if cont_sc:
        pod_patch["containers"] = [{"name": c, "securityContext": cont_sc} for c in containers if c]
    suggestions = []
    if pod_patch:
        why = f"give the pod template the securityContext the {level} level requires"
        if "runAsNonRoot" in pod_sc:
            why += " (its image must then run as a non-root user)"
        suggestions.append(fix(ctx.template_patch(pod_patch), why))
    suggestions.append(fix(f"kubectl get namespace {q(ctx.namespace)} --show-labels",
                           "the namespace's pod-security.kubernetes.io labels"))
    return summary, more, suggestions


def _webhook(ctx: WorkloadContext, p: Dict, on: str):
    summary = (f'{on} can create no pods: the admission webhook "{clean(p["webhook"])}" refuses them'
               + (f": {clean(p['message'])}" if p.get("message") else ""))
    return summary, [], [fix("kubectl get validatingwebhookconfigurations,mutatingwebhookconfigurations",
                             "which webhook configuration it is and who owns it"),
                         fix(f"kubectl describe {q(on)} {ctx.ns_flag}", "every refusal, with its count")]


def _sa(ctx: WorkloadContext, p: Dict, on: str):
    sa = p["serviceAccount"]
    summary = (f'{on} can create no pods: its pods run as the ServiceAccount "{clean(sa)}", which does '
               f"not exist in namespace {clean(p['namespace'])}")
    return summary, [], [fix(f"kubectl create serviceaccount {q(sa)} -n {q(p['namespace'])}",
                             "create it (or correct serviceAccountName in the pod template)"),
                         fix(f"kubectl get serviceaccounts -n {q(p['namespace'])}",
                             "the ServiceAccounts that do exist")]


def _limitrange(ctx: WorkloadContext, p: Dict, on: str):
    parts, more, flags = [], [], []
    containers = ctx.template_spec().get("containers") or []
    for v in p["violations"]:
        bound = "at most" if v["bound"] == "maximum" else "at least"
        parts.append(f"a {v['scope']}'s {v['resource']} {v['field']} must be {bound} {v['value']} "
                     f"but is {v['actual']}")
        if v["scope"] == "Container":
            for c in containers:
                have = ((c.get("resources") or {}).get("limits" if v["field"] == "limit" else "requests")
                        or {}).get(v["resource"])
                hv, bv = quantity.parse(have), quantity.parse(v["value"])
                if hv is None or bv is None:
                    continue
                if (v["bound"] == "maximum" and hv > bv) or (v["bound"] == "minimum" and hv < bv):
                    more.append(f"container {clean(c.get('name'))} sets {v['field']} "
                                f"{v['resource']}={clean(have)}")
                    flags.append((c.get("name"), f"--{'limits' if v['field'] == 'limit' else 'requests'}"
                                                 f"={v['resource']}={v['value']}"))
    for r in p["ratios"]:
        parts.append(f"{r['resource']} limit/request ratio must be at most {r['maxRatio']} but is {r['ratio']}")
    summary = f"{on} can create no pods: the namespace's LimitRange refuses them: " + clean("; ".join(parts))
    suggestions = [fix(f"kubectl set resources {q(ctx.top())} {ctx.ns_flag} -c {q(c)} {flag}",
                       "bring the container within the LimitRange") for c, flag in flags]
    suggestions.append(fix(f"kubectl describe limitrange {ctx.ns_flag}", "the namespace's bounds"))
    return summary, more, suggestions


def _other(ctx: WorkloadContext, p: Dict, on: str):
    return (f"{on} cannot create its pods: the API server refuses them (see the event)", [],
            [fix(f"kubectl describe {q(on)} {ctx.ns_flag}", "every refusal, with its count")])


_EXPLAIN = {"QuotaExceeded": _quota, "PodSecurity": _psa, "AdmissionWebhook": _webhook,
            "ServiceAccountMissing": _sa, "LimitRange": _limitrange}


def _no_pods(ctx: WorkloadContext):
    """A Deployment with no pods and no refusal on record: say what was seen."""
    desired = int_field(ctx.obj, "spec", "replicas", default=1)
    st = ctx.status
    seen = (f"{ctx.slash_name}: {desired} desired, {int_field(st, 'replicas')} current, "
            f"{int_field(st, 'readyReplicas')} ready, {int_field(st, 'availableReplicas')} available")
    evidence = [seen]
    for c in st.get("conditions") or []:
        evidence.append(condition_line(ctx.view, c))
    newest = ctx.newest_replica_set()
    if newest is not None:
        on = _obj_name(newest)
        evidence.append(f"newest {on} (revision {revision(newest)}): "
                        f"{int_field(newest, 'spec', 'replicas')} wanted, "
                        f"{int_field(newest, 'status', 'replicas')} created")
        for ev in ctx.events(newest, "ReplicaSet")[-3:]:
            evidence.append(describe_event(ctx.view, ev, on=on))
    for ev in ctx.events()[-3:]:
        evidence.append(describe_event(ctx.view, ev, on=ctx.slash_name))
    if desired == 0:
        return ctx.finding(
            "PodCreationFailed", f"{ctx.slash_name} has no pods because it is scaled to zero "
                                 f"(spec.replicas: 0)",
            cause="ScaledToZero", severity="warning", evidence=evidence,
            suggestions=[fix(f"kubectl scale {q(ctx.slash_name)} {ctx.ns_flag} --replicas=1",
                             "if it should run: scale it up")])
    if ctx.spec.get("paused"):
        return ctx.finding(
            "PodCreationFailed", f"{ctx.slash_name} has no pods: its rollout is paused "
                                 f"(spec.paused: true)",
            cause="Other", evidence=evidence,
            suggestions=[fix(f"kubectl rollout resume {q(ctx.slash_name)} {ctx.ns_flag}",
                             "resume the rollout")])
    why = ("no ReplicaSet exists for it: the deployment controller has not acted on it "
           "(is kube-controller-manager running?)" if newest is None else
           "its ReplicaSet has created none and no refusal is on record (events expire after an hour)")
    return ctx.finding(
        "PodCreationFailed", f"{ctx.slash_name} wants {desired} pod{'s' if desired != 1 else ''} and has "
                             f"none: {why}",
        cause="Other", evidence=evidence,
        suggestions=[fix(f"kubectl describe {q(ctx.slash_name)} {ctx.ns_flag}", "its conditions and events"),
                     fix(f"kubectl get events {ctx.ns_flag} --sort-by=.lastTimestamp",
                         "what the controllers said lately in the namespace")])

