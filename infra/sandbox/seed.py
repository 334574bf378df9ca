"""Create and fill the sandbox systems of every tenant folder under ``infra/sandbox/``.

Each ``<tenant>/<database>.sql`` creates one database's tables (after its shared shape from
``shapes/``, when ``systems.json`` names one) and upserts the demo people
(``ON CONFLICT ... DO UPDATE``): seeding twice is harmless, and re-seeding restores a demo
subject erased or anonymised by an earlier run. Recording files are written for every row.
"""

from __future__ import annotations

import json
import struct
import wave
from pathlib import Path
from typing import Any

import asyncpg

from infra.bootstrap import ensure_database
from infra.sandbox.saas import seed_saas
from workers.runtime.settings import Settings

SANDBOX_ROOT = Path(__file__).resolve().parent
SHAPES = SANDBOX_ROOT / "shapes"


def tenant_folders() -> list[Path]:
    return sorted(p for p in SANDBOX_ROOT.iterdir() if p.is_dir() and (p / "systems.json").exists())


def systems_config(folder: Path) -> dict[str, Any]:
    config: dict[str, Any] = json.loads((folder / "systems.json").read_text("utf-8"))
    return config


async def seed_all(settings: Settings) -> dict[str, int]:
    """Seed every tenant; returns rows of recordings written per tenant."""
    written = {}
    for folder in tenant_folders():
        shapes: dict[str, str] = systems_config(folder).get("shapes", {})
        for sql_file in sorted(folder.glob("*.sql")):
            await ensure_database(settings, sql_file.stem)
            conn = await asyncpg.connect(settings.pg_dsn(sql_file.stem))
            try:
                # A system of a common kind (a CRM, a marketing tool) gets its tables from the
                # shared shape; the tenant's file adds its own tables and its demo people.
                if sql_file.stem in shapes:
                    await conn.execute((SHAPES / f"{shapes[sql_file.stem]}.sql").read_text("utf-8"))
                await conn.execute(sql_file.read_text("utf-8"))
            finally:
                await conn.close()
        written[folder.name] = await _write_recordings(settings, systems_config(folder))
    seed_saas(settings.sandbox_dir)  # the SaaS tools' demo people, on disk
    return written


async def _write_recordings(settings: Settings, config: dict[str, Any]) -> int:
    spec = config.get("recordings")
    if not spec:
        return 0
    folder = settings.sandbox_dir / spec["folder"]
    folder.mkdir(parents=True, exist_ok=True)
    conn = await asyncpg.connect(settings.pg_dsn(spec["database"]))
    try:
        rows = await conn.fetch(f'SELECT "{spec["path_column"]}" AS path, duration_s FROM "{spec["table"]}"')
    finally:
        await conn.close()
    written = 0
    for row in rows:
        path = folder / row["path"]
        if not path.exists():
            _write_tone(path, seconds=int(row["duration_s"]))
            written += 1
    return written


def _write_tone(path: Path, seconds: int, rate: int = 8000) -> None:
    """A short 8 kHz mono WAV: a stand-in for a recorded call."""
    frames = b"".join(struct.pack("<h", (i * 37) % 2000 - 1000) for i in range(rate * max(seconds, 1)))
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(frames)
