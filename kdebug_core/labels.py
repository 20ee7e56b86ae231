"""Label selectors: kubectl's `-l` syntax and the API's LabelSelector, evaluated the server's way."""

import re
from typing import Dict, List, Optional, Tuple

from .errors import UsageError

# One requirement: (key, operator, values). Operators as in apimachinery's labels package.
Requirement = Tuple[str, str, Tuple[str, ...]]

_KEY = r"[A-Za-z0-9]([-A-Za-z0-9_./]*[A-Za-z0-9])?"
_VALUE = r"([A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?)?"
_KEY_RE = re.compile(_KEY + r"$")
_VALUE_RE = re.compile(_VALUE + r"$")


def _split_top_level(text: str) -> List[str]:
    """Split on commas that are not inside parentheses (`a in (x,y),b=c`)."""
    parts, depth, cur = [], 0, []
    for ch in text:
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        if ch == "," and depth == 0:
            parts.append("".join(cur))
            cur = []
        else:
            cur.append(ch)
    parts.append("".join(cur))
    return parts


def parse_selector(text: str) -> List[Requirement]:
    """Parse a `-l` string; raise UsageError with the offending part when it is malformed."""
    reqs: List[Requirement] = []
    if not text.strip():
        return reqs
    for raw in _split_top_level(text):
        part = raw.strip()
        m = re.match(r"^(\S+?)\s+(in|notin)\s+\((.*)\)$", part)
        if m:
            key, op, values = m.group(1), m.group(2), tuple(
                v.strip() for v in m.group(3).split(",") if v.strip())
        elif part.startswith("!"):
            key, op, values = part[1:].strip(), "!", ()
        else:
            m = re.match(r"^([^=!]+?)\s*(==|!=|=)\s*(.*)$", part)
            if m:
                key, op, values = m.group(1), m.group(2), (m.group(3).strip(),)
                op = "=" if op == "==" else op
            else:
                key, op, values = part, "exists", ()
        if not _KEY_RE.match(key or "") or not all(_VALUE_RE.match(v) for v in values):
            raise UsageError(f"invalid label selector {text!r}: cannot parse {part!r}")
        reqs.append((key, op, values))
    return reqs


def requirements_from_label_selector(sel: Optional[dict]) -> Optional[List[Requirement]]:
    """A workload's `spec.selector` (matchLabels + matchExpressions) as requirements.

    None means the selector is absent (selects nothing); an empty one selects everything.
    """
    if sel is None:
        return None
    reqs: List[Requirement] = [(k, "=", (str(v),)) for k, v in (sel.get("matchLabels") or {}).items()]
    ops = {"In": "in", "NotIn": "notin", "Exists": "exists", "DoesNotExist": "!"}
    for expr in sel.get("matchExpressions") or []:
        reqs.append((expr.get("key", ""), ops.get(expr.get("operator"), "in"),
                     tuple(expr.get("values") or ())))
    return reqs


def requirements_from_map(selector: Optional[Dict[str, str]]) -> List[Requirement]:
    """A Service's map selector: every key present with an equal value."""
    return [(k, "=", (str(v),)) for k, v in (selector or {}).items()]


def matches(reqs: List[Requirement], labels: Optional[Dict[str, str]]) -> bool:
    labels = labels or {}
    for key, op, values in reqs:
        present = key in labels
        val = labels.get(key)
        if op == "=" and not (present and val == values[0]):
            return False
        if op == "!=" and present and val == values[0]:
            return False
        if op == "in" and not (present and val in values):
            return False
        if op == "notin" and present and val in values:
            return False
        if op == "exists" and not present:
            return False
        if op == "!" and present:
            return False
    return True


def to_query(reqs: List[Requirement]) -> str:
    """Requirements in the `labelSelector=` query syntax the API server parses."""
    out = []
    for key, op, values in reqs:
        if op in ("=", "!="):
            out.append(f"{key}{op}{values[0]}")
        elif op in ("in", "notin"):
            out.append(f"{key} {op} ({','.join(values)})")
        elif op == "exists":
            out.append(key)
        else:
            out.append("!" + key)
    return ",".join(out)
