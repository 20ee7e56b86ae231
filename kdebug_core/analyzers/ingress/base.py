"""What the Ingress analyzers share: its backends, a finding on it, whether a controller serves it."""

from dataclasses import dataclass
from typing import List, Optional

from ...findings import Finding, ObjectRef
from ...view import ClusterView, meta
from ..base import namespace_flag, new_finding

CLASS_ANNOTATION = "kubernetes.io/ingress.class"
DEFAULT_CLASS = "ingressclass.kubernetes.io/is-default-class"


@dataclass
class Backend:
    service: str
    port_number: Optional[int]
    port_name: Optional[str]
    where: str                      # "rule host.example.com path /api", "defaultBackend"

    @property
    def port_text(self) -> str:
        return str(self.port_number) if self.port_number is not None else (self.port_name or "?")


def backends(ingress: dict) -> List[Backend]:
    """Every Service backend of the Ingress (networking.k8s.io/v1 shape), in order."""
    spec = ingress.get("spec") or {}
    out = []

    def add(backend: dict, where: str):
        svc = (backend or {}).get("service") or {}
        if not svc.get("name"):
            # extensions/v1beta1 shape, still found in old dumps: serviceName/servicePort
            if (backend or {}).get("serviceName"):
                port = backend.get("servicePort")
                out.append(Backend(backend["serviceName"], port if isinstance(port, int) else None,
                                   port if isinstance(port, str) else None, where))
            return
        port = svc.get("port") or {}
        out.append(Backend(svc["name"], port.get("number"), port.get("name"), where))

    default = spec.get("defaultBackend") or spec.get("backend")
    if default:
        add(default, "defaultBackend")
    for rule in spec.get("rules") or []:
        host = rule.get("host") or "*"
        for path in ((rule.get("http") or {}).get("paths")) or []:
            add(path.get("backend") or {}, f"rule {host} path {path.get('path') or '/'}")
    return out


def served(view: ClusterView, ingress: dict) -> bool:
    """A controller has taken it: an address in its status, or events from a controller."""
    lb = ((ingress.get("status") or {}).get("loadBalancer") or {}).get("ingress") or []
    if lb:
        return True
    return any((ev.get("source") or {}).get("component") or ev.get("reportingController")
               for ev in view.events_for(ingress, "Ingress"))


def ns_flag(ingress: dict) -> str:
    return namespace_flag(meta(ingress).get("namespace"))


def finding(ingress: dict, plugin: str, reason: str, summary: str, evidence=None, suggestions=None,
            cause=None, severity=None, details=None) -> Finding:
    ref = ObjectRef("Ingress", meta(ingress).get("namespace") or "default", meta(ingress).get("name", ""))
    return new_finding(plugin, reason, ref, summary, evidence=evidence, suggestions=suggestions,
                       cause=cause, severity=severity, details=details)
