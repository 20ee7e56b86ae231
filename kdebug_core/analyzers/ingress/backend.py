"""IngressBackendMissing: the Ingress sends traffic to a Service, or a Service port, that does not
exist — the controller answers 503 for those paths (ingress-nginx logs `service "ns/x" does not
exist` / `service ns/x does not have any port named y`).

Matched as the controllers match: a backend names a Service in the Ingress's own namespace and one of
its ports by `number` (the Service's `port`, not its targetPort) or by `name`.
"""

import shlex
from typing import List

from ...sanitize import clean
from ...view import ClusterView, meta
from ..base import fix
from .base import backends, finding, ns_flag


def analyze(view: ClusterView, ingress: dict, plugin: str) -> List:
    ns = meta(ingress).get("namespace") or "default"
    out, seen = [], set()
    for b in backends(ingress):
        key = (b.service, b.port_number, b.port_name)
        if key in seen:
            continue
        seen.add(key)
        svc = view.get("Service", ns, b.service)
        if svc is None:
            elsewhere = sorted(meta(s).get("namespace") or "" for s in view.list("Service", None)
                               if meta(s).get("name") == b.service and meta(s).get("namespace") != ns)
            if elsewhere:
                out.append(_other_namespace(ingress, plugin, b, ns, elsewhere))
                continue
            if view.exists("Service", ns, b.service) is not False:
                continue  # unreadable, or not in the input: absence proves nothing
            others = sorted(meta(s).get("name", "") for s in view.list("Service", ns))
            evidence = [f"{b.where} → service {clean(b.service)} port {clean(b.port_text)}",
                        f'service "{clean(b.service)}" not found in namespace {clean(ns)}']
            if others:
                evidence.append("Services in the namespace: " + ", ".join(clean(o) for o in others[:10]))
            out.append(finding(
                ingress, plugin, "IngressBackendMissing",
                f'the Ingress sends {clean(b.where)} to Service "{clean(b.service)}", which does not exist in '
                f"namespace {clean(ns)}: the controller answers 503 there",
                evidence=evidence, cause="ServiceNotFound",
                suggestions=[fix(f"kubectl get services {ns_flag(ingress)}",
                                 "the Services that exist: a typo in the backend's service name?")],
                details={"service": b.service, "port": b.port_text, "where": b.where}))
            continue
        ports = (svc.get("spec") or {}).get("ports") or []
        if b.port_number is not None:
            ok = any(p.get("port") == b.port_number for p in ports)
        elif b.port_name:
            ok = any((p.get("name") or "") == b.port_name for p in ports)
        else:
            ok = len(ports) == 1
        if ok:
            continue
        offered = ", ".join(clean(f"{p.get('name') + ':' if p.get('name') else ''}{p.get('port')}") for p in ports) or "none"
        why = ("by number, the Service's port (not its targetPort) must match" if b.port_number is not None
               else "by name, a Service port must carry that name")
        out.append(finding(
            ingress, plugin, "IngressBackendMissing",
            f'the Ingress sends {clean(b.where)} to port {clean(b.port_text)} of Service "{clean(b.service)}", '
            f"which has no such port (it has {offered}): the controller answers 503 there",
            evidence=[f"{b.where} → service {clean(b.service)} port {clean(b.port_text)} ({why})",
                      f"service {clean(b.service)} ports: {offered}"],
            cause="PortNotFound",
            suggestions=[fix(f"kubectl get service {shlex.quote(b.service)} {ns_flag(ingress)} -o "
                             + shlex.quote("jsonpath={.spec.ports}"),
                             "the Service's ports, to name one of them in the Ingress backend")],
            details={"service": b.service, "port": b.port_text, "where": b.where}))
    return out


def _other_namespace(ingress: dict, plugin: str, b, ns: str, elsewhere: List[str]):
    """The Service exists, but in another namespace: an Ingress backend reaches only its own."""
    other = elsewhere[0]
    fqdn = f"{b.service}.{other}.svc.cluster.local"
    return finding(
        ingress, plugin, "IngressBackendMissing",
        f'the Ingress sends {clean(b.where)} to Service "{clean(b.service)}", which is in namespace '
        f"{clean(other)}, not in the Ingress's namespace {clean(ns)}: an Ingress backend can only name "
        f"a Service of its own namespace, so the controller answers 503 there",
        evidence=[f"{b.where} → service {clean(b.service)} port {clean(b.port_text)}",
                  f'service "{clean(b.service)}" not found in namespace {clean(ns)}; it exists in namespace'
                  f"{'s' if len(elsewhere) > 1 else ''} {', '.join(clean(e) for e in elsewhere)}"],
        cause="ServiceInOtherNamespace",
        suggestions=[fix(f"kubectl create service externalname {shlex.quote(b.service)} {ns_flag(ingress)} "
                         f"--external-name {shlex.quote(fqdn)}",
                         f"a Service of the same name in {ns} that points at the one in {other} "
                         f"(or move the Ingress to namespace {other})")],
        details={"service": b.service, "port": b.port_text, "where": b.where, "namespaces": elsewhere})
