"""InitContainerFailed: an init container fails (or never finishes), so the app containers never start.

Detected from the init container statuses (events expire):

* crash-looping: `waiting.reason: CrashLoopBackOff` (`kubectl get pods` shows
  `Init:CrashLoopBackOff`), with the last exit from `lastState.terminated` when it is recorded; the
  waiting reason alone is enough (after a node restart, or in a pasted status, the last state is
  often empty: kubernetes/kubernetes#26892 shows Init:CrashLoopBackOff with 0 restarts);
* failed: `state.terminated` non-zero (`Init:Error`; with restartPolicy Never the pod is Failed);
* stuck: running for minutes while the app containers wait in `PodInitializing` — a `wait-for-db`
  loop whose dependency never appears. Reported as a warning: it may still finish.

Native sidecars (init containers with `restartPolicy: Always`) are meant to keep running and are
not init steps. An init container that waits on an image pull, on a missing ConfigMap/Secret, or
that the runtime cannot start is another analyzer's finding (image_pull, config_refs, cannot_run).

The diagnosis is the init container's own: what its exit code means, how often it restarted, the
error lines of its last run's log, and — when its command or log names a host (`nslookup db`,
`host "postgres"`) — whether that Service exists and has ready endpoints.
"""

import re
from typing import List, Optional, Tuple

from ...findings import Finding
from ...sanitize import clean
from ...timeutil import age, human_duration, parse_time, seconds_between
from ..base import Container, PodContext, fix, quote, status_line
from .exits import error_lines, exit_code_meaning, log_tail

# An init container running longer than this while the app waits is reported as stuck.
STUCK_SECONDS = 300

# The runtime could not start it at all: cannot_run explains that.
CANNOT_RUN_REASONS = {"StartError", "ContainerCannotRun"}

# What an init container's command waits on: `nslookup db`, `nc -z db 5432`, `pg_isready -h db`,
# URLs (`postgres://app@db:5432/app`), `until getent hosts db`.
_CMD_HOSTS = [
    re.compile(r"\bnslookup\s+([A-Za-z0-9][\w.-]*)"),
    re.compile(r"\b(?:getent\s+hosts|host|dig|ping(?:\s+-c\s*\d+)?)\s+([A-Za-z][\w.-]*)"),
    re.compile(r"\bnc\s+(?:-\w+\s+)*([A-Za-z][\w.-]*)\s+\d+"),
    re.compile(r"\b(?:pg_isready|psql|mysql|mysqladmin|redis-cli)\b[^;|&]*?\s-h\s*([A-Za-z][\w.-]*)"),
    re.compile(r"\b[a-z][a-z0-9+.-]*://(?:[^@/\s:]+(?::[^@/\s]*)?@)?([A-Za-z][\w.-]*)"),
    re.compile(r"\b(?:wait-for-it(?:\.sh)?|dockerize\s+-wait\s+tcp://)\s*([A-Za-z][\w.-]*):\d+"),
]
# What a failing client says about the host it could not reach.
_LOG_HOSTS = [
    re.compile(r'\bhost "([A-Za-z][\w.-]*)"'),
    re.compile(r'\bserver at "([A-Za-z][\w.-]*)"'),
    re.compile(r"Could not resolve host: ([A-Za-z][\w.-]*)"),
    re.compile(r"\bdial tcp: lookup ([A-Za-z][\w.-]*)"),
    re.compile(r"can't resolve '([A-Za-z][\w.-]*)'"),
    re.compile(r"server can't find ([A-Za-z][\w.-]*?)"
               r"(?:\.svc\.cluster\.local|\.[\w-]+\.svc\.cluster\.local)?: NXDOMAIN"),
    re.compile(r"getaddrinfo (?:ENOTFOUND|EAI_AGAIN) ([A-Za-z][\w.-]*)"),
    re.compile(r"(?:connect to|connecting to|Could not connect to) ([A-Za-z][\w.-]*):\d+"),
]
_FRAME_LINES = ('File "', "Traceback (most recent call last)", "The above exception",
                "During handling of the above exception", "at ")
_PUBLIC_SUFFIXES = {"com", "net", "org", "io", "dev", "app", "cloud", "ai", "co", "uk", "de", "fr", "nl",
                    "eu", "info", "biz", "us", "me", "local", "internal", "lan", "localdomain", "example"}
_NOT_HOSTS = {"localhost", "sh", "bash", "echo", "sleep", "do", "done", "then", "if", "until", "while"}


def analyze(ctx: PodContext) -> List[Finding]:
    findings = []
    for c in ctx.containers(init=True):
        if c.sidecar:
            continue
        finding = _crashing(ctx, c) or _failed(ctx, c) or _stuck(ctx, c)
        if finding:
            findings.append(finding)
    return findings


def _code(term: Optional[dict]) -> Optional[int]:
    try:
        return int((term or {}).get("exitCode"))
    except (TypeError, ValueError):
        return None


def _crashing(ctx: PodContext, c: Container) -> Optional[Finding]:
    if (c.waiting or {}).get("reason") != "CrashLoopBackOff":
        return None
    term = c.last_terminated
    if term and (_code(term) == 0 or term.get("reason") in CANNOT_RUN_REASONS):
        return None  # not a failure of its own (exit 0), or the runtime could not start it
    if not term or _code(term) is None:
        from .cannot_run import start_error_events
        if start_error_events(ctx, c):
            return None  # the runtime could not start it: cannot_run reads those events
    return _failure(ctx, c, term or {}, previous=True)


def _failed(ctx: PodContext, c: Container) -> Optional[Finding]:
    term = c.terminated
    if not term or _code(term) in (None, 0) or term.get("reason") in CANNOT_RUN_REASONS:
        return None
    return _failure(ctx, c, term, previous=False)


def _app_waiting(ctx: PodContext) -> List[Container]:
    return [a for a in ctx.containers(init=False) if not a.state.get("running") and not a.terminated]


def _failure(ctx: PodContext, c: Container, term: dict, previous: bool) -> Finding:
    code = _code(term)
    reason = term.get("reason") or ("Error" if term else None)
    meaning = exit_code_meaning(code)
    if reason == "OOMKilled":
        meaning = "killed by the OOM killer: it used more memory than its limit"
    log = ctx.view.logs(ctx.pod, c.name, previous=previous)
    errors = error_lines(log, limit=12) or log_tail(log, 5)
    # Traceback frames say where, not what: show the lines that say what went wrong.
    shown = [line for line in errors if not line.strip().startswith(_FRAME_LINES)][-4:] or errors[-4:]
    never_restarts = (ctx.spec.get("restartPolicy") or "Always") == "Never"

    headline = _headline(errors)
    how = "keeps failing" if not never_restarts and (c.restarts or c.waiting) else "failed"
    if code is None:
        summary = (f"init container {c.name} {how} (CrashLoopBackOff: the kubelet keeps restarting "
                   f"it; its last exit code was not recorded)")
    else:
        summary = f"init container {c.name} {how} with exit code {code} ({_short(meaning)})"
    if headline:
        summary += f": {clean(_shorten(headline, 150))}"
    summary += ("; the pod failed before its app containers started" if never_restarts
                else "; the app containers never start")

    evidence = [status_line(c)] if c.waiting else []
    ran = seconds_between(term.get("startedAt"), term.get("finishedAt"))
    when = age(term.get("finishedAt"), ctx.view.now)
    if term:
        evidence.append(f"{'last run' if previous else 'run'} ended: {reason}, exit code {code} — "
                        f"{meaning}" + (f", after {human_duration(ran)}" if ran is not None else "")
                        + (f", {when} ago" if when else ""))
    else:
        evidence.append("no record of its last run (lastState is empty: a node restart, or the status "
                        "was rebuilt): the previous log says why it failed")
    if term.get("message"):
        evidence.append(f"termination message: {clean(term['message'])}")
    if c.restarts:
        evidence.append(f"restarted {c.restarts} time{'s' if c.restarts != 1 else ''}")
    which = "previous log" if previous else "log"
    evidence += [f"{which}: {clean(line)}" for line in shown]
    if log is None:
        evidence.append(f"{which}: not read (a scan reads the logs of a few pods, the most severe first; "
                        f"--logs reads them all)" if ctx.view.log_skipped(ctx.pod) else f"{which}: not available")
    backoff = ctx.events_where("BackOff", c.name, init=True)
    if backoff:
        evidence.append(ctx.describe_event(backoff[-1]))
    waiting = _app_waiting(ctx)
    if waiting and not never_restarts:
        evidence.append("app containers waiting: " + ", ".join(
            f"{a.name} ({(a.waiting or {}).get('reason', 'waiting')})" for a in waiting))
    hosts = _hosts(c, log, ctx.namespace)
    evidence += _service_evidence(ctx, hosts)

    suggestions = [ctx.logs_cmd(c.name, previous=previous)]
    suggestions += _dependency_checks(ctx, hosts)
    suggestions += _edit(ctx, c)
    details = {"initContainer": c.name, "exitCode": code, "terminationReason": reason,
               "restartCount": c.restarts, "state": "CrashLoopBackOff" if previous else "Terminated"}
    if hosts:
        details["dependsOn"] = [h for h, _ns in hosts]
    return ctx.finding("InitContainerFailed", summary, container=c.name,
                       cause="Crashing" if previous else "Failed",
                       evidence=[e for e in evidence if e], suggestions=suggestions, details=details)


def _stuck(ctx: PodContext, c: Container) -> Optional[Finding]:
    running = c.state.get("running")
    if not running:
        return None
    waiting = _app_waiting(ctx)
    if not waiting:
        return None
    started = parse_time(running.get("startedAt"))
    if started is None:
        return None
    seconds = (ctx.view.now - started).total_seconds()
    if seconds < STUCK_SECONDS:
        return None
    log = ctx.view.logs(ctx.pod, c.name, previous=False)
    hosts = _hosts(c, log, ctx.namespace)
    service_lines = _service_evidence(ctx, hosts)
    duration = human_duration(seconds)
    summary = f"init container {c.name} has been running {duration}; app containers wait for it"
    missing = [h for (h, _ns), line in zip(hosts, _service_states(ctx, hosts)) if line == "missing"]
    if missing:
        summary += f' (it waits for "{clean(missing[0])}", which has no Service)'
    elif hosts:
        summary += f' (it waits for "{clean(hosts[0][0])}")'

    evidence = [f"container {c.name} running since {clean(running.get('startedAt'))} ({duration})"]
    command = _command_text(c)
    if command:
        evidence.append(f"command: {clean(_shorten(command, 200))}")
    evidence += [f"log: {clean(line)}" for line in log_tail(log, 4)]
    evidence.append("app containers waiting: " + ", ".join(
        f"{a.name} ({(a.waiting or {}).get('reason', 'waiting')})" for a in waiting))
    evidence += service_lines

    suggestions = [ctx.logs_cmd(c.name, previous=False)]
    suggestions += _dependency_checks(ctx, hosts)
    suggestions += _edit(ctx, c)
    details = {"initContainer": c.name, "runningSeconds": int(seconds), "state": "Running"}
    if hosts:
        details["dependsOn"] = [h for h, _ns in hosts]
    return ctx.finding("InitContainerFailed", summary, container=c.name, cause="Stuck",
                       severity="warning", evidence=evidence, suggestions=suggestions, details=details)


# ---- what the init container depends on ----------------------------------------------------------

def running_init(ctx: PodContext) -> Optional[Container]:
    """The init container (not a native sidecar) still running while the app containers wait: the one
    that holds the pod, before it has run long enough to be called stuck (pod_health reports it)."""
    if not _app_waiting(ctx):
        return None
    return next((c for c in ctx.containers(init=True) if not c.sidecar and c.state.get("running")), None)


def waits_for(ctx: PodContext, c: Container, log: Optional[str]) -> Tuple[List[str], List[str], List[str]]:
    """(hosts, evidence lines, suggestions) about what a running init container waits on."""
    hosts = _hosts(c, log, ctx.namespace)
    return [h for h, _ns in hosts], _service_evidence(ctx, hosts), _dependency_checks(ctx, hosts)


def command_line(c: Container, limit: int = 200) -> str:
    return _shorten(_command_text(c), limit) if _command_text(c) else ""


def _command_text(c: Container) -> str:
    parts = [str(x) for x in (c.spec.get("command") or []) + (c.spec.get("args") or [])]
    return " ".join(parts)


def _env_text(c: Container) -> str:
    return " ".join(str(e.get("value")) for e in c.spec.get("env") or [] if e.get("value"))


def _is_ip(host: str) -> bool:
    return bool(re.fullmatch(r"[\d.]+", host)) or ":" in host


def _service_of(host: str, namespace: str) -> Optional[Tuple[str, str]]:
    """`db` → (db, NS); `db.other` / `db.other.svc[.cluster.local]` → (db, other); else None."""
    host = host.rstrip(".")
    if not host or _is_ip(host) or host.lower() in _NOT_HOSTS:
        return None
    parts = host.split(".")
    if len(parts) == 1:
        return parts[0], namespace
    if len(parts) == 2 and parts[1].lower() in _PUBLIC_SUFFIXES:
        return None  # example.com, not service "example" in namespace "com"
    if len(parts) == 2 or parts[2] == "svc":
        return parts[0], parts[1]
    return None  # an external name: not a Service we can look at


def _hosts(c: Container, log: Optional[str], namespace: str) -> List[Tuple[str, str]]:
    found: List[Tuple[str, str]] = []
    texts = [(_command_text(c), _CMD_HOSTS), (_env_text(c), _CMD_HOSTS[4:5]), (log or "", _LOG_HOSTS)]
    for text, patterns in texts:
        for pattern in patterns:
            for m in pattern.finditer(text):
                svc = _service_of(m.group(1), namespace)
                if svc and svc not in found:
                    found.append(svc)
    return found[:3]


def _resolve(ctx: PodContext, svc: Tuple[str, str]) -> Tuple[str, str]:
    name, ns = svc
    return name, ns or ctx.namespace


def _service_states(ctx: PodContext, hosts) -> List[str]:
    """Per host: missing, no-endpoints, ready, exists (endpoints unknown) or unknown."""
    states = []
    for svc in hosts:
        name, ns = _resolve(ctx, svc)
        exists = ctx.view.exists("Service", ns, name)
        # Offline, absence only counts when the dump holds Services of that namespace at all.
        if exists is False and (not ctx.view.offline or ctx.view.list("Service", ns)):
            states.append("missing")
        elif exists is True:
            ep = ctx.view.get("Endpoints", ns, name)
            if ep is None:
                states.append("exists")
            else:
                ready = sum(len(s.get("addresses") or []) for s in ep.get("subsets") or [])
                states.append("ready" if ready else "no-endpoints")
        else:
            states.append("unknown")
    return states


def _not_ready(ctx: PodContext, name: str, ns: str) -> int:
    ep = ctx.view.get("Endpoints", ns, name) or {}
    return sum(len(s.get("notReadyAddresses") or []) for s in ep.get("subsets") or [])


def _service_evidence(ctx: PodContext, hosts) -> List[str]:
    lines = []
    for svc, state in zip(hosts, _service_states(ctx, hosts)):
        name, ns = _resolve(ctx, svc)
        if state == "missing":
            lines.append(f'no service "{clean(name)}" in namespace {clean(ns)} (the init container needs it)')
        elif state == "no-endpoints":
            waiting = _not_ready(ctx, name, ns)
            lines.append(f'service "{clean(name)}" exists but has no ready endpoints'
                         + (f" ({waiting} not ready)" if waiting else "") + ": nothing answers behind it")
        elif state == "ready":
            lines.append(f'service "{clean(name)}" has ready endpoints')
    return lines


def _dependency_checks(ctx: PodContext, hosts) -> List[str]:
    out = []
    for svc, state in list(zip(hosts, _service_states(ctx, hosts)))[:2]:
        name, ns = _resolve(ctx, svc)
        if state == "no-endpoints":
            selector = ((ctx.view.get("Service", ns, name) or {}).get("spec") or {}).get("selector") or {}
            if selector:
                sel = ",".join(f"{k}={v}" for k, v in selector.items())
                out.append(fix(f"kubectl get pods -n {quote(ns)} -l {quote(sel)}",
                               f"the pods behind service {name}: why are they not ready?"))
                continue
        if state in ("missing", "unknown"):
            # `get svc NAME` would answer NotFound if it is missing: list what is there instead
            # (the same command whether the files said so or the API did).
            out.append(fix(f"kubectl get svc -n {quote(ns)}",
                           f"is there a service {name} in namespace {ns}? (its name may differ)"))
        else:
            out.append(f"kubectl get svc,endpoints {quote(name)} -n {quote(ns)}")
        if state in ("missing", "unknown"):
            # The FQDN: busybox's nslookup does not walk the pod's search list, so a short name
            # gives a false NXDOMAIN (assumes the default cluster domain, cluster.local).
            target = f"{name}.{ns}.svc.cluster.local"
            out.append(fix(f"kubectl run dnscheck {ctx.ns_flag} -it --rm --restart=Never --image=busybox:1.36 "
                           f"-- nslookup {quote(target)}",
                           f"does service {name} resolve in the cluster's DNS?"))
    return out


# ---- fixing it -----------------------------------------------------------------------------------

def _edit(ctx: PodContext, c: Container) -> List[str]:
    workload = ctx.workload()
    kind = workload.split("/")[0]
    if kind in ("job", "pod"):
        return [fix(f"kubectl get {workload} {ctx.ns_flag} -o yaml > {kind}.yaml",
                    f"fix init container {c.name} in {kind}.yaml, then run the next command"),
                fix(f"kubectl replace --force -f {kind}.yaml", f"recreates the {kind} from {kind}.yaml")]
    return [fix(f"kubectl edit {workload} {ctx.ns_flag}", f"fix initContainers: {c.name}")]


def _headline(lines: List[str]) -> Optional[str]:
    """The line that names the failure: the last `SomeError: message`, else the last error line."""
    for line in reversed(lines):
        text = line.strip()
        if text.startswith(("File ", "Traceback")):
            continue
        if re.search(r"(?:Error|Exception|error|FATAL|panic)\b:?", text):
            return text
    return lines[-1].strip() if lines else None


def _short(meaning: str) -> str:
    return meaning.split(" (")[0].split(":")[0]


def _shorten(text: str, limit: int = 120) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"
