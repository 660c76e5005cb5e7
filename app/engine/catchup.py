"""Misfires: which overdue occurrences of a reminder fire now and which are recorded as missed (pure)."""
from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from app.schedule import ScheduleSpec, occurrences

# An occurrence less late than this cannot have later ones overdue too (the API's
# shortest interval is a minute), so the claim's hot path skips the search.
CATCH_UP_AFTER = timedelta(seconds=1)
# Missed occurrences are counted one by one up to this many; beyond, "more than".
COUNT_LIMIT = 10_000
_TICK = timedelta(microseconds=1)


@dataclass(frozen=True)
class CatchUp:
    """The decision for a pending occurrence seen at `now`."""

    fire: datetime | None  # the occurrence to deliver now (the pending one or a newer overdue one)
    missed: int  # overdue occurrences recorded as missed, coalesced into one row
    first_missed: datetime | None
    last_missed: datetime | None
    more: bool  # counting stopped at COUNT_LIMIT: at least `missed`
    last_seen: datetime  # the newest overdue occurrence looked at: plan the next one after it


def catch_up(spec: ScheduleSpec, pending_at: datetime, pending_skip: bool, planned_at: datetime | None,
             now: datetime, grace: timedelta, limit: int = COUNT_LIMIT) -> CatchUp:
    """Coalesce a reminder's overdue occurrences into at most one firing and one missed count.

    The newest overdue occurrence fires if it is within `grace` of `now`; every older one is
    missed. The pending occurrence also counts as within grace when it was planned (created,
    changed, resumed: `planned_at`) within grace, so a one-off created with a past `when` fires.
    A pending `skip` occurrence is neither fired nor missed (the caller records it skipped);
    skip occurrences among the newer overdue ones are passed over like the window says.
    """
    horizon = now - grace
    newer, more = [], False
    if spec.kind != "once" and now - pending_at >= CATCH_UP_AFTER:
        newer, more = overdue_after(spec, pending_at, now, limit)
        if more:
            # Too many to count: look again from the grace horizon for the one to fire.
            tail, _ = overdue_after(spec, max(newer[-1], horizon - _TICK), now, limit)
            newer += tail
    candidates = ([] if pending_skip else [pending_at]) + newer
    fire = None
    if candidates:
        newest = candidates[-1]
        in_grace = newest >= horizon or (newest == pending_at and planned_at is not None and planned_at >= horizon)
        if in_grace:
            fire = candidates.pop()
    return CatchUp(
        fire=fire,
        missed=len(candidates),
        first_missed=candidates[0] if candidates else None,
        last_missed=candidates[-1] if candidates else None,
        more=more,
        last_seen=max([pending_at, *newer]),
    )


def overdue_after(spec: ScheduleSpec, after: datetime, now: datetime, limit: int) -> tuple[list[datetime], bool]:
    """Instants of the non-skipped occurrences in (after, now], ascending, at most `limit` (and whether more)."""
    spec = replace(spec, max_runs=None)  # missed occurrences are not runs
    if spec.when is None and spec.kind in ("every", "rrule"):
        spec = replace(spec, when=after)  # keep the grid of the pending occurrence
    found: list[datetime] = []
    start = after + _TICK
    chunk = 2  # usually the next occurrence is already in the future
    while True:
        batch = occurrences(spec, start, chunk)
        for occurrence in batch:
            if occurrence.at > now:
                return found, False
            if occurrence.at > after and (not found or occurrence.at > found[-1]):
                found.append(occurrence.at)
                if len(found) >= limit:
                    return found, True
        if len(batch) < chunk:
            return found, False  # the schedule ends (until) before now
        start = batch[-1].at + _TICK
        chunk = min(chunk * 8, 4096)


def missed_detail(result: CatchUp, grace_text: str) -> str:
    """The `detail` of a missed row, e.g. "missed 37 occurrences from … to …: …"."""
    if result.missed == 1 and not result.more:
        what = f"missed the occurrence at {_iso(result.first_missed)}"
    else:
        count = f"more than {result.missed}" if result.more else str(result.missed)
        what = f"missed {count} occurrences from {_iso(result.first_missed)} to {_iso(result.last_missed)}"
    if result.fire is not None:
        return f"{what}: overdue, coalesced into the one at {_iso(result.fire)}"
    return f"{what}: later than misfire_grace {grace_text} when a scheduler took it up"


def _iso(value):
    return value.isoformat(timespec="seconds").replace("+00:00", "Z")
