"""Shell completion for the four plugins: the `kubectl_complete-<name>` executables.

kubectl (1.26 and newer) completes `kubectl why <TAB>` by running `kubectl_complete-why` from PATH
with the words typed after the plugin name, the last one being the word to complete ("" for a new
word), and reads Cobra's `__complete` format back: one candidate a line (optionally
`candidate<TAB>description`), then `:<directive>` on the last line.

What is completed:

* flags (from the plugin's real parser, `cli.build_parser`), when the word starts with `-`;
* `-n/--namespace`: the cluster's namespaces; `--context`: the kubeconfig's contexts;
  `-o/--output`: the formats; `-f/--filename` and `--kubeconfig`: files (directive 0, so the shell
  completes paths); other flag values: nothing;
* a TARGET: `KIND/` prefixes of the kinds the plugin takes and the names of pods (Services for
  `endpoints-check`) in the namespace; after `KIND/`, the names of that kind. The namespace is
  `-n`, else the context's, else `default`; `--context`, `--kubeconfig`, `--as` and `--as-group`
  typed on the line are honoured.

Names are read with `kubectl get --raw`: exactly one list request, with kubectl's own credentials
handling (exec plugins, OIDC, in-cluster), and no discovery. Nothing is printed on stderr and the
exit code is always 0: a completion that fails offers fewer candidates, never an error. The module
imports only the standard library and the light `cli`/`plugins`/`kinds` modules, never
`kubernetes` or `yaml`.

Directives (Cobra's ShellCompDirective): 4 = no file completion (every answer but the two below),
4|2 = 6 when every candidate is a `KIND/` prefix (no space after it, so the name can follow), and
0 = the shell's file completion for `-f` and `--kubeconfig`.
"""

import json
import shutil
import subprocess
import sys
from typing import Dict, List, Optional, Tuple

DIRECTIVE_DEFAULT = 0   # let the shell complete file names
DIRECTIVE_NO_SPACE = 2
DIRECTIVE_NO_FILE = 4

LIST_LIMIT = 500        # one page: completion never pages through a huge namespace
REQUEST_TIMEOUT = "5s"  # kubectl's --request-timeout for the list request
PROCESS_TIMEOUT = 8.0   # seconds for any kubectl we run

_FILE_FLAGS = ("filename", "kubeconfig")


def main(name: str, argv: Optional[List[str]] = None, stdout=None) -> int:
    """Print the candidates and the directive for `kubectl <name> ARGS... WORD`; always exit 0."""
    argv = sys.argv[1:] if argv is None else list(argv)
    stdout = stdout or sys.stdout
    try:
        candidates, directive = complete(name, argv)
    except Exception:  # silent on errors: kubectl shows our stderr on the user's terminal
        candidates, directive = [], DIRECTIVE_NO_FILE
    try:
        stdout.write("".join(c + "\n" for c in candidates) + f":{directive}\n")
        stdout.flush()
    except (BrokenPipeError, OSError):
        pass
    return 0


def why():
    sys.exit(main("why"))


def endpoints_check():
    sys.exit(main("endpoints-check"))


def oomcheck():
    sys.exit(main("oomcheck"))


def probecheck():
    sys.exit(main("probecheck"))


# ---- the command line so far -------------------------------------------------------------------

class _Line:
    """What the words before the one being completed say."""

    def __init__(self):
        self.namespace: Optional[str] = None
        self.all_namespaces = False
        self.context: Optional[str] = None
        self.kubeconfig: Optional[str] = None
        self.as_user: Optional[str] = None
        self.as_groups: List[str] = []
        self.pending = None          # a flag whose value is the word being completed
        self.after_dashdash = False  # `--` seen: every word is a TARGET

    def connection_flags(self) -> List[str]:
        flags = []
        if self.context:
            flags.append("--context=" + self.context)
        if self.kubeconfig:
            flags.append("--kubeconfig=" + self.kubeconfig)
        if self.as_user:
            flags.append("--as=" + self.as_user)
        flags += ["--as-group=" + g for g in self.as_groups]
        return flags


def _takes_value(action) -> bool:
    return action.nargs != 0


def _flag_table(parser) -> Dict[str, object]:
    return {opt: action for action in parser._actions for opt in action.option_strings}


def _read_line(words: List[str], flags: Dict[str, object]) -> _Line:
    line = _Line()

    def record(action, value):
        dest = action.dest
        if dest == "namespace":
            line.namespace = value
        elif dest == "all_namespaces":
            line.all_namespaces = True
        elif dest == "context":
            line.context = value
        elif dest == "kubeconfig":
            line.kubeconfig = value
        elif dest == "as_user":
            line.as_user = value
        elif dest == "as_group" and value:
            line.as_groups.append(value)

    i = 0
    while i < len(words):
        word = words[i]
        i += 1
        if line.after_dashdash or word == "-" or not word.startswith("-"):
            continue
        if word == "--":
            line.after_dashdash = True
            continue
        if word.startswith("--"):
            name, eq, value = word.partition("=")
            action = flags.get(name)
            attached = value if eq else None
        else:
            action = flags.get(word[:2])
            attached = word[2:] or None
            if action is not None and not _takes_value(action) and attached:
                # Grouped short flags (-Ao json): one taking a value ends the group.
                record(action, None)
                group, action = attached, None
                for idx, ch in enumerate(group):
                    inner = flags.get("-" + ch)
                    if inner is None:
                        break
                    if _takes_value(inner):
                        action, attached = inner, group[idx + 1:] or None
                        break
                    record(inner, None)
        if action is None:
            continue
        if not _takes_value(action):
            record(action, None)
            continue
        if attached is None:
            if i >= len(words):
                line.pending = action  # `-n <TAB>`
                break
            attached = words[i]
            i += 1
        record(action, attached)
    return line


# ---- kubectl -----------------------------------------------------------------------------------

def _kubectl(args: List[str]) -> Optional[str]:
    exe = shutil.which("kubectl")
    if not exe:
        return None
    try:
        proc = subprocess.run([exe] + args, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                              stderr=subprocess.DEVNULL, timeout=PROCESS_TIMEOUT)
    except (OSError, subprocess.SubprocessError):
        return None
    if proc.returncode != 0:
        return None
    return proc.stdout.decode("utf-8", errors="replace")


def _context_namespace(line: _Line) -> str:
    """kubectl's namespace defaulting: the context's namespace, else `default` (no API request)."""
    out = _kubectl(["config", "view", "--minify", "-o", "jsonpath={.contexts[0].context.namespace}"]
                   + [f for f in line.connection_flags() if f.startswith(("--context", "--kubeconfig"))])
    return (out or "").strip() or "default"


def _list_names(path: str, line: _Line) -> List[str]:
    """Names in one list request (`kubectl get --raw`, first page only)."""
    out = _kubectl(["get", "--raw", f"{path}?limit={LIST_LIMIT}",
                    f"--request-timeout={REQUEST_TIMEOUT}"] + line.connection_flags())
    if not out:
        return []
    try:
        doc = json.loads(out)
    except ValueError:
        return []
    names = []
    for item in doc.get("items") or []:
        name = ((item or {}).get("metadata") or {}).get("name")
        if isinstance(name, str) and name:
            names.append(name)
    return sorted(set(names))


def _contexts(line: _Line) -> List[str]:
    extra = ["--kubeconfig=" + line.kubeconfig] if line.kubeconfig else []
    out = _kubectl(["config", "get-contexts", "-o", "name"] + extra)
    return sorted({c.strip() for c in (out or "").splitlines() if c.strip()})


# ---- candidates --------------------------------------------------------------------------------

def _first_clause(text: Optional[str]) -> str:
    text = " ".join((text or "").split())
    for sep in ("; ", " (", ": "):
        if sep in text:
            text = text.split(sep, 1)[0]
    return text[:60]


def _flag_candidates(parser, word: str) -> List[str]:
    out = []
    for action in parser._actions:
        for opt in action.option_strings:
            if opt.startswith(word):
                desc = _first_clause(action.help)
                out.append(f"{opt}\t{desc}" if desc else opt)
    return out


def _value_candidates(action, prefix: str, line: _Line) -> Tuple[List[str], int]:
    dest = action.dest
    if dest in _FILE_FLAGS:
        return [], DIRECTIVE_DEFAULT
    if action.choices:
        return [c for c in action.choices if str(c).startswith(prefix)], DIRECTIVE_NO_FILE
    if dest == "namespace":
        from .kinds import BY_KIND
        names = _list_names(BY_KIND["Namespace"].path(), line)
        return [n for n in names if n.startswith(prefix)], DIRECTIVE_NO_FILE
    if dest == "context":
        return [c for c in _contexts(line) if c.startswith(prefix)], DIRECTIVE_NO_FILE
    return [], DIRECTIVE_NO_FILE


def _kind_prefixes(spec, word: str) -> List[str]:
    from .kinds import BY_KIND

    out = []
    for kind in spec.target_kinds:
        info = BY_KIND.get(kind)
        if info is None:
            continue
        singular = kind.lower()
        if singular.startswith(word):
            out.append(singular + "/")
        elif word:
            # `deploy`, `sts`, `svc`: offer the short name the user is typing.
            out += [a + "/" for a in info.aliases if a.startswith(word) and a != singular][:1]
    return out


def _target_candidates(spec, word: str, line: _Line) -> Tuple[List[str], int]:
    from .kinds import BY_KIND, lookup

    if line.all_namespaces:
        return [], DIRECTIVE_NO_FILE  # names cannot be looked up across all namespaces
    if word.count("/") > 1:
        return [], DIRECTIVE_NO_FILE
    if "/" in word:
        kind_text, _, prefix = word.partition("/")
        info = lookup(kind_text)
        if info is None or info.kind not in spec.target_kinds:
            return [], DIRECTIVE_NO_FILE
        namespace = None if not info.namespaced else (line.namespace or _context_namespace(line))
        names = _list_names(info.path(namespace), line)
        return [f"{kind_text}/{n}" for n in names if n.startswith(prefix)], DIRECTIVE_NO_FILE
    prefixes = _kind_prefixes(spec, word)
    kind = "Service" if spec.subject == "service" else "Pod"
    namespace = line.namespace or _context_namespace(line)
    names = [n for n in _list_names(BY_KIND[kind].path(namespace), line) if n.startswith(word)]
    if prefixes and not names:
        return prefixes, DIRECTIVE_NO_FILE | DIRECTIVE_NO_SPACE
    return names + prefixes, DIRECTIVE_NO_FILE


def complete(name: str, argv: List[str]) -> Tuple[List[str], int]:
    from .cli import build_parser
    from .plugins import PLUGINS

    spec = PLUGINS[name]
    parser = build_parser(name)
    words = list(argv) or [""]
    word, before = words[-1], words[:-1]
    flags = _flag_table(parser)
    line = _read_line(before, flags)

    if line.pending is not None:
        return _value_candidates(line.pending, word, line)
    if not line.after_dashdash and word.startswith("-") and word != "-":
        if word.startswith("--") and "=" in word:
            flag, _, prefix = word.partition("=")
            action = flags.get(flag)
            if action is None or not _takes_value(action):
                return [], DIRECTIVE_NO_FILE
            return _value_candidates(action, prefix, line)
        return _flag_candidates(parser, word), DIRECTIVE_NO_FILE
    if word == "-" and not line.after_dashdash:
        return _flag_candidates(parser, word), DIRECTIVE_NO_FILE
    return _target_candidates(spec, word, line)
