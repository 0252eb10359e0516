#!/bin/bash
# Local stand-in for the official postgres image's entrypoint: the part of its
# contract the platform uses (scripts/engine/images.sh builds the image from
# Debian's postgresql-15).
#   POSTGRES_USER (default postgres), POSTGRES_PASSWORD (required), POSTGRES_DB
#   (default: the user), PGDATA; arguments after `postgres` go to the server.
# First start: initdb with the superuser's password, password (SCRAM) auth for
# every TCP client, the database created. Later starts: the server only.
set -euo pipefail
if [[ -z ${1:-} || ${1:0:1} == - ]]; then set -- postgres "$@"; fi
[[ $1 == postgres ]] || exec "$@"
shift

: "${PGDATA:=/var/lib/postgresql/data}"
: "${POSTGRES_USER:=postgres}"
: "${POSTGRES_DB:=$POSTGRES_USER}"
if [[ -z ${POSTGRES_PASSWORD:-} ]]; then
  echo "error: POSTGRES_PASSWORD is not set; the server would accept no TCP login" >&2
  exit 1
fi

mkdir -p "$PGDATA"
chmod 0700 "$PGDATA"
if [[ ! -s $PGDATA/PG_VERSION ]]; then
  echo "initialising $PGDATA for $POSTGRES_USER"
  pwfile=$(mktemp)
  printf '%s' "$POSTGRES_PASSWORD" >"$pwfile"
  initdb -D "$PGDATA" --username="$POSTGRES_USER" --pwfile="$pwfile" \
    --auth-local=trust --auth-host=scram-sha-256 --encoding=UTF8 --locale=C.UTF-8 >/dev/null
  rm -f "$pwfile"
  echo "host all all all scram-sha-256" >>"$PGDATA/pg_hba.conf"
  if [[ $POSTGRES_DB != postgres ]]; then
    sock=$(mktemp -d)
    pg_ctl -D "$PGDATA" -o "-c listen_addresses='' -c unix_socket_directories=$sock" -w start >/dev/null
    psql -h "$sock" -U "$POSTGRES_USER" -d postgres -v ON_ERROR_STOP=1 -q \
      -c "CREATE DATABASE \"$POSTGRES_DB\""
    pg_ctl -D "$PGDATA" -m fast -w stop >/dev/null
    rm -rf "$sock"
  fi
fi
exec postgres -D "$PGDATA" -c listen_addresses='*' "$@"
