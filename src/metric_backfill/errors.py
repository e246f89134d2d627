"""Errors that mean "the user must change something": printed as one line, exit code 2."""

from __future__ import annotations

import re


class UserError(Exception):
    """A configuration, input or environment problem; shown without a traceback."""

    exit_code = 2


class RunFailed(Exception):
    """A run stopped after retries; the ledger is intact and ``--resume`` continues (exit 1)."""

    exit_code = 1


_USERINFO = re.compile(r"(?P<scheme>[a-zA-Z][a-zA-Z0-9+.-]*://)(?P<user>[^:/@\s]*):(?P<pw>[^@\s]*)@")
_PW_PARAM = re.compile(r"(?i)(password|passwd|pwd)=([^&\s;]+)")


def redact(text: str) -> str:
    """Hide passwords in any DSN-looking text (user:pass@ and password=... forms)."""
    text = _USERINFO.sub(lambda m: f"{m['scheme']}{m['user']}:***@", text)
    return _PW_PARAM.sub(lambda m: f"{m[1]}=***", text)
