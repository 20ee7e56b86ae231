"""ContainerCannotRun: the runtime cannot create or start the container's process.

Detected from status (events expire): the container waits with `RunContainerError`,
`CreateContainerError` or `StartError`, or its current or last state is `terminated` with reason
`StartError` (containerd, exit 128) or `ContainerCannotRun` (dockershim; exit 127 for a missing
command, 126 for a non-executable one). The runtime's message says why:

    failed to create containerd task: failed to create shim task: OCI runtime create failed: runc
    create failed: unable to start container process: exec: "pythn": executable file not found in
    $PATH: unknown

(older docker: `OCI runtime create failed: container_linux.go:380: starting container process
caused: exec: "pythn": executable file not found in $PATH: unknown`, older still with the inner
quotes escaped). The `Failed` events repeat it as `Error: ...`.

Since runc 1.0 an exec that fails *after* the container started (a binary for another CPU
architecture, a script whose `#!` interpreter is missing) is not a start error: the process exits
(255, or 1 on older runc) and its only log line is `exec /app/server: exec format error`
(older: `standard_init_linux.go:228: exec user process caused: exec format error`). That crash loop
is this class too: its cause is the image, not the application.

The status does not always carry the start error: after the first attempt the container often only
waits in `CrashLoopBackOff` with no termination record (or the status was not captured at all), and
the runtime's words survive only in the `Failed` events (`Error: failed to start container "x":
Error response from daemon: OCI runtime create failed: ...` from docker, `Error: failed to create
containerd task: ...` from containerd, `Error: container create failed: ...` from CRI-O). Those
events are read whenever the container is not running and nothing else explains it.

`CreateContainerConfigError` with `container has runAsNonRoot and image will run as root` (or `image
has non-numeric user (app), cannot verify user is non-root`, or `container's runAsUser breaks
non-root policy`; pkg/kubelet/kuberuntime/security_context_others.go, with the `(pod: "...",
container: x)` suffix since 1.2x) is this class too, cause RunAsRoot: the kubelet refuses to create a
container that would run as root when the pod demands non-root.

Before any container, the runtime creates the pod's sandbox (its network namespace, set up by the
CNI plugin). When that fails the containers only wait in `ContainerCreating` and the kubelet's words
are in Warning `FailedCreatePodSandBox` events (often beside `SandboxChanged`, "Pod sandbox
changed, it will be killed and re-created"): cause SandboxCreationFailed, one finding for the pod,
naming the CNI plugin when the message does. The forms, by runtime:

    dockershim: Failed to create pod sandbox: rpc error: code = Unknown desc = [failed to set up
      sandbox container "ID" network for pod "kafka-0": networkPlugin cni failed to set up pod
      "kafka-0_default" network: netplugin failed with no error message, ...]   (kubernetes#92903)
    containerd: ... desc = failed to setup network for sandbox "ID": plugin type="calico" failed
      (add): Unauthorized                                                        (easzlab/kubeasz#1332)
    CRI-O:      ... desc = failed to create pod network sandbox k8s_..._0(ID): cni config
      uninitialized                                                              (cri-o/cri-o#1523)
                ... desc = failed to get network status for pod sandbox k8s_..._0(ID): error
      checking pod NS_NAME for CNI network "crio": ...                          (cri-o/cri-o#7008)
"""

import json
import re
from typing import Dict, List, Optional, Tuple

from ...findings import Finding
from ...sanitize import clean
from ...view import event_time
from ..base import Container, PodContext, fix, quote, status_line
from .exits import exit_code_meaning

WAITING_REASONS = ("RunContainerError", "CreateContainerError", "StartError", "ContainerCannotRun")
TERMINATED_REASONS = ("StartError", "ContainerCannotRun")

_EXE_NOT_FOUND = [
    re.compile(r'exec: "([^"]*)": executable file not found in \$PATH'),
    re.compile(r'exec: "([^"]+)": stat [^:]+: no such file or directory'),
    re.compile(r'exec: "([^"]+)": no such file or directory'),
    re.compile(r"executable file `([^`]+)` not found"),                 # crun
    re.compile(r"exec failed: ([^:\s]+): no such file or directory"),
]
_PERMISSION = [
    re.compile(r'exec: "([^"]+)": permission denied'),
    re.compile(r"exec(?:ve)? (?:failed: )?`?([^`:\s]+)`?: permission denied"),
]
_MOUNT = re.compile(r"error mounting|failed to mkdir|mount(?:ing)? |mountpoint|not a directory|"
                    r"read-only file system|Are you trying to mount|rootfs_linux|subPath|"
                    r"failed to prepare", re.I)
_MOUNT_TARGET = [
    re.compile(r'to rootfs at "([^"]+)"'),
    re.compile(r'failed to mkdir "([^"]+)"'),
    re.compile(r'mount(?:ing)? "?(/[^"\s:]+)"? to rootfs'),
    re.compile(r'at "[^"]*/merged(/[^"]+)"'),
]
_NAME_CONFLICT = re.compile(r"is already in use by container|failed to reserve container name|"
                            r"is reserved for", re.I)
_NO_COMMAND = re.compile(r"no command specified", re.I)
# `Failed` events that belong to another class (image pulls, missing ConfigMaps/Secrets).
_OTHER_CLASS = re.compile(r"^Error: (?:ErrImagePull|ImagePullBackOff|InvalidImageName|ErrImageNeverPull)$|"
                          r'^Error: (?:configmap|secret) "[^"]+" not found|couldn\'t find key', re.I)

# `Failed` events that carry a runtime start error (docker, containerd, CRI-O, crun; any release).
_START_ERROR = re.compile(r"executable file not found|OCI runtime (?:create|start|exec) failed|"
                          r"failed to create containerd task|failed to create shim|exec format error|"
                          r"failed to start container|runc create failed|starting container process|"
                          r"container create failed|container creation error|cannot start container|"
                          r"exec user process caused|"
                          r"unable to start container process|no command specified", re.I)
# The kubelet's runAsNonRoot refusals (CreateContainerConfigError).
_NON_ROOT = re.compile(r"container has runAsNonRoot and image will run as root|"
                       r"image has non-numeric user \(([^)]*)\), cannot verify user is non-root|"
                       r"container's runAsUser breaks non-root policy", re.I)
_ERROR_PREFIX = re.compile(r"^\s*Error:\s*", re.I)

# The one line a process that never got going leaves in its log (runc >= 1.1, then older).
_LOG_EXEC = re.compile(r"^\s*(?:exec (\S+?):|(?:standard_init_linux|init_linux)\.go:\d+: exec user process "
                       r"caused:?)\s*\"?(exec format error|no such file or directory|permission denied)\"?\s*$",
                       re.M)


def _unescape(text: str) -> str:
    """Docker's nested messages escape inner quotes (`caused \\"exec: \\\\\\"x\\\\\\"...`)."""
    previous = None
    while previous != text:
        previous = text
        text = text.replace('\\"', '"').replace("\\\\", "\\")
    return text


def _first_match(patterns: List["re.Pattern"], text: str) -> Optional["re.Match"]:
    """The match of the first of `patterns` (a table, most specific first) found in `text`."""
    return next((m for m in (p.search(text) for p in patterns) if m), None)


def classify(message: str) -> Tuple[str, Optional[str]]:
    """(cause, what it names) from the runtime's message: the executable or the mount path."""
    text = _unescape(message or "")
    m = _NON_ROOT.search(text)
    if m:
        return "RunAsRoot", m.group(1)
    if _NAME_CONFLICT.search(text):
        return "NameConflict", None
    if re.search(r"exec format error", text, re.I):
        exe = re.search(r'exec: "([^"]+)"', text) or re.search(r"exec (\S+): exec format error", text)
        return "ExecFormatError", exe.group(1) if exe else None
    for cause, patterns in (("ExecutableNotFound", _EXE_NOT_FOUND), ("PermissionDenied", _PERMISSION)):
        m = _first_match(patterns, text)
        if m:
            return cause, m.group(1)
    if _NO_COMMAND.search(text):
        return "NoCommand", None
    if _MOUNT.search(text):
        m = _first_match(_MOUNT_TARGET, text)
        return "MountError", m.group(1) if m else None
    if re.search(r"permission denied", text, re.I):
        return "PermissionDenied", None
    return "Other", None


def classify_log(log: Optional[str]) -> Optional[Tuple[str, Optional[str]]]:
    """A crashed container whose whole log is the runtime's exec failure: (cause, executable)."""
    lines = [line for line in (log or "").splitlines() if line.strip()]
    if not lines or len(lines) > 3:
        return None
    for line in lines:
        m = _LOG_EXEC.match(line)
        if m:
            kind = m.group(2)
            cause = {"exec format error": "ExecFormatError", "no such file or directory": "ExecutableNotFound",
                     "permission denied": "PermissionDenied"}[kind]
            return cause, m.group(1)
    return None


def _runtime_message(c: Container) -> Tuple[Optional[str], Optional[dict], Optional[str]]:
    """(message, the terminated state it came from, the waiting reason) for a start failure."""
    waiting = c.waiting or {}
    reason = waiting.get("reason")
    for term in (c.terminated, c.last_terminated):
        if term and term.get("reason") in TERMINATED_REASONS:
            if c.terminated is term or reason in WAITING_REASONS or reason == "CrashLoopBackOff":
                return term.get("message") or waiting.get("message"), term, reason
    if reason in WAITING_REASONS:
        return waiting.get("message"), None, reason
    return None, None, None


def _code(term: Optional[dict]) -> Optional[int]:
    try:
        return int((term or {}).get("exitCode"))
    except (TypeError, ValueError):
        return None


def start_error_events(ctx: PodContext, c: Container) -> List[dict]:
    """`Failed` events in which the runtime says it could not start this container."""
    return [e for e in ctx.events_where("Failed", c.name, init=c.init)
            if _ERROR_PREFIX.match(_event_text(e)) and _START_ERROR.search(_event_text(e))
            and not _OTHER_CLASS.search(_event_text(e))]


def non_root_events(ctx: PodContext, c: Container) -> List[dict]:
    """`Failed` events in which the kubelet refuses to run this container as root."""
    return [e for e in ctx.events_where("Failed", c.name, init=c.init)
            if _NON_ROOT.search(_event_text(e))]


def _strip_error(text: str) -> str:
    return _ERROR_PREFIX.sub("", text, count=1)


def _start_failed_by_events(c: Container) -> bool:
    """Nothing in the status contradicts a start failure: no exit of the app's own."""
    term = c.last_terminated or c.terminated
    if term is None:
        return True
    return _code(term) in (126, 127, 128, None) or term.get("reason") in TERMINATED_REASONS


# The sandbox's network: the CNI plugin failed (every runtime's wording, any release).
_SANDBOX_NETWORK = re.compile(r"network for (?:pod|sandbox)|networkPlugin cni|CNI network|cni config uninitiali[sz]ed|"
                              r"plugin type=|failed to find plugin|setup network|set up pod|AddNetwork|"
                              r"No networks found in|network plugin is not ready", re.I)
_CNI_NAMED = [
    re.compile(r'plugin type="([^"]+)"'),
    re.compile(r'failed to find plugin "([^"]+)"'),
    re.compile(r'CNI network "([^"]+)"'),
]
_CNI_KNOWN = re.compile(r"\b(calico|cilium|flannel|weave|multus|antrea|canal|kube-ovn|ovn-kubernetes|kube-router|"
                        r"aws-cni|azure-vnet|amazon-vpc-cni|romana|contiv)\b", re.I)
# Events after which the sandbox exists: the containers are being created or run.
_SANDBOX_DONE = ("Created", "Started", "Pulling", "Pulled")


def sandbox_events(ctx: PodContext) -> List[dict]:
    """The FailedCreatePodSandBox Warning events still in force (none newer says a container was made)."""
    failed = [e for e in ctx.events() if e.get("reason") == "FailedCreatePodSandBox"]
    if not failed:
        return []
    last = max((event_time(e) for e in failed if event_time(e)), default=None)
    for ev in ctx.events():
        when = event_time(ev)
        if ev.get("reason") in _SANDBOX_DONE and last and when and when > last:
            return []
    return failed


def _cni_name(message: str) -> Optional[str]:
    m = _first_match(_CNI_NAMED, message)
    if m:
        return m.group(1)
    m = _CNI_KNOWN.search(message)
    return m.group(1).lower() if m else None


_SANDBOX_PREFIXES = [
    re.compile(r'network(?:Plugin)? cni failed to set up pod "[^"]*" network:\s*', re.I),    # dockershim
    re.compile(r'plugin type="[^"]*"(?: name="[^"]*")? failed \(add\):\s*', re.I),         # containerd, CRI-O
    re.compile(r'(?:to|for) CNI network "[^"]*":\s*', re.I),                                     # CRI-O
    re.compile(r'failed to setup network for sandbox "[^"]*":\s*', re.I),                   # containerd
    re.compile(r"(?:failed to create pod network sandbox|failed to get network status for pod sandbox) "
               r"\S+\([0-9a-f]+\):\s*", re.I),                                              # CRI-O
]


def sandbox_error(message: str) -> str:
    """What the plugin (or runtime) said, without the layers that wrap it."""
    text = re.sub(r"^(?:\(combined from similar events\):\s*)?Failed (?:to )?create pod sandbox:\s*", "",
                  message or "", flags=re.I)
    text = re.sub(r"^rpc error: code = \w+ desc = ", "", text).strip()
    if text.startswith("[") and text.endswith("]"):
        text = text[1:-1]
    text = re.split(r",\s*failed to (?:clean up|teardown)", text, maxsplit=1)[0]
    for pattern in _SANDBOX_PREFIXES:
        found = list(pattern.finditer(text))
        if found:
            return text[found[-1].end():].strip() or text
    return text


def _sandbox(ctx: PodContext) -> List[Finding]:
    """The pod's sandbox cannot be created: one finding for the pod, before any container."""
    if any(c.state.get("running") for c in ctx.containers()) or \
            ctx.status.get("phase") in ("Running", "Succeeded", "Failed"):
        return []
    events = sandbox_events(ctx)
    if not events:
        return []
    message = _event_text(events[-1])
    said = sandbox_error(message)
    if len(said) > 240:
        said = said[:239] + "…"
    network = bool(_SANDBOX_NETWORK.search(message))
    cni = next((n for n in (_cni_name(_event_text(e)) for e in reversed(events)) if n), None) if network else None
    node = ctx.spec.get("nodeName") or ctx.status.get("hostIP")
    node_name = ctx.spec.get("nodeName")
    if network:
        plugin = f"the CNI plugin ({clean(cni)})" if cni else "the CNI plugin"
        why = f"{plugin} failed to set up the pod's network" + (f": {clean(said)}" if said else "")
    else:
        why = clean(said) if said else "the runtime refused it"
    summary = f"the runtime cannot create the pod's sandbox: {why}"
    evidence = [status_line(c) for c in ctx.containers() if c.waiting]
    evidence = [e for e in evidence if e]
    evidence.append(ctx.describe_event(events[-1]))
    changed = [e for e in ctx.events() if e.get("reason") == "SandboxChanged"]
    if changed:
        evidence.append(ctx.describe_event(changed[-1]))
    if node:
        evidence.append(f"node {clean(node)}")
    suggestions = [f"kubectl describe pod {quote(ctx.name)} {ctx.ns_flag}"]
    examples = clean(cni) if cni else "calico-node, cilium, kube-flannel, ..."
    if node_name and network:
        suggestions.append(fix(f"kubectl get pods -A -o wide --field-selector spec.nodeName={quote(node_name)}",
                               f"is the CNI's pod on that node ({examples}) running and ready? "
                               "its logs say why it fails"))
    elif network:
        suggestions.append(fix("kubectl get pods -n kube-system -o wide",
                               "is the CNI daemonset's pod on the pod's node running and ready?"))
    elif node_name:
        suggestions.append(fix(f"kubectl get pods -A -o wide --field-selector spec.nodeName={quote(node_name)}",
                               "do other pods start on that node? a sandbox failure of the node's runtime "
                               "(its pause image, its cgroups) stops them all"))
    if network and node_name:
        suggestions.append(fix(f"kubectl debug node/{quote(node_name)} -it --profile=sysadmin --image=busybox:1.36 "
                               f"-- ls /host/etc/cni/net.d /host/opt/cni/bin",
                               "the CNI configuration and plugins the runtime reads on that node"))
    details = {"message": message, "cni": cni, "network": network, "node": node_name}
    return [ctx.finding("ContainerCannotRun", summary, cause="SandboxCreationFailed", evidence=evidence,
                        suggestions=suggestions, details=details)]


def analyze(ctx: PodContext) -> List[Finding]:
    findings = _sandbox(ctx)
    for c in ctx.containers():
        if c.state.get("running"):
            continue  # whatever failed to start before, it runs now
        waiting = c.waiting or {}
        if waiting.get("reason") in (None, "CreateContainerConfigError") and \
                (_NON_ROOT.search(waiting.get("message") or "") or non_root_events(ctx, c)):
            events = non_root_events(ctx, c)
            message = waiting.get("message") or (_strip_error(_event_text(events[-1])) if events else "")
            cause, target = classify(message)
            findings.append(_finding(ctx, c, cause, target, message, None, waiting.get("reason"),
                                     events, None))
            continue
        message, term, waiting_reason = _runtime_message(c)
        if message is not None or term is not None or waiting_reason:
            cause, target = classify(message or "")
            events = [e for e in ctx.events_where("Failed", c.name, init=c.init)
                      if _ERROR_PREFIX.match(_event_text(e)) and not _OTHER_CLASS.search(_event_text(e))]
            if cause == "Other" and events:
                cause, target = classify(_event_text(events[-1]))
                message = message or _strip_error(_event_text(events[-1]))
            findings.append(_finding(ctx, c, cause, target, message, term, waiting_reason, events, None))
            continue
        events = start_error_events(ctx, c)
        if events and _start_failed_by_events(c):
            # The status says only CrashLoopBackOff (or nothing): the events keep the runtime's words.
            message = _strip_error(_event_text(events[-1]))
            cause, target = classify(message)
            findings.append(_finding(ctx, c, cause, target, message, c.last_terminated,
                                     waiting.get("reason"), events, None))
            continue
        crashed = _crashed_exec(ctx, c)
        if crashed:
            cause, target, term, log = crashed
            findings.append(_finding(ctx, c, cause, target, None, term, (c.waiting or {}).get("reason"),
                                     [], log))
    return findings


def _event_text(ev: dict) -> str:
    """The message without the aggregator's `(combined from similar events): ` prefix."""
    return re.sub(r"^\(combined from similar events\):\s*", "", ev.get("message") or "")


def _crashed_exec(ctx: PodContext, c: Container):
    """A crash loop whose log is only the exec failure (exec format error, missing interpreter)."""
    term = c.last_terminated if (c.waiting or {}).get("reason") == "CrashLoopBackOff" else \
        (c.terminated or c.last_terminated)
    code = _code(term)
    # A failed exec exits 1 (older runc), 255 (runc >= 1.1) or 126/127 (some shells, crun).
    if not term or code not in (1, 126, 127, 255) or term.get("reason") == "OOMKilled":
        return None
    log = ctx.view.logs(ctx.pod, c.name, previous=not c.terminated)
    found = classify_log(log)
    if not found:
        return None
    return found[0], found[1], term, log


# ---- words ---------------------------------------------------------------------------------------

def _explain(cause: str, target: Optional[str], from_log: bool, arch: Optional[str],
             message: Optional[str]) -> str:
    if cause == "ExecutableNotFound":
        if from_log:
            return (f'its entrypoint "{clean(target)}" or the interpreter on its #! line does not exist in the '
                    f"image (a script with Windows line endings fails this way too)" if target else
                    "its entrypoint or the interpreter on its #! line does not exist in the image")
        if target == "":
            return ("its command is an empty string (an empty entry in command/args, often a template "
                    "value that was not set)")
        if target and "/" in target:
            return f'"{clean(target)}" does not exist in the image'
        return f'the command "{clean(target)}" is not in the image\'s $PATH' if target else \
            "its command is not in the image"
    if cause == "PermissionDenied":
        return (f'"{clean(target)}" is not executable (permission denied)' if target else
                "the runtime was denied permission (an entrypoint without the execute bit, or a mount)")
    if cause == "ExecFormatError":
        node = f"the node's {arch}" if arch else "the node"
        return f"the image is built for another CPU architecture than {node} (exec format error)"
    if cause == "MountError":
        detail = _mount_detail(message)
        what = f'mounting "{clean(target)}" failed' if target else "a volume mount failed"
        return what + (f": {clean(detail)}" if detail else "")
    if cause == "NoCommand":
        return "the image has no ENTRYPOINT or CMD and the pod sets no command"
    if cause == "RunAsRoot":
        if target:
            return (f"its securityContext demands runAsNonRoot, and the image's USER is a name "
                    f"(\"{clean(target)}\"), not a number, so the kubelet cannot verify it is not root "
                    f"and refuses to create the container")
        return ("its securityContext demands runAsNonRoot, but the image runs as root (its USER is 0 "
                "or unset), so the kubelet refuses to create the container")
    if cause == "NameConflict":
        return "the runtime still holds an old container with the same name (this usually clears by itself)"
    short = _last_clause(message)
    return f"the runtime refused it: {clean(short)}" if short else "the runtime refused it"


def _mount_detail(message: Optional[str]) -> Optional[str]:
    text = _unescape(message or "")
    if "Are you trying to mount a directory onto a file" in text:
        return "a directory and a file are mounted onto each other (check subPath and the target path)"
    for phrase in ("read-only file system", "not a directory", "no such file or directory",
                   "permission denied", "file exists"):
        if phrase in text:
            return phrase
    return None


def _last_clause(message: Optional[str]) -> str:
    text = re.sub(r":\s*unknown\s*$", "", _unescape(message or "").strip())
    parts = [p.strip() for p in text.split(": ") if p.strip()]
    return parts[-1] if parts else ""


def _finding(ctx: PodContext, c: Container, cause: str, target: Optional[str], message: Optional[str],
             term: Optional[dict], waiting_reason: Optional[str], events: List[dict],
             log: Optional[str]) -> Finding:
    node = ctx.spec.get("nodeName")
    arch = _node_arch(ctx, node) if cause == "ExecFormatError" else None
    kind = "init container" if c.init else "container"
    summary = f"{kind} {c.name} cannot start: {_explain(cause, target, log is not None, arch, message)}"

    evidence = []
    line = status_line(c)
    if line:
        evidence.append(line)
    quoted = [(c.waiting or {}).get("message") or "", (c.terminated or {}).get("message") or ""]
    if term is not None and term is not c.terminated:
        code = _code(term)
        meaning = "the process could not be executed" if log is not None else exit_code_meaning(code)
        said = term.get("message") or ""
        repeated = not said or any(said in q for q in quoted)
        evidence.append(f"last state: {term.get('reason', '?')}, exit code {code} ({meaning})"
                        + ("" if repeated else f" — {clean(said)}"))
        quoted.append(said)
    if events:
        line = ctx.describe_event(events[-1])
        said = _strip_error(_event_text(events[-1]))
        if said and any(said in q for q in quoted if q):
            line = line.split(": ", 1)[0] + ": the same error at every attempt"
        evidence.append(line)
    elif message and not any(message in q for q in quoted if q):
        evidence.append(f"runtime error: {clean(message)}")
    if log is not None:
        evidence += [f"previous log: {clean(l)}" for l in log.splitlines() if l.strip()][:3]
    command, args = c.spec.get("command"), c.spec.get("args")
    if cause == "RunAsRoot":
        evidence += _non_root_settings(ctx, c)
    else:
        evidence.append(f"command: {clean(_json(command))}" if command else
                        "command: not set (the image's ENTRYPOINT runs)")
        if args:
            evidence.append(f"args: {clean(_json(args))}")
    if cause == "ExecFormatError":
        evidence.append(f"image: {clean(c.spec.get('image'))}")
        if arch:
            evidence.append(f"node {clean(node)} is {clean(arch)}")
    if cause == "MountError":
        evidence += _mounts(c)
    if c.restarts:
        evidence.append(f"restarted {c.restarts} time{'s' if c.restarts != 1 else ''}")

    details: Dict = {"executable": target if cause in ("ExecutableNotFound", "PermissionDenied",
                                                       "ExecFormatError") else None,
                     "command": command, "args": args,
                     "waitingReason": waiting_reason,
                     "exitCode": _code(term) if term else None}
    if cause == "MountError" and target:
        details["mountPath"] = target
    if message:
        details["message"] = message
    if arch:
        details["nodeArchitecture"] = arch
    severity = "warning" if cause == "NameConflict" else None
    return ctx.finding("ContainerCannotRun", summary, container=c.name, cause=cause, severity=severity,
                       evidence=evidence, suggestions=_suggestions(ctx, c, cause, target, node),
                       details=details)


def _non_root_settings(ctx: PodContext, c: Container) -> List[str]:
    """Where runAsNonRoot / runAsUser are set (container level wins over the pod's)."""
    lines = []
    for where, sc in ((f"container {c.name}", c.spec.get("securityContext") or {}),
                      ("pod", ctx.spec.get("securityContext") or {})):
        bits = [f"{k}: {clean(_json(sc[k]))}" for k in ("runAsNonRoot", "runAsUser") if k in sc]
        if bits:
            lines.append(f"{where} securityContext: " + ", ".join(bits))
    return lines


def _json(value) -> str:
    return json.dumps(value)


def _mounts(c: Container) -> List[str]:
    lines = []
    for m in c.spec.get("volumeMounts") or []:
        if str(m.get("mountPath", "")).startswith("/var/run/secrets/kubernetes.io"):
            continue
        lines.append(f"volumeMount {m.get('name')} → {m.get('mountPath')}"
                     + (f" (subPath {m.get('subPath')})" if m.get("subPath") else "")
                     + (" read-only" if m.get("readOnly") else ""))
    return [clean(l) for l in lines[:4]]


def _node_arch(ctx: PodContext, node: Optional[str]) -> Optional[str]:
    if not node:
        return None
    obj = ctx.view.get("Node", None, node)
    info = ((obj or {}).get("status") or {}).get("nodeInfo") or {}
    return info.get("architecture") or ((obj or {}).get("metadata") or {}).get("labels", {}).get(
        "kubernetes.io/arch")


# ---- suggestions ---------------------------------------------------------------------------------


def _field(ctx: PodContext, c: Container, what: str) -> str:
    group = "initContainers" if c.init else "containers"
    path = f'{ctx.pod_spec_path()}.{group}[?(@.name=="{c.name}")].{what}'
    return f"kubectl get {ctx.workload()} {ctx.ns_flag} -o jsonpath='{{{path}}}'"


def _patch_command(ctx: PodContext, c: Container, command: List[str]) -> str:
    group = "initContainers" if c.init else "containers"
    return ctx.template_patch({group: [{"name": c.name, "command": command}]})


def _debug(ctx: PodContext, c: Container) -> str:
    if c.init:
        # A copy of the pod would run the failing init container first and never get to a shell.
        image = c.spec.get("image") or "IMAGE"
        return fix(f"kubectl run {quote(c.name + '-debug')} {ctx.ns_flag} -it --rm --restart=Never "
                   f"--image={quote(image)} --command -- sh", "look inside the image")
    return fix(f"kubectl debug {quote(ctx.name)} {ctx.ns_flag} -it --profile=general "
               f"--copy-to={quote(ctx.name + '-debug')} --container={quote(c.name)} -- sh",
               "look inside the image in a copy of the pod; delete the copy afterwards")


def _suggestions(ctx: PodContext, c: Container, cause: str, target: Optional[str],
                 node: Optional[str]) -> List[str]:
    out = []
    if cause in ("ExecutableNotFound", "PermissionDenied", "NoCommand"):
        out.append(_field(ctx, c, "command"))
        if cause == "PermissionDenied" and target and "/" in target:
            out.append(fix(_patch_command(ctx, c, ["sh", target]), "or chmod +x it in the image"))
        else:
            out.append(_patch_command(ctx, c, ["CORRECT", "COMMAND"]))
        out.append(_debug(ctx, c))
    elif cause == "ExecFormatError":
        out.append(f"kubectl get node {quote(node) if node else 'NODE'} "
                   f"-o jsonpath='{{.status.nodeInfo.architecture}}'")
        image = c.spec.get("image") or "IMAGE"
        out.append(fix(f"docker buildx imagetools inspect {quote(image)}", "which platforms the image has"))
        if not ctx.workload().startswith(("job/", "pod/")):
            out.append(fix(f"kubectl set image {ctx.workload()} {ctx.ns_flag} {c.name}=IMAGE:TAG",
                           "a tag built for the node's architecture "
                           "(docker buildx build --platform linux/ARCH)"))
    elif cause == "MountError":
        out.append(_field(ctx, c, "volumeMounts"))
        out.append(f"kubectl get {ctx.workload()} {ctx.ns_flag} -o jsonpath='{{{ctx.pod_spec_path()}.volumes}}'")
        if target and node:
            out.append(fix(f"kubectl debug node/{quote(node)} -it --profile=general --image=busybox:1.36 "
                           f"-- ls -ld {quote('/host' + target)}", "what is at that path on the node"))
    elif cause == "RunAsRoot":
        group = "initContainers" if c.init else "containers"
        out.append(_field(ctx, c, "securityContext"))
        out.append(fix(ctx.template_patch({group: [{"name": c.name, "securityContext": {
                       "runAsNonRoot": True, "runAsUser": 1000}}]}),
                       "run it as a non-root UID (1000 is a guess: one the image's files allow), "
                       "or build the image with a numeric USER"))
    elif cause == "NameConflict":
        out.append(fix(f"kubectl get pod {quote(ctx.name)} {ctx.ns_flag} -w",
                       "usually recovers within a minute"))
        if ctx.owned():
            out.append(fix(f"kubectl delete pod {quote(ctx.name)} {ctx.ns_flag}",
                           f"only if it persists: the {ctx.workload().split('/')[0]} recreates it"))
    else:
        out.append(f"kubectl describe pod {quote(ctx.name)} {ctx.ns_flag}")
        out.append(_debug(ctx, c))
    return out
