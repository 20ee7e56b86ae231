"""kdebug's light loading of the `kubernetes` package's kubeconfig loader, against the package itself.

kdebug_core/sources/kubeconfig.py imports kube_config/incluster_config without the generated client
(see its docstring). These tests run many kubeconfig shapes twice, each in a fresh process: once
through kdebug's `load_configuration`, once through the fully imported package
(`kubernetes.config.load_kube_config` / `load_incluster_config`), and compare what each produced —
server, TLS material (by content: inline data goes to temp files whose names differ), credentials,
the auth headers, the namespace, the error for broken ones, and how many temp files each wrote
(kdebug must not add copies of credentials on disk). kdebug's one deliberate difference (kubectl's:
current-context from the first KUBECONFIG file that sets it) is given to the package as an explicit
context. `--help` and `-f` runs must not import the package at all.
"""

import base64
import json
import os
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

PEM_CA = "-----BEGIN CERTIFICATE-----\nMIIBca\n-----END CERTIFICATE-----\n"
PEM_CERT = "-----BEGIN CERTIFICATE-----\nMIIBclient\n-----END CERTIFICATE-----\n"
PEM_KEY = "-----BEGIN RSA PRIVATE KEY-----\nMIIEkey\n-----END RSA PRIVATE KEY-----\n"

# Runs in a fresh interpreter: argv = mode ("kdebug" | "package"), cases JSON path.
PROBE = r"""
import json, os, sys
mode, cases_path = sys.argv[1], sys.argv[2]
cases = json.load(open(cases_path))

def content(path):
    if not path:
        return None
    with open(path, "rb") as fh:
        return fh.read().decode()

def norm(cfg, namespace):
    return {"host": cfg.host, "api_key": dict(cfg.api_key or {}),
            "api_key_prefix": dict(cfg.api_key_prefix or {}), "username": cfg.username,
            "password": cfg.password, "verify_ssl": cfg.verify_ssl,
            "ssl_ca_cert": content(cfg.ssl_ca_cert), "cert_file": content(cfg.cert_file),
            "key_file": content(cfg.key_file), "proxy": cfg.proxy,
            "tls_server_name": getattr(cfg, "tls_server_name", None),
            "assert_hostname": cfg.assert_hostname,
            "auth": {k: dict(v) for k, v in (cfg.auth_settings() or {}).items()},
            "namespace": namespace}

base_env = dict(os.environ)
out = {}
for case in cases:
    os.environ.clear()
    os.environ.update(base_env)
    os.environ.update(case.get("env") or {})
    for name in case.get("unset") or []:
        os.environ.pop(name, None)
    incluster = case.get("incluster")
    try:
        if mode == "kdebug":
            from kdebug_core.errors import KdebugError
            from kdebug_core.sources import kubeconfig
            if incluster:
                module = kubeconfig.package()[1]
                module.SERVICE_TOKEN_FILENAME = incluster["token"]
                module.SERVICE_CERT_FILENAME = incluster["ca"]
                kubeconfig.IN_CLUSTER_NAMESPACE_FILE = incluster["namespace"]
            try:
                cfg, ns = kubeconfig.load_configuration(kubeconfig.ConnectionOptions(
                    kubeconfig=case.get("kubeconfig"), context=case.get("context")))
                out[case["name"]] = norm(cfg, ns)
            except KdebugError as exc:
                text = str(exc)
                for prefix in ("invalid kubeconfig: ", "cannot load kubeconfig credentials: ",
                               "in-cluster configuration failed: "):
                    if text.startswith(prefix):
                        text = text[len(prefix):]
                out[case["name"]] = {"error": text}
        else:
            import kubernetes
            from kubernetes import client, config
            cfg = client.Configuration()
            try:
                if incluster:
                    from kubernetes.config import incluster_config
                    incluster_config.SERVICE_TOKEN_FILENAME = incluster["token"]
                    incluster_config.SERVICE_CERT_FILENAME = incluster["ca"]
                    config.load_incluster_config(client_configuration=cfg)
                    ns = open(incluster["namespace"]).read().strip() or None
                else:
                    context = case.get("context") or case.get("kubectl_context")
                    contexts, active = config.list_kube_config_contexts(config_file=case.get("kubeconfig"))
                    ctx = next((c for c in contexts if c["name"] == (context or active["name"])), {})
                    config.load_kube_config(config_file=case.get("kubeconfig"), context=context,
                                            client_configuration=cfg, persist_config=False)
                    ns = (ctx.get("context") or {}).get("namespace")
                out[case["name"]] = norm(cfg, ns)
            except Exception as exc:
                out[case["name"]] = {"error": str(exc)}
    except Exception as exc:
        out[case["name"]] = {"probe failure": f"{type(exc).__name__}: {exc}"}
import tempfile
out["__temp__"] = sorted(os.listdir(tempfile.gettempdir()))  # before the package's atexit cleanup
out["__modules__"] = sorted(m for m in sys.modules if m.split(".")[0] in ("kubernetes", "pydantic"))
print(json.dumps(out))
"""


def _write(path, doc):
    path.write_text(json.dumps(doc))  # JSON is YAML
    return str(path)


def _b64(text):
    return base64.b64encode(text.encode()).decode()


def _jwt(claims):
    def part(doc):
        return base64.urlsafe_b64encode(json.dumps(doc).encode()).decode().rstrip("=")
    return f"{part({'alg': 'RS256', 'typ': 'JWT'})}.{part(claims)}.c2lnbmF0dXJl"


def _config(cluster, user, namespace=None, name="c", current=True, extra_contexts=()):
    ctx = {"cluster": name, "user": name}
    if namespace:
        ctx["namespace"] = namespace
    doc = {"apiVersion": "v1", "kind": "Config",
           "clusters": [{"name": name, "cluster": cluster}],
           "users": [{"name": name, "user": user}],
           "contexts": [{"name": name, "context": ctx}] + list(extra_contexts)}
    if current:
        doc["current-context"] = name
    return doc


def _cases(tmp):
    (tmp / "ca.crt").write_text(PEM_CA)
    (tmp / "client.crt").write_text(PEM_CERT)
    (tmp / "client.key").write_text(PEM_KEY)
    (tmp / "token").write_text("file-token")  # the package keeps a trailing newline (kubectl trims it)
    server = {"server": "https://10.0.0.1:6443", "certificate-authority": "ca.crt"}
    exec_token = tmp / "exec_token.py"
    exec_token.write_text(
        "import json, os\n"
        "print(json.dumps({'apiVersion': 'client.authentication.k8s.io/v1beta1',"
        " 'kind': 'ExecCredential', 'status': {'token': 'exec-' + os.environ.get('EXTRA', '?')}}))\n")
    exec_cert = tmp / "exec_cert.py"
    exec_cert.write_text(
        "import json\n"
        f"print(json.dumps({{'apiVersion': 'client.authentication.k8s.io/v1', 'kind': 'ExecCredential',"
        f" 'status': {{'clientCertificateData': {PEM_CERT!r}, 'clientKeyData': {PEM_KEY!r}}}}}))\n")
    exec_fail = tmp / "exec_fail.py"
    exec_fail.write_text("import sys\nsys.stderr.write('login required\\n')\nsys.exit(1)\n")
    py = sys.executable

    def exec_user(script, api="client.authentication.k8s.io/v1beta1", **more):
        return {"exec": dict({"apiVersion": api, "command": py, "args": [str(script)],
                              "env": [{"name": "EXTRA", "value": "from-env"}]}, **more)}

    files = {
        "token": _config(server, {"token": "static-token"}, namespace="payments"),
        "inline": _config({"server": "https://10.0.0.2:6443",
                           "certificate-authority-data": _b64(PEM_CA)},
                          {"client-certificate-data": _b64(PEM_CERT),
                           "client-key-data": _b64(PEM_KEY)}),
        "cert-files": _config(server, {"client-certificate": "client.crt",
                                       "client-key": str(tmp / "client.key")}, namespace="ops"),
        "token-file": _config(server, {"tokenFile": str(tmp / "token")}),
        "basic": _config(server, {"username": "admin", "password": "s3cret"}),
        "insecure": _config({"server": "https://10.0.0.3:6443", "insecure-skip-tls-verify": True},
                            {"token": "t"}),
        "exec-token": _config(server, exec_user(exec_token)),
        "exec-cert": _config(server, exec_user(exec_cert, api="client.authentication.k8s.io/v1",
                                               interactiveMode="Never")),
        "exec-fails": _config(server, exec_user(exec_fail)),
        "proxy": _config(dict(server, **{"proxy-url": "http://proxy.corp:3128"}), {"token": "t"}),
        "tls-server-name": _config(dict(server, **{"tls-server-name": "api.internal"}), {"token": "t"}),
        "oidc": _config(server, {"auth-provider": {"name": "oidc", "config": {
            "client-id": "kubernetes", "idp-issuer-url": "https://issuer.example",
            "id-token": _jwt({"iss": "https://issuer.example", "exp": 4102444800, "sub": "me"})}}}),
        "no-user": {"apiVersion": "v1", "kind": "Config", "current-context": "c",
                    "clusters": [{"name": "c", "cluster": server}],
                    "contexts": [{"name": "c", "context": {"cluster": "c", "user": "ghost"}}]},
        "no-cluster": {"apiVersion": "v1", "kind": "Config", "current-context": "c",
                       "users": [{"name": "c", "user": {"token": "t"}}],
                       "contexts": [{"name": "c", "context": {"cluster": "gone", "user": "c"}}]},
        # KUBECONFIG=first:second — first sets current-context alpha but holds no credentials;
        # second defines the clusters/users, its own current-context beta, and a duplicate "alpha"
        # context (the first file's wins in a merge).
        "first": {"apiVersion": "v1", "kind": "Config", "current-context": "alpha",
                  "contexts": [{"name": "alpha", "context": {"cluster": "one", "user": "u1",
                                                             "namespace": "from-first"}}]},
        "second": {"apiVersion": "v1", "kind": "Config", "current-context": "beta",
                   "clusters": [{"name": "one", "cluster": server},
                                {"name": "two", "cluster": {"server": "https://10.0.0.9:6443",
                                                            "insecure-skip-tls-verify": True}}],
                   "users": [{"name": "u1", "user": {"token": "one-token"}},
                             {"name": "u2", "user": {"tokenFile": str(tmp / "token")}}],
                   "contexts": [{"name": "alpha", "context": {"cluster": "two", "user": "u2",
                                                              "namespace": "from-second"}},
                                {"name": "beta", "context": {"cluster": "two", "user": "u2"}}]},
    }
    paths = {name: _write(tmp / f"{name}.kubeconfig", doc) for name, doc in files.items()}
    home = tmp / "home"
    (home / ".kube").mkdir(parents=True)
    _write(home / ".kube" / "config", _config(dict(server, **{"certificate-authority": str(tmp / "ca.crt")}),
                                              {"token": "static-token"}, namespace="payments"))
    empty_home = tmp / "empty-home"
    empty_home.mkdir()
    (tmp / "sa-namespace").write_text("payments\n")
    merged = f"{paths['first']}{os.pathsep}{paths['second']}"
    cases = [{"name": name, "kubeconfig": paths[name]} for name in files if name not in ("first", "second")]
    cases += [
        {"name": "KUBECONFIG one file", "env": {"KUBECONFIG": paths["inline"]}},
        {"name": "KUBECONFIG merged", "env": {"KUBECONFIG": merged}, "kubectl_context": "alpha"},
        {"name": "KUBECONFIG merged --context beta", "env": {"KUBECONFIG": merged}, "context": "beta"},
        {"name": "--kubeconfig over KUBECONFIG", "env": {"KUBECONFIG": merged},
         "kubeconfig": paths["basic"]},
        {"name": "~/.kube/config", "env": {"HOME": str(home)}, "unset": ["KUBECONFIG"]},
        {"name": "in-cluster", "env": {"HOME": str(empty_home), "KUBERNETES_SERVICE_HOST": "10.96.0.1",
                                       "KUBERNETES_SERVICE_PORT": "443"},
         "unset": ["KUBECONFIG"],
         "incluster": {"token": str(tmp / "token"), "ca": str(tmp / "ca.crt"),
                       "namespace": str(tmp / "sa-namespace")}},
    ]
    return cases


def _probe(mode, cases, tmp):
    """Each case in its own interpreter (the package reads KUBECONFIG when it is imported, as a
    real run does at start-up): {case name: result}, the modules loaded, the temp files written."""
    out, modules, temp_files = {}, set(), []
    for i, case in enumerate(cases):
        cases_path = tmp / f"{mode}-{i}.json"
        cases_path.write_text(json.dumps([case]))
        tmpdir = tmp / f"tmp-{mode}-{i}"
        tmpdir.mkdir()
        env = dict(os.environ, TMPDIR=str(tmpdir), PYTHONPATH=ROOT)
        env.pop("KUBECONFIG", None)
        env.update(case.get("env") or {})
        for name in case.get("unset") or []:
            env.pop(name, None)
        done = subprocess.run([sys.executable, "-c", PROBE, mode, str(cases_path)], env=env,
                              capture_output=True, text=True, cwd=ROOT, timeout=120)
        assert done.returncode == 0, done.stderr
        result = json.loads(done.stdout)
        modules.update(result.pop("__modules__"))
        temp_files += result.pop("__temp__")
        out.update(result)
    return out, sorted(modules), temp_files


def _package_knows(field):
    """Whether the installed release's kube_config reads this kubeconfig field."""
    import importlib.util
    root = list(importlib.util.find_spec("kubernetes").submodule_search_locations)[0]
    with open(os.path.join(root, "config", "kube_config.py")) as fh:
        return f"'{field}'" in fh.read()


def _headers(result):
    """The auth headers a Configuration yields (api_key's own keys differ between releases)."""
    return {a["key"].lower(): a["value"] for a in result["auth"].values() if a.get("in") == "header"}


def test_kdebug_loads_every_kubeconfig_shape_as_the_full_package_does(tmp_path):
    cases = _cases(tmp_path)
    mine, my_modules, my_temp_files = _probe("kdebug", cases, tmp_path)
    theirs, their_modules, their_temp_files = _probe("package", cases, tmp_path)

    # kdebug never imported the generated client (nor pydantic); the package's run did.
    assert my_modules == []
    assert "kubernetes.client.models" in their_modules
    for case in cases:
        name = case["name"]
        assert "probe failure" not in theirs[name] and "probe failure" not in mine[name], name
        assert mine[name] == theirs[name], name
    # The shapes really exercise what they claim (not two identical empty results).
    assert _headers(mine["token"])["authorization"] == "Bearer static-token"
    assert mine["token"]["namespace"] == "payments"
    assert mine["inline"]["cert_file"] == PEM_CERT and mine["inline"]["ssl_ca_cert"] == PEM_CA
    assert mine["cert-files"]["key_file"] == PEM_KEY
    assert _headers(mine["token-file"])["authorization"] == "Bearer file-token"
    assert _headers(mine["basic"]) == {"authorization": "Basic " + _b64("admin:s3cret")}
    assert mine["insecure"]["verify_ssl"] is False
    assert _headers(mine["exec-token"])["authorization"] == "Bearer exec-from-env"
    assert mine["exec-cert"]["cert_file"] == PEM_CERT
    # A failing exec plugin, a missing user: the package logs and goes on without credentials.
    assert mine["exec-fails"]["auth"] == {} and mine["no-user"]["auth"] == {}
    assert "error" in mine["no-cluster"]
    # proxy-url and tls-server-name are honoured by the releases that know them (both loaders
    # agree either way, above).
    if _package_knows("proxy-url"):
        assert mine["proxy"]["proxy"] == "http://proxy.corp:3128"
    if _package_knows("tls-server-name"):
        assert mine["tls-server-name"]["tls_server_name"] == "api.internal"
    assert _headers(mine["oidc"])["authorization"].startswith("Bearer ey")
    # kubectl: current-context from the first file; the first file's "alpha" wins the merge.
    assert mine["KUBECONFIG merged"]["namespace"] == "from-first"
    assert _headers(mine["KUBECONFIG merged"])["authorization"] == "Bearer one-token"
    assert mine["KUBECONFIG merged --context beta"]["host"] == "https://10.0.0.9:6443"
    assert _headers(mine["--kubeconfig over KUBECONFIG"]) == {"authorization": "Basic " + _b64("admin:s3cret")}
    assert mine["~/.kube/config"]["namespace"] == "payments"
    assert mine["in-cluster"]["host"] == "https://10.96.0.1:443"
    assert mine["in-cluster"]["namespace"] == "payments"
    # Inline credentials go to the package's temp files, as many as the package itself writes.
    assert len(my_temp_files) == len(their_temp_files) > 0


def test_a_later_full_import_still_gets_the_whole_package(tmp_path):
    code = ("from kdebug_core.sources import kubeconfig\n"
            "kube_config, incluster, Configuration = kubeconfig.package()\n"
            "import kubernetes\n"
            "from kubernetes import client, config\n"
            "assert hasattr(client, 'CoreV1Api') and callable(config.load_kube_config)\n"
            "assert kube_config.OAuth2Session(client_id='x').__class__.__name__ == 'OAuth2Session'\n"
            "err = kube_config.oauthlib.oauth2.rfc6749.errors.InvalidClientIdError\n"
            "assert issubclass(err, Exception)\n"
            "print('ok')\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT,
                          env=dict(os.environ, PYTHONPATH=ROOT), timeout=120)
    assert done.returncode == 0 and done.stdout.strip() == "ok", done.stderr


@pytest.mark.parametrize("args", [["--help"], ["-f", os.path.join(ROOT, "scenarios"), "-A", "-o", "json"]])
@pytest.mark.parametrize("plugin", ["why", "endpoints-check", "oomcheck", "probecheck"])
def test_help_and_offline_runs_never_import_the_kubernetes_package(plugin, args):
    code = ("import sys, io\n"
            "from kdebug_core.main import run\n"
            "try:\n"
            f"    rc = run({plugin!r}, {args!r}, stdin=io.StringIO(''), stdout=io.StringIO(), stderr=io.StringIO())\n"
            "except SystemExit as exc:\n"
            "    rc = exc.code\n"
            "print('MODULES', rc, sorted(m for m in sys.modules if m.split('.')[0] in ('kubernetes', 'pydantic', 'urllib3')))\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT,
                          env=dict(os.environ, PYTHONPATH=ROOT), timeout=120)
    line = done.stdout.strip().splitlines()[-1]  # after --help's text
    _, rc, modules = line.split(" ", 2)
    assert done.returncode == 0, done.stderr
    assert rc in ("0", "1") and modules == "[]", done.stdout
