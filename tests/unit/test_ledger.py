from __future__ import annotations

from metric_backfill.ledger import Ledger


def test_records_survive_reopen_and_other_plans_are_ignored(tmp_path):
    led = Ledger.open(tmp_path, "p1")
    led.record("a:0", rows=3)
    led.record("a:1", rows=4)
    Ledger.open(tmp_path, "p2").record("a:0", rows=9)
    again = Ledger.open(tmp_path, "p1")
    assert set(again.done) == {"a:0", "a:1"}


def test_torn_last_line_is_ignored_and_sealed(tmp_path):
    led = Ledger.open(tmp_path, "p1")
    led.record("a:0", rows=1)
    with open(led.path, "ab") as f:
        f.write(b'{"plan":"p1","batch":"a:1","ro')
    reopened = Ledger.open(tmp_path, "p1")
    assert set(reopened.done) == {"a:0"}
    assert reopened.torn_lines == 1
    reopened.record("a:2", rows=1)
    assert set(Ledger.open(tmp_path, "p1").done) == {"a:0", "a:2"}


def test_garbage_line_in_the_middle_is_skipped(tmp_path):
    led = Ledger.open(tmp_path, "p1")
    led.record("a:0")
    with open(led.path, "ab") as f:
        f.write(b"\x00\x00not json\n")
    led.record("a:1")
    assert set(Ledger.open(tmp_path, "p1").done) == {"a:0", "a:1"}
