from __future__ import annotations

import polars as pl

from tests.helpers import CUTOFF, events_of, ms


def rows(**cols):
    schema = {"id": pl.Int32, "imageId": pl.Int32, "userId": pl.Int32, "reaction": pl.String,
              "createdAt": pl.Datetime("ms"), "ownerId": pl.Int32, "postId": pl.Int32}
    return pl.DataFrame(cols, schema=schema)


def test_reaction_fans_out_to_image_post_and_owner():
    ev, skipped = events_of("image_reaction", rows(
        id=[1], imageId=[10], userId=[5], reaction=["Heart"],
        createdAt=[ms("2024-01-02 03:04:05.678")], ownerId=[7], postId=[99]))
    got = set(ev.iter_rows())
    t = ms("2024-01-02 03:04:05.678")
    assert got == {
        ("Image", 10, 5, "Heart", 1, t),
        ("Post", 99, 5, "Heart", 1, t),
        ("Post", 99, 5, "reactionCount", 1, t),
        ("User", 7, 5, "reactionCount", 1, t),
    }
    assert skipped == {}


def test_dislike_counts_in_post_reaction_count_and_null_post_is_skipped():
    t = ms("2023-05-05 00:00:00.001")
    ev, skipped = events_of("image_reaction", rows(
        id=[1, 2], imageId=[10, 11], userId=[5, 6], reaction=["Dislike", "Like"],
        createdAt=[t, t], ownerId=[7, 8], postId=[99, None]))
    assert ("Post", 99, 5, "reactionCount", 1, t) in set(ev.iter_rows())
    assert ev.filter(pl.col("entityType") == "Post")["entityId"].to_list() == [99, 99]
    assert ("Image", 11, 6, "Like", 1, t) in set(ev.iter_rows())
    assert ("User", 8, 6, "reactionCount", 1, t) in set(ev.iter_rows())
    assert skipped == {
        "Post.<Like|Dislike|Laugh|Cry|Heart> not emitted: Image.postId NULL": 1,
        "Post.reactionCount not emitted: Image.postId NULL": 1,
    }


def test_window_is_half_open_to_the_millisecond():
    before = ms("2024-08-07 15:44:39.043")
    ev, _ = events_of("image_reaction", rows(
        id=[1, 2], imageId=[10, 11], userId=[5, 6], reaction=["Like", "Like"],
        createdAt=[before, CUTOFF], ownerId=[7, 8], postId=[1, 2]))
    assert set(ev["entityId"].to_list()) == {10, 1, 7}
    since = ms("2023-06-01 00:00:00.000")
    ev, _ = events_of("image_reaction", rows(
        id=[1, 2], imageId=[10, 11], userId=[5, 6], reaction=["Cry", "Cry"],
        createdAt=[since, ms("2023-05-31 23:59:59.999")], ownerId=[7, 8], postId=[1, 2]),
        since=since)
    assert ev.filter(pl.col("entityType") == "Image")["entityId"].to_list() == [10]


def test_a_reaction_the_package_does_not_declare_is_counted_not_emitted():
    t = ms("2024-01-02 00:00:00.000")
    ev, skipped = events_of("image_reaction", rows(
        id=[1, 2], imageId=[10, 11], userId=[5, 6], reaction=["Like", "Sad"],
        createdAt=[t, t], ownerId=[7, 8], postId=[99, 98]))
    assert {r for r in ev.iter_rows() if r[3] == "Sad"} == set()
    assert ("User", 8, 6, "reactionCount", 1, t) in set(ev.iter_rows())  # not a reaction name
    assert skipped == {
        "Image.<Like|Dislike|Laugh|Cry|Heart> not emitted: undeclared value Sad": 1,
        "Post.<Like|Dislike|Laugh|Cry|Heart> not emitted: undeclared value Sad": 1,
    }


def test_the_same_rows_in_any_order_give_the_same_events_in_the_same_order():
    t = [ms("2024-01-02 00:00:00.000"), ms("2024-03-02 00:00:00.000"), ms("2024-02-02 00:00:00.000")]
    batch = rows(id=[3, 1, 2], imageId=[10, 11, 10], userId=[5, 6, 7],
                 reaction=["Like", "Heart", "Cry"], createdAt=t, ownerId=[7, 8, 7], postId=[99, None, 99])
    first, _ = events_of("image_reaction", batch)
    for seed in range(5):
        again, _ = events_of("image_reaction", batch.sample(fraction=1.0, shuffle=True, seed=seed))
        assert again.rows() == first.rows()
