"""The finding model and the report document (SPEC.md, "Findings — the output contract")."""

from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional

from .catalogue import REASONS, SEVERITY_RANK

API_VERSION = "kdebug/v1"


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
        d["suggestions"] = list(self.suggestions)
        if self.details:
            d["details"] = self.details
        if self.related:
            d["related"] = [r.to_dict() for r in self.related]
        return d


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

    def to_dict(self) -> Dict[str, Any]:
        d: Dict[str, Any] = {
            "apiVersion": API_VERSION,
            "kind": "Report",
            "findings": [f.to_dict() for f in self.findings],
        }
        if self.notes:
            d["notes"] = list(self.notes)
        return d

    def worst_rank(self) -> int:
        return max((f.rank for f in self.findings), default=-1)
