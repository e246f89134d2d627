"""Errors that mean "the user must change something": printed as one line, exit code 2.

Every message passes ``redact``, which hides passwords however they are spelled: each password
the command was given is registered (``dsn.register_passwords``) and replaced wherever it
appears; patterns catch the ``user:pass@`` and ``password=`` forms of any other DSN.
"""

from __future__ import annotations

import re
from collections.abc import Iterable


class UserError(Exception):
    """A configuration, input or environment problem; shown without a traceback."""

    exit_code = 2


class RunFailed(Exception):
    """A run stopped after retries; the ledger is intact and ``--resume`` continues (exit 1)."""

    exit_code = 1


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
