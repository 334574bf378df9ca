"""Where the time goes during a bench burst: py-spy on our worker, intake and API processes, and
PostgreSQL's pg_stat_statements (the embedded server preloads it where it is installed).

py-spy samples each process tree (``--subprocesses``) while the burst runs and writes collapsed
stacks; the summary counts, per process, the functions most often on top of a stack (self) and
anywhere on it (inclusive). pg_stat_statements is reset when the burst starts, so its top
statements are the burst's.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import asyncpg

PROCESSES = ("worker", "intake", "api")
TOP = 15
# Frames under every sample (event loop, entry points): left out of the inclusive ranking.
_PLUMBING = ("(<frozen runpy>)", "cli/main.py)", "mode/worker.py)") + tuple(
    f"asyncio/{m}.py)" for m in ("runners", "base_events", "events")
)


def _py_spy() -> str:
    beside = Path(sys.executable).parent / "py-spy"
    found = str(beside) if beside.exists() else shutil.which("py-spy")
    if not found:
        raise RuntimeError("py-spy is not installed: `make install` (the dev extra pins it)")
    return found


class Profiler:
    def __init__(self, settings: Any, output: Path) -> None:
        self._settings = settings
        self._output = output
        self._spies: dict[str, tuple[asyncio.subprocess.Process, Path]] = {}

    async def start(self) -> None:
        from infra.processes import ProcessSupervisor

        self._output.parent.mkdir(parents=True, exist_ok=True)
        supervisor = ProcessSupervisor(self._settings.state_dir)
        for name in PROCESSES:
            pid = supervisor.pid(name)
            if pid is None:
                continue
            stacks = self._output.parent / f"{self._output.stem}-{name}.txt"
            spy = await asyncio.create_subprocess_exec(
                _py_spy(), "record", "--pid", str(pid), "--subprocesses", "--format", "raw",
                "--rate", "100", "--nonblocking", "--output", str(stacks),
                stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL,
            )  # fmt: skip
            self._spies[name] = (spy, stacks)
        await self._statements("SELECT pg_stat_statements_reset()")
        await asyncio.sleep(1)  # py-spy attaches

    async def stop(self) -> dict[str, Any]:
        for spy, _ in self._spies.values():
            spy.send_signal(signal.SIGINT)
        summary: dict[str, Any] = {}
        lines = []
        for name, (spy, stacks) in self._spies.items():
            await asyncio.wait_for(spy.wait(), 60)
            own, anywhere, samples = _tally(stacks)
            summary[name] = {"samples": samples, "self": own.most_common(TOP)}
            lines.append(f"== {name}: {samples} samples (100 Hz, every thread of the process tree)")
            lines.append("-- self (on top of the stack)")
            lines += [f"{n / max(samples, 1):6.1%}  {frame}" for frame, n in own.most_common(TOP)]
            lines.append("-- inclusive (anywhere on the stack)")
            lines += [f"{n / max(samples, 1):6.1%}  {frame}" for frame, n in anywhere.most_common(TOP)]
            lines.append("")
        statements = await self._statements(
            "SELECT d.datname, s.calls, round(s.total_exec_time::numeric, 1) AS total_ms,"
            " round(s.mean_exec_time::numeric, 3) AS mean_ms,"
            " left(regexp_replace(s.query, '\\s+', ' ', 'g'), 110) AS query"
            " FROM pg_stat_statements s JOIN pg_database d ON d.oid = s.dbid"
            f" ORDER BY s.total_exec_time DESC LIMIT {TOP}"
        )  # fmt: skip
        if statements:
            lines.append("== PostgreSQL pg_stat_statements during the burst, by total execution time")
            for r in statements:
                lines.append(f"{r['total_ms']:>9} ms {r['calls']:>6} calls {r['mean_ms']:>8} ms"
                             f"  [{r['datname']}] {r['query']}")  # fmt: skip
            summary["pg_stat_statements"] = [
                {**r, "total_ms": float(r["total_ms"]), "mean_ms": float(r["mean_ms"])} for r in statements
            ]
        self._output.write_text("\n".join(lines) + "\n")
        return summary

    async def _statements(self, sql: str) -> list[dict[str, Any]]:
        """Run ``sql`` against pg_stat_statements; nothing when the server does not have it."""
        conn = await asyncpg.connect(self._settings.pg_dsn())
        try:
            await conn.execute("CREATE EXTENSION IF NOT EXISTS pg_stat_statements")
            return [dict(r) for r in await conn.fetch(sql)]
        except asyncpg.PostgresError:
            return []
        finally:
            await conn.close()


def _tally(stacks: Path) -> tuple[Counter[str], Counter[str], int]:
    """Collapsed stacks (``frame;frame;... count``) → samples per top frame, per frame anywhere."""
    own: Counter[str] = Counter()
    anywhere: Counter[str] = Counter()
    samples = 0
    if not stacks.exists():
        return own, anywhere, 0
    for line in stacks.read_text().splitlines():
        path, _, count = line.rpartition(" ")
        if not path or not count.isdigit():
            continue
        frames = [f for f in path.split(";") if not f.startswith(("process ", "thread "))]
        if not frames:
            continue
        n = int(count)
        samples += n
        own[_short(frames[-1])] += n
        for frame in {s for s in map(_short, frames) if not s.endswith(_PLUMBING)}:
            anywhere[frame] += n
    return own, anywhere, samples


def _short(frame: str) -> str:
    """``func (path/to/module.py:line)`` → ``func (module.py)``: lines differ, functions count."""
    name, _, where = frame.partition(" (")
    file = where.rsplit(":", 1)[0].rsplit("/", 2)
    return f"{name} ({'/'.join(file[-2:])})" if where else name


PARTS = ("postgres", "broker", "temporal", "sandbox", "worker", "intake", "api")


def cpu_seconds(settings: Any) -> dict[str, float]:
    """CPU seconds (user + system) used so far by each part of the stack and its process tree,
    read from /proc: the difference across a run says which part the run kept busy."""
    from infra.processes import ProcessSupervisor

    ticks = os.sysconf("SC_CLK_TCK")
    stats: dict[int, tuple[int, float, float]] = {}  # pid -> (parent, own, reaped children's)
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rpartition(")")[2].split()
            except OSError:
                continue  # gone meanwhile
            own, reaped = int(fields[11]) + int(fields[12]), int(fields[13]) + int(fields[14])
            stats[int(entry.name)] = (int(fields[1]), own / ticks, reaped / ticks)
    children: dict[int, list[int]] = {}
    for pid, (parent, _, _) in stats.items():
        children.setdefault(parent, []).append(pid)
    supervisor = ProcessSupervisor(settings.state_dir)
    used: dict[str, float] = {}
    for name in PARTS:
        root = supervisor.pid(name)
        if root is None or root not in stats:
            continue
        total, todo = stats[root][2], [root]
        while todo:
            pid = todo.pop()
            total += stats[pid][1]
            todo.extend(children.get(pid, []))
        used[name] = round(total, 2)
    return used


def cpu_used(before: dict[str, float], after: dict[str, float]) -> dict[str, float]:
    """CPU seconds per part between two readings of ``cpu_seconds``, largest first."""
    spent = {name: round(after[name] - before.get(name, 0.0), 1) for name in after}
    return dict(sorted(spent.items(), key=lambda item: -item[1]))
