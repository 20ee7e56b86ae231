"""SelectorMismatch, PodsInOtherNamespace, NoSelectorNoEndpoints: the Service selects no pod.

A Service selects the pods of its own namespace that carry every selector label with an equal
value (extra pod labels are fine). When none does, the pods that come closest — those sharing the
most selector labels, or the workload whose pod template is nearest — show which keys are missing
or different, and the fix is one of the runbook's two: add the labels to the workload's pod
template, or change the Service selector to what the pods carry.

A workload's own `spec.selector` must match its template labels; the API server rejects one that
does not (`selector` does not match template `labels`), so such an object in the input comes from
a manifest that was never accepted, and we say so.
"""

import json
import shlex
from collections import OrderedDict
from typing import Dict, List, Optional, Tuple

from ...findings import Finding, ObjectRef
from ...labels import matches, requirements_from_label_selector, requirements_from_map
from ...sanitize import clean
from ...view import meta
from ..base import fix
from .service_base import (ServiceContext, kubectl_name, labels_text, port_label, selector_text,
                           target_port, template_patch)

WORKLOAD_TEMPLATE_KINDS = ("Deployment", "StatefulSet", "DaemonSet", "ReplicaSet",
                           "ReplicationController")
MAX_PODS_SHOWN = 3          # per workload
MAX_WORKLOADS = 3


def analyze(view, service: dict, plugin: str) -> List[Finding]:
    ctx = ServiceContext(view, service, plugin)
    if ctx.type == "ExternalName":
        return []
    if not ctx.selector:
        return _no_selector(ctx)
    if ctx.pods():
        return []
    if not view.readable("Pod"):
        return []  # no pods read proves nothing about the selector: the report says what is missing
    if ctx.endpoints().ready and ctx.endpoints().source in ("EndpointSlice", "Endpoints"):
        # The endpoints controller lists ready addresses: the selector matches pods, they are just
        # not in the input (a dump without pods; corpus 058). Positive evidence beats absence.
        return []
    findings = []
    elsewhere = _matching_elsewhere(ctx)
    near = _closest(ctx)
    if elsewhere:
        findings.append(_other_namespace(ctx, elsewhere))
    if near or not elsewhere:
        findings.append(_mismatch(ctx, near, elsewhere))
    return findings


# ---- label comparison ---------------------------------------------------------------------------

def compare(selector: Dict[str, str], labels: Optional[Dict[str, str]]) -> Tuple[int, List[str], Dict]:
    """(keys that match, evidence parts per key, {key: None (missing) | pod's value (differs)})."""
    labels = labels or {}
    score, parts, wrong = 0, [], {}
    for key, want in selector.items():
        if key not in labels:
            parts.append(f"{key} missing (service wants {want})")
            wrong[key] = None
        elif labels[key] != want:
            parts.append(f"{key}={labels[key]} ✗ (service wants {want})")
            wrong[key] = labels[key]
        else:
            parts.append(f"{key}={want} ✓")
            score += 1
    return score, parts, wrong


class Near:
    """A group of close pods of one workload (or a workload without pods, by its template)."""

    def __init__(self, workload: Optional[ObjectRef], labels: Dict[str, str], wrong: Dict):
        self.workload = workload
        self.labels = labels
        self.wrong = wrong
        self.pods: List[Tuple[dict, List[str]]] = []
        self.template_parts: Optional[List[str]] = None
        self.object: Optional[dict] = None


def _closest(ctx: ServiceContext) -> List[Near]:
    sel = ctx.selector
    scored = []
    for pod in ctx.namespace_pods():
        if (pod.get("status") or {}).get("phase") in ("Succeeded", "Failed"):
            continue
        score, parts, wrong = compare(sel, meta(pod).get("labels"))
        if score:
            scored.append((score, pod, parts, wrong))
    groups: "OrderedDict[object, Near]" = OrderedDict()
    if scored:
        best = max(s for s, *_ in scored)
        for score, pod, parts, wrong in scored:
            if score != best:
                continue
            wl = ctx.workload(pod)
            key = (wl.kind, wl.name) if wl else ("Pod", meta(pod).get("name"))
            if key not in groups:
                groups[key] = Near(wl, meta(pod).get("labels") or {}, wrong)
            groups[key].pods.append((pod, parts))
    else:
        # No pod shares a selector label: maybe the workload meant to back the Service has no
        # pods (scaled to zero, or never accepted). Compare the pod templates instead.
        best, found = 0, []
        for kind in ("Deployment", "StatefulSet", "DaemonSet"):
            for obj in ctx.view.list(kind, ctx.namespace):
                tlabels = ((obj.get("spec") or {}).get("template") or {}).get("metadata", {}).get("labels") or {}
                score, parts, wrong = compare(sel, tlabels)
                if score:
                    found.append((score, kind, obj, tlabels, parts, wrong))
                    best = max(best, score)
        for score, kind, obj, tlabels, parts, wrong in found:
            if score == best:
                near = Near(ObjectRef(kind, ctx.namespace, meta(obj).get("name", "")), tlabels, wrong)
                near.template_parts = parts
                near.object = obj
                groups[(kind, near.workload.name)] = near
    out = list(groups.values())[:MAX_WORKLOADS]
    for near in out:
        if near.workload and near.object is None and near.workload.kind in WORKLOAD_TEMPLATE_KINDS:
            near.object = ctx.get(near.workload.kind, near.workload.name)
    return out


def _workload_selector_problem(near: Near) -> Optional[str]:
    """Evidence when the workload's own spec.selector does not match its template labels."""
    obj = near.object
    if not obj or near.workload is None:
        return None
    spec = obj.get("spec") or {}
    sel = spec.get("selector")
    if near.workload.kind == "ReplicationController":
        reqs = requirements_from_map(sel) if sel else None
    else:
        reqs = requirements_from_label_selector(sel)
    tlabels = ((spec.get("template") or {}).get("metadata") or {}).get("labels") or {}
    if reqs is None or matches(reqs, tlabels):
        return None
    sel_text = selector_text(sel.get("matchLabels") or {}) if isinstance(sel, dict) and \
        near.workload.kind != "ReplicationController" else selector_text(sel or {})
    if isinstance(sel, dict) and sel.get("matchExpressions"):
        sel_text += (", " if sel_text else "") + "matchExpressions"
    kind = near.workload.kind
    what = (f"{kubectl_name(near.workload)}: its own spec.selector ({sel_text}) does not match its "
            f"template labels ({labels_text(tlabels)}); the API server rejects such a {kind} "
            f"(The {kind} \"{near.workload.name}\" is invalid: spec.template.metadata.labels: Invalid "
            f"value: …: `selector` does not match template `labels`)")
    if not meta(obj).get("uid"):
        what += ", so this one comes from a manifest the cluster never accepted and has no pods"
    return clean(what)


def _selector_keys(near: Near) -> set:
    """Label keys the workload's own selector pins (immutable for Deployments, StatefulSets...)."""
    obj = near.object or {}
    sel = (obj.get("spec") or {}).get("selector") or {}
    if near.workload and near.workload.kind == "ReplicationController":
        return set(sel)
    keys = set((sel.get("matchLabels") or {}))
    keys |= {e.get("key") for e in sel.get("matchExpressions") or []}
    return keys


# ---- findings -----------------------------------------------------------------------------------

def _mismatch(ctx: ServiceContext, near: List[Near], elsewhere: List[dict]) -> Finding:
    sel = ctx.selector
    evidence = [f"service selector: {clean(selector_text(sel))}"]
    suggestions = []
    for group in near:
        wl = kubectl_name(group.workload) if group.workload else None
        if group.pods:
            for pod, parts in group.pods[:MAX_PODS_SHOWN]:
                evidence.append(f"pod {clean(meta(pod).get('name', ''))}"
                                + (f" ({wl})" if wl else "") + ": " + clean(", ".join(parts)))
            more = len(group.pods) - MAX_PODS_SHOWN
            if more > 0:
                evidence.append(f"… and {more} more pod{'s' if more != 1 else ''}"
                                + (f" of {wl}" if wl else "") + " with the same labels")
        elif group.template_parts is not None:
            evidence.append(f"{wl} pod template (no pods): " + clean(", ".join(group.template_parts)))
        problem = _workload_selector_problem(group)
        if problem:
            evidence.append(problem)

    if near:
        first = near[0]
        missing = [k for k, v in first.wrong.items() if v is None]
        differ = [k for k, v in first.wrong.items() if v is not None]
        plural = bool(first.pods) or not first.workload
        whose = (f"the closest pods ({kubectl_name(first.workload)})" if first.workload and first.pods
                 else f"the pod template of {kubectl_name(first.workload)}" if first.workload
                 else "the closest pods")
        bits = []
        if missing:
            bits.append(("lack " if plural else "lacks ") + ", ".join(f"{k}={sel[k]}" for k in missing))
        if differ:
            bits.append(("have " if plural else "has ")
                        + ", ".join(f"{k}={first.wrong[k]} instead of {k}={sel[k]}" for k in differ))
        summary = (f'no pod in namespace {ctx.namespace} carries every label of the selector of '
                   f'service "{ctx.name}" ({selector_text(sel)}): {whose} {" and ".join(bits)}, '
                   f'so the Service has no endpoints')
        for group in near:
            suggestions.extend(_template_fix(ctx, group, evidence))
        suggestions.extend(_service_fix(ctx, first))
    else:
        summary = (f'no pod in namespace {ctx.namespace} carries any label of the selector of '
                   f'service "{ctx.name}" ({selector_text(sel)}), so the Service has no endpoints')
        keys = ",".join(sel)
        suggestions.append(f"kubectl get pods {ctx.ns_flag} -L {keys}")
        suggestions.append(f"kubectl get deployments,statefulsets,daemonsets {ctx.ns_flag} --show-labels")
    evidence.append(_endpoints_line(ctx))
    if elsewhere:
        evidence.append(f"pods with every selector label run in other namespaces: "
                        f"{_pod_list(elsewhere)}")
    owner = next((g.workload for g in near if g.workload), None)
    return ctx.finding("SelectorMismatch", clean(summary), evidence=evidence, suggestions=suggestions,
                       owner=owner, details={
                           "selector": sel,
                           "closest": [{"workload": g.workload.to_dict() if g.workload else None,
                                        "pods": [meta(p).get("name") for p, _ in g.pods],
                                        "missing": [k for k, v in g.wrong.items() if v is None],
                                        "different": {k: v for k, v in g.wrong.items() if v is not None}}
                                       for g in near]})


def _template_fix(ctx: ServiceContext, group: Near, evidence: List[str]) -> List[str]:
    """Fix 1: give the workload's pods the labels the Service wants."""
    if not group.workload or group.workload.kind not in WORKLOAD_TEMPLATE_KINDS + ("Job", "CronJob"):
        if group.pods and not group.workload:
            pod = meta(group.pods[0][0]).get("name", "")
            labels = " ".join(f"{k}={ctx.selector[k]}" for k in group.wrong)
            return [f"kubectl label pod {pod} {ctx.ns_flag} --overwrite {labels}"]
        return []
    pinned = [k for k, v in group.wrong.items() if v is not None and k in _selector_keys(group)]
    if pinned:
        evidence.append(f"{kubectl_name(group.workload)} cannot change "
                        f"{', '.join(pinned)} in its pod template: its own selector pins "
                        f"{', '.join(f'{k}={group.wrong[k]}' for k in pinned)} and a selector is "
                        f"immutable; change the Service selector instead (or replace the workload)")
        return []
    labels = {k: ctx.selector[k] for k in group.wrong}
    if group.object is not None and not meta(group.object).get("uid"):
        # Only in a manifest the API server refused: there is nothing to patch yet.
        wanted = ", ".join(f"{k}: {v}" for k, v in labels.items())
        return [fix(f"kubectl apply {ctx.ns_flag} -f MANIFEST.yaml",
                    f"after adding {wanted} to spec.template.metadata.labels of "
                    f"{kubectl_name(group.workload)}")]
    cmd = template_patch(group.workload, ctx.namespace, {"metadata": {"labels": labels}})
    return [fix(cmd, "rolls out new pods with the labels")]


def _service_fix(ctx: ServiceContext, group: Near) -> List[str]:
    """Fix 2: make the Service select what the pods carry (a merge patch: null removes a key)."""
    change = {k: v for k, v in group.wrong.items()}  # None removes, a value replaces
    new_sel = {k: v for k, v in ctx.selector.items() if k not in change}
    new_sel.update({k: v for k, v in change.items() if v is not None})
    if not new_sel:
        return []
    reqs = requirements_from_map(new_sel)
    selected = [p for p in ctx.namespace_pods() if matches(reqs, meta(p).get("labels"))]
    owners = []
    for p in selected:
        wl = ctx.workload(p)
        name = kubectl_name(wl) if wl else f"pod/{meta(p).get('name')}"
        if name not in owners:
            owners.append(name)
    comment = (f"selector becomes {selector_text(new_sel)}: {len(selected)} "
               f"pod{'s' if len(selected) != 1 else ''}"
               + (f" ({', '.join(owners[:3])}{', …' if len(owners) > 3 else ''})" if owners
                  else " until the workload exists"))
    return [fix(ctx.service_patch({"spec": {"selector": change}}), comment)]


def _matching_elsewhere(ctx: ServiceContext) -> List[dict]:
    reqs = requirements_from_map(ctx.selector)
    return [p for p in ctx.view.list("Pod", None)
            if meta(p).get("namespace") != ctx.namespace and matches(reqs, meta(p).get("labels"))]


def _pod_list(pods: List[dict], limit: int = 4) -> str:
    names = [f"{meta(p).get('namespace')}/{meta(p).get('name')}" for p in pods[:limit]]
    more = len(pods) - limit
    return clean(", ".join(names) + (f" and {more} more" if more > 0 else ""))


def _other_namespace(ctx: ServiceContext, pods: List[dict]) -> Finding:
    namespaces = sorted({meta(p).get("namespace") for p in pods})
    evidence = [f"service selector: {clean(selector_text(ctx.selector))}",
                f"matching pods: {_pod_list(pods)}",
                f"a Service only selects pods of its own namespace ({ctx.namespace})",
                _endpoints_line(ctx)]
    suggestions = []
    owners: "OrderedDict[str, ObjectRef]" = OrderedDict()
    for p in pods:
        wl = ctx.view.top_owner(p)
        if wl and wl.kind in ("Deployment", "StatefulSet", "DaemonSet", "ReplicaSet"):
            owners.setdefault(kubectl_name(wl) + "@" + (wl.namespace or ""), wl)
    port = ctx.ports[0] if ctx.ports else None
    for wl in list(owners.values())[:2]:
        ports = ""
        if port:
            ports = f" --port={port.get('port')} --target-port={target_port(port)}"
            if (port.get("protocol") or "TCP") != "TCP":
                ports += f" --protocol={port.get('protocol')}"
        suggestions.append(fix(f"kubectl expose {kubectl_name(wl)} -n {wl.namespace} --name={ctx.name}{ports}",
                               f"clients then use {ctx.name}.{wl.namespace}.svc.cluster.local"))
    if not suggestions:
        suggestions.append(f"kubectl get pods -A -l {selector_text(ctx.selector)}")
    where = ", ".join(namespaces)
    summary = (f'the pods matching the selector of service "{ctx.name}" ({selector_text(ctx.selector)}) '
               f'run in namespace{"s" if len(namespaces) > 1 else ""} {where}, but the Service is in '
               f'{ctx.namespace}: a Service only selects pods of its own namespace')
    owner = next(iter(owners.values()), None)
    return ctx.finding("PodsInOtherNamespace", clean(summary), evidence=evidence,
                       suggestions=suggestions, owner=owner,
                       details={"namespaces": namespaces,
                                "pods": [f"{meta(p).get('namespace')}/{meta(p).get('name')}" for p in pods]})


def _endpoints_line(ctx: ServiceContext) -> str:
    eps = ctx.endpoints()
    if eps.source == "EndpointSlice":
        n = len(eps.items)
        return (f"{eps.describe_source()}: {'no endpoints' if not n else f'{n} endpoints'}"
                + (" (kubectl get endpoints shows <none>)" if not n else ""))
    if eps.source == "Endpoints":
        return (f"{eps.describe_source()}: no addresses (kubectl get endpoints shows <none>)"
                if not eps.items else f"{eps.describe_source()}: {len(eps.items)} addresses")
    return "no endpoints: no pod matches the selector"


def _no_selector(ctx: ServiceContext) -> List[Finding]:
    eps = ctx.endpoints()
    if eps.items:
        return []  # endpoints managed by someone else (an operator, or by hand): their readiness is checked elsewhere
    if eps.source == "none" and not eps.known_absent:
        ctx.view.note(f'service "{ctx.name}" -n {ctx.namespace} has no selector and the input holds '
                      f'no Endpoints or EndpointSlices: whether anyone manages its endpoints is unknown')
        return []
    if eps.source == "none":
        where = (f"no EndpointSlice labelled kubernetes.io/service-name={ctx.name} and no Endpoints "
                 f"{ctx.name} in namespace {ctx.namespace}")
    else:
        where = f"{eps.describe_source()} lists no addresses"
    evidence = ["spec.selector: not set (the control plane manages no endpoints for this Service)",
                where]
    evidence += [f"port {clean(port_label(p))} → {target_port(p)}" for p in ctx.ports]
    slice_ports = []
    for p in ctx.ports:
        entry = {"port": target_port(p) if isinstance(target_port(p), int) else "PORT",
                 "protocol": p.get("protocol") or "TCP"}
        if p.get("name"):
            entry = {"name": p["name"], **entry}
        slice_ports.append(entry)
    body = {"apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice",
            "metadata": {"name": f"{ctx.name}-1", "labels": {"kubernetes.io/service-name": ctx.name}},
            "addressType": "IPv4", "ports": slice_ports, "endpoints": [{"addresses": ["IP_ADDRESS"]}]}
    suggestions = [
        fix(ctx.service_patch({"spec": {"selector": {"app": "APP"}}}),
            "let the control plane pick the pods labelled app=APP"),
        fix(f"echo {shlex.quote(json.dumps(body, separators=(',', ':')))} | kubectl apply {ctx.ns_flag} -f -",
            "or list the backend addresses yourself"),
    ]
    return [ctx.finding(
        "NoSelectorNoEndpoints",
        f'service "{ctx.name}" has no selector and nothing lists endpoints for it, so it forwards '
        f'traffic nowhere', evidence=evidence, suggestions=suggestions)]
