"""ImagePullBackOff / ErrImagePull / InvalidImageName: the image cannot be pulled.

Detected from the container's waiting reason (events expire; status does not). The cause comes from
the runtime's error text, which is in the ErrImagePull waiting message while the kubelet is pulling
and only in the `Failed` events once it is backing off (the BackOff message is just
`Back-off pulling image "X"`).

When no status says so (an events dump, a pod rebuilt from a `describe` paste), the kubelet's events
are enough: `Failed` with `Failed to pull image "X": ...` or `Error: ErrImagePull` /
`Error: ImagePullBackOff`, `BackOff` with `Back-off pulling image "X"`, and for a bad reference
`InspectFailed` (`Failed to apply default image tag "X": couldn't parse image reference "X": invalid
reference format`) or `Error: InvalidImageName` — unless a later `Pulled` event says the image
arrived. The kubelet's fixed prefixes are matched without regard to case (older kubelets wrote
`pulling image`, `failed to pull image`).
"""

import re
from typing import List, Optional

from ...findings import Finding
from ...sanitize import clean
from ...view import event_time
from ..base import PodContext, fix, quote, status_line

PULL_REASONS = ("ErrImagePull", "ImagePullBackOff", "ErrImageNeverPull", "ImageInspectError")

# Runtime error text → cause, first match wins. Registries answer a pull of a repository that
# does not exist with "pull access denied, repository does not exist or may require
# authorization" (Docker Hub adds "insufficient_scope"): they will not say which, to avoid
# leaking private names. That wording is classified NotFound — a wrong name is by far the common
# case — and the suggestions cover credentials too. Unauthorized is kept for registries that
# refuse explicitly (401, "authentication required", "no basic auth credentials").
#
# The causes that name a precise fault come before the broad ones: containerd reports a tag with
# no image for the node's platform as `code = NotFound desc = ... no match for platform in
# manifest: not found`, which is not a missing image; an `x509:` error means the registry was
# reached (its certificate is not trusted), not that it is unreachable.
_CAUSES = [
    ("NeverPull", re.compile(r"is not present with pull policy of Never|ErrImageNeverPull", re.I)),
    # CRI-O (containers/image): short names need an alias or unqualified-search registries
    ("ShortName", re.compile(r"short-name .{0,300}?did not resolve to an alias|"
                             r"short-name resolution enforced", re.I)),
    # docker: "no matching manifest for linux/arm/v7 in the manifest list entries"; containerd:
    # "no match for platform in manifest: not found"; CRI-O: "choosing image instance: no image
    # found in manifest list for architecture arm64, variant "v8", OS linux", "Image architecture
    # mismatch: image uses "amd64", expecting "arm64""
    ("PlatformMismatch", re.compile(r"no matching manifest for|no match for platform|"
                                    r"no image found in manifest list for architecture|"
                                    r"image architecture mismatch|"
                                    r"image operating system .{0,40} cannot be used on this platform", re.I)),
    ("RateLimited", re.compile(r"429 Too Many Requests|toomanyrequests|rate limit", re.I)),
    ("CertificateUntrusted", re.compile(r"x509:|tls: failed to verify certificate|"
                                        r"certificate signed by unknown authority", re.I)),
    ("InsecureRegistry", re.compile(r"server gave HTTP response to HTTPS client", re.I)),
    ("NotFound", re.compile(r"repository does not exist|pull access denied|not found|"
                            r"manifest unknown|name unknown|NotFound desc", re.I)),
    ("Unauthorized", re.compile(r"401 Unauthorized|403 Forbidden|unauthorized|authentication required|"
                                r"denied: requested access|no basic auth credentials|"
                                r"insufficient_scope|authorization failed", re.I)),
    ("RegistryUnreachable", re.compile(r"no such host|i/o timeout|connection refused|"
                                       r"network is unreachable|TLS handshake timeout|"
                                       r"dial tcp|server misbehaving", re.I)),
]

_EXPLAIN = {
    "NotFound": "the image or tag does not exist in the registry (or the repository is private)",
    "Unauthorized": "the registry refused the credentials (or there were none)",
    "RegistryUnreachable": "the node cannot reach the registry",
    "RateLimited": "the registry is rate-limiting pulls from this node",
    "NeverPull": "the image is not on the node and imagePullPolicy Never forbids pulling it",
    "ShortName": "the runtime (CRI-O) does not resolve the short name to a registry",
    "PlatformMismatch": "the tag has no image for the node's platform",
    "CertificateUntrusted": "the node reached the registry but does not trust its TLS certificate",
    "InsecureRegistry": "the registry answered in plain HTTP and the runtime insists on HTTPS",
    "Unknown": "the runtime gave no recognisable reason",
}

# "no matching manifest for linux/arm/v7 in ..." (docker); "... for architecture arm64, variant
# "v8", OS linux" (CRI-O); "image uses "amd64", expecting "arm64"" (CRI-O)
_PLATFORM = [
    re.compile(r"no matching manifest for (?P<p>[\w./-]+)", re.I),
    re.compile(r'for architecture (?P<arch>[\w-]+),\s*variant "?(?P<variant>[\w-]*)"?,\s*OS (?P<os>[\w-]+)', re.I),
    re.compile(r'expecting "(?P<arch>[\w-]+)"', re.I),
]


_PULL_FAILED = re.compile(r'failed to pull image\s+"([^"]*)"', re.I)
_PULL_ERROR = re.compile(r"^\s*Error:\s*(ErrImagePull|ImagePullBackOff|ErrImageNeverPull|ImageInspectError)\s*$",
                         re.I)
# the kubelet's image manager (pkg/kubelet/images/image_manager.go): event ErrImageNeverPull
# `Container image "X" is not present with pull policy of Never`, event InspectFailed
# `Failed to inspect image "X": <runtime error>`
_NEVER_PULL = re.compile(r'Container image\s+"([^"]*)"\s+is not present with pull policy of Never', re.I)
_INSPECT_FAILED = re.compile(r'Failed to inspect image\s+"([^"]*)"', re.I)
_PULL_BACKOFF = re.compile(r'back-?off pulling image\s+"([^"]*)"', re.I)
_INVALID = re.compile(r"couldn't parse image reference|invalid reference format|"
                      r"^\s*Error:\s*InvalidImageName\s*$", re.I)
_PULLED = re.compile(r'Successfully pulled image\s+"([^"]*)"|Container image\s+"([^"]*)"\s+already present',
                     re.I)


def classify(message: str) -> str:
    for cause, pattern in _CAUSES:
        if pattern.search(message or ""):
            return cause
    return "Unknown"


def _registry(image: str) -> str:
    first = image.split("/", 1)[0]
    if "/" in image and ("." in first or ":" in first or first == "localhost"):
        return first
    return "docker.io"


def analyze(ctx: PodContext) -> List[Finding]:
    findings = []
    for c in ctx.containers():
        waiting = c.waiting or {}
        reason = waiting.get("reason")
        if reason is None or reason in ("ContainerCreating", "PodInitializing"):
            if c.state.get("running") or c.terminated or c.last_terminated:
                continue  # the image was there once: old pull events are history
            reason = _reason_from_events(ctx, c)
        if reason == "InvalidImageName":
            findings.append(_invalid_name(ctx, c))
        elif reason in PULL_REASONS:
            findings.append(_pull_failed(ctx, c, reason))
    return findings


def _mine(ctx: PodContext, c, ev: dict, image_in: Optional[str]) -> bool:
    """Is this pod-level event about this container? By its fieldPath, else by the image it names."""
    fp = (ev.get("involvedObject") or {}).get("fieldPath") or ""
    if fp:
        return True  # events_where already matched the container
    if image_in is None:
        return len(list(ctx.containers())) == 1
    image = c.spec.get("image") or ""
    return image_in == image or image_in.endswith("/" + image) or image.endswith("/" + image_in)


def _reason_from_events(ctx: PodContext, c) -> Optional[str]:
    """ErrImagePull / ImagePullBackOff / InvalidImageName told by the kubelet's events alone."""
    failed_at, reason = None, None
    for ev in ctx.events_where(None, c.name, init=c.init):
        msg, kind = ev.get("message") or "", ev.get("reason")
        when = event_time(ev)
        m = _PULL_FAILED.search(msg) if kind == "Failed" else None
        b = _PULL_BACKOFF.search(msg) if kind == "BackOff" else None
        e = _PULL_ERROR.match(msg) if kind == "Failed" else None
        if kind in ("InspectFailed", "Failed") and _INVALID.search(msg) and _mine(ctx, c, ev, None):
            return "InvalidImageName"
        n = _NEVER_PULL.search(msg) if kind in ("ErrImageNeverPull", "Failed") else None
        i = _INSPECT_FAILED.search(msg) if kind in ("InspectFailed", "Failed") else None
        if (n and _mine(ctx, c, ev, n.group(1))) or (e and e.group(1).lower() == "errimageneverpull"
                                                     and _mine(ctx, c, ev, None)):
            reason = "ErrImageNeverPull"  # the policy forbids pulling: no back-off will change it
        elif (i and _mine(ctx, c, ev, i.group(1))) or (e and e.group(1).lower() == "imageinspecterror"
                                                       and _mine(ctx, c, ev, None)):
            reason = reason if reason == "ErrImageNeverPull" else "ImageInspectError"
        elif (m and _mine(ctx, c, ev, m.group(1))) or (b and _mine(ctx, c, ev, b.group(1))) or \
                (e and _mine(ctx, c, ev, None)):
            new = "ImagePullBackOff" if b or (e and e.group(1).lower() == "imagepullbackoff") else "ErrImagePull"
            reason = new if reason not in ("ImagePullBackOff", "ErrImageNeverPull", "ImageInspectError") \
                else reason
        else:
            continue
        if failed_at is None or (when and when > failed_at):
            failed_at = when
    if reason is None:
        return None
    for ev in ctx.events_where("Pulled", c.name, init=c.init):
        p = _PULLED.search(ev.get("message") or "")
        when = event_time(ev)
        if p and _mine(ctx, c, ev, p.group(1) or p.group(2)) and when and failed_at and when > failed_at:
            return None  # pulled after the failures
    return reason


def _invalid_name(ctx: PodContext, c) -> Finding:
    image = c.spec.get("image", "")
    evidence = [status_line(c)]
    evidence += [ctx.describe_event(e) for e in ctx.events_where("InspectFailed", c.name)[-2:]]
    return ctx.finding(
        "InvalidImageName",
        f'image "{clean(image)}" of container {c.name} is not a valid image reference',
        container=c.name, evidence=[e for e in evidence if e],
        suggestions=_change(ctx, f"kubectl set image {ctx.workload()} {ctx.ns_flag} {c.name}=REGISTRY/REPOSITORY:TAG",
                            f"set a valid image for container {c.name}"),
        details={"image": image})


def _pull_failed(ctx: PodContext, c, reason: str) -> Finding:
    image = c.spec.get("image") or c.status.get("image") or ""
    failed = [e for e in ctx.events_where(None, c.name, init=c.init)
              if e.get("reason") in ("Failed", "ErrImageNeverPull", "InspectFailed")
              and (_PULL_FAILED.search(e.get("message") or "") or _NEVER_PULL.search(e.get("message") or "")
                   or _INSPECT_FAILED.search(e.get("message") or ""))]
    # the waiting message holds the runtime's words, except the back-off's `Back-off pulling image`
    runtime_error = (c.waiting or {}).get("message", "") if reason != "ImagePullBackOff" else ""
    if not runtime_error and failed:
        runtime_error = failed[-1].get("message", "")
    # ErrImageNeverPull says it all: whatever else was logged, the policy forbids the pull
    cause = "NeverPull" if reason == "ErrImageNeverPull" else classify(runtime_error)
    secrets = [s.get("name") for s in ctx.spec.get("imagePullSecrets") or [] if s.get("name")]

    evidence = [status_line(c)]
    if failed:
        evidence.append(ctx.describe_event(failed[-1]))
    elif runtime_error and runtime_error != (c.waiting or {}).get("message"):
        evidence.append(f"runtime error: {clean(runtime_error)}")
    backoff = ctx.events_where("BackOff", c.name)
    if backoff:
        evidence.append(ctx.describe_event(backoff[-1]))
    missing_secret_events = ctx.events_where("FailedToRetrieveImagePullSecret")
    if missing_secret_events:
        evidence.append(ctx.describe_event(missing_secret_events[-1]))

    suggestions = []
    missing_secrets = []
    if cause in ("Unauthorized", "NotFound"):
        for s in secrets:
            if ctx.view.exists("Secret", ctx.namespace, s) is False:
                missing_secrets.append(s)
        if missing_secrets:
            evidence.append(f"imagePullSecrets {', '.join(missing_secrets)} do not exist in namespace "
                            f"{ctx.namespace}")
        elif secrets:
            evidence.append(f"imagePullSecrets: {', '.join(secrets)}")
        else:
            evidence.append("the pod has no imagePullSecrets")

    if cause == "NotFound":
        suggestions.extend(_change(ctx, f"kubectl set image {ctx.workload()} {ctx.ns_flag} {c.name}=IMAGE:TAG",
                                   f"correct the image of container {c.name}"))
    if cause in ("Unauthorized", "NotFound") and (not secrets or missing_secrets):
        secret = (missing_secrets or ["regcred"])[0]
        suggestions.append(fix("read -rs REGISTRY_PASSWORD",
                               "type the registry password or token (not echoed, not in the shell history)"))
        suggestions.append(
            f"kubectl create secret docker-registry {quote(secret)} {ctx.ns_flag} "
            f'--docker-server={_registry(image)} --docker-username=USER --docker-password="$REGISTRY_PASSWORD"')
        if not secrets:
            suggestions.append(ctx.template_patch({"imagePullSecrets": [{"name": secret}]}))
    elif cause == "Unauthorized":
        suggestions.append(fix(f"kubectl get secret {quote(secrets[0])} {ctx.ns_flag} -o jsonpath='{{.type}}'",
                               f"must be kubernetes.io/dockerconfigjson for {_registry(image)}"))
    if cause == "RegistryUnreachable":
        node = ctx.spec.get("nodeName")
        suggestions.append(f"kubectl debug node/{quote(node)} -it --profile=general --image=busybox:1.36 -- "
                           f"nslookup {_registry(image)}." if node else
                           f"kubectl describe pod {ctx.name} {ctx.ns_flag}")
    if cause == "RateLimited":
        suggestions.append(fix("read -rs REGISTRY_TOKEN",
                               "type an access token of the registry (not echoed, not in the shell history)"))
        suggestions.append(fix(f"kubectl create secret docker-registry regcred {ctx.ns_flag} "
                               f"--docker-server={_registry(image)} --docker-username=USER "
                               f'--docker-password="$REGISTRY_TOKEN"', "authenticated pulls have a higher limit"))
    if cause == "Unknown":
        suggestions.append(f"kubectl describe pod {ctx.name} {ctx.ns_flag}")
    details = {"image": image, "waitingReason": reason, "imagePullSecrets": secrets}
    summary = f'image "{clean(image)}" cannot be pulled: {_EXPLAIN[cause]}'
    if cause == "NeverPull":
        summary = _never_pull(ctx, c, image, evidence, suggestions)
    elif cause == "ShortName":
        suggestions.extend(_change(ctx, fix(f"kubectl set image {ctx.workload()} {ctx.ns_flag} "
                                            f"{quote(c.name + '=' + _qualified(image))}",
                                            "name the registry in the image: CRI-O will not guess one (if the "
                                            "image is not on Docker Hub, put its own registry instead of "
                                            "docker.io)"),
                                   f"set image {_qualified(image)} (the registry named) for container {c.name}"))
    elif cause == "PlatformMismatch":
        platform = _platform(runtime_error) or _node_platform(ctx)
        if platform:
            details["platform"] = platform
            summary = f'image "{clean(image)}" cannot be pulled: the tag has no image for {clean(platform)}, ' \
                      "the node's platform"
        suggestions.extend(_platform_fixes(ctx, image))
    elif cause == "CertificateUntrusted":
        suggestions.extend(_runtime_config_fixes(
            ctx, "trust the registry's CA on every node: docker /etc/docker/certs.d/REGISTRY/ca.crt, containerd "
                 "/etc/containerd/certs.d/REGISTRY/hosts.toml (ca = ...), CRI-O /etc/containers/certs.d/REGISTRY/"
                 "ca.crt; or give the registry a certificate from a CA the nodes trust", image))
    elif cause == "InsecureRegistry":
        suggestions.extend(_runtime_config_fixes(
            ctx, "the registry speaks plain HTTP: list it for the runtime (docker insecure-registries in "
                 "/etc/docker/daemon.json; containerd /etc/containerd/certs.d/REGISTRY/hosts.toml with server = "
                 "\"http://REGISTRY\"; CRI-O insecure = true in registries.conf) or serve it over TLS", image))

    return ctx.finding(
        "ImagePullBackOff", summary,
        container=c.name, cause=cause, evidence=[e for e in evidence if e], suggestions=suggestions,
        details=details)


def _never_pull(ctx: PodContext, c, image: str, evidence: list, suggestions: list) -> str:
    """ErrImageNeverPull: the kubelet will not pull, and the node's runtime does not hold the image."""
    node = ctx.spec.get("nodeName")
    policy = c.spec.get("imagePullPolicy")
    if not any(e and "pull policy of never" in e.lower() for e in evidence):
        evidence.append(f"imagePullPolicy: {clean(policy) if policy else 'Never (as the waiting reason says)'}")
    group = "initContainers" if c.init else "containers"
    patch = ctx.template_patch({group: [{"name": c.name, "imagePullPolicy": "IfNotPresent"}]})
    suggestions.extend(_change(ctx, fix(patch, "let the kubelet pull the image when the node does not have it"),
                               f"set imagePullPolicy: IfNotPresent for container {c.name}", pod_mutable=False))
    suggestions.append(fix(f"kubectl get node {quote(node)} -o jsonpath='{{.status.images[*].names}}'"
                           if node else "kubectl get nodes -o jsonpath='{.items[*].status.images[*].names}'",
                           "the images the node's runtime holds (a docker image on a containerd node, as in "
                           "k3s, kind or minikube, is not the runtime's: load it with kind load docker-image, "
                           "minikube image load or ctr -n k8s.io images import)"))
    where = f"node {clean(node)}" if node else "the node"
    return f'image "{clean(image)}" is not present on {where} and imagePullPolicy Never forbids pulling it'


def _change(ctx: PodContext, command, what: str, pod_mutable: bool = True) -> list:
    """The command that changes the pod template, or — for a Job (its template is immutable), or a bare
    pod when the field cannot change on a pod (imagePullPolicy) — a save, edit and replace."""
    kind = ctx.workload().split("/")[0]
    if kind == "job" or (kind == "pod" and not pod_mutable):
        return [fix(f"kubectl get {ctx.workload()} {ctx.ns_flag} -o yaml > {kind}.yaml",
                    f"{what} in {kind}.yaml (its pod template cannot be changed in place), then run the next "
                    f"command"),
                fix(f"kubectl replace --force -f {kind}.yaml", f"recreates the {kind} from {kind}.yaml")]
    return [command]


def _qualified(image: str) -> str:
    """The fully qualified name CRI-O needs: docker.io/[library/]NAME for a short one."""
    if _registry(image) != "docker.io" or image.startswith("docker.io/"):
        return image
    return "docker.io/" + (image if "/" in image else "library/" + image)


def _platform(message: str) -> Optional[str]:
    for pattern in _PLATFORM:
        m = pattern.search(message or "")
        if m:
            g = m.groupdict()
            if g.get("p"):
                return g["p"]
            parts = [g.get("os") or "linux", g.get("arch")] + ([g["variant"]] if g.get("variant") else [])
            return "/".join(p for p in parts if p)
    return None


def _node_platform(ctx: PodContext) -> Optional[str]:
    node_name = ctx.spec.get("nodeName")
    node = ctx.view.get("Node", None, node_name) if node_name else None
    if not isinstance(node, dict):
        return None
    info = (node.get("status") or {}).get("nodeInfo") or {}
    labels = (node.get("metadata") or {}).get("labels") or {}
    os_ = info.get("operatingSystem") or labels.get("kubernetes.io/os")
    arch = info.get("architecture") or labels.get("kubernetes.io/arch")
    return f"{os_ or 'linux'}/{arch}" if arch else None


def _platform_fixes(ctx: PodContext, image: str) -> list:
    node = ctx.spec.get("nodeName")
    out = [fix(f"docker buildx imagetools inspect {quote(image)}",
               "the platforms the tag was built for: use a tag built for the node's, or build one")]
    out.append(fix(f"kubectl get node {quote(node)} -o jsonpath='{{.status.nodeInfo.operatingSystem}}/"
                   f"{{.status.nodeInfo.architecture}}'" if node else
                   "kubectl get nodes -L kubernetes.io/arch",
                   "the node's platform; a nodeSelector kubernetes.io/arch can keep the pod on nodes the image "
                   "supports"))
    return out


def _runtime_config_fixes(ctx: PodContext, why: str, image: str) -> list:
    node = ctx.spec.get("nodeName")
    registry = _registry(image)
    if node:
        cmd = (f"kubectl debug node/{quote(node)} -it --profile=sysadmin --image=busybox:1.36 -- "
               f"ls /host/etc/docker/certs.d /host/etc/containerd/certs.d /host/etc/containers/certs.d")
    else:
        cmd = f"kubectl describe pod {ctx.name} {ctx.ns_flag}"
    return [fix(cmd, why.replace("REGISTRY", registry))]
