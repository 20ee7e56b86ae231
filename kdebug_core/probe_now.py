"""`kubectl probecheck --probe-now`: ask an HTTP probe's endpoint once, through the API server.

The kubelet probes `http://POD_IP:PORT/PATH` from the node. The closest a client can get without
exec is the API server's pod proxy, `GET /api/v1/namespaces/NS/pods/NAME:PORT/proxy/PATH`
(`https:NAME:PORT` for HTTPS probes), which dials the same pod IP and port. What comes back is put
next to what the kubelet's events say: `probe now: GET /healthz → 404 (port 80, 9ms)`.

Rules: off by default; live clusters only (never with -f); GET only; one request per probe (the
same endpoint asked by two probes is asked once); a short timeout; at most MAX_REQUESTS per run,
and in scans only probes that fail or belong to containers that are not ready, plus a few others.
A 403 on pods/proxy stops all further checks with one clear note. Needs RBAC `get` on
`pods/proxy`, which the shipped read-only roles do not grant unless asked.
"""

import json
import time
from dataclasses import dataclass
from typing import Optional
from urllib.parse import quote

from .errors import ClusterError
from .sanitize import clean

MAX_REQUESTS = 20          # proxy GETs per run, whatever the scope
SCAN_HEALTHY_CHECKS = 5    # in scans, probes that look fine are checked this many times at most
MIN_TIMEOUT = 5.0          # seconds; the probe's own timeoutSeconds + 2 when that is longer

_ATTR = "_kdebug_probe_now"


@dataclass
class Outcome:
    path: str
    port: int
    status: Optional[int] = None     # the app's HTTP status, when it answered
    cause: Optional[str] = None      # HTTPStatus, ConnectionRefused, Timeout, Unreachable; None = OK
    detail: str = ""                 # what the API server said when the app did not answer
    elapsed: Optional[float] = None  # seconds
    slow: bool = False               # answered, but later than the probe's timeoutSeconds
    skipped: str = ""                # why no request was sent

    def ok(self) -> bool:
        return self.cause is None and self.status is not None

    def evidence(self, said: str = "") -> str:
        if self.skipped:
            return f"probe now: GET {clean(self.path)} not sent ({clean(self.skipped)})"
        if self.status is not None and self.cause in (None, "HTTPStatus"):
            result = str(self.status)
        else:
            result = {"ConnectionRefused": "connection refused", "Timeout": "no answer (timed out)",
                      "Unreachable": "not reached"}.get(self.cause or "", "not checked")
        bits = [f"port {self.port}"]
        if self.elapsed is not None:
            bits.append(f"{self.elapsed * 1000:.0f}ms")
        if self.slow:
            bits.append("slower than the probe's timeoutSeconds")
        notes = [", ".join(bits)] + [clean(t) for t in (self.detail, said) if t]
        return f"probe now: GET {clean(self.path)} → {result} ({'; '.join(notes)})"

    def to_dict(self) -> dict:
        d = {"path": self.path, "port": self.port, "status": self.status, "cause": self.cause}
        if self.skipped:
            d["skipped"] = self.skipped
        if self.elapsed is not None:
            d["seconds"] = round(self.elapsed, 3)
        if self.detail:
            d["detail"] = self.detail
        return d


class Session:
    """Per-run state: requests sent, answers cached, and whether the proxy is allowed at all."""

    def __init__(self, view):
        self.view = view
        self.sent = 0
        self.healthy_checked = 0
        self.forbidden = False
        self.unreachable = False
        self.limit_noted = False
        self.cache = {}

    def check(self, ctx, container: str, probe, port: Optional[int], port_status: str,
              important: bool = True) -> Optional[Outcome]:
        view = self.view
        if self.forbidden or self.unreachable or port is None or port_status == "missing-name":
            return None
        pod = ctx.pod
        status = pod.get("status") or {}
        if status.get("phase") != "Running" or not (status.get("podIP") or status.get("podIPs")):
            return None
        cs = next((c for c in status.get("containerStatuses") or [] if c.get("name") == container), {})
        state = cs.get("state") or {}
        if not state.get("running"):
            # Nothing to ask: a container waiting to restart only refuses the connection.
            what = (state.get("waiting") or state.get("terminated") or {}).get("reason") or "not started"
            return Outcome(path=_path(probe), port=port,
                           skipped=f"container {container} is not running now: {what}")
        if view.options.scan and not important:
            if self.healthy_checked >= SCAN_HEALTHY_CHECKS:
                return None
        key = (ctx.namespace, ctx.name, probe.scheme, port, probe.path)
        if key in self.cache:
            return self.cache[key]
        if self.sent >= MAX_REQUESTS:
            if not self.limit_noted:
                self.limit_noted = True
                view.note(f"--probe-now checks at most {MAX_REQUESTS} probes per run; the others "
                          f"were not checked")
            return None
        if not important:
            self.healthy_checked += 1
        self.sent += 1
        outcome = self._get(ctx.namespace, ctx.name, probe, port)
        self.cache[key] = outcome
        return outcome

    def _get(self, namespace: str, name: str, probe, port: int) -> Optional[Outcome]:
        target = f"{name}:{port}" if probe.scheme != "HTTPS" else f"https:{name}:{port}"
        path = _path(probe)
        url = (f"/api/v1/namespaces/{quote(namespace, safe='')}/pods/{quote(target, safe=':')}"
               f"/proxy{quote(path, safe='/?=&%:@!$,;+-._~')}")
        backend = self.view.backend
        limit = max(MIN_TIMEOUT, float(probe.timeout) + 2)
        started = time.monotonic()
        try:
            code, body = backend.raw_get(url, timeout=limit)
        except ClusterError as exc:
            self.unreachable = True
            self.view.note(f"--probe-now: the pod proxy could not be reached ({clean(str(exc))}); "
                           f"no probe was checked")
            return None
        elapsed = time.monotonic() - started
        outcome = Outcome(path=path, port=port, elapsed=elapsed)
        api_status = _api_status(body)
        if api_status is not None:
            # The API server's own answer: the request never reached the app.
            message = api_status.get("message") or ""
            if code == 403:
                self.forbidden = True
                self.view.note("--probe-now: the API server forbids the pod proxy for this user "
                               "(needs get on pods/proxy); no probe was checked: "
                               + clean(message))
                return None
            if code == 404:
                # The API server's 404 (not the app's, which has the app's body): say so rather
                # than nothing — usually the pod went away between the list and now.
                outcome.cause = "Unreachable"
                outcome.detail = (f"the API server answered 404 Not Found: {message or 'no message'}"
                                  + ("; the pod is gone since it was listed" if "not found" in
                                     message.lower() and "pods" in message.lower() else ""))
                return outcome
            low = message.lower()
            if "connection refused" in low:
                outcome.cause = "ConnectionRefused"
            elif "timeout" in low or "deadline exceeded" in low:
                outcome.cause = "Timeout"
            else:
                outcome.cause = "Unreachable"
            outcome.detail = "the API server: " + message
            return outcome
        outcome.status = code
        outcome.cause = None if 200 <= code < 400 else "HTTPStatus"
        outcome.slow = elapsed > probe.timeout
        return outcome


def _path(probe) -> str:
    return probe.path if probe.path.startswith("/") else "/" + probe.path


def _api_status(body: str) -> Optional[dict]:
    """The body as a metav1.Status (the API server's error), or None when the app answered."""
    text = (body or "").lstrip()
    if not text.startswith("{"):
        return None
    try:
        doc = json.loads(text)
    except ValueError:
        return None
    if isinstance(doc, dict) and doc.get("kind") == "Status" and doc.get("apiVersion") == "v1":
        return doc
    return None


def session(view) -> Optional[Session]:
    """The run's --probe-now session, or None when the flag is off (or the source is files)."""
    if not getattr(view, "probe_now", False):
        return None
    if view.offline or not hasattr(view.backend, "raw_get"):
        view.note("--probe-now needs a live cluster: ignored when reading files (-f)")
        return None
    existing = getattr(view, _ATTR, None)
    if existing is None:
        existing = Session(view)
        setattr(view, _ATTR, existing)
    return existing
