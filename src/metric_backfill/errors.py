"""Errors that mean "the user must change something": printed as one line, exit code 2.

Every message passes ``redact``, which hides passwords however they are spelled: each password
the command was given is registered (``dsn.register_passwords``) and replaced wherever it
appears; patterns catch the ``user:pass@`` and ``password=`` forms of any other DSN.
"""

from __future__ import annotations

import re
from collections.abc import Iterable


class BackfillError(Exception):
    """The root of the tool's own errors: one line on stderr, and ``exit_code``."""

    exit_code = 1


class UserError(BackfillError):
    """A configuration, input or environment problem; shown without a traceback."""

    exit_code = 2


class RunFailed(BackfillError):
    """A run stopped after retries; the ledger is intact and ``--resume`` continues (exit 1)."""

    exit_code = 1


class TransientError(BackfillError):
    """A failure that may pass (network, a server restarting, overload): the batch is retried."""


NETWORK_MARKERS = ("connection refused", "connection reset", "broken pipe", "timed out", "timeout")
"""Transport failures in any client's words: transient whatever the server."""


_USERINFO = re.compile(r"(?P<scheme>[a-zA-Z][a-zA-Z0-9+.-]*://)(?P<user>[^:/@\s]*):(?P<pw>[^@\s]*)@")
_PW_PARAM = re.compile(r"(?i)(password|passwd|pwd)=([^&\s;]+)")


_SECRETS: set[str] = set()


def register_secret(secret: str) -> None:
    """Hide this string in every message from now on."""
    if secret:
        _SECRETS.add(secret)


def redact(text: str, secrets: Iterable[str] | None = None) -> str:
    """Hide the registered passwords (or ``secrets``) wherever they appear — whatever their
    characters, even where a password is a common word — then any user:pass@ / password=..."""
    for secret in sorted(_SECRETS if secrets is None else secrets, key=len, reverse=True):
        text = text.replace(secret, "***")
    text = _USERINFO.sub(lambda m: f"{m['scheme']}{m['user']}:***@", text)
    return _PW_PARAM.sub(lambda m: f"{m[1]}=***", text)


def first_line(e: BaseException) -> str:
    """An error as one line for a message: its first line, redacted; its type if it says nothing."""
    text = redact(str(e)).strip()
    return text.splitlines()[0] if text else type(e).__name__
