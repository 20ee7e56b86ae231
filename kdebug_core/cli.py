"""The shared command line: parse flags → complete defaults → validate → run.

`build_parser(name)` builds a plugin's parser without running anything, so argparse-manpage and the
completion helpers use the very parser the plugin runs with.
"""

import argparse
import os
import sys
from dataclasses import dataclass, field
from typing import List, Optional

from .errors import UsageError
from .plugins import PLUGINS, PluginSpec

OUTPUTS = ("text", "wide", "json", "yaml", "name")
COLOR_MODES = ("auto", "always", "never")
SCAN_LOG_BUDGET = 5   # pods whose logs a scan reads without --logs (engine.open_view)


class _Parser(argparse.ArgumentParser):
    """argparse with kubectl's habit: one error line (and a pointer to --help), exit code 2."""

    def error(self, message):
        raise UsageError(f"{message} (see '{self.prog} --help')")


def build_parser(name: str) -> argparse.ArgumentParser:
    spec = PLUGINS[name]
    examples = "\n".join("  " + e for e in spec.examples)
    parser = _Parser(
        prog=spec.command,
        description=f"{spec.command}: {spec.summary}.\n\n{spec.description}",
        epilog=(f"examples:\n{examples}\n\n" if examples else "") +
               "healthy means Running with every container ready (or Succeeded); any other pod "
               "gets a finding, PodNotHealthy when no specific cause explains it.\n"
               "exit codes: 0 everything read and nothing at warning or above, 1 problems found, "
               "2 usage or input error, 3 the cluster could not be read, or nothing found but "
               "something needed could not be read.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        add_help=True,
    )
    kinds = ", ".join(spec.target_kinds)
    parser.add_argument(
        "targets", nargs="*", metavar="TARGET",
        help=f"NAME (a {'Service' if spec.subject == 'service' else 'pod'}) or KIND/NAME "
             f"(kinds: {kinds}); '-' reads targets from standard input"
             + ("; none: every object in the namespace" if spec.scan_without_target else ""))
    scope = parser.add_argument_group("scope")
    scope.add_argument("-n", "--namespace", help="namespace (default: the context's, else 'default')")
    scope.add_argument("-A", "--all-namespaces", action="store_true",
                       help="look in every namespace")
    scope.add_argument("-l", "--selector", help="label selector, e.g. app=web,tier!=db")
    conn = parser.add_argument_group("cluster connection")
    conn.add_argument("--context", help="kubeconfig context to use")
    conn.add_argument("--kubeconfig", help="path to the kubeconfig file (default: $KUBECONFIG, "
                                           "then ~/.kube/config, then in-cluster)")
    conn.add_argument("--request-timeout", default="30s",
                      help="time to wait for each API request, e.g. 10s, 1m; 0 waits forever "
                           "(default 30s)")
    conn.add_argument("--as", dest="as_user", metavar="USER", help="user to impersonate")
    conn.add_argument("--as-group", action="append", default=[], metavar="GROUP",
                      help="group to impersonate (repeatable)")
    out = parser.add_argument_group("input and output")
    out.add_argument("-f", "--filename", action="append", default=[], metavar="FILE|DIR|-",
                     help="analyse saved output instead of the cluster: kubectl get -o json|yaml, "
                          "kubectl cluster-info dump (stream or --output-directory), a directory "
                          "of them, or - for stdin (repeatable; no API request is made)")
    out.add_argument("-o", "--output", default=spec.default_output, choices=OUTPUTS,
                     metavar="FORMAT", help=f"output format: {', '.join(OUTPUTS)} "
                                            f"(default {spec.default_output})")
    out.add_argument("--color", choices=COLOR_MODES, default="auto", metavar="WHEN",
                     help="colour the text output: auto (on a terminal, unless NO_COLOR is set or "
                          "TERM=dumb), always, never (default auto)")
    out.add_argument("--no-color", action="store_true", help="the same as --color=never")
    out.add_argument("--logs", action="store_true",
                     help=f"in scans, read the logs of every pod whose diagnosis needs one (default: "
                          f"{SCAN_LOG_BUDGET} pods, the most severe first)")
    out.add_argument("--tail", type=int, default=20, metavar="LINES",
                     help="log lines to read from each crashed container (default 20)")
    if name == "probecheck":
        out.add_argument("--probe-now", action="store_true",
                         help="also GET each HTTP probe through the API server's pod proxy and "
                              "report the status code (read-only; off by default)")
    parser.add_argument("--version", action=_Version, nargs=0,
                        help="print the version (and the Kubernetes client library's) and exit")
    return parser


class _Version(argparse.Action):
    """`--version`: kdebug's version and the Kubernetes client library's, read from package
    metadata (importing the client would cost a second)."""

    def __call__(self, parser, namespace, values, option_string=None):
        print(version_text(parser.prog))
        parser.exit(0)


def version_text(prog: str) -> str:
    import platform
    from . import __version__
    return (f"{prog} (kdebug) {__version__}; kubernetes client {client_version() or 'not installed'}; "
            f"Python {platform.python_version()}")


def client_version() -> Optional[str]:
    """The installed `kubernetes` package's version without importing it: its distribution
    metadata (pip), else the `__version__` line of its __init__.py (the Krew archive's vendor/)."""
    try:
        from importlib.metadata import PackageNotFoundError, version
        try:
            return version("kubernetes")
        except PackageNotFoundError:
            pass
    except ImportError:
        pass
    import importlib.util
    import re
    spec = importlib.util.find_spec("kubernetes")
    if spec is None or not spec.origin:
        return None
    try:
        with open(spec.origin, encoding="utf-8") as fh:
            m = re.search(r'^__version__\s*=\s*["\']([^"\']+)["\']', fh.read(), re.M)
    except OSError:
        return None
    return m.group(1) if m else None


@dataclass
class Options:
    plugin: PluginSpec
    targets: List[str]
    namespace: Optional[str]
    all_namespaces: bool
    selector: Optional[str]
    context: Optional[str]
    kubeconfig: Optional[str]
    request_timeout: Optional[str]
    as_user: Optional[str]
    as_groups: List[str]
    filenames: List[str]
    output: str
    color: object         # "auto", "always" or "never" until complete() decides: then a bool
    all_logs: bool
    tail: int
    probe_now: bool = False
    stdin_targets: bool = False
    extra: dict = field(default_factory=dict)

    @property
    def offline(self) -> bool:
        return bool(self.filenames)

    @classmethod
    def from_args(cls, spec: PluginSpec, ns: argparse.Namespace) -> "Options":
        return cls(
            plugin=spec, targets=list(ns.targets), namespace=ns.namespace,
            all_namespaces=ns.all_namespaces, selector=ns.selector, context=ns.context,
            kubeconfig=ns.kubeconfig, request_timeout=ns.request_timeout, as_user=ns.as_user,
            as_groups=list(ns.as_group), filenames=list(ns.filename), output=ns.output,
            color="never" if ns.no_color else ns.color, all_logs=ns.logs, tail=ns.tail,
            probe_now=getattr(ns, "probe_now", False))

    def complete(self, stream=None):
        """Defaults that depend on the environment: colour, and stdin as target list."""
        stream = stream or sys.stdout
        mode = self.color if self.color in COLOR_MODES else ("auto" if self.color else "never")
        if self.output not in ("text", "wide") or mode == "never":
            self.color = False
        elif mode == "always":
            self.color = True
        else:  # auto: a terminal that can show colour, and no NO_COLOR (https://no-color.org)
            self.color = bool(getattr(stream, "isatty", lambda: False)()) \
                and not os.environ.get("NO_COLOR") and os.environ.get("TERM") != "dumb"
        self.stdin_targets = "-" in self.targets
        if self.stdin_targets:
            self.targets = [t for t in self.targets if t != "-"]
        if self.all_namespaces:
            self.namespace = None  # -A wins over -n, as in kubectl (`kubectl get pods -n x -A`)
        return self

    def validate(self):
        if self.tail < 1:
            raise UsageError("--tail must be at least 1")
        if "-" in self.filenames and self.stdin_targets:
            raise UsageError("standard input cannot be both -f - and the target list '-'")
        if self.all_namespaces and any(_named_namespaced(t) for t in self.targets):
            raise UsageError("a resource cannot be retrieved by name across all namespaces; "
                             "drop -A or give -n NAMESPACE")
        if not self.targets and not self.stdin_targets and not self.all_namespaces \
                and not self.selector and not self.plugin.scan_without_target:
            raise UsageError(f"name a target (e.g. {self.plugin.command} POD or deploy/NAME), or "
                             f"use -A or -l to scan (see '{self.plugin.command} --help')")
        if self.selector is not None:
            from .labels import parse_selector
            parse_selector(self.selector)
        if self.request_timeout is not None:
            from .sources.live import parse_request_timeout
            parse_request_timeout(self.request_timeout)
        return self


def _named_namespaced(target: str) -> bool:
    """NAME or KIND/NAME of a namespaced kind (which -A cannot look up by name); node/NAME is fine."""
    from . import kinds
    parts = target.split("/")
    if len(parts) == 1:
        return True
    if len(parts) == 2:
        info = kinds.lookup(parts[0])
        return info is None or info.namespaced
    return False
