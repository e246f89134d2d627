#!/usr/bin/env bash
# Make sure Postgres server binaries (initdb, pg_ctl) exist; install Debian's package if not.
set -euo pipefail
have() {
  local bindir
  bindir=$(pg_config --bindir 2>/dev/null || true)
  [ -n "$bindir" ] && [ -x "$bindir/initdb" ] && return 0
  compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null
}
have && exit 0
echo "Postgres server binaries not found: installing the 'postgresql' package" >&2
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends postgresql >/dev/null
# Debian creates and starts a default cluster; this project runs its own, so stop that one.
$SUDO service postgresql stop >/dev/null 2>&1 || true
have
