"""Offline source (`-f`): the same analysis over files, with no API request at all.

Reads what operators already have lying around:
* `kubectl get ... -o json|yaml` output: a List, a single object, multi-document YAML;
* `kubectl cluster-info dump` stdout: JSON documents (`PodList`, `EventList`, ...) back to back,
  with `==== START logs for container C of pod NS/NAME ====` sections in between;
* the `cluster-info dump --output-directory` tree: `NS/pods.json`, `NS/POD/logs.txt`, ...;
* a directory of any of these (walked recursively), or `-` for standard input.

Documents that are not Kubernetes objects (no `kind`) found while walking a directory are skipped:
a scenario folder also holds READMEs and expected results.
"""

import json
import os
import re
import sys
from datetime import datetime, timezone
from typing import Dict, Iterable, List, Optional, Tuple

from ..errors import InputError
from ..kinds import BY_KIND
from ..labels import matches, parse_selector
from ..timeutil import parse_time

_LOG_START = re.compile(r"^==== START logs for container (\S+) of pod ([^/\s]+)/(\S+) ====\s*$")
_LOG_END = re.compile(r"^==== END logs for container (\S+) of pod ([^/\s]+)/(\S+) ====\s*$")
_READABLE_EXT = (".json", ".yaml", ".yml", ".txt", ".log")


class Loaded:
    """Objects and logs read from files, deduplicated."""

    def __init__(self):
        self.objects: Dict[Tuple[str, str, str], dict] = {}
        # (namespace, pod, container) -> log text (a dump holds the latest run's output, which
        # for a container waiting in CrashLoopBackOff is the previous, crashed run).
        self.logs: Dict[Tuple[str, str, str], str] = {}

    def add(self, obj: dict, list_kind: Optional[str] = None):
        kind = obj.get("kind")
        if not kind and list_kind and list_kind.endswith("List") and list_kind != "List":
            # Typed lists (PodList in a cluster-info dump) omit kind on their items.
            obj = dict(obj, kind=list_kind[:-4])
            kind = obj["kind"]
        if not kind:
            return
        if kind.endswith("List") and isinstance(obj.get("items"), list):
            for item in obj["items"]:
                if isinstance(item, dict):
                    self.add(item, kind)
            return
        m = obj.get("metadata") or {}
        info = BY_KIND.get(kind)
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
            for obj in doc if isinstance(doc, list) else [doc]:
                if isinstance(obj, dict):
                    loaded.add(obj)
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
    loaded.logs[(ns, pod, container)] = body
    return after


def _parse_yaml(text: str, origin: str, loaded: Loaded) -> bool:
    import yaml  # only paid on the YAML path
    try:
        docs = list(yaml.safe_load_all(text))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise InputError(f"{origin}: malformed YAML at {where}{problem}") from None
    found = False
    for doc in docs:
        if isinstance(doc, dict) and doc.get("kind"):
            loaded.add(doc)
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


def _read(path: str) -> str:
    try:
        with open(path, "r", encoding="utf-8", errors="replace") as fh:
            return fh.read()
    except OSError as exc:
        raise InputError(f"cannot read {path}: {exc.strerror or exc}") from None


def load(paths: Iterable[str], stdin=None) -> Loaded:
    loaded = Loaded()
    for path in paths:
        if path == "-":
            stream = stdin if stdin is not None else sys.stdin
            parse_text(stream.read(), "<stdin>", loaded, named=True)
        elif os.path.isdir(path):
            for root, dirs, files in os.walk(path):
                dirs.sort()
                for fname in sorted(files):
                    if fname.startswith(".") or not fname.endswith(_READABLE_EXT):
                        continue
                    full = os.path.join(root, fname)
                    parse_text(_read(full), full, loaded, named=False)
        elif os.path.exists(path):
            parse_text(_read(path), path, loaded, named=True)
        else:
            raise InputError(f"cannot read {path}: no such file or directory")
    return loaded


class FileBackend:
    """Answers the view's questions from loaded files. Never touches the network."""

    offline = True

    def __init__(self, loaded: Loaded):
        self._loaded = loaded
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
