"""The scheduler's engine: plain functions of (session, now, …) — no clock reads, no Flask.

Each function is one short transaction on the given SQLAlchemy Session and commits it.
`scheduler.py` is the only caller that reads the clock; tests pass any `now`.

- `claim_due` / `claim_manual`: lease what is due and return the `Attempt`s to run.
- `run_attempt`: deliver one attempt through its remind process (no DB) → `Outcome`.
- `record_outcomes` / `record_outcome`: write outcomes (a batch in one transaction), guarded by the lease token; reschedule or retry.
- `renew_leases` / `release`: keep or give back the leases of attempts in flight.
- `beat` / `forget` / `prune` (`prune_step`: one batch): heartbeat and retention.
- `peek` (= `next_due` + `manual_waiting` in one statement): what the scheduler polls.
"""
from app.engine.attempt import Attempt, Outcome, run_attempt
from app.engine.catchup import CatchUp, catch_up
from app.engine.claim import claim_due, next_due
from app.engine.deliveries import Recorded
from app.engine.housekeeping import beat, forget, prune, prune_step
from app.engine.leases import release, renew_leases
from app.engine.poll import Peek, peek
from app.engine.outcome import record_outcome, record_outcomes, retry_delay
from app.engine.triggers import claim_manual, manual_waiting, record_manual

__all__ = [
    "Attempt",
    "CatchUp",
    "Outcome",
    "Peek",
    "Recorded",
    "beat",
    "catch_up",
    "claim_due",
    "claim_manual",
    "forget",
    "manual_waiting",
    "next_due",
    "peek",
    "prune",
    "prune_step",
    "record_manual",
    "record_outcome",
    "record_outcomes",
    "release",
    "renew_leases",
    "retry_delay",
    "run_attempt",
]
