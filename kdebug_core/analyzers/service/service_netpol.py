"""NetworkPolicyIsolated: NetworkPolicies select the Service's pods and let no traffic in.

A pod is isolated for ingress as soon as one policy with policy type Ingress selects it; it then
accepts only what the union of those policies' ingress rules admits. No rules at all means it
accepts nothing (a "default deny"); rules that only open other ports still block the Service's
port; rules that only admit other namespaces or CIDRs shut out the pods of its own namespace
(advice, not an error: that may be the intent). Whether policies are enforced depends on the
cluster's network plugin, which the API does not say: the finding is a warning.
"""

import json
import shlex
from typing import Dict, List, Optional, Tuple

from ...findings import Finding
from ...labels import matches, requirements_from_label_selector
from ...sanitize import clean
from ...view import meta
from ..base import fix
from .service_base import ServiceContext, declared_containers, find_port, selector_text

NAMESPACE_NAME_LABEL = "kubernetes.io/metadata.name"


def analyze(view, service: dict, plugin: str) -> List[Finding]:
    ctx = ServiceContext(view, service, plugin)
    if ctx.type == "ExternalName" or not ctx.selector:
        return []
    pods = [p for p in ctx.pods() if (p.get("status") or {}).get("phase") not in ("Succeeded", "Failed")]
    policies = [p for p in ctx.view.list("NetworkPolicy", ctx.namespace) if _isolates_ingress(p)]
    if not pods or not policies:
        return []
    groups: Dict[Tuple[str, ...], List[dict]] = {}
    for pod in pods:
        selecting = tuple(meta(p).get("name", "") for p in policies if _selects(p, pod))
        if selecting:
            groups.setdefault(selecting, []).append(pod)
    findings = []
    for names, group in groups.items():
        f = _judge(ctx, [p for p in policies if meta(p).get("name") in names], group, len(pods))
        if f:
            findings.append(f)
    return findings


def _isolates_ingress(policy: dict) -> bool:
    spec = policy.get("spec") or {}
    types = spec.get("policyTypes")
    if types is None:  # the API server defaults it; a manifest may omit it: Ingress is implied
        return True
    return "Ingress" in types


def _selects(policy: dict, pod: dict) -> bool:
    reqs = requirements_from_label_selector((policy.get("spec") or {}).get("podSelector") or {})
    return reqs is not None and matches(reqs, meta(pod).get("labels"))


def _target_ports(ctx: ServiceContext, pod: dict) -> List[Tuple[int, Optional[str], str]]:
    """(number, container port name, protocol) each Service port reaches on this pod."""
    out = []
    for sp in ctx.ports:
        num = find_port(pod, sp)
        if num is None:
            continue
        protocol = sp.get("protocol") or "TCP"
        name = None
        for c, _ in declared_containers(pod):
            for p in c.get("ports") or []:
                if int(p.get("containerPort") or 0) == num and (p.get("protocol") or "TCP") == protocol:
                    name = p.get("name")
        out.append((num, name, protocol))
    return out


def _rule_admits_port(rule: dict, port: Tuple[int, Optional[str], str]) -> bool:
    ports = rule.get("ports") or []
    if not ports:
        return True
    num, name, protocol = port
    for p in ports:
        if (p.get("protocol") or "TCP") != protocol:
            continue
        value = p.get("port")
        if value is None:
            return True
        if isinstance(value, str) and not value.isdigit():
            if name and value == name:
                return True
            continue
        low = int(value)
        high = int(p.get("endPort") or low)
        if low <= num <= high:
            return True
    return False


def _ports_text(rule: dict) -> str:
    ports = rule.get("ports") or []
    if not ports:
        return "every port"
    return ", ".join(f"{p.get('port', 'any')}" + (f"-{p['endPort']}" if p.get("endPort") else "")
                     + f"/{p.get('protocol') or 'TCP'}" for p in ports)


def _peer_admits_namespace_pods(ctx: ServiceContext, peer: dict, backends: List[dict]) -> Optional[bool]:
    """Does this `from` peer admit some other pod of the Service's namespace? None: cannot tell."""
    if "ipBlock" in peer and not peer.get("podSelector") and not peer.get("namespaceSelector"):
        return False
    ns_sel = peer.get("namespaceSelector")
    if ns_sel is not None:
        reqs = requirements_from_label_selector(ns_sel)
        labels = _namespace_labels(ctx)
        if not matches(reqs, labels):
            known = ctx.view.get("Namespace", None, ctx.namespace) is not None
            keys = {k for k in (ns_sel.get("matchLabels") or {})} | \
                   {e.get("key") for e in ns_sel.get("matchExpressions") or []}
            if not known and keys - {NAMESPACE_NAME_LABEL}:
                return None
            return False
    pod_sel = peer.get("podSelector")
    if pod_sel is None:
        return True
    reqs = requirements_from_label_selector(pod_sel)
    backend_names = {meta(b).get("name") for b in backends}
    return any(matches(reqs, meta(p).get("labels")) for p in ctx.namespace_pods()
               if meta(p).get("name") not in backend_names)


def _namespace_labels(ctx: ServiceContext) -> Dict[str, str]:
    labels = {NAMESPACE_NAME_LABEL: ctx.namespace}  # set on every namespace since Kubernetes 1.21
    ns = ctx.view.get("Namespace", None, ctx.namespace) if ctx.view.readable("Namespace") else None
    if ns:
        labels.update(meta(ns).get("labels") or {})
    return labels


def _peer_text(peer: dict) -> str:
    bits = []
    if "namespaceSelector" in peer:
        bits.append("namespaces " + _selector_text(peer["namespaceSelector"]))
    if "podSelector" in peer:
        bits.append("pods " + _selector_text(peer["podSelector"]))
    if "ipBlock" in peer:
        block = peer["ipBlock"]
        bits.append(f"ipBlock {block.get('cidr')}"
                    + (f" except {', '.join(block.get('except') or [])}" if block.get("except") else ""))
    return " and ".join(bits) or "anywhere"


def _selector_text(sel: dict) -> str:
    if not sel.get("matchLabels") and not sel.get("matchExpressions"):
        return "{} (all)"
    text = selector_text({k: str(v) for k, v in (sel.get("matchLabels") or {}).items()})
    for e in sel.get("matchExpressions") or []:
        text += ("," if text else "") + f"{e.get('key')} {e.get('operator')} ({','.join(e.get('values') or [])})"
    return text


def _policy_line(policy: dict) -> str:
    spec = policy.get("spec") or {}
    rules = spec.get("ingress") or []
    head = (f"networkpolicy/{meta(policy).get('name')}: podSelector {_selector_text(spec.get('podSelector') or {})}, "
            f"policyTypes {', '.join(spec.get('policyTypes') or ['Ingress'])}")
    if not rules:
        return head + ", no ingress rules (denies all ingress)"
    texts = []
    for r in rules:
        peers = r.get("from") or []
        source = "anywhere" if not peers else "; ".join(_peer_text(p) for p in peers)
        texts.append(f"from {source} on {_ports_text(r)}")
    return head + ", ingress " + " | ".join(texts)


def _judge(ctx: ServiceContext, policies: List[dict], pods: List[dict], total: int) -> Optional[Finding]:
    rules = [r for p in policies for r in (p.get("spec") or {}).get("ingress") or []]
    ports = _target_ports(ctx, pods[0])
    names = [meta(p).get("name", "") for p in policies]
    quoted = ", ".join(f'"{n}"' for n in names)
    noun = "NetworkPolicy" if len(names) == 1 else "NetworkPolicies"
    which = "all" if len(pods) == total else f"{len(pods)} of {total}"
    evidence = [clean(_policy_line(p)) for p in policies]
    evidence.append(clean(f"{noun} {quoted} select{'s' if len(names) == 1 else ''} {which} backend pods "
                          f"of service \"{ctx.name}\" (e.g. pod {meta(pods[0]).get('name')})"))
    port_text = ", ".join(f"{n}/{proto}" for n, _, proto in ports) or "its target port"
    severity = "warning"
    if not rules:
        summary = (f'{noun} {quoted} select{"s" if len(names) == 1 else ""} the pods of service '
                   f'"{ctx.name}" for Ingress and admit{"s" if len(names) == 1 else ""} no traffic: '
                   f'nothing can connect to them (where the network plugin enforces NetworkPolicy)')
        cause = "DenyAll"
    else:
        open_rules = [r for r in rules if any(_rule_admits_port(r, port) for port in ports)] if ports else rules
        if not open_rules:
            summary = (f'{noun} {quoted} select{"s" if len(names) == 1 else ""} the pods of service '
                       f'"{ctx.name}" and only admit{"s" if len(names) == 1 else ""} traffic on other '
                       f'ports than the Service\'s target port {port_text}')
            cause = "PortNotAdmitted"
        else:
            verdicts = []
            for r in open_rules:
                peers = r.get("from") or []
                if not peers:
                    verdicts.append(True)
                    continue
                verdicts.extend(_peer_admits_namespace_pods(ctx, peer, pods) for peer in peers)
            if any(v is not False for v in verdicts):
                return None
            summary = (f'{noun} {quoted} only admit{"s" if len(names) == 1 else ""} traffic to the pods '
                       f'of service "{ctx.name}" from other namespaces or addresses: pods of namespace '
                       f'{ctx.namespace} cannot reach it')
            cause = "NamespaceNotAdmitted"
            severity = "info"
    suggestions = [f"kubectl describe networkpolicy {shlex.quote(n)} {ctx.ns_flag}" for n in names[:2]]
    suggestions.append(_allow_policy(ctx, ports))
    return ctx.finding("NetworkPolicyIsolated", clean(summary), evidence=evidence,
                       suggestions=suggestions, cause=cause, severity=severity,
                       details={"policies": names, "pods": [meta(p).get("name") for p in pods]})


def _allow_policy(ctx: ServiceContext, ports: List[Tuple[int, Optional[str], str]]) -> str:
    """A one-line `kubectl apply` of a policy admitting the namespace's pods on the Service's ports."""
    rule: dict = {"from": [{"podSelector": {}}]}
    if ports:
        rule["ports"] = [{"protocol": proto, "port": num} for num, _, proto in ports]
    body = {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
            "metadata": {"name": f"allow-{ctx.name}"},
            "spec": {"podSelector": {"matchLabels": ctx.selector}, "policyTypes": ["Ingress"],
                     "ingress": [rule]}}
    return fix(f"echo {shlex.quote(json.dumps(body, separators=(',', ':')))} | "
               f"kubectl apply {ctx.ns_flag} -f -", "admit the namespace's pods on the Service's port")
