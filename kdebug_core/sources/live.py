"""Live source: the Kubernetes API, read-only, as plain JSON.

The `kubernetes` package does what it is good at — kubeconfig merging, contexts, auth plugins
(exec, OIDC, tokens that refresh), in-cluster service accounts — and fills a `Configuration`.
Requests are then made with urllib3 (which that package already depends on) straight from that
configuration, because kdebug wants raw JSON (no per-object model deserialisation), `limit` /
`continue` paging, metadata-only reads and text logs, and because the generated client's request
API differs between the releases we support.

Only GET is ever sent.
"""

import json
import os
import re
from datetime import datetime, timezone
from typing import Dict, List, Optional, Tuple
from urllib.parse import quote, urlencode, urlparse

from ..errors import ClusterError, Forbidden, UsageError
from ..kinds import BY_KIND

PAGE_SIZE = 500
IN_CLUSTER_NAMESPACE_FILE = "/var/run/secrets/kubernetes.io/serviceaccount/namespace"
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


class ConnectionOptions:
    def __init__(self, kubeconfig=None, context=None, request_timeout=None, as_user=None,
                 as_groups=()):
        self.kubeconfig = kubeconfig
        self.context = context
        self.request_timeout = request_timeout
        self.as_user = as_user
        self.as_groups = list(as_groups or ())


def load_configuration(opts: ConnectionOptions) -> Tuple[object, Optional[str]]:
    """(kubernetes Configuration, the context's namespace or None) — kubeconfig, else in-cluster."""
    from kubernetes import client, config
    from kubernetes.config.config_exception import ConfigException

    cfg = client.Configuration()
    explicit = opts.kubeconfig or os.environ.get("KUBECONFIG")
    default_path = os.path.expanduser("~/.kube/config")
    have_kubeconfig = bool(explicit) or os.path.exists(default_path)
    if have_kubeconfig:
        path = opts.kubeconfig  # None lets the package honour KUBECONFIG (with ':' merging)
        for p in (opts.kubeconfig or "").split(os.pathsep):
            if p and not os.path.exists(p):
                raise UsageError(f"cannot read kubeconfig {p}: no such file")
        try:
            contexts, active = config.list_kube_config_contexts(config_file=path)
            # kubectl takes current-context from the FIRST file of KUBECONFIG that sets it; the
            # package's merger lets the last one win, so decide it here and name it explicitly.
            wanted = opts.context or _first_current_context(path) or (active or {}).get("name")
            ctx = next((c for c in contexts or [] if c.get("name") == wanted), None)
            if opts.context and ctx is None:
                names = ", ".join(sorted(c.get("name", "") for c in contexts or []))
                raise UsageError(f"context {opts.context!r} does not exist in the kubeconfig "
                                 f"(contexts: {names or 'none'})")
            config.load_kube_config(config_file=path, context=wanted,
                                    client_configuration=cfg, persist_config=False)
        except ConfigException as exc:
            raise ClusterError(f"invalid kubeconfig: {exc}") from None
        except UsageError:
            raise
        except Exception as exc:  # exec plugins and auth providers raise their own errors
            raise ClusterError(f"cannot load kubeconfig credentials: {exc}") from None
        namespace = ((ctx or {}).get("context") or {}).get("namespace")
        return cfg, namespace
    if os.environ.get("KUBERNETES_SERVICE_HOST"):
        try:
            config.load_incluster_config(client_configuration=cfg)
        except ConfigException as exc:
            raise ClusterError(f"in-cluster configuration failed: {exc}") from None
        namespace = None
        try:
            with open(IN_CLUSTER_NAMESPACE_FILE) as fh:
                namespace = fh.read().strip() or None
        except OSError:
            pass
        return cfg, namespace
    raise ClusterError("no kubeconfig found (~/.kube/config, KUBECONFIG, --kubeconfig) and not "
                       "running inside a cluster; use -f FILE to analyse saved output offline")


def _kubeconfig_files(path: Optional[str]) -> List[str]:
    """The kubeconfig files in kubectl's order: --kubeconfig, else KUBECONFIG's, else the default."""
    if path:
        return [path]
    return [p for p in os.environ.get("KUBECONFIG", "").split(os.pathsep) if p] or ["~/.kube/config"]


def _kubeconfig_docs(path: Optional[str]):
    """Each readable kubeconfig file as a dict (unreadable ones are skipped, as kubectl does)."""
    import yaml
    for p in _kubeconfig_files(path):
        try:
            with open(os.path.expanduser(p)) as fh:
                doc = yaml.safe_load(fh) or {}
        except (OSError, yaml.YAMLError):
            continue
        if isinstance(doc, dict):
            yield doc


def _first_current_context(path: Optional[str]) -> Optional[str]:
    """current-context as kubectl merges KUBECONFIG: the first file that sets one wins."""
    return next((d["current-context"] for d in _kubeconfig_docs(path) if d.get("current-context")),
                None)


def context_namespace_only(opts: ConnectionOptions) -> Optional[str]:
    """The current context's namespace without loading credentials (for offline runs)."""
    wanted = opts.context or _first_current_context(opts.kubeconfig)
    for doc in _kubeconfig_docs(opts.kubeconfig):
        for ctx in doc.get("contexts") or []:
            if isinstance(ctx, dict) and ctx.get("name") == wanted:
                return (ctx.get("context") or {}).get("namespace")
    return None


class LiveBackend:
    offline = False

    def __init__(self, cfg, opts: ConnectionOptions):
        import urllib3

        self._cfg = cfg
        self.host = cfg.host.rstrip("/")
        self.timeout = opts.request_timeout
        self.requests_sent = 0
        pool_args = {
            "cert_reqs": "CERT_REQUIRED" if cfg.verify_ssl else "CERT_NONE",
            "retries": urllib3.Retry(total=2, connect=2, read=0, redirect=0, status=0,
                                     backoff_factor=0.1),
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
                headers[auth["key"]] = auth["value"]
        for name, value in self._impersonate:
            headers.add(name, value)
        return headers

    def request(self, path: str, query: Optional[Dict[str, str]] = None,
                accept: str = "application/json", timeout: Optional[float] = None):
        """GET path → (status, body bytes). Connection failures become ClusterError."""
        import urllib3

        timeout = min(t for t in (timeout, self.timeout) if t) if (timeout or self.timeout) else None

        url = self.host + path
        if query:
            url += "?" + urlencode(query)
        self.requests_sent += 1
        try:
            resp = self._http.request("GET", url, headers=self._headers(accept),
                                      timeout=urllib3.Timeout(total=timeout) if timeout else None,
                                      preload_content=True)
        except urllib3.exceptions.MaxRetryError as exc:
            raise ClusterError(f"cannot reach the Kubernetes API at {self.host}: "
                               f"{_reason(exc.reason)}") from None
        except (urllib3.exceptions.TimeoutError, urllib3.exceptions.ProtocolError,
                urllib3.exceptions.SSLError) as exc:
            raise ClusterError(f"cannot reach the Kubernetes API at {self.host}: {_reason(exc)}") from None
        return resp.status, resp.data

    def _check(self, status: int, body: bytes, resource: str, namespace: Optional[str]):
        if status < 300:
            return
        message = _status_message(body) or f"HTTP {status}"
        if status == 403:
            raise Forbidden(resource, namespace, message)
        if status == 401:
            raise ClusterError(f"the Kubernetes API at {self.host} refused our credentials "
                               f"(401 Unauthorized): check the context's user or log in again")
        if status in (400, 404, 410, 422):
            raise _ApiError(status, message)
        raise ClusterError(f"the Kubernetes API at {self.host} answered {status} for {resource}: "
                           f"{message}")

    # ---- Backend protocol ---------------------------------------------------------------------
    def list(self, kind, namespace, label_selector=None, field_selector=None, metadata_only=False):
        info = BY_KIND[kind]
        path = info.path(namespace)
        query = {"limit": str(PAGE_SIZE)}
        if label_selector:
            query["labelSelector"] = label_selector
        if field_selector:
            query["fieldSelector"] = field_selector
        items: List[dict] = []
        while True:
            status, body = self.request(path, query,
                                        ACCEPT_METADATA_LIST if metadata_only else "application/json")
            if status == 404 and not items:
                return []  # the API group is not served here (e.g. no metrics-server)
            try:
                self._check(status, body, info.resource, namespace)
            except _ApiError as exc:
                raise ClusterError(f"listing {info.resource} failed: {exc}") from None
            doc = _json(body, self.host)
            for item in doc.get("items") or []:
                # Typed lists omit kind/apiVersion on items; put them back so analyzers can rely on them.
                item.setdefault("kind", kind)
                item.setdefault("apiVersion", info.group_version)
                items.append(item)
            token = (doc.get("metadata") or {}).get("continue")
            if not token:
                return items
            query = dict(query, **{"continue": token})

    def get(self, kind, namespace, name, metadata_only=False):
        info = BY_KIND[kind]
        status, body = self.request(info.path(namespace, quote(name, safe="")), None,
                                    ACCEPT_METADATA if metadata_only else "application/json")
        if status == 404:
            return None
        try:
            self._check(status, body, info.resource, namespace)
        except _ApiError as exc:
            raise ClusterError(f"reading {info.resource}/{name} failed: {exc}") from None
        obj = _json(body, self.host)
        obj.setdefault("kind", kind)
        return obj

    def logs(self, namespace, pod, container, previous, tail_lines):
        path = BY_KIND["Pod"].path(namespace, quote(pod, safe="")) + "/log"
        query = {"container": container, "tailLines": str(tail_lines)}
        if previous:
            query["previous"] = "true"
        status, body = self.request(path, query, accept="text/plain, */*")
        if status in (400, 404):
            return None  # no previous instance, or still waiting to start: nothing to read
        self._check(status, body, "pods/log", namespace)
        return body.decode("utf-8", errors="replace")

    def now(self):
        return datetime.now(timezone.utc)

    def raw_get(self, path: str, accept: str = "*/*", timeout: Optional[float] = None):
        """GET an arbitrary read-only path (pod proxy for --probe-now); returns (status, text)."""
        status, body = self.request(path, None, accept, timeout=timeout)
        return status, body.decode("utf-8", errors="replace")


class _ApiError(Exception):
    def __init__(self, status, message):
        super().__init__(f"{status}: {message}")
        self.status = status


def _json(body: bytes, host: str) -> dict:
    try:
        doc = json.loads(body)
    except ValueError:
        raise ClusterError(f"the server at {host} did not answer with JSON: is it a Kubernetes "
                           f"API server?") from None
    if not isinstance(doc, dict):
        raise ClusterError(f"the server at {host} answered with unexpected JSON")
    return doc


def _status_message(body: bytes) -> Optional[str]:
    try:
        doc = json.loads(body)
        return doc.get("message") if isinstance(doc, dict) else None
    except ValueError:
        return body.decode("utf-8", errors="replace").strip()[:200] or None


def _reason(exc) -> str:
    text = str(exc)
    m = re.search(r"(Connection refused|Name or service not known|timed out|"
                  r"No route to host|certificate verify failed[^)'\"]*|Temporary failure in name resolution)",
                  text)
    return m.group(1) if m else text.split(":", 1)[-1].strip()[:160]


def host_of(url: str) -> str:
    return urlparse(url).netloc or url
