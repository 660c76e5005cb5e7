"""Tests for app/schedule.py: pure functions, every `now` passed explicitly."""
import time as systime
from datetime import datetime, time, timedelta, timezone

import pytest

from app.schedule import (
    Occurrence,
    ScheduleError,
    ScheduleSpec,
    Window,
    first_occurrence,
    format_duration,
    get_zone,
    localize,
    next_occurrence,
    occurrences,
    parse_clock,
    parse_duration,
    to_instant,
    validate,
)

UTC = timezone.utc
BERLIN = "Europe/Berlin"
NEW_YORK = "America/New_York"


def Z(*args):
    """An aware UTC datetime."""
    return datetime(*args, tzinfo=UTC)


def ats(occs):
    return [o.at for o in occs]


# --- durations, clocks, zones, instants ----------------------------------------------

@pytest.mark.parametrize("text, expected", [
    ("PT15M", timedelta(minutes=15)),
    ("PT30S", timedelta(seconds=30)),
    ("P1D", timedelta(days=1)),
    ("P1DT2H", timedelta(days=1, hours=2)),
    ("PT1.5S", timedelta(seconds=1.5)),
    ("PT1,5S", timedelta(seconds=1.5)),
    ("P2W", timedelta(days=14)),
    ("PT1H30M", timedelta(hours=1, minutes=30)),
    (" pt15m ", timedelta(minutes=15)),
    ("PT0S", timedelta(0)),
])
def test_parse_duration(text, expected):
    assert parse_duration(text) == expected


@pytest.mark.parametrize("text", ["", "P", "PT", "P1DT", "15M", "PT-5M", "PT1.5M", "1 hour", "PT15", "P1D2H"])
def test_parse_duration_rejects_garbage(text):
    with pytest.raises(ValueError, match="ISO 8601 duration"):
        parse_duration(text)


@pytest.mark.parametrize("text", ["P1Y", "P2M", "P1Y2M3DT4H"])
def test_parse_duration_rejects_years_and_months(text):
    with pytest.raises(ValueError, match="years or months"):
        parse_duration(text)


def test_parse_duration_rejects_non_strings_and_overflow():
    with pytest.raises(ValueError):
        parse_duration(None)
    with pytest.raises(ValueError, match="too long"):
        parse_duration("P999999999999D")


@pytest.mark.parametrize("td, text", [
    (timedelta(minutes=15), "PT15M"),
    (timedelta(days=1, hours=2), "P1DT2H"),
    (timedelta(0), "PT0S"),
    (timedelta(seconds=1.5), "PT1.5S"),
    (timedelta(days=14), "P14D"),
    (timedelta(hours=1, minutes=30, seconds=5), "PT1H30M5S"),
    (timedelta(microseconds=1), "PT0.000001S"),
])
def test_format_duration_is_canonical_and_round_trips(td, text):
    assert format_duration(td) == text
    assert parse_duration(text) == td


def test_format_duration_rejects_negative():
    with pytest.raises(ValueError):
        format_duration(timedelta(seconds=-1))


@pytest.mark.parametrize("text, expected", [("07:00", time(7)), ("23:59", time(23, 59)), ("00:00", time(0)),
                                            ("7:30", time(7, 30))])
def test_parse_clock(text, expected):
    assert parse_clock(text) == expected


@pytest.mark.parametrize("text", ["24:00", "12:60", "7", "07:00:00", "noon", "", "-1:00", None])
def test_parse_clock_rejects_garbage(text):
    with pytest.raises(ValueError):
        parse_clock(text)


def test_get_zone_accepts_iana_names():
    assert get_zone(BERLIN).key == BERLIN
    assert get_zone("UTC").key == "UTC"


@pytest.mark.parametrize("name", ["Mars/Phobos", "../etc/passwd", "/etc/localtime", "Europe/../etc/passwd",
                                  "x" * 300, "", "Europe/Berlin\x00", "America", None, 5])
def test_get_zone_rejects_bad_names(name):
    with pytest.raises(ScheduleError) as err:
        get_zone(name)
    assert err.value.field == "timezone"
    assert isinstance(err.value, ValueError)


@pytest.mark.parametrize("value, tz, expected", [
    ("2026-12-01T08:00:00Z", BERLIN, Z(2026, 12, 1, 8)),
    ("2026-12-01T08:00:00+02:00", "UTC", Z(2026, 12, 1, 6)),
    ("2026-12-01T08:00:00", BERLIN, Z(2026, 12, 1, 7)),         # CET, +01:00
    ("2026-07-01T08:00:00", BERLIN, Z(2026, 7, 1, 6)),          # CEST, +02:00
    ("2027-03-28T02:30:00", BERLIN, Z(2027, 3, 28, 1)),         # gap: first instant after it
    ("2026-10-25T02:30:00", BERLIN, Z(2026, 10, 25, 0, 30)),    # fold: the first one
    ("2026-12-01", "UTC", Z(2026, 12, 1)),
    (datetime(2026, 12, 1, 8), NEW_YORK, Z(2026, 12, 1, 13)),
    (Z(2026, 12, 1, 8), NEW_YORK, Z(2026, 12, 1, 8)),
])
def test_to_instant(value, tz, expected):
    result = to_instant(value, tz)
    assert result == expected
    assert result.tzinfo is UTC


@pytest.mark.parametrize("value", ["tomorrow", "2026-13-01T00:00:00", "", None, 12])
def test_to_instant_rejects_garbage(value):
    with pytest.raises(ValueError):
        to_instant(value, "UTC")


def test_to_instant_rejects_bad_zone_for_wall_times():
    with pytest.raises(ScheduleError) as err:
        to_instant("2026-12-01T08:00:00", "Nowhere/Special")
    assert err.value.field == "timezone"


@pytest.mark.parametrize("wall, tz, expected, shifted", [
    (datetime(2027, 3, 28, 2, 30), BERLIN, Z(2027, 3, 28, 1), True),
    (datetime(2027, 3, 28, 2, 0), BERLIN, Z(2027, 3, 28, 1), True),
    (datetime(2027, 3, 28, 3, 0), BERLIN, Z(2027, 3, 28, 1), False),
    (datetime(2027, 3, 28, 1, 59), BERLIN, Z(2027, 3, 28, 0, 59), False),
    (datetime(2026, 10, 25, 2, 30), BERLIN, Z(2026, 10, 25, 0, 30), False),
    (datetime(2027, 3, 14, 2, 30), NEW_YORK, Z(2027, 3, 14, 7), True),
    (datetime(2026, 11, 1, 1, 30), NEW_YORK, Z(2026, 11, 1, 5, 30), False),
    (datetime(2026, 6, 1, 12, 0), "UTC", Z(2026, 6, 1, 12), False),
])
def test_localize(wall, tz, expected, shifted):
    assert localize(wall, get_zone(tz)) == (expected, shifted)


# --- DST ----------------------------------------------------------------------------

GAP_SPECS = [
    ScheduleSpec(kind="cron", cron="30 2 * * *", timezone=BERLIN),
    ScheduleSpec(kind="rrule", rrule="FREQ=DAILY", timezone=BERLIN, when=to_instant("2027-03-26T02:30", BERLIN)),
    ScheduleSpec(kind="every", every=timedelta(days=1), timezone=BERLIN,
                 when=to_instant("2027-03-26T02:30", BERLIN)),
]


@pytest.mark.parametrize("spec", GAP_SPECS, ids=["cron", "rrule", "every-P1D"])
def test_spring_gap_runs_at_first_instant_after_gap(spec):
    now = Z(2027, 3, 27, 12)
    first = first_occurrence(spec, now)
    assert first == Occurrence(at=Z(2027, 3, 28, 1), nominal=Z(2027, 3, 28, 1), deferred=False,
                               dst_shifted=True, skip=False)
    nxt = next_occurrence(spec, first.at, runs=1)
    assert (nxt.at, nxt.dst_shifted) == (Z(2027, 3, 29, 0, 30), False)  # 02:30 CEST again


def test_spring_gap_one_off_naive_when():
    when = to_instant("2027-03-28T02:30:00", BERLIN)
    assert when == Z(2027, 3, 28, 1)
    spec = ScheduleSpec(kind="once", when=when, timezone=BERLIN)
    assert first_occurrence(spec, Z(2027, 3, 1)).at == Z(2027, 3, 28, 1)
    assert next_occurrence(spec, Z(2027, 3, 28, 1), runs=1) is None


def test_spring_gap_rrule_preview_around_the_change():
    spec = GAP_SPECS[1]
    got = occurrences(spec, Z(2027, 3, 27), 3)
    assert ats(got) == [Z(2027, 3, 27, 1, 30), Z(2027, 3, 28, 1), Z(2027, 3, 29, 0, 30)]
    assert [o.dst_shifted for o in got] == [False, True, False]


@pytest.mark.parametrize("spec", GAP_SPECS, ids=["cron", "rrule", "every-P1D"])
def test_autumn_fold_runs_once_at_the_first(spec):
    spec = ScheduleSpec(kind=spec.kind, cron=spec.cron, rrule=spec.rrule, every=spec.every, timezone=BERLIN,
                        when=spec.when and to_instant("2026-10-20T02:30", BERLIN))
    first = first_occurrence(spec, Z(2026, 10, 24, 12))
    assert (first.at, first.dst_shifted) == (Z(2026, 10, 25, 0, 30), False)
    assert next_occurrence(spec, first.at, runs=1).at == Z(2026, 10, 26, 1, 30)


def test_hourly_cron_in_the_fold_skips_the_repeated_hour():
    spec = ScheduleSpec(kind="cron", cron="30 * * * *", timezone=BERLIN)
    assert ats(occurrences(spec, Z(2026, 10, 24, 23), 4)) == [
        Z(2026, 10, 24, 23, 30),  # 01:30 CEST
        Z(2026, 10, 25, 0, 30),   # 02:30 CEST; 02:30 CET (01:30Z) is the same wall time: not again
        Z(2026, 10, 25, 2, 30),   # 03:30 CET
        Z(2026, 10, 25, 3, 30),
    ]
    assert next_occurrence(spec, Z(2026, 10, 25, 0, 30)).at == Z(2026, 10, 25, 2, 30)


def test_hourly_cron_in_the_gap_collapses_onto_one_instant():
    spec = ScheduleSpec(kind="cron", cron="*/30 * * * *", timezone=BERLIN)
    got = occurrences(spec, Z(2027, 3, 28, 0, 15), 3)
    # 01:30 CET, then 02:00 and 02:30 do not exist and both become 03:00 CEST (01:00Z), once.
    assert ats(got) == [Z(2027, 3, 28, 0, 30), Z(2027, 3, 28, 1), Z(2027, 3, 28, 1, 30)]
    assert [o.dst_shifted for o in got] == [False, True, False]


@pytest.mark.parametrize("now, expected", [
    (Z(2026, 10, 30), [Z(2026, 10, 30, 12), Z(2026, 10, 31, 12), Z(2026, 11, 1, 13), Z(2026, 11, 2, 13)]),
    (Z(2027, 3, 12), [Z(2027, 3, 12, 13), Z(2027, 3, 13, 13), Z(2027, 3, 14, 12), Z(2027, 3, 15, 12)]),
])
def test_new_york_daily_cron_stays_at_8_local(now, expected):
    spec = ScheduleSpec(kind="cron", cron="0 8 * * *", timezone=NEW_YORK)
    got = occurrences(spec, now, 4)
    assert ats(got) == expected
    assert not any(o.dst_shifted or o.deferred for o in got)
    # next_occurrence walks the same way, one delivery at a time
    assert next_occurrence(spec, expected[1], runs=2).at == expected[2]


def test_apscheduler_weekday_numbers_follow_crontab():
    # crontab: 0 and 7 are Sunday, 1-5 Monday to Friday (APScheduler 3 alone would shift them by one)
    now = Z(2026, 11, 1)  # a Sunday
    def days(cron):
        return [o.at.strftime("%a") for o in occurrences(ScheduleSpec(kind="cron", cron=cron), now, 7)]
    assert days("0 8 * * 1-5") == days("0 8 * * mon-fri") == ["Mon", "Tue", "Wed", "Thu", "Fri", "Mon", "Tue"]
    assert days("0 8 * * 0")[:2] == days("0 8 * * 7")[:2] == ["Sun", "Sun"]
    assert days("0 8 * * */2")[:4] == ["Sun", "Tue", "Thu", "Sat"]


# --- every ---------------------------------------------------------------------------

def test_every_15_minutes_on_the_when_grid():
    spec = ScheduleSpec(kind="every", every=parse_duration("PT15M"), when=Z(2026, 6, 1, 10))
    first = first_occurrence(spec, Z(2026, 6, 1, 10, 20))
    assert first.at == Z(2026, 6, 1, 10, 30)  # a past when does not replay old ticks
    assert next_occurrence(spec, first.at, runs=1).at == Z(2026, 6, 1, 10, 45)
    assert ats(occurrences(spec, Z(2026, 6, 1, 10, 30), 3)) == [
        Z(2026, 6, 1, 10, 30), Z(2026, 6, 1, 10, 45), Z(2026, 6, 1, 11)]


def test_every_with_future_when_and_without_when():
    future = ScheduleSpec(kind="every", every=timedelta(minutes=15), when=Z(2026, 6, 2, 9))
    assert first_occurrence(future, Z(2026, 6, 1)).at == Z(2026, 6, 2, 9)
    unanchored = ScheduleSpec(kind="every", every=timedelta(minutes=15))
    assert first_occurrence(unanchored, Z(2026, 6, 1, 10, 7)).at == Z(2026, 6, 1, 10, 7)
    assert next_occurrence(unanchored, Z(2026, 6, 1, 10, 7), runs=1).at == Z(2026, 6, 1, 10, 22)


def test_every_sub_day_is_elapsed_time_and_whole_days_keep_wall_time():
    when = to_instant("2027-03-27T08:00", BERLIN)  # 07:00Z, CET
    hours = ScheduleSpec(kind="every", every=parse_duration("PT24H"), when=when, timezone=BERLIN)
    half_days = ScheduleSpec(kind="every", every=parse_duration("PT12H"), when=when, timezone=BERLIN)
    daily = ScheduleSpec(kind="every", every=parse_duration("P1D"), when=when, timezone=BERLIN)
    # PT24H == P1D as a timedelta: both whole days, so both keep 08:00 local across the change.
    assert ats(occurrences(hours, when, 2)) == [Z(2027, 3, 27, 7), Z(2027, 3, 28, 6)]
    assert ats(occurrences(daily, when, 2)) == [Z(2027, 3, 27, 7), Z(2027, 3, 28, 6)]
    # PT12H is exact elapsed time: 08:00 CET + 24h = 09:00 CEST.
    assert ats(occurrences(half_days, when, 3)) == [Z(2027, 3, 27, 7), Z(2027, 3, 27, 19), Z(2027, 3, 28, 7)]


# --- rrule ---------------------------------------------------------------------------

@pytest.mark.parametrize("rule", ["FREQ=WEEKLY;BYDAY=TU;INTERVAL=2", "RRULE:FREQ=WEEKLY;BYDAY=TU;INTERVAL=2"])
def test_rrule_biweekly_tuesday(rule):
    when = to_instant("2026-12-01T08:00", BERLIN)  # a Tuesday, 07:00Z
    spec = ScheduleSpec(kind="rrule", rrule=rule, when=when, timezone=BERLIN)
    assert ats(occurrences(spec, Z(2026, 11, 1), 3)) == [Z(2026, 12, 1, 7), Z(2026, 12, 15, 7), Z(2026, 12, 29, 7)]
    # from a later now, the INTERVAL=2 phase still follows DTSTART
    assert first_occurrence(spec, Z(2026, 12, 2)).at == Z(2026, 12, 15, 7)
    assert next_occurrence(spec, Z(2026, 12, 15, 7), runs=2).at == Z(2026, 12, 29, 7)
    # summer time, 26 weeks on: still 08:00 local
    assert first_occurrence(spec, Z(2027, 5, 26)).at == Z(2027, 6, 1, 6)


def test_rrule_until_and_count_in_the_rule():
    when = to_instant("2026-12-01T08:00", BERLIN)
    until_z = ScheduleSpec(kind="rrule", rrule="FREQ=DAILY;UNTIL=20261203T070000Z", when=when, timezone=BERLIN)
    assert ats(occurrences(until_z, Z(2026, 11, 1), 10)) == [Z(2026, 12, 1, 7), Z(2026, 12, 2, 7), Z(2026, 12, 3, 7)]
    count = ScheduleSpec(kind="rrule", rrule="FREQ=DAILY;COUNT=2", when=when, timezone=BERLIN)
    assert ats(occurrences(count, Z(2026, 11, 1), 10)) == [Z(2026, 12, 1, 7), Z(2026, 12, 2, 7)]
    assert next_occurrence(count, Z(2026, 12, 2, 7), runs=0) is None


def test_rrule_without_when_starts_at_the_current_minute():
    spec = ScheduleSpec(kind="rrule", rrule="FREQ=HOURLY")
    assert ats(occurrences(spec, Z(2026, 6, 1, 10, 7, 30), 2)) == [Z(2026, 6, 1, 10, 7), Z(2026, 6, 1, 11, 7)]


# --- once, until, max_runs -----------------------------------------------------------

def test_once_in_the_past_is_due_at_once_and_never_again():
    spec = ScheduleSpec(kind="once", when=Z(2026, 1, 1, 8))
    first = first_occurrence(spec, Z(2026, 6, 1))
    assert first == Occurrence(Z(2026, 1, 1, 8), Z(2026, 1, 1, 8), False, False, False)
    assert next_occurrence(spec, first.at, runs=0) is None
    assert ats(occurrences(spec, Z(2026, 6, 1), 5)) == [Z(2026, 1, 1, 8)]


def test_until_applies_to_nominal_times():
    spec = ScheduleSpec(kind="cron", cron="0 9 * * *", until=Z(2026, 6, 3, 9))
    assert ats(occurrences(spec, Z(2026, 6, 1), 10)) == [Z(2026, 6, 1, 9), Z(2026, 6, 2, 9), Z(2026, 6, 3, 9)]
    assert next_occurrence(spec, Z(2026, 6, 3, 9), runs=3) is None
    assert first_occurrence(spec, Z(2026, 6, 3, 9, 1)) is None


def test_until_counts_the_nominal_even_when_deferred():
    window = Window(time(10), time(18))
    spec = ScheduleSpec(kind="cron", cron="0 8 * * *", until=Z(2026, 6, 2, 8), window=window)
    got = occurrences(spec, Z(2026, 6, 1), 10)
    assert [(o.nominal, o.at) for o in got] == [(Z(2026, 6, 1, 8), Z(2026, 6, 1, 10)),
                                                 (Z(2026, 6, 2, 8), Z(2026, 6, 2, 10))]


def test_max_runs_exhaustion():
    spec = ScheduleSpec(kind="every", every=timedelta(hours=1), when=Z(2026, 6, 1), max_runs=3)
    assert ats(occurrences(spec, Z(2026, 6, 1), 10)) == [Z(2026, 6, 1, 0), Z(2026, 6, 1, 1), Z(2026, 6, 1, 2)]
    assert ats(occurrences(spec, Z(2026, 6, 1), 10, runs=2)) == [Z(2026, 6, 1, 0)]
    assert occurrences(spec, Z(2026, 6, 1), 10, runs=3) == []
    assert next_occurrence(spec, Z(2026, 6, 1, 1), runs=2).at == Z(2026, 6, 1, 2)
    assert next_occurrence(spec, Z(2026, 6, 1, 2), runs=3) is None


# --- windows -------------------------------------------------------------------------

NIGHT = (time(22), time(7))  # wraps midnight: inside is 22:00..07:00


@pytest.mark.parametrize("cron, at, deferred", [
    ("0 12 * * *", Z(2026, 6, 1, 22), True),   # outside: wait for tonight's opening
    ("0 7 * * *", Z(2026, 6, 1, 22), True),    # end is exclusive
    ("0 23 * * *", Z(2026, 6, 1, 23), False),
    ("0 6 * * *", Z(2026, 6, 1, 6), False),    # inside, after midnight
    ("0 22 * * *", Z(2026, 6, 1, 22), False),  # start is inclusive
])
def test_wrapping_window_defer(cron, at, deferred):
    spec = ScheduleSpec(kind="cron", cron=cron, window=Window(*NIGHT))
    occ = first_occurrence(spec, Z(2026, 6, 1))
    assert (occ.at, occ.deferred, occ.skip) == (at, deferred, False)


def test_wrapping_window_skip():
    spec = ScheduleSpec(kind="cron", cron="0 */6 * * *", window=Window(*NIGHT, outside="skip"))
    noon = first_occurrence(spec, Z(2026, 6, 1, 11))
    assert noon == Occurrence(Z(2026, 6, 1, 12), Z(2026, 6, 1, 12), False, False, True)
    assert next_occurrence(spec, noon.at).at == Z(2026, 6, 1, 18)  # the engine moves on past a skip
    assert ats(occurrences(spec, Z(2026, 6, 1, 11), 4)) == [
        Z(2026, 6, 2, 0), Z(2026, 6, 2, 6), Z(2026, 6, 3, 0), Z(2026, 6, 3, 6)]


def test_window_in_local_time_with_equal_bounds_always_inside():
    always = ScheduleSpec(kind="cron", cron="0 3 * * *", window=Window(time(9), time(9)))
    assert first_occurrence(always, Z(2026, 6, 1)).deferred is False
    local = ScheduleSpec(kind="cron", cron="0 6 * * *", timezone=BERLIN, window=Window(time(8), time(20)))
    assert first_occurrence(local, Z(2026, 6, 1)).at == Z(2026, 6, 1, 6)  # 08:00 CEST


def test_deferral_coalesces():
    spec = ScheduleSpec(kind="cron", cron="0 * * * *", window=Window(time(7), time(21)))
    first = first_occurrence(spec, Z(2026, 6, 1, 21, 30))
    assert first == Occurrence(Z(2026, 6, 2, 7), Z(2026, 6, 1, 22), True, False, False)
    nxt = next_occurrence(spec, first.at, runs=1)
    assert nxt == Occurrence(Z(2026, 6, 2, 8), Z(2026, 6, 2, 8), False, False, False)
    assert ats(occurrences(spec, Z(2026, 6, 1, 21, 30), 3)) == [Z(2026, 6, 2, 7), Z(2026, 6, 2, 8), Z(2026, 6, 2, 9)]


def test_next_occurrence_from_outside_a_defer_window_keeps_the_waiting_occurrence():
    spec = ScheduleSpec(kind="cron", cron="0 22 * * *", window=Window(time(7), time(21)))
    occ = next_occurrence(spec, Z(2026, 6, 1, 23))
    assert (occ.at, occ.nominal, occ.deferred) == (Z(2026, 6, 2, 7), Z(2026, 6, 1, 22), True)


def test_deferral_to_an_opening_in_the_gap_is_dst_shifted():
    spec = ScheduleSpec(kind="cron", cron="0 1 * * *", timezone=BERLIN, window=Window(time(2, 30), time(6)))
    occ = first_occurrence(spec, Z(2027, 3, 27, 12))
    assert (occ.at, occ.deferred, occ.dst_shifted) == (Z(2027, 3, 28, 1), True, True)


def test_occurrences_with_all_skipped_does_not_loop_forever():
    spec = ScheduleSpec(kind="cron", cron="0 12 * * *", window=Window(*NIGHT, outside="skip"))
    started = systime.monotonic()
    assert occurrences(spec, Z(2026, 6, 1), 100) == []
    assert systime.monotonic() - started < 10
    rule = ScheduleSpec(kind="rrule", rrule="FREQ=DAILY;BYHOUR=12;BYMINUTE=0", when=Z(2026, 1, 1, 12),
                        window=Window(*NIGHT, outside="skip"))
    assert occurrences(rule, Z(2026, 6, 1), 100) == []


def test_cron_that_never_matches_has_no_occurrences():
    spec = ScheduleSpec(kind="cron", cron="0 0 30 2 *")
    assert occurrences(spec, Z(2026, 1, 1), 5) == []


def test_naive_now_is_rejected():
    with pytest.raises(ValueError):
        first_occurrence(ScheduleSpec(kind="cron", cron="0 8 * * *"), datetime(2026, 1, 1))


# --- validate ------------------------------------------------------------------------

def test_validate_accepts_good_specs():
    for spec in [
        ScheduleSpec(kind="once", when=Z(2026, 1, 1)),
        ScheduleSpec(kind="every", every=timedelta(minutes=15), until=Z(2027, 1, 1), max_runs=10),
        ScheduleSpec(kind="cron", cron="0 8 * * mon-fri", timezone=BERLIN, window=Window(time(8), time(21))),
        ScheduleSpec(kind="rrule", rrule="FREQ=WEEKLY;BYDAY=TU;INTERVAL=2", when=Z(2026, 12, 1, 7)),
        ScheduleSpec(kind="rrule", rrule="RRULE:FREQ=DAILY;UNTIL=20270101T000000Z", timezone=BERLIN),
    ]:
        validate(spec)


@pytest.mark.parametrize("spec, field", [
    (ScheduleSpec(kind="weekly"), "kind"),
    (ScheduleSpec(kind="once", when=Z(2026, 1, 1), timezone="Mars/Olympus"), "timezone"),
    (ScheduleSpec(kind="once", when=Z(2026, 1, 1), timezone="../etc/passwd"), "timezone"),
    (ScheduleSpec(kind="once"), "when"),
    (ScheduleSpec(kind="once", when=datetime(2026, 1, 1)), "when"),
    (ScheduleSpec(kind="once", when=Z(2026, 1, 1), cron="0 8 * * *"), "cron"),
    (ScheduleSpec(kind="cron", cron="0 8 * * *", every=timedelta(minutes=5)), "every"),
    (ScheduleSpec(kind="cron"), "cron"),
    (ScheduleSpec(kind="cron", cron="0 8 * *"), "cron"),
    (ScheduleSpec(kind="cron", cron="0 8 * * * *"), "cron"),
    (ScheduleSpec(kind="cron", cron="61 8 * * *"), "cron"),
    (ScheduleSpec(kind="cron", cron="0 8 * * 9"), "cron"),
    (ScheduleSpec(kind="cron", cron="0 8 * * funday"), "cron"),
    (ScheduleSpec(kind="cron", cron="0 0 30 2 *"), "cron"),
    (ScheduleSpec(kind="rrule", rrule="FREQ=SOMETIMES"), "rrule"),
    (ScheduleSpec(kind="rrule", rrule="BYDAY=TU"), "rrule"),
    (ScheduleSpec(kind="rrule", rrule="DTSTART:20260101T000000\nRRULE:FREQ=DAILY"), "rrule"),
    (ScheduleSpec(kind="rrule", rrule="FREQ=DAILY;DTSTART=20260101T000000"), "rrule"),
    (ScheduleSpec(kind="rrule", rrule="FREQ=DAILY;COUNT=3;UNTIL=20270101"), "rrule"),
    (ScheduleSpec(kind="rrule", rrule="FREQ=DAILY", cron="0 8 * * *"), "cron"),
    (ScheduleSpec(kind="every", every=timedelta(0)), "every"),
    (ScheduleSpec(kind="every", every=timedelta(minutes=-5)), "every"),
    (ScheduleSpec(kind="every"), "every"),
    (ScheduleSpec(kind="every", every=timedelta(hours=1), when=Z(2026, 2, 1), until=Z(2026, 1, 1)), "until"),
    (ScheduleSpec(kind="every", every=timedelta(hours=1), when=Z(2026, 1, 1), until=Z(2026, 1, 1)), "until"),
    (ScheduleSpec(kind="every", every=timedelta(hours=1), until=datetime(2026, 1, 1)), "until"),
    (ScheduleSpec(kind="every", every=timedelta(hours=1), max_runs=0), "max_runs"),
    (ScheduleSpec(kind="every", every=timedelta(hours=1), max_runs=-3), "max_runs"),
    (ScheduleSpec(kind="every", every=timedelta(hours=1), window=Window(time(8), time(9), "later")), "window"),
])
def test_validate_names_the_offending_field(spec, field):
    with pytest.raises(ScheduleError) as err:
        validate(spec)
    assert err.value.field == field
    assert err.value.message
