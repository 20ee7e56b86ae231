"""Offline source (`-f`): the same analysis over files, with no API request at all.

Reads what operators already have lying around:
* `kubectl get ... -o json|yaml` output: a List, a single object, multi-document YAML;
* `kubectl cluster-info dump` stdout: JSON documents (`PodList`, `EventList`, ...) back to back,
  with `==== START logs for container C of pod NS/NAME ====` sections in between;
* the `cluster-info dump --output-directory` tree: `NS/pods.json`, `NS/POD/logs.txt`, ...;
* a directory of any of these (walked recursively), or `-` for standard input.

Documents that are not Kubernetes objects (no `kind`) found while walking a directory are skipped:
a scenario folder also holds READMEs and expected results.

Hostile input is bounded (see README, "Limits"):
* only regular files are read while walking a directory (devices, FIFOs, sockets and symlinks to
  them are skipped with a note); a file named on the command line may also be a pipe
  (`-f <(kubectl get pods -o json)`), never a device;
* one file (or standard input) is read up to KDEBUG_MAX_FILE_BYTES (default 256 MiB);
* nesting deeper than the parsers allow is one error line for that file, not a RecursionError;
* YAML aliases may not expand a document beyond MAX_YAML_NODES nodes (the "billion laughs");
* an object without its kind's shape (sources/shape.py) is left out with a note naming the file
  and the object, and the rest is read.
"""

import json
import os
import re
import stat
import sys
from datetime import datetime, timezone
from typing import Dict, Iterable, List, Optional, Tuple

from ..errors import InputError
from ..kinds import BY_KIND
from ..labels import matches, parse_selector
from ..timeutil import parse_time
from .logtext import container_output
from .shape import describe, problem

MAX_FILE_BYTES = 256 * 1024 * 1024      # default for KDEBUG_MAX_FILE_BYTES
MAX_YAML_NODES = 1_000_000              # nodes one YAML document may expand to through aliases
NOTES_PER_FILE = 3                      # left-out objects named per file; the rest are counted

_LOG_START = re.compile(r"^==== START logs for container (\S+) of pod ([^/\s]+)/(\S+) ====\s*$")
_LOG_END = re.compile(r"^==== END logs for container (\S+) of pod ([^/\s]+)/(\S+) ====\s*$")
_READABLE_EXT = (".json", ".yaml", ".yml", ".txt", ".log")


def is_running(pod: Optional[dict], container: str) -> bool:
    """True when the container is running now: a dump's log of it (`kubectl logs` without
    --previous, as cluster-info dump reads it) is that run's output, not the run before it."""
    status = (pod or {}).get("status") or {}
    for cs in (status.get("containerStatuses") or []) + (status.get("initContainerStatuses") or []):
        if isinstance(cs, dict) and cs.get("name") == container:
            return isinstance(cs.get("state"), dict) and "running" in cs["state"]
    return False


def log_runs(loaded: "Loaded") -> Dict[Tuple[str, str, str], Dict[str, str]]:
    """A dump's logs as the runs a kubelet would stream them for, {key: {"current", "previous"}}
    (a replay on a stand-in API server): a container waiting or terminated shows its last run
    for both; a running one only for the current run: its previous run is not in the dump."""
    out = {}
    for (ns, pod, container), text in loaded.logs.items():
        obj = loaded.objects.get(("Pod", ns, pod))
        out[(ns, pod, container)] = ({"current": text} if is_running(obj, container)
                                     else {"current": text, "previous": text})
    return out


class Loaded:
    """Objects and logs read from files, deduplicated."""

    def __init__(self):
        self.objects: Dict[Tuple[str, str, str], dict] = {}
        # (namespace, pod, container) -> log text (a dump holds the latest run's output, which
        # for a container waiting in CrashLoopBackOff is the previous, crashed run).
        self.logs: Dict[Tuple[str, str, str], str] = {}
        # origin -> what was left out of it (files and objects), in reading order
        self.skipped: Dict[str, List[str]] = {}

    def skip(self, origin: str, what: str):
        self.skipped.setdefault(origin, []).append(what)

    @property
    def notes(self) -> List[str]:
        """One note per thing left out, at most NOTES_PER_FILE per file, then a count."""
        out = []
        for origin, whats in self.skipped.items():
            out += [f"{origin}: {w}" for w in whats[:NOTES_PER_FILE]]
            if len(whats) > NOTES_PER_FILE:
                out.append(f"{origin}: {len(whats) - NOTES_PER_FILE} more objects left out")
        return out

    def add(self, obj: dict, list_kind: Optional[str] = None, origin: str = "<input>"):
        kind = obj.get("kind")
        if kind is not None and not isinstance(kind, str):
            self.skip(origin, f"left out an object whose kind is {describe(kind)}")
            return
        if not kind and list_kind and list_kind.endswith("List") and list_kind != "List":
            # Typed lists (PodList in a cluster-info dump) omit kind on their items.
            obj = dict(obj, kind=list_kind[:-4])
            kind = obj["kind"]
        if not kind:
            return
        if kind.endswith("List") and "items" in obj:
            items = obj["items"]
            if items is None:
                return
            if not isinstance(items, list):
                self.skip(origin, f"left out the {kind}: items is {describe(items)} where a list "
                                  f"belongs")
                return
            for index, item in enumerate(items):
                if isinstance(item, dict):
                    self.add(item, kind, origin)
                else:
                    self.skip(origin, f"left out item {index} of the {kind}: {describe(item)} "
                                      f"where an object belongs")
            return
        info = BY_KIND.get(kind)
        # Only kinds the view reads are checked in full; others just need metadata to be keyed.
        why = problem(obj, kind) if info is not None else (
            None if isinstance(obj.get("metadata", {}), dict) else "metadata is not an object")
        if why is not None:
            self.skip(origin, f"left out {_label(obj, kind)}: {why}")
            return
        m = obj.get("metadata") or {}
        if info is not None and info.namespaced and not m.get("namespace"):
            # A manifest without a namespace lands in the default one, like `kubectl apply` does
            # with the default context; that is also how it meets its live copy for deduplication.
            m = dict(m, namespace="default")
            obj = dict(obj, metadata=m)
        key = (kind, m.get("namespace") or "", m.get("name") or "")
        old = self.objects.get(key)
        # The same object may come as an applied manifest and as live state: keep the one the
        # cluster produced (it has a uid and a status).
        if old is None or _richness(obj) >= _richness(old):
            self.objects[key] = obj


def _label(obj: dict, kind: str) -> str:
    from .shape import label
    return label(obj, kind)


def _richness(obj: dict) -> int:
    m = obj.get("metadata") or {}
    return (2 if m.get("uid") else 0) + (1 if obj.get("status") else 0)


def _line_of(text: str, pos: int) -> int:
    return text.count("\n", 0, pos) + 1


def _parse_stream(text: str, origin: str, loaded: Loaded, strict: bool):
    """JSON documents and log sections back to back (cluster-info dump stdout, or a plain file)."""
    decoder = json.JSONDecoder()
    pos, n = 0, len(text)
    found_any = False
    while pos < n:
        while pos < n and text[pos] in " \t\r\n":
            pos += 1
        if pos >= n:
            break
        if text.startswith("==== START logs", pos):
            pos = _parse_log_section(text, pos, origin, loaded)
            found_any = True
            continue
        if text[pos] in "{[":
            try:
                doc, pos = decoder.raw_decode(text, pos)
            except json.JSONDecodeError as exc:
                raise InputError(f"{origin}: malformed JSON at line {exc.lineno}, column {exc.colno}: "
                                 f"{exc.msg}") from None
            except RecursionError:
                raise InputError(f"{origin}: line {_line_of(text, pos)}: JSON nested deeper than "
                                 f"any Kubernetes object (the parser's limit)") from None
            except ValueError as exc:  # e.g. an integer of more than 4300 digits
                raise InputError(f"{origin}: line {_line_of(text, pos)}: unreadable JSON: "
                                 f"{exc}") from None
            for obj in doc if isinstance(doc, list) else [doc]:
                if isinstance(obj, dict):
                    loaded.add(obj, origin=origin)
            found_any = True
            continue
        if found_any or strict:
            raise InputError(f"{origin}: line {_line_of(text, pos)}: expected a JSON document or a "
                             f"'==== START logs' section")
        return False
    return found_any


def _parse_log_section(text: str, pos: int, origin: str, loaded: Loaded) -> int:
    end_of_line = text.find("\n", pos)
    header = text[pos: end_of_line if end_of_line >= 0 else len(text)]
    m = _LOG_START.match(header)
    if not m:
        raise InputError(f"{origin}: line {_line_of(text, pos)}: malformed log section header")
    container, ns, pod = m.groups()
    body_start = end_of_line + 1 if end_of_line >= 0 else len(text)
    end_marker = f"==== END logs for container {container} of pod {ns}/{pod} ===="
    end = text.find(end_marker, body_start)
    if end < 0:  # truncated dump: take the rest
        body, after = text[body_start:], len(text)
    else:
        body = text[body_start:end]
        nl = text.find("\n", end)
        after = nl + 1 if nl >= 0 else len(text)
    # the dump's or the kubelet's error where the log would be is no log (logtext.py)
    body = container_output(body)
    if body is not None:
        loaded.logs[(ns, pod, container)] = body
    return after


def _yaml_loader():
    """SafeLoader as Kubernetes reads YAML (sigs.k8s.io/yaml turns it into JSON): timestamps stay
    strings (`creationTimestamp: 2024-01-01T00:00:00Z` unquoted is not a datetime)."""
    import yaml

    # The pure-Python loader: its recursion ends in a RecursionError; the C one's could overflow
    # the C stack on a deeply nested document.
    class Loader(yaml.SafeLoader):
        pass

    Loader.yaml_implicit_resolvers = {
        first: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:timestamp"]
        for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()}
    return Loader


def _expanded_size(node, limit: int) -> int:
    """How many nodes a composed YAML document becomes once its aliases are expanded (shared nodes
    counted each time they are used); stops counting past `limit`. A recursive alias is an error."""
    import yaml

    sizes: Dict[int, int] = {}
    on_path: set = set()

    def size(n) -> int:
        key = id(n)
        if key in sizes:
            return sizes[key]
        if key in on_path:
            raise _AliasError("a recursive YAML alias (a node that contains itself)")
        if isinstance(n, yaml.ScalarNode):
            return 1
        on_path.add(key)
        total = 1
        children = n.value if isinstance(n, yaml.SequenceNode) else [c for kv in n.value for c in kv]
        for child in children:
            total += size(child)
            if total > limit:
                break
        on_path.discard(key)
        sizes[key] = total
        return total

    return size(node)


class _AliasError(Exception):
    pass


def _parse_yaml(text: str, origin: str, loaded: Loaded) -> bool:
    import yaml  # only paid on the YAML path
    docs = []
    try:
        loader = _yaml_loader()(text)
        try:
            while loader.check_node():
                node = loader.get_node()
                if _expanded_size(node, MAX_YAML_NODES) > MAX_YAML_NODES:
                    raise _AliasError(f"YAML aliases expand a document beyond {MAX_YAML_NODES:,} "
                                      f"nodes (an alias bomb?)")
                docs.append(loader.construct_document(node))
        finally:
            loader.dispose()
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise InputError(f"{origin}: malformed YAML at {where}{problem}") from None
    except _AliasError as exc:
        raise InputError(f"{origin}: {exc}") from None
    except RecursionError:
        raise InputError(f"{origin}: YAML nested deeper than any Kubernetes object (the parser's "
                         f"limit)") from None
    found = False
    for doc in docs:
        if isinstance(doc, dict) and doc.get("kind"):
            loaded.add(doc, origin=origin)
            found = True
    return found


def parse_text(text: str, origin: str, loaded: Loaded, named: bool):
    """Parse one file's text. `named`: the user named this file, so unusable content is an error."""
    stripped = text.lstrip()
    if not stripped:
        if named:
            raise InputError(f"{origin}: file is empty")
        return
    if stripped[0] in "{[" or stripped.startswith("==== START logs"):
        _parse_stream(text, origin, loaded, strict=True)
        return
    if "\n==== START logs" in text and not origin.endswith((".yaml", ".yml")):
        _parse_stream(text, origin, loaded, strict=True)
        return
    if origin.endswith((".txt", ".log")) and not named:
        return  # plain text that is not a dump's log section
    found = _parse_yaml(text, origin, loaded)
    if named and not found:
        raise InputError(f"{origin}: no Kubernetes objects found (expected kubectl get -o json|yaml "
                         f"or cluster-info dump output)")


def max_file_bytes() -> int:
    """KDEBUG_MAX_FILE_BYTES, else MAX_FILE_BYTES."""
    value = os.environ.get("KDEBUG_MAX_FILE_BYTES", "").strip()
    if not value:
        return MAX_FILE_BYTES
    if not value.isdigit() or int(value) <= 0:
        raise InputError(f"KDEBUG_MAX_FILE_BYTES={value!r}: expected a number of bytes, e.g. "
                         f"{MAX_FILE_BYTES}")
    return int(value)


def _too_big(limit: int) -> str:
    return f"larger than {limit:,} bytes (set KDEBUG_MAX_FILE_BYTES to read bigger files)"


def _read(path: str, limit: int, named: bool) -> str:
    """A file's text. _Skip(reason) for what is not read: a walked file that is not a regular
    file, or any file over the limit."""
    try:
        st = os.stat(path)
        if stat.S_ISDIR(st.st_mode):
            raise InputError(f"cannot read {path}: is a directory")
        kind = _file_type(st.st_mode)
        if kind != "regular" and not (named and kind == "a pipe"):
            # A device (/dev/zero never ends), a FIFO nobody writes to (hangs), a socket.
            raise _Skip(f"not a regular file ({kind})")
        if kind == "regular" and st.st_size > limit:
            raise _Skip(_too_big(limit))
        with open(path, "rb") as fh:
            data = fh.read(limit + 1)
    except OSError as exc:
        raise InputError(f"cannot read {path}: {exc.strerror or exc}") from None
    if len(data) > limit:
        raise _Skip(_too_big(limit))
    return data.decode("utf-8", errors="replace")


class _Skip(Exception):
    pass


def _file_type(mode: int) -> str:
    if stat.S_ISREG(mode):
        return "regular"
    if stat.S_ISFIFO(mode):
        return "a pipe"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "unknown type"


def load(paths: Iterable[str], stdin=None) -> Loaded:
    loaded = Loaded()
    limit = max_file_bytes()
    for path in paths:
        if path == "-":
            stream = stdin if stdin is not None else sys.stdin
            text = stream.read(limit + 1)
            if len(text) > limit:
                raise InputError(f"standard input is {_too_big(limit)}")
            parse_text(text, "<stdin>", loaded, named=True)
        elif os.path.isdir(path):
            for root, dirs, files in os.walk(path):
                dirs.sort()
                for fname in sorted(files):
                    if fname.startswith(".") or not fname.endswith(_READABLE_EXT):
                        continue
                    full = os.path.join(root, fname)
                    try:
                        text = _read(full, limit, named=False)
                    except _Skip as why:
                        loaded.skip(full, f"skipped: {why}")
                        continue
                    parse_text(text, full, loaded, named=False)
        elif os.path.lexists(path):
            try:
                text = _read(path, limit, named=True)
            except _Skip as why:
                raise InputError(f"cannot read {path}: {why}") from None
            parse_text(text, path, loaded, named=True)
        else:
            raise InputError(f"cannot read {path}: no such file or directory")
    return loaded


class FileBackend:
    """Answers the view's questions from loaded files. Never touches the network."""

    offline = True

    def __init__(self, loaded: Loaded):
        self._loaded = loaded
        self.notes = loaded.notes  # what was left out of the files (see Loaded.skip)
        self._by_kind: Dict[str, List[dict]] = {}
        for (kind, _ns, _name), obj in sorted(loaded.objects.items()):
            self._by_kind.setdefault(kind, []).append(obj)

    @classmethod
    def from_paths(cls, paths: Iterable[str], stdin=None) -> "FileBackend":
        return cls(load(paths, stdin))

    def kinds(self):
        return set(self._by_kind)

    def list(self, kind, namespace, label_selector=None, field_selector=None, metadata_only=False):
        items = self._by_kind.get(kind, [])
        if namespace:
            items = [o for o in items if (o.get("metadata") or {}).get("namespace") == namespace]
        if label_selector:
            reqs = parse_selector(label_selector)
            items = [o for o in items if matches(reqs, (o.get("metadata") or {}).get("labels"))]
        if metadata_only:
            items = [{"apiVersion": o.get("apiVersion"), "kind": o.get("kind"),
                      "metadata": o.get("metadata")} for o in items]
        return list(items)

    def get(self, kind, namespace, name, metadata_only=False):
        for o in self.list(kind, namespace, metadata_only=metadata_only):
            if (o.get("metadata") or {}).get("name") == name:
                return o
        return None

    def logs(self, namespace, pod, container, previous, tail_lines):
        text = self._loaded.logs.get((namespace, pod, container))
        if text is None:
            return None
        if previous and is_running(self.get("Pod", namespace, pod), container):
            return None   # the dump has the run that is going on now, not the one that ended
        lines = text.splitlines()
        return "\n".join(lines[-tail_lines:]) if tail_lines else text

    def now(self) -> datetime:
        """The moment the dump was taken, approximated by the newest timestamp in it.

        Ages ("2m ago") in offline output are relative to that, not to today's clock: a dump read
        a week later still says what the cluster looked like when it was taken.
        """
        newest = None
        for obj in self._loaded.objects.values():
            for ts in _timestamps(obj):
                t = parse_time(ts)
                if t and (newest is None or t > newest):
                    newest = t
        return newest or datetime.now(timezone.utc)


def _timestamps(obj: dict):
    m = obj.get("metadata") or {}
    yield m.get("creationTimestamp")
    for k in ("lastTimestamp", "firstTimestamp", "eventTime", "deprecatedLastTimestamp"):
        yield obj.get(k)
    yield (obj.get("series") or {}).get("lastObservedTime")
    status = obj.get("status") or {}
    yield status.get("startTime")
    # Controllers' own clocks: a CronJob's last run, a Job's completion (a `get cronjobs` dump may
    # hold nothing else to tell when it was taken; corpus 144).
    for k in ("lastScheduleTime", "lastSuccessfulTime", "completionTime"):
        yield status.get(k)
    for c in status.get("conditions") or []:
        yield c.get("lastTransitionTime")
        yield c.get("lastHeartbeatTime")
    for group in ("containerStatuses", "initContainerStatuses"):
        for cs in status.get(group) or []:
            for state_key in ("state", "lastState"):
                for st in (cs.get(state_key) or {}).values():
                    if isinstance(st, dict):
                        yield st.get("startedAt")
                        yield st.get("finishedAt")
