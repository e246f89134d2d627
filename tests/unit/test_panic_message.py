"""A Postgres error that ConnectorX's stream reports as a Rust panic reads as what Postgres said."""

from metric_backfill.sources import panic_message


def test_the_postgres_message_is_taken_out_of_the_debug_text():
    text = ('cx writer failed: Source(PostgresError(Error { kind: Db, cause: Some(DbError { '
            'severity: "ERROR", code: SqlState(E22003), message: "bigint out of range", '
            'detail: None }) }))')
    assert panic_message(RuntimeError(text)) == "bigint out of range"


def test_an_escaped_quote_stays_in_the_message():
    text = 'DbError { message: "relation \\"Image\\" does not exist", detail: None }'
    assert panic_message(RuntimeError(text)) == 'relation \\"Image\\" does not exist'


def test_a_panic_without_a_message_is_shown_whole():
    assert panic_message(RuntimeError("cx writer failed: Io(broken pipe)")) == \
        "cx writer failed: Io(broken pipe)"
