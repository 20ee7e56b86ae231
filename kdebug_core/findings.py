"""The finding model and the report document (SPEC.md, "Findings — the output contract")."""

from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional

from .catalogue import REASONS, SEVERITY_RANK

API_VERSION = "kdebug/v1"

# What a transitional "command  # why" string is split on (zsh does not treat `#` as a comment).
_WHY_SEPARATOR = "  # "


class Fix(str):
    """A suggested command (the string itself, safe to paste) that carries its one-line why.

    It is a `str` so the `suggestions` list stays a list of commands everywhere it is used; the
    why travels beside it and comes out as `fixes: [{command, why}]` in the report.
    """
    why: Optional[str]

    def __new__(cls, command: str, why: Optional[str] = None) -> "Fix":
        obj = super().__new__(cls, command)
        obj.why = why or None
        return obj

    def __reduce__(self):
        return (Fix, (str(self), self.why))


def as_fix(suggestion: str) -> Fix:
    """A suggestion as a Fix. Safety net for strings still written as "command  # why": the
    comment becomes the why and the command stays alone (tests keep every analyzer clear of it)."""
    if isinstance(suggestion, Fix):
        return suggestion
    text = str(suggestion)
    if _WHY_SEPARATOR in text:
        command, _, why = text.partition(_WHY_SEPARATOR)
        return Fix(command.rstrip(), why.strip())
    return Fix(text)


@dataclass
class ObjectRef:
    kind: str
    namespace: Optional[str]
    name: str

    def to_dict(self) -> Dict[str, Any]:
        d = {"kind": self.kind, "namespace": self.namespace, "name": self.name}
        if self.namespace is None:
            del d["namespace"]
        return d

    @classmethod
    def of(cls, obj: dict, kind: Optional[str] = None) -> "ObjectRef":
        meta = obj.get("metadata") or {}
        return cls(kind or obj.get("kind") or "", meta.get("namespace"), meta.get("name", ""))

    def slug(self) -> str:
        """`namespace/kind/name` — the `-o name` line every plugin accepts back on stdin."""
        ns = self.namespace or ""
        return f"{ns}/{self.kind.lower()}/{self.name}" if ns else f"{self.kind.lower()}/{self.name}"


@dataclass
class TimelineEntry:
    """One moment in a pod's life, for `-o wide`: a container state change or an event."""
    time: Optional[str]
    what: str


@dataclass
class Finding:
    plugin: str
    reason: str
    object: ObjectRef
    summary: str
    container: Optional[str] = None
    owner: Optional[ObjectRef] = None
    evidence: List[str] = field(default_factory=list)
    suggestions: List[str] = field(default_factory=list)
    cause: Optional[str] = None
    severity: Optional[str] = None        # defaults to the catalogue's severity for the reason
    details: Dict[str, Any] = field(default_factory=dict)   # machine-readable specifics
    related: List["Finding"] = field(default_factory=list)  # e.g. an init container's own diagnosis

    def __post_init__(self):
        if self.reason not in REASONS:
            raise ValueError(f"reason {self.reason!r} is not in the catalogue")
        if self.severity is None:
            self.severity = REASONS[self.reason].severity
        self.suggestions = [as_fix(s) for s in self.suggestions]

    @property
    def fixes(self) -> List[Fix]:
        """The suggestions as Fix objects (command + why), whatever was appended since."""
        return [as_fix(s) for s in self.suggestions]

    @property
    def group(self) -> str:
        """`shop/deployment/web:CrashLoopBackOff:app:Error` — the same on every pod of one owner with
        the same reason, container and cause: one root cause, which `text` shows once (SPEC)."""
        who = self.owner if (self.owner is not None and self.object.kind == "Pod") else self.object
        return f"{who.slug()}:{self.reason}:{self.container or ''}:{self.cause or ''}"

    @property
    def rank(self) -> int:
        return SEVERITY_RANK[self.severity]

    def to_dict(self) -> Dict[str, Any]:
        d: Dict[str, Any] = {
            "plugin": self.plugin,
            "reason": self.reason,
            "severity": self.severity,
            "object": self.object.to_dict(),
        }
        if self.container:
            d["container"] = self.container
        if self.owner:
            d["owner"] = self.owner.to_dict()
        if self.cause:
            d["cause"] = self.cause
        d["summary"] = self.summary
        d["evidence"] = list(self.evidence)
        fixes = self.fixes
        d["suggestions"] = [str(x) for x in fixes]
        d["fixes"] = [{"command": str(x), "why": x.why} for x in fixes]
        d["group"] = self.group
        if self.details:
            d["details"] = self.details
        if self.related:
            d["related"] = [r.to_dict() for r in self.related]
        return d


# A finding on the left that the one on the right (same owner or object, same container) causes:
# one problem, one group (a readiness probe that fails because it checks a port nobody listens on).
CAUSED_BY = {"ReadinessProbeFailed": "ProbePortMismatch", "LivenessProbeFailed": "ProbePortMismatch",
             "StartupProbeFailed": "ProbePortMismatch"}


def root_groups(findings: List["Finding"]) -> Dict[int, str]:
    """id(finding) -> its group, with a symptom folded into the group of its cause (CAUSED_BY)."""
    def who(f):
        return (f.owner if (f.owner is not None and f.object.kind == "Pod") else f.object).slug()
    causes = {(who(f), f.object.slug(), f.container, f.reason): f.group for f in findings}
    # the owner's own finding of the same reason and cause (a Job's JobFailed and its failed runs)
    on_owner = {}
    for f in findings:
        if f.object.kind != "Pod":
            on_owner[(f.object.slug(), f.reason, f.cause)] = f.group
            if f.owner is not None:  # a CronJob's Job: its pods' top owner is the CronJob
                on_owner.setdefault((f.owner.slug(), f.reason, f.cause), f.group)
    out = {}
    for f in findings:
        cause = CAUSED_BY.get(f.reason)
        key = (who(f), f.object.slug(), f.container, cause)
        group = causes.get(key, f.group) if cause else f.group
        if f.object.kind == "Pod" and f.owner is not None:
            group = on_owner.get((f.owner.slug(), f.reason, f.cause), group)
        out[id(f)] = group
    return out


@dataclass
class Report:
    findings: List[Finding] = field(default_factory=list)
    # Objects examined and found healthy, so text output can say so in one line each.
    healthy: List[ObjectRef] = field(default_factory=list)
    healthy_detail: Dict[str, str] = field(default_factory=dict)  # slug -> "Running, 1/1 ready, ..."
    # What could not be read (403s, missing metrics API...): said once, never fatal.
    notes: List[str] = field(default_factory=list)
    # Per object slug: merged timeline of container states and events (only for -o wide).
    timelines: Dict[str, List[TimelineEntry]] = field(default_factory=dict)
    # Every read that failed for good ({resource, namespace, status, message[, object]}): the
    # report is incomplete, and no verdict that needed them is "healthy".
    incomplete: List[Dict[str, Any]] = field(default_factory=list)
    # Objects with nothing wrong found that cannot be called healthy because a read they needed
    # failed: slug -> what was missing.
    unverified: Dict[str, str] = field(default_factory=dict)
    # Lines of a stdin batch naming objects that no longer exist: one stderr line each, exit >= 2.
    missing_targets: List[str] = field(default_factory=list)
    # Pod slug -> its top owner's slug, for every pod examined ("on 3 of 10 pods of deployment/x").
    owners: Dict[str, str] = field(default_factory=dict)

    def to_dict(self) -> Dict[str, Any]:
        d: Dict[str, Any] = {
            "apiVersion": API_VERSION,
            "kind": "Report",
            "findings": [f.to_dict() for f in self.findings],
        }
        groups = root_groups(self.findings)
        for f, fd in zip(self.findings, d["findings"]):
            fd["group"] = groups[id(f)]
        if self.incomplete:
            d["incomplete"] = [dict(e) for e in self.incomplete]
        if self.unverified:
            d["unverified"] = [{"object": slug, "missing": why} for slug, why in self.unverified.items()]
        if self.notes:
            d["notes"] = list(self.notes)
        return d

    def exit_code(self) -> int:
        """SPEC: 1 problems found (complete or not); 3 nothing found but something needed could
        not be read; 0 only for a complete read with nothing at warning or above."""
        if self.incomplete and self.worst_rank() < 1 or self.unverified and self.worst_rank() < 1:
            code = 3
        else:
            code = 1 if self.worst_rank() >= 1 else 0
        # A batch line whose object is gone counts as that target alone would (exit 2): the run's
        # exit code is the worst of them.
        return max(code, 2) if self.missing_targets else code

    def worst_rank(self) -> int:
        return max((f.rank for f in self.findings), default=-1)
