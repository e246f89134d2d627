"""DSNs as the user wrote them: the passwords they hold, found whatever their characters.

A password is not always percent-encoded: ``postgresql://reader:my Secret9@host/db`` and
``…:p@ss/w:rd@host/db`` are what people type. A URL's userinfo is therefore taken up to the
*last* ``@`` before the query, so such a password is found whole; both its written and its
percent-decoded spelling are registered for redaction, as are ``password=`` values of a
query string or of a key=value DSN. Such a URL is then refused (``check_userinfo``), since
each client would cut it elsewhere, but no part of it is ever printed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import unquote, unquote_plus

from .errors import UserError, redact, register_secret

_URL = re.compile(r"(?P<scheme>[A-Za-z][A-Za-z0-9+.-]*)://(?P<rest>.*)", re.DOTALL)
_KV_PASSWORD = re.compile(r"(?i)\bpassword\s*=\s*('(?:[^'\\]|\\.)*'|\S+)")
_PASSWORD_KEYS = {"password", "passwd", "pwd"}
_SERVER_SCHEMES = {"postgresql", "postgres", "http", "https", "clickhouse", "clickhouses"}


@dataclass(frozen=True)
class UrlDsn:
    scheme: str
    user: str
    password: str | None
    rest: str  # host[:port][/path][?query], after the userinfo


def parse_url(dsn: str) -> UrlDsn | None:
    """scheme://[user[:password]@]rest, or None for a DSN that is not a URL."""
    m = _URL.fullmatch(dsn.strip())
    if m is None:
        return None
    rest = m["rest"]
    # the last @ before the query; a password may hold '?' only if the query holds no '@'
    head = re.split(r"[?#]", rest, maxsplit=1)[0]
    at = head.rfind("@") if "@" in head else rest.rfind("@")
    if at < 0:
        return UrlDsn(m["scheme"], "", None, rest)
    user, colon, password = rest[:at].partition(":")
    return UrlDsn(m["scheme"], user, password if colon else None, rest[at + 1:])


def passwords(dsn: str) -> set[str]:
    """Every spelling of every password in the DSN: as written and percent-decoded."""
    found: set[str] = set()
    url = parse_url(dsn)
    if url is not None:
        found.add(url.password or "")
        for pair in re.split(r"[&;]", url.rest.partition("?")[2]):
            key, eq, value = pair.partition("=")
            if eq and unquote(key).lower() in _PASSWORD_KEYS:
                found.add(value)
    else:  # key=value: password=secret or password='my secret' (\' and \\ escaped)
        for m in _KV_PASSWORD.finditer(dsn):
            found.add(m[1])
            if len(m[1]) >= 2 and m[1][0] == m[1][-1] == "'":
                found.add(re.sub(r"\\(.)", r"\1", m[1][1:-1]))
    found |= {unquote(p) for p in found} | {unquote_plus(p) for p in found}
    return {p for p in found if p}


def register_passwords(*dsns: str | None) -> None:
    """Hide the passwords of these DSNs in every message from now on."""
    for dsn in dsns:
        for secret in passwords(dsn or ""):
            register_secret(secret)


def without_password(dsn: str) -> str:
    """The DSN with its own passwords masked, independent of what else is registered (it is
    saved in the plan and part of its fingerprint)."""
    url = parse_url(dsn)
    if url is not None and url.password:
        dsn = f"{url.scheme}://{url.user}:***@{url.rest}"
    return redact(dsn, passwords(dsn))


def check_userinfo(dsn: str, flag: str) -> None:
    """A server URL whose user or password holds a raw space, @, / ? or # is cut apart
    differently by each client, which then prints the pieces as host or port names: refuse
    it up front, naming no part of it."""
    url = parse_url(dsn)
    if url is None or url.scheme.lower() not in _SERVER_SCHEMES:
        return
    if any(c.isspace() or c in "@/?#" for c in url.user + (url.password or "")):
        raise UserError(
            f"{flag}: percent-encode the user name and password in the URL "
            "(space %20, @ %40, / %2F, ? %3F, # %23)"
        )


def check_postgres_url(dsn: str) -> None:
    """ConnectorX reads Postgres through a URL only; a key=value DSN would fail late, with an
    unpacking error, after psycopg had accepted it."""
    url = parse_url(dsn)
    if url is None or url.scheme.lower() not in ("postgresql", "postgres"):
        raise UserError(
            "--pg: use the URL form postgresql://user:password@host:5432/dbname "
            "(key=value DSNs are not supported)"
        )
