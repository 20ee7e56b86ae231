"""Probe configuration lint: what the spec alone shows is wrong or risky.

A probe on a port the container does not have (a missing port *name* means the kubelet cannot run it
at all), a container behind a Service with no readiness probe, a liveness probe identical to the
readiness probe. Each function takes the container's ProbeEvidence (probe_evidence.py).
"""

from typing import Dict, Optional

from ...findings import Finding
from ...sanitize import clean
from ...view import meta
from ..base import fix as make_fix
from .probe_config import SPEC_KEY, Probe, declared_ports, port_label
from .probe_evidence import ProbeEvidence, selector_text, services_behind, services_selecting


def port_mismatches(ev: ProbeEvidence) -> Dict[str, Finding]:
    ctx, c = ev.ctx, ev.c
    out: Dict[str, Finding] = {}
    ports = declared_ports(c.spec)
    declared = ", ".join(port_label(p) for p in ports) or "none"
    for kind, p in ev.probes.items():
        number, status = ev.ports.get(kind, (None, "none"))
        if status not in ("missing-name", "undeclared"):
            continue
        f = ev.fails.get(kind)
        now = ev.now.get(kind)
        refused = (f is not None and f.cause == "ConnectionRefused") or \
            (now is not None and now.cause == "ConnectionRefused")
        evidence = [p.describe(), f"container {c.name} ports: {declared}"]
        if status == "missing-name":
            severity = "error"
            summary = (f"the {kind} probe of container {c.name} uses port name "
                       f"\"{clean(str(p.port))}\", which no port of the container has: "
                       f"{_never_runs(ev, kind)}")
            evidence += [ctx.describe_event(e) for e in ev.port_errors.get(kind, [])[-1:]]
        else:
            severity = "error" if refused else "info"
            summary = (f"the {kind} probe of container {c.name} checks port {number}, which the "
                       f"container does not declare (it declares {declared})")
            if refused:
                summary += ": the checks are refused, nothing listens on that port"
                evidence += [ctx.describe_event(f.latest.event)] if f else []
            else:
                summary += "; fine if the app listens there anyway, but check it"
        evidence += ev.now_evidence(kind)
        fix = _port_candidate(ev, p)
        suggestions = [make_fix(ev.patch({SPEC_KEY[kind]: {p.handler_key: {"port": fix}}}),
                                "PORT: the port the app listens on" if fix == "PORT" else None)]
        out[kind] = ctx.finding(
            "ProbePortMismatch", summary, container=c.name, severity=severity,
            cause="PortNameNotFound" if status == "missing-name" else "PortNotDeclared",
            evidence=evidence, suggestions=suggestions,
            details={"probe": kind, "port": p.port, "declaredPorts": [
                {k: v for k, v in q.items() if k in ("name", "containerPort", "protocol")}
                for q in ports], "suggestedPort": fix})
    return out


def _never_runs(ev: ProbeEvidence, kind: str) -> str:
    if kind == "readiness":
        return "the kubelet cannot run the probe, so the container never becomes ready"
    if kind == "startup":
        return ("the kubelet cannot run the probe, so the container never counts as started "
                "and its liveness and readiness probes never run")
    return "the kubelet cannot run the probe, so it never restarts a hung container"


def _port_candidate(ev: ProbeEvidence, p: Probe):
    """The port to probe instead: the container's only TCP port (by name if it has one)."""
    tcp = [q for q in declared_ports(ev.c.spec) if (q.get("protocol") or "TCP") == "TCP"]
    if len(tcp) == 1:
        q = tcp[0]
        if isinstance(p.port, str) and q.get("name"):
            return q["name"]
        return int(q["containerPort"])
    return "PORT"


def no_readiness_probe(ev: ProbeEvidence) -> Optional[Finding]:
    ctx, c = ev.ctx, ev.c
    if "readiness" in ev.probes or c.sidecar:
        return None
    services = services_selecting(ctx)
    if not services:
        return None
    behind, target = services_behind(ctx, c, services)
    if not behind:
        return None
    names = ", ".join(f"\"{clean(meta(s).get('name'))}\"" for s in behind)
    port = target if target is not None else "PORT"
    return ctx.finding(
        "NoReadinessProbe",
        f"container {c.name} is behind service {names} but has no readiness probe: it gets traffic "
        f"as soon as it starts, and keeps getting it while it cannot answer",
        container=c.name,
        evidence=[f"service {clean(meta(s).get('name'))} selects the pod with "
                  f"{selector_text(s)}" for s in behind]
                 + [p.describe() for p in ev.probes.values()],
        suggestions=[make_fix(ev.patch({"readinessProbe": {"tcpSocket": {"port": port},
                                                              "periodSeconds": 10}}),
                              "or an httpGet on the app's own readiness endpoint")],
        details={"services": [meta(s).get("name") for s in behind]})


def liveness_equals_readiness(ev: ProbeEvidence) -> Optional[Finding]:
    live, ready = ev.probes.get("liveness"), ev.probes.get("readiness")
    if live is None or ready is None or not live.same_check_as(ready):
        return None
    if live.handler_key == "tcpSocket":
        return None  # "does the port accept connections" involves no dependency
    c = ev.c
    suggestions = []
    if live.port is not None:
        suggestions.append(make_fix(ev.patch({"livenessProbe": {live.handler_key: None,
                                                                   "tcpSocket": {"port": live.port}}}),
                                    "liveness: is the process up? readiness keeps the full check"))
    return ev.ctx.finding(
        "LivenessEqualsReadiness",
        f"the liveness and readiness probes of container {c.name} check the same thing "
        f"({clean(live.target())}): when a dependency is slow, the kubelet restarts the app "
        f"instead of only taking it out of the Service",
        container=c.name, evidence=[live.describe(), ready.describe()],
        suggestions=suggestions, details={"probe": "liveness"})
