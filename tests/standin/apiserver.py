"""A stand-in Kubernetes API server for tests: read requests only, stdlib only.

It serves a fixed set of objects over plain HTTP on 127.0.0.1 with the real
kube-apiserver's semantics for the reads kdebug (and kubectl) make: discovery,
lists and gets, label and field selectors, pagination, metadata-only reads,
Tables, pod logs, pod proxy, events.k8s.io/v1, metrics.k8s.io, managedFields,
and the Status bodies of the errors the real server returns (403, 404, 400,
405, 406, 410-less pagination, 503). It answers as kube-apiserver v1.34.4 does
(tests/cluster/compare_standin.py compares the two; tests/cluster/README.md
lists what still differs).

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
import copy
import json
import os
import posixpath
import re
import threading
import uuid
from dataclasses import dataclass
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable, Dict, Iterable, List, NamedTuple, Optional, Tuple
from urllib.parse import parse_qsl, unquote, urlsplit

__all__ = ["StandInAPIServer", "RecordedRequest"]

#: The user named in 403 messages when the request does not impersonate anyone.
DEFAULT_USER = "system:serviceaccount:default:standin"

# What the test cluster's kube-apiserver answers (tests/cluster/build.sh sets gitVersion, gitMajor,
# gitMinor, gitTreeState, buildDate and gitCommit; compatibility/version.go adds the emulation and
# minimum compatibility versions: the binary's own, and one minor release back).
_VERSION_INFO = {
    "major": "1",
    "minor": "34",
    "emulationMajor": "1",
    "emulationMinor": "34",
    "minCompatibilityMajor": "1",
    "minCompatibilityMinor": "33",
    "gitVersion": "v1.34.4",
    "gitCommit": "0000000000000000000000000000000000000000",
    "gitTreeState": "clean",
    "buildDate": "1970-01-01T00:00:00Z",
    "goVersion": "go1.26.8",
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
    # pkg/apis/events/v1/conversion.go AddFieldLabelConversionsForEvent: the events.k8s.io names
    # of the same selectable fields (and no "source", no involvedObject.*).
    ("events.k8s.io", "events"): FieldRules(
        _META_LABELS | {"reason", "type"}, _unsupported, _event_fields,
        aliases=tuple((f"regarding.{k}", f"involvedObject.{k}") for k in (
            "kind", "namespace", "name", "uid", "apiVersion", "resourceVersion", "fieldPath"))
        + (("reportingController", "reportingComponent"),)),
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
    ResourceType("", "v1", "replicationcontrollers", "ReplicationController", True, "replicationcontroller",
                 ("rc",), _ALL),
    # The core events again, as events.k8s.io/v1 converts them (one storage, two APIs).
    ResourceType("events.k8s.io", "v1", "events", "Event", True, "event", ("ev",)),
)
# Every API group a kube-apiserver v1.34 serves with its default --runtime-config, in the order of
# its /apis answer (kube-aggregator: its own group, then by group priority, cmd/kube-apiserver/app/
# aggregator.go and pkg/controlplane/apiserver/aggregator.go), each with its versions, preferred first.
# The stand-in serves resources in some of them; the others answer an empty resource list.
REAL_GROUPS = (
    ("apiregistration.k8s.io", ("v1",)), ("apps", ("v1",)), ("events.k8s.io", ("v1",)),
    ("authentication.k8s.io", ("v1",)), ("authorization.k8s.io", ("v1",)), ("autoscaling", ("v2", "v1")),
    ("batch", ("v1",)), ("certificates.k8s.io", ("v1",)), ("networking.k8s.io", ("v1",)),
    ("policy", ("v1",)), ("rbac.authorization.k8s.io", ("v1",)), ("storage.k8s.io", ("v1",)),
    ("admissionregistration.k8s.io", ("v1",)), ("apiextensions.k8s.io", ("v1",)),
    ("scheduling.k8s.io", ("v1",)), ("coordination.k8s.io", ("v1",)), ("node.k8s.io", ("v1",)),
    ("discovery.k8s.io", ("v1",)), ("resource.k8s.io", ("v1",)), ("flowcontrol.apiserver.k8s.io", ("v1",)),
)
# The Go type a registry hands to the response writer (its package is the internal API group's),
# named in the 406 of a metadata-only request that asks for the wrong shape (handlers/response.go).
_INTERNAL_PACKAGE = {"": "core", "events.k8s.io": "core", "discovery.k8s.io": "discovery",
                     "networking.k8s.io": "networking", "storage.k8s.io": "storage",
                     "metrics.k8s.io": "metrics"}
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
        {"name": "pods/binding", "singularName": "", "namespaced": True, "kind": "Binding",
         "verbs": ["create"]},
        {"name": "pods/eviction", "singularName": "", "namespaced": True, "group": "policy",
         "version": "v1", "kind": "Eviction", "verbs": ["create"]},
    ),
}
# Subresources a real server routes for POST only: a GET finds the path but not the method (405).
_POST_ONLY_POD_SUBRESOURCES = ("binding", "eviction")


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
    """Return the start key; a malformed token is a 400 with the etcd3 store's text
    (storage.DecodeContinue: Go's base64 and JSON errors, then the token's own checks)."""

    def fail(detail: str) -> APIError:
        return bad_request(f"invalid continue token: continue key is not valid: {detail}")

    try:
        data = _go_unmarshal_continue_token(_go_raw_url_b64decode(token))
    except _GoError as err:
        raise fail(str(err)) from None
    if data["v"] != "meta.k8s.io/v1":
        raise fail(f"server does not recognize this encoded version {data['v']}")
    if not data["rv"]:
        raise fail("incorrect encoded start resourceVersion (version meta.k8s.io/v1)")
    start = data["start"]
    if not start:
        raise fail("encoded start key empty (version meta.k8s.io/v1)")
    # path.Clean defends against a start key that climbs out of the listed prefix.
    key = start if start.startswith("/") else "/" + start
    cleaned = posixpath.normpath(key)
    cleaned = "/" + cleaned.lstrip("/") if cleaned.startswith("//") else cleaned
    if cleaned != key:
        raise fail(start)
    return start[:-1] if start.endswith("\x00") else start


# --------------------------------------------------------------------------- #
# Go's encoding/base64 (RawURLEncoding) and encoding/json (v1) as the continue token decoder
# meets them: the same bytes decoded, and the same error texts for what does not decode.
# $GOROOT/src/encoding/base64/base64.go decodeQuantum, encoding/json/scanner.go, decode.go.
# --------------------------------------------------------------------------- #


class _GoError(Exception):
    """An error whose text is the one Go's standard library gives."""


_B64_URL = {c: i for i, c in enumerate(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")}


def _go_raw_url_b64decode(text: str) -> bytes:
    # base64.RawURLEncoding.DecodeString: no padding allowed, \r and \n skipped, trailing bits
    # ignored (not Strict), one lone final character is an error at its offset.
    src = text.encode("utf-8")
    out = bytearray()
    si = 0
    while True:
        dbuf = [0, 0, 0, 0]
        dlen, j = 4, 0
        while j < 4:
            if si == len(src):
                if j == 0:
                    return bytes(out)
                if j == 1:
                    raise _GoError(f"illegal base64 data at input byte {si - j}")
                dlen = j
                break
            c = src[si]
            si += 1
            value = _B64_URL.get(c)
            if value is not None:
                dbuf[j] = value
                j += 1
            elif c not in (10, 13):
                raise _GoError(f"illegal base64 data at input byte {si - 1}")
        val = dbuf[0] << 18 | dbuf[1] << 12 | dbuf[2] << 6 | dbuf[3]
        out += bytes(((val >> 16) & 0xFF, (val >> 8) & 0xFF, val & 0xFF))[:dlen - 1]
        if dlen < 4:
            return bytes(out)


def _go_quote_char(c: int) -> str:
    # encoding/json quoteChar: strconv.Quote(string(rune(c))) between single quotes.
    if c == 0x27:
        return "'\\''"
    if c == 0x22:
        return "'\"'"
    ch = chr(c)
    named = {"\a": "\\a", "\b": "\\b", "\f": "\\f", "\n": "\\n", "\r": "\\r", "\t": "\\t",
             "\v": "\\v", "\\": "\\\\"}
    if ch in named:
        return f"'{named[ch]}'"
    if c < 0x20 or c == 0x7F:
        return f"'\\x{c:02x}'"
    if not ch.isprintable():
        return f"'\\u{c:04x}'"
    return f"'{ch}'"


def _go_json_syntax_error(data: bytes) -> Optional[str]:
    """encoding/json checkValid: the first syntax error's text, or None when `data` is valid."""
    space = b" \t\r\n"
    stack: List[str] = []  # "key", "value" (in an object), "array"
    state = "begin"  # the scanner's step function
    end_top = False

    def err(c: int, context: str) -> str:
        return f"invalid character {_go_quote_char(c)} {context}"

    def end_value(c: int) -> Tuple[str, Optional[str]]:
        nonlocal end_top
        if not stack:
            end_top = True
            return "end_top", (None if c in space else err(c, "after top-level value"))
        if c in space:
            return "end_value", None
        top = stack[-1]
        if top == "key":
            if c == 0x3A:
                stack[-1] = "value"
                return "begin", None
            return "", err(c, "after object key")
        if top == "value":
            if c == 0x2C:
                stack[-1] = "key"
                return "begin_string", None
            if c == 0x7D:
                stack.pop()
                return "end_value", None
            return "", err(c, "after object key:value pair")
        if c == 0x2C:
            return "begin", None
        if c == 0x5D:
            stack.pop()
            return "end_value", None
        return "", err(c, "after array element")

    def begin_value(c: int) -> Tuple[str, Optional[str]]:
        if c in space:
            return "begin", None
        simple = {0x22: "string", 0x2D: "neg", 0x30: "zero", 0x74: "t", 0x66: "f", 0x6E: "n"}
        if c == 0x7B:
            stack.append("key")
            return "begin_string_or_empty", None
        if c == 0x5B:
            stack.append("array")
            return "begin_or_empty", None
        if c in simple:
            return simple[c], None
        if 0x31 <= c <= 0x39:
            return "one", None
        return "", err(c, "looking for beginning of value")

    literals = {"t": ("r", "tr", "true"), "tr": ("u", "tru", "true"), "tru": ("e", None, "true"),
                "f": ("a", "fa", "false"), "fa": ("l", "fal", "false"), "fal": ("s", "fals", "false"),
                "fals": ("e", None, "false"), "n": ("u", "nu", "null"), "nu": ("l", "nul", "null"),
                "nul": ("l", None, "null")}
    hexdigits = b"0123456789abcdefABCDEF"
    digits = b"0123456789"

    def step(c: int) -> Tuple[str, Optional[str]]:
        s = state
        if s == "begin":
            return begin_value(c)
        if s == "begin_or_empty":
            if c in space:
                return s, None
            return end_value(c) if c == 0x5D else begin_value(c)
        if s in ("begin_string_or_empty", "begin_string"):
            if c in space:
                return s, None
            if s == "begin_string_or_empty" and c == 0x7D:
                stack[-1] = "value"
                return end_value(c)
            if c == 0x22:
                return "string", None
            return "", err(c, "looking for beginning of object key string")
        if s in ("end_value", "end_top"):
            return end_value(c)
        if s == "string":
            if c == 0x22:
                return "end_value", None
            if c == 0x5C:
                return "esc", None
            if c < 0x20:
                return "", err(c, "in string literal")
            return s, None
        if s == "esc":
            if c in b'bfnrt\\/"':
                return "string", None
            if c == 0x75:
                return "u0", None
            return "", err(c, "in string escape code")
        if s in ("u0", "u1", "u2", "u3"):
            if c in hexdigits:
                return ("string" if s == "u3" else "u" + str(int(s[1]) + 1)), None
            return "", err(c, "in \\u hexadecimal character escape")
        if s == "neg":
            if c == 0x30:
                return "zero", None
            if 0x31 <= c <= 0x39:
                return "one", None
            return "", err(c, "in numeric literal")
        if s in ("one", "zero"):
            if s == "one" and c in digits:
                return s, None
            if c == 0x2E:
                return "dot", None
            if c in b"eE":
                return "e", None
            return end_value(c)
        if s == "dot":
            if c in digits:
                return "dot0", None
            return "", err(c, "after decimal point in numeric literal")
        if s == "dot0":
            if c in digits:
                return s, None
            if c in b"eE":
                return "e", None
            return end_value(c)
        if s in ("e", "esign"):
            if s == "e" and c in b"+-":
                return "esign", None
            if c in digits:
                return "e0", None
            return "", err(c, "in exponent of numeric literal")
        if s == "e0":
            if c in digits:
                return s, None
            return end_value(c)
        want, following, word = literals[s]
        if c == ord(want):
            return (following or "end_value"), None
        return "", err(c, f"in literal {word} (expecting '{want}')")

    for c in data:
        state, error = step(c)
        if error:
            return error
    if end_top:
        return None
    state, error = step(0x20)  # eof(): a space ends a number at the top level
    if end_top and not error:
        return None
    return "unexpected end of JSON input"


class _GoNumber(str):
    """A JSON number kept as its literal (Go reports `number 1.5` for an int64 field)."""


class _GoObject(list):
    """A JSON object as its (key, value) pairs in document order (Go decodes them in that order)."""


def _go_kind(value: Any) -> str:
    if isinstance(value, _GoNumber):
        return "number"
    if isinstance(value, _GoObject):
        return "object"
    return {str: "string", bool: "bool", list: "array"}.get(type(value), "number")


def _go_unmarshal_continue_token(data: bytes) -> Dict[str, Any]:
    """json.Unmarshal(data, &continueToken{}) of apiserver/pkg/storage/continue.go:
    {v string, rv int64, start string}; the first error is Go's text."""
    syntax = _go_json_syntax_error(data)
    if syntax:
        raise _GoError(syntax)
    doc = json.loads(data.decode("utf-8", errors="replace"), parse_int=_GoNumber, parse_float=_GoNumber,
                     parse_constant=_GoNumber, object_pairs_hook=_GoObject)
    token: Dict[str, Any] = {"v": "", "rv": 0, "start": ""}
    if doc is None:
        return token
    if not isinstance(doc, _GoObject):
        raise _GoError(f"json: cannot unmarshal {_go_kind(doc)} into Go value of type "
                       "storage.continueToken")
    first: Optional[str] = None
    for key, value in doc:
        # Field names match exactly, else case-insensitively (encoding/json foldName).
        name = key if key in token else next((f for f in token if f.lower() == key.lower()), None)
        if name is None or value is None:
            continue
        if name == "rv":
            ok = isinstance(value, _GoNumber) and re.fullmatch(r"-?\d+", value) \
                and -2 ** 63 <= int(value) < 2 ** 63
            if ok:
                token["rv"] = int(value)
            elif first is None:
                shown = f"number {value}" if isinstance(value, _GoNumber) else _go_kind(value)
                first = f"json: cannot unmarshal {shown} into Go struct field continueToken.rv of type int64"
        elif isinstance(value, str) and not isinstance(value, _GoNumber):
            token[name] = value
        elif first is None:
            first = (f"json: cannot unmarshal {_go_kind(value)} into Go struct field "
                     f"continueToken.{name} of type string")
    if first:
        raise _GoError(first)
    return token


# --------------------------------------------------------------------------- #
# Content negotiation, in the real server's two steps:
# 1. go-restful picks the route: some Accept media range must be */* or exactly one of the types
#    the route produces, else 406 "406: Not Acceptable ... Available representations"
#    (github.com/emicklei/go-restful/v3 jsr311.go detectRoute, route.go matchesAccept);
# 2. the handler negotiates (apiserver/pkg/endpoints/handlers/negotiation/negotiate.go
#    NegotiateMediaTypeOptions, with RequestScope.AllowsMediaTypeTransform of handlers/rest.go):
#    clauses sorted by goautoneg, the first whose media type and `as;g;v` conversion the endpoint
#    allows wins; none: 406 "only the following media types are accepted".
# The stand-in writes JSON only: where the real server would pick YAML or protobuf, the stand-in
# goes on to the next acceptable clause (kubectl and kdebug always list JSON).
# --------------------------------------------------------------------------- #

# runtime/serializer CodecFactory.SupportedMediaTypes (CBOR is behind a disabled feature gate in 1.34).
_MEDIA_TYPES = ("application/json", "application/yaml", "application/vnd.kubernetes.protobuf")
_STREAM_MEDIA_TYPES = ("application/json;stream=watch", "application/vnd.kubernetes.protobuf;stream=watch")
_HAS_STREAM = {"application/json", "application/vnd.kubernetes.protobuf"}
# What each route produces (installer.go): a list also its watch streams; pods/log text/plain first.
PRODUCES_LIST = _MEDIA_TYPES + _STREAM_MEDIA_TYPES
PRODUCES_GET = _MEDIA_TYPES
PRODUCES_LOG = ("text/plain",) + _MEDIA_TYPES


class Negotiated(NamedTuple):
    target: str   # "json", or the conversion: "PartialObjectMetadata", "PartialObjectMetadataList", "Table"
    version: str  # meta.k8s.io version of a conversion ("v1" or "v1beta1")


def _route_accepts(accept: str, produces: Iterable[str]) -> None:
    """go-restful's route selection by Accept (an empty header is */*)."""
    produces = tuple(produces)
    for part in (accept or "*/*").split(","):
        mime = part.split(";", 1)[0].strip(" ")
        if mime == "*/*" or mime in produces:
            return
    raise APIError(406, "NotAcceptable",
                   "406: Not Acceptable\n\nAvailable representations: " + ", ".join(produces), {})


def _parse_accept(header: str) -> List[Tuple[str, str, float, Dict[str, str]]]:
    """goautoneg.ParseAccept: (type, subtype, q, params), highest q and most specific first."""
    clauses = []
    for part in header.split(","):
        part = part.strip(" ")
        media, _, rest = part.partition(";")
        mtype, sep, subtype = media.partition("/")
        mtype = mtype.strip(" ")
        if not sep:
            if mtype != "*":
                continue
            subtype = "*"
        elif "/" in subtype:
            continue
        subtype = subtype.strip(" ")
        q, params = 1.0, {}
        for param in rest.split(";") if rest else ():
            if param.count("=") != 1:
                continue
            key, value = (x.strip(" ") for x in param.split("="))
            if key == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 0.0
            else:
                params[key] = value
        clauses.append((mtype, subtype, q, params))
    clauses.sort(key=lambda c: (-c[2], c[0] == "*", c[1] == "*"))
    return clauses


def negotiate(accept: str, produces: Iterable[str] = PRODUCES_LIST) -> Negotiated:
    """The representation the real server would pick for this Accept header, or its 406."""
    _route_accepts(accept, produces)
    if not accept:
        return Negotiated("json", "")
    real_would_pick_other = False
    for mtype, subtype, _q, params in _parse_accept(accept):
        for media in _MEDIA_TYPES:
            a_type, a_sub = media.split("/")
            if not ((mtype, subtype) in ((a_type, a_sub), (a_type, "*")) or (mtype, subtype) == ("*", "*")):
                continue
            stream = params.get("stream", "")
            if stream and (media not in _HAS_STREAM or stream != "watch"):
                continue
            if params.get("sv", "") not in ("", "v1"):
                continue
            convert = None
            if any(k in params for k in ("as", "g", "v")):
                convert = (params.get("as", ""), params.get("g", ""), params.get("v", ""))
            if convert is not None:
                kind, group, version = convert
                if group != "meta.k8s.io" or version not in ("v1", "v1beta1"):
                    continue
                if kind == "Table":
                    if a_type != "application" or a_sub not in ("json", "yaml"):
                        continue
                elif kind not in ("PartialObjectMetadata", "PartialObjectMetadataList"):
                    continue
            if media != "application/json":
                real_would_pick_other = True
                continue
            if stream:
                raise bad_request("the stand-in API server does not serve watch requests")
            return Negotiated(convert[0], convert[2]) if convert else Negotiated("json", "")
    if real_would_pick_other:
        raise APIError(406, "NotAcceptable", "the stand-in API server writes application/json only "
                       "(a real one would have answered YAML or protobuf here)")
    raise APIError(406, "NotAcceptable",
                   "only the following media types are accepted: " + ", ".join(_MEDIA_TYPES))


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


_KUBELET_LOG_ERROR = re.compile(r"unable to retrieve container logs for \S+")


def _rfc3339nano(timestamp: Optional[str]) -> str:
    # time.RFC3339Nano drops trailing zeros, so whole seconds print as "...:05Z".
    return timestamp or "1970-01-01T00:00:00Z"


# --------------------------------------------------------------------------- #
# Tables (Accept: application/json;as=Table;g=meta.k8s.io;v=v1), what `kubectl get` asks for.
# Pods, events (both APIs print the core form) and deployments: pkg/printers/internalversion/
# printers.go printPod, printEvent, printDeployment, with every column (the server's TableConvertor
# prints Wide, pkg/printers/storage/storage.go). Other kinds: the default table convertor of
# apiserver/pkg/registry/rest/table.go (Name, Created At); a real server has a printer for each
# built-in kind (see tests/cluster/README.md).
# --------------------------------------------------------------------------- #

# metav1.ObjectMeta{}.SwaggerDoc(), v1.PodStatus{}.SwaggerDoc(), v1.PodSpec{}.SwaggerDoc() (v0.34.4)
_DOC_NAME = ("Name must be unique within a namespace. Is required when creating resources, although some "
             "resources may allow a client to request the generation of an appropriate name "
             "automatically. Name is primarily intended for creation idempotence and configuration "
             "definition. Cannot be updated. More info: "
             "https://kubernetes.io/docs/concepts/overview/working-with-objects/names#names")
_DOC_CREATED = ("CreationTimestamp is a timestamp representing the server time when this object was "
                "created. It is not guaranteed to be set in happens-before order across separate "
                "operations. Clients may not set this value. It is represented in RFC3339 form and is "
                "in UTC.\n\nPopulated by the system. Read-only. Null for lists. More info: "
                "https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#metadata")
_DOC_POD_IP = "podIP address allocated to the pod. Routable at least within the cluster. Empty if not yet allocated."
_DOC_NODE_NAME = ("NodeName indicates in which node this pod is scheduled. If empty, this pod is a candidate "
                  "for scheduling by the scheduler defined in schedulerName. Once this field is set, the "
                  "kubelet for this node becomes responsible for the lifecycle of this pod. This field "
                  "should not be used to express a desire for the pod to be scheduled on a specific node. "
                  "https://kubernetes.io/docs/concepts/scheduling-eviction/assign-pod-node/#nodename")
_DOC_NOMINATED = ("nominatedNodeName is set only when this pod preempts other pods on the node, but it cannot "
                  "be scheduled right away as preemption victims receive their graceful termination "
                  "periods. This field does not guarantee that the pod will be scheduled on this node. "
                  "Scheduler may decide to place the pod elsewhere if other nodes become available sooner. "
                  "Scheduler may also decide to give the resources on this node to a higher priority pod "
                  "that is created after preemption. As a result, this field may be different than "
                  "PodSpec.nodeName when the pod is scheduled.")
_DOC_GATES = ("If specified, all readiness gates will be evaluated for pod readiness. A pod is ready when "
              "all its containers are ready AND all conditions specified in the readiness gates have "
              "status equal to \"True\" More info: "
              "https://git.k8s.io/enhancements/keps/sig-network/580-pod-readiness-gates")


def _column(name: str, description: str, type_: str = "string", format_: str = "", priority: int = 0) -> dict:
    return {"name": name, "type": type_, "format": format_, "description": description, "priority": priority}


POD_COLUMNS = [
    _column("Name", _DOC_NAME, format_="name"),
    _column("Ready", "The aggregate readiness state of this pod for accepting traffic."),
    _column("Status", "The aggregate status of the containers in this pod."),
    _column("Restarts", "The number of times the containers in this pod have been restarted and when the "
                        "last container in this pod has restarted."),
    _column("Age", _DOC_CREATED),
    _column("IP", _DOC_POD_IP, priority=1),
    _column("Node", _DOC_NODE_NAME, priority=1),
    _column("Nominated Node", _DOC_NOMINATED, priority=1),
    _column("Readiness Gates", _DOC_GATES, priority=1),
]
# v1.Event{}.SwaggerDoc(), v1.ObjectReference{}.SwaggerDoc(), extensions/v1beta1 Deployment docs
_DOC_FIELD_PATH = (
    "If referring to a piece of an object instead of an entire object, this string should contain a valid "
    "JSON/Go field access statement, such as desiredState.manifest.containers[2]. For example, if the object "
    "reference is to a container within a pod, this would take on a value like: \"spec.containers{name}\" "
    "(where \"name\" refers to the name of the container that triggered the event) or if no container name "
    "is specified \"spec.containers[2]\" (container with index 2 in this pod). This syntax is chosen only to "
    "have some well-defined way of referencing a part of an object.")
EVENT_COLUMNS = [
    _column("Last Seen", "The time at which the most recent occurrence of this event was recorded."),
    _column("Type", "Type of this event (Normal, Warning), new types could be added in the future"),
    _column("Reason", "This should be a short, machine understandable string that gives the reason for the "
                      "transition into the object's current status."),
    _column("Object", "The object that this event is about."),
    _column("Subobject", _DOC_FIELD_PATH, priority=1),
    _column("Source", "The component reporting this event. Should be a short machine understandable string.",
            priority=1),
    _column("Message", "A human-readable description of the status of this operation."),
    _column("First Seen", "The time at which the event was first recorded. (Time of server receipt is in "
                          "TypeMeta.)", priority=1),
    _column("Count", "The number of times this event has occurred.", priority=1),
    _column("Name", _DOC_NAME, format_="name", priority=1),
]
DEPLOYMENT_COLUMNS = [
    _column("Name", _DOC_NAME, format_="name"),
    _column("Ready", "Number of the pod with ready state"),
    _column("Up-to-date", "Total number of non-terminating pods targeted by this deployment that have the "
                          "desired template spec."),
    _column("Available", "Total number of available non-terminating pods (ready for at least "
                         "minReadySeconds) targeted by this deployment."),
    _column("Age", _DOC_CREATED),
    _column("Containers", "Names of each container in the template.", priority=1),
    _column("Images", "Images referenced by each container in the template.", priority=1),
    _column("Selector", "Label selector for pods. Existing ReplicaSets whose pods are selected by this will be "
                        "the ones affected by this deployment.", priority=1),
]
# pkg/printers/internalversion/printers.go serviceColumnDefinitions (v1.34.4)
SERVICE_COLUMNS = [
    _column("Name", _DOC_NAME, format_="name"),
    _column("Type", "type determines how the Service is exposed. Defaults to ClusterIP. Valid options are ExternalName, ClusterIP, NodePort, and LoadBalancer. \"ClusterIP\" allocates a cluster-internal IP address for load-balancing to endpoints. Endpoints are determined by the selector or if that is not specified, by manual construction of an Endpoints object or EndpointSlice objects. If clusterIP is \"None\", no virtual IP is allocated and the endpoints are published as a set of endpoints rather than a virtual IP. \"NodePort\" builds on ClusterIP and allocates a port on every node which routes to the same endpoints as the clusterIP. \"LoadBalancer\" builds on NodePort and creates an external load-balancer (if supported in the current cloud) which routes to the same endpoints as the clusterIP. \"ExternalName\" aliases this service to the specified externalName. Several other fields do not apply to ExternalName services. More info: https://kubernetes.io/docs/concepts/services-networking/service/#publishing-services-service-types"),
    _column("Cluster-IP", "clusterIP is the IP address of the service and is usually assigned randomly. If an address is specified manually, is in-range (as per system configuration), and is not in use, it will be allocated to the service; otherwise creation of the service will fail. This field may not be changed through updates unless the type field is also being changed to ExternalName (which requires this field to be blank) or the type field is being changed from ExternalName (in which case this field may optionally be specified, as describe above).  Valid values are \"None\", empty string (\"\"), or a valid IP address. Setting this to \"None\" makes a \"headless service\" (no virtual IP), which is useful when direct endpoint connections are preferred and proxying is not required.  Only applies to types ClusterIP, NodePort, and LoadBalancer. If this field is specified when creating a Service of type ExternalName, creation will fail. This field will be wiped when updating a Service to type ExternalName. More info: https://kubernetes.io/docs/concepts/services-networking/service/#virtual-ips-and-service-proxies"),
    _column("External-IP", "externalIPs is a list of IP addresses for which nodes in the cluster will also accept traffic for this service.  These IPs are not managed by Kubernetes.  The user is responsible for ensuring that traffic arrives at a node with this IP.  A common example is external load-balancers that are not part of the Kubernetes system."),
    _column("Port(s)", "The list of ports that are exposed by this service. More info: https://kubernetes.io/docs/concepts/services-networking/service/#virtual-ips-and-service-proxies"),
    _column("Age", _DOC_CREATED),
    _column("Selector", "Route service traffic to pods with label keys and values matching this selector. If empty or not present, the service is assumed to have an external process managing its endpoints, which Kubernetes will not modify. Only applies to types ClusterIP, NodePort, and LoadBalancer. Ignored if type is ExternalName. More info: https://kubernetes.io/docs/concepts/services-networking/service/", priority=1),
]
DEFAULT_COLUMNS = [_column("Name", _DOC_NAME, format_="name"),
                   _column("Created At", _DOC_CREATED, type_="date")]


def _parse_rfc3339(text: Any) -> Optional[datetime]:
    if not isinstance(text, str) or not text:
        return None
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None


def human_duration(seconds: float) -> str:
    """k8s.io/apimachinery/pkg/util/duration HumanDuration."""
    s = int(seconds)
    if s < -1:
        return "<invalid>"
    if s < 0:
        return "0s"
    if s < 120:
        return f"{s}s"
    minutes = s // 60
    if minutes < 10:
        return f"{minutes}m" if s % 60 == 0 else f"{minutes}m{s % 60}s"
    if minutes < 180:
        return f"{minutes}m"
    hours = s // 3600
    if hours < 8:
        return f"{hours}h" if minutes % 60 == 0 else f"{hours}h{minutes % 60}m"
    if hours < 48:
        return f"{hours}h"
    if hours < 24 * 8:
        return f"{hours // 24}d" if hours % 24 == 0 else f"{hours // 24}d{hours % 24}h"
    if hours < 24 * 365 * 2:
        return f"{hours // 24}d"
    if hours < 24 * 365 * 8:
        days = (hours // 24) % 365
        return f"{hours // 24 // 365}y" if days == 0 else f"{hours // 24 // 365}y{days}d"
    return f"{hours // 24 // 365}y"


def _since(timestamp: Any, now: datetime) -> str:
    # translateTimestampSince
    when = _parse_rfc3339(timestamp)
    return "<unknown>" if when is None else human_duration((now - when).total_seconds())


def _restartable(container: Optional[dict]) -> bool:
    return bool(container) and container.get("restartPolicy") == "Always"


def pod_row_cells(pod: dict, now: datetime) -> Tuple[List[str], Optional[List[dict]]]:
    """printPod: the cells (every column) and the row conditions."""
    spec, status = pod.get("spec") or {}, pod.get("status") or {}
    restarts = restartable_restarts = 0
    total = len(spec.get("containers") or [])
    ready = 0
    last_restart = last_restartable_restart = None
    phase = status.get("phase") or ""
    reason = status.get("reason") or phase
    conditions = status.get("conditions") or []
    for cond in conditions:
        if cond.get("type") == "PodScheduled" and cond.get("reason") == "SchedulingGated":
            reason = "SchedulingGated"
    row_conditions = None
    if phase == "Succeeded":
        row_conditions = [{"type": "Completed", "status": "True", "reason": "Succeeded",
                           "message": "The pod has completed successfully."}]
    elif phase == "Failed":
        row_conditions = [{"type": "Completed", "status": "True", "reason": "Failed", "message": "The pod failed."}]
    init_specs = {c.get("name"): c for c in spec.get("initContainers") or []}
    total += sum(1 for c in init_specs.values() if _restartable(c))

    def later(current: Optional[datetime], terminated: Optional[dict]) -> Optional[datetime]:
        finished = _parse_rfc3339((terminated or {}).get("finishedAt"))
        if finished and (current is None or finished > current):
            return finished
        return current

    initializing = False
    init_statuses = status.get("initContainerStatuses") or []
    for i, cs in enumerate(init_statuses):
        restarts += int(cs.get("restartCount") or 0)
        last_term = (cs.get("lastState") or {}).get("terminated")
        last_restart = later(last_restart, last_term)
        restartable = _restartable(init_specs.get(cs.get("name")))
        if restartable:
            restartable_restarts += int(cs.get("restartCount") or 0)
            last_restartable_restart = later(last_restartable_restart, last_term)
        state = cs.get("state") or {}
        term, wait = state.get("terminated"), state.get("waiting")
        if term is not None and int(term.get("exitCode") or 0) == 0:
            continue
        if restartable and cs.get("started"):
            if cs.get("ready"):
                ready += 1
            continue
        if term is not None:
            if not term.get("reason"):
                reason = (f"Init:Signal:{term['signal']}" if term.get("signal")
                          else f"Init:ExitCode:{int(term.get('exitCode') or 0)}")
            else:
                reason = "Init:" + term["reason"]
        elif wait is not None and wait.get("reason") and wait.get("reason") != "PodInitializing":
            reason = "Init:" + wait["reason"]
        else:
            reason = f"Init:{i}/{len(spec.get('initContainers') or [])}"
        initializing = True
        break
    # isPodInitializedConditionTrue: the first Initialized condition decides.
    initialized = next((c.get("status") == "True" for c in conditions if c.get("type") == "Initialized"), False)
    if not initializing or initialized:
        restarts, last_restart = restartable_restarts, last_restartable_restart
        has_running = False
        for cs in reversed(status.get("containerStatuses") or []):
            restarts += int(cs.get("restartCount") or 0)
            last_restart = later(last_restart, (cs.get("lastState") or {}).get("terminated"))
            state = cs.get("state") or {}
            term, wait = state.get("terminated"), state.get("waiting")
            if wait is not None and wait.get("reason"):
                reason = wait["reason"]
            elif term is not None and term.get("reason"):
                reason = term["reason"]
            elif term is not None:
                reason = (f"Signal:{term['signal']}" if term.get("signal")
                          else f"ExitCode:{int(term.get('exitCode') or 0)}")
            elif cs.get("ready") and state.get("running") is not None:
                has_running = True
                ready += 1
        if reason == "Completed" and has_running:
            pod_ready = any(c.get("type") == "Ready" and c.get("status") == "True" for c in conditions)
            reason = "Running" if pod_ready else "NotReady"
    deleting = (pod.get("metadata") or {}).get("deletionTimestamp")
    if deleting and status.get("reason") == "NodeLost":
        reason = "Unknown"
    elif deleting and phase not in ("Succeeded", "Failed"):
        reason = "Terminating"
    shown_restarts = str(restarts)
    if restarts and last_restart is not None:
        shown_restarts = f"{restarts} ({human_duration((now - last_restart).total_seconds())} ago)"
    ips = status.get("podIPs") or []
    pod_ip = (ips[0].get("ip") if ips and isinstance(ips[0], dict) else "") or "<none>"
    gates = spec.get("readinessGates") or []
    gates_shown = "<none>"
    if gates:
        true = 0
        for gate in gates:
            match = next((c for c in conditions if c.get("type") == gate.get("conditionType")), None)
            if match is not None and match.get("status") == "True":
                true += 1
        gates_shown = f"{true}/{len(gates)}"
    cells = [(pod.get("metadata") or {}).get("name", ""), f"{ready}/{total}", reason, shown_restarts,
             _since((pod.get("metadata") or {}).get("creationTimestamp"), now),
             pod_ip, spec.get("nodeName") or "<none>", status.get("nominatedNodeName") or "<none>", gates_shown]
    return cells, row_conditions


def event_row_cells(ev: dict, now: datetime) -> List[Any]:
    """printEvent (Wide); `ev` in its core/v1 form."""
    first = _since(ev.get("firstTimestamp") or ev.get("eventTime"), now)
    last = _since(ev.get("lastTimestamp"), now) if ev.get("lastTimestamp") else first
    count = int(ev.get("count") or 0)
    series = ev.get("series")
    if series is not None:
        last = _since(series.get("lastObservedTime"), now)
        count = int(series.get("count") or 0)
    elif count == 0:
        count = 1  # singleton events have no count in the new API
    involved = ev.get("involvedObject") or {}
    kind = str(involved.get("kind") or "").lower()
    target = f"{kind}/{involved['name']}" if involved.get("name") else kind
    source = ev.get("source") or {}
    component = source.get("component") or ev.get("reportingComponent") or ""
    host = source.get("host") or ev.get("reportingInstance") or ""
    return [last, ev.get("type") or "", ev.get("reason") or "", target, involved.get("fieldPath") or "",
            f"{component}, {host}" if host else component, str(ev.get("message") or "").strip(), first, count,
            (ev.get("metadata") or {}).get("name", "")]


def _selector_string(selector: Any) -> str:
    # metav1.LabelSelectorAsSelector(...).String(): requirements sorted by key, joined by ",".
    if not isinstance(selector, dict):
        return ""
    reqs = [(k, f"{k}={v}") for k, v in (selector.get("matchLabels") or {}).items()]
    for expr in selector.get("matchExpressions") or []:
        key, op, values = expr.get("key", ""), expr.get("operator", ""), sorted(expr.get("values") or [])
        shown = {"In": f"{key} in ({','.join(values)})", "NotIn": f"{key} notin ({','.join(values)})",
                 "Exists": key, "DoesNotExist": f"!{key}"}.get(op)
        if shown is None:
            return "<invalid>"
        reqs.append((key, shown))
    return ",".join(text for _, text in sorted(reqs, key=lambda r: r[0]))


def deployment_row_cells(dep: dict, now: datetime) -> List[Any]:
    """printDeployment (Wide)."""
    spec, status = dep.get("spec") or {}, dep.get("status") or {}
    replicas = spec.get("replicas")
    replicas = 1 if replicas is None else int(replicas)  # defaulted on create
    containers = (((spec.get("template") or {}).get("spec") or {}).get("containers")) or []
    return [(dep.get("metadata") or {}).get("name", ""), f"{int(status.get('readyReplicas') or 0)}/{replicas}",
            int(status.get("updatedReplicas") or 0), int(status.get("availableReplicas") or 0),
            _since((dep.get("metadata") or {}).get("creationTimestamp"), now),
            ",".join(c.get("name", "") for c in containers), ",".join(c.get("image", "") for c in containers),
            _selector_string(spec.get("selector"))]


def service_row_cells(svc: dict, now: datetime) -> List[Any]:
    """printService (Wide), with getServiceExternalIP and makePortString (printers.go v1.34.4)."""
    spec, status = svc.get("spec") or {}, svc.get("status") or {}
    kind = spec.get("type") or "ClusterIP"
    ips = spec.get("clusterIPs") or ([spec["clusterIP"]] if spec.get("clusterIP") else [])
    internal = ips[0] if ips else "<none>"
    external_ips = spec.get("externalIPs") or []
    if kind in ("ClusterIP", "NodePort"):
        external = ",".join(external_ips) or "<none>"
    elif kind == "LoadBalancer":
        lb = sorted({i.get("ip") or i.get("hostname") for i in ((status.get("loadBalancer") or {}).get("ingress") or [])
                     if i.get("ip") or i.get("hostname")})
        external = ",".join(lb + external_ips) if external_ips else (",".join(lb) or "<pending>")
    elif kind == "ExternalName":
        external = spec.get("externalName") or ""
    else:
        external = "<unknown>"
    ports = ",".join(f"{p.get('port')}:{p['nodePort']}/{p.get('protocol') or 'TCP'}" if p.get("nodePort")
                     else f"{p.get('port')}/{p.get('protocol') or 'TCP'}" for p in spec.get("ports") or [])
    selector = spec.get("selector") or {}
    labels = ",".join(f"{k}={v}" for k, v in sorted(selector.items())) or "<none>"
    return [(svc.get("metadata") or {}).get("name", ""), kind, internal, external, ports or "<none>",
            _since((svc.get("metadata") or {}).get("creationTimestamp"), now), labels]


def _default_cells(obj: dict) -> List[str]:
    # creationTimestamp.UTC().Format(time.RFC3339); a zero time prints as year 1.
    created = _parse_rfc3339((obj.get("metadata") or {}).get("creationTimestamp"))
    shown = created.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ") if created else "0001-01-01T00:00:00Z"
    return [(obj.get("metadata") or {}).get("name", ""), shown]


# --------------------------------------------------------------------------- #
# events.k8s.io/v1: the same stored events, converted (pkg/apis/events/v1/conversion.go
# Convert_core_Event_To_v1_Event, and back for fixtures given in that form).
# --------------------------------------------------------------------------- #


def core_event_to_events_v1(ev: dict) -> dict:
    """A core/v1 Event (as served, without kind/apiVersion) in its events.k8s.io/v1 form, with the
    JSON encoder's rules: structs always written, `omitempty` strings and counts left out."""
    out: Dict[str, Any] = {"metadata": ev.get("metadata") or {}, "eventTime": ev.get("eventTime")}
    if ev.get("series"):
        out["series"] = ev["series"]
    for src, dst in (("reportingComponent", "reportingController"), ("reportingInstance", "reportingInstance"),
                     ("action", "action"), ("reason", "reason")):
        if ev.get(src):
            out[dst] = ev[src]
    out["regarding"] = ev.get("involvedObject") or {}
    if ev.get("related"):
        out["related"] = ev["related"]
    if ev.get("message"):
        out["note"] = ev["message"]
    if ev.get("type"):
        out["type"] = ev["type"]
    out["deprecatedSource"] = {k: v for k, v in (ev.get("source") or {}).items() if v}
    out["deprecatedFirstTimestamp"] = ev.get("firstTimestamp")
    out["deprecatedLastTimestamp"] = ev.get("lastTimestamp")
    if ev.get("count"):
        out["deprecatedCount"] = ev["count"]
    return out


def events_v1_to_core_event(ev: dict) -> dict:
    """Convert_v1_Event_To_core_Event, written as core/v1 JSON."""
    out: Dict[str, Any] = {"kind": "Event", "apiVersion": "v1", "metadata": ev.get("metadata") or {},
                           "involvedObject": ev.get("regarding") or {}}
    for src, dst in (("reason", "reason"), ("note", "message"), ("type", "type"), ("action", "action"),
                     ("reportingController", "reportingComponent"), ("reportingInstance", "reportingInstance"),
                     ("series", "series"), ("related", "related")):
        if ev.get(src):
            out[dst] = ev[src]
    out["source"] = ev.get("deprecatedSource") or {}
    out["firstTimestamp"] = ev.get("deprecatedFirstTimestamp")
    out["lastTimestamp"] = ev.get("deprecatedLastTimestamp")
    if ev.get("deprecatedCount"):
        out["count"] = ev["deprecatedCount"]
    out["eventTime"] = ev.get("eventTime")
    return out


# --------------------------------------------------------------------------- #
# metadata.managedFields: a real server records, for every object, which manager set which
# fields (server-side apply's field ownership, FieldsV1 sets). `kubectl get -o json` hides them,
# so fixtures and captures lack them; the stand-in writes the entries the real writers would
# leave: the creator's Update (kubectl, or kube-controller-manager for an owned object, the
# reporting component for an event) and the status writer's Update of the status subresource.
# The sets follow the structured-merge-diff encoding (f:field, k:{key} for list items keyed by
# their merge keys, v:value for set members, "." for a map or item owned as a whole); which
# lists are keyed is simplified to the common merge keys below.
# --------------------------------------------------------------------------- #

_LIST_KEYS = {
    "containers": ("name",), "initContainers": ("name",), "ephemeralContainers": ("name",),
    "env": ("name",), "volumes": ("name",), "volumeMounts": ("mountPath",),
    "imagePullSecrets": ("name",), "conditions": ("type",), "podIPs": ("ip",), "hostIPs": ("ip",),
    "ownerReferences": ("uid",), "addresses": ("type",),
    "ports": ("containerPort", "protocol"),
}
_SERVICE_PORT_KEYS = ("port", "protocol")
_SET_LISTS = {"finalizers"}
_SERVER_SET_METADATA = {"name", "namespace", "uid", "resourceVersion", "creationTimestamp", "generation",
                        "managedFields", "deletionTimestamp", "deletionGracePeriodSeconds", "selfLink"}


def _fields_set(value: Any, name: str = "", whole: bool = True) -> dict:
    if isinstance(value, dict):
        if not value:
            return {}
        out: Dict[str, Any] = {".": {}} if whole else {}
        for key, sub in value.items():
            out[f"f:{key}"] = _fields_set(sub, key)
        return out
    if isinstance(value, list) and value:
        if name in _SET_LISTS and all(isinstance(v, str) for v in value):
            return {"v:" + json.dumps(v): {} for v in value}
        keys = _LIST_KEYS.get(name)
        if keys == ("containerPort", "protocol") and "port" in value[0]:
            keys = _SERVICE_PORT_KEYS
        if keys and all(isinstance(v, dict) and keys[0] in v for v in value):
            out = {}
            for item in value:
                key = {k: item.get(k, "TCP" if k == "protocol" else "") for k in keys}
                out["k:" + json.dumps(key, separators=(",", ":"))] = _fields_set(item)
            return out
    return {}  # a scalar, or an atomic list


def _managed_entry(manager: str, api_version: str, when: str, fields: dict, subresource: str = "") -> dict:
    entry = {"manager": manager, "operation": "Update", "apiVersion": api_version, "time": when,
             "fieldsType": "FieldsV1", "fieldsV1": fields}
    if subresource:
        entry["subresource"] = subresource
    return entry


def managed_fields(obj: dict, kind: str, api_version: str, manager: str = "") -> List[dict]:
    """The managedFields a real server would hold for `obj` (served form, no kind/apiVersion)."""
    meta = obj.get("metadata") or {}
    when = meta.get("creationTimestamp") or "2024-01-01T00:00:00Z"
    owned = any(ref.get("controller") for ref in meta.get("ownerReferences") or [] if isinstance(ref, dict))
    annotations = meta.get("annotations") or {}
    if not manager:
        if kind == "Event":
            component = obj.get("reportingComponent") or (obj.get("source") or {}).get("component") or ""
            manager = {"kubelet": "kubelet", "default-scheduler": "kube-scheduler"}.get(
                component, "kube-controller-manager")
        elif owned or kind in ("Node",):
            manager = "kubelet" if kind == "Node" else "kube-controller-manager"
        elif "kubectl.kubernetes.io/last-applied-configuration" in annotations:
            manager = "kubectl-client-side-apply"
        else:
            manager = "kubectl-create"
    fields: Dict[str, Any] = {}
    meta_fields = {k: v for k, v in meta.items() if k not in _SERVER_SET_METADATA}
    if meta_fields:
        fields["f:metadata"] = _fields_set(meta_fields, whole=False)
    for key, value in obj.items():
        if key in ("metadata", "status", "kind", "apiVersion"):
            continue
        fields[f"f:{key}"] = _fields_set(value, key, whole=key not in ("spec",))
    entries = [_managed_entry(manager, api_version, when, fields)]
    status = obj.get("status")
    if isinstance(status, dict) and status and kind != "Namespace":
        writer = "kubelet" if kind in ("Pod", "Node") else "kube-controller-manager"
        entries.append(_managed_entry(writer, api_version, when, {"f:status": _fields_set(status, whole=False)},
                                      "status"))
    return entries


# --------------------------------------------------------------------------- #
# The server
# --------------------------------------------------------------------------- #


class StandInAPIServer:
    """A read-only Kubernetes API server over a fixed set of objects.

    objects: dicts as `kubectl get -o json` prints them (any kind of
        RESOURCE_TYPES, plus PodMetrics/NodeMetrics; events.k8s.io/v1 Events are
        stored as the core/v1 Events they convert to). Missing uid and
        resourceVersion are filled in; a namespaced object without a namespace
        goes to "default". Every namespace a namespaced object uses exists
        implicitly, and so does "default" (as in every real cluster).
    logs: {(namespace, pod, container): {"current": str, "previous": str}}.
        A stored text that is the kubelet's own error (`unable to retrieve container logs for
        containerd://...`, which it writes into an answer already started as 200 when the
        runtime no longer has the container) is served as it is: no timestamps, tail or limit.
    forbidden: resource names ("events", "pods/log", "deployments.apps") or
        (resource, namespace) tuples. A tuple also forbids the all-namespaces
        list of that resource: under RBAC a cluster-wide list needs a grant
        that would cover that namespace too.
    metrics_enabled / pod_metrics / node_metrics: serve metrics.k8s.io/v1beta1.
    proxy_responses: {(namespace, pod, port, path): (status, body[, content_type])}
        for GET .../pods/NAME[:PORT]/proxy/PATH.
    managed_fields: give each object that has none the metadata.managedFields a real server
        keeps (see managed_fields()); fixtures from `kubectl get -o json` have them hidden.
    now: a callable giving the time Table ages are counted to (default: the wall clock).
    """

    def __init__(self, objects: Iterable[dict] = (), logs: Optional[dict] = None,
                 forbidden: Iterable[Any] = (), metrics_enabled: bool = False,
                 pod_metrics: Iterable[dict] = (), node_metrics: Iterable[dict] = (),
                 proxy_responses: Optional[dict] = None, managed_fields: bool = True,
                 now: Optional[Callable[[], datetime]] = None):
        self.metrics_enabled = bool(metrics_enabled)
        self.managed_fields = bool(managed_fields)
        self._now = now or (lambda: datetime.now(timezone.utc))
        self._types: Dict[Tuple[str, str], ResourceType] = {
            (t.group, t.plural): t for t in RESOURCE_TYPES + METRICS_TYPES}
        # The first type of a kind is where objects of that kind are stored (core Events).
        self._by_kind: Dict[str, ResourceType] = {}
        for t in RESOURCE_TYPES + METRICS_TYPES:
            self._by_kind.setdefault(t.kind, t)
        self._store: Dict[Tuple[str, str], Dict[Tuple[str, str], dict]] = {
            k: {} for k in self._types if k != ("events.k8s.io", "events")}
        self._store[("events.k8s.io", "events")] = self._store[("", "events")]
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

    def _add(self, obj: dict, manager: str = "") -> None:
        if not isinstance(obj, dict) or "kind" not in obj:
            raise ValueError(f"not a Kubernetes object (no kind): {obj!r:.200}")
        api_version = obj.get("apiVersion") or ""
        if obj["kind"] == "Event" and api_version.startswith("events.k8s.io"):
            obj = events_v1_to_core_event(obj)
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
        if self.managed_fields and "managedFields" not in meta and rtype.group != "metrics.k8s.io":
            meta["managedFields"] = managed_fields(obj, rtype.kind, rtype.group_version, manager)
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
            self._add(manager="kubectl-create", obj={"kind": "Namespace", "metadata": {
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
                self._add(manager="kube-controller-manager", obj={"kind": "ConfigMap", "metadata": {
                    "name": "kube-root-ca.crt", "namespace": ns,
                    "annotations": {"kubernetes.io/description": "Contains a CA bundle that can be "
                                    "used to verify the kube-apiserver when using internal endpoints "
                                    "such as the internal service IP or kubernetes.default.svc. No "
                                    "other usage is guaranteed across distributions of Kubernetes "
                                    "clusters."},
                    "creationTimestamp": "2024-01-01T00:00:00Z"},
                    "data": {"ca.crt": "-----BEGIN CERTIFICATE-----\nstand-in\n-----END CERTIFICATE-----\n"}})
            if (ns, "default") not in accounts:
                self._add(manager="kube-controller-manager", obj={"kind": "ServiceAccount", "metadata": {
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
                return _NOT_FOUND_TEXT
            if len(segments) == 2:
                return _json(dict(kind="APIGroup", apiVersion="v1", **_group_entry(group, groups[group])))
            if segments[2] not in groups[group]:
                raise no_such_path()  # the group's go-restful WebService has no such route
            return self._route_group(group, segments[2], segments[3:], query, headers)
        # A path outside every go-restful WebService (/api, /apis/GROUP...) ends at the
        # apiserver's notfoundhandler: Go's http.NotFound. The stand-in serves no /openapi.
        return _NOT_FOUND_TEXT

    def _groups(self) -> Dict[str, Tuple[str, ...]]:
        """Every group a real v1.34 server lists (REAL_GROUPS), then metrics.k8s.io if enabled."""
        groups = dict(REAL_GROUPS)
        for rtype in self._served_types():
            if rtype.group:
                groups.setdefault(rtype.group, (rtype.version,))
        return groups

    def _served_types(self) -> List[ResourceType]:
        return list(RESOURCE_TYPES) + (list(METRICS_TYPES) if self.metrics_enabled else [])

    def _route_group(self, group: str, version: str, rest: List[str], query: Dict[str, str],
                     headers: Dict[str, str]) -> Tuple[int, str, bytes]:
        if not rest:
            resources = []
            for rtype in self._served_types():
                if rtype.group == group and rtype.version == version:
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
        if rtype is None or rtype.version != version or (
                rtype.group == "metrics.k8s.io" and not self.metrics_enabled):
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
            return self._get(rtype, namespace, name, query, headers)
        sub = rest[2]
        if (group, rtype.plural) == ("", "pods") and sub == "log" and len(rest) == 3:
            self._authorize(headers, "get", rtype, "log", namespace, name)
            _route_accepts(_header(headers, "Accept") or "", PRODUCES_LOG)
            return self._pod_log(namespace, name, query)
        if (group, rtype.plural) == ("", "pods") and sub == "proxy":
            pod_name = name.split(":")[1] if name.count(":") == 2 else name.split(":")[0]
            self._authorize(headers, "get", rtype, "proxy", namespace, pod_name)
            return self._pod_proxy(namespace, name, "/".join(rest[3:]))
        if (group, rtype.plural) == ("", "pods") and sub in _POST_ONLY_POD_SUBRESOURCES and len(rest) == 3:
            # go-restful finds the route but not for GET: 405 before any authorization
            # (jsr311.go detectRoute, answered by the apiserver's serviceErrorHandler), after the
            # authorization filter has let the request through.
            self._authorize(headers, "get", rtype, sub, namespace, name)
            raise method_not_allowed()
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

    def _served(self, rtype: ResourceType, obj: dict) -> dict:
        """A stored object in the form its API serves (events.k8s.io converts core events)."""
        return core_event_to_events_v1(obj) if rtype.group == "events.k8s.io" else obj

    def _typed(self, rtype: ResourceType, obj: dict) -> dict:
        out = {"kind": rtype.kind, "apiVersion": rtype.group_version}
        out.update(copy.deepcopy(self._served(rtype, obj)))
        return out

    def _go_type(self, rtype: ResourceType, is_list: bool) -> str:
        package = _INTERNAL_PACKAGE.get(rtype.group, rtype.group)
        return f"*{package}.{rtype.kind}{'List' if is_list else ''}"

    def _table(self, rtype: ResourceType, pairs: List[dict], version: str, query: Dict[str, str],
               list_meta: Dict[str, Any]) -> dict:
        include = query.get("includeObject", "")
        if include not in ("", "Metadata", "None", "Object"):
            raise bad_request("Unable to convert to Table as requested: includeObject: Invalid value: "
                              f"{json.dumps(include)}: must be 'Metadata', 'Object', 'None', or empty")
        now = self._now()
        printer = (rtype.group, rtype.plural)
        columns = {("", "pods"): POD_COLUMNS, ("", "events"): EVENT_COLUMNS,
                   ("events.k8s.io", "events"): EVENT_COLUMNS,
                   ("apps", "deployments"): DEPLOYMENT_COLUMNS,
                   ("", "services"): SERVICE_COLUMNS}.get(printer, DEFAULT_COLUMNS)
        rows = []
        for obj in pairs:
            conditions = None
            if printer == ("", "pods"):
                cells, conditions = pod_row_cells(obj, now)
            elif printer in (("", "events"), ("events.k8s.io", "events")):
                cells = event_row_cells(obj, now)
            elif printer == ("apps", "deployments"):
                cells = deployment_row_cells(obj, now)
            elif printer == ("", "services"):
                cells = service_row_cells(obj, now)
            else:
                cells = _default_cells(obj)
            row: Dict[str, Any] = {"cells": cells}
            if conditions:
                row["conditions"] = conditions
            if include == "None":
                row["object"] = None
            elif include == "Object":
                row["object"] = self._typed(rtype, obj)
            else:
                row["object"] = _partial(obj, version)
            rows.append(row)
        return {"kind": "Table", "apiVersion": f"meta.k8s.io/{version}", "metadata": list_meta,
                "columnDefinitions": columns, "rows": rows}

    def _get(self, rtype: ResourceType, namespace: str, name: str, query: Dict[str, str],
             headers: Dict[str, str]) -> Tuple[int, str, bytes]:
        chosen = negotiate(_header(headers, "Accept") or "", PRODUCES_GET)
        obj = self._items(rtype).get((namespace, name))
        if obj is None:
            raise self._not_found(rtype, namespace, name)
        if chosen.target == "PartialObjectMetadata":
            return _json(_partial(obj, chosen.version))
        if chosen.target == "PartialObjectMetadataList":
            raise APIError(406, "NotAcceptable", "you requested PartialObjectMetadataList, but the requested "
                           f"object is not a list ({self._go_type(rtype, False)})")
        if chosen.target == "Table":
            meta = {"resourceVersion": (obj.get("metadata") or {}).get("resourceVersion", "")}
            return _json(self._table(rtype, [obj], chosen.version, query, meta))
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
        chosen = negotiate(_header(headers, "Accept") or "", PRODUCES_LIST)
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
        bucket_key = ("", "events") if rtype.group == "events.k8s.io" else (rtype.group, rtype.plural)
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
        if chosen.target == "PartialObjectMetadataList":
            body = {"kind": "PartialObjectMetadataList", "apiVersion": f"meta.k8s.io/{chosen.version}",
                    "metadata": meta, "items": [_partial(obj, chosen.version) for _, obj in page]}
        elif chosen.target == "PartialObjectMetadata":
            raise APIError(406, "NotAcceptable", "you requested PartialObjectMetadata, but the requested "
                           f"object is a list ({self._go_type(rtype, True)})")
        elif chosen.target == "Table":
            body = self._table(rtype, [obj for _, obj in page], chosen.version, query, meta)
        else:
            # Typed lists carry kind/apiVersion on the list only, never per item.
            # Serialised at once (_json), so the stored objects themselves can go in: no copy.
            body = {"kind": rtype.kind + "List", "apiVersion": rtype.group_version, "metadata": meta,
                    "items": [self._served(rtype, obj) for _, obj in page]}
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
        if _KUBELET_LOG_ERROR.fullmatch(text.strip()):
            # pkg/kubelet/kubelet_pods.go GetKubeletContainerLogs writes an empty chunk first (the
            # 200 goes out), then the runtime's error (kuberuntime_container.go GetContainerLogs:
            # the container is gone) is written into that answer by server.go's WriteError.
            return 200, "text/plain", text.encode("utf-8")
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


def _group_entry(group: str, versions: Iterable[str]) -> dict:
    listed = [{"groupVersion": f"{group}/{v}", "version": v} for v in versions]
    return {"name": group, "versions": listed, "preferredVersion": listed[0]}


# Go's http.NotFound, as the apiserver's notfoundhandler answers a path nothing routes.
_NOT_FOUND_TEXT = (404, "text/plain; charset=utf-8", b"404 page not found\n")


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
