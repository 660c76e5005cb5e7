"""Pure schedule arithmetic: when does a reminder fire? (no Flask, no DB, no clock reads).

Every time-dependent function takes `now`/`after`; every datetime in and out is aware UTC.

Decisions (see DESIGN.md "A reminder"):

- Cron, RRULE and whole-day intervals are generated as *wall-clock* times in the
  reminder's zone and each is turned into an instant by `localize()`: a time in a
  spring-forward gap runs at the first instant after the gap (`dst_shifted`), an
  ambiguous one (fall-back) runs once, at the first. APScheduler 3.11's own zone
  handling was checked and differs (a gap time fires at 03:30 instead of 03:00 and
  a fall-back time fires twice), so its triggers only ever see UTC-labelled walls.
- `every`: a whole number of days keeps the local wall time (P1D = same time
  tomorrow, ISO 8601's nominal day); anything else (PT15M, PT36H) is exact elapsed time.
- Crontab weekdays count from Sunday = 0 (7 = Sunday too); APScheduler 3.x counts
  from Monday, so numeric weekdays are rewritten as names before it sees them.
- RRULE `UNTIL=...Z` is converted to wall time in the zone; COUNT counts from DTSTART.
- `once`: `when` is already an instant, so its DST shift (if any) is reported by
  `localize`/`to_instant` when the API parses it, not by `Occurrence.dst_shifted`.
- Callers should store a resolved `when` for `every`/`rrule` (the grid and DTSTART);
  without it `next_occurrence` anchors on `after`.
- `dst_shifted` is True when the nominal time or a window opening it was deferred
  to fell in a gap. `occurrences()` does not count skipped occurrences as runs.
"""
from __future__ import annotations

import bisect
import functools
import itertools
import re
import warnings
from dataclasses import dataclass
from datetime import datetime, time, timedelta, timezone
from typing import Iterator
from zoneinfo import ZoneInfo

from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger
from dateutil.rrule import rrule, rrulestr

UTC = timezone.utc
DAY = timedelta(days=1)
KINDS = ("once", "every", "cron", "rrule")
SEARCH_LIMIT = 10_000  # candidates occurrences() looks at before giving up (all skipped)


class ScheduleError(ValueError):
    """A schedule that cannot run; .field names the offending input field, .message says why."""

    def __init__(self, field: str, message: str):
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


@dataclass(frozen=True)
class Window:
    """Allowed local hours; start == end means always inside, start > end wraps midnight."""

    start: time
    end: time
    outside: str = "defer"  # "defer" | "skip"


@dataclass(frozen=True)
class ScheduleSpec:
    """A reminder's schedule; see DESIGN.md "A reminder"."""

    kind: str  # "once" | "every" | "cron" | "rrule"
    timezone: str = "UTC"
    when: datetime | None = None
    every: timedelta | None = None
    cron: str | None = None
    rrule: str | None = None
    until: datetime | None = None
    max_runs: int | None = None
    window: Window | None = None


@dataclass(frozen=True)
class Occurrence:
    """One firing: `at` after any window deferral, `nominal` before it."""

    at: datetime
    nominal: datetime
    deferred: bool
    dst_shifted: bool
    skip: bool


# --- parsing helpers -------------------------------------------------------------

_DURATION = re.compile(
    r"P(?:(?P<weeks>\d+)W)?(?:(?P<days>\d+)D)?"
    r"(?:T(?:(?P<hours>\d+)H)?(?:(?P<minutes>\d+)M)?(?:(?P<seconds>\d+(?:[.,]\d+)?)S)?)?"
)


def parse_duration(text: str) -> timedelta:
    """Parse an ISO 8601 duration without years or months, e.g. "PT15M", "P1DT2H"."""
    if not isinstance(text, str):
        raise ValueError("duration must be an ISO 8601 string such as 'PT15M'")
    s = text.strip().upper()
    m = _DURATION.fullmatch(s)
    if m and s not in ("P", "PT") and not s.endswith("T"):
        try:
            return timedelta(**{k: float(v.replace(",", ".")) for k, v in m.groupdict().items() if v})
        except OverflowError:
            raise ValueError(f"duration {text[:40]!r} is too long") from None
    if s.startswith("P") and re.search(r"\d[YM]", s.split("T")[0]):
        raise ValueError(f"duration {text[:40]!r} uses years or months, whose length varies; use days")
    raise ValueError(f"not an ISO 8601 duration like 'PT15M' or 'P1DT2H': {text[:40]!r}")


def format_duration(td: timedelta) -> str:
    """Canonical ISO 8601 form of a non-negative timedelta, e.g. "PT15M", "P1DT2H", "PT0S"."""
    if td < timedelta(0):
        raise ValueError("negative durations are not supported")
    hours, rest = divmod(td.seconds, 3600)
    minutes, seconds = divmod(rest, 60)
    clock = "".join(f"{v}{u}" for v, u in ((hours, "H"), (minutes, "M")) if v)
    if seconds or td.microseconds:
        clock += f"{seconds}.{td.microseconds:06d}".rstrip("0").rstrip(".") + "S"
    out = "P" + (f"{td.days}D" if td.days else "") + (f"T{clock}" if clock else "")
    return out if out != "P" else "PT0S"


def parse_clock(text: str) -> time:
    """Parse a 24-hour "HH:MM" wall time (for windows)."""
    m = re.fullmatch(r"(\d{1,2}):(\d{2})", text.strip()) if isinstance(text, str) else None
    if not m or int(m[1]) > 23 or int(m[2]) > 59:
        raise ValueError(f"not a 24-hour time like '07:30': {str(text)[:40]!r}")
    return time(int(m[1]), int(m[2]))


def get_zone(name: str) -> ZoneInfo:
    """The IANA zone `name`, or ScheduleError("timezone", ...)."""
    if not isinstance(name, str) or not name or len(name) > 64:
        raise ScheduleError("timezone", "must be an IANA time zone name such as 'Europe/Berlin'")
    try:
        return ZoneInfo(name)
    except Exception:  # ZoneInfo raises ValueError, OSError, ... for odd keys and paths
        raise ScheduleError("timezone", f"unknown time zone {name!r}") from None


def localize(naive_local: datetime, zone) -> tuple[datetime, bool]:
    """Wall clock -> (aware UTC instant, dst_shifted): gap -> first instant after it, fold -> first."""
    if naive_local.tzinfo is not None:
        raise ValueError("localize() takes a naive wall-clock time")
    wall = naive_local.replace(fold=0)
    first = wall.replace(tzinfo=zone).astimezone(UTC)
    if _wall(first, zone) == wall:
        return first, False
    # In a gap fold=0 applies the offset from before the transition and fold=1 the one
    # after, so the transition lies between the two readings; bisect it to the second.
    lo = wall.replace(tzinfo=zone, fold=1).astimezone(UTC).replace(microsecond=0)
    new_offset = first.astimezone(zone).utcoffset()
    span = range(int((first - lo).total_seconds()) + 1)
    k = bisect.bisect_left(
        span, True, key=lambda s: (lo + timedelta(seconds=s)).astimezone(zone).utcoffset() == new_offset
    )
    return lo + timedelta(seconds=k), True


def to_instant(text_or_dt, tz_name: str) -> datetime:
    """ISO 8601 text or datetime -> aware UTC; without an offset it is wall time in tz_name."""
    if isinstance(text_or_dt, datetime):
        dt = text_or_dt
    elif isinstance(text_or_dt, str):
        try:
            dt = datetime.fromisoformat(text_or_dt.strip())
        except ValueError:
            raise ValueError(f"not an ISO 8601 date-time: {text_or_dt[:40]!r}") from None
    else:
        raise ValueError("expected an ISO 8601 date-time string")
    try:
        return dt.astimezone(UTC) if dt.tzinfo else localize(dt, get_zone(tz_name))[0]
    except OverflowError:
        raise ValueError("date-time out of range") from None


# --- validation ------------------------------------------------------------------

def validate(spec: ScheduleSpec) -> None:
    """Raise ScheduleError naming the first offending field of `spec`."""
    if spec.kind not in KINDS:
        raise ScheduleError("kind", f"must be one of {', '.join(KINDS)}")
    zone = get_zone(spec.timezone)
    for name in ("when", "until"):
        value = getattr(spec, name)
        if value is not None and (not isinstance(value, datetime) or value.tzinfo is None):
            raise ScheduleError(name, "must be a timezone-aware datetime")
    # Exactly one of every/cron/rrule, and only for its own kind.
    for name in ("every", "cron", "rrule"):
        present = getattr(spec, name) is not None
        if present and name != spec.kind:
            raise ScheduleError(name, f"not allowed with a {spec.kind!r} schedule")
        if not present and name == spec.kind:
            raise ScheduleError(name, "is required")
    if spec.kind == "once" and spec.when is None:
        raise ScheduleError("when", "is required for a one-off reminder")
    if spec.kind == "every" and (not isinstance(spec.every, timedelta) or spec.every <= timedelta(0)):
        raise ScheduleError("every", "must be a positive duration")
    if spec.kind == "cron":
        if _cron(spec.cron).get_next_fire_time(None, datetime(2000, 1, 1, tzinfo=UTC)) is None:
            raise ScheduleError("cron", "never matches a date")
    if spec.kind == "rrule":
        _rule(spec.rrule, datetime(2000, 1, 1), zone.key)
        # dateutil walks a rule that never matches (FREQ=DAILY;BYMONTH=2;BYMONTHDAY=30) day by day up
        # to year 9999: seconds of CPU per call. From 9600 (2000 plus 19 Gregorian 400-year cycles,
        # so the same calendar) the walk is one cycle long and still meets every matching date.
        endless = _rule(spec.rrule, datetime(9600, 1, 1), zone.key).replace(until=None, count=None)
        if next(iter(endless), None) is None:
            raise ScheduleError("rrule", "never matches a date (or repeats less often than every 400 years)")
    if spec.until is not None and spec.when is not None and spec.until <= spec.when:
        raise ScheduleError("until", "must be later than when")
    if spec.max_runs is not None and (isinstance(spec.max_runs, bool) or not isinstance(spec.max_runs, int)
                                      or spec.max_runs < 1):
        raise ScheduleError("max_runs", "must be an integer >= 1")
    w = spec.window
    if w is not None and (not isinstance(w.start, time) or not isinstance(w.end, time)
                          or w.outside not in ("defer", "skip")):
        raise ScheduleError("window", "needs start and end times and outside 'defer' or 'skip'")


# --- occurrences -----------------------------------------------------------------

def first_occurrence(spec: ScheduleSpec, now: datetime) -> Occurrence | None:
    """The first occurrence at or after `now` (a past one-off is due at once), or None."""
    return next(_stream(spec, *_from_now(spec, _aware(now))), None)


def next_occurrence(spec: ScheduleSpec, after: datetime, runs: int = 0) -> Occurrence | None:
    """The first occurrence whose `at` is later than `after`, or None when exhausted."""
    if spec.kind == "once" or (spec.max_runs is not None and runs >= spec.max_runs):
        return None
    after = _aware(after)
    zone = get_zone(spec.timezone)
    anchor = spec.when or (_minute(after) if spec.kind == "rrule" else after)
    start = _scan_start(spec, zone, after)
    if spec.when is not None:
        start = max(start, spec.when)
    return next((o for o in _stream(spec, zone, anchor, start) if o.at > after), None)


def occurrences(spec: ScheduleSpec, now: datetime, n: int, runs: int = 0) -> list[Occurrence]:
    """The next n occurrences that will fire (skipped ones left out), for previews."""
    out: list[Occurrence] = []
    last = None
    # One pass over the stream instead of repeated next_occurrence() calls, which
    # would each restart an RRULE from DTSTART; same result: `at` must keep rising.
    for occ in itertools.islice(_stream(spec, *_from_now(spec, _aware(now))), SEARCH_LIMIT):
        if len(out) >= n or (spec.max_runs is not None and runs >= spec.max_runs):
            break
        if last is not None and occ.at <= last:
            continue  # collapsed into the previous one (gap or window deferral)
        last = occ.at
        if not occ.skip:
            out.append(occ)
            runs += 1
    return out


def _from_now(spec: ScheduleSpec, now: datetime) -> tuple[ZoneInfo, datetime, datetime]:
    """(zone, anchor, earliest nominal) for the first occurrence seen from `now`."""
    zone = get_zone(spec.timezone)
    if spec.kind == "once":
        return zone, spec.when, spec.when
    if spec.kind == "rrule" and spec.when is None:
        dtstart = _minute(now)  # DTSTART itself is the first occurrence, due at once
        return zone, dtstart, dtstart
    anchor = spec.when or now
    return zone, anchor, now if spec.kind == "every" else max(anchor, now)


def _stream(spec: ScheduleSpec, zone: ZoneInfo, anchor: datetime, start: datetime) -> Iterator[Occurrence]:
    """Occurrences with nominal >= start, in nominal order, up to `until` and the end of year 9999."""
    try:
        yield from _stream_unbounded(spec, zone, anchor, start)
    except ScheduleError:
        raise
    except (OverflowError, ValueError):
        return  # APScheduler, astimezone and date arithmetic raise past datetime.max


def _stream_unbounded(spec: ScheduleSpec, zone: ZoneInfo, anchor: datetime, start: datetime) -> Iterator[Occurrence]:
    """Occurrences with nominal >= start, in nominal order, up to `until`."""
    if spec.kind == "once":
        candidates: Iterator[tuple[datetime, bool]] = iter([(spec.when, False)])
    else:
        clock = UTC if spec.kind == "every" and spec.every % DAY else zone
        candidates = (localize(w, clock) for w in _walls(spec, clock, anchor, _wall(start, clock)))
    for nominal, shifted in candidates:
        if spec.until is not None and nominal > spec.until:
            return
        if nominal >= start:  # walls just before `start` can localize below it in a fold
            yield _place(spec.window, zone, nominal, shifted)


def _walls(spec: ScheduleSpec, clock, anchor: datetime, first: datetime) -> Iterator[datetime]:
    """Naive wall times of the recurrence in `clock`, ascending, from `first` on."""
    if spec.kind == "rrule":
        return _rule(spec.rrule, _wall(anchor, clock).replace(microsecond=0), clock.key).xafter(first, inc=True)
    if spec.kind == "cron":
        trigger = _cron(spec.cron)
    else:
        trigger = IntervalTrigger(seconds=spec.every.total_seconds(),
                                  start_date=_wall(anchor, clock).replace(tzinfo=UTC), timezone=UTC)
    return _fire_times(trigger, first)


def _fire_times(trigger, first: datetime) -> Iterator[datetime]:
    """An APScheduler trigger's fire times from `first` on, over UTC-labelled walls."""
    t = trigger.get_next_fire_time(None, first.replace(tzinfo=UTC))
    while t is not None:
        yield t.replace(tzinfo=None)
        t = trigger.get_next_fire_time(t, t)


def _place(window: Window | None, zone: ZoneInfo, nominal: datetime, shifted: bool) -> Occurrence:
    """Apply the window to a nominal instant."""
    local = _wall(nominal, zone)
    if window is None or _inside(window, local.time()):
        return Occurrence(nominal, nominal, False, shifted, False)
    if window.outside == "skip":
        return Occurrence(nominal, nominal, False, shifted, True)
    opening = datetime.combine(local.date(), window.start)
    if opening < local:
        opening += DAY
    at, opening_shifted = localize(opening, zone)
    return Occurrence(at, nominal, True, shifted or opening_shifted, False)


def _scan_start(spec: ScheduleSpec, zone: ZoneInfo, after: datetime) -> datetime:
    """Where next_occurrence looks for nominals: `after`, or the last closing of a defer window it is outside."""
    w = spec.window
    local = _wall(after, zone)
    if w is None or w.outside != "defer" or _inside(w, local.time()):
        return after
    # Nominals since the window closed still wait for its next opening, which is > after.
    close = datetime.combine(local.date(), w.end)
    if close > local:
        close -= DAY
    return localize(close, zone)[0]


def _inside(window: Window, t: time) -> bool:
    """Is local time t inside the window (start inclusive, end exclusive, may wrap)?"""
    if window.start == window.end:
        return True
    if window.start < window.end:
        return window.start <= t < window.end
    return t >= window.start or t < window.end


# --- cached rule parsing -----------------------------------------------------------

_DOW_NAMES = ("sun", "mon", "tue", "wed", "thu", "fri", "sat", "sun")


@functools.lru_cache(maxsize=1024)
def _cron(expr: str) -> CronTrigger:
    """A 5-field crontab as an APScheduler trigger over UTC-labelled wall times."""
    fields = expr.split() if isinstance(expr, str) else []
    if len(fields) != 5:
        raise ScheduleError("cron", f"needs 5 fields (minute hour day month weekday), got {len(fields)}")
    try:
        fields[4] = _weekday_names(fields[4])
        return CronTrigger.from_crontab(" ".join(fields), timezone=UTC)
    except ScheduleError:
        raise
    except Exception as exc:
        raise ScheduleError("cron", str(exc)) from None


def _weekday_names(field: str) -> str:
    """Rewrite crontab weekday numbers (Sunday = 0 or 7) as names for APScheduler 3 (Monday = 0)."""
    if not any(c.isdigit() for c in field):
        return field
    # Let APScheduler expand the expression on its minute field and read the numbers back.
    probe = CronTrigger(minute=field.replace("*", "0-6"), timezone=UTC)
    base = datetime(2000, 1, 1, tzinfo=UTC)
    names = []
    for t in _fire_times(probe, base.replace(tzinfo=None)):
        if t.hour:
            break
        if t.minute > 7:
            raise ScheduleError("cron", f"weekday {t.minute} out of range 0-7")
        names.append(_DOW_NAMES[t.minute])
    return ",".join(dict.fromkeys(names))


@functools.lru_cache(maxsize=1024)
def _rule(text: str, dtstart: datetime, zone_name: str) -> rrule:
    """An RRULE body with a naive wall-clock DTSTART; UNTIL=...Z becomes wall time in the zone."""
    if not isinstance(text, str):
        raise ScheduleError("rrule", "must be a string")
    body = text.strip()
    if body[:6].upper() == "RRULE:":
        body = body[6:]
    if "DTSTART" in body.upper():
        raise ScheduleError("rrule", "must not contain DTSTART; `when` is the start")
    if any(c in body for c in ":\r\n"):
        raise ScheduleError("rrule", "must be a single RRULE, e.g. FREQ=WEEKLY;BYDAY=TU")
    zone = get_zone(zone_name)

    def until_to_wall(m: re.Match) -> str:
        instant = datetime.strptime(m[2], "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
        return m[1] + _wall(instant, zone).strftime("%Y%m%dT%H%M%S")

    body = re.sub(r"(?i)(UNTIL=)(\d{8}T\d{6}Z)", until_to_wall, body)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # e.g. dateutil's deprecated COUNT + UNTIL
            rule = rrulestr(body, dtstart=dtstart)
    except Exception as exc:
        raise ScheduleError("rrule", str(exc) or type(exc).__name__) from None
    if not isinstance(rule, rrule):
        raise ScheduleError("rrule", "must be a single RRULE")
    return rule


# --- small helpers ---------------------------------------------------------------

def _wall(instant: datetime, zone) -> datetime:
    """The naive local wall time of an aware instant."""
    return instant.astimezone(zone).replace(tzinfo=None, fold=0)


def _aware(dt: datetime) -> datetime:
    """Insist on an aware datetime and return it in UTC."""
    if not isinstance(dt, datetime) or dt.tzinfo is None:
        raise ValueError("expected a timezone-aware datetime")
    return dt.astimezone(UTC)


def _minute(dt: datetime) -> datetime:
    """Truncate to the minute."""
    return dt.replace(second=0, microsecond=0)
