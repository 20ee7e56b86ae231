"""Kubeconfig and in-cluster configuration, by the `kubernetes` package's own loader, loaded lightly.

The package's `config.kube_config` (KUBECONFIG merging, contexts, tokens and token files, client
certificates inline or as files, exec plugins, OIDC/auth providers, insecure-skip-tls-verify,
proxy-url, tls-server-name) and `config.incluster_config` fill a `client.Configuration`, and kdebug
uses exactly that. But `import kubernetes.config` first runs `kubernetes/__init__.py`, which
imports the whole generated client — every API class and model, and pydantic — ~150-300 ms on
each run, none of which kdebug uses (requests are made with urllib3 from the Configuration, see
live.py).

So the three modules that do the work — `kubernetes.client.configuration`,
`kubernetes.config.kube_config`, `kubernetes.config.incluster_config` (and what they import from
their own package: exec_provider, config_exception, dateutil) — are imported under their real names
with the parent packages present only as empty placeholders while they load; `__init__.py` files
do not run. All of them leave sys.modules afterwards (kdebug keeps its references), so a later
`import kubernetes` anywhere in the process loads the full package as usual. The one name
kube_config takes from the client package that needs the generated models, `ApiClient` (used by
`new_client_from_config` only, which kdebug never calls), is a forwarder that imports the real class
when called; so are the two imports kube_config needs only to refresh an expired OIDC token
(`requests_oauthlib`, `oauthlib`: `requests` and its dependencies). If the package's layout ever
differs, the plain full import is used instead.

Nothing here reimplements the package: semantics are the package's, and
tests/core/test_kubeconfig.py checks them against the package's full loader over many shapes.
The one kdebug rule on top is kubectl's: current-context comes from the FIRST file of KUBECONFIG
that sets it (the package's merger lets the last one win).
"""

import importlib
import importlib.util
import os
import sys
from typing import List, Optional, Tuple

from ..errors import ClusterError, UsageError

IN_CLUSTER_NAMESPACE_FILE = "/var/run/secrets/kubernetes.io/serviceaccount/namespace"

_PACKAGE = None  # (kube_config module, incluster_config module, Configuration class)


def _api_client(*args, **kwargs):
    """kube_config's `ApiClient`, imported (with the generated models) only if ever called."""
    from kubernetes.client.api_client import ApiClient
    return ApiClient(*args, **kwargs)


def _oauth2_session(*args, **kwargs):
    """kube_config's `OAuth2Session` (OIDC token refresh only), imported when first called."""
    from requests_oauthlib import OAuth2Session
    return OAuth2Session(*args, **kwargs)


def _deferred_oauthlib():
    """Stand-ins for the two OIDC-refresh imports at the top of kube_config (`import
    oauthlib.oauth2`, `from requests_oauthlib import OAuth2Session`: ~70 ms with `requests`), each
    resolving to the real module or class when kube_config's OIDC refresh first uses it."""
    import types

    if any(n in sys.modules for n in ("oauthlib", "oauthlib.oauth2", "requests_oauthlib")):
        return {}
    oauthlib = types.ModuleType("oauthlib")
    oauthlib.__getattr__ = lambda name: importlib.import_module("oauthlib." + name)
    requests_oauthlib = types.ModuleType("requests_oauthlib")
    requests_oauthlib.OAuth2Session = _oauth2_session
    return {"oauthlib": oauthlib, "oauthlib.oauth2": types.ModuleType("oauthlib.oauth2"),
            "requests_oauthlib": requests_oauthlib}


def _load_light():
    spec = importlib.util.find_spec("kubernetes")
    if spec is None or not spec.submodule_search_locations:
        return None
    root = list(spec.submodule_search_locations)[0]
    wanted = [os.path.join(root, *p) for p in (("client", "configuration.py"),
                                                ("config", "kube_config.py"),
                                                ("config", "incluster_config.py"))]
    if not all(os.path.exists(p) for p in wanted):
        return None
    placeholders = {}
    for name, sub in (("kubernetes", ()), ("kubernetes.client", ("client",)),
                      ("kubernetes.config", ("config",))):
        path = os.path.join(root, *sub)
        pspec = importlib.util.spec_from_file_location(
            name, os.path.join(path, "__init__.py"), submodule_search_locations=[path])
        placeholders[name] = importlib.util.module_from_spec(pspec)
    before = {name for name in sys.modules if name == "kubernetes" or name.startswith("kubernetes.")}
    if before:
        return None
    deferred = _deferred_oauthlib()
    sys.modules.update(placeholders)
    sys.modules.update(deferred)
    try:
        configuration = importlib.import_module("kubernetes.client.configuration")
        placeholders["kubernetes.client"].Configuration = configuration.Configuration
        placeholders["kubernetes.client"].ApiClient = _api_client
        kube_config = importlib.import_module("kubernetes.config.kube_config")
        incluster = importlib.import_module("kubernetes.config.incluster_config")
    finally:
        # Every module loaded here leaves sys.modules again (kdebug keeps its own references):
        # a later `import kubernetes` then loads the whole package as usual, into fresh modules.
        for name in [n for n in sys.modules if n == "kubernetes" or n.startswith("kubernetes.")]:
            del sys.modules[name]
        for name, module in deferred.items():
            if sys.modules.get(name) is module:
                del sys.modules[name]
    return kube_config, incluster, configuration.Configuration


def package():
    """(kube_config, incluster_config, Configuration) of the installed `kubernetes` package."""
    global _PACKAGE
    if _PACKAGE is None:
        loaded = None
        if "kubernetes" not in sys.modules:
            try:
                loaded = _load_light()
            except Exception:  # a layout this code does not know: the plain import below
                loaded = None
        if loaded is None:
            from kubernetes.client import Configuration
            from kubernetes.config import incluster_config, kube_config
            loaded = (kube_config, incluster_config, Configuration)
        _PACKAGE = loaded
    return _PACKAGE


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
    kube_config, incluster, Configuration = package()
    ConfigException = kube_config.ConfigException

    cfg = Configuration()
    explicit = opts.kubeconfig or os.environ.get("KUBECONFIG")
    default_path = os.path.expanduser("~/.kube/config")
    have_kubeconfig = bool(explicit) or os.path.exists(default_path)
    if have_kubeconfig:
        path = opts.kubeconfig  # None lets the package honour KUBECONFIG (with ':' merging)
        for p in (opts.kubeconfig or "").split(os.pathsep):
            if p and not os.path.exists(p):
                raise UsageError(f"cannot read kubeconfig {p}: no such file")
        try:
            contexts, active = kube_config.list_kube_config_contexts(config_file=path)
            # kubectl takes current-context from the FIRST file of KUBECONFIG that sets it; the
            # package's merger lets the last one win, so decide it here and name it explicitly.
            wanted = opts.context or first_current_context(path) or (active or {}).get("name")
            ctx = next((c for c in contexts or [] if c.get("name") == wanted), None)
            if opts.context and ctx is None:
                names = ", ".join(sorted(c.get("name", "") for c in contexts or []))
                raise UsageError(f"context {opts.context!r} does not exist in the kubeconfig "
                                 f"(contexts: {names or 'none'})")
            kube_config.load_kube_config(config_file=path, context=wanted,
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
            incluster.load_incluster_config(client_configuration=cfg)
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


def kubeconfig_files(path: Optional[str]) -> List[str]:
    """The kubeconfig files in kubectl's order: --kubeconfig, else KUBECONFIG's, else the default."""
    if path:
        return [path]
    return [p for p in os.environ.get("KUBECONFIG", "").split(os.pathsep) if p] or ["~/.kube/config"]


def kubeconfig_docs(path: Optional[str]):
    """Each readable kubeconfig file as a dict (unreadable ones are skipped, as kubectl does)."""
    import yaml
    for p in kubeconfig_files(path):
        try:
            with open(os.path.expanduser(p)) as fh:
                doc = yaml.safe_load(fh) or {}
        except (OSError, yaml.YAMLError):
            continue
        if isinstance(doc, dict):
            yield doc


def first_current_context(path: Optional[str]) -> Optional[str]:
    """current-context as kubectl merges KUBECONFIG: the first file that sets one wins."""
    return next((d["current-context"] for d in kubeconfig_docs(path) if d.get("current-context")),
                None)


def context_namespace_only(opts: ConnectionOptions) -> Optional[str]:
    """The current context's namespace without loading credentials (for offline runs)."""
    wanted = opts.context or first_current_context(opts.kubeconfig)
    for doc in kubeconfig_docs(opts.kubeconfig):
        for ctx in doc.get("contexts") or []:
            if isinstance(ctx, dict) and ctx.get("name") == wanted:
                return (ctx.get("context") or {}).get("namespace")
    return None
