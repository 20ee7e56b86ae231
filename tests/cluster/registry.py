#!/usr/bin/env python3
"""A container registry stand-in on 127.0.0.1 for the test cluster (registry v2 API, read only).

No public registry is reachable from these machines, so containerd's hosts.toml files send every
pull (docker.io, registry.k8s.io, ...) here. It serves images built on the spot from Debian's
busybox-static (`/bin/busybox`), and answers the failures a real registry gives, so that the
kubelet and containerd print exactly what they print in production:

* `busybox:1.35` (and `latest`): a one-layer OCI image with /bin/busybox and its applets, an
  /etc/passwd, and /www/index.html for `httpd`.
* `pause:3.10` (registry.k8s.io/pause): the sandbox image: busybox `sh` waiting forever.
* `acme/catalog-api:2.0.0` (ghcr.io): busybox `httpd` on 8080, a release that exists.
* a known repository with an unknown tag: 404 `MANIFEST_UNKNOWN` (containerd: "not found").
* any unknown repository: 401 with a Bearer `WWW-Authenticate` challenge; the anonymous token from
  /token does not help (`insufficient_scope`), as on Docker Hub ("pull access denied, repository
  does not exist or may require authorization").
* `private/*`: the same challenge, and /token refuses an anonymous token (401), as a private
  registry does ("failed to fetch anonymous token: unexpected status ... 401 Unauthorized").
* `ratelimited/*`: 429 `TOOMANYREQUESTS`, Docker Hub's pull rate limit message.

usage: registry.py --port 5000 [--log FILE]   (serves until killed)
       registry.py --check                     (build the images, print their digests)
"""
import argparse
import gzip
import hashlib
import io
import json
import os
import re
import subprocess
import sys
import tarfile
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

BUSYBOX = os.environ.get("KDEBUG_BUSYBOX", "/bin/busybox")
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_CONFIG = "application/vnd.oci.image.config.v1+json"
OCI_LAYER = "application/vnd.oci.image.layer.v1.tar+gzip"

PAUSE_SCRIPT = "trap 'exit 0' TERM INT; while :; do sleep 3600 & wait $!; done"


def _sha(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def _busybox_layer() -> bytes:
    """A reproducible tar.gz: /bin/busybox, one hard link per applet, /etc files, /tmp, /www."""
    if not os.path.isfile(BUSYBOX):
        sys.exit(f"registry: {BUSYBOX} not found (apt-get install busybox-static)")
    applets = subprocess.run([BUSYBOX, "--list"], check=True, capture_output=True,
                             text=True).stdout.split()
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.PAX_FORMAT) as tar:
        def add_dir(name, mode=0o755):
            ti = tarfile.TarInfo(name)
            ti.type, ti.mode, ti.mtime = tarfile.DIRTYPE, mode, 0
            tar.addfile(ti)

        def add_file(name, data: bytes, mode=0o644):
            ti = tarfile.TarInfo(name)
            ti.size, ti.mode, ti.mtime = len(data), mode, 0
            tar.addfile(ti, io.BytesIO(data))

        for d in ("bin", "etc", "root", "var", "www", "proc", "sys", "dev"):
            add_dir(d)
        add_dir("tmp", 0o1777)
        with open(BUSYBOX, "rb") as fh:
            add_file("bin/busybox", fh.read(), 0o755)
        for a in sorted(set(applets) - {"busybox"}):
            if re.fullmatch(r"[A-Za-z0-9_.\[\]-]+", a):
                ti = tarfile.TarInfo("bin/" + a)
                ti.type, ti.linkname, ti.mode, ti.mtime = tarfile.LNKTYPE, "bin/busybox", 0o755, 0
                tar.addfile(ti)
        add_file("etc/passwd", b"root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\n")
        add_file("etc/group", b"root:x:0:\nnogroup:x:65534:\n")
        add_file("www/index.html", b"<html><body>kdebug test image</body></html>\n")
    gz = io.BytesIO()
    with gzip.GzipFile(fileobj=gz, mode="wb", mtime=0) as g:
        g.write(raw.getvalue())
    return raw.getvalue(), gz.getvalue()


class Store:
    """Blobs by digest, and manifests by (repository, tag)."""

    def __init__(self):
        self.blobs = {}
        self.manifests = {}   # (repo, tag) -> digest
        tar, layer = _busybox_layer()
        self.blobs[_sha(layer)] = layer
        diff_id = _sha(tar)
        self.add_image(["library/busybox", "busybox"], ["1.35", "latest"], layer, diff_id,
                       {"Cmd": ["sh"], "WorkingDir": "/"})
        self.add_image(["pause", "library/pause"], ["3.10", "3.9", "3.6"], layer, diff_id,
                       {"Entrypoint": ["/bin/sh", "-c", PAUSE_SCRIPT], "WorkingDir": "/"})

        # a revision 1 that exists (scenario 41: 2.0.1, its revision 2, was never pushed)
        self.add_image(["acme/catalog-api"], ["2.0.0"], layer, diff_id,
                       {"Cmd": ["httpd", "-f", "-p", "8080", "-h", "/www"], "WorkingDir": "/"})

    def add_image(self, repos, tags, layer, diff_id, config):
        cfg = json.dumps({
            "architecture": "amd64", "os": "linux", "created": "1970-01-01T00:00:00Z",
            "config": dict(config, Env=["PATH=/bin"]),
            "rootfs": {"type": "layers", "diff_ids": [diff_id]},
            "history": [{"created": "1970-01-01T00:00:00Z", "created_by": "tests/cluster/registry.py"}],
        }, sort_keys=True).encode()
        self.blobs[_sha(cfg)] = cfg
        manifest = json.dumps({
            "schemaVersion": 2, "mediaType": OCI_MANIFEST,
            "config": {"mediaType": OCI_CONFIG, "digest": _sha(cfg), "size": len(cfg)},
            "layers": [{"mediaType": OCI_LAYER, "digest": _sha(layer), "size": len(layer)}],
        }, sort_keys=True).encode()
        digest = _sha(manifest)
        self.blobs[digest] = manifest
        for r in repos:
            for t in tags:
                self.manifests[(r, t)] = digest

    def repos(self):
        return {r for r, _ in self.manifests}


def _errors(code, message, detail=None):
    e = {"code": code, "message": message}
    if detail is not None:
        e["detail"] = detail
    return json.dumps({"errors": [e]}).encode()


class Handler(BaseHTTPRequestHandler):
    server_version = "kdebug-registry/1"
    protocol_version = "HTTP/1.1"
    store: Store = None
    log_lock = threading.Lock()
    log_file = None

    def log_message(self, fmt, *args):
        if self.log_file:
            with self.log_lock, open(self.log_file, "a") as fh:
                fh.write("%s %s\n" % (self.log_date_time_string(), fmt % args))

    def _send(self, status, body=b"", headers=None, content_type="application/json"):
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Docker-Distribution-API-Version", "registry/2.0")
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _challenge(self, repo, error=None):
        host = self.headers.get("Host", "127.0.0.1")
        value = (f'Bearer realm="http://{host}/token",service="registry.docker.io",'
                 f'scope="repository:{repo}:pull"')
        if error:
            value += f',error="{error}"'
        detail = [{"Type": "repository", "Class": "", "Name": repo, "Action": "pull"}]
        self._send(401, _errors("UNAUTHORIZED", "authentication required", detail),
                   {"WWW-Authenticate": value})

    def do_GET(self):
        path = self.path.split("?", 1)[0]
        if path == "/token":
            if "repository:private/" in self.path.replace("%3A", ":").replace("%2F", "/"):
                # a private registry that gives no anonymous token at all
                return self._send(401, _errors("UNAUTHORIZED", "authentication required"),
                                  {"WWW-Authenticate": 'Basic realm="kdebug-registry"'})
            return self._send(200, json.dumps({"token": "anonymous", "access_token": "anonymous",
                                               "expires_in": 300}).encode())
        if path in ("/v2", "/v2/"):
            return self._send(200, b"{}")
        m = re.fullmatch(r"/v2/(.+)/(manifests|blobs)/([^/]+)", path)
        if not m:
            return self._send(404, _errors("NOT_FOUND", "not found"))
        repo, kind, ref = m.groups()
        if repo.startswith("ratelimited/") or "/ratelimited/" in repo:
            return self._send(429, _errors(
                "TOOMANYREQUESTS",
                "You have reached your unauthenticated pull rate limit. "
                "https://www.docker.com/increase-rate-limit"))
        if repo not in self.store.repos():
            # Docker Hub: a private or nonexistent repository is refused, even with an anonymous token
            return self._challenge(repo, "insufficient_scope" if self.headers.get("Authorization") else None)
        if kind == "blobs":
            blob = self.store.blobs.get(ref)
            if blob is None:
                return self._send(404, _errors("BLOB_UNKNOWN", "blob unknown to registry", ref))
            return self._send(200, blob, {"Docker-Content-Digest": ref}, "application/octet-stream")
        digest = ref if ref.startswith("sha256:") else self.store.manifests.get((repo, ref))
        if digest is None or digest not in self.store.blobs:
            return self._send(404, _errors("MANIFEST_UNKNOWN", "manifest unknown", {"Tag": ref}))
        return self._send(200, self.store.blobs[digest], {"Docker-Content-Digest": digest}, OCI_MANIFEST)

    do_HEAD = do_GET


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--port", type=int, default=5000)
    ap.add_argument("--log")
    ap.add_argument("--check", action="store_true")
    args = ap.parse_args()
    Handler.store = Store()
    if args.check:
        for (repo, tag), d in sorted(Handler.store.manifests.items()):
            print(repo, tag, d)
        return
    Handler.log_file = args.log
    srv = ThreadingHTTPServer(("127.0.0.1", args.port), Handler)
    srv.daemon_threads = True
    srv.serve_forever()


if __name__ == "__main__":
    main()
