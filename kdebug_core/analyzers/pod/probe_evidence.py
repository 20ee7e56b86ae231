"""What the cluster says about one container's probes: the kubelet's events, the container status,
the Services in front of it, and the `--probe-now` answers.

Reading only: no verdicts here (probe_verdicts.py judges, probe_lint.py checks the configuration).
"""

import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Dict, List, Optional, Tuple

from ...labels import matches, requirements_from_map
from ...probe_now import Outcome
from ...sanitize import clean
from ...timeutil import age, human_duration, parse_time
from ...view import event_time, meta
from ..base import Container, PodContext, status_line
from .probe_config import DEFAULTS, Probe, declared_ports, probes_of, resolve_port

# Probe failures this much older than the newest BackOff no longer explain the restarts.
STALE_FAILURES_SECONDS = 600


NO_EVENTS = ("no Unhealthy or Killing events about the {kind} probe were found (events expire after "
             "an hour): this is what the container status shows")

# Failures older than this, on a container that is fine now, are history (a slow first start).
RECENT_SECONDS = 300

# The kubelet's fixed prefixes, matched without regard to case (prober.go: "%s probe failed: %s",
# "%s probe errored: %s"; 1.2x: "%s probe errored and resulted in unknown state: %s").
_UNHEALTHY = re.compile(r"^\s*(Liveness|Readiness|Startup) probe (failed|errored)"
                        r"(?: and resulted in \w+ state)?:[ \t]?(.*)$", re.S | re.I)
# Killing events: "Container app failed liveness probe, will be restarted" (kuberuntime, 1.1x+);
# "Killing container with id docker://app:Container failed liveness probe.. Container will be killed
# and recreated." (dockershim, before 1.1x).
_KILLED_BY = re.compile(r"failed (liveness|startup) probe", re.I)
# Kubernetes 1.3-1.5 (dockershim): "Killing container with docker id 5dc225aababe: pod
# "router-2-snkr4_(uid)" container "router" is unhealthy, it will be killed and re-created." Only
# liveness probes killed containers then (startup probes came in 1.16).
_KILLED_UNHEALTHY = re.compile(r'(?:container\s+"([^"]*)"\s+)?is unhealthy, it will be killed and '
                               r're-?created', re.I)
# BackOff events of a restarting container: "Back-off restarting failed container app in pod
# web-0_ns(uid)" (1.2x+), "Back-off restarting failed container" (older). Not "Back-off pulling image".
_BACKOFF = re.compile(r"back-?off restarting failed", re.I)
_STATUS = re.compile(r"HTTP probe failed with statuscode: (\d+)")
_PORT_NAME = re.compile(r'strconv\.Atoi: parsing "([^"]*)"|port (\S+) not found')
_TIMEOUT = re.compile(r"context deadline exceeded|Client\.Timeout exceeded|i/o timeout|timed out|"
                      r"request canceled|DeadlineExceeded", re.I)
_RESET = re.compile(r"connection reset by peer|\bEOF\b|broken pipe", re.I)
_UNREACHABLE = re.compile(r"no route to host|network is unreachable|host is unreachable", re.I)
# Probe errors while a container is stopping or gone: noise around restarts and deletions.
_STOPPING = re.compile(r"container is stopping|not created or running|container process not found|"
                       r"cannot register an exec PID|code = NotFound|code = Canceled", re.I)


# ---- reading the kubelet's events ---------------------------------------------------------------

def classify(body: str, handler: Optional[str], errored: bool = False) -> Tuple[str, Optional[int]]:
    """(cause, HTTP status code) of one probe failure message (the text after `probe failed: `)."""
    m = _STATUS.search(body)
    if m:
        return "HTTPStatus", int(m.group(1))
    if errored and _PORT_NAME.search(body):
        return "PortNotFound", None
    if "connection refused" in body.lower():
        return "ConnectionRefused", None
    if _TIMEOUT.search(body):
        return "Timeout", None
    if "NOT_SERVING" in body or "service unhealthy" in body:
        return "GRPCNotServing", None
    if _UNREACHABLE.search(body):
        return "Unreachable", None
    if _RESET.search(body) and handler != "exec":
        return "ConnectionReset", None
    if handler == "exec" and not errored:
        return "ExecFailed", None
    return ("ProbeError" if errored else "Unknown"), None


@dataclass
class Failure:
    """One `Unhealthy` event (the kubelet aggregates repeats into its count) and what it says."""
    event: dict
    cause: str
    status_code: Optional[int]
    output: str           # the text after "probe failed: "


@dataclass
class Failures:
    """One probe's Unhealthy events, added up."""
    kind: str
    items: List[Failure] = field(default_factory=list)   # oldest first
    count: int = 0
    first: Optional[datetime] = None
    last: Optional[datetime] = None

    @property
    def latest(self) -> Failure:
        return self.items[-1]

    @property
    def cause(self) -> str:
        return self.latest.cause

    @property
    def status_code(self) -> Optional[int]:
        return self.latest.status_code

    @property
    def output(self) -> str:
        return self.latest.output

    def causes(self) -> List[str]:
        return list(dict.fromkeys(i.cause for i in self.items))


def _first_time(ev: dict) -> Optional[datetime]:
    return parse_time(ev.get("firstTimestamp") or ev.get("eventTime")) or event_time(ev)


def read_unhealthy(ctx: PodContext, c: Container, probes: Dict[str, Probe]
                   ) -> Tuple[Dict[str, Failures], Dict[str, List[dict]]]:
    """Probe failures per kind, and the `errored` events that say a port name does not exist."""
    failures: Dict[str, Failures] = {}
    port_errors: Dict[str, List[dict]] = {}
    for ev in ctx.events_where("Unhealthy", c.name):
        m = _UNHEALTHY.match(ev.get("message") or "")
        if not m:
            continue
        kind, verb, body = m.group(1).lower(), m.group(2), m.group(3).strip()
        errored = verb == "errored"
        if errored and _STOPPING.search(body):
            continue
        probe = probes.get(kind)
        cause, code = classify(body, probe.handler_key if probe else None, errored)
        if cause == "PortNotFound":
            port_errors.setdefault(kind, []).append(ev)
            continue
        f = failures.setdefault(kind, Failures(kind))
        f.items.append(Failure(ev, cause, code, body))
        f.count += int(ev.get("count") or 1)
        first, last = _first_time(ev), event_time(ev)
        if first and (f.first is None or first < f.first):
            f.first = first
        if last and (f.last is None or last >= f.last):
            f.last = last
    for f in failures.values():
        f.items.sort(key=lambda i: event_time(i.event) or ctx.view.now)
    return failures, port_errors


def read_kills(ctx: PodContext, c: Container) -> Dict[str, List[dict]]:
    """`Killing` events that name a probe: {"liveness": [...], "startup": [...]}."""
    kills: Dict[str, List[dict]] = {}
    for ev in ctx.events_where("Killing", c.name):
        message = ev.get("message") or ""
        m = _KILLED_BY.search(message)
        if m:
            kills.setdefault(m.group(1).lower(), []).append(ev)
            continue
        m = _KILLED_UNHEALTHY.search(message)
        if m and m.group(1) in (None, c.name):
            kills.setdefault("liveness", []).append(ev)
    return kills


def _count(events: List[dict]) -> int:
    return sum(int(e.get("count") or 1) for e in events)


# ---- reading the container's status -------------------------------------------------------------

def run_seconds(term: Optional[dict]) -> Optional[float]:
    if not term:
        return None
    a, b = parse_time(term.get("startedAt")), parse_time(term.get("finishedAt"))
    return (b - a).total_seconds() if a and b else None


def exit_code(term: Optional[dict]) -> Optional[int]:
    try:
        return int((term or {}).get("exitCode"))
    except (TypeError, ValueError):
        return None


def killed_by_signal(term: Optional[dict]) -> bool:
    """Exit 137/143 not marked OOMKilled: a SIGKILL/SIGTERM from outside, not the OOM killer."""
    return bool(term) and exit_code(term) in (137, 143) and term.get("reason") != "OOMKilled"


def stopped_on_request(term: Optional[dict]) -> bool:
    """How a container ends when the kubelet stops it: SIGTERM (143), SIGKILL after the grace period
    (137), or exit 0 from an app that answers SIGTERM by shutting down cleanly."""
    return killed_by_signal(term) or (bool(term) and exit_code(term) == 0)


def _names_container(ev: dict, name: str) -> bool:
    """An event with no fieldPath (a pasted `describe`) is this container's only if its message
    names it (`Created container app`) or names none (`Created container`, docker's old form)."""
    if (ev.get("involvedObject") or {}).get("fieldPath"):
        return True
    m = re.search(r"(?:Created|Started) container\s+(\S+)", ev.get("message") or "", re.I)
    return m is None or m.group(1) == name or m.group(1) == "with"  # "Created container with docker id"


def read_backoffs(ctx: PodContext, c: Container) -> List[dict]:
    """`BackOff` events saying the container keeps being restarted."""
    return [e for e in ctx.events_where("BackOff", c.name) if _BACKOFF.search(e.get("message") or "")]


def is_running(c: Container) -> bool:
    return bool(c.state.get("running"))


def grace_seconds(ctx: PodContext, probe: Probe) -> int:
    """How long a killed container may take to stop (probe-level override, else the pod's)."""
    value = probe.spec.get("terminationGracePeriodSeconds")
    if value is None:
        value = ctx.spec.get("terminationGracePeriodSeconds")
    try:
        return int(value)
    except (TypeError, ValueError):
        return 30


def never_ready(ctx: PodContext, c: Container) -> Optional[bool]:
    """True when the pod has not been ready since it started (the Ready condition never moved)."""
    if c.status.get("ready"):
        return False
    cond = ctx.condition("ContainersReady") or ctx.condition("Ready")
    start = parse_time(ctx.status.get("startTime"))
    if not cond or cond.get("status") == "True" or start is None:
        return None
    changed = parse_time(cond.get("lastTransitionTime"))
    if changed is None:
        return None
    # The kubelet writes Ready=False with the pod's first status; any later transition means the
    # pod was ready at some point and then stopped being ready.
    return (changed - start).total_seconds() <= 10


def ago(ctx: PodContext, when) -> str:
    return age(when, ctx.view.now) or "?"


def recent(ctx: PodContext, f: Optional[Failures]) -> bool:
    return bool(f and f.last and (ctx.view.now - f.last).total_seconds() <= RECENT_SECONDS)



# ---- everything known about one container's probes ---------------------------------------------

class ProbeEvidence:
    """One container's probes, their failures and kills, resolved ports and --probe-now answers."""

    def __init__(self, ctx: PodContext, c: Container, session):
        self.ctx, self.c = ctx, c
        self.probes: Dict[str, Probe] = {p.kind: p for p in probes_of(c.spec)}
        self.fails, self.port_errors = read_unhealthy(ctx, c, self.probes)
        self.kills = read_kills(ctx, c)
        self.backoffs = read_backoffs(ctx, c)
        # "Created container app" (x30): how many times the kubelet created it, restarts included.
        self.created = max([int(e.get("count") or 1) for e in ctx.events_where("Created", c.name)
                            if _names_container(e, c.name)] or [0])
        self.ports = {k: resolve_port(c.spec, p.port) for k, p in self.probes.items() if not p.host}
        self.now: Dict[str, Outcome] = {}  # --probe-now answers
        if session is not None:
            for kind, p in self.probes.items():
                number, status = self.ports.get(kind, (None, "none"))
                if p.is_http and not p.host:
                    result = session.check(ctx, c.name, p, number, status, important=self.suspect(kind))
                    if result is not None:
                        self.now[kind] = result

    # ---- did a probe restart the container? ---------------------------------------------------
    def restarting(self) -> bool:
        """The container has been restarted, or is waiting to be (any of the signs will do)."""
        c = self.c
        return bool(c.restarts or self.backoffs or c.last_terminated or self.created > 1
                    or (c.waiting or {}).get("reason") == "CrashLoopBackOff")

    def kill_certainty(self, kind: str) -> Optional[str]:
        """How sure it is that the `kind` (liveness/startup) probe restarts the container.

        "confirmed": Killing events name the probe. "inferred": the probe's Unhealthy events and the
        restarts agree (enough failures to reach failureThreshold, or a stop by signal or a clean exit
        0 after SIGTERM), but no Killing event is left to prove it. "status-only": no events at all,
        only a container stopped by signal that keeps restarting, not ready, with that probe.
        None: no sign that the probe restarts it.
        """
        if kind not in ("liveness", "startup"):
            return None
        if self.kills.get(kind):
            return "confirmed"
        p, f, c = self.probes.get(kind), self.fails.get(kind), self.c
        if p is None and f is None:
            return None
        threshold = p.failure_threshold if p is not None else DEFAULTS["failureThreshold"]
        if not self.restarting():
            # No restart recorded anywhere. With no container status at all (an events dump), the
            # failures alone can still say it: past failureThreshold, the kubelet restarts it.
            if c.status or f is None or f.count < threshold or not self.past_threshold_only(kind):
                return None
            return "inferred"
        if kind == "liveness" and "startup" in self.probes and c.status.get("started") is False:
            return None  # liveness does not run before the startup probe has succeeded
        if kind == "startup" and c.status.get("started") is True:
            return None  # it started: the startup probe is done
        if f is not None:
            if self.kills and kind not in self.kills:
                return None  # the other probe's Killing events explain the restarts
            term = c.last_terminated
            if term is not None and not stopped_on_request(term):
                return None  # it exits by itself (exit 1, OOMKilled...): the crash analyzers explain it
            if self._failures_stopped_before_restarts(f):
                return None  # restarts go on long after the probe stopped failing: the process exits
            if f.count >= threshold or killed_by_signal(term):
                return "inferred"
            return None
        return "status-only" if self._status_only_kill(kind) else None

    def _failures_stopped_before_restarts(self, f) -> bool:
        """The last probe failure is far older than the last BackOff: whatever restarts the
        container now is not that probe (corpus 104: startup failures 37m old, BackOff 82s)."""
        last_fail = getattr(f, "last", None)
        backoff_times = [t for t in (event_time(b) for b in self.backoffs) if t is not None]
        if last_fail is None or not backoff_times:
            return False
        return (max(backoff_times) - last_fail).total_seconds() > STALE_FAILURES_SECONDS

    def past_threshold_only(self, kind: str) -> bool:
        """The verdict rests on failures past failureThreshold alone: no status, no restart seen."""
        f = self.fails.get(kind)
        return bool(f) and not self.c.status and not self.restarting() and not self.kills.get(kind)

    def _status_only_kill(self, kind: str) -> bool:
        """No events left, but the status shows the kills (exit 137/143, not OOM) and no readiness."""
        c = self.c
        if kind not in self.probes or self.fails.get(kind) or self.kills.get(kind):
            return False
        if not (killed_by_signal(c.last_terminated) and c.restarts > 0 and not c.status.get("ready")):
            return False
        if any(self.fails.get(k) or self.kills.get(k) for k in ("liveness", "startup")):
            return False  # the other probe's events explain the kills
        if kind == "startup":
            return c.status.get("started") is not True
        return not ("startup" in self.probes and c.status.get("started") is not True)

    def kill_inference(self, kind: str) -> List[str]:
        """What an inferred verdict rests on, as short phrases for the evidence."""
        c, f, p = self.c, self.fails.get(kind), self.probes.get(kind)
        bits = []
        if f is not None:
            threshold = (f"failureThreshold {p.failure_threshold}" if p is not None else
                         f"failureThreshold {DEFAULTS['failureThreshold']} by default; the probe's "
                         f"settings were not recorded")
            bits.append(f"{f.count} {kind} failure{'s' if f.count != 1 else ''} recorded ({threshold})")
        if c.restarts:
            bits.append(f"{c.restarts} restart{'s' if c.restarts != 1 else ''}")
        elif self.created > 1:
            bits.append(f"created {self.created} times (Created events)")
        if self.backoffs:
            bits.append(f"BackOff events (x{_count(self.backoffs)})")
        if (c.waiting or {}).get("reason") == "CrashLoopBackOff":
            bits.append("waiting in CrashLoopBackOff")
        term = c.last_terminated
        code = exit_code(term)
        if code in (137, 143):
            bits.append(f"last exit code {code} ({'SIGKILL' if code == 137 else 'SIGTERM'}, "
                        f"not an OOM kill)")
        elif code == 0 and term is not None:
            bits.append("last exit code 0 (an app that shuts down cleanly on SIGTERM)")
        elif not c.status:
            bits.append("no container status recorded")
        elif term is None:
            bits.append("no record of the last exit")
        if kind == "startup" and c.status.get("started") is False:
            bits.append("started: false")
        return bits

    def suspect(self, kind: str) -> bool:
        """Worth an active check in a scan: failing, or a container that is not ready."""
        return kind in self.fails or not self.c.status.get("ready")

    def cause(self, kind: str) -> Optional[str]:
        f = self.fails.get(kind)
        if f:
            return f.cause
        result = self.now.get(kind)
        return None if result is None or result.skipped else result.cause

    def status_code(self, kind: str) -> Optional[int]:
        f = self.fails.get(kind)
        if f and f.cause == "HTTPStatus":
            return f.status_code
        result = self.now.get(kind)
        return result.status if result is not None and result.cause == "HTTPStatus" else None

    def kill_count(self, kind: str) -> int:
        return _count(self.kills.get(kind, []))

    def port_of(self, kind: str):
        number, _status = self.ports.get(kind, (None, "none"))
        return number if number is not None else self.probes[kind].port

    def failure_evidence(self, kind: str) -> List[str]:
        ctx, f = self.ctx, self.fails.get(kind)
        lines = []
        if f:
            lines.append(ctx.describe_event(f.latest.event))
            shown = 1
            for item in reversed(f.items[:-1]):  # the other messages, newest first (two at most)
                if shown < 3:
                    shown += 1
                    lines.append(ctx.describe_event(item.event))
            if f.count > 1 and f.first and f.last:
                # at least: the kubelet stops recording a busy pod's events (25, then one per
                # 5 minutes: client-go tools/record/events_cache.go), and events expire
                lines.append(f"{kind} probe failed at least {f.count} times, first {ago(ctx, f.first)} ago, "
                             f"last {ago(ctx, f.last)} ago")
        for ev in self.kills.get(kind, [])[-1:]:
            lines.append(ctx.describe_event(ev))
        return lines

    def status_evidence(self) -> List[str]:
        c = self.c
        lines = []
        waiting = status_line(c) if c.waiting else None
        if waiting:
            lines.append(waiting)
        if not c.status:
            return lines  # no status recorded (events only): nothing to quote
        bits = [f"{c.restarts} restart{'s' if c.restarts != 1 else ''}"
                if "restartCount" in c.status else "restart count not recorded",
                f"ready: {'true' if c.status.get('ready') else 'false'}"]
        if self.probes.get("startup") and c.status.get("started") is False:
            bits.append("started: false")
        line = f"container {c.name}: " + ", ".join(bits)
        term = c.last_terminated
        if term and c.restarts:
            run = run_seconds(term)
            line += (f"; last run ended {ago(self.ctx, term.get('finishedAt'))} ago with exit code "
                     f"{term.get('exitCode')} ({clean(term.get('reason') or '?')})"
                     + (f" after {human_duration(run)}" if run is not None else ""))
        lines.append(line)
        return lines

    def now_evidence(self, kind: str) -> List[str]:
        result = self.now.get(kind)
        if result is None:
            return []
        f = self.fails.get(kind)
        said = ""
        if f and f.cause == "HTTPStatus":
            said = f"the kubelet's events say {f.status_code}"
        elif f and f.cause:
            said = f"the kubelet's events say {f.cause}"
        return [result.evidence(said)]

    def patch(self, changes: Dict[str, dict]) -> str:
        """kubectl patch of the owner setting `changes` ({"livenessProbe": {...}}) on this container."""
        return self.ctx.template_patch({"containers": [dict({"name": self.c.name}, **changes)]})


# ---- Services -----------------------------------------------------------------------------------

def services_selecting(ctx: PodContext) -> List[dict]:
    """Services of the pod's namespace whose selector matches the pod (and that wait for readiness)."""
    scope = ctx.view.options.namespace
    pool = ctx.view.list("Service") if scope in (None, ctx.namespace) \
        else ctx.view.list("Service", ctx.namespace)
    if scope is None:
        # A cluster-wide scan: the pod's namespace's Services only (grouped once, not a pass over
        # every Service of the cluster per pod) — unless some Service has no namespace at all.
        by_ns = ctx.view.group("Service", None, "namespace", lambda s: meta(s).get("namespace") or "")
        if "" not in by_ns:
            pool = by_ns.get(ctx.namespace, [])
    labels = meta(ctx.pod).get("labels") or {}
    out: Dict[str, dict] = {}
    # Offline, an applied manifest (no namespace) may sit next to the live object: keep one per name,
    # the one the cluster produced.
    for s in sorted(pool, key=lambda s: bool(meta(s).get("uid"))):
        spec = s.get("spec") or {}
        if (meta(s).get("namespace") or ctx.namespace) != ctx.namespace or not spec.get("selector"):
            continue
        if spec.get("type") == "ExternalName" or spec.get("publishNotReadyAddresses"):
            continue
        if matches(requirements_from_map(spec["selector"]), labels):
            out[meta(s).get("name")] = s
    return list(out.values())


def selector_text(svc: dict) -> str:
    sel = (svc.get("spec") or {}).get("selector") or {}
    return ",".join(f"{clean(k)}={clean(v)}" for k, v in sel.items())


def services_behind(ctx: PodContext, c: Container, services: List[dict]) -> Tuple[List[dict], Optional[object]]:
    """The services that send traffic to this container, and the container port they target."""
    app = [x for x in ctx.containers(init=False)]
    behind, target = [], None
    for s in services:
        for sp in (s.get("spec") or {}).get("ports") or []:
            tp = sp.get("targetPort", sp.get("port"))
            owner = None
            for x in app:
                for q in declared_ports(x.spec):
                    if tp == q.get("name") or str(tp) == str(q.get("containerPort")):
                        owner = (x, q)
                        break
                if owner:
                    break
            if owner is None and len(app) == 1:
                owner = (app[0], None)
            if owner and owner[0].name == c.name:
                if s not in behind:
                    behind.append(s)
                if target is None:
                    target = int(owner[1]["containerPort"]) if owner[1] else tp
    return behind, target
