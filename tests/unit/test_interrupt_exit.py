"""An interrupt is an interrupt wherever it lands: one that broke Python's own threading code on
its way (a second signal inside a Condition's cleanup raises ``RuntimeError: release unlocked
lock`` with the KeyboardInterrupt as its context) still ends the command as interrupted."""

from __future__ import annotations

import pytest
import typer

from metric_backfill import cli


def _verify_broken_by_a_second_signal() -> None:
    try:
        raise KeyboardInterrupt
    except KeyboardInterrupt:
        raise RuntimeError("release unlocked lock")  # noqa: B904 (as threading raises it)


def test_an_interrupt_that_broke_threading_code_ends_the_command_as_interrupted(capsys):
    command = cli._guarded(_verify_broken_by_a_second_signal)
    with pytest.raises(typer.Exit) as ended:
        command()
    assert ended.value.exit_code == 130
    assert capsys.readouterr().err.strip() == "error: interrupted"
