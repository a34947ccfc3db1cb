"""The documented per-number limits, checked against the ledger before a send.

Defaults of the service for mainland numbers (references/per-number-limits.md), counted per
accepted request whatever the receipt later says, so sends under way or with an unknown
outcome count too:

- verification-code templates, same signature to the same number: 1 per clock minute and 5
  per clock hour (UTC+8), 10 per rolling 24 hours; 40 per day from all signatures (only the
  sends this machine knows of);
- notification and marketing templates, same signature and template to the same number:
  50 per day (UTC+8), whatever the variables.

A template counts as a verification-code one once its type is known (``--verify`` looks it
up); until then the notification limit applies. Nothing here opens a database: callers pass
the earlier sends (``ledger.recent``).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from sms_skill import prog
from sms_skill.errors import OverLimit
from sms_skill.ledger import CODE, Past
from sms_skill.validation import mask

SERVICE_TZ = timezone(timedelta(hours=8))
DAY = 24 * 3600
#: How far back the limits look (the ledger keeps at least this long).
LOOKBACK = DAY
SAMPLES = 5


@dataclass(frozen=True)
class Limit:
    name: str  # as the refusal says it
    count: int
    window: str  # minute | hour | day (clock, UTC+8) | rolling
    same_template: bool = False  # per signature and template, not per signature
    all_signatures: bool = False


CODE_LIMITS = (
    Limit("verification codes: 1 per minute per signature", 1, "minute"),
    Limit("verification codes: 5 per hour per signature", 5, "hour"),
    Limit("verification codes: 10 per 24 hours per signature", 10, "rolling"),
    Limit("verification codes: 40 per day from all signatures", 40, "day", all_signatures=True),
)
NOTICE_LIMITS = (
    Limit("notifications: 50 per day per signature and template", 50, "day",
          same_template=True),
)


def window_start(window: str, now: float) -> float:
    """Where the clock minute, hour or day (UTC+8) of ``now`` began; 24 h ago if rolling."""
    if window == "rolling":
        return now - DAY
    moment = datetime.fromtimestamp(now, SERVICE_TZ)
    if window == "minute":
        moment = moment.replace(second=0, microsecond=0)
    elif window == "hour":
        moment = moment.replace(minute=0, second=0, microsecond=0)
    else:
        moment = moment.replace(hour=0, minute=0, second=0, microsecond=0)
    return moment.timestamp()


def window_end(window: str, now: float) -> float:
    """When the clock window of ``now`` ends (UTC+8)."""
    start = datetime.fromtimestamp(window_start(window, now), SERVICE_TZ)
    step = {"minute": timedelta(minutes=1), "hour": timedelta(hours=1)}.get(
        window, timedelta(days=1))
    return (start + step).timestamp()


@dataclass
class Breach:
    """One recipient over a limit: the limit and when the next send is allowed."""

    number: str  # as the user spelled it
    limit: Limit
    sent: int  # earlier sends counted in the window
    allowed_at: float

    def as_dict(self) -> dict:
        return {"number": mask(self.number), "limit": self.limit.name, "counted": self.sent,
                "next_send_allowed": stamp(self.allowed_at)}


def stamp(moment: float) -> str:
    """A time as the service's calendar shows it (UTC+8), to the second."""
    return datetime.fromtimestamp(moment, SERVICE_TZ).strftime("%Y-%m-%d %H:%M:%S UTC+8")


def _applies(limit: Limit, past: Past, sign: str | None, template: str) -> bool:
    _at, past_sign, past_template, past_kind = past
    if limit in CODE_LIMITS:
        return past_kind == CODE and (limit.all_signatures or past_sign == sign)
    return past_kind != CODE and past_sign == sign and past_template == template


def check(number: str, history: Sequence[Past], sign: str | None, template: str,
          kind: str | None, now: float) -> Breach | None:
    """The limit one more send would break, the one allowing the next send last; or None."""
    worst = None
    for limit in CODE_LIMITS if kind == CODE else NOTICE_LIMITS:
        start = window_start(limit.window, now)
        rolling = limit.window == "rolling"  # a send exactly 24 h ago no longer counts
        times = sorted(p[0] for p in history
                       if (p[0] > start if rolling else p[0] >= start)
                       and _applies(limit, p, sign, template))
        if len(times) < limit.count:
            continue
        allowed = (times[len(times) - limit.count] + DAY if rolling
                   else window_end(limit.window, now))
        if worst is None or allowed > worst.allowed_at:
            worst = Breach(number, limit, len(times), allowed)
    return worst


def breaches(planned: Iterable[tuple[str, str, str | None]], history: dict[str, list[Past]],
             template: str, kind: str | None, now: float) -> dict[str, Breach]:
    """Recipients over a limit, by canonical key. ``planned``: (number, key, signature)."""
    found = {}
    for number, key, sign in planned:
        breach = check(number, history.get(key, ()), sign, template, kind, now)
        if breach is not None:
            found[key] = breach
    return found


def refusal(found: dict[str, Breach], total: int, now: float) -> OverLimit:
    """A single or batch send refused: how many numbers, which limits, when to retry."""
    items = sorted(found.values(), key=lambda b: b.allowed_at)
    shown = "; ".join(f"{mask(b.number)}: {b.limit.name} (sent {b.sent}), next send "
                      f"allowed at {stamp(b.allowed_at)}" for b in items[:SAMPLES])
    more = " ..." if len(items) > SAMPLES else ""
    latest = items[-1].allowed_at
    wait = max(1, round(latest - now))
    return OverLimit(
        f"{len(items)} of {total} number(s) would exceed a per-number limit of the SMS "
        f"service: {shown}{more}; nothing was sent;",
        f"wait {_duration(wait)} (until {stamp(latest)}) and send again, leave those numbers "
        f"out, or add --force only if the user wants to try anyway "
        f"(`{prog.name()} explain isv.BUSINESS_LIMIT_CONTROL`).")


THROTTLE_CODE = "isv.BUSINESS_LIMIT_CONTROL"
_RETRY_WINDOWS = {"next minute": "minute", "next hour": "hour", "next day": "day"}


def translate(message: str, now: float | None = None) -> str | None:
    """What an ``isv.BUSINESS_LIMIT_CONTROL`` message says, in English, and when to retry
    (references/per-number-limits.md); None when it names no known window."""
    import re
    import time

    from sms_skill import references

    window = references.limit_window(message)
    if window is None:
        return None
    now = now or time.time()
    permits = re.search(r"Permits:\s*(\d+)", message or "")
    limit = f" ({permits.group(1)} allowed)" if permits else ""
    retry_at = window_end(_RETRY_WINDOWS.get(window.retry, "day"), now)
    wait = max(1, round(retry_at - now))
    note = (" (verification codes: possibly sooner, 24 hours after the oldest of the last "
            "10 sends)" if window.window == "day" else "")
    return (f"The gateway's message {message!r} means: {window.meaning}{limit}; nothing was "
            f"sent. Retry after {stamp(retry_at)} (in {_duration(wait)}){note}, not in a "
            "loop.")


def describe_left_out(found: Sequence[Breach]) -> str:
    """One line for a campaign: how many numbers it leaves out, a few of them, and why."""
    shown = "; ".join(f"{mask(b.number)}: {b.limit.name}, next send allowed at "
                      f"{stamp(b.allowed_at)}" for b in found[:SAMPLES])
    more = " ..." if len(found) > SAMPLES else ""
    return (f"left out {len(found)} number(s) over a per-number limit ({shown}{more}); "
            "--force sends to them anyway.")


def _duration(seconds: int) -> str:
    """A wait, rounded up: waiting the time said is always enough."""
    if seconds < 120:
        return f"{seconds} s"
    if seconds < 7200:
        return f"{-(-seconds // 60)} min"
    return f"{-(-seconds * 10 // 3600) / 10:.1f} h"
