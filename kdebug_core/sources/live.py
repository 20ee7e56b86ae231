"""Live source: the Kubernetes API, read-only, as plain JSON.

The `kubernetes` package does what it is good at — kubeconfig merging, contexts, auth plugins
(exec, OIDC, tokens that refresh), in-cluster service accounts — and fills a `Configuration`
(kubeconfig.py loads that part of the package alone, without the generated client). Requests are then made with urllib3 (which that package already depends on) straight from that
configuration, because kdebug wants raw JSON (no per-object model deserialisation), `limit` /
`continue` paging, metadata-only reads and text logs, and because the generated client's request
API differs between the releases we support.

Only GET is ever sent.
"""

import json
import re
import socket
import threading
import time
from datetime import datetime, timezone
from typing import Dict, List, Optional, Tuple
from urllib.parse import quote, urlencode, urlparse

from ..errors import ClusterError, Forbidden, NotServed, ReadFailed, UsageError
from ..kinds import BY_KIND
from ..sanitize import one_line
from .logtext import KUBELET_LOG_ERROR

PAGE_SIZE = 500
# Accept header for metadata-only reads: the server strips everything but metadata, so Secret
# values never leave the API server.
ACCEPT_METADATA_LIST = "application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1,application/json"
ACCEPT_METADATA = "application/json;as=PartialObjectMetadata;g=meta.k8s.io;v=v1,application/json"


def parse_request_timeout(text: Optional[str]) -> Optional[float]:
    """kubectl's --request-timeout: `0` (none), `30`, `30s`, `1m`, `1h`, `1m30s`."""
    if text is None or text == "":
        return None
    if re.fullmatch(r"\d+(\.\d+)?", text):
        value = float(text)
        return value or None
    total, matched = 0.0, ""
    for number, unit in re.findall(r"(\d+(?:\.\d+)?)(ms|s|m|h)", text):
        total += float(number) * {"ms": 0.001, "s": 1, "m": 60, "h": 3600}[unit]
        matched += number + unit
    if matched != text:
        raise UsageError(f"invalid --request-timeout {text!r}: use a duration like 30s, 1m or 0 "
                         f"for no timeout")
    return total or None


# Kubeconfig and in-cluster configuration: kubeconfig.py (the package's loader, loaded without the
# generated client). Re-exported here for callers that import them from this module.
from .kubeconfig import (ConnectionOptions, context_namespace_only,  # noqa: E402,F401
                         load_configuration)


# ---- requests: deadline, retries, answers that are not the API's ------------------------------
#
# As client-go does (staging/src/k8s.io/client-go/rest/with_retry.go, request.go):
# * a 429 or 5xx answer carrying `Retry-After: N` is retried after N seconds, up to MAX_RETRIES
#   times (client-go: "about ten retry attempts");
# * a connection reset or an EOF/truncated answer to a GET is retried after a short wait
#   (client-go makes up `Retry-After: 1` for those);
# * --request-timeout is one deadline for the whole request, retries included: connect, headers
#   and body (a server that drips one byte at a time is cut off when it passes).
# Beyond client-go, a 429/5xx *without* Retry-After (an aggregated API's 503, a proxy's 502) is
# retried twice after a short pause: GETs are idempotent and one blip must not change a verdict.

MAX_RETRIES = 10
MAX_RETRY_AFTER = 10.0                # seconds: a longer Retry-After is waited this long at most
RESET_RETRY_DELAYS = (0.1, 1.0)       # first retry after a reset, then every later one
UNTOLD_RETRY_DELAYS = (0.2, 0.6)      # 429/5xx without Retry-After: this many retries, these waits
MAX_PAGES = 10000                     # of PAGE_SIZE objects: a list that never ends is not read


class _NoAnswer(Exception):
    """One request got no complete answer: `retryable` for resets and truncated bodies."""

    def __init__(self, message: str, retryable: bool = False, timed_out: bool = False):
        super().__init__(message)
        self.retryable = retryable
        self.timed_out = timed_out


class _Deadline:
    def __init__(self, seconds: Optional[float]):
        self.seconds = seconds
        self.end = time.monotonic() + seconds if seconds else None

    def remaining(self) -> Optional[float]:
        return None if self.end is None else self.end - time.monotonic()

    def passed(self) -> bool:
        return self.end is not None and time.monotonic() >= self.end


class _Watch(threading.local):
    """Per thread: the dict in which the current request's connection names itself."""

    holder = None


def _tracked_pool_classes(watch: _Watch):
    """urllib3 pool classes whose connections say, when they connect or send, that the current
    request uses them: the deadline's watchdog can then shut that socket down, which ends a read
    blocked on a server that drips its answer."""
    from urllib3.connection import HTTPConnection, HTTPSConnection
    from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

    class _Tracked:
        def _kdebug_track(self):
            if watch.holder is not None:
                watch.holder["conn"] = self

        def connect(self):
            self._kdebug_track()
            return super().connect()

        def request(self, *args, **kwargs):
            self._kdebug_track()
            return super().request(*args, **kwargs)

    http_conn = type("KdebugHTTPConnection", (_Tracked, HTTPConnection), {})
    https_conn = type("KdebugHTTPSConnection", (_Tracked, HTTPSConnection), {})
    return {"http": type("KdebugHTTPConnectionPool", (HTTPConnectionPool,), {"ConnectionCls": http_conn}),
            "https": type("KdebugHTTPSConnectionPool", (HTTPSConnectionPool,), {"ConnectionCls": https_conn})}


def _watchdog(holder: dict, expired: threading.Event, done: threading.Event):
    """At the deadline: mark the request expired and shut its socket down (again every 50 ms while
    the request is still connecting, until it ends)."""
    expired.set()
    while not done.is_set():
        _kill(holder.get("conn"))
        if done.wait(0.05):
            return


def _kill(conn) -> None:
    sock = getattr(conn, "sock", None)
    if sock is None:
        return
    try:
        socket.socket.shutdown(sock, socket.SHUT_RDWR)
    except OSError:
        pass


def _retry_after(headers) -> Optional[float]:
    """Seconds from a Retry-After header (client-go reads whole seconds only), else None."""
    value = (headers or {}).get("Retry-After")
    if value is None:
        return None
    try:
        seconds = int(str(value).strip())
    except ValueError:
        return None
    return float(seconds) if seconds >= 0 else None


def _retryable_status(status: int) -> bool:
    return status == 429 or (status >= 500 and status != 501)


class LiveBackend:
    """The Backend protocol over the API (see view.Backend). Its reads raise:

    * `ReadFailed(resource, namespace, message, status)`: one read failed for good after retries
      (5xx, 429 past its retries, deadline, reset, an answer cut short or not JSON, a list whose
      continue token expired twice); `Forbidden` for a 403. The view records it and goes on.
    * `NotServed(resource)`: the server does not serve that API (a 404 Status for the collection,
      e.g. no metrics-server).
    * `ClusterError` (exit 3): the server cannot be used at all — unreachable, 401, or its answers
      are not a Kubernetes API server's (an HTML page, not JSON). Until one answer has shown that a
      Kubernetes API server is there (normally the run's first read, the subject), every failure
      to get an answer is this one line; afterwards a lost connection is one failed read.
    """

    offline = False

    def __init__(self, cfg, opts: ConnectionOptions):
        import urllib3

        self._cfg = cfg
        self.host = cfg.host.rstrip("/")
        self.timeout = opts.request_timeout
        self.requests_sent = 0
        self.notes: List[str] = []   # objects left out because they lack their kind's shape
        self._verified = False       # an answer has come from a Kubernetes API server
        self._watch = _Watch()
        pool_args = {
            "cert_reqs": "CERT_REQUIRED" if cfg.verify_ssl else "CERT_NONE",
            "retries": False,        # retries are decided here (see `_exchange`)
            "maxsize": 4,
        }
        if cfg.ssl_ca_cert:
            pool_args["ca_certs"] = cfg.ssl_ca_cert
        if cfg.cert_file:
            pool_args["cert_file"] = cfg.cert_file
        if cfg.key_file:
            pool_args["key_file"] = cfg.key_file
        if getattr(cfg, "tls_server_name", None):
            pool_args["server_hostname"] = cfg.tls_server_name
        if getattr(cfg, "assert_hostname", None) is not None:
            pool_args["assert_hostname"] = cfg.assert_hostname
        if not cfg.verify_ssl:
            urllib3.disable_warnings()
        if getattr(cfg, "proxy", None):
            self._http = urllib3.ProxyManager(cfg.proxy, **pool_args)
        else:
            self._http = urllib3.PoolManager(**pool_args)
        # A copy: the default mapping is shared by every PoolManager.
        self._http.pool_classes_by_scheme = _tracked_pool_classes(self._watch)
        self._impersonate: List[Tuple[str, str]] = []
        if opts.as_user:
            self._impersonate.append(("Impersonate-User", opts.as_user))
        for group in opts.as_groups:
            self._impersonate.append(("Impersonate-Group", group))

    # ---- HTTP ---------------------------------------------------------------------------------
    def _headers(self, accept: str):
        from urllib3._collections import HTTPHeaderDict  # present in urllib3 1.26 and 2.x

        headers = HTTPHeaderDict()
        headers["Accept"] = accept
        headers["User-Agent"] = "kdebug"
        # auth_settings() refreshes expiring tokens (exec plugins) and covers bearer and basic auth
        # in every client release: in-header entries only.
        for auth in (self._cfg.auth_settings() or {}).values():
            if auth.get("in") == "header" and auth.get("value"):
                # A tokenFile usually ends in a newline, which the package keeps; client-go trims
                # the token (transport/token_source.go), and a header cannot carry a newline.
                headers[auth["key"]] = str(auth["value"]).strip()
        for name, value in self._impersonate:
            headers.add(name, value)
        return headers

    def _send(self, url: str, accept: str, deadline: _Deadline):
        """One attempt: (status, headers, body), or _NoAnswer."""
        import urllib3
        from urllib3.exceptions import HTTPError, NewConnectionError, ProtocolError, TimeoutError

        remaining = deadline.remaining()
        if remaining is not None and remaining <= 0:
            raise _NoAnswer("deadline", timed_out=True)
        self.requests_sent += 1
        holder: dict = {}
        self._watch.holder = holder
        expired, done = threading.Event(), threading.Event()
        timer = None
        if remaining is not None:
            timer = threading.Timer(remaining, _watchdog, (holder, expired, done))
            timer.daemon = True
            timer.start()
        timeout = urllib3.Timeout(connect=remaining, read=remaining) if remaining else None
        resp = None
        try:
            resp = self._http.request("GET", url, headers=self._headers(accept), timeout=timeout,
                                      preload_content=False, retries=False, redirect=False)
            body = resp.read()
            status, headers = resp.status, resp.headers
        except NewConnectionError as exc:  # refused, no route, unknown name: not retried
            raise _NoAnswer(_reason(exc)) from None
        except (HTTPError, OSError) as exc:
            if expired.is_set() or isinstance(exc, TimeoutError):
                raise _NoAnswer("deadline", timed_out=True) from None
            retryable = isinstance(exc, (ProtocolError, ConnectionError))
            raise _NoAnswer(_reason(exc), retryable=retryable) from None
        finally:
            done.set()
            if timer is not None:
                timer.cancel()
            self._watch.holder = None
            if resp is not None:
                resp.release_conn()
        if expired.is_set():
            raise _NoAnswer("deadline", timed_out=True)
        return status, headers, body

    def _exchange(self, path: str, query: Optional[Dict[str, str]], accept: str,
                  timeout: Optional[float] = None, retry: bool = True):
        """GET with retries within one deadline → (status, headers, body), or _NoAnswer."""
        seconds = min(t for t in (timeout, self.timeout) if t) if (timeout or self.timeout) else None
        deadline = _Deadline(seconds)
        url = self.host + path + ("?" + urlencode(query) if query else "")
        retries = 0
        while True:
            try:
                status, headers, body = self._send(url, accept, deadline)
            except _NoAnswer as exc:
                if not (retry and exc.retryable) or retries >= MAX_RETRIES:
                    raise
                delay = RESET_RETRY_DELAYS[min(retries, len(RESET_RETRY_DELAYS) - 1)]
                answer = None
                last_error = exc
            else:
                if not (retry and _retryable_status(status)) or retries >= MAX_RETRIES:
                    return status, headers, body
                delay = _retry_after(headers)
                if delay is None:
                    if retries >= len(UNTOLD_RETRY_DELAYS):
                        return status, headers, body
                    delay = UNTOLD_RETRY_DELAYS[retries]
                delay = min(delay, MAX_RETRY_AFTER)
                answer = (status, headers, body)
            remaining = deadline.remaining()
            if remaining is not None and delay >= remaining:
                # Waiting would pass the deadline: what we have is the answer.
                if answer is not None:
                    return answer
                raise last_error
            time.sleep(delay)
            retries += 1

    def request(self, path: str, query: Optional[Dict[str, str]] = None,
                accept: str = "application/json", timeout: Optional[float] = None):
        """GET path → (status, body bytes), with retries. Connection failures become ClusterError."""
        try:
            status, _headers, body = self._exchange(path, query, accept, timeout)
        except _NoAnswer as exc:
            raise ClusterError(self._no_answer_text(exc, timeout)) from None
        return status, body

    def _no_answer_text(self, exc: _NoAnswer, timeout: Optional[float] = None) -> str:
        if exc.timed_out:
            seconds = min(t for t in (timeout, self.timeout) if t) if (timeout or self.timeout) else 0
            return (f"the Kubernetes API at {self.host} did not answer within {seconds:g}s "
                    f"(--request-timeout)")
        return f"cannot reach the Kubernetes API at {self.host}: {exc}"

    # ---- answers ------------------------------------------------------------------------------
    def _not_kubernetes(self, status: int, headers, body: bytes) -> str:
        what = "an HTML page" if _is_html(headers, body) else (
            "JSON that is not a Kubernetes object or list" if _json_object(body) is not None
            else "an answer that is not JSON")
        return (f"the server at {self.host} does not look like a Kubernetes API server (got {what}, "
                f"HTTP {status}): check the kubeconfig's server address")

    def _fail(self, resource: str, namespace: Optional[str], message: str, status=None):
        """A read failed for good: the whole run's problem until the server has proven itself a
        Kubernetes API server, one failed read afterwards."""
        if not self._verified:
            raise ClusterError(message)
        raise ReadFailed(resource, namespace, message, status)

    def _call(self, resource: str, namespace: Optional[str], path: str, query, accept: str):
        """(status, headers, body, Status document or None) of one read, failures raised."""
        try:
            status, headers, body = self._exchange(path, query, accept)
        except _NoAnswer as exc:
            if not self._verified:
                raise ClusterError(self._no_answer_text(exc)) from None
            text = "no complete answer within the request deadline (--request-timeout)" \
                if exc.timed_out else f"connection failed: {exc}"
            raise ReadFailed(resource, namespace, text) from None
        doc = _json_object(body)
        api_status = doc if doc is not None and doc.get("kind") == "Status" else None
        if status == 401:
            raise ClusterError(f"the Kubernetes API at {self.host} refused our credentials "
                               f"(401 Unauthorized): check the context's user or log in again")
        if status >= 300 and api_status is None:
            self._not_a_status(resource, namespace, status, headers, body)
        if api_status is not None:
            self._verified = True
        return status, headers, body, api_status

    def _not_a_status(self, resource, namespace, status, headers, body):
        """An error answer without the API's Status body. The API server itself sends two: the
        429 of its flow control (`Too many requests, please try again later.`, plain text,
        staging/src/k8s.io/apiserver/pkg/server/filters/maxinflight.go) and the aggregator's
        plain-text 503 for an APIService that is down. Anything else, and any HTML page, comes
        from something in front of it (or not a Kubernetes API server at all)."""
        html = _is_html(headers, body)
        text = "an HTML page" if html else one_line(_text_of(body), 160) or "no message"
        if status == 429 and not html:
            raise ReadFailed(resource, namespace, f"HTTP 429: {text}", status)
        if not self._verified:
            if status >= 500 and not html:
                raise ClusterError(f"the server at {self.host} answered HTTP {status} ({text}), "
                                   f"not with the Kubernetes API's Status: is the API server down "
                                   f"behind a proxy or load balancer?")
            raise ClusterError(self._not_kubernetes(status, headers, body))
        if status == 403:
            raise Forbidden(resource, namespace, f"HTTP 403: {text}")
        if status == 404 and not html and _text_of(body).strip() == "404 page not found":
            # Go's http.NotFound: what a real API server answers (plain text, not a Status) for an
            # API group nobody serves, e.g. metrics.k8s.io without metrics-server (seen on v1.34).
            raise NotServed(resource)
        raise ReadFailed(resource, namespace, f"HTTP {status}: {text}", status)

    def _read_failed(self, resource, namespace, status, api_status):
        message = one_line((api_status or {}).get("message") or f"HTTP {status}")
        if status == 403:
            raise Forbidden(resource, namespace, message)
        raise ReadFailed(resource, namespace, f"HTTP {status}: {message}", status)

    def _document(self, resource, namespace, status, headers, body, expect: str) -> dict:
        """The JSON document of a 2xx answer: a list (`items`, present even when empty) or an
        object (`metadata`). Anything else is not the API's answer."""
        doc = _json_object(body)
        if doc is None:
            self._fail(resource, namespace, self._not_kubernetes(status, headers, body)
                       if not self._verified else "the answer was cut short or is not JSON", status)
        if ("items" not in doc) if expect == "list" else not isinstance(doc.get("metadata"), dict):
            self._fail(resource, namespace, self._not_kubernetes(status, headers, body)
                       if not self._verified else f"the answer is not a Kubernetes {expect}", status)
        self._verified = True
        return doc

    # ---- Backend protocol ---------------------------------------------------------------------
    def list(self, kind, namespace, label_selector=None, field_selector=None, metadata_only=False):
        from .shape import checked_items
        from .slim import slim

        info = BY_KIND[kind]
        path = info.path(namespace)
        first = {"limit": str(PAGE_SIZE)}
        if label_selector:
            first["labelSelector"] = label_selector
        if field_selector:
            first["fieldSelector"] = field_selector
        accept = ACCEPT_METADATA_LIST if metadata_only else "application/json"
        query, items, tokens, restarted = dict(first), [], set(), False
        for _page in range(MAX_PAGES):
            status, headers, body, api_status = self._call(info.resource, namespace, path, query, accept)
            if status == 404:
                raise NotServed(info.resource)  # the API group or resource is not served here
            if status == 410 and "continue" in query and not restarted:
                # The continue token expired (the snapshot it names was compacted): read the list
                # again from the start, once.
                query, items, tokens, restarted = dict(first), [], set(), True
                continue
            if status >= 300:
                self._read_failed(info.resource, namespace, status, api_status)
            doc = self._document(info.resource, namespace, status, headers, body, "list")
            page = doc.get("items")
            if page is None:
                page = []
            if not isinstance(page, list):
                raise ReadFailed(info.resource, namespace, "the answer is not a list of objects")
            for item in checked_items(map(slim, page), kind, f"{path}", self.notes):
                # Typed lists omit kind/apiVersion on items; put them back so analyzers can rely on them.
                item.setdefault("kind", kind)
                item.setdefault("apiVersion", info.group_version)
                items.append(item)
            token = (doc.get("metadata") or {}).get("continue") if isinstance(doc.get("metadata"), dict) else None
            if not token:
                return items
            if not isinstance(token, str) or token in tokens:
                raise ReadFailed(info.resource, namespace,
                                 "the server repeated a continue token: the list does not advance")
            tokens.add(token)
            query = dict(first, **{"continue": token})
        raise ReadFailed(info.resource, namespace, f"the list did not end after {MAX_PAGES} pages")

    def get(self, kind, namespace, name, metadata_only=False):
        from .shape import checked_items
        from .slim import slim

        info = BY_KIND[kind]
        path = info.path(namespace, quote(name, safe=""))
        status, headers, body, api_status = self._call(
            info.resource, namespace, path, None, ACCEPT_METADATA if metadata_only else "application/json")
        if status == 404:
            details = (api_status or {}).get("details")
            if isinstance(details, dict) and details.get("name"):
                return None   # `pods "x" not found`
            raise NotServed(info.resource)  # "the server could not find the requested resource"
        if status >= 300:
            self._read_failed(info.resource, namespace, status, api_status)
        obj = slim(self._document(info.resource, namespace, status, headers, body, "object"))
        obj.setdefault("kind", kind)
        kept = checked_items([obj], kind, path, self.notes)
        return kept[0] if kept else None

    def logs(self, namespace, pod, container, previous, tail_lines):
        path = BY_KIND["Pod"].path(namespace, quote(pod, safe="")) + "/log"
        query = {"container": container, "tailLines": str(tail_lines)}
        if previous:
            query["previous"] = "true"
        status, headers, body, api_status = self._call("pods/log", namespace, path, query,
                                                      "text/plain, */*")
        if status in (400, 404):
            return None  # no previous instance, or still waiting to start: nothing to read
        if status >= 300:
            self._read_failed("pods/log", namespace, status, api_status)
        if _is_html(headers, body):
            self._fail("pods/log", namespace, self._not_kubernetes(status, headers, body)
                       if not self._verified else "the answer is an HTML page, not a log", status)
        text = body.decode("utf-8", errors="replace")
        if KUBELET_LOG_ERROR.fullmatch(text.strip()):
            # The kubelet's own error, written into an answer it had already started as 200 (the
            # runtime no longer has that container: pkg/kubelet/kubelet_pods.go
            # GetKubeletContainerLogs, seen on kube-apiserver v1.34.4): not the container's output.
            return None
        return text

    def now(self):
        return datetime.now(timezone.utc)

    def raw_get(self, path: str, accept: str = "*/*", timeout: Optional[float] = None):
        """GET an arbitrary read-only path (pod proxy for --probe-now); returns (status, text).

        No retries: the status is the probed application's answer. ClusterError when no answer
        came (within `timeout`)."""
        try:
            status, _headers, body = self._exchange(path, None, accept, timeout, retry=False)
        except _NoAnswer as exc:
            raise ClusterError(self._no_answer_text(exc, timeout)) from None
        return status, body.decode("utf-8", errors="replace")




def _json_object(body: bytes) -> Optional[dict]:
    try:
        doc = json.loads(body)
    except (ValueError, RecursionError):
        return None
    return doc if isinstance(doc, dict) else None


def _is_html(headers, body: bytes) -> bool:
    ctype = str((headers or {}).get("Content-Type") or (headers or {}).get("content-type") or "")
    if "html" in ctype.lower():
        return True
    head = body[:512].lstrip().lower()
    return head.startswith((b"<!doctype html", b"<html", b"<head", b"<body"))


def _text_of(body: bytes) -> str:
    return body[:2000].decode("utf-8", errors="replace")


def _reason(exc) -> str:
    text = str(getattr(exc, "reason", None) or exc)
    m = re.search(r"(Connection refused|Connection reset by peer|Name or service not known|timed out|"
                  r"No route to host|certificate verify failed[^)'\"]*|Temporary failure in name resolution|"
                  r"IncompleteRead\([^)]*\)|Remote end closed connection without response|"
                  r"Connection aborted)", text)
    return m.group(1) if m else one_line(text.split(":", 1)[-1].strip(), 160)


def host_of(url: str) -> str:
    return urlparse(url).netloc or url
