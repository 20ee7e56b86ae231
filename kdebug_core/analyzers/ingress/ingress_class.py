"""IngressClassMissing: the Ingress names an IngressClass that does not exist, so no controller
serves it (no address in its status, no events from a controller).

`spec.ingressClassName` must name an IngressClass object (networking.k8s.io/v1, cluster-scoped). The
legacy annotation `kubernetes.io/ingress.class` names a controller's own `--ingress-class` instead, not
an object, so it is not checked against IngressClasses. An Ingress with neither is taken by the class
marked `ingressclass.kubernetes.io/is-default-class: "true"`; with classes but no default, most
controllers ignore it. An Ingress that a controller evidently serves is never reported.
"""

import json
import shlex
from typing import List

from ...sanitize import clean
from ...view import ClusterView, meta
from ..base import fix
from .base import CLASS_ANNOTATION, DEFAULT_CLASS, finding, ns_flag, served


def analyze(view: ClusterView, ingress: dict, plugin: str) -> List:
    spec = ingress.get("spec") or {}
    name = spec.get("ingressClassName")
    annotation = (meta(ingress).get("annotations") or {}).get(CLASS_ANNOTATION)
    if (not name and annotation) or served(view, ingress):
        return []
    if not view.readable("IngressClass"):
        return []
    classes = view.list("IngressClass")
    names = [meta(c).get("name", "") for c in classes]
    ing = shlex.quote(meta(ingress).get("name", ""))
    if name:
        if name in names:
            return []
        evidence = [f'spec.ingressClassName: "{clean(name)}"']
        evidence.append("IngressClasses that exist: " + ", ".join(
            f"{clean(meta(c).get('name'))} ({clean((c.get('spec') or {}).get('controller'))})" for c in classes)
            if classes else ("the input holds no IngressClass" if view.offline else "the cluster has no IngressClass"))
        evidence.append("status.loadBalancer is empty: no controller has taken the Ingress")
        fixes = []
        if len(names) == 1:
            body = json.dumps({"spec": {"ingressClassName": names[0]}}, separators=(",", ":"))
            fixes.append(fix(f"kubectl patch ingress {ing} {ns_flag(ingress)} --type=merge -p {shlex.quote(body)}",
                             f"serve it with the one class there is ({names[0]})"))
        fixes.append(fix("kubectl get ingressclass", "the classes there are: is the ingress controller installed?"))
        return [finding(ingress, plugin, "IngressClassMissing",
                        f'the Ingress names the IngressClass "{clean(name)}", which does not exist, so no '
                        f"controller serves it", evidence=evidence, suggestions=fixes,
                        details={"ingressClassName": name, "classes": names})]
    default = [c for c in classes if (meta(c).get("annotations") or {}).get(DEFAULT_CLASS) == "true"]
    if not classes or default:
        return []
    body = json.dumps({"spec": {"ingressClassName": names[0]}}, separators=(",", ":"))
    return [finding(ingress, plugin, "IngressClassMissing",
                    "the Ingress names no IngressClass and none is marked default, so controllers ignore it",
                    severity="warning", cause="NoDefaultClass",
                    evidence=["no spec.ingressClassName and no kubernetes.io/ingress.class annotation",
                              "IngressClasses, none default: " + ", ".join(clean(n) for n in names)],
                    suggestions=[fix(f"kubectl patch ingress {ing} {ns_flag(ingress)} --type=merge -p {shlex.quote(body)}",
                                     "name the class that should serve it")],
                    details={"classes": names})]
