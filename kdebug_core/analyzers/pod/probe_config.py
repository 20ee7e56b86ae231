"""What a container's probes are configured to do: effective settings, ports, one-line form.

Pure helpers over the pod spec (plain dicts), shared by the probe analyzer and `--probe-now`.
The API server fills in the defaults on a live pod; a manifest may omit them, so they are applied
here too (k8s.io/api core/v1 Probe: period 10s, timeout 1s, failureThreshold 3, successThreshold 1,
initialDelaySeconds 0; httpGet scheme HTTP).
"""

import shlex
from dataclasses import dataclass
from typing import List, Optional, Tuple

from ...sanitize import clean

# Probe kinds in the order the kubelet runs them, with their spec keys.
KINDS = ("startup", "liveness", "readiness")
SPEC_KEY = {"startup": "startupProbe", "liveness": "livenessProbe", "readiness": "readinessProbe"}
HANDLERS = ("httpGet", "tcpSocket", "exec", "grpc")

DEFAULTS = {"initialDelaySeconds": 0, "periodSeconds": 10, "timeoutSeconds": 1,
            "failureThreshold": 3, "successThreshold": 1}


def _int(value, default: int) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return default


@dataclass
class Probe:
    kind: str          # "liveness", "readiness", "startup"
    spec: dict         # the probe as written in the pod spec

    # ---- timing -------------------------------------------------------------------------------
    def setting(self, name: str) -> int:
        return _int(self.spec.get(name), DEFAULTS[name])

    @property
    def initial_delay(self) -> int:
        return self.setting("initialDelaySeconds")

    @property
    def period(self) -> int:
        return self.setting("periodSeconds")

    @property
    def timeout(self) -> int:
        return self.setting("timeoutSeconds")

    @property
    def failure_threshold(self) -> int:
        return self.setting("failureThreshold")

    @property
    def success_threshold(self) -> int:
        return self.setting("successThreshold")

    # The kubelet's prober worker ticks every periodSeconds from when the pod's worker started, not
    # from the container's start, and skips ticks inside initialDelaySeconds
    # (pkg/kubelet/prober/worker.go): the first counted check lands 0 to one period after the
    # delay, and the verdict failureThreshold - 1 periods after that. Seen on the test cluster:
    # 22's liveness (delay 10, 3 x 10s) killed each run 30s after its start.
    @property
    def budget(self) -> int:
        """The most seconds the app gets before the verdict lands: delay + failures × period."""
        return self.initial_delay + self.failure_threshold * self.period

    @property
    def budget_min(self) -> int:
        """The fewest: the first check right at the end of the delay."""
        return self.initial_delay + (self.failure_threshold - 1) * self.period

    def budget_range(self) -> str:
        return f"{self.budget_min}–{self.budget}s" if self.budget_min != self.budget else f"{self.budget}s"

    def budget_text(self) -> str:
        return (f"budget {self.budget_range()}: initialDelaySeconds {self.initial_delay}, then "
                f"failureThreshold {self.failure_threshold} failed checks periodSeconds {self.period} "
                f"apart, the first 0–{self.period}s after the delay")

    # ---- handler ------------------------------------------------------------------------------
    @property
    def handler_key(self) -> Optional[str]:
        return next((h for h in HANDLERS if isinstance(self.spec.get(h), dict)), None)

    @property
    def handler(self) -> dict:
        return (self.spec.get(self.handler_key) or {}) if self.handler_key else {}

    @property
    def is_http(self) -> bool:
        return self.handler_key == "httpGet"

    @property
    def port(self):
        """The port as written: an int, a port name, or None (exec probes)."""
        return self.handler.get("port") if self.handler_key in ("httpGet", "tcpSocket", "grpc") else None

    @property
    def host(self) -> str:
        return self.handler.get("host") or ""

    @property
    def path(self) -> str:
        return (self.handler.get("path") or "/") if self.is_http else ""

    @property
    def scheme(self) -> str:
        return (self.handler.get("scheme") or "HTTP").upper() if self.is_http else ""

    @property
    def command(self) -> List[str]:
        return [str(a) for a in (self.handler.get("command") or [])] if self.handler_key == "exec" else []

    def command_text(self) -> str:
        return " ".join(shlex.quote(a) for a in self.command)

    def target(self) -> str:
        """`http-get http://:80/healthz`, `tcp-socket :6379`, `exec [cat /tmp/healthy]` (as describe)."""
        h = self.handler
        if self.handler_key == "httpGet":
            port = "" if h.get("port") is None else str(h.get("port"))
            return f"http-get {self.scheme.lower()}://{h.get('host') or ''}:{port}{h.get('path') or ''}"
        if self.handler_key == "tcpSocket":
            return f"tcp-socket {h.get('host') or ''}:{h.get('port')}"
        if self.handler_key == "exec":
            return f"exec [{' '.join(self.command)}]"
        if self.handler_key == "grpc":
            service = h.get("service")
            return f"grpc <pod>:{h.get('port')}" + (f" {service}" if service else "")
        return "unknown"

    def describe(self) -> str:
        """One line: what the probe checks, its settings with defaults applied, and its budget."""
        attrs = (f"delay={self.initial_delay}s timeout={self.timeout}s period={self.period}s "
                 f"#success={self.success_threshold} #failure={self.failure_threshold}")
        return f"{self.kind}: {clean(self.target())} {attrs} ({self.budget_text()})"

    def effective(self) -> dict:
        """The probe with defaults filled in (for -o json details)."""
        out = {"type": self.handler_key, **{k: self.setting(k) for k in DEFAULTS},
               "budgetSeconds": self.budget, "budgetMinSeconds": self.budget_min}
        if self.handler_key in ("httpGet", "tcpSocket", "grpc"):
            out["port"] = self.port
        if self.is_http:
            out.update(path=self.path, scheme=self.scheme)
        if self.handler_key == "exec":
            out["command"] = self.command
        return out

    def same_check_as(self, other: "Probe") -> bool:
        """Both probes ask the app the same question (same handler, settings aside)."""
        if self.handler_key != other.handler_key or self.handler_key is None:
            return False
        a, b = dict(self.handler), dict(other.handler)
        if self.is_http:
            for d in (a, b):
                d.setdefault("scheme", "HTTP")
                d["path"] = d.get("path") or "/"
        return a == b


def probes_of(container_spec: dict) -> List[Probe]:
    return [Probe(kind, container_spec[SPEC_KEY[kind]]) for kind in KINDS
            if isinstance(container_spec.get(SPEC_KEY[kind]), dict)]


def declared_ports(container_spec: dict) -> List[dict]:
    return [p for p in container_spec.get("ports") or [] if p.get("containerPort") is not None]


def port_label(p: dict) -> str:
    """`3000/TCP (http)` as describe shows a container port."""
    text = f"{p.get('containerPort')}/{p.get('protocol') or 'TCP'}"
    return text + (f" ({clean(p['name'])})" if p.get("name") else "")


def resolve_port(container_spec: dict, port) -> Tuple[Optional[int], str]:
    """(number, status) for a probe port, the kubelet's way (prober.go extractPort).

    status: "declared" (a port of the container), "undeclared" (a number the container does not
    list), "no-ports" (a number; the container lists no ports, so nothing to compare with),
    "missing-name" (a name no port of the container has: the kubelet cannot run the probe),
    "none" (no port: exec probes).
    """
    if port is None or port == "":
        return None, "none"
    ports = declared_ports(container_spec)
    if isinstance(port, str) and not port.isdigit():
        for p in ports:
            if p.get("name") == port:
                return _int(p.get("containerPort"), 0) or None, "declared"
        return None, "missing-name"
    number = _int(port, 0)
    if not ports:
        return number, "no-ports"
    if any(_int(p.get("containerPort"), -1) == number for p in ports):
        return number, "declared"
    return number, "undeclared"
