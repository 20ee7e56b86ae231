"""Fault injection for the stand-in API server: the ways a real API server, or what sits in front
of it (a load balancer, a corporate proxy, a flaky network), fails a read.

    faults = [Fault(r"/events$", "status", code=500, times=1),
              Fault(r"/pods$", "status", code=429, retry_after="0", times=3)]
    with FaultyStandIn(objects=..., faults=faults) as api:
        ...
    api.fault_hits  # how many requests each fault answered

A fault matches a request when its `path` regex matches the request path (search, not fullmatch)
and, with `continue_only`, the request carries a continue token. It answers the first `times`
matching requests (None: all of them); the others get the stand-in's real answer. Actions:

* "status":   an error with the body the real server sends for that code (a metav1.Status, or the
              plain text of the flow-control 429), and `Retry-After` when given;
* "html":     an HTML page with that code (a proxy or a wrong server address);
* "reset":    the connection is closed with a TCP reset before any answer;
* "truncate": the real answer's headers (with its full Content-Length), then half its body, then
              the connection is closed;
* "drip":     the real answer one byte every `interval` seconds, status line and headers included;
* "hang":     no answer at all until the server stops;
* "garbage":  status 200 with a body that is not JSON.
"""

from __future__ import annotations

import json
import re
import socket
import struct
import threading
import time
from dataclasses import dataclass
from http.server import ThreadingHTTPServer
from typing import Any, List, Optional

from .apiserver import StandInAPIServer, _Handler, _canonical_header, forbidden

# Bodies as the real server writes them.
# k8s.io/apimachinery/pkg/api/errors: NewInternalError -> "Internal error occurred: %v".
_STATUS = {
    500: ("InternalError", "Internal error occurred: etcdserver: request timed out"),
    # errors.NewServiceUnavailable: what the apiserver answers while etcd is unavailable, or an
    # aggregated APIService whose backend is down.
    503: ("ServiceUnavailable", "the server is currently unable to handle the request"),
    504: ("Timeout", "the server was unable to return a response in the time allotted, but may "
                     "still be processing the request"),
    # errors.NewResourceExpired on a continue token that outlived etcd compaction
    # (staging/src/k8s.io/apiserver/pkg/storage/etcd3/store.go).
    410: ("Expired", "The provided continue parameter is too old to display a consistent list "
                     "result. You can start a new list without the continue parameter, or use the "
                     "continue token in this response to retrieve the remainder of the results. "
                     "Continuing with the provided token results in an inconsistent list - objects "
                     "that were created, modified, or deleted between the time the first chunk was "
                     "returned and now may show up in the list."),
    # The authentication filter's answer for a bad or expired token.
    401: ("Unauthorized", "Unauthorized"),
}
# staging/src/k8s.io/apiserver/pkg/server/filters/maxinflight.go tooManyRequests():
# http.Error(w, "Too many requests, please try again later.", 429) - plain text, not a Status.
TOO_MANY_REQUESTS = b"Too many requests, please try again later.\n"
# What nginx answers for a path it has no route for (a proxy in front of the wrong backend).
NGINX_404 = (b"<html>\r\n<head><title>404 Not Found</title></head>\r\n<body>\r\n<center><h1>404 Not "
             b"Found</h1></center>\r\n<hr><center>nginx/1.25.3</center>\r\n</body>\r\n</html>\r\n")
NGINX_502 = (b"<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n<center><h1>502 Bad "
             b"Gateway</h1></center>\r\n<hr><center>nginx/1.25.3</center>\r\n</body>\r\n</html>\r\n")


@dataclass
class Fault:
    path: str
    action: str = "status"
    code: int = 500
    times: Optional[int] = 1
    retry_after: Optional[str] = None
    continue_only: bool = False
    interval: float = 0.5
    body: Optional[bytes] = None

    def matches(self, path: str, query: str) -> bool:
        if self.continue_only and "continue=" not in query:
            return False
        return re.search(self.path, path) is not None


def _status_body(code: int, path: str) -> bytes:
    if code == 403:
        m = re.match(r"/apis?/(?:([^/]+)/)?v[^/]+/(?:namespaces/([^/]+)/)?([^/]+)", path)
        group, namespace, resource = (m.group(1) or "", m.group(2) or "", m.group(3)) if m else ("", "", "")
        if resource == "v1":
            group = ""
        err = forbidden("system:serviceaccount:default:standin", "list", group, resource, "", namespace, "")
        return json.dumps(err.status()).encode()
    reason, message = _STATUS.get(code, ("InternalError", f"Internal error occurred: HTTP {code}"))
    body = {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
            "message": message, "reason": reason, "code": code}
    if code in (500, 503, 504):
        body["details"] = {"causes": [{"message": message}]} if code != 503 else {}
    return json.dumps(body).encode()


class _FaultHandler(_Handler):
    standin: "FaultyStandIn"

    def _serve(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        if length:
            self.rfile.read(length)
        headers = {_canonical_header(k): v for k, v in self.headers.items()}
        path, _, query = self.path.partition("?")
        # The real answer first: it records the request, and some faults send (part of) it.
        code, content_type, body = self.standin.handle(self.command, self.path, headers)
        fault = self.standin._take(path, query)
        if fault is None:
            return self._answer(code, content_type, body)
        action = fault.action
        if action == "status":
            extra = {"Retry-After": fault.retry_after} if fault.retry_after is not None else {}
            if fault.code == 429:
                extra["X-Content-Type-Options"] = "nosniff"
                return self._answer(429, "text/plain; charset=utf-8", fault.body or TOO_MANY_REQUESTS, extra)
            return self._answer(fault.code, "application/json", fault.body or _status_body(fault.code, path),
                                extra)
        if action == "html":
            page = fault.body or (NGINX_502 if fault.code >= 500 else NGINX_404)
            return self._answer(fault.code, "text/html", page)
        if action == "garbage":
            return self._answer(200, "application/json", fault.body or b'{"kind": "PodList", "items": [')
        if action == "reset":
            self.close_connection = True
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.connection.close()
            return
        if action == "truncate":
            self.close_connection = True
            self.send_response(code)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body[: len(body) // 2])
            self.wfile.flush()
            return
        if action == "drip":
            self.close_connection = True
            raw = (f"HTTP/1.1 {code} OK\r\nContent-Type: {content_type}\r\nContent-Length: {len(body)}\r\n"
                   f"\r\n").encode() + body
            try:
                for i in range(len(raw)):
                    if self.standin._stopping.wait(fault.interval):
                        return
                    self.wfile.write(raw[i:i + 1])
                    self.wfile.flush()
            except OSError:
                pass
            return
        if action == "hang":
            self.close_connection = True
            self.standin._stopping.wait(60)
            return
        raise ValueError(f"unknown fault action {action!r}")

    do_GET = _serve

    def _answer(self, code: int, content_type: str, body: bytes, extra: Optional[dict] = None) -> None:
        self.send_response(code)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for name, value in (extra or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)


class FaultyStandIn(StandInAPIServer):
    """The stand-in API server with faults injected (see the module docstring)."""

    def __init__(self, *args: Any, faults: List[Fault] = (), **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.faults = list(faults)
        self.fault_hits = [0] * len(self.faults)
        self._fault_lock = threading.Lock()
        self._stopping = threading.Event()

    def _take(self, path: str, query: str) -> Optional[Fault]:
        with self._fault_lock:
            for i, fault in enumerate(self.faults):
                if fault.matches(path, query) and (fault.times is None or self.fault_hits[i] < fault.times):
                    self.fault_hits[i] += 1
                    return fault
        return None

    def start(self) -> "FaultyStandIn":
        if self._httpd is not None:
            return self
        handler = type("_BoundFaultHandler", (_FaultHandler,), {"standin": self})
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self._httpd.daemon_threads = True
        port = self._httpd.server_address[1]
        self.url = f"http://127.0.0.1:{port}"
        self._thread = threading.Thread(target=self._httpd.serve_forever, kwargs={"poll_interval": 0.02},
                                        name=f"faulty-standin-{port}", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()
        time.sleep(0)  # let dripping and hanging handlers see it
        super().stop()
