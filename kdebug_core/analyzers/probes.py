"""Liveness, readiness and startup probes: why they fail, what that does to the pod, what to change.

Detection, most direct evidence first:
* `Unhealthy` events (`Liveness probe failed: HTTP probe failed with statuscode: 404`, `... connect:
  connection refused`, `... context deadline exceeded`, exec output) give the probe, the cause and,
  through count and timestamps, how long it has been going on; `Killing` events (`Container app
  failed liveness probe, will be restarted`) the restarts it caused.
* Events expire after an hour. Status does not: a container that keeps being killed (last state exit
  137/143 with reason Error, not OOMKilled) and is not ready, and that has a liveness probe, is still
  reported, with what the status shows.
* The spec alone shows probes on ports the container does not have (a missing port *name* means the
  kubelet cannot run the probe at all), containers behind a Service with no readiness probe, and
  liveness probes identical to readiness probes.
* With `--probe-now` (live only) each HTTP probe is also requested once through the API server's
  pod proxy (kdebug_core/probe_now.py) and the answer is put next to what the events say.

A probe that fails because the app is still starting (refused or timed out, killed before it was
ever ready, each run about as long as the liveness budget) is reported as LivenessKillsSlowStart,
and the fix is a startupProbe, not a longer initialDelaySeconds (the runbook's advice for model
loading: periodSeconds 10, failureThreshold 30).
"""

import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Dict, List, Optional, Tuple

from ..findings import Finding
from ..labels import matches, requirements_from_map
from ..probe_now import Outcome, session as probe_now_session
from ..sanitize import clean
from ..timeutil import age, human_duration, parse_time
from ..view import event_time, meta
from .base import Container, PodContext, quote, status_line
from .probe_config import SPEC_KEY, Probe, declared_ports, port_label, probes_of, resolve_port

FAILED_REASON = {"liveness": "LivenessProbeFailed", "readiness": "ReadinessProbeFailed",
                 "startup": "StartupProbeFailed"}

# The runbook's startupProbe for slow starters (model loading): up to 300s before liveness runs.
STARTUP_PERIOD, STARTUP_FAILURES = 10, 30

# Failures older than this, on a container that is fine now, are history (a slow first start).
RECENT_SECONDS = 300

NO_EVENTS = ("no Unhealthy or Killing events about the {kind} probe were found (events expire after "
             "an hour): this is what the container status shows")

_UNHEALTHY = re.compile(r"^\s*(Liveness|Readiness|Startup) probe (failed|errored)"
                        r"(?: and resulted in \w+ state)?:[ \t]?(.*)$", re.S)
_KILLED_BY = re.compile(r"failed (liveness|startup) probe", re.I)
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
        m = _KILLED_BY.search(ev.get("message") or "")
        if m:
            kills.setdefault(m.group(1).lower(), []).append(ev)
    return kills


def _count(events: List[dict]) -> int:
    return sum(int(e.get("count") or 1) for e in events)


# ---- reading the container's status -------------------------------------------------------------

def run_seconds(term: Optional[dict]) -> Optional[float]:
    if not term:
        return None
    a, b = parse_time(term.get("startedAt")), parse_time(term.get("finishedAt"))
    return (b - a).total_seconds() if a and b else None


def killed_by_signal(term: Optional[dict]) -> bool:
    """Exit 137/143 with reason Error: a SIGKILL/SIGTERM from outside, not the OOM killer."""
    return bool(term) and term.get("exitCode") in (137, 143) and term.get("reason") == "Error"


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


def _ago(ctx: PodContext, when) -> str:
    return age(when, ctx.view.now) or "?"


def _recent(ctx: PodContext, f: Optional[Failures]) -> bool:
    return bool(f and f.last and (ctx.view.now - f.last).total_seconds() <= RECENT_SECONDS)


# ---- the analyzer -------------------------------------------------------------------------------

def analyze(ctx: PodContext) -> List[Finding]:
    if ctx.status.get("phase") in ("Succeeded", "Failed"):
        return []
    session = probe_now_session(ctx.view)
    findings: List[Finding] = []
    for c in ctx.containers():
        if c.init and not c.sidecar:
            continue  # only app containers and native sidecars run probes
        findings.extend(_ContainerProbes(ctx, c, session).findings())
    return findings


class _ContainerProbes:
    """Everything known about one container's probes, and the findings it adds up to."""

    def __init__(self, ctx: PodContext, c: Container, session):
        self.ctx, self.c = ctx, c
        self.probes: Dict[str, Probe] = {p.kind: p for p in probes_of(c.spec)}
        self.fails, self.port_errors = read_unhealthy(ctx, c, self.probes)
        self.kills = read_kills(ctx, c)
        self.ports = {k: resolve_port(c.spec, p.port) for k, p in self.probes.items() if not p.host}
        self.now: Dict[str, Outcome] = {}  # --probe-now answers
        if session is not None:
            for kind, p in self.probes.items():
                number, status = self.ports.get(kind, (None, "none"))
                if p.is_http and not p.host:
                    result = session.check(ctx, c.name, p, number, status, important=self._suspect(kind))
                    if result is not None:
                        self.now[kind] = result

    # ---- facts --------------------------------------------------------------------------------
    def _suspect(self, kind: str) -> bool:
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

    # ---- findings -----------------------------------------------------------------------------
    def findings(self) -> List[Finding]:
        out: List[Finding] = []
        mismatches = self._port_mismatches()
        slow = self._slow_start()
        for kind in ("startup", "liveness", "readiness"):
            if kind == "liveness" and slow is not None:
                out.append(slow)
                continue
            if kind == "readiness" and slow is not None and self.fails.get(kind) and \
                    set(self.fails[kind].causes()) <= {"ConnectionRefused", "Timeout"}:
                continue  # not answering yet: the slow start explains it (its evidence shows it)
            f = self._failed(kind, mismatches.get(kind))
            if f is not None:
                out.append(f)
        if slow is None:
            slow_warning = self._slow_start_near_budget()
            if slow_warning is not None:
                out.append(slow_warning)
        out.extend(mismatches.values())
        nrp = self._no_readiness_probe()
        if nrp is not None:
            out.append(nrp)
        same = self._liveness_equals_readiness()
        if same is not None:
            out.append(same)
        self._note_probe_now(out)
        return out

    # ---- evidence helpers ---------------------------------------------------------------------
    def _failure_evidence(self, kind: str) -> List[str]:
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
                lines.append(f"{kind} probe failed {f.count} times, first {_ago(ctx, f.first)} ago, "
                             f"last {_ago(ctx, f.last)} ago")
        for ev in self.kills.get(kind, [])[-1:]:
            lines.append(ctx.describe_event(ev))
        return lines

    def _status_evidence(self) -> List[str]:
        c = self.c
        lines = []
        waiting = status_line(c) if c.waiting else None
        if waiting:
            lines.append(waiting)
        bits = [f"{c.restarts} restart{'s' if c.restarts != 1 else ''}",
                f"ready: {'true' if c.status.get('ready') else 'false'}"]
        if self.probes.get("startup") and c.status.get("started") is False:
            bits.append("started: false")
        line = f"container {c.name}: " + ", ".join(bits)
        term = c.last_terminated
        if term and c.restarts:
            run = run_seconds(term)
            line += (f"; last run ended {_ago(self.ctx, term.get('finishedAt'))} ago with exit code "
                     f"{term.get('exitCode')} ({clean(term.get('reason') or '?')})"
                     + (f" after {human_duration(run)}" if run is not None else ""))
        lines.append(line)
        return lines

    def _now_evidence(self, kind: str) -> List[str]:
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

    def _patch(self, changes: Dict[str, dict]) -> str:
        """kubectl patch of the owner setting `changes` ({"livenessProbe": {...}}) on this container."""
        return self.ctx.template_patch({"containers": [dict({"name": self.c.name}, **changes)]})

    def _exec_url(self, kind: str, path: Optional[str] = None) -> Optional[str]:
        p = self.probes[kind]
        number = self.ports.get(kind, (None, ""))[0]
        if number is None:
            return None
        scheme = "https" if p.scheme == "HTTPS" else "http"
        return f"{scheme}://localhost:{number}{path if path is not None else p.path}"

    def _curl(self, url: str, comment: str = "") -> List[str]:
        ctx = self.ctx
        k = "-skI" if url.startswith("https") else "-sI"
        tail = f"  # {comment}" if comment else ""
        return [f"kubectl exec {quote(ctx.name)} {ctx.ns_flag} -c {quote(self.c.name)} -- "
                f"curl {k} {quote(url)}{tail}",
                f"kubectl debug {quote(ctx.name)} {ctx.ns_flag} -it --image=curlimages/curl -- "
                f"curl {k} {quote(url)}  # the same, for images without curl"]

    # ---- failing probes -----------------------------------------------------------------------
    def _state(self, kind: str) -> Optional[str]:
        """'error', 'warning' or None: is this probe's failure a problem now?"""
        c, f = self.c, self.fails.get(kind)
        kills = self.kill_count(kind)
        if kind in ("liveness", "startup"):
            if kills:
                recent_kill = any((self.ctx.view.now - (event_time(e) or self.ctx.view.now))
                                  .total_seconds() <= RECENT_SECONDS for e in self.kills[kind])
                return "error" if (recent_kill or not c.status.get("ready")) else "warning"
            if f is None:
                return "error" if self._expired_kill(kind) else None
            if kind == "startup":
                return None  # a startup probe failing until the app is up is what it is for
            if not is_running(c):
                return None  # the container stops by itself: the crash analyzers explain it
            # Failing, but not failureThreshold times in a row yet: no restart so far.
            if not c.status.get("ready"):
                return "warning"
            return "warning" if self._after_start(kind) and _recent(self.ctx, f) else None
        # readiness
        if not is_running(c) and not (self.kills or self._expired_kill("liveness")
                                      or self._expired_kill("startup")):
            return None  # crashing by itself: readiness failures are a symptom of the crash
        if self.probes.get("startup") and c.status.get("started") is False:
            return None  # readiness does not run before the startup probe succeeds
        if f is None:
            return "error" if self._expired_not_ready() else None
        if not c.status.get("ready"):
            return "error"
        # Ready now: failures while the app was starting are normal; failures since then flap.
        return "warning" if self._after_start(kind) and _recent(self.ctx, f) and f.count >= 2 else None

    def _after_start(self, kind: str) -> bool:
        """Did this probe fail after the current run's start-up window (so not just while starting)?"""
        f, p = self.fails.get(kind), self.probes.get(kind)
        started = parse_time((self.c.state.get("running") or {}).get("startedAt"))
        if f is None or f.last is None or started is None:
            return f is not None
        window = max(120, 2 * p.budget) if p is not None else 120
        return (f.last - started).total_seconds() > window

    def _expired_kill(self, kind: str) -> bool:
        """No events left, but the status shows the kills (exit 137/143, Error) and no readiness."""
        c = self.c
        if self.fails.get(kind) or self.kills.get(kind) or kind not in self.probes:
            return False
        if not (killed_by_signal(c.last_terminated) and c.restarts > 0 and not c.status.get("ready")):
            return False
        if any(self.fails.get(k) or self.kills.get(k) for k in ("liveness", "startup")):
            return False  # the other probe's events explain the kills
        has_startup = "startup" in self.probes
        if kind == "startup":
            return c.status.get("started") is not True
        return not (has_startup and c.status.get("started") is not True)

    def _expired_not_ready(self) -> bool:
        """Running, past the readiness budget, never ready, and no events say why (expired)."""
        c, p = self.c, self.probes.get("readiness")
        if p is None or c.status.get("ready") or self.kills:
            return False
        started = parse_time((c.state.get("running") or {}).get("startedAt"))
        if started is None:
            return False
        return (self.ctx.view.now - started).total_seconds() > max(p.budget + 60, 120)

    def _failed(self, kind: str, mismatch: Optional[Finding]) -> Optional[Finding]:
        p = self.probes.get(kind)
        if p is None and kind not in self.fails:
            return None
        if self.ports.get(kind, (None, ""))[1] == "missing-name":
            return None  # the kubelet cannot even run it: ProbePortMismatch says so
        severity = self._state(kind)
        if severity is None:
            return None
        ctx, c, f = self.ctx, self.c, self.fails.get(kind)
        cause = self.cause(kind)
        code = self.status_code(kind)
        summary = self._what_fails(kind, p, cause, code, f)
        if mismatch is not None:
            summary += f" (port {clean(str(p.port))} is not a port of the container: see ProbePortMismatch)"
        effect = self._effect(kind, severity)
        summary += f"; {effect}" if effect else ""
        evidence = self._failure_evidence(kind)
        if f is None:
            evidence.append(NO_EVENTS.format(kind=kind))
        evidence += self._status_evidence()
        if f is None and kind == "readiness":
            since = (c.state.get("running") or {}).get("startedAt")
            evidence.append(f"running for {_ago(ctx, since)} without becoming ready")
        if p is not None:
            evidence.append(p.describe())
            run = run_seconds(c.last_terminated)
            if kind == "startup" and self.kills.get(kind) and run is not None:
                evidence.append(f"the last run lasted {human_duration(run)}; the startup budget is "
                                f"{p.budget}s")
        evidence += self._now_evidence(kind)
        suggestions = self._fixes(kind, p, cause, code, mismatch)
        details = {"probe": kind, "restarts": c.restarts}
        if p is not None:
            details["config"] = p.effective()
        if f is not None:
            details.update(failures=f.count, firstFailure=f.first.isoformat() if f.first else None,
                           lastFailure=f.last.isoformat() if f.last else None,
                           causes=f.causes())
            if cause == "ExecFailed":
                details["output"] = f.output
        if code is not None:
            details["statusCode"] = code
        if self.kills.get(kind):
            details["killedByProbe"] = self.kill_count(kind)
        if kind in self.now:
            details["probeNow"] = self.now[kind].to_dict()
        return ctx.finding(FAILED_REASON[kind], summary, container=c.name, cause=cause,
                           severity=severity, evidence=evidence, suggestions=suggestions,
                           details=details)

    def _what_fails(self, kind, p: Optional[Probe], cause, code, f: Optional[Failures]) -> str:
        c = self.c
        head = f"the {kind} probe of container {c.name}"
        path = clean(p.path) if p is not None and p.is_http else ""
        port = clean(str(self.port_of(kind))) if p is not None and p.port is not None else "?"
        times = f" ({f.count} failures)" if f and f.count > 1 else ""
        if cause == "HTTPStatus":
            if code == 404:
                return f"{head} gets HTTP 404 for {path} on port {port}{times}: the app has no such path"
            if code in (401, 403):
                return (f"{head} gets HTTP {code} for {path} on port {port}{times}: the endpoint wants "
                        f"credentials, and the kubelet sends none")
            if code is not None and code >= 500:
                return (f"{head} gets HTTP {code} for {path} on port {port}{times}: the app answers but "
                        f"reports itself unhealthy")
            return (f"{head} gets HTTP {code} for {path} on port {port}{times}: the kubelet only accepts "
                    f"200-399")
        if cause == "ConnectionRefused":
            return f"{head} is refused on port {port}{times}: nothing listens there"
        if cause == "Timeout":
            t = p.timeout if p is not None else 1
            return (f"{head} gets no answer within {t}s (timeoutSeconds){times}: the app is too slow "
                    f"to answer, or stuck")
        if cause == "ExecFailed":
            cmd = clean(p.command_text()) if p is not None else "?"
            output = clean(f.output.splitlines()[0]) if f and f.output.strip() else ""
            return (f"{head} runs `{cmd}`, which fails{times}"
                    + (f": {output}" if output else " (non-zero exit, no output)"))
        if cause == "ConnectionReset":
            return f"{head} has its connection to port {port} closed by the app{times}"
        if cause == "Unreachable":
            return f"{head} cannot reach the pod on port {port}{times}: a network problem on the node"
        if cause == "GRPCNotServing":
            return f"{head} is answered NOT_SERVING by the app's gRPC health service{times}"
        if cause == "ProbeError":
            return f"the kubelet cannot run the {kind} probe of container {c.name}{times}: " \
                   f"{clean(f.output) if f else '?'}"
        if cause is None:
            if kind == "readiness":
                return f"container {c.name} is running but its readiness probe has not passed"
            return (f"container {c.name} keeps being killed (exit code "
                    f"{(c.last_terminated or {}).get('exitCode')}, reason Error, not an OOM kill) and "
                    f"is not ready; it has a {kind} probe, which is the likely killer")
        return f"{head} fails{times}: {clean(f.output) if f else '?'}"

    def _effect(self, kind: str, severity: str) -> str:
        c = self.c
        if kind in ("liveness", "startup"):
            kills = self.kill_count(kind)
            restarts = f"{c.restarts} restart{'s' if c.restarts != 1 else ''}"
            if kills:
                why = "before it finished starting" if kind == "startup" else "to restart it"
                return (f"the kubelet killed the container {kills} time{'s' if kills != 1 else ''} "
                        f"{why} ({restarts})")
            if killed_by_signal(c.last_terminated) and c.restarts:
                return f"{restarts} so far"
            if severity == "warning":
                return (f"{self.probes[kind].failure_threshold} failures in a row restart the "
                        f"container" if kind in self.probes else "")
            return ""
        services = [f"service \"{clean(meta(s).get('name'))}\"" for s in _services_selecting(self.ctx)]
        who = ", ".join(services) if services else "Services"
        if not c.status.get("ready"):
            return f"the pod is not ready, so {who} send{'s' if len(services) == 1 else ''} it no traffic"
        return f"the pod drops out of the endpoints of {who} each time"

    # ---- fixes --------------------------------------------------------------------------------
    def _fixes(self, kind, p: Optional[Probe], cause, code, mismatch) -> List[str]:
        ctx, c = self.ctx, self.c
        if p is None:
            return [f"kubectl describe pod {quote(ctx.name)} {ctx.ns_flag}"]
        if mismatch is not None:
            return list(mismatch.suggestions)
        spec_key = SPEC_KEY[kind]
        out: List[str] = []
        if cause == "HTTPStatus" and code == 404:
            if p.path != "/":
                url = self._exec_url(kind, "/")
                if url:
                    out += self._curl(url, "/ is a guess: it must answer 200-399 before you patch")
                out.append(self._root_path_patch() + "  # probe / (a guess to verify, see above)")
            else:
                url = self._exec_url(kind)
                if url:
                    out += self._curl(url)
                out.append(self._patch({spec_key: {"httpGet": {"path": "/HEALTH_PATH"}}}))
            return out
        if cause == "HTTPStatus" and code in (401, 403):
            out.append(self._patch({spec_key: {"httpGet": {"path": "/HEALTH_PATH"}}})
                       + "  # a path that needs no login")
            return out
        if cause in ("HTTPStatus", "GRPCNotServing", "ConnectionReset"):
            out.append(ctx.logs_cmd(c.name, previous=bool(self.kill_count(kind))))
            url = self._exec_url(kind)
            if url:
                out += self._curl(url)[:1]
            return out
        if cause == "ConnectionRefused":
            if kind == "startup" and c.status.get("started") is not True:
                out.append(self._startup_patch(p))
            out.append(f"kubectl debug {quote(ctx.name)} {ctx.ns_flag} -it --image=busybox:1.36 -- "
                       f"netstat -tln  # which ports the app really listens on")
            out.append(ctx.logs_cmd(c.name, previous=bool(self.kill_count(kind))))
            return out
        if cause == "Timeout":
            if kind == "startup" and c.status.get("started") is not True and self.kill_count(kind):
                out.append(self._startup_patch(p))
            url = self._exec_url(kind)
            if url:
                out.append(f"kubectl exec {quote(ctx.name)} {ctx.ns_flag} -c {quote(c.name)} -- curl -s "
                           f"-o /dev/null -w '%{{http_code}} %{{time_total}}s\\n' {quote(url)}")
            out.append(self._patch({spec_key: {"timeoutSeconds": max(5, p.timeout * 3)}}))
            return out
        if cause == "ExecFailed":
            if p.command:
                out.append(f"kubectl exec {quote(ctx.name)} {ctx.ns_flag} -c {quote(c.name)} -- "
                           f"{p.command_text()}  # run the probe by hand; echo $? for its exit code")
            out.append(ctx.logs_cmd(c.name, previous=bool(self.kill_count(kind))))
            return out
        if cause is None:
            if kind == "readiness":
                url = self._exec_url(kind)
                if url:
                    out += self._curl(url)[:1]
            out.append(f"kubectl get events {ctx.ns_flag} --field-selector "
                       f"involvedObject.name={quote(ctx.name)},reason=Unhealthy")
            out.append(ctx.logs_cmd(c.name, previous=kind != "readiness"))
            return out
        return [f"kubectl describe pod {quote(ctx.name)} {ctx.ns_flag}"]

    def _root_path_patch(self) -> str:
        """One patch moving every HTTP probe of this container that gets 404s to `/` (runbook Fix 1)."""
        changes = {}
        for kind in ("startup", "liveness", "readiness"):
            p = self.probes.get(kind)
            if p is not None and p.is_http and p.path != "/" and self.cause(kind) == "HTTPStatus" \
                    and self.status_code(kind) == 404:
                changes[SPEC_KEY[kind]] = {"httpGet": {"path": "/", "port": p.port}}
        return self._patch(changes)

    def _startup_patch(self, base: Probe) -> str:
        """A startupProbe asking what `base` asks, patient enough for a slow start."""
        existing = self.probes.get("startup")
        if existing is not None:
            threshold = max(STARTUP_FAILURES, existing.failure_threshold * 2)
            return (self._patch({"startupProbe": {"failureThreshold": threshold}})
                    + f"  # {existing.initial_delay + threshold * existing.period}s to start")
        probe = {base.handler_key: dict(base.handler), "periodSeconds": STARTUP_PERIOD,
                 "failureThreshold": STARTUP_FAILURES}
        if base.timeout > 1:
            probe["timeoutSeconds"] = base.timeout
        return (self._patch({"startupProbe": probe})
                + f"  # up to {STARTUP_PERIOD * STARTUP_FAILURES}s to start; liveness runs only after it")

    # ---- slow starters ------------------------------------------------------------------------
    def _slow_start(self) -> Optional[Finding]:
        """Liveness kills a container that has never become ready, about when its budget runs out."""
        ctx, c = self.ctx, self.c
        live = self.probes.get("liveness")
        if live is None or "startup" in self.probes:
            return None
        f = self.fails.get("liveness")
        kills = self.kill_count("liveness")
        if not kills and not self._expired_kill("liveness"):
            return None
        if self.ports.get("liveness", (None, ""))[1] in ("undeclared", "missing-name"):
            return None  # the wrong port, not a slow app
        if f is not None and not all(cause in ("ConnectionRefused", "Timeout") for cause in f.causes()):
            if not (f.causes() == ["HTTPStatus"] and f.status_code == 503):
                return None  # the app answered: it is up, the probe asks the wrong thing
        nr = never_ready(ctx, c)
        run = run_seconds(c.last_terminated)
        ceiling = live.budget + grace_seconds(ctx, live) + live.period + live.timeout + 5
        if nr is False or (run is not None and run > ceiling):
            return None
        if nr is None and run is None:
            return None
        n = kills or c.restarts
        summary = (f"the liveness probe kills container {c.name} before it has finished starting: "
                   f"{'killed' if kills else 'restarted'} {n} time{'s' if n != 1 else ''} without ever "
                   f"becoming ready, each time once its {live.budget}s liveness budget ran out")
        evidence = self._failure_evidence("liveness")
        rf = self.fails.get("readiness")
        if rf is not None:
            evidence.append(ctx.describe_event(rf.latest.event))
        if f is None:
            evidence.append(NO_EVENTS.format(kind="liveness"))
        evidence += self._status_evidence()
        if nr:
            cond = ctx.condition("ContainersReady") or ctx.condition("Ready") or {}
            evidence.append(f"never ready: condition {cond.get('type', 'Ready')}=False since the pod "
                            f"started {_ago(ctx, ctx.status.get('startTime'))} ago")
        if run is not None:
            evidence.append(f"the last run lasted {int(run)}s: the liveness budget of {live.budget}s, "
                            f"plus up to {grace_seconds(ctx, live)}s for the container to stop")
        evidence.append(live.describe())
        if "readiness" in self.probes:
            evidence.append(self.probes["readiness"].describe())
        evidence.append("no startupProbe: liveness checks start after initialDelaySeconds whether or "
                        "not the app is up")
        log = ctx.view.logs(ctx.pod, c.name, previous=True)
        tail = [line.strip() for line in (log or "").splitlines() if line.strip()][-3:]
        if tail:
            evidence.append("last output before the kill:\n" + "\n".join(clean(t) for t in tail))
        evidence += self._now_evidence("liveness")
        suggestions = [self._startup_patch(live), ctx.logs_cmd(c.name, previous=True)
                       + "  # how far did startup get?"]
        details = {"probe": "liveness", "config": live.effective(), "restarts": c.restarts,
                   "budgetSeconds": live.budget,
                   "suggestedStartupBudgetSeconds": STARTUP_PERIOD * STARTUP_FAILURES}
        if run is not None:
            details["lastRunSeconds"] = int(run)
        if f is not None:
            details.update(failures=f.count, causes=f.causes())
        return ctx.finding("LivenessKillsSlowStart", summary, container=c.name,
                           cause=f.cause if f else None, evidence=evidence,
                           suggestions=suggestions, details=details)

    def _slow_start_near_budget(self) -> Optional[Finding]:
        """Ready now, but the start took most of the liveness budget: a slower start gets killed."""
        ctx, c = self.ctx, self.c
        live, ready_probe = self.probes.get("liveness"), self.probes.get("readiness")
        if live is None or ready_probe is None or "startup" in self.probes:
            return None
        if not c.status.get("ready") or not live.same_check_as(ready_probe):
            return None
        started = parse_time((c.state.get("running") or {}).get("startedAt"))
        cond = ctx.condition("ContainersReady") or ctx.condition("Ready") or {}
        became = parse_time(cond.get("lastTransitionTime")) if cond.get("status") == "True" else None
        if started is None or became is None or became < started:
            return None
        took = (became - started).total_seconds()
        if ready_probe.initial_delay >= 0.8 * live.budget or took < 0.8 * live.budget:
            return None
        return ctx.finding(
            "LivenessKillsSlowStart",
            f"container {c.name} took {int(took)}s to become ready and its liveness probe allows "
            f"{live.budget}s: a slightly slower start (bigger data, busy node) gets it killed",
            container=c.name, severity="warning",
            evidence=[f"container started {_ago(ctx, started)} ago and became ready "
                      f"{int(took)}s later", live.describe(), ready_probe.describe()],
            suggestions=[self._startup_patch(live)],
            details={"probe": "liveness", "startSeconds": int(took), "budgetSeconds": live.budget})

    # ---- configuration ------------------------------------------------------------------------
    def _port_mismatches(self) -> Dict[str, Finding]:
        ctx, c = self.ctx, self.c
        out: Dict[str, Finding] = {}
        ports = declared_ports(c.spec)
        declared = ", ".join(port_label(p) for p in ports) or "none"
        for kind, p in self.probes.items():
            number, status = self.ports.get(kind, (None, "none"))
            if status not in ("missing-name", "undeclared"):
                continue
            f = self.fails.get(kind)
            now = self.now.get(kind)
            refused = (f is not None and f.cause == "ConnectionRefused") or \
                (now is not None and now.cause == "ConnectionRefused")
            evidence = [p.describe(), f"container {c.name} ports: {declared}"]
            if status == "missing-name":
                severity = "error"
                summary = (f"the {kind} probe of container {c.name} uses port name "
                           f"\"{clean(str(p.port))}\", which no port of the container has: "
                           f"{self._never_runs(kind)}")
                evidence += [ctx.describe_event(e) for e in self.port_errors.get(kind, [])[-1:]]
            else:
                severity = "error" if refused else "info"
                summary = (f"the {kind} probe of container {c.name} checks port {number}, which the "
                           f"container does not declare (it declares {declared})")
                if refused:
                    summary += ": the checks are refused, nothing listens on that port"
                    evidence += [ctx.describe_event(f.latest.event)] if f else []
                else:
                    summary += "; fine if the app listens there anyway, but check it"
            evidence += self._now_evidence(kind)
            fix = self._port_candidate(p)
            suggestions = [self._patch({SPEC_KEY[kind]: {p.handler_key: {"port": fix}}})
                           + ("  # PORT: the port the app listens on" if fix == "PORT" else "")]
            out[kind] = ctx.finding(
                "ProbePortMismatch", summary, container=c.name, severity=severity,
                cause="PortNameNotFound" if status == "missing-name" else "PortNotDeclared",
                evidence=evidence, suggestions=suggestions,
                details={"probe": kind, "port": p.port, "declaredPorts": [
                    {k: v for k, v in q.items() if k in ("name", "containerPort", "protocol")}
                    for q in ports], "suggestedPort": fix})
        return out

    def _never_runs(self, kind: str) -> str:
        if kind == "readiness":
            return "the kubelet cannot run the probe, so the container never becomes ready"
        if kind == "startup":
            return ("the kubelet cannot run the probe, so the container never counts as started "
                    "and its liveness and readiness probes never run")
        return "the kubelet cannot run the probe, so it never restarts a hung container"

    def _port_candidate(self, p: Probe):
        """The port to probe instead: the container's only TCP port (by name if it has one)."""
        tcp = [q for q in declared_ports(self.c.spec) if (q.get("protocol") or "TCP") == "TCP"]
        if len(tcp) == 1:
            q = tcp[0]
            if isinstance(p.port, str) and q.get("name"):
                return q["name"]
            return int(q["containerPort"])
        return "PORT"

    def _no_readiness_probe(self) -> Optional[Finding]:
        ctx, c = self.ctx, self.c
        if "readiness" in self.probes or c.sidecar:
            return None
        services = _services_selecting(ctx)
        if not services:
            return None
        behind, target = _behind(ctx, c, services)
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
                      f"{_selector_text(s)}" for s in behind]
                     + [p.describe() for p in self.probes.values()],
            suggestions=[self._patch({"readinessProbe": {"tcpSocket": {"port": port},
                                                         "periodSeconds": 10}})
                         + "  # or an httpGet on the app's own readiness endpoint"],
            details={"services": [meta(s).get("name") for s in behind]})

    def _liveness_equals_readiness(self) -> Optional[Finding]:
        live, ready = self.probes.get("liveness"), self.probes.get("readiness")
        if live is None or ready is None or not live.same_check_as(ready):
            return None
        if live.handler_key == "tcpSocket":
            return None  # "does the port accept connections" involves no dependency
        c = self.c
        suggestions = []
        if live.port is not None:
            suggestions.append(self._patch({"livenessProbe": {live.handler_key: None,
                                                              "tcpSocket": {"port": live.port}}})
                               + "  # liveness: is the process up? readiness keeps the full check")
        return self.ctx.finding(
            "LivenessEqualsReadiness",
            f"the liveness and readiness probes of container {c.name} check the same thing "
            f"({clean(live.target())}): when a dependency is slow, the kubelet restarts the app "
            f"instead of only taking it out of the Service",
            container=c.name, evidence=[live.describe(), ready.describe()],
            suggestions=suggestions, details={"probe": "liveness"})

    # ---- --probe-now results without a finding ------------------------------------------------
    def _note_probe_now(self, found: List[Finding]):
        covered = {f.details.get("probe") for f in found if "probeNow" in f.details}
        for kind, result in self.now.items():
            if result is None or kind in covered:
                continue
            attached = next((f for f in found if f.details.get("probe") == kind
                             and f.reason != "LivenessEqualsReadiness"), None)
            if attached is not None:
                if not any(e.startswith("probe now:") for e in attached.evidence):
                    attached.evidence.extend(self._now_evidence(kind))
                attached.details["probeNow"] = result.to_dict()
                continue
            self.ctx.view.note(f"pod/{clean(self.ctx.name)} container {self.c.name} {kind} "
                               f"{result.evidence('')}")


# ---- Services -----------------------------------------------------------------------------------

def _services_selecting(ctx: PodContext) -> List[dict]:
    """Services of the pod's namespace whose selector matches the pod (and that wait for readiness)."""
    scope = ctx.view.options.namespace
    pool = ctx.view.list("Service") if scope in (None, ctx.namespace) \
        else ctx.view.list("Service", ctx.namespace)
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


def _selector_text(svc: dict) -> str:
    sel = (svc.get("spec") or {}).get("selector") or {}
    return ",".join(f"{clean(k)}={clean(v)}" for k, v in sel.items())


def _behind(ctx: PodContext, c: Container, services: List[dict]) -> Tuple[List[dict], Optional[object]]:
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
