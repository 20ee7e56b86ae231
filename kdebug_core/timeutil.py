"""RFC 3339 timestamps from the API and the human ages kubectl prints (`2m`, `3h`)."""

from datetime import datetime, timezone
from typing import Optional


def parse_time(value) -> Optional[datetime]:
    if not value or not isinstance(value, str):
        return None
    text = value.strip().replace("Z", "+00:00")
    # MicroTime (eventTime) carries microseconds; Python < 3.11 only parses 0, 3 or 6 digits.
    if "." in text:
        head, _, tail = text.partition(".")
        digits = "".join(ch for ch in tail if ch.isdigit())
        zone = tail[len(digits):]
        text = f"{head}.{(digits + '000000')[:6]}{zone}"
    try:
        dt = datetime.fromisoformat(text)
    except ValueError:
        return None
    return dt if dt.tzinfo else dt.replace(tzinfo=timezone.utc)


def human_duration(seconds: float) -> str:
    """The age kubectl prints (k8s.io/apimachinery/pkg/util/duration.HumanDuration): 45s, 3m20s,
    42m, 5h30m, 20h, 2d3h, 30d, 2y10d."""
    s = max(int(seconds), 0)  # kubectl says <invalid> below -1s; a skewed clock here reads as now
    if s < 120:
        return f"{s}s"
    m = s // 60
    if m < 10:
        rest = s % 60
        return f"{m}m{rest}s" if rest else f"{m}m"
    if m < 180:
        return f"{m}m"
    h = m // 60
    if h < 8:
        return f"{h}h{m % 60}m" if m % 60 else f"{h}h"
    if h < 48:
        return f"{h}h"
    if h < 24 * 8:
        return f"{h // 24}d{h % 24}h" if h % 24 else f"{h // 24}d"
    if h < 24 * 365 * 2:
        return f"{h // 24}d"
    if h < 24 * 365 * 8:
        days = h // 24 % 365
        return f"{h // 24 // 365}y{days}d" if days else f"{h // 24 // 365}y"
    return f"{h // 24 // 365}y"


def clock(value) -> Optional[str]:
    """An absolute time with its zone, as the API gives it (UTC): `10:03:22 UTC`."""
    dt = parse_time(value) if not isinstance(value, datetime) else value
    if dt is None:
        return None
    return dt.astimezone(timezone.utc).strftime("%H:%M:%S UTC")


def age(value, now: datetime) -> Optional[str]:
    dt = parse_time(value) if not isinstance(value, datetime) else value
    if dt is None:
        return None
    return human_duration((now - dt).total_seconds())


def seconds_between(start, end) -> Optional[float]:
    a, b = parse_time(start), parse_time(end)
    if a is None or b is None:
        return None
    return (b - a).total_seconds()
