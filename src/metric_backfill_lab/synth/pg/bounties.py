"""Bounties, their entries, reactions to entries, benefactors and engagements.

Everything here reads users; the entries read bounties, and the reactions and benefactors read
the entries, since a benefactor awards one entry *of the same bounty*. Every bounty creator is
its first benefactor. Bounty.userId and BountyEntry.userId may be NULL (onDelete SetNull), and
the transforms treat such rows differently (no event, or userId 0), so both cases are forced;
the entries without a user also get reactions, whose owner is then unknown.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl

from .._util import Array, Picker, after, choice, dedupe, gapped_ids, pick, times, zipf_weights
from ..constants import DAY_MS, END_MS
from . import reactions
from .columns import cat_series, frame, int_series, ts_series
from .core import Gen, Rows, bools, by_time, edged_after, take


@dataclass(frozen=True)
class Bounties(Rows):
    """What the entries, benefactors, engagements and comment threads read."""

    owner: Array
    user_null: Array
    min: Array  # minBenefactorUnitAmount


def bounties(g: Gen) -> None:
    rng, n = g.rng("Bounty"), g.n("Bounty")
    ct = np.sort(times(rng, n, skew=0.6))
    owner = pick(rng, len(g.users.id), n, g.users.act)
    user_null = bools(rng, n, 0.06)
    picker = Picker(rng, n)
    user_null[picker.pick(2)] = True
    picker.edges(ct, ~user_null)
    bounty_id = gapped_ids(rng, n)
    b = g.bounties = Bounties(id=bounty_id, ct=ct, owner=owner, user_null=user_null,
                              min=rng.choice([500, 1000, 2500, 5000], size=n))
    starts = ct // DAY_MS
    types = ["ModelCreation", "LoraCreation", "EmbedCreation", "DataSetCreation",
             "DataSetCaption", "ImageCreation", "VideoCreation", "Other"]
    g.frames["Bounty"] = frame("Bounty", [
        int_series("id", bounty_id),
        int_series("userId", g.users.id[owner], user_null),
        pl.Series("name", [f"Bounty {i}" for i in range(n)], dtype=pl.String),
        pl.Series("description", ["Make me a LoRA, please"] * n, dtype=pl.String),
        pl.Series("startsAt", starts.astype("datetime64[D]")),
        pl.Series("expiresAt", (starts + rng.integers(7, 31, size=n)).astype("datetime64[D]")),
        ts_series("createdAt", ct),
        ts_series("updatedAt", ct),
        cat_series("mode", choice(rng, n, [0.8, 0.2]), ["Individual", "Split"]),
        cat_series("entryMode", choice(rng, n, [0.9, 0.1]), ["Open", "BenefactorsOnly"]),
        cat_series("type", choice(rng, n, [0.1, 0.45, 0.05, 0.05, 0.03, 0.2, 0.05, 0.07]), types),
        int_series("minBenefactorUnitAmount", b.min),
        int_series("maxBenefactorUnitAmount", b.min * 10, bools(rng, n, 0.5)),
        pl.Series("complete", (ct < END_MS - 60 * DAY_MS) & bools(rng, n, 0.7)),
    ])


@dataclass(frozen=True)
class Entries(Rows):
    """What the reactions, the awards and the comment threads read."""

    bounty: Array  # position in Bounties
    user_null: Array


def bounty_entries(g: Gen) -> None:
    rng, n = g.rng("BountyEntry"), g.n("BountyEntry")
    B = len(g.bounties.id)
    b = pick(rng, B, n, zipf_weights(rng, B, 0.8))
    ct = after(rng, g.bounties.ct[b], 3)
    usr = pick(rng, len(g.users.id), n, g.users.act)
    user_null = bools(rng, n, 0.05)
    b, ct, usr = by_time(ct, b, ct, usr)
    picker = Picker(rng, n)
    user_null[picker.pick(3)] = True
    picker.edges(ct)
    g.entries = Entries(id=gapped_ids(rng, n), bounty=b, ct=ct, user_null=user_null)
    g.frames["BountyEntry"] = frame("BountyEntry", [
        int_series("id", g.entries.id),
        int_series("userId", g.users.id[usr], user_null),
        int_series("bountyId", g.bounties.id[b]),
        ts_series("createdAt", ct),
        ts_series("updatedAt", ct),
        pl.Series("description", ["entry"] * n, dtype=pl.String),
    ])


def bounty_entry_reactions(g: Gen) -> None:
    rng, n = g.rng("BountyEntryReaction"), g.n("BountyEntryReaction")
    e = g.entries
    E = len(e.id)
    ent, usr, rx = reactions.draw(g, rng, n, E, zipf_weights(rng, E, 0.9),
                                  np.flatnonzero(e.user_null))
    ct = edged_after(rng, e.ct[ent], 6)
    reactions.write(g, rng, "BountyEntryReaction", ("bountyEntryId", e.id), (ent, usr, rx), ct)


def _benefactor_rows(g: Gen, rng: np.random.Generator, n: int) -> tuple[Array, Array, Array]:
    """(bounty, user, is creator) rows, unique per (bounty, user), every creator kept."""
    B = len(g.bounties.id)
    creators = np.flatnonzero(~g.bounties.user_null)
    r = max(0, int((n - len(creators)) * 1.3))
    b = np.concatenate([creators, pick(rng, B, r, zipf_weights(rng, B, 1.0))])
    usr = np.concatenate([g.bounties.owner[creators], pick(rng, len(g.users.id), r, g.users.act)])
    prio = np.concatenate([np.zeros(len(creators), np.int64), np.ones(r, np.int64)])
    keep = take(dedupe([b, usr], prio), prio, n)
    return b[keep], usr[keep], (prio == 0)[keep]


def _awarded_entries(g: Gen, rng: np.random.Generator, b: Array) -> tuple[Array, Array]:
    """(entry position, bounty has entries): a random entry of each row's bounty."""
    E, B = len(g.entries.id), len(g.bounties.id)
    counts = np.bincount(g.entries.bounty, minlength=B)
    starts = np.cumsum(counts) - counts
    by_bounty = np.argsort(g.entries.bounty, kind="stable")
    pos = starts[b] + (rng.random(len(b)) * np.maximum(counts[b], 1)).astype(np.int64)
    return by_bounty[np.minimum(pos, E - 1)], counts[b] > 0


def bounty_benefactors(g: Gen) -> None:
    rng, n = g.rng("BountyBenefactor"), g.n("BountyBenefactor")
    bt = g.bounties
    b, usr, is_creator = _benefactor_rows(g, rng, n)
    nn = len(b)
    unit = np.where(
        is_creator,
        bt.min[b] * rng.choice([1, 2, 5, 10], size=nn),
        rng.choice([500, 1000, 2000, 5000, 10000, 50000], size=nn,
                   p=[0.3, 0.3, 0.15, 0.15, 0.07, 0.03]),
    )
    big = bools(rng, nn, 0.01)
    unit[big] = rng.integers(100_000, 5_000_000, size=int(big.sum()))
    ct = np.where(is_creator, bt.ct[b], after(rng, bt.ct[b], 4))
    entry, has_entries = _awarded_entries(g, rng, b)
    awarded = has_entries & bools(rng, nn, 0.45)
    aw_at = after(rng, np.maximum(ct, g.entries.ct[entry]), 5)
    at_null = ~awarded | (awarded & bools(rng, nn, 0.03))

    picker = Picker(rng, nn)
    unit[picker.pick(1)] = 25_000_000
    awarded[picker.pick(2, has_entries)] = False
    rows = picker.pick(2, has_entries)  # awardedToId set, awardedAt NULL
    awarded[rows], at_null[rows] = True, True
    picker.edges(ct)
    rows = picker.edges(aw_at, has_entries)
    awarded[rows], at_null[rows] = True, False
    at_null |= ~awarded
    b, usr, unit, ct, entry, awarded, aw_at, at_null = by_time(
        ct, b, usr, unit, ct, entry, awarded, aw_at, at_null
    )
    g.frames["BountyBenefactor"] = frame("BountyBenefactor", [
        int_series("userId", g.users.id[usr]),
        int_series("bountyId", bt.id[b]),
        int_series("unitAmount", unit),
        ts_series("createdAt", ct),
        ts_series("updatedAt", np.where(at_null, ct, np.maximum(ct, aw_at))),
        ts_series("awardedAt", aw_at, at_null),
        int_series("awardedToId", g.entries.id[entry], ~awarded),
        cat_series("currency", choice(rng, nn, [0.95, 0.05]), ["BUZZ", "USD"]),
    ])


def bounty_engagements(g: Gen) -> None:
    rng, n = g.rng("BountyEngagement"), g.n("BountyEngagement")
    B = len(g.bounties.id)
    m = int(n * 1.3)
    typ = choice(rng, m, [0.6, 0.4])
    typ[:2] = [0, 1]
    b = pick(rng, B, m, zipf_weights(rng, B, 1.0))
    usr = pick(rng, len(g.users.id), m, g.users.act)
    keep = dedupe([typ, b, usr])[:n]
    typ, b, usr = typ[keep], b[keep], usr[keep]
    ct = edged_after(rng, g.bounties.ct[b], 4)
    typ, b, usr, ct = by_time(ct, typ, b, usr, ct)
    g.frames["BountyEngagement"] = frame("BountyEngagement", [
        int_series("userId", g.users.id[usr]),
        int_series("bountyId", g.bounties.id[b]),
        cat_series("type", typ, ["Favorite", "Track"]),
        ts_series("createdAt", ct),
    ])
