"""IngressTLSSecretMissing: `spec.tls[].secretName` names a Secret that does not exist in the
Ingress's namespace; the controller then serves its default (self-signed) certificate for those hosts
(ingress-nginx: "Error getting SSL certificate ... local SSL certificate ... was not found. Using
default certificate"). Existence only: the Secret is read as metadata, never its data.
"""

import shlex
from typing import List

from ...sanitize import clean
from ...view import ClusterView, meta
from ..base import fix
from .base import finding, ns_flag


def analyze(view: ClusterView, ingress: dict, plugin: str) -> List:
    ns = meta(ingress).get("namespace") or "default"
    out = []
    for tls in (ingress.get("spec") or {}).get("tls") or []:
        secret = tls.get("secretName")
        if not secret:
            continue
        exists = view.exists("Secret", ns, secret)
        if exists is True or (exists is None and not (view.offline and view.readable("Secret"))):
            continue  # exists, or could not be read (the view says so in a note)
        # Offline input that holds no Secret at all: not found *in the input* — said as a warning.
        unsure = exists is None
        hosts = [h for h in tls.get("hosts") or [] if h]
        for_hosts = f" for {', '.join(clean(h) for h in hosts)}" if hosts else ""
        out.append(finding(
            ingress, plugin, "IngressTLSSecretMissing",
            f'the Ingress names the TLS Secret "{clean(secret)}"{for_hosts}, which does not exist in namespace '
            f"{clean(ns)}: the controller serves its default certificate there",
            evidence=[f'spec.tls secretName "{clean(secret)}"' + (f" hosts {', '.join(clean(h) for h in hosts)}" if hosts else ""),
                      (f'the input holds no Secret in namespace {clean(ns)}: check with kubectl get secret '
                       f'{clean(secret)} {ns_flag(ingress)}' if unsure else
                       f'secret "{clean(secret)}" not found in namespace {clean(ns)} (checked by metadata only)')],
            severity="warning" if unsure else None, cause="NotInInput" if unsure else None,
            suggestions=[fix(f"kubectl create secret tls {shlex.quote(secret)} {ns_flag(ingress)} --cert=CERT_FILE --key=KEY_FILE",
                             "create it from the certificate and key files (or let cert-manager issue it)"),
                         fix(f"kubectl get secrets {ns_flag(ingress)} --field-selector type=kubernetes.io/tls",
                             "the TLS Secrets that exist: a typo in secretName?")],
            details={"secret": secret, "hosts": hosts}))
    return out
