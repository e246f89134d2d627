"""P3 comment_v2: attribution by the comment's own thread; other threads counted by kind."""

from __future__ import annotations

from datetime import datetime

import polars as pl

from metric_backfill.events import Window, explode
from metric_backfill.transforms.comment_v2 import PACKAGE
from tests.helpers import CUTOFF, ms

THREAD_COLUMNS = ("articleId", "bountyId", "imageId", "postId", "modelId", "reviewId",
                  "bountyEntryId", "questionId", "answerId", "clubPostId", "commentId",
                  "parentThreadId", "rootThreadId")
SCHEMA = {"id": pl.Int32, "userId": pl.Int32, "createdAt": pl.Datetime("ms"),
          **{k: pl.Int32 for k in THREAD_COLUMNS[:4]}, "bountyExists": pl.Boolean,
          **{k: pl.Int32 for k in THREAD_COLUMNS[4:]}}
T0 = ms("2023-03-04 05:06:07.891")
KIND = "comment in a Thread without post/image/article/bounty, thread kind"


def comment(id: int, userId: int = 7, createdAt: datetime = T0, bountyExists: bool | None = None,
            **thread) -> dict:
    row = {"id": id, "userId": userId, "createdAt": createdAt,
           **{k: thread.get(k) for k in THREAD_COLUMNS}}
    row["bountyExists"] = row["bountyId"] is not None if bountyExists is None else bountyExists
    return row


def run(rows: list[dict], cutoff: datetime = CUTOFF, since: datetime | None = None):
    out = explode(PACKAGE, pl.DataFrame(rows, schema=SCHEMA), Window(cutoff=cutoff, since=since))
    return sorted(out.events.iter_rows()), out.skipped


def test_each_attributed_thread_column_gives_its_entity_a_comment():
    events, skipped = run([
        comment(1, articleId=11), comment(2, bountyId=22), comment(3, imageId=33),
        comment(4, postId=44), comment(5, userId=8, imageId=33),
    ])
    assert events == sorted([
        ("Article", 11, 7, "commentCount", 1, T0),
        ("Bounty", 22, 7, "commentCount", 1, T0),
        ("Image", 33, 7, "commentCount", 1, T0),
        ("Image", 33, 8, "commentCount", 1, T0),
        ("Post", 44, 7, "commentCount", 1, T0),
    ])
    assert skipped == {}


def test_replies_in_child_threads_are_not_attributed_upward():
    # a reply's own thread is a thread on a comment: its entity columns are NULL even though
    # its root thread belongs to an image
    events, skipped = run([comment(1, imageId=33), comment(2, commentId=1, parentThreadId=900,
                                                           rootThreadId=900)])
    assert events == [("Image", 33, 7, "commentCount", 1, T0)]
    assert skipped == {f"{KIND}: child thread": 1}


def test_threads_without_an_attributed_entity_are_counted_by_kind():
    events, skipped = run([
        comment(1, modelId=1), comment(2, modelId=2), comment(3, reviewId=3),
        comment(4, bountyEntryId=4), comment(5, questionId=5), comment(6, answerId=6),
        comment(7, clubPostId=7), comment(8, rootThreadId=9), comment(9),
    ])
    assert events == []
    assert skipped == {
        f"{KIND}: model": 2, f"{KIND}: review": 1, f"{KIND}: bountyEntry": 1,
        f"{KIND}: question": 1, f"{KIND}: answer": 1, f"{KIND}: clubPost": 1,
        f"{KIND}: child thread": 1, f"{KIND}: none": 1,
    }


def test_no_tos_or_hidden_filter_and_missing_bounty_is_counted():
    # tosViolation / hidden are not even read (SPEC §3.5); a dangling bountyId is no event
    assert "tosViolation" not in PACKAGE.columns and "hidden" not in PACKAGE.columns
    events, skipped = run([comment(1, bountyId=22, bountyExists=False)])
    assert events == []
    assert skipped == {"Bounty.commentCount not emitted: Thread.bountyId has no Bounty row": 1}


def test_window_is_half_open_to_the_millisecond():
    before = ms("2024-08-07 15:44:39.043")
    events, skipped = run([comment(1, postId=1, createdAt=before),
                           comment(2, postId=2, createdAt=CUTOFF)])
    assert events == [("Post", 1, 7, "commentCount", 1, before)]
    assert skipped == {"outside [since, cutoff) for that metric": 1}
    since = ms("2023-06-01 00:00:00.000")
    events, skipped = run([comment(1, postId=1, createdAt=since),
                           comment(2, postId=2, createdAt=ms("2023-05-31 23:59:59.999"))],
                          since=since)
    assert events == [("Post", 1, 7, "commentCount", 1, since)]
    assert skipped == {"outside [since, cutoff) for that metric": 1}
