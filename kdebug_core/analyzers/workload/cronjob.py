"""CronJobNotScheduling: the CronJob does not start Jobs when its schedule says it should.

Read from the CronJob's spec, status and the cronjob controller's events
(pkg/controller/cronjob/cronjob_controllerv2.go, utils.go):

* `spec.suspend: true` — nothing runs until it is resumed (cause `Suspended`);
* `JobAlreadyActive` (Normal) "Not starting job because prior execution is running and
  concurrency policy is Forbid" — a run that outlasts the interval blocks the next ones
  (cause `ConcurrencyForbid`);
* `MissSchedule` (Warning) "Missed scheduled time to start a job: <time>" — the start came later
  than `startingDeadlineSeconds` allows; `TooManyMissedTimes` (Warning) "too many missed start
  times: N. Set or decrease .spec.startingDeadlineSeconds or check clock skew" (cause `MissedSchedule`);
* `FailedCreate` (Warning) "Error creating job: ..." — the API server refuses its Jobs (quota on
  `count/jobs.batch`, a webhook) (cause `FailedCreate`);
* `UnparseableSchedule` / `InvalidSchedule` (Warning) — the schedule cannot be read;
* no event at all, but `status.lastScheduleTime` (or, before the first run, the CronJob's creation)
  is older than the last time the schedule says it should have fired (cause `NotFiring`): the
  controller is not acting on it.

The schedule is the standard five-field cron format with `@hourly`-style macros, read in
`spec.timeZone` when set (UTC otherwise, as the controller does).
"""

from datetime import datetime, timedelta, timezone
from typing import List, Optional, Set

from ...sanitize import clean
from ...timeutil import age, human_duration, parse_time
from ..base import fix
from .base import WorkloadContext, describe_event, q

_MACROS = {"@yearly": "0 0 1 1 *", "@annually": "0 0 1 1 *", "@monthly": "0 0 1 * *",
           "@weekly": "0 0 * * 0", "@daily": "0 0 * * *", "@midnight": "0 0 * * *",
           "@hourly": "0 * * * *"}
_NAMES = {"jan": 1, "feb": 2, "mar": 3, "apr": 4, "may": 5, "jun": 6, "jul": 7, "aug": 8, "sep": 9,
          "oct": 10, "nov": 11, "dec": 12, "sun": 0, "mon": 1, "tue": 2, "wed": 3, "thu": 4, "fri": 5,
          "sat": 6}


class Schedule:
    """A five-field cron schedule (minute hour day-of-month month day-of-week)."""

    def __init__(self, text: str):
        text = (text or "").strip()
        if text.startswith("TZ=") or text.startswith("CRON_TZ="):
            text = text.split(None, 1)[1] if " " in text else ""
        text = _MACROS.get(text.lower(), text)
        fields = text.split()
        if len(fields) != 5:
            raise ValueError(f"expected 5 fields, got {len(fields)}")
        self.minutes = _field(fields[0], 0, 59)
        self.hours = _field(fields[1], 0, 23)
        self.days = _field(fields[2], 1, 31)
        self.months = _field(fields[3], 1, 12)
        self.weekdays = {d % 7 for d in _field(fields[4], 0, 7)}
        self.day_any, self.weekday_any = fields[2] in ("*", "?"), fields[4] in ("*", "?")

    def _day_ok(self, t: datetime) -> bool:
        dom, dow = t.day in self.days, (t.isoweekday() % 7) in self.weekdays
        if self.day_any or self.weekday_any:
            return dom and dow
        return dom or dow  # cron's rule: either field may match when both are restricted

    def next_after(self, t: datetime, limit_days: int = 400) -> Optional[datetime]:
        t = (t + timedelta(minutes=1)).replace(second=0, microsecond=0)
        end = t + timedelta(days=limit_days)
        while t < end:
            if t.month not in self.months:
                t = (t.replace(day=1, hour=0, minute=0) + timedelta(days=32)).replace(day=1)
                continue
            if not self._day_ok(t):
                t = (t + timedelta(days=1)).replace(hour=0, minute=0)
                continue
            if t.hour not in self.hours:
                t = (t + timedelta(hours=1)).replace(minute=0)
                continue
            if t.minute not in self.minutes:
                t += timedelta(minutes=1)
                continue
            return t
        return None


def _field(text: str, lo: int, hi: int) -> Set[int]:
    out: Set[int] = set()
    for part in text.lower().split(","):
        step = 1
        if "/" in part:
            part, s = part.split("/", 1)
            step = int(s)
            if step <= 0:
                raise ValueError("step must be positive")
        if part in ("*", "?"):
            a, b = lo, hi
        elif "-" in part:
            x, y = part.split("-", 1)
            a, b = _num(x), _num(y)
        else:
            a = _num(part)
            b = hi if step > 1 and "/" in text else a
        if a < lo or b > hi or a > b:
            raise ValueError(f"{part} is out of range {lo}-{hi}")
        out.update(range(a, b + 1, step))
    return out


def _num(text: str) -> int:
    return _NAMES[text] if text in _NAMES else int(text)


def _zone(name: Optional[str]):
    if not name:
        return timezone.utc
    try:
        from zoneinfo import ZoneInfo
        return ZoneInfo(name)
    except Exception:
        return None


def analyze(ctx: WorkloadContext) -> List:
    if ctx.kind != "CronJob":
        return []
    spec, st = ctx.spec, ctx.status
    schedule_text = spec.get("schedule") or ""
    events = ctx.events()
    warnings = [e for e in events if e.get("type") == "Warning"]
    last = parse_time(st.get("lastScheduleTime"))
    evidence = [f"{ctx.slash_name}: schedule {clean(schedule_text)!r}"
                + (f" ({clean(spec.get('timeZone'))})" if spec.get("timeZone") else "")
                + f", last scheduled {age(last, ctx.view.now) + ' ago' if last else 'never'}"
                + f", concurrencyPolicy {clean(spec.get('concurrencyPolicy') or 'Allow')}"
                + (f", startingDeadlineSeconds {clean(spec.get('startingDeadlineSeconds'))}"
                   if spec.get("startingDeadlineSeconds") is not None else "")]
    show = fix(f"kubectl describe cronjob {q(ctx.name)} {ctx.ns_flag}", "its schedule, last runs and events")

    if spec.get("suspend"):
        return [ctx.finding(
            "CronJobNotScheduling", f"{ctx.slash_name} is suspended (spec.suspend: true): it starts no Jobs",
            cause="Suspended", severity="warning" if ctx.targeted else "info", evidence=evidence,
            suggestions=[fix(f"kubectl patch cronjob {q(ctx.name)} {ctx.ns_flag} --type=merge "
                             f"-p '{{\"spec\":{{\"suspend\":false}}}}'", "if it should run: resume it")])]

    bad_schedule = [e for e in warnings if e.get("reason") in ("UnparseableSchedule", "InvalidSchedule")]
    if schedule_text.strip().lower().startswith("@every") and not bad_schedule:
        return []  # robfig/cron's interval form, valid for the controller: no calendar to check
    try:
        sched = Schedule(schedule_text)
    except (ValueError, KeyError) as exc:
        sched = None
        if not bad_schedule:
            evidence.append(f"the schedule cannot be read: {clean(exc)}")
    if bad_schedule or sched is None:
        evidence += [describe_event(ctx.view, e) for e in bad_schedule[-1:]]
        return [ctx.finding("CronJobNotScheduling", f"{ctx.slash_name} never runs: its schedule "
                            f"{clean(schedule_text)!r} is not valid", cause="InvalidSchedule",
                            evidence=evidence, suggestions=[show])]

    failed_create = [e for e in warnings if e.get("reason") == "FailedCreate"]
    if failed_create and _after(failed_create[-1], last):
        evidence.append(describe_event(ctx.view, failed_create[-1]))
        return [ctx.finding("CronJobNotScheduling", f"{ctx.slash_name} cannot create its Jobs: the API "
                            f"server refuses them", cause="FailedCreate", evidence=evidence,
                            suggestions=[show, fix(f"kubectl describe resourcequota {ctx.ns_flag}",
                                                   "a count/jobs.batch quota is the usual refusal")])]

    active = [r.get("name") for r in st.get("active") or [] if r.get("name")]
    blocked = [e for e in events if e.get("reason") == "JobAlreadyActive"]
    if blocked and active and (spec.get("concurrencyPolicy") == "Forbid") and _after(blocked[-1], last):
        evidence.append(describe_event(ctx.view, blocked[-1]))
        evidence.append(f"still active: {', '.join(clean(a) for a in active)}")
        return [ctx.finding(
            "CronJobNotScheduling", f"{ctx.slash_name} skips its runs: job {clean(active[0])} is still "
                                    f"running and concurrencyPolicy Forbid lets no other start",
            cause="ConcurrencyForbid", evidence=evidence,
            suggestions=[fix(f"kubectl describe job {q(active[0])} {ctx.ns_flag}", "why the running Job does not finish"),
                         fix(f"kubectl logs job/{q(active[0])} {ctx.ns_flag}", "what it is doing")])]

    missed = [e for e in warnings if e.get("reason") in ("MissSchedule", "TooManyMissedTimes")]
    if missed and _after(missed[-1], last):
        evidence.append(describe_event(ctx.view, missed[-1]))
        too_many = missed[-1].get("reason") == "TooManyMissedTimes"
        return [ctx.finding(
            "CronJobNotScheduling",
            f"{ctx.slash_name} misses its start times: "
            + ("more than 100 runs were missed (controller down, clock skew, or a suspend lifted "
               "late)" if too_many else "the controller started too late for startingDeadlineSeconds"),
            cause="MissedSchedule", evidence=evidence,
            suggestions=[show, fix(f"kubectl create job {q(ctx.name + '-manual')} --from=cronjob/{q(ctx.name)} "
                                   f"{ctx.ns_flag}", "run the missed work once now")])]

    zone = _zone(spec.get("timeZone"))
    since = last or parse_time((ctx.obj.get("metadata") or {}).get("creationTimestamp"))
    if zone is None or since is None:
        return []
    now = ctx.view.now
    due = sched.next_after(since.astimezone(zone))
    if due is None:
        return []
    # Late by more than a minute past the controller's own slack (and the starting deadline).
    grace = timedelta(seconds=max(120, int(spec.get("startingDeadlineSeconds") or 0)))
    if due.astimezone(timezone.utc) + grace >= now:
        return []
    late = (now - due.astimezone(timezone.utc)).total_seconds()
    evidence.append(f"next run was due {due.astimezone(timezone.utc).isoformat().replace('+00:00', 'Z')}, "
                    f"{human_duration(late)} ago; no Job was started")
    return [ctx.finding(
        "CronJobNotScheduling", f"{ctx.slash_name} has not started the run its schedule called for "
                                f"{human_duration(late)} ago, and no event says why: the cronjob "
                                f"controller is not acting on it", cause="NotFiring", evidence=evidence,
        suggestions=[show, fix("kubectl get pods -n kube-system -l component=kube-controller-manager",
                               "is the controller manager running?")])]


def _after(ev: dict, last: Optional[datetime]) -> bool:
    """The event is newer than the last successful schedule (older ones are history)."""
    from ...view import event_time
    t = event_time(ev)
    return last is None or t is None or t >= last
