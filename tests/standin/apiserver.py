"""A stand-in Kubernetes API server for tests: read requests only, stdlib only.

It serves a fixed set of objects over plain HTTP on 127.0.0.1 with the real
kube-apiserver's semantics for the reads kdebug (and kubectl) make: discovery,
lists and gets, label and field selectors, pagination, metadata-only reads,
pod logs, pod proxy, metrics.k8s.io, and the Status bodies of the errors the
real server returns (403, 404, 400, 405, 406, 410-less pagination, 503).

Each behaviour cites the upstream code it mimics (kubernetes/kubernetes paths);
where the stand-in simplifies, the comment says so.

    with StandInAPIServer(objects=[pod, event]) as api:
        kubeconfig = api.write_kubeconfig(tmp_path / "config", namespace="default")
        ...  # run kubectl or the plugins with --kubeconfig
        assert [r.path for r in api.requests] == [...]
"""

from __future__ import annotations

import base64
import bisect
import binascii
import copy
import json
import os
import re
import threading
import uuid
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable, Dict, Iterable, List, NamedTuple, Optional, Tuple
from urllib.parse import parse_qsl, unquote, urlsplit

__all__ = ["StandInAPIServer", "RecordedRequest"]

#: The user named in 403 messages when the request does not impersonate anyone.
DEFAULT_USER = "system:serviceaccount:default:standin"

_VERSION_INFO = {
    "major": "1",
    "minor": "32",
    "gitVersion": "v1.32.0",
    "gitCommit": "0000000000000000000000000000000000000000",
    "gitTreeState": "clean",
    "buildDate": "2024-12-11T00:00:00Z",
    "goVersion": "go1.23.3",
    "compiler": "gc",
    "platform": "linux/amd64",
}

_RW_VERBS = ("create", "delete", "deletecollection", "get", "list", "patch", "update", "watch")
_RO_VERBS = ("get", "list")


# --------------------------------------------------------------------------- #
# Status bodies (k8s.io/apimachinery/pkg/api/errors)
# --------------------------------------------------------------------------- #


class APIError(Exception):
    """An error answered as a metav1.Status body."""

    def __init__(self, code: int, reason: str, message: str, details: Optional[dict] = None):
        super().__init__(message)
        self.code = code
        self.reason = reason
        self.message = message
        self.details = details

    def status(self) -> dict:
        body = {
            "kind": "Status",
            "apiVersion": "v1",
            "metadata": {},
            "status": "Failure",
            "message": self.message,
            "reason": self.reason,
        }
        if self.details is not None:
            body["details"] = self.details
        body["code"] = self.code
        return body


def _details(group: str, resource: str, name: str) -> dict:
    # StatusDetails: empty fields are omitted (`omitempty`), as upstream.
    out = {}
    if name:
        out["name"] = name
    if group:
        out["group"] = group
    out["kind"] = resource
    return out


def _qualified(group: str, resource: str) -> str:
    # schema.GroupResource.String(): "pods", "deployments.apps".
    return f"{resource}.{group}" if group else resource


def not_found(group: str, resource: str, name: str) -> APIError:
    # errors.NewNotFound
    return APIError(404, "NotFound", f'{_qualified(group, resource)} "{name}" not found',
                    _details(group, resource, name))


def no_such_path() -> APIError:
    # What the apiserver's go-restful container answers for a path it has no route for.
    return APIError(404, "NotFound", "the server could not find the requested resource", {})


def bad_request(message: str) -> APIError:
    # errors.NewBadRequest: no details.
    return APIError(400, "BadRequest", message)


def method_not_allowed() -> APIError:
    return APIError(405, "MethodNotAllowed",
                    "the server does not allow this method on the requested resource", {})


def forbidden(user: str, verb: str, group: str, resource: str, subresource: str,
              namespace: str, name: str) -> APIError:
    # staging/src/k8s.io/apiserver/pkg/endpoints/handlers/responsewriters/errors.go
    # forbiddenMessage(), wrapped by errors.NewForbidden(groupResource, name, err).
    full = f"{resource}/{subresource}" if subresource else resource
    if namespace:
        why = (f'User "{user}" cannot {verb} resource "{full}" in API group "{group}" '
               f'in the namespace "{namespace}"')
    else:
        why = f'User "{user}" cannot {verb} resource "{full}" in API group "{group}" at the cluster scope'
    qualified = _qualified(group, resource)
    message = f'{qualified} "{name}" is forbidden: {why}' if name else f"{qualified} is forbidden: {why}"
    return APIError(403, "Forbidden", message, _details(group, resource, name))


def invalid(kind: str, name: str, field_path: str, value: Any, detail: str) -> APIError:
    # errors.NewInvalid(kind, name, field.ErrorList{field.Invalid(...)}), single cause.
    shown = json.dumps(value) if isinstance(value, str) else str(value)
    cause = f"Invalid value: {shown}: {detail}"
    return APIError(422, "Invalid", f'{kind} "{name}" is invalid: {field_path}: {cause}',
                    {"name": name, "kind": kind,
                     "causes": [{"reason": "FieldValueInvalid", "message": cause, "field": field_path}]})


# --------------------------------------------------------------------------- #
# Field selectors
# pkg/apis/*/v1/conversion.go (which labels a kind accepts, and the error text)
# pkg/registry/*/strategy.go ToSelectableFields (what each label reads)
# --------------------------------------------------------------------------- #


def _get(obj: dict, *path: str, default: Any = None) -> Any:
    cur: Any = obj
    for key in path:
        if not isinstance(cur, dict) or key not in cur:
            return default
        cur = cur[key]
    return cur


def _go_bool(value: Any) -> str:
    return "true" if value else "false"


def _meta_fields(obj: dict) -> Dict[str, str]:
    # generic.ObjectMetaFieldsSet: metadata.name, plus metadata.namespace for
    # namespaced kinds; a cluster-scoped object simply has no namespace ("").
    return {
        "metadata.name": _get(obj, "metadata", "name", default="") or "",
        "metadata.namespace": _get(obj, "metadata", "namespace", default="") or "",
    }


def _pod_fields(pod: dict) -> Dict[str, str]:
    # pkg/registry/core/pod/strategy.go ToSelectableFields. Fields the server
    # would have defaulted on create are defaulted here too.
    ips = _get(pod, "status", "podIPs") or []
    pod_ip = (ips[0].get("ip") if ips and isinstance(ips[0], dict) else None) or _get(pod, "status", "podIP") or ""
    fields = _meta_fields(pod)
    fields.update({
        "spec.nodeName": _get(pod, "spec", "nodeName") or "",
        "spec.restartPolicy": _get(pod, "spec", "restartPolicy") or "Always",
        "spec.schedulerName": _get(pod, "spec", "schedulerName") or "default-scheduler",
        "spec.serviceAccountName": _get(pod, "spec", "serviceAccountName") or "",
        "spec.hostNetwork": _go_bool(_get(pod, "spec", "hostNetwork")),
        "status.phase": _get(pod, "status", "phase") or "",
        "status.podIP": pod_ip,
        "status.nominatedNodeName": _get(pod, "status", "nominatedNodeName") or "",
        # "status.podIPs" is accepted by the v1 conversion but is NOT in
        # ToSelectableFields upstream, so it compares as "" - mimicked by absence.
    })
    return fields


def _event_fields(ev: dict) -> Dict[str, str]:
    # pkg/registry/core/event/strategy.go ToSelectableFields; "source" falls
    # back to reportingComponent (ReportingController) when source.component is empty.
    involved = ev.get("involvedObject") or {}
    source = _get(ev, "source", "component") or ev.get("reportingComponent") or ""
    fields = _meta_fields(ev)
    for key in ("kind", "namespace", "name", "uid", "apiVersion", "resourceVersion", "fieldPath"):
        fields[f"involvedObject.{key}"] = involved.get(key) or ""
    fields.update({
        "reason": ev.get("reason") or "",
        "reportingComponent": ev.get("reportingComponent") or "",
        "source": source,
        "type": ev.get("type") or "",
    })
    return fields


def _node_fields(node: dict) -> Dict[str, str]:
    fields = _meta_fields(node)
    fields["spec.unschedulable"] = _go_bool(_get(node, "spec", "unschedulable"))
    return fields


def _namespace_fields(ns: dict) -> Dict[str, str]:
    fields = _meta_fields(ns)
    fields["status.phase"] = _get(ns, "status", "phase") or ""
    return fields


def _secret_fields(secret: dict) -> Dict[str, str]:
    fields = _meta_fields(secret)
    fields["type"] = secret.get("type") or "Opaque"
    return fields


def _service_fields(svc: dict) -> Dict[str, str]:
    fields = _meta_fields(svc)
    fields["spec.clusterIP"] = _get(svc, "spec", "clusterIP") or ""
    fields["spec.type"] = _get(svc, "spec", "type") or "ClusterIP"
    return fields


def _job_fields(job: dict) -> Dict[str, str]:
    # pkg/registry/batch/job/strategy.go: status.successful reads status.succeeded.
    fields = _meta_fields(job)
    fields["status.successful"] = str(_get(job, "status", "succeeded") or 0)
    return fields


def _unsupported(label: str) -> str:
    return f"field label not supported: {label}"


def _default_unsupported(label: str) -> str:
    # runtime.DefaultMetaV1FieldSelectorConversion, for kinds without their own func.
    return f'"{label}" is not a known field selector: only "metadata.name", "metadata.namespace"'


@dataclass(frozen=True)
class FieldRules:
    accepted: frozenset
    reject: Callable[[str], str]
    fields: Callable[[dict], Dict[str, str]]
    aliases: Tuple[Tuple[str, str], ...] = ()


_META_LABELS = frozenset({"metadata.name", "metadata.namespace"})
DEFAULT_FIELD_RULES = FieldRules(_META_LABELS, _default_unsupported, _meta_fields)
FIELD_RULES = {
    ("", "pods"): FieldRules(
        _META_LABELS | {"spec.nodeName", "spec.restartPolicy", "spec.schedulerName",
                        "spec.serviceAccountName", "spec.hostNetwork", "status.phase",
                        "status.podIP", "status.podIPs", "status.nominatedNodeName"},
        _unsupported, _pod_fields,
        # "for backwards compatibility with old v1 clients which send spec.host"
        aliases=(("spec.host", "spec.nodeName"),)),
    ("", "events"): FieldRules(
        _META_LABELS | {"involvedObject.kind", "involvedObject.namespace", "involvedObject.name",
                        "involvedObject.uid", "involvedObject.apiVersion",
                        "involvedObject.resourceVersion", "involvedObject.fieldPath",
                        "reason", "reportingComponent", "source", "type"},
        _unsupported, _event_fields),
    # Nodes and namespaces are cluster-scoped: upstream does not accept metadata.namespace.
    ("", "nodes"): FieldRules(frozenset({"metadata.name", "spec.unschedulable"}), _unsupported, _node_fields),
    ("", "namespaces"): FieldRules(frozenset({"metadata.name", "status.phase"}), _unsupported, _namespace_fields),
    ("", "secrets"): FieldRules(_META_LABELS | {"type"}, _unsupported, _secret_fields),
    ("", "services"): FieldRules(_META_LABELS | {"spec.clusterIP", "spec.type"}, _unsupported, _service_fields),
    ("batch", "jobs"): FieldRules(_META_LABELS | {"status.successful"},
                                  lambda label: f'field label "{label}" not supported for Job', _job_fields),
}


def _split_unescaped(text: str, sep: str) -> List[str]:
    # fields.splitTerms: split on separators not preceded by a backslash; the
    # escapes stay in the parts and are undone on the value later.
    parts, cur, escaped = [], [], False
    for ch in text:
        if escaped:
            cur.append(ch)
            escaped = False
        elif ch == "\\":
            cur.append(ch)
            escaped = True
        elif ch == sep:
            parts.append("".join(cur))
            cur = []
        else:
            cur.append(ch)
    parts.append("".join(cur))
    return parts


def _unescape_field_value(value: str) -> str:
    # fields.UnescapeValue: \\ \, \= are the only escapes; a bare , or = is an error.
    out, escaped = [], False
    for ch in value:
        if escaped:
            if ch not in "\\,=":
                raise bad_request(f"invalid field selector: invalid escape sequence: \\{ch}")
            out.append(ch)
            escaped = False
        elif ch == "\\":
            escaped = True
        elif ch in ",=":
            raise bad_request(f"invalid field selector: unescaped character in value: {ch}")
        else:
            out.append(ch)
    if escaped:
        raise bad_request("invalid field selector: invalid escape sequence: \\")
    return "".join(out)


FieldTerm = Tuple[str, str, str]  # (label, operator "=" or "!=", value)


def parse_field_selector(text: str, rules: FieldRules) -> List[FieldTerm]:
    """Parse and convert a fieldSelector the way ListResource does (400 on error)."""
    terms: List[FieldTerm] = []
    # fields.ParseSelector sorts the terms, so the first bad one in sorted order is reported.
    for part in sorted(_split_unescaped(text, ",")):
        if not part:
            continue
        for i in range(len(part)):
            op = next((o for o in ("!=", "==", "=") if part.startswith(o, i)), None)
            if op:
                label, raw = part[:i], part[i + len(op):]
                break
        else:
            raise bad_request(f"invalid selector: '{text}'; can't understand '{part}'")
        value = _unescape_field_value(raw)
        terms.append((label, "!=" if op == "!=" else "=", value))
    converted = []
    aliases = dict(rules.aliases)
    for label, op, value in terms:
        # handlers/get.go: a conversion error becomes errors.NewBadRequest(err.Error()).
        if label in aliases:
            label = aliases[label]
        elif label not in rules.accepted:
            raise bad_request(rules.reject(label))
        converted.append((label, op, value))
    return converted


def field_terms_match(terms: List[FieldTerm], fields: Dict[str, str]) -> bool:
    # A label missing from the selectable set reads as "" (fields.Set.Get).
    for label, op, value in terms:
        actual = fields.get(label, "")
        if (actual == value) != (op == "="):
            return False
    return True


# --------------------------------------------------------------------------- #
# Label selectors: staging/src/k8s.io/apimachinery/pkg/labels/selector.go grammar
# and error texts, and util/validation for keys and values.
# --------------------------------------------------------------------------- #

_QNAME_FMT = "([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]"
_QNAME_RE = re.compile(f"^{_QNAME_FMT}$")
_LABEL_VALUE_FMT = "(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?"
_LABEL_VALUE_RE = re.compile(f"^{_LABEL_VALUE_FMT}$")
_DNS1123_SUBDOMAIN_FMT = r"[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*"
_DNS1123_SUBDOMAIN_RE = re.compile(f"^{_DNS1123_SUBDOMAIN_FMT}$")


def _regex_error(msg: str, fmt: str, *examples: str) -> str:
    # validation.RegexError, double space after each example's comma included.
    shown = " or ".join(f"'{e}', " for e in examples)
    return f"{msg} (e.g. {shown}regex used for validation is '{fmt}')"


def _qualified_name_errors(key: str) -> List[str]:
    # validation.IsQualifiedName
    errs: List[str] = []
    parts = key.split("/")
    if len(parts) == 1:
        name = parts[0]
    elif len(parts) == 2:
        prefix, name = parts
        if not prefix:
            errs.append("prefix part must be non-empty")
        elif len(prefix) > 253:
            errs.append("prefix part must be no more than 253 characters")
        elif not _DNS1123_SUBDOMAIN_RE.match(prefix):
            errs.append("prefix part " + _regex_error(
                "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, "
                "'-' or '.', and must start and end with an alphanumeric character",
                _DNS1123_SUBDOMAIN_FMT, "example.com"))
    else:
        return ["a qualified name " + _regex_error(
            "must consist of alphanumeric characters, '-', '_' or '.', and must start and end "
            "with an alphanumeric character", _QNAME_FMT, "MyName", "my.name", "123-abc")
            + " with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')"]
    if not name:
        errs.append("name part must be non-empty")
    elif len(name) > 63:
        errs.append("name part must be no more than 63 characters")
    if name and not _QNAME_RE.match(name):
        errs.append("name part " + _regex_error(
            "must consist of alphanumeric characters, '-', '_' or '.', and must start and end "
            "with an alphanumeric character", _QNAME_FMT, "MyName", "my.name", "123-abc"))
    return errs


def _label_value_errors(value: str) -> List[str]:
    errs = []
    if len(value) > 63:
        errs.append("must be no more than 63 characters")
    if not _LABEL_VALUE_RE.match(value):
        errs.append(_regex_error(
            "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' "
            "or '.', and must start and end with an alphanumeric character",
            _LABEL_VALUE_FMT, "MyValue", "my_value", "12345"))
    return errs


class _SelectorSyntaxError(Exception):
    pass


# Tokens of the label selector lexer.
_IDENT, _EOS, _COMMA, _OPEN, _CLOSE, _NOT = "ident", "eos", ",", "(", ")", "!"
_EQ, _DEQ, _NEQ, _GT, _LT, _IN, _NOTIN = "=", "==", "!=", ">", "<", "in", "notin"
_TOKENS = {")": _CLOSE, ",": _COMMA, "!": _NOT, "==": _DEQ, "=": _EQ, ">": _GT, "in": _IN,
           "<": _LT, "!=": _NEQ, "notin": _NOTIN, "(": _OPEN}
_SPECIAL = set("=!(),><")
_WHITESPACE = set(" \t\r\n")
_BINARY_OPS = "in, notin, =, ==, !=, gt, lt"


def _lex_selector(text: str) -> List[Tuple[str, str]]:
    items, pos = [], 0
    while True:
        while pos < len(text) and text[pos] in _WHITESPACE:
            pos += 1
        if pos >= len(text):
            items.append((_EOS, ""))
            return items
        if text[pos] in _SPECIAL:
            # Longest run of special characters that is still a known operator.
            end, tok = pos, None
            while end < len(text) and text[end] in _SPECIAL and text[pos:end + 1] in _TOKENS:
                end += 1
                tok = _TOKENS[text[pos:end]]
            items.append((tok, text[pos:end]))
            pos = end
        else:
            end = pos
            while end < len(text) and text[end] not in _SPECIAL and text[end] not in _WHITESPACE:
                end += 1
            word = text[pos:end]
            items.append((_TOKENS.get(word, _IDENT), word))
            pos = end


@dataclass(frozen=True)
class Requirement:
    key: str
    op: str  # "in", "notin", "exists", "!", "gt", "lt"
    values: Tuple[str, ...]

    def matches(self, labels: Dict[str, str]) -> bool:
        present = self.key in labels
        value = labels.get(self.key)
        if self.op == "in":
            return present and value in self.values
        if self.op == "notin":
            return not present or value not in self.values
        if self.op == "exists":
            return present
        if self.op == "!":
            return not present
        try:
            number, bound = int(value), int(self.values[0])
        except (TypeError, ValueError):
            return False
        return number > bound if self.op == "gt" else number < bound


class _LabelSelectorParser:
    def __init__(self, text: str):
        self.items = _lex_selector(text)
        self.pos = 0

    def _peek(self, values: bool) -> Tuple[str, str]:
        tok, lit = self.items[self.pos]
        # In a value position "in"/"notin" are plain identifiers.
        return (_IDENT if values and tok in (_IN, _NOTIN) else tok), lit

    def _next(self, values: bool) -> Tuple[str, str]:
        item = self._peek(values)
        self.pos += 1
        return item

    def parse(self) -> List[Requirement]:
        reqs = []
        while True:
            tok, lit = self._peek(True)
            if tok in (_IDENT, _NOT):
                try:
                    reqs.append(self._requirement())
                except _SelectorSyntaxError as err:
                    raise _SelectorSyntaxError(f"unable to parse requirement: {err}") from None
                tok, lit = self._next(True)
                if tok == _EOS:
                    return reqs
                if tok == _COMMA:
                    tok2, lit2 = self._peek(True)
                    if tok2 not in (_IDENT, _NOT):
                        raise _SelectorSyntaxError(f"found '{lit2}', expected: identifier after ','")
                else:
                    raise _SelectorSyntaxError(f"found '{lit}', expected: ',' or 'end of string'")
            elif tok == _EOS:
                return reqs
            else:
                raise _SelectorSyntaxError(f"found '{lit}', expected: !, identifier, or 'end of string'")

    def _requirement(self) -> Requirement:
        tok, key = self._next(True)
        negated = tok == _NOT
        if negated:
            tok, key = self._next(True)
        if tok != _IDENT:
            raise _SelectorSyntaxError(f"found '{key}', expected: identifier")
        errs = _qualified_name_errors(key)
        if errs:
            # validateLabelKey(literal, p.path) with a nil field path.
            raise _SelectorSyntaxError(f"<nil>: Invalid value: {json.dumps(key)}: {'; '.join(errs)}")
        if negated:
            return Requirement(key, "!", ())
        if self._peek(True)[0] in (_EOS, _COMMA):
            return Requirement(key, "exists", ())
        tok, lit = self._next(False)
        ops = {_IN: "in", _NOTIN: "notin", _EQ: "in", _DEQ: "in", _NEQ: "notin", _GT: "gt", _LT: "lt"}
        if tok not in ops:
            raise _SelectorSyntaxError(f"found '{lit}', expected: {_BINARY_OPS}")
        values = self._value_set() if tok in (_IN, _NOTIN) else self._exact_value()
        return self._validated(key, ops[tok], values)

    def _value_set(self) -> List[str]:
        tok, lit = self._next(True)
        if tok != _OPEN:
            raise _SelectorSyntaxError(f"found '{lit}' expected: '('")
        tok, lit = self._peek(True)
        if tok == _CLOSE:  # "()" is the set holding the empty string
            self._next(True)
            return [""]
        if tok not in (_IDENT, _COMMA):
            raise _SelectorSyntaxError(f"found '{lit}', expected: ',', ')' or identifier")
        values: List[str] = []
        while True:
            tok, word = self._next(True)
            if tok == _IDENT:
                values.append(word)
                tok2, lit2 = self._peek(True)
                if tok2 == _CLOSE:
                    break
                if tok2 != _COMMA:
                    raise _SelectorSyntaxError(f"found '{lit2}', expected: ',' or ')'")
            elif tok == _COMMA:  # empty members: "(,a)", "(a,,b)", "(a,)"
                if not values:
                    values.append("")
                tok2 = self._peek(True)[0]
                if tok2 in (_CLOSE, _COMMA):
                    values.append("")
                if tok2 == _CLOSE:
                    break
            else:
                raise _SelectorSyntaxError(f"found '{word}', expected: ',', or identifier")
        if self._next(True)[0] != _CLOSE:
            raise _SelectorSyntaxError(f"found '{lit}', expected: ')'")
        return values

    def _exact_value(self) -> List[str]:
        if self._peek(True)[0] in (_EOS, _COMMA):
            return [""]
        tok, lit = self._next(True)
        if tok != _IDENT:
            raise _SelectorSyntaxError(f"found '{lit}', expected: identifier")
        return [lit]

    @staticmethod
    def _validated(key: str, op: str, values: List[str]) -> Requirement:
        # labels.NewRequirement: values are label values; gt/lt take one integer.
        unique = sorted(set(values))
        errs = []
        for i, value in enumerate(unique):
            if op in ("gt", "lt"):
                try:
                    int(value)
                except ValueError:
                    errs.append(f"values[{i}]: Invalid value: {json.dumps(value)}: "
                                "for 'Gt', 'Lt' operators, the value must be an integer")
                continue
            problems = _label_value_errors(value)
            if problems:
                errs.append(f"values[{i}][{key}]: Invalid value: {json.dumps(value)}: {'; '.join(problems)}")
        if errs:
            raise _SelectorSyntaxError(errs[0] if len(errs) == 1 else f"[{', '.join(errs)}]")
        return Requirement(key, op, tuple(unique))


def parse_label_selector(text: str) -> List[Requirement]:
    """Parse a labelSelector (400 with the upstream message on a syntax error)."""
    try:
        return _LabelSelectorParser(text).parse()
    except _SelectorSyntaxError as err:
        raise bad_request(str(err)) from None


def labels_match(reqs: List[Requirement], labels: Optional[dict]) -> bool:
    labels = labels or {}
    return all(r.matches(labels) for r in reqs)


# --------------------------------------------------------------------------- #
# The resources served
# --------------------------------------------------------------------------- #


@dataclass(frozen=True)
class ResourceType:
    group: str
    version: str
    plural: str
    kind: str
    namespaced: bool
    singular: str
    short_names: Tuple[str, ...] = ()
    categories: Tuple[str, ...] = ()
    verbs: Tuple[str, ...] = _RW_VERBS
    # metrics-server names its NotFound errors after "podmetrics"/"nodemetrics".
    not_found_resource: str = ""

    @property
    def group_version(self) -> str:
        return f"{self.group}/{self.version}" if self.group else self.version

    @property
    def field_rules(self) -> FieldRules:
        return FIELD_RULES.get((self.group, self.plural), DEFAULT_FIELD_RULES)

    def discovery_entry(self) -> dict:
        entry = {"name": self.plural, "singularName": self.singular, "namespaced": self.namespaced,
                 "kind": self.kind, "verbs": list(self.verbs)}
        if self.short_names:
            entry["shortNames"] = list(self.short_names)
        if self.categories:
            entry["categories"] = list(self.categories)
        return entry


_ALL = ("all",)
RESOURCE_TYPES = (
    ResourceType("", "v1", "pods", "Pod", True, "pod", ("po",), _ALL),
    ResourceType("", "v1", "events", "Event", True, "event", ("ev",)),
    ResourceType("", "v1", "services", "Service", True, "service", ("svc",), _ALL),
    ResourceType("", "v1", "endpoints", "Endpoints", True, "endpoints", ("ep",)),
    ResourceType("", "v1", "configmaps", "ConfigMap", True, "configmap", ("cm",)),
    ResourceType("", "v1", "secrets", "Secret", True, "secret"),
    ResourceType("", "v1", "persistentvolumeclaims", "PersistentVolumeClaim", True,
                 "persistentvolumeclaim", ("pvc",)),
    ResourceType("", "v1", "persistentvolumes", "PersistentVolume", False, "persistentvolume", ("pv",)),
    ResourceType("", "v1", "nodes", "Node", False, "node", ("no",)),
    ResourceType("", "v1", "namespaces", "Namespace", False, "namespace", ("ns",)),
    ResourceType("", "v1", "serviceaccounts", "ServiceAccount", True, "serviceaccount", ("sa",)),
    ResourceType("apps", "v1", "deployments", "Deployment", True, "deployment", ("deploy",), _ALL),
    ResourceType("apps", "v1", "replicasets", "ReplicaSet", True, "replicaset", ("rs",), _ALL),
    ResourceType("apps", "v1", "statefulsets", "StatefulSet", True, "statefulset", ("sts",), _ALL),
    ResourceType("apps", "v1", "daemonsets", "DaemonSet", True, "daemonset", ("ds",), _ALL),
    ResourceType("batch", "v1", "jobs", "Job", True, "job", (), _ALL),
    ResourceType("batch", "v1", "cronjobs", "CronJob", True, "cronjob", ("cj",), _ALL),
    ResourceType("discovery.k8s.io", "v1", "endpointslices", "EndpointSlice", True, "endpointslice"),
    ResourceType("networking.k8s.io", "v1", "networkpolicies", "NetworkPolicy", True, "networkpolicy",
                 ("netpol",)),
    ResourceType("networking.k8s.io", "v1", "ingresses", "Ingress", True, "ingress", ("ing",)),
    ResourceType("networking.k8s.io", "v1", "ingressclasses", "IngressClass", False, "ingressclass"),
    ResourceType("storage.k8s.io", "v1", "storageclasses", "StorageClass", False, "storageclass", ("sc",)),
    ResourceType("", "v1", "resourcequotas", "ResourceQuota", True, "resourcequota", ("quota",)),
    ResourceType("", "v1", "limitranges", "LimitRange", True, "limitrange", ("limits",)),
)
METRICS_TYPES = (
    ResourceType("metrics.k8s.io", "v1beta1", "nodes", "NodeMetrics", False, "", (), (), _RO_VERBS,
                 not_found_resource="nodemetrics"),
    ResourceType("metrics.k8s.io", "v1beta1", "pods", "PodMetrics", True, "", (), (), _RO_VERBS,
                 not_found_resource="podmetrics"),
)
# Discovery entries for subresources (only the ones served here).
_SUBRESOURCES = {
    ("", "pods"): (
        {"name": "pods/log", "singularName": "", "namespaced": True, "kind": "Pod", "verbs": ["get"]},
        {"name": "pods/proxy", "singularName": "", "namespaced": True, "kind": "PodProxyOptions",
         "verbs": ["create", "delete", "get", "patch", "update"]},
    ),
}


class RecordedRequest(NamedTuple):
    """One request as the server saw it (path and query decoded)."""

    method: str
    path: str
    query: Dict[str, str]
    headers: Dict[str, str]  # names canonicalised like Go's net/http: "Impersonate-User"

    def header(self, name: str, default: Optional[str] = None) -> Optional[str]:
        """Case-insensitive header lookup."""
        lowered = name.lower()
        return next((v for k, v in self.headers.items() if k.lower() == lowered), default)


def _canonical_header(name: str) -> str:
    return "-".join(part[:1].upper() + part[1:].lower() for part in name.split("-"))


# --------------------------------------------------------------------------- #
# Continue tokens: staging/src/k8s.io/apiserver/pkg/storage/continue.go
# base64url(JSON {"v": "meta.k8s.io/v1", "rv": N, "start": KEY + "\x00"}).
# --------------------------------------------------------------------------- #


def encode_continue(rv: int, key: str) -> str:
    raw = json.dumps({"v": "meta.k8s.io/v1", "rv": rv, "start": key + "\x00"}, separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_continue(token: str) -> str:
    """Return the start key; a malformed token is a 400 like the etcd3 store's."""

    def fail(detail: str) -> APIError:
        return bad_request(f"invalid continue token: continue key is not valid: {detail}")

    bad = next((i for i, ch in enumerate(token) if not (ch.isascii() and (ch.isalnum() or ch in "-_"))), None)
    if bad is not None:
        raise fail(f"illegal base64 data at input byte {bad}")
    try:
        data = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
    except (binascii.Error, ValueError) as err:
        raise fail(str(err)) from None
    if not isinstance(data, dict) or data.get("v") != "meta.k8s.io/v1":
        version = data.get("v") if isinstance(data, dict) else data
        raise fail(f"server does not recognize this encoded version {version}")
    if not data.get("rv"):
        raise bad_request("invalid continue token: continue key is not valid: "
                          "incorrect encoded start resourceVersion (version meta.k8s.io/v1)")
    start = data.get("start")
    if not isinstance(start, str) or not start:
        raise bad_request("invalid continue token: continue key is not valid: "
                          "encoded start key empty (version meta.k8s.io/v1)")
    return start[:-1] if start.endswith("\x00") else start


# --------------------------------------------------------------------------- #
# Content negotiation (handlers/negotiation): plain JSON or PartialObjectMetadata
# --------------------------------------------------------------------------- #

_JSON_TYPES = ("application/json", "application/*", "*/*")


def negotiate(accept: str, is_list: bool) -> Optional[Tuple[str, str]]:
    """Pick ("json", "") or ("meta", version) from an Accept header, or None (406).

    Table and protobuf are not offered: a client that lists them with a plain
    application/json fallback (kubectl does) gets JSON, as from a server
    without those media types.
    """
    if not accept.strip():
        return ("json", "")
    wanted = "PartialObjectMetadataList" if is_list else "PartialObjectMetadata"
    for media_range in accept.split(","):
        parts = [p.strip() for p in media_range.split(";")]
        mtype = parts[0].lower()
        params = {}
        for p in parts[1:]:
            if "=" in p:
                k, v = p.split("=", 1)
                params[k.strip().lower()] = v.strip()
        if mtype not in _JSON_TYPES:
            continue
        as_kind = params.get("as")
        if not as_kind:
            return ("json", "")
        if as_kind == wanted and params.get("g") == "meta.k8s.io" and params.get("v") in ("v1", "v1beta1"):
            return ("meta", params["v"])
    return None


def _partial(obj: dict, version: str) -> dict:
    # handlers/response.go asPartialObjectMetadata(List): metadata only, each item typed.
    return {"kind": "PartialObjectMetadata", "apiVersion": f"meta.k8s.io/{version}",
            "metadata": copy.deepcopy(obj.get("metadata") or {})}


# --------------------------------------------------------------------------- #
# Pod logs: pkg/registry/core/pod/strategy.go LogLocation/validateContainer
# (apiserver side) and pkg/kubelet/kubelet_pods.go validateContainerLogStatus
# (kubelet side; its errors reach the client as 400 BadRequest Status bodies
# through genericrest's GenericHttpResponseChecker).
# --------------------------------------------------------------------------- #

_GO_TRUE = {"1", "t", "T", "TRUE", "true", "True"}
_GO_FALSE = {"0", "f", "F", "FALSE", "false", "False"}


def _parse_bool(query: Dict[str, str], name: str) -> bool:
    raw = query.get(name)
    if raw is None or raw == "":
        return False
    if raw in _GO_TRUE:
        return True
    if raw in _GO_FALSE:
        return False
    raise bad_request(f'strconv.ParseBool: parsing "{raw}": invalid syntax')


def _parse_int(query: Dict[str, str], name: str) -> Optional[int]:
    raw = query.get(name)
    if raw is None or raw == "":
        return None
    try:
        return int(raw)
    except ValueError:
        raise bad_request(f'strconv.ParseInt: parsing "{raw}": invalid syntax') from None


def _all_container_names(pod: dict) -> List[str]:
    # podutil.VisitContainers order: init containers, containers, ephemeral containers.
    spec = pod.get("spec") or {}
    return [c.get("name", "") for key in ("initContainers", "containers", "ephemeralContainers")
            for c in (spec.get(key) or [])]


def _container_status(pod: dict, name: str) -> Optional[dict]:
    status = pod.get("status") or {}
    for key in ("containerStatuses", "initContainerStatuses", "ephemeralContainerStatuses"):
        for cs in status.get(key) or []:
            if cs.get("name") == name:
                return cs
    return None


def _rfc3339nano(timestamp: Optional[str]) -> str:
    # time.RFC3339Nano drops trailing zeros, so whole seconds print as "...:05Z".
    return timestamp or "1970-01-01T00:00:00Z"


# --------------------------------------------------------------------------- #
# The server
# --------------------------------------------------------------------------- #


class StandInAPIServer:
    """A read-only Kubernetes API server over a fixed set of objects.

    objects: dicts as `kubectl get -o json` prints them (any kind of
        RESOURCE_TYPES, plus PodMetrics/NodeMetrics). Missing uid and
        resourceVersion are filled in; a namespaced object without a namespace
        goes to "default". Every namespace a namespaced object uses exists
        implicitly, and so does "default" (as in every real cluster).
    logs: {(namespace, pod, container): {"current": str, "previous": str}}.
    forbidden: resource names ("events", "pods/log", "deployments.apps") or
        (resource, namespace) tuples. A tuple also forbids the all-namespaces
        list of that resource: under RBAC a cluster-wide list needs a grant
        that would cover that namespace too.
    metrics_enabled / pod_metrics / node_metrics: serve metrics.k8s.io/v1beta1.
    proxy_responses: {(namespace, pod, port, path): (status, body[, content_type])}
        for GET .../pods/NAME[:PORT]/proxy/PATH.
    """

    def __init__(self, objects: Iterable[dict] = (), logs: Optional[dict] = None,
                 forbidden: Iterable[Any] = (), metrics_enabled: bool = False,
                 pod_metrics: Iterable[dict] = (), node_metrics: Iterable[dict] = (),
                 proxy_responses: Optional[dict] = None):
        self.metrics_enabled = bool(metrics_enabled)
        self._types: Dict[Tuple[str, str], ResourceType] = {
            (t.group, t.plural): t for t in RESOURCE_TYPES + METRICS_TYPES}
        self._by_kind = {t.kind: t for t in RESOURCE_TYPES + METRICS_TYPES}
        self._store: Dict[Tuple[str, str], Dict[Tuple[str, str], dict]] = {k: {} for k in self._types}
        self._rv = 1000
        # Each resource's keys in list order, built on the first list (invalidated by _add).
        self._sorted_keys: Dict[Tuple[str, str], List[Tuple[str, str]]] = {}
        for obj in list(objects) + list(pod_metrics) + list(node_metrics):
            self._add(obj)
        self._add_implicit_namespaces()
        self.logs = {tuple(k): dict(v) for k, v in (logs or {}).items()}
        self._forbidden = self._parse_forbidden(forbidden)
        self._proxy = {(ns, pod, str(port), path.lstrip("/")): resp
                       for (ns, pod, port, path), resp in (proxy_responses or {}).items()}
        self._requests: List[RecordedRequest] = []
        self._lock = threading.Lock()
        self._httpd: Optional[ThreadingHTTPServer] = None
        self._thread: Optional[threading.Thread] = None
        self.url = ""

    # ----------------------------------------------------------- loading --

    @classmethod
    def from_objects_file(cls, *paths: Any, **kw: Any) -> "StandInAPIServer":
        """Build a server from JSON/YAML files: a List, one object, or multi-document YAML."""
        objects: List[dict] = list(kw.pop("objects", ()))
        for path in paths:
            with open(path, encoding="utf-8") as fh:
                text = fh.read()
            try:
                docs = [json.loads(text)]
            except ValueError:
                import yaml  # PyYAML, a project dependency; only needed for YAML input

                docs = list(yaml.safe_load_all(text))
            for doc in docs:
                objects.extend(_flatten(doc))
        return cls(objects=objects, **kw)

    def _next_rv(self) -> str:
        self._rv += 1
        return str(self._rv)

    def _add(self, obj: dict) -> None:
        if not isinstance(obj, dict) or "kind" not in obj:
            raise ValueError(f"not a Kubernetes object (no kind): {obj!r:.200}")
        api_version = obj.get("apiVersion") or ""
        if obj["kind"] == "Event" and api_version.startswith("events.k8s.io"):
            raise ValueError("events.k8s.io Events are not served; give core/v1 Events")
        rtype = self._by_kind.get(obj["kind"])
        if rtype is None:
            raise ValueError(f"kind {obj['kind']!r} is not served by the stand-in API server")
        obj = copy.deepcopy(obj)
        obj.pop("kind", None)
        obj.pop("apiVersion", None)
        meta = obj.setdefault("metadata", {})
        name = meta.get("name")
        if not name:
            raise ValueError(f"{rtype.kind} without metadata.name")
        if rtype.namespaced:
            meta["namespace"] = meta.get("namespace") or "default"
        else:
            meta.pop("namespace", None)
        ns = meta.get("namespace", "")
        meta.setdefault("uid", str(uuid.uuid5(uuid.NAMESPACE_URL, f"standin/{rtype.group}/{rtype.plural}/{ns}/{name}")))
        meta.setdefault("resourceVersion", self._next_rv())
        bucket = self._store[(rtype.group, rtype.plural)]
        if (ns, name) in bucket:
            raise ValueError(f"duplicate {rtype.kind} {ns + '/' if ns else ''}{name}")
        bucket[(ns, name)] = obj
        self._sorted_keys.pop((rtype.group, rtype.plural), None)

    def _add_implicit_namespaces(self) -> None:
        used = {"default"}
        for (group, plural), bucket in self._store.items():
            if self._types[(group, plural)].namespaced:
                used.update(ns for ns, _ in bucket)
        namespaces = self._store[("", "namespaces")]
        for ns in sorted(used):
            if ("", ns) in namespaces:
                continue
            # What `kubectl create namespace` leaves behind.
            self._add({"kind": "Namespace", "metadata": {
                "name": ns, "labels": {"kubernetes.io/metadata.name": ns},
                "creationTimestamp": "2024-01-01T00:00:00Z"},
                "spec": {"finalizers": ["kubernetes"]}, "status": {"phase": "Active"}})
        # What the controller-manager puts in every namespace of a real cluster: the root CA
        # ConfigMap (root-ca-cert-publisher, 1.20+) that every pod's kube-api-access volume mounts,
        # and the `default` ServiceAccount (serviceaccount-controller).
        configmaps = self._store[("", "configmaps")]
        accounts = self._store[("", "serviceaccounts")]
        for ns in sorted(used | {n for _, n in namespaces}):
            if (ns, "kube-root-ca.crt") not in configmaps:
                self._add({"kind": "ConfigMap", "metadata": {
                    "name": "kube-root-ca.crt", "namespace": ns,
                    "annotations": {"kubernetes.io/description": "Contains a CA bundle that can be "
                                    "used to verify the kube-apiserver when using internal endpoints "
                                    "such as the internal service IP or kubernetes.default.svc. No "
                                    "other usage is guaranteed across distributions of Kubernetes "
                                    "clusters."},
                    "creationTimestamp": "2024-01-01T00:00:00Z"},
                    "data": {"ca.crt": "-----BEGIN CERTIFICATE-----\nstand-in\n-----END CERTIFICATE-----\n"}})
            if (ns, "default") not in accounts:
                self._add({"kind": "ServiceAccount", "metadata": {
                    "name": "default", "namespace": ns, "creationTimestamp": "2024-01-01T00:00:00Z"}})

    def _parse_forbidden(self, entries: Iterable[Any]) -> List[Tuple[str, str, str, Optional[str]]]:
        """Each rule: (group, resource, subresource, namespace or None)."""
        rules = []
        for entry in entries:
            namespace = None
            if isinstance(entry, (tuple, list)):
                entry, namespace = entry
            resource, _, sub = str(entry).partition("/")
            plural, _, group = resource.partition(".")
            if not group and ("", plural) not in self._types:
                # An unqualified name of a non-core resource ("deployments").
                group = next((g for g, p in self._types if p == plural), "")
            rules.append((group, plural, sub, namespace))
        return rules

    # --------------------------------------------------------- lifecycle --

    def start(self) -> "StandInAPIServer":
        if self._httpd is not None:
            return self
        handler = type("_BoundHandler", (_Handler,), {"standin": self})
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self._httpd.daemon_threads = True
        port = self._httpd.server_address[1]
        self.url = f"http://127.0.0.1:{port}"
        # A short poll interval keeps stop() (shutdown waits for one poll) fast in test teardown.
        self._thread = threading.Thread(target=self._httpd.serve_forever, kwargs={"poll_interval": 0.02},
                                        name=f"standin-apiserver-{port}", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._httpd is None:
            return
        self._httpd.shutdown()
        self._httpd.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._httpd = None
        self._thread = None

    def __enter__(self) -> "StandInAPIServer":
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()

    # --------------------------------------------------------- recording --

    @property
    def requests(self) -> List[RecordedRequest]:
        """A snapshot of every request so far, in arrival order."""
        with self._lock:
            return list(self._requests)

    def clear_requests(self) -> None:
        with self._lock:
            self._requests.clear()

    def _record(self, request: RecordedRequest) -> None:
        with self._lock:
            self._requests.append(request)

    # -------------------------------------------------------- kubeconfig --

    def write_kubeconfig(self, path: Any, namespace: Optional[str] = None, context: str = "standin",
                         token: str = "standin-token") -> str:
        """Write a kubeconfig for this server (current-context set) and return its path."""
        if not self.url:
            raise RuntimeError("start() the server before writing a kubeconfig for it")
        q = json.dumps  # a JSON string is a valid YAML double-quoted scalar
        lines = [
            "apiVersion: v1",
            "kind: Config",
            "clusters:",
            f"- name: {q(context)}",
            "  cluster:",
            f"    server: {q(self.url)}",
            "users:",
            f"- name: {q(context)}",
            "  user:",
            f"    token: {q(token)}",
            "contexts:",
            f"- name: {q(context)}",
            "  context:",
            f"    cluster: {q(context)}",
            f"    user: {q(context)}",
        ]
        if namespace:
            lines.append(f"    namespace: {q(namespace)}")
        lines += [f"current-context: {q(context)}", "preferences: {}", ""]
        path = os.fspath(path)
        parent = os.path.dirname(path)
        if parent:
            os.makedirs(parent, exist_ok=True)
        with open(path, "w", encoding="utf-8") as fh:
            fh.write("\n".join(lines))
        return path

    # ------------------------------------------------------------ routing --

    def handle(self, method: str, raw_path: str, headers: Dict[str, str]) -> Tuple[int, str, bytes]:
        """Answer one request: (status code, content type, body)."""
        split = urlsplit(raw_path)
        path = unquote(split.path)
        query: Dict[str, str] = {}
        for key, value in parse_qsl(split.query, keep_blank_values=True):
            query.setdefault(key, value)
        self._record(RecordedRequest(method, path, query, dict(headers)))
        try:
            if method != "GET":
                raise method_not_allowed()
            return self._route(path, query, headers)
        except APIError as err:
            return err.code, "application/json", _dump(err.status())
        except Exception as err:  # a stand-in bug: answer like the real server's panic handler
            failure = APIError(500, "InternalError", f"an error on the server ({err!r}) has prevented the "
                               "request from succeeding", {})
            return 500, "application/json", _dump(failure.status())

    def _route(self, path: str, query: Dict[str, str], headers: Dict[str, str]) -> Tuple[int, str, bytes]:
        segments = [s for s in path.split("/") if s]
        if path in ("/healthz", "/livez", "/readyz"):
            return 200, "text/plain; charset=utf-8", b"ok"
        if path == "/version":
            return _json(_VERSION_INFO)
        if segments[:1] == ["api"]:
            if len(segments) == 1:
                return _json({"kind": "APIVersions", "versions": ["v1"], "serverAddressByClientCIDRs": [
                    {"clientCIDR": "0.0.0.0/0", "serverAddress": self.url.split("//", 1)[-1]}]})
            if segments[1] != "v1":
                raise no_such_path()
            return self._route_group("", "v1", segments[2:], query, headers)
        if segments[:1] == ["apis"]:
            groups = self._groups()
            if len(segments) == 1:
                return _json({"kind": "APIGroupList", "apiVersion": "v1",
                              "groups": [_group_entry(g, v) for g, v in groups.items()]})
            group = segments[1]
            if group not in groups:
                # A group nobody serves (metrics.k8s.io without metrics-server): the real API
                # server's NotFoundHandler answers Go's plain-text http.NotFound, not a Status
                # (seen on the v1.34 cluster of tests/cluster, compare_standin.py).
                return 404, "text/plain; charset=utf-8", b"404 page not found\n"
            if len(segments) == 2:
                return _json(dict(kind="APIGroup", apiVersion="v1", **_group_entry(group, groups[group])))
            if segments[2] != groups[group]:
                raise no_such_path()
            return self._route_group(group, segments[2], segments[3:], query, headers)
        # /openapi/v2, /openapi/v3 and everything else: kubectl copes with a 404.
        raise no_such_path()

    def _groups(self) -> Dict[str, str]:
        groups: Dict[str, str] = {}
        for rtype in self._served_types():
            if rtype.group:
                groups.setdefault(rtype.group, rtype.version)
        return groups

    def _served_types(self) -> List[ResourceType]:
        return list(RESOURCE_TYPES) + (list(METRICS_TYPES) if self.metrics_enabled else [])

    def _route_group(self, group: str, version: str, rest: List[str], query: Dict[str, str],
                     headers: Dict[str, str]) -> Tuple[int, str, bytes]:
        if not rest:
            resources = []
            for rtype in self._served_types():
                if rtype.group == group:
                    resources.append(rtype.discovery_entry())
                    resources.extend(_SUBRESOURCES.get((group, rtype.plural), ()))
            body = {"kind": "APIResourceList", "groupVersion": f"{group}/{version}" if group else version,
                    "resources": resources}
            if group:
                body["apiVersion"] = "v1"
            return _json(body)
        namespace = ""
        if rest[0] == "namespaces" and len(rest) >= 3:
            namespace, rest = rest[1], rest[2:]
        rtype = self._types.get((group, rest[0]))
        if rtype is None or (rtype.group == "metrics.k8s.io" and not self.metrics_enabled):
            raise no_such_path()
        if namespace and not rtype.namespaced:
            raise no_such_path()
        if len(rest) == 1:
            self._authorize(headers, "list" if query.get("watch") in (None, "", "0", "false") else "watch",
                            rtype, "", namespace, "")
            return self._list(rtype, namespace, query, headers)
        name = rest[1]
        if rtype.namespaced and not namespace:
            raise no_such_path()  # there is no /api/v1/pods/NAME route
        if len(rest) == 2:
            self._authorize(headers, "get", rtype, "", namespace, name)
            return self._get(rtype, namespace, name, headers)
        sub = rest[2]
        if (group, rtype.plural) == ("", "pods") and sub == "log" and len(rest) == 3:
            self._authorize(headers, "get", rtype, "log", namespace, name)
            return self._pod_log(namespace, name, query)
        if (group, rtype.plural) == ("", "pods") and sub == "proxy":
            pod_name = name.split(":")[1] if name.count(":") == 2 else name.split(":")[0]
            self._authorize(headers, "get", rtype, "proxy", namespace, pod_name)
            return self._pod_proxy(namespace, name, "/".join(rest[3:]))
        raise no_such_path()

    # ------------------------------------------------------ authorization --

    def _authorize(self, headers: Dict[str, str], verb: str, rtype: ResourceType, sub: str,
                   namespace: str, name: str) -> None:
        for group, plural, rule_sub, rule_ns in self._forbidden:
            if (group, plural, rule_sub) != (rtype.group, rtype.plural, sub):
                continue
            if rule_ns is not None and rtype.namespaced and namespace not in ("", rule_ns):
                continue
            user = _header(headers, "Impersonate-User") or DEFAULT_USER
            raise forbidden(user, verb, rtype.group, rtype.plural, sub, namespace, name)

    # --------------------------------------------------------------- reads --

    def _items(self, rtype: ResourceType) -> Dict[Tuple[str, str], dict]:
        return self._store[(rtype.group, rtype.plural)]

    def _typed(self, rtype: ResourceType, obj: dict) -> dict:
        out = {"kind": rtype.kind, "apiVersion": rtype.group_version}
        out.update(copy.deepcopy(obj))
        return out

    def _get(self, rtype: ResourceType, namespace: str, name: str,
             headers: Dict[str, str]) -> Tuple[int, str, bytes]:
        chosen = negotiate(_header(headers, "Accept") or "", is_list=False)
        if chosen is None:
            raise _not_acceptable()
        obj = self._items(rtype).get((namespace, name))
        if obj is None:
            raise self._not_found(rtype, namespace, name)
        if chosen[0] == "meta":
            return _json(_partial(obj, chosen[1]))
        return _json(self._typed(rtype, obj))

    def _not_found(self, rtype: ResourceType, namespace: str, name: str) -> APIError:
        if rtype.not_found_resource:
            # metrics-server: podmetrics.metrics.k8s.io "ns/name" not found
            shown = f"{namespace}/{name}" if namespace else name
            return not_found(rtype.group, rtype.not_found_resource, shown)
        return not_found(rtype.group, rtype.plural, name)

    def _list(self, rtype: ResourceType, namespace: str, query: Dict[str, str],
              headers: Dict[str, str]) -> Tuple[int, str, bytes]:
        if query.get("watch") not in (None, "", "0", "false"):
            raise bad_request("the stand-in API server does not serve watch requests")
        chosen = negotiate(_header(headers, "Accept") or "", is_list=True)
        if chosen is None:
            raise _not_acceptable()
        # Same order as metainternalversion.ListOptions decoding: labels, then fields.
        label_reqs = parse_label_selector(query.get("labelSelector", ""))
        field_text = query.get("fieldSelector", "")
        field_terms = parse_field_selector(field_text, rtype.field_rules)
        limit = _parse_int(query, "limit") or 0
        token = query.get("continue", "")
        start: Optional[Tuple[str, str]] = None
        if token:
            if query.get("resourceVersion", "") not in ("", "0"):
                raise bad_request("specifying resource version is not allowed when using continue")
            key = decode_continue(token)
            start = tuple(key.split("/", 1)) if "/" in key else (namespace, key)  # type: ignore[assignment]

        rules = rtype.field_rules
        items = self._items(rtype)
        bucket_key = (rtype.group, rtype.plural)
        keys = self._sorted_keys.get(bucket_key)
        if keys is None:
            keys = self._sorted_keys[bucket_key] = sorted(items)
        # Keys sort by (namespace, name): a namespace, and the rest after a continue token, are
        # contiguous ranges, so a page costs O(page + log n) rather than a pass over every object.
        lo, hi = 0, len(keys)
        if namespace:
            lo = bisect.bisect_left(keys, (namespace, ""))
            hi = bisect.bisect_left(keys, (namespace + "\0", ""))
        if start is not None:
            lo = max(lo, bisect.bisect_right(keys, start))
        selective = bool(label_reqs or field_terms)
        matched = []
        for i in range(lo, hi):
            key = keys[i]
            obj = items[key]
            if not labels_match(label_reqs, _get(obj, "metadata", "labels")):
                continue
            if field_terms and not field_terms_match(field_terms, rules.fields(obj)):
                continue
            matched.append((key, obj))
            if 0 < limit < len(matched):
                break  # one past the page: enough to know a continue token is due
        total = (hi - lo) if not selective else len(matched)

        meta: Dict[str, Any] = {"resourceVersion": str(self._rv)}
        page = matched
        if 0 < limit < len(matched):
            page = matched[:limit]
            last_ns, last_name = page[-1][0]
            meta["continue"] = encode_continue(self._rv, last_name if namespace else f"{last_ns}/{last_name}")
            # The etcd3 store only counts the rest when no selector filters it.
            if not selective:
                meta["remainingItemCount"] = total - limit
        if chosen[0] == "meta":
            body = {"kind": "PartialObjectMetadataList", "apiVersion": f"meta.k8s.io/{chosen[1]}",
                    "metadata": meta, "items": [_partial(obj, chosen[1]) for _, obj in page]}
        else:
            # Typed lists carry kind/apiVersion on the list only, never per item.
            # Serialised at once (_json), so the stored objects themselves can go in: no copy.
            body = {"kind": rtype.kind + "List", "apiVersion": rtype.group_version, "metadata": meta,
                    "items": [obj for _, obj in page]}
        return _json(body)

    # ---------------------------------------------------------------- logs --

    def _pod_log(self, namespace: str, name: str, query: Dict[str, str]) -> Tuple[int, str, bytes]:
        previous = _parse_bool(query, "previous")
        timestamps = _parse_bool(query, "timestamps")
        _parse_bool(query, "follow")  # accepted; the stored log is finite, so it ends anyway
        tail = _parse_int(query, "tailLines")
        limit_bytes = _parse_int(query, "limitBytes")
        since = _parse_int(query, "sinceSeconds")
        # pkg/apis/core/validation ValidatePodLogOptions -> errors.NewInvalid (422).
        if tail is not None and tail < 0:
            raise invalid("PodLogOptions", name, "tailLines", tail, "must be greater than or equal to 0")
        if limit_bytes is not None and limit_bytes < 1:
            raise invalid("PodLogOptions", name, "limitBytes", limit_bytes, "must be greater than 0")
        if since is not None and since < 1:
            raise invalid("PodLogOptions", name, "sinceSeconds", since, "must be greater than 0")

        pod = self._store[("", "pods")].get((namespace, name))
        if pod is None:
            raise not_found("", "pods", name)
        container = query.get("container", "")
        names = _all_container_names(pod)
        regular = [c.get("name") for c in (_get(pod, "spec", "containers") or [])]
        if not container:
            if len(regular) == 1:
                container = regular[0]
            elif not regular:
                raise bad_request(f"a container name must be specified for pod {name}")
            else:
                raise bad_request(f"a container name must be specified for pod {name}, "
                                  f"choose one of: [{' '.join(names)}]")
        elif container not in names:
            raise bad_request(f"container {container} is not valid for pod {name}")
        if not _get(pod, "spec", "nodeName"):
            # LogLocation returns no location for an unscheduled pod: an empty 200.
            return 200, "text/plain", b""

        text, started = self._log_text(pod, namespace, name, container, previous)
        lines = text.splitlines(keepends=True)
        if tail is not None:
            lines = lines[-tail:] if tail else []
        if timestamps:
            stamp = _rfc3339nano(started)
            lines = [f"{stamp} {line}" for line in lines]
        body = "".join(lines).encode("utf-8")
        if limit_bytes is not None:
            body = body[:limit_bytes]
        return 200, "text/plain", body

    def _log_text(self, pod: dict, namespace: str, name: str, container: str,
                  previous: bool) -> Tuple[str, Optional[str]]:
        """Which stored log the kubelet would stream, or its 400 error.

        A log slot exists when the status names a container ID for it (as the
        kubelet requires) or when the test supplied text for it; an existing
        slot without text streams as empty.
        """
        supplied = self.logs.get((namespace, name, container), {})
        cs = _container_status(pod, container) or {}
        state = cs.get("state") or {}
        last = _get(cs, "lastState", "terminated")
        has_previous = "previous" in supplied or bool(last and last.get("containerID"))
        prev_started = last.get("startedAt") if last else None
        if previous:
            if not has_previous:
                raise bad_request(f'previous terminated container "{container}" in pod "{name}" not found')
            return supplied.get("previous", ""), prev_started
        running, terminated, waiting = state.get("running"), state.get("terminated"), state.get("waiting")
        if "current" in supplied:
            started = (running or terminated or {}).get("startedAt")
            return supplied["current"], started
        if not cs:
            raise bad_request(f'container "{container}" in pod "{name}" is not available')
        if running is not None:
            return "", running.get("startedAt")
        if terminated is not None:
            if terminated.get("containerID"):
                return "", terminated.get("startedAt")
            if has_previous:
                return supplied.get("previous", ""), prev_started
            raise bad_request(f'container "{container}" in pod "{name}" is terminated')
        if last is not None:
            # CrashLoopBackOff: plain `kubectl logs` shows the last run.
            if not has_previous:
                raise bad_request(f'container "{container}" in pod "{name}" is terminated')
            return supplied.get("previous", ""), prev_started
        if waiting is not None:
            reason = waiting.get("reason") or ""
            why = {"ErrImagePull": "image can't be pulled",
                   "ImagePullBackOff": "trying and failing to pull image"}.get(reason, reason)
            raise bad_request(f'container "{container}" in pod "{name}" is waiting to start: {why}')
        raise bad_request(f'container "{container}" in pod "{name}" is waiting to start - no logs yet')

    # --------------------------------------------------------------- proxy --

    def _pod_proxy(self, namespace: str, target: str, path: str) -> Tuple[int, str, bytes]:
        # pkg/registry/core/pod/strategy.go ResourceLocation: "name", "name:port"
        # or "scheme:name:port" (utilnet.SplitSchemeNamePort).
        parts = target.split(":")
        scheme, port = "", ""
        if len(parts) == 1:
            name = parts[0]
        elif len(parts) == 2:
            name, port = parts
        elif len(parts) == 3 and parts[0] in ("http", "https"):
            scheme, name, port = parts
        else:
            raise bad_request(f'invalid pod request "{target}"')
        if not name:
            raise bad_request(f'invalid pod request "{target}"')
        pod = self._store[("", "pods")].get((namespace, name))
        if pod is None:
            raise not_found("", "pods", name)
        ips = _get(pod, "status", "podIPs") or []
        pod_ip = (ips[0].get("ip") if ips else None) or _get(pod, "status", "podIP") or ""
        if not pod_ip:
            raise bad_request("address not allowed")
        path = path.lstrip("/")
        response = self._proxy.get((namespace, name, port, path))
        if response is None and not port:
            # No port given: upstream takes the first declared container port.
            for c in _get(pod, "spec", "containers") or []:
                if c.get("ports"):
                    port = str(c["ports"][0].get("containerPort", ""))
                    break
            response = self._proxy.get((namespace, name, port, path))
        if response is None:
            # apimachinery/pkg/util/proxy/transport.go: a failed dial is a 503.
            host = f"{pod_ip}:{port or (443 if scheme == 'https' else 80)}"
            raise APIError(503, "ServiceUnavailable",
                           f"error trying to reach service: dial tcp {host}: connect: connection refused")
        status, body = response[0], response[1]
        content_type = response[2] if len(response) > 2 else "text/plain; charset=utf-8"
        return int(status), content_type, body.encode("utf-8") if isinstance(body, str) else bytes(body)


def _not_acceptable() -> APIError:
    return APIError(406, "NotAcceptable", "only the following media types are accepted: application/json")


def _group_entry(group: str, version: str) -> dict:
    gv = {"groupVersion": f"{group}/{version}", "version": version}
    return {"name": group, "versions": [gv], "preferredVersion": gv}


def _header(headers: Dict[str, str], name: str) -> Optional[str]:
    lowered = name.lower()
    return next((v for k, v in headers.items() if k.lower() == lowered), None)


def _dump(body: Any) -> bytes:
    return json.dumps(body).encode("utf-8")


def _json(body: Any) -> Tuple[int, str, bytes]:
    # Discovery is answered as plain application/json as well: that is how
    # kubectl >= 1.26 learns the server has no aggregated discovery and falls
    # back to the per-group documents.
    return 200, "application/json", _dump(body)


def _flatten(doc: Any) -> List[dict]:
    if doc is None:
        return []
    if isinstance(doc, dict) and isinstance(doc.get("items"), list) and str(doc.get("kind", "")).endswith("List"):
        # kubectl's `List` carries typed items; a raw typed list (PodList) does not.
        item_kind = doc["kind"][:-4]
        out = []
        for item in doc["items"]:
            if item_kind and "kind" not in item:
                item = dict(item, kind=item_kind)
            out.extend(_flatten(item))
        return out
    if isinstance(doc, dict):
        return [doc]
    raise ValueError(f"not a Kubernetes object or list: {doc!r:.200}")


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, like a Go client expects
    # TCP_NODELAY: headers and body go out in two writes, and without it Nagle's algorithm holds
    # the body back until the client's delayed ACK of the headers, ~40 ms per response on a
    # kept-alive connection (a real kube-apiserver, Go's net/http, sets TCP_NODELAY too).
    disable_nagle_algorithm = True
    standin: StandInAPIServer  # set on the per-server subclass

    def _serve(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        if length:
            self.rfile.read(length)  # drain any request body to keep the connection usable
        headers = {_canonical_header(k): v for k, v in self.headers.items()}
        code, content_type, body = self.standin.handle(self.command, self.path, headers)
        self.send_response(code)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-cache, private")
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_OPTIONS = _serve

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
        pass  # keep test output clean; every request is in StandInAPIServer.requests
