"""Per-probe verdicts: is a failing probe a problem now, what it does to the pod, and what to change.

Each function takes the container's ProbeEvidence (probe_evidence.py) and returns a finding or None:
`failed` for LivenessProbeFailed / ReadinessProbeFailed / StartupProbeFailed, `slow_start` and
`slow_start_near_budget` for LivenessKillsSlowStart.
"""

from typing import List, Optional

from ...findings import Finding
from ...sanitize import clean
from ...timeutil import human_duration, parse_time
from ...view import event_time, meta
from ..base import fix, quote
from .probe_config import SPEC_KEY, Probe
from .probe_evidence import (RECENT_SECONDS, Failures, ProbeEvidence, ago, grace_seconds,
                             is_running, never_ready, recent, run_seconds,
                             services_selecting)

FAILED_REASON = {"liveness": "LivenessProbeFailed", "readiness": "ReadinessProbeFailed",
                 "startup": "StartupProbeFailed"}

# The runbook's startupProbe for slow starters (model loading): up to 300s before liveness runs.
STARTUP_PERIOD, STARTUP_FAILURES = 10, 30

NO_EVENTS = ("no Unhealthy or Killing events about the {kind} probe were found (events expire after "
             "an hour): this is what the container status shows")


def _exec_url(ev: ProbeEvidence, kind: str, path: Optional[str] = None) -> Optional[str]:
    p = ev.probes[kind]
    number = ev.ports.get(kind, (None, ""))[0]
    if number is None:
        return None
    scheme = "https" if p.scheme == "HTTPS" else "http"
    return f"{scheme}://localhost:{number}{path if path is not None else p.path}"


def _curl(ev: ProbeEvidence, url: str, comment: str = "") -> List[str]:
    """The probe's request by hand, as the kubelet sends it: a GET (not curl -I: a HEAD gets 405
    from many frameworks), its status code printed; HTTPS without verifying the certificate."""
    ctx = ev.ctx
    k = "-sk" if url.startswith("https") else "-s"
    request = f"curl {k} -o /dev/null -w '%{{http_code}}\\n' {quote(url)}"
    return [fix(f"kubectl exec {quote(ctx.name)} {ctx.ns_flag} -c {quote(ev.c.name)} -- {request}",
                comment or "the probe's GET by hand: 200-399 passes"),
            fix(f"kubectl debug {quote(ctx.name)} {ctx.ns_flag} -it --profile=general "
                f"--image=curlimages/curl -- {request}", "the same, for images without curl")]


def _state(ev: ProbeEvidence, kind: str) -> Optional[str]:
    """'error', 'warning' or None: is this probe's failure a problem now?"""
    c, f = ev.c, ev.fails.get(kind)
    if kind in ("liveness", "startup"):
        certainty = ev.kill_certainty(kind)
        if certainty == "confirmed":
            recent_kill = any((ev.ctx.view.now - (event_time(e) or ev.ctx.view.now))
                              .total_seconds() <= RECENT_SECONDS for e in ev.kills[kind])
            return "error" if (recent_kill or not c.status.get("ready")) else "warning"
        if certainty is not None:
            # Restarting, and the probe's failures (or, with no events left, the kills' exit codes)
            # say why. Ready again and the failures long past: it was, it no longer is.
            if c.status.get("ready") and is_running(c) and f is not None and not recent(ev.ctx, f):
                return "warning"
            return "error"
        if f is None:
            return None
        if kind == "startup":
            return None  # a startup probe failing until the app is up is what it is for
        if not is_running(c):
            return None  # the container stops by itself: the crash analyzers explain it
        # Failing, but not failureThreshold times in a row yet: no restart so far.
        if not c.status.get("ready"):
            return "warning"
        return "warning" if _after_start(ev, kind) and recent(ev.ctx, f) else None
    # readiness
    if c.status and not is_running(c) and not (ev.kills or ev.kill_certainty("liveness")
                                               or ev.kill_certainty("startup")):
        return None  # crashing by itself: readiness failures are a symptom of the crash
    # (No container status recorded at all, as in an events dump: the failures are the evidence;
    # the kubelet runs readiness probes only while the container runs.)
    if ev.probes.get("startup") and c.status.get("started") is False:
        return None  # readiness does not run before the startup probe succeeds
    if f is None:
        return "error" if _expired_not_ready(ev) else None
    if not c.status.get("ready"):
        return "error"
    # Ready now: failures while the app was starting are normal; failures since then flap.
    return "warning" if _after_start(ev, kind) and recent(ev.ctx, f) and f.count >= 2 else None


def _killed(ev: ProbeEvidence, kind: str) -> bool:
    """Did this probe restart the container (seen or inferred)?"""
    return ev.kill_certainty(kind) is not None


def _after_start(ev: ProbeEvidence, kind: str) -> bool:
    """Did this probe fail after the current run's start-up window (so not just while starting)?"""
    f, p = ev.fails.get(kind), ev.probes.get(kind)
    started = parse_time((ev.c.state.get("running") or {}).get("startedAt"))
    if f is None or f.last is None or started is None:
        return f is not None
    window = max(120, 2 * p.budget) if p is not None else 120
    return (f.last - started).total_seconds() > window


def _expired_not_ready(ev: ProbeEvidence) -> bool:
    """Running, past the readiness budget, never ready, and no events say why (expired)."""
    c, p = ev.c, ev.probes.get("readiness")
    if p is None or c.status.get("ready") or ev.kills:
        return False
    started = parse_time((c.state.get("running") or {}).get("startedAt"))
    if started is None:
        return False
    return (ev.ctx.view.now - started).total_seconds() > max(p.budget + 60, 120)


def failed(ev: ProbeEvidence, kind: str, mismatch: Optional[Finding]) -> Optional[Finding]:
    p = ev.probes.get(kind)
    if p is None and kind not in ev.fails and not ev.kills.get(kind):
        return None  # no such probe, and nothing says one failed (a thin spec may omit it)
    if ev.ports.get(kind, (None, ""))[1] == "missing-name":
        return None  # the kubelet cannot even run it: ProbePortMismatch says so
    severity = _state(ev, kind)
    if severity is None:
        return None
    ctx, c, f = ev.ctx, ev.c, ev.fails.get(kind)
    cause = ev.cause(kind)
    code = ev.status_code(kind)
    summary = _what_fails(ev, kind, p, cause, code, f)
    if mismatch is not None:
        summary += f" (port {clean(str(p.port))} is not a port of the container: see ProbePortMismatch)"
    effect = _effect(ev, kind, severity)
    summary += f"; {effect}" if effect else ""
    evidence = ev.failure_evidence(kind)
    certainty = ev.kill_certainty(kind)
    if f is None and ev.kills.get(kind):
        evidence.append(f"no Unhealthy events about the {kind} probe are on record (events expire "
                        f"after an hour): only the kill is")
    elif f is None:
        evidence.append(NO_EVENTS.format(kind=kind))
    elif certainty == "inferred":
        evidence.append(f"inferred, not seen: no Killing event names the {kind} probe (events "
                        f"expire after an hour); the restarts rest on "
                        + "; ".join(ev.kill_inference(kind)))
        evidence += [ctx.describe_event(e) for e in ev.backoffs[-1:]]
    evidence += ev.status_evidence()
    if f is None and kind == "readiness":
        since = (c.state.get("running") or {}).get("startedAt")
        evidence.append(f"running for {ago(ctx, since)} without becoming ready")
    if p is not None:
        evidence.append(p.describe())
        run = run_seconds(c.last_terminated)
        if kind == "startup" and certainty in ("confirmed", "inferred") and run is not None:
            evidence.append(f"the last run lasted {human_duration(run)}; the startup budget is "
                            f"{p.budget_range()}")
    evidence += ev.now_evidence(kind)
    suggestions = _fixes(ev, kind, p, cause, code, mismatch)
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
    if ev.kills.get(kind):
        details["killedByProbe"] = ev.kill_count(kind)
    if certainty is not None:
        # How sure the verdict is that this probe restarts the container: Killing events seen
        # ("confirmed"), failures and restarts that agree ("inferred"), or the status alone.
        details["certainty"] = certainty
        if certainty != "confirmed":
            details["inferredFrom"] = ev.kill_inference(kind)
    if kind in ev.now:
        details["probeNow"] = ev.now[kind].to_dict()
    return ctx.finding(FAILED_REASON[kind], summary, container=c.name, cause=cause,
                       severity=severity, evidence=evidence, suggestions=suggestions,
                       details=details)


def _what_fails(ev: ProbeEvidence, kind, p: Optional[Probe], cause, code, f: Optional[Failures]) -> str:
    c = ev.c
    head = f"the {kind} probe of container {c.name}"
    path = clean(p.path) if p is not None and p.is_http else ""
    port = clean(str(ev.port_of(kind))) if p is not None and p.port is not None else "?"
    # an event count is a floor: the kubelet's event spam filter stops a busy pod's events
    times = f" ({f.count} failures recorded)" if f and f.count > 1 else ""
    # Where it asks: "for /healthz on port 8080"; with no probe spec recorded, nothing to say.
    where = f" for {path} on port {port}" if p is not None else ""
    on_port = f" on port {port}" if p is not None else ""
    if cause == "HTTPStatus":
        if code == 404:
            return f"{head} gets HTTP 404{where}{times}: the app has no such path"
        if code in (401, 403):
            return (f"{head} gets HTTP {code}{where}{times}: the endpoint wants "
                    f"credentials, and the kubelet sends none")
        if code is not None and code >= 500:
            return (f"{head} gets HTTP {code}{where}{times}: the app answers but "
                    f"reports itself unhealthy")
        return (f"{head} gets HTTP {code}{where}{times}: the kubelet only accepts "
                f"200-399")
    if cause == "ConnectionRefused":
        return f"{head} is refused{on_port}{times}: nothing listens there"
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
        return f"{head} cannot reach the pod{on_port}{times}: a network problem on the node"
    if cause == "GRPCNotServing":
        return f"{head} is answered NOT_SERVING by the app's gRPC health service{times}"
    if cause == "ProbeError":
        return f"the kubelet cannot run the {kind} probe of container {c.name}{times}: " \
               f"{clean(f.output) if f else '?'}"
    if cause is None:
        if kind == "readiness":
            return f"container {c.name} is running but its readiness probe has not passed"
        if ev.kills.get(kind) and f is None:
            return (f"the {kind} probe of container {c.name} failed"
                    + (f" {p.failure_threshold} times in a row" if p else "")
                    + " (its Unhealthy events are not on record, so how it failed is not known)")
        return (f"container {c.name} keeps being stopped by a signal (exit code "
                f"{(c.last_terminated or {}).get('exitCode')}, not an OOM kill) and is not ready; it "
                f"has a {kind} probe, the likely cause, but no event is left to show it failing")
    return f"{head} fails{times}: {clean(f.output) if f else '?'}"


def _effect(ev: ProbeEvidence, kind: str, severity: str) -> str:
    c = ev.c
    if kind in ("liveness", "startup"):
        kills = ev.kill_count(kind)
        restarts = (f"{c.restarts} restart{'s' if c.restarts != 1 else ''}" if "restartCount" in c.status
                    else f"created {ev.created} times" if ev.created > 1 else "restart count not recorded")
        certainty = ev.kill_certainty(kind)
        if certainty == "confirmed":
            why = "before it finished starting" if kind == "startup" else "to restart it"
            return (f"killed by its {kind} probe: the kubelet killed the container {kills} "
                    f"time{'s' if kills != 1 else ''} {why} ({restarts})")
        if certainty == "inferred" and ev.past_threshold_only(kind):
            f = ev.fails[kind]
            threshold = ev.probes[kind].failure_threshold if kind in ev.probes else 3
            return (f"{f.count} failures are past its failureThreshold of {threshold}, so the kubelet "
                    f"restarts the container; no Killing event is left to prove the {kind} probe "
                    f"killed it")
        if certainty == "inferred":
            return (f"it keeps restarting{f' ({restarts})' if c.restarts else ''}; no Killing event "
                    f"is left to prove the {kind} probe killed it")
        if certainty == "status-only":
            return f"{restarts} so far"
        if severity == "warning":
            return (f"{ev.probes[kind].failure_threshold} failures in a row restart the "
                    f"container" if kind in ev.probes else "")
        return ""
    services = [f"service \"{clean(meta(s).get('name'))}\"" for s in services_selecting(ev.ctx)]
    who = ", ".join(services) if services else "Services"
    if not c.status.get("ready"):
        return f"the pod is not ready, so {who} send{'s' if len(services) == 1 else ''} it no traffic"
    return f"the pod drops out of the endpoints of {who} each time"


def _fixes(ev: ProbeEvidence, kind, p: Optional[Probe], cause, code, mismatch) -> List[str]:
    ctx, c = ev.ctx, ev.c
    if p is None:
        # The probe's settings were not recorded: read them, and what the app said before it died.
        return [f"kubectl describe pod {quote(ctx.name)} {ctx.ns_flag}",
                ctx.logs_cmd(c.name, previous=_killed(ev, kind))]
    if mismatch is not None:
        return list(mismatch.suggestions)
    spec_key = SPEC_KEY[kind]
    out: List[str] = []
    if cause == "HTTPStatus" and code == 404:
        if p.path != "/":
            url = _exec_url(ev, kind, "/")
            if url:
                out += _curl(ev, url, "/ is a guess: it must answer 200-399 before you patch")
            out.append(fix(_root_path_patch(ev), "probe / (a guess to verify, see above)"))
        else:
            url = _exec_url(ev, kind)
            if url:
                out += _curl(ev, url)
            out.append(ev.patch({spec_key: {"httpGet": {"path": "/HEALTH_PATH"}}}))
        return out
    if cause == "HTTPStatus" and code in (401, 403):
        out.append(fix(ev.patch({spec_key: {"httpGet": {"path": "/HEALTH_PATH"}}}),
                       "a path that needs no login"))
        return out
    if cause in ("HTTPStatus", "GRPCNotServing", "ConnectionReset"):
        out.append(ctx.logs_cmd(c.name, previous=_killed(ev, kind)))
        url = _exec_url(ev, kind)
        if url:
            out += _curl(ev, url)[:1]
        return out
    if cause == "ConnectionRefused":
        if kind == "startup" and c.status.get("started") is not True:
            out.append(startup_patch(ev, p))
        out.append(fix(f"kubectl debug {quote(ctx.name)} {ctx.ns_flag} -it --profile=general "
                       f"--image=busybox:1.36 -- netstat -tln", "which ports the app really listens on"))
        out.append(ctx.logs_cmd(c.name, previous=_killed(ev, kind)))
        return out
    if cause == "Timeout":
        if kind == "startup" and c.status.get("started") is not True and _killed(ev, kind):
            out.append(startup_patch(ev, p))
        url = _exec_url(ev, kind)
        if url:
            out.append(fix(f"kubectl exec {quote(ctx.name)} {ctx.ns_flag} -c {quote(c.name)} -- curl -s "
                           f"-o /dev/null -w '%{{http_code}} %{{time_total}}s\\n' {quote(url)}",
                           f"the probe's GET by hand: how long does it take? (timeoutSeconds is {p.timeout})"))
        out.append(ev.patch({spec_key: {"timeoutSeconds": max(5, p.timeout * 3)}}))
        return out
    if cause == "ExecFailed":
        if p.command:
            out.append(fix(f"kubectl exec {quote(ctx.name)} {ctx.ns_flag} -c {quote(c.name)} -- "
                           f"{p.command_text()}", "run the probe by hand; echo $? then prints its exit code "
                                                  "(0 passes)"))
        out.append(ctx.logs_cmd(c.name, previous=_killed(ev, kind)))
        return out
    if cause is None:
        if kind == "readiness":
            url = _exec_url(ev, kind)
            if url:
                out += _curl(ev, url)[:1]
        out.append(f"kubectl get events {ctx.ns_flag} --field-selector "
                   f"involvedObject.name={quote(ctx.name)},reason=Unhealthy")
        out.append(ctx.logs_cmd(c.name, previous=kind != "readiness"))
        return out
    return [f"kubectl describe pod {quote(ctx.name)} {ctx.ns_flag}"]


def _root_path_patch(ev: ProbeEvidence) -> str:
    """One patch moving every HTTP probe of this container that gets 404s to `/` (runbook Fix 1)."""
    changes = {}
    for kind in ("startup", "liveness", "readiness"):
        p = ev.probes.get(kind)
        if p is not None and p.is_http and p.path != "/" and ev.cause(kind) == "HTTPStatus" \
                and ev.status_code(kind) == 404:
            changes[SPEC_KEY[kind]] = {"httpGet": {"path": "/", "port": p.port}}
    return ev.patch(changes)


def startup_patch(ev: ProbeEvidence, base: Probe) -> str:
    """A startupProbe asking what `base` asks, patient enough for a slow start."""
    existing = ev.probes.get("startup")
    if existing is not None:
        threshold = max(STARTUP_FAILURES, existing.failure_threshold * 2)
        return fix(ev.patch({"startupProbe": {"failureThreshold": threshold}}),
                   f"{existing.initial_delay + threshold * existing.period}s to start")
    probe = {base.handler_key: dict(base.handler), "periodSeconds": STARTUP_PERIOD,
             "failureThreshold": STARTUP_FAILURES}
    if base.timeout > 1:
        probe["timeoutSeconds"] = base.timeout
    return fix(ev.patch({"startupProbe": probe}),
               f"up to {STARTUP_PERIOD * STARTUP_FAILURES}s to start; liveness runs only after it")


def slow_start(ev: ProbeEvidence) -> Optional[Finding]:
    """Liveness kills a container that has never become ready, about when its budget runs out."""
    ctx, c = ev.ctx, ev.c
    live = ev.probes.get("liveness")
    if live is None or "startup" in ev.probes:
        return None
    f = ev.fails.get("liveness")
    kills = ev.kill_count("liveness")
    certainty = ev.kill_certainty("liveness")
    if certainty is None:
        return None
    if ev.ports.get("liveness", (None, ""))[1] in ("undeclared", "missing-name"):
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
               f"becoming ready, each time {live.budget_range()} after it started, when its liveness "
               f"budget ran out")
    if certainty == "inferred":
        summary += "; no Killing event is left to prove the probe killed it"
    evidence = ev.failure_evidence("liveness")
    rf = ev.fails.get("readiness")
    if rf is not None:
        evidence.append(ctx.describe_event(rf.latest.event))
    if f is None:
        evidence.append(NO_EVENTS.format(kind="liveness"))
    elif certainty == "inferred":
        evidence.append("inferred, not seen: no Killing event names the liveness probe (events "
                        "expire after an hour); the restarts rest on "
                        + "; ".join(ev.kill_inference("liveness")))
    evidence += ev.status_evidence()
    if nr:
        cond = ctx.condition("ContainersReady") or ctx.condition("Ready") or {}
        evidence.append(f"never ready: condition {cond.get('type', 'Ready')}=False since the pod "
                        f"started {ago(ctx, ctx.status.get('startTime'))} ago")
    if run is not None:
        evidence.append(f"the last run lasted {int(run)}s: the liveness budget of {live.budget_range()}, "
                        f"plus up to {grace_seconds(ctx, live)}s for the container to stop")
    evidence.append(live.describe())
    if "readiness" in ev.probes:
        evidence.append(ev.probes["readiness"].describe())
    evidence.append("no startupProbe: liveness checks start after initialDelaySeconds whether or "
                    "not the app is up")
    log = ctx.view.logs(ctx.pod, c.name, previous=True)
    tail = [line.strip() for line in (log or "").splitlines() if line.strip()][-3:]
    if tail:
        evidence.append("last output before the kill:\n" + "\n".join(clean(t) for t in tail))
    evidence += ev.now_evidence("liveness")
    suggestions = [startup_patch(ev, live), fix(ctx.logs_cmd(c.name, previous=True),
                                                "how far did startup get?")]
    details = {"probe": "liveness", "config": live.effective(), "restarts": c.restarts,
               "budgetSeconds": live.budget, "budgetMinSeconds": live.budget_min,
               "suggestedStartupBudgetSeconds": STARTUP_PERIOD * STARTUP_FAILURES}
    if run is not None:
        details["lastRunSeconds"] = int(run)
    if f is not None:
        details.update(failures=f.count, causes=f.causes())
    details["certainty"] = certainty
    if certainty != "confirmed":
        details["inferredFrom"] = ev.kill_inference("liveness")
    return ctx.finding("LivenessKillsSlowStart", summary, container=c.name,
                       cause=f.cause if f else None, evidence=evidence,
                       suggestions=suggestions, details=details)


def slow_start_near_budget(ev: ProbeEvidence) -> Optional[Finding]:
    """Ready now, but the start took most of the liveness budget: a slower start gets killed."""
    ctx, c = ev.ctx, ev.c
    live, ready_probe = ev.probes.get("liveness"), ev.probes.get("readiness")
    if live is None or ready_probe is None or "startup" in ev.probes:
        return None
    if not c.status.get("ready") or not live.same_check_as(ready_probe):
        return None
    started = parse_time((c.state.get("running") or {}).get("startedAt"))
    cond = ctx.condition("ContainersReady") or ctx.condition("Ready") or {}
    became = parse_time(cond.get("lastTransitionTime")) if cond.get("status") == "True" else None
    if started is None or became is None or became < started:
        return None
    took = (became - started).total_seconds()
    # against the fewest seconds liveness may allow: where its checks fall is luck (budget_min)
    if ready_probe.initial_delay >= 0.8 * live.budget_min or took < 0.8 * live.budget_min:
        return None
    return ctx.finding(
        "LivenessKillsSlowStart",
        f"container {c.name} took {int(took)}s to become ready and its liveness probe allows "
        f"{live.budget_range()}: a slightly slower start (bigger data, busy node) gets it killed",
        container=c.name, severity="warning",
        evidence=[f"container started {ago(ctx, started)} ago and became ready "
                  f"{int(took)}s later", live.describe(), ready_probe.describe()],
        suggestions=[startup_patch(ev, live)],
        details={"probe": "liveness", "startSeconds": int(took), "budgetSeconds": live.budget,
                 "budgetMinSeconds": live.budget_min})
