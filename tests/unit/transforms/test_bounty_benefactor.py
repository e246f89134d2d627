"""P10 bounty_benefactor: benefactorCount/unitAmount at createdAt, entry award at awardedAt."""

from __future__ import annotations

from datetime import datetime

import polars as pl

from metric_backfill.events import Window, explode
from metric_backfill.transforms.bounty_benefactor import PACKAGE
from tests.helpers import CUTOFF, ms

SCHEMA = {"bountyId": pl.Int32, "userId": pl.Int32, "unitAmount": pl.Int32,
          "createdAt": pl.Datetime("ms"), "awardedToId": pl.Int32, "awardedAt": pl.Datetime("ms"),
          "entryExists": pl.Boolean}
T0 = ms("2023-10-11 12:13:14.151")
T1 = ms("2023-11-12 13:14:15.161")
NOT = "BountyEntry.unitAmount not emitted"


def bb(bountyId: int, userId: int, unitAmount: int, createdAt=T0, awardedToId=None, awardedAt=None,
       entryExists: bool | None = None) -> dict:
    return {"bountyId": bountyId, "userId": userId, "unitAmount": unitAmount, "createdAt": createdAt,
            "awardedToId": awardedToId, "awardedAt": awardedAt,
            "entryExists": awardedToId is not None if entryExists is None else entryExists}


def run(rows: list[dict], cutoff: datetime = CUTOFF, since: datetime | None = None):
    out = explode(PACKAGE, pl.DataFrame(rows, schema=SCHEMA), Window(cutoff=cutoff, since=since))
    return sorted(out.events.iter_rows()), out.skipped


def test_awarded_amount_goes_to_the_entry_id_at_awarded_at():
    events, skipped = run([bb(5, 1, 500, awardedToId=77, awardedAt=T1), bb(5, 2, 1000)])
    assert events == sorted([
        ("Bounty", 5, 1, "benefactorCount", 1, T0),
        ("Bounty", 5, 1, "unitAmount", 500, T0),
        ("BountyEntry", 77, 1, "unitAmount", 500, T1),
        ("Bounty", 5, 2, "benefactorCount", 1, T0),
        ("Bounty", 5, 2, "unitAmount", 1000, T0),
    ])
    assert skipped == {f"{NOT}: not awarded (awardedToId and awardedAt NULL)": 1}


def test_award_with_a_null_side_or_a_missing_entry_is_counted():
    events, skipped = run([
        bb(5, 1, 500, awardedToId=77),
        bb(5, 2, 600, awardedAt=T1),
        bb(5, 3, 700, awardedToId=78, awardedAt=T1, entryExists=False),
    ])
    assert [e for e in events if e[0] == "BountyEntry"] == []
    assert len(events) == 6
    assert skipped == {
        f"{NOT}: awardedAt NULL": 1,
        f"{NOT}: awardedToId NULL": 1,
        "BountyEntry.unitAmount not emitted: BountyBenefactor.awardedToId has no BountyEntry row": 1,
    }


def test_large_amount_and_currency_are_not_filtered():
    events, _ = run([bb(5, 1, 25_000_000, awardedToId=77, awardedAt=T1)])
    assert ("Bounty", 5, 1, "unitAmount", 25_000_000, T0) in events
    assert ("BountyEntry", 77, 1, "unitAmount", 25_000_000, T1) in events


def test_each_event_is_windowed_on_its_own_time():
    before = ms("2024-08-07 15:44:39.043")
    # created before the cutoff, awarded exactly at the cutoff: only the Bounty events
    events, skipped = run([bb(5, 1, 500, createdAt=before, awardedToId=77, awardedAt=CUTOFF)])
    assert events == sorted([("Bounty", 5, 1, "benefactorCount", 1, before),
                             ("Bounty", 5, 1, "unitAmount", 500, before)])
    assert skipped == {"outside [since, cutoff) for that metric": 1}
    # created at the cutoff, awarded 1 ms before: only the entry event
    events, skipped = run([bb(5, 1, 500, createdAt=CUTOFF, awardedToId=77, awardedAt=before)])
    assert events == [("BountyEntry", 77, 1, "unitAmount", 500, before)]
    assert skipped == {"outside [since, cutoff) for that metric": 2}
    since = ms("2023-06-01 00:00:00.000")
    just_before = ms("2023-05-31 23:59:59.999")
    events, skipped = run([bb(5, 1, 500, createdAt=just_before, awardedToId=77, awardedAt=since),
                           bb(6, 1, 300, createdAt=since, awardedToId=78, awardedAt=just_before)],
                          since=since)
    assert events == sorted([("BountyEntry", 77, 1, "unitAmount", 500, since),
                             ("Bounty", 6, 1, "benefactorCount", 1, since),
                             ("Bounty", 6, 1, "unitAmount", 300, since)])
    assert skipped == {"outside [since, cutoff) for that metric": 3}


def test_window_applies_to_both_event_times_in_sql():
    assert PACKAGE.time_filter == ('bb."createdAt"', 'bb."awardedAt"')
