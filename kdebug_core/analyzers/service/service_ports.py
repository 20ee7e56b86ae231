"""TargetPortMismatch: the Service forwards to a port the backend containers do not serve.

A named `targetPort` is looked up among the pods' named container ports (same protocol; native
sidecars count), exactly as the endpoint controllers do: a pod without it gets no port in the
EndpointSlice (`kubectl get endpointslices` shows PORTS `<unset>`) and no address in Endpoints,
so the name not being declared is an error. A numeric `targetPort` is used as is; `containerPort`
is informational, so a number no container declares is only a warning — unless the kubelet's
probes found that port refusing connections, which shows nothing listens there.
"""

import re
from typing import Dict, List, Optional, Tuple

from ...findings import Finding, ObjectRef
from ...sanitize import clean
from ...view import meta
from ..base import PodContext, fix
from .service_base import (ServiceContext, declared_containers, find_port, is_pod_ready, kubectl_name,
                           port_label, target_port, template_patch)


def analyze(view, service: dict, plugin: str) -> List[Finding]:
    ctx = ServiceContext(view, service, plugin)
    if ctx.type == "ExternalName" or not ctx.selector:
        return []
    pods = [p for p in ctx.pods() if (p.get("status") or {}).get("phase") not in ("Succeeded", "Failed")]
    if not pods:
        return []
    findings = []
    for index, sp in enumerate(ctx.ports):
        target = target_port(sp)
        if isinstance(target, str):
            f = _named(ctx, index, sp, target, pods)
        else:
            f = _numeric(ctx, index, sp, target, pods)
        if f:
            findings.append(f)
    return findings


def _groups(ctx: ServiceContext, pods: List[dict]) -> List[Tuple[Optional[ObjectRef], List[dict]]]:
    """Pods by the workload that makes them (one representative template each)."""
    out: Dict[tuple, Tuple[Optional[ObjectRef], List[dict]]] = {}
    for p in pods:
        wl = ctx.workload(p)
        key = (wl.kind, wl.name) if wl else ("Pod", meta(p).get("name"))
        out.setdefault(key, (wl, []))[1].append(p)
    return list(out.values())


def _declared(pod: dict, protocol: Optional[str] = None) -> List[Tuple[str, dict]]:
    """(container name, port) for every declared container port, optionally of one protocol."""
    out = []
    for c, _sidecar in declared_containers(pod):
        for p in c.get("ports") or []:
            if protocol is None or (p.get("protocol") or "TCP") == protocol:
                out.append((c.get("name", ""), p))
    return out


def _ports_text(pod: dict) -> str:
    parts = []
    for c, _sidecar in declared_containers(pod):
        ports = c.get("ports") or []
        if ports:
            listed = ", ".join((f"{p['name']}=" if p.get("name") else "")
                               + f"{p.get('containerPort')}/{p.get('protocol') or 'TCP'}" for p in ports)
            parts.append(f"container {c.get('name')} declares {listed}")
        else:
            parts.append(f"container {c.get('name')} declares no ports")
    return "; ".join(parts)


def _who(pods: List[dict], wl: Optional[ObjectRef]) -> str:
    name = meta(pods[0]).get("name", "")
    return f"pod {name}" + (f" ({kubectl_name(wl)}" + (f", {len(pods)} pods" if len(pods) > 1 else "")
                            + ")" if wl else "")


def _replace_target(ctx: ServiceContext, index: int, value) -> str:
    return ctx.service_patch([{"op": "replace", "path": f"/spec/ports/{index}/targetPort",
                               "value": value}], patch_type="json")


def _named(ctx: ServiceContext, index: int, sp: dict, target: str, pods: List[dict]) -> Optional[Finding]:
    protocol = sp.get("protocol") or "TCP"
    missing = [p for p in pods if find_port(p, sp) is None]
    if not missing:
        return None
    evidence = [f'service port {clean(port_label(sp))} → targetPort "{clean(target)}"']
    suggestions: List[str] = []
    owner = None
    for wl, group in _groups(ctx, missing):
        owner = owner or wl
        rep = group[0]
        line = f"{_who(group, wl)}: {_ports_text(rep)}; no {protocol} port named \"{target}\""
        other_proto = [(c, p) for c, p in _declared(rep) if p.get("name") == target
                       and (p.get("protocol") or "TCP") != protocol]
        if other_proto:
            c, p = other_proto[0]
            line += (f" (container {c} names {p.get('containerPort')}/{p.get('protocol')} "
                     f"\"{target}\", but the Service port is {protocol})")
        evidence.append(clean(line))
        candidates = _declared(rep, protocol)
        if len(candidates) == 1 and len(suggestions) < 2:
            cname, cport = candidates[0]
            value = cport.get("name") or int(cport.get("containerPort"))
            suggestions.append(fix(_replace_target(ctx, index, value),
                                   f"forward to {cname}'s port {cport.get('containerPort')}"))
            if wl:
                suggestions.append(fix(template_patch(wl, ctx.namespace, {"spec": {"containers": [
                    {"name": cname, "ports": [{"containerPort": int(cport.get("containerPort")),
                                               "name": target}]}]}}),
                                       f"or name that port \"{target}\" (rolls out new pods)"))
    evidence.append(_endpoints_evidence(ctx, sp))
    if not suggestions:
        suggestions.append(_replace_target(ctx, index, "PORT_NAME_OR_NUMBER"))
    every = len(missing) == len(pods)
    whose = "any backend pod" if every else f"{len(missing)} of {len(pods)} backend pods"
    outcome = ("the Service has no port to forward to" if every
               else "those pods get no traffic on it")
    summary = (f'targetPort "{target}" of port {sp.get("port")} of service "{ctx.name}" is not a '
               f'named {protocol} container port of {whose}: {outcome}')
    return ctx.finding("TargetPortMismatch", clean(summary), evidence=evidence,
                       suggestions=suggestions, owner=owner, severity="error" if every else "warning",
                       details={"port": sp.get("port"), "targetPort": target,
                                "pods": [meta(p).get("name") for p in missing]})


def _refusals(ctx: ServiceContext, pods: List[dict], port: int) -> List[str]:
    """Probe events showing the target port refusing connections (nothing listens there)."""
    pattern = re.compile(rf":{port}: connect: connection refused")
    out = []
    for pod in pods:
        pctx = PodContext(view=ctx.view, pod=pod, plugin=ctx.plugin)
        for ev in pctx.events_where("Unhealthy"):
            if pattern.search(ev.get("message") or ""):
                out.append(f"pod {meta(pod).get('name')}: {pctx.describe_event(ev)}")
                break
        if out:
            break
    return out


def _numeric(ctx: ServiceContext, index: int, sp: dict, target: int, pods: List[dict]) -> Optional[Finding]:
    protocol = sp.get("protocol") or "TCP"
    undeclared = [p for p in pods if _declared(p, protocol)
                  and not any(int(port.get("containerPort") or 0) == target for _, port in _declared(p, protocol))]
    silent = [p for p in pods if not _declared(p)]  # no ports declared at all: nothing to compare
    refused = _refusals(ctx, undeclared + silent, target) if (undeclared or silent) else []
    if not undeclared and not refused:
        return None
    if not refused and all(is_pod_ready(p) for p in undeclared):
        # Ready backends and no refusal on record: containerPort is informational, and nothing
        # shows the port does not answer (corpus 097: declared 9999, the app serves 3000).
        return None
    affected = undeclared + (silent if refused else [])
    evidence = [f"service port {clean(port_label(sp))} → targetPort {target}"]
    suggestions: List[str] = []
    owner = None
    for wl, group in _groups(ctx, affected):
        owner = owner or wl
        rep = group[0]
        evidence.append(clean(f"{_who(group, wl)}: {_ports_text(rep)}"))
        candidates = _declared(rep, protocol)
        if len(candidates) == 1 and not suggestions:
            cname, cport = candidates[0]
            suggestions.append(fix(_replace_target(ctx, index, int(cport.get("containerPort"))),
                                   f"forward to the port {cname} declares"))
    evidence.extend(clean(r) for r in refused)
    if not suggestions:
        suggestions.append(_replace_target(ctx, index, "PORT"))
    if refused:
        summary = (f'targetPort {target} of service "{ctx.name}" refuses connections on the backend '
                   f'pods: nothing listens there')
        severity = "error"
    else:
        summary = (f'targetPort {target} of service "{ctx.name}" is not a port the backend containers '
                   f'declare: check the app listens on {target} (containerPort is informational)')
        severity = "warning"
    if not refused:
        suggestions.append(fix(f"kubectl port-forward {ctx.kubectl_ref} {ctx.ns_flag} 8080:{sp.get('port')}",
                               f"then curl localhost:8080 to see whether {target} answers"))
    return ctx.finding("TargetPortMismatch", clean(summary), evidence=evidence,
                       suggestions=suggestions, owner=owner, severity=severity,
                       details={"port": sp.get("port"), "targetPort": target,
                                "pods": [meta(p).get("name") for p in affected]})


def _endpoints_evidence(ctx: ServiceContext, sp: dict) -> str:
    eps = ctx.endpoints()
    name = sp.get("name") or ""
    if eps.source == "EndpointSlice":
        without = [s for s in eps.objects
                   if (s.get("endpoints") or []) and not any((p.get("name") or "") == name
                                                              for p in s.get("ports") or [])]
        if without:
            n = sum(len(s.get("endpoints") or []) for s in without)
            names = ", ".join(meta(s).get("name", "") for s in without)
            return (f"EndpointSlice {names}: {n} endpoint{'s' if n != 1 else ''} without this port "
                    f"(kubectl get endpointslices shows PORTS <unset>)")
        return f"{eps.describe_source()}: {len(eps.items)} endpoints"
    if eps.source == "Endpoints":
        with_port = [e for e in eps.items if any((p.get("name") or "") == name for p in e.ports)]
        return (f"{eps.describe_source()}: {len(with_port)} addresses for this port"
                + (" (kubectl get endpoints shows <none>)" if not eps.items else ""))
    return "endpoints computed from the pods: no pod resolves this port"
