#!/usr/bin/env bash
# Makes sure a PostgreSQL server answers on the local Unix socket, with a
# superuser role named after the current user, for the PostgreSQL store
# tests. Installs Debian's postgresql when no server is installed, and
# starts (or creates) a cluster when none runs. Prints the URL to use.
set -euo pipefail

# Only the URL goes to stdout (the caller captures it); anything the tools
# print (pg_ctlcluster says "Removed stale pid file.") goes to stderr.
exec 3>&1 1>&2

socket_dir=/var/run/postgresql
user=$(id -un)

if ! command -v pg_lsclusters >/dev/null 2>&1; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq postgresql >/dev/null
fi

if ! pg_isready -q -h "$socket_dir"; then
  cluster=$(pg_lsclusters --no-header | awk 'NR == 1 { print $1 " " $2 }')
  if [ -z "$cluster" ]; then
    version=$(find /usr/lib/postgresql -mindepth 1 -maxdepth 1 -printf "%f\n" | sort -n | tail -1)
    pg_createcluster "$version" main >/dev/null
    cluster="$version main"
  fi
  # 3>&- : the server must not inherit the pipe the caller reads the URL from
  # shellcheck disable=SC2086 # "VERSION NAME", two words on purpose
  pg_ctlcluster $cluster start 3>&-
  for _ in $(seq 1 30); do
    pg_isready -q -h "$socket_dir" && break
    sleep 1
  done
fi
pg_isready -h "$socket_dir"

if [ "$(id -u)" = 0 ] && [ "$user" != postgres ]; then
  exists=$(runuser -u postgres -- psql -h "$socket_dir" -tAc "SELECT 1 FROM pg_roles WHERE rolname = '$user'")
  if [ "$exists" != 1 ]; then
    runuser -u postgres -- createuser -h "$socket_dir" -s "$user"
  fi
fi

echo "postgres://$user@/postgres?host=$socket_dir" >&3
