"""CrashLoopBackOff: an app container keeps exiting and the kubelet keeps restarting it.

Detected from status, not events (events expire after an hour): the container waits with reason
CrashLoopBackOff, or it has restarted at least three times and its last run ended with a non-zero
exit code — or with exit 0 where the pod's restartPolicy is Always (a Deployment expects its
process to keep running). The diagnosis is the last run's exit code and what it means, how long
the run lasted, the termination message, the back-off, and the error lines of the previous run's
log.

Not ours: init containers (init_containers), a last run ended by the OOM killer (oom_killed), a
process the runtime could not start at all (cannot_run). A SIGKILL (exit 137) that is not an OOM
kill on a container that is not looping is reported here as ContainerExitedSIGKILL, unless the
kubelet's Killing events show a failed liveness/startup probe (the probe analyzer's finding).
"""

import re
import shlex
from typing import List, Optional

from ...findings import Finding
from ...sanitize import clean
from ...timeutil import age, human_duration, parse_time, seconds_between
from ...view import event_time
from ..base import Container, PodContext, fix, status_line
from .exits import error_lines, exit_code_meaning, exit_kind, is_crash, log_tail, signal_of

# Restarts after which a container with failing exits counts as looping even while it is running.
CRASH_RESTARTS = 3
# A container that has been running this long since its last restart is no longer looping right
# now (the kubelet itself resets the back-off after 10 minutes of running).
STABLE_SECONDS = 600

# Last-termination reasons that another analyzer explains.
OOM_REASONS = {"OOMKilled"}
CANNOT_RUN_REASONS = {"StartError", "ContainerCannotRun", "RunContainerError",
                      "CreateContainerError"}
# Waiting reasons that mean the container is stuck before it can run: another analyzer's class.
OTHER_WAITING = {"ErrImagePull", "ImagePullBackOff", "InvalidImageName", "ErrImageNeverPull",
                 "ImageInspectError", "CreateContainerConfigError", "CreateContainerError",
                 "RunContainerError", "PreCreateHookError", "PreStartHookError"}

# `back-off 5m0s restarting failed container=app pod=...` (older kubelets: `Back-off 5m0s ...`).
_BACKOFF = re.compile(r"back-off (\S+) restarting failed container", re.I)
# BackOff event: `Back-off restarting failed container app in pod NAME_NS(UID)`; older kubelets
# say only `Back-off restarting failed container`.
_BACKOFF_EVENT = re.compile(r"back-off restarting failed (?:docker )?container(?: (\S+) in pod)?", re.I)
_PROBE_KILL = re.compile(r"failed (liveness|startup) probe", re.I)
_PROBE_FAILED = re.compile(r"(liveness|startup) probe failed", re.I)
# dash `/bin/sh: 1: pythn: not found`, bash `bash: line 1: pythn: command not found`,
# busybox `sh: pythn: not found`.
_SHELL_NOT_FOUND = re.compile(r"(?:^|\s|/)(?:sh|bash|ash|dash|zsh):\s(?:line )?(?:\d+:\s)?(\S+):\s"
                              r"(?:command )?not found")

KIND_ARTICLE = {"Deployment": "a Deployment", "StatefulSet": "a StatefulSet",
                "DaemonSet": "a DaemonSet", "ReplicaSet": "a ReplicaSet",
                "ReplicationController": "a ReplicationController"}


def analyze(ctx: PodContext) -> List[Finding]:
    findings = []
    for c in ctx.containers(init=False):
        finding = _crash_loop(ctx, c)
        if finding is None:
            finding = _sigkill(ctx, c)
        if finding is not None:
            findings.append(finding)
    return findings


# ---- facts about the last run ------------------------------------------------------------------

def last_run(c: Container) -> Optional[dict]:
    """The most recent termination: the current state if terminated, else lastState."""
    return c.terminated or c.last_terminated


def ran_seconds(term: dict) -> Optional[float]:
    return seconds_between(term.get("startedAt"), term.get("finishedAt"))


def restart_phrase(n: int) -> str:
    return f"restarted {n} time{'' if n == 1 else 's'}"


def _exit_code(term: Optional[dict]) -> Optional[int]:
    if not term or term.get("exitCode") is None:
        return None
    try:
        return int(term["exitCode"])
    except (TypeError, ValueError):
        return None


def _short(code: Optional[int]) -> str:
    """`application error` out of `application error (the process exited with status 1)`."""
    return exit_code_meaning(code).split(" (")[0]


def _probe_kills(ctx: PodContext, c: Container, term: Optional[dict]) -> List[dict]:
    """Killing events for a failed liveness/startup probe that explain the last termination.

    The kubelet stops the container with the image's stop signal, so a probe kill can end with
    137, 143 or even 0 (nginx exits cleanly on SIGQUIT). With timestamps, the kill must have been
    issued before the run ended and at most the grace period (plus slack) earlier; an older probe
    kill does not explain a later crash.
    """
    kills = [e for e in ctx.events_where("Killing", c.name, init=False)
             if _PROBE_KILL.search(e.get("message") or "")]
    finished = parse_time((term or {}).get("finishedAt"))
    if not kills or finished is None:
        return kills if _exit_code(term) in (137, 143) else []
    grace = float(ctx.spec.get("terminationGracePeriodSeconds") or 30)
    explaining = []
    for e in kills:
        when = event_time(e)
        if when is None or -2 <= (finished - when).total_seconds() <= grace + 5:
            explaining.append(e)
    return explaining


def _backoff_events(ctx: PodContext, c: Container) -> List[dict]:
    out = []
    for e in ctx.events_where("BackOff", c.name, init=False):
        m = _BACKOFF_EVENT.search(e.get("message") or "")
        if m and (m.group(1) is None or m.group(1) == c.name):
            out.append(e)
    return out


def _restart_always(ctx: PodContext) -> bool:
    return (ctx.spec.get("restartPolicy") or "Always") == "Always"


def _looping(ctx: PodContext, c: Container, term: Optional[dict]) -> bool:
    reason = (c.waiting or {}).get("reason")
    if reason == "CrashLoopBackOff":
        return True
    if c.terminated and _exit_code(c.terminated) not in (0, None) and c.restarts and _backoff_events(ctx, c):
        # Between two restarts the kubelet shows `terminated: Error` for a moment before it writes
        # CrashLoopBackOff: restarts and its BackOff events already say it (seen on v1.34).
        return True
    if not c.status and _backoff_events(ctx, c):
        # An events dump or a describe paste with no container status: the kubelet's
        # "Back-off restarting failed container" events are the crash loop (corpus 104).
        return True
    if reason in OTHER_WAITING or c.restarts < CRASH_RESTARTS or not term:
        return False
    code = _exit_code(term)
    if code is None:
        return False
    return code != 0 or _restart_always(ctx)


def _running_for(ctx: PodContext, c: Container) -> Optional[float]:
    running = c.state.get("running")
    started = parse_time((running or {}).get("startedAt"))
    if started is None:
        return None
    return (ctx.view.now - started).total_seconds()


# ---- CrashLoopBackOff ---------------------------------------------------------------------------

def _crash_loop(ctx: PodContext, c: Container) -> Optional[Finding]:
    term = last_run(c)
    if not _looping(ctx, c, term):
        return None
    last_reason = (term or {}).get("reason")
    if last_reason in OOM_REASONS or last_reason in CANNOT_RUN_REASONS:
        return None  # oom_killed / cannot_run explain this loop

    code = _exit_code(term)
    ran = ran_seconds(term) if term else None
    probe_kills = _probe_kills(ctx, c, term)
    # While the container waits or runs again, its crashed run is the previous instance; a
    # container left terminated (restartPolicy OnFailure between restarts) is its own last run.
    previous = c.terminated is None
    log = ctx.view.logs(ctx.pod, c.name, previous=previous)
    missing_cmd = _shell_missing_command(log, term) if code == 127 else None
    go_panic = code == 2 and bool(log) and "panic:" in log
    backoff = _backoff_of(c)
    running_for = _running_for(ctx, c)

    restarts = (restart_phrase(c.restarts) if "restartCount" in c.status else
                "restart count not recorded" + ("" if c.status else " (no container status)"))
    evidence = [_exit_line(term, code, ran)]
    if go_panic:
        evidence.append("a panic in the log: Go programs exit with code 2 when they panic")
    if term and term.get("message"):
        evidence.append(f"termination message: {clean(term['message'])}")
    evidence.append(restarts)
    if c.waiting:
        evidence.append(waiting_line(c))
    elif running_for is not None:
        evidence.append(f"container {c.name} running again for {human_duration(running_for)}")
    backoff_events = _backoff_events(ctx, c)
    if backoff_events:
        evidence.append(ctx.describe_event(backoff_events[-1]))
    if code in (137, 143) or probe_kills:
        evidence += _kill_evidence(ctx, c, code, probe_kills)
    evidence += _log_evidence(ctx, c, log, "previous run" if previous else "last run", previous)

    stable = running_for is not None and running_for >= STABLE_SECONDS
    cause = _cause(ctx, code, last_reason, ran, missing_cmd, go_panic, probe_kills)
    if code is None:
        summary = (f"container {c.name} keeps crashing and the kubelet is backing off before "
                   f"restarting it; {restarts}")
    elif stable:
        if probe_kills:
            kind = _PROBE_KILL.search(probe_kills[-1].get("message") or "").group(1).lower()
            last = f"was killed by its failing {kind} probe (exit {code})"
        else:
            last = f"ended with exit code {code} ({_short(code)})" + (
                f" after running {human_duration(ran)}" if ran is not None else "")
        summary = (f"container {c.name} crashed repeatedly ({restart_phrase(c.restarts)}) and has been "
                   f"running again for {human_duration(running_for)}; the last run {last}")
    elif probe_kills:
        summary = f"container {c.name} keeps being restarted: {cause}; {restart_phrase(c.restarts)}"
    else:
        summary = f"container {c.name} keeps crashing: {cause}; {restart_phrase(c.restarts)}"
    return ctx.finding(
        "CrashLoopBackOff", summary, container=c.name,
        evidence=[e for e in evidence if e],
        suggestions=_suggestions(ctx, c, code, probe_kills, go_panic, previous),
        severity="warning" if stable else None,
        details={"exitCode": code, "restartCount": c.restarts, "lastReason": last_reason,
                 "ranSeconds": ran, "backOff": backoff,
                 "finishedAt": (term or {}).get("finishedAt"),
                 "signal": signal_of(code), "exitKind": exit_kind(code)})


def _exit_line(term: Optional[dict], code: Optional[int], ran: Optional[float]) -> str:
    if not term:
        return "no record of the last run's exit (lastState is empty)"
    line = f"last exit code {code} ({exit_code_meaning(code)})"
    if term.get("reason"):
        line += f", reason {clean(term['reason'])}"
    if ran is not None:
        line += f", after running {human_duration(ran)}"
    return line


def waiting_line(c: Container) -> Optional[str]:
    """`container app waiting: CrashLoopBackOff, back-off 5m0s before the next restart`."""
    backoff = _backoff_of(c)
    if c.waiting and backoff:
        return (f"container {c.name} waiting: {clean(c.waiting.get('reason'))}, back-off "
                f"{clean(backoff)} before the next restart")
    return status_line(c)


def _backoff_of(c: Container) -> Optional[str]:
    m = _BACKOFF.search((c.waiting or {}).get("message") or "")
    return m.group(1) if m else None


def _shell_missing_command(log: Optional[str], term: Optional[dict]) -> Optional[str]:
    for text in (log, (term or {}).get("message")):
        for line in reversed((text or "").splitlines()):
            m = _SHELL_NOT_FOUND.search(line)
            if m:
                return m.group(1)
    return None


def _kill_evidence(ctx: PodContext, c: Container, code: int, probe_kills: List[dict]) -> List[str]:
    if probe_kills:
        lines = [ctx.describe_event(probe_kills[-1])]
        unhealthy = [e for e in ctx.events_where("Unhealthy", c.name, init=False)
                     if _PROBE_FAILED.match(e.get("message") or "")]
        if unhealthy:
            lines.append(ctx.describe_event(unhealthy[-1]))
        lines.append(f"the kubelet stopped the container because its probe failed (exit {code}): "
                     f"the process did not crash on its own and this is not an OOM kill")
        return lines
    other = ctx.events_where("Killing", c.name, init=False)
    lines = [ctx.describe_event(other[-1])] if other else []
    if code == 137:
        lines.append("exit 137 without reason OOMKilled: killed with SIGKILL by something other than "
                     "the OOM killer (liveness probe, eviction, node shutdown or an external kill)")
    elif code == 143:
        lines.append("exit 143: the process stopped on SIGTERM, so something asked it to stop "
                     "(a probe, an eviction, a node drain or a signal from inside the container)")
    return lines


def _log_evidence(ctx: PodContext, c: Container, log: Optional[str], which: str,
                  previous: bool = True) -> List[str]:
    if log is None and ctx.view.log_skipped(ctx.pod):
        return [f"log of the {which} not read: a scan reads the logs of a few pods, the most severe "
                f"first (--logs reads them all); read it with {ctx.logs_cmd(c.name, previous=previous)}"]
    if log is None:
        return [f"log of the {which} not available here: read it with "
                f"{ctx.logs_cmd(c.name, previous=previous)}"]
    if not log.strip():
        return [f"log ({which}): empty — the process printed nothing before it exited"]
    picked = error_lines(log) or log_tail(log, 5)
    return [f"log ({which}): {clean(line)}" for line in picked]


def _owner_article(ctx: PodContext) -> str:
    if ctx.owner and ctx.owner.kind in KIND_ARTICLE:
        return KIND_ARTICLE[ctx.owner.kind]
    return "a pod with restartPolicy Always"


def _cause(ctx, code, last_reason, ran, missing_cmd, go_panic, probe_kills) -> str:
    """Why the last run ended, in plain words (a clause that reads after `keeps crashing:`)."""
    after = f" after running {human_duration(ran)}" if ran is not None else ""
    if probe_kills:
        kind = _PROBE_KILL.search(probe_kills[-1].get("message") or "").group(1).lower()
        return f"its failing {kind} probe gets it killed (exit {code}); it is not an OOM kill"
    if code == 0:
        return (f"it exits with code 0 ({clean(last_reason or 'Completed')}){after}: the process exits "
                f"on its own; {_owner_article(ctx)} expects it to keep running; use a Job for "
                f"run-to-completion work")
    if missing_cmd:
        return (f"the shell cannot find the command \"{clean(missing_cmd)}\" (exit 127, command not "
                f"found)")
    if go_panic:
        return f"the Go program panics (exit 2){after}"
    if code == 137:
        return (f"it is killed with SIGKILL (exit 137){after} by something other than the OOM killer")
    if is_crash(code):
        return (f"the process crashes with {signal_of(code)} (exit {code} = 128+{code - 128}: "
                f"{_short(code)}){after}; a crash of the process itself (native code, a library, the "
                f"runtime, the CPU it was built for), not an error the application reported")
    if signal_of(code):
        return (f"it is killed by signal {signal_of(code)} (exit {code} = 128+{code - 128}){after}: "
                f"a signal sent to it from outside the process, not an error it reported")
    return f"it exits with code {code} ({_short(code)}){after}"


# ---- suggestions ---------------------------------------------------------------------------------


def immutable_template(ctx: PodContext) -> bool:
    """A Job's pod template and a bare pod's containers cannot be edited in place."""
    return ctx.workload().split("/")[0] in ("job", "pod")


def edit_commands(ctx: PodContext, what: str = "fix the container") -> List[str]:
    workload = ctx.workload()
    if immutable_template(ctx):
        kind = workload.split("/")[0]
        return [f"kubectl get {workload} {ctx.ns_flag} -o yaml > {kind}.yaml  "
                f"# {what} in {kind}.yaml, then:",
                f"kubectl replace --force -f {kind}.yaml"]
    return [f"kubectl edit {workload} {ctx.ns_flag}"]


def _set_image(ctx: PodContext, c: Container) -> List[str]:
    if ctx.workload().startswith("job/"):
        return []
    return [f"kubectl set image {ctx.workload()} {ctx.ns_flag} {c.name}=IMAGE:TAG"]


def _command_check(ctx: PodContext, c: Container) -> str:
    sel = f'{ctx.pod_spec_path()}.containers[?(@.name=="{c.name}")]'
    return (f"kubectl get {ctx.workload()} {ctx.ns_flag} -o jsonpath='{{{sel}.command}}"
            f"{{\" \"}}{{{sel}.args}}'")


def _events_cmd(ctx: PodContext) -> str:
    return f"kubectl get events --field-selector involvedObject.name={ctx.name} {ctx.ns_flag}"


def _run_as_job(ctx: PodContext, c: Container) -> str:
    image = c.spec.get("image") or "IMAGE"
    base = ctx.workload().split("/")[-1]
    cmd = c.spec.get("command")
    tail = ""
    if cmd:
        tail = " -- " + " ".join(shlex.quote(str(x)) for x in list(cmd) + list(c.spec.get("args") or []))
    elif c.spec.get("args"):
        tail = " -- COMMAND " + " ".join(shlex.quote(str(x)) for x in c.spec["args"])
    return f"kubectl create job {base}-run {ctx.ns_flag} --image={shlex.quote(image)}{tail}"


def _suggestions(ctx, c, code, probe_kills, go_panic, previous=True) -> List[str]:
    out = [ctx.logs_cmd(c.name, previous=previous)]
    if probe_kills:
        out.append(f"kubectl probecheck {ctx.name} {ctx.ns_flag}")
        out.append(_events_cmd(ctx))
    elif code in (126, 127) or (code == 2 and not go_panic):
        out.append(_command_check(ctx, c))
        out += edit_commands(ctx, "fix command/args")
    elif code == 0:
        out.append(_run_as_job(ctx, c))
        out += edit_commands(ctx, "make the command keep running")
    elif code in (137, 143):
        out.append(_events_cmd(ctx))
        node = ctx.spec.get("nodeName")
        if node:
            out.append(f"kubectl describe node {shlex.quote(node)}")
    elif is_crash(code):
        if code == 132:
            node = ctx.spec.get("nodeName")
            out.append(fix(f"kubectl get node {shlex.quote(node) if node else 'NODE'} "
                           f"-o jsonpath='{{.status.nodeInfo.architecture}}'",
                           "the node's CPU: the image may be built for a newer one"))
        if ctx.workload().split("/")[0] in ("deployment", "statefulset", "daemonset"):
            out.append(fix(f"kubectl rollout undo {ctx.workload()} {ctx.ns_flag}",
                           "if the crash started with the last rollout"))
        out += _set_image(ctx, c)
    else:
        out += _set_image(ctx, c)
        out += edit_commands(ctx)
    return out


# ---- ContainerExitedSIGKILL ----------------------------------------------------------------------

def _sigkill(ctx: PodContext, c: Container) -> Optional[Finding]:
    term = last_run(c)
    if not term or _exit_code(term) != 137 or term.get("reason") in OOM_REASONS:
        return None
    if term.get("reason") in CANNOT_RUN_REASONS or _probe_kills(ctx, c, term):
        return None  # the probe analyzer explains a liveness/startup kill
    ran = ran_seconds(term)
    where = "previous run" if c.terminated is None else "last run"
    evidence = [_exit_line(term, 137, ran)]
    if term.get("finishedAt") and parse_time(term["finishedAt"]):
        evidence[0] += f"; finished {age(term['finishedAt'], ctx.view.now)} ago"
    evidence.append(restart_phrase(c.restarts))
    killing = ctx.events_where("Killing", c.name, init=False)
    if killing:
        evidence.append(ctx.describe_event(killing[-1]))
    deleting = (ctx.pod.get("metadata") or {}).get("deletionTimestamp")
    if deleting:
        grace = ctx.spec.get("terminationGracePeriodSeconds", 30)
        evidence.append(f"the pod is being deleted (since {clean(deleting)}): the kubelet sends SIGKILL "
                        f"to a process still running {grace}s after SIGTERM")
    evidence += _log_evidence(ctx, c, ctx.view.logs(ctx.pod, c.name, previous=c.terminated is None),
                              where, c.terminated is None)
    suggestions = [_events_cmd(ctx)]
    node = ctx.spec.get("nodeName")
    if node:
        suggestions.append(f"kubectl describe node {shlex.quote(node)}")
    suggestions.append(ctx.logs_cmd(c.name, previous=c.terminated is None))
    summary = (f"container {c.name} was killed with SIGKILL (exit 137, reason "
               f"{clean(term.get('reason') or 'unknown')}) by something other than the OOM killer")
    # Recovered: running and ready again since that one kill. History worth knowing, not a problem
    # now (severity info: the pod is healthy; kubernetes/kubernetes#122256 is such a near miss).
    recovered = bool(c.state.get("running")) and bool(c.status.get("ready")) and not deleting \
        and c.restarts <= 1
    if recovered:
        since = (c.state.get("running") or {}).get("startedAt")
        summary += ("; it has been running and ready since"
                    + (f" {clean(since)}" if since else "") + ", so this is history")
    return ctx.finding(
        "ContainerExitedSIGKILL", summary, severity="info" if recovered else None,
        container=c.name, evidence=evidence, suggestions=suggestions,
        details={"exitCode": 137, "restartCount": c.restarts, "lastReason": term.get("reason"),
                 "ranSeconds": ran, "finishedAt": term.get("finishedAt")})
