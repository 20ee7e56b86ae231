"""The shipped RBAC (rbac/kdebug-rbac.yaml) on the real test cluster, and --as impersonation.

Each plugin runs as a ServiceAccount bound only to kdebug's ClusterRoles (kdebug-reader and the
optional kdebug-secret-existence): the real API server's authorizer must refuse nothing it asks
(no read listed as incomplete, the same findings as the admin gets). With the bindings removed,
the same run must stop with exit 3 and one clear line. Then the namespaced Role alone, and --as.
"""
import json
import os
import subprocess
import tempfile

import pytest
import yaml

pytestmark = pytest.mark.skipif(not os.environ.get("KDEBUG_REAL_CLUSTER"),
                                reason="needs the real test cluster: run `make test-cluster`")

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SA = "kdebug-rbac-test"
PLUGINS = ["why", "endpoints-check", "oomcheck", "probecheck"]


def kubectl(*args, kubeconfig=None, timeout=180, check=False):
    cmd = ["kubectl", *args]
    env = dict(os.environ)
    if kubeconfig:   # kubectl takes no flags before a plugin's name: the environment instead
        env["KUBECONFIG"] = kubeconfig
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=env)
    if check:
        assert p.returncode == 0, f"{' '.join(cmd)}: {p.stderr}"
    return p


@pytest.fixture(scope="module")
def sa_kubeconfig():
    kubectl("apply", "-f", os.path.join(ROOT, "rbac", "kdebug-rbac.yaml"), check=True)
    kubectl("create", "serviceaccount", SA, "-n", "default", check=True)
    token = kubectl("create", "token", SA, "-n", "default", "--duration=1h", check=True).stdout.strip()
    admin = yaml.safe_load(open(os.environ["KUBECONFIG"]))
    admin["users"] = [{"name": SA, "user": {"token": token}}]
    admin["contexts"][0]["context"]["user"] = SA
    fd, path = tempfile.mkstemp(suffix=".kubeconfig")
    with os.fdopen(fd, "w") as fh:
        yaml.safe_dump(admin, fh)
    yield path
    for b in ("clusterrolebinding/kdebug-rbac-test-reader", "clusterrolebinding/kdebug-rbac-test-secrets",
              "rolebinding/kdebug-rbac-test-ns"):
        kubectl("delete", b, "-n", "default", "--ignore-not-found")
    kubectl("delete", "serviceaccount", SA, "-n", "default", "--ignore-not-found")
    os.unlink(path)


def bind_cluster_roles():
    kubectl("create", "clusterrolebinding", "kdebug-rbac-test-reader", "--clusterrole=kdebug-reader",
            f"--serviceaccount=default:{SA}", check=True)
    kubectl("create", "clusterrolebinding", "kdebug-rbac-test-secrets", "--clusterrole=kdebug-secret-existence",
            f"--serviceaccount=default:{SA}", check=True)


def unbind_cluster_roles():
    kubectl("delete", "clusterrolebinding", "kdebug-rbac-test-reader", "kdebug-rbac-test-secrets",
            "--ignore-not-found", check=True)


def report(plugin, *args, kubeconfig=None):
    p = kubectl(plugin, *args, "-o", "json", kubeconfig=kubeconfig)
    return p, (json.loads(p.stdout) if p.stdout.strip().startswith("{") else None)


def summary(rep):
    return sorted({(f["reason"], (f.get("owner") or f["object"])["name"], f.get("container") or "")
                   for f in rep["findings"]})


@pytest.mark.parametrize("plugin", PLUGINS)
def test_shipped_cluster_roles_suffice(sa_kubeconfig, plugin):
    bind_cluster_roles()
    try:
        p, rep = report(plugin, "-A", kubeconfig=sa_kubeconfig)
        assert p.returncode in (0, 1), p.stderr
        assert "forbidden" not in p.stderr.lower(), p.stderr
        refused = [i for i in rep.get("incomplete") or [] if i.get("status") == 403]
        assert not refused, f"reads refused as {SA}: {refused}"
        _, admin = report(plugin, "-A")
        # the same workloads diagnosed (their reasons may move on between the two runs: a crash
        # loop between back-offs, a probe that just failed)
        assert {o for _, o, _ in summary(rep)} == {o for _, o, _ in summary(admin)}, (summary(rep), summary(admin))
    finally:
        unbind_cluster_roles()


@pytest.mark.parametrize("plugin", PLUGINS)
def test_without_a_binding_exit_3_and_one_clear_line(sa_kubeconfig, plugin):
    p = kubectl(plugin, "-A", kubeconfig=sa_kubeconfig)
    assert p.returncode == 3, (p.returncode, p.stdout[-2000:], p.stderr)
    lines = [ln for ln in p.stderr.splitlines() if ln.strip()]
    assert lines and ("forbidden" in p.stderr.lower() or "cannot list" in p.stderr), p.stderr
    assert f"system:serviceaccount:default:{SA}" in p.stderr, p.stderr


@pytest.mark.parametrize("target,reason", [("deploy/crasher", "CrashLoopBackOff"),
                                           ("deploy/memory-hog", "OOMKilled"),
                                           ("deploy/broken-image", "ImagePullBackOff"),
                                           ("deploy/config-app", "ConfigMapNotFound")])
def test_namespaced_role_alone(sa_kubeconfig, target, reason):
    """The Role in one namespace: its workloads are judged; only cluster-scoped reads are refused."""
    kubectl("create", "rolebinding", "kdebug-rbac-test-ns", "-n", "default", "--role=kdebug-reader",
            f"--serviceaccount=default:{SA}", check=True)
    try:
        p, rep = report("why", target, "-n", "default", kubeconfig=sa_kubeconfig)
        assert rep is not None and p.returncode in (1, 3), p.stderr
        refused = [i for i in rep.get("incomplete") or [] if i.get("status") == 403]
        namespaced = [i for i in refused if i.get("namespace")]
        assert not namespaced, f"namespaced reads refused under the Role: {namespaced}"
        assert reason in {f["reason"] for f in rep["findings"]}, summary(rep)
    finally:
        kubectl("delete", "rolebinding", "kdebug-rbac-test-ns", "-n", "default", check=True)


def test_as_impersonation():
    """--as: the admin impersonates the ServiceAccount; without a binding the server refuses it."""
    p = kubectl("why", "-A", "--as", f"system:serviceaccount:default:{SA}")
    assert p.returncode == 3, (p.returncode, p.stderr)
    assert f"system:serviceaccount:default:{SA}" in p.stderr, p.stderr
    p = kubectl("why", "deploy/crasher", "-n", "default", "--as", "kubernetes-admin", "--as-group", "system:masters")
    assert p.returncode == 1 and "CrashLoopBackOff" in p.stdout, p.stdout + p.stderr


def test_no_metrics_server_is_not_a_failed_read():
    """The real server answers an unregistered metrics.k8s.io with a plain-text '404 page not
    found' (not a Status): that is 'not served', said once, not a failed read."""
    _, rep = report("oomcheck", "-A")
    assert not [i for i in rep.get("incomplete") or [] if "metrics.k8s.io" in i.get("resource", "")], rep["incomplete"]
