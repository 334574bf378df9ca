"""Keeps one of our services up: restarts it when it crashes, with backoff, and says so.

    python -m infra.keeper STATUS_FILE -- ARGV...

The stack starts each service under a keeper (same process group, so stopping the service stops
both). A crash (non-zero exit, or killed by a signal the keeper did not forward) restarts it after
1, 2, 4 … 30 s; ``MAX_CRASHES`` crashes within ``CRASH_WINDOW`` seconds mean it will not stay up:
the keeper gives up and exits 1, and ``privacyctl status`` / ``make run`` report it. A clean
exit (0) or a stop asked by SIGTERM/SIGINT ends the keeper too. Its state — restarts, last exit,
running / backing_off / gave_up / stopped — is written to STATUS_FILE (JSON) after each change.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path

MAX_CRASHES = 5
CRASH_WINDOW = 120.0
MAX_BACKOFF = 30.0
FIRST_BACKOFF_ENV = "PRIVACY_KEEPER_BACKOFF_SECONDS"  # the first wait (default 1 s); tests shorten it


@dataclass
class KeeperStatus:
    state: str = "starting"  # running | backing_off | gave_up | stopped
    pid: int | None = None
    restarts: int = 0
    last_exit: int | None = None  # exit code; negative: killed by that signal
    last_exit_at: str | None = None
    crashes: list[float] = field(default_factory=list)  # monotonic times, inside the window


def read_status(path: Path) -> KeeperStatus | None:
    """What a keeper last wrote, or None when there is no (readable) status."""
    try:
        value = json.loads(path.read_text())
        return KeeperStatus(**value)
    except (FileNotFoundError, json.JSONDecodeError, TypeError):
        return None


def backoff(crashes_in_window: int, first: float = 1.0) -> float:
    """Seconds before the next start: ``first``, then doubled each crash, at most ``MAX_BACKOFF``."""
    return float(min(MAX_BACKOFF, first * 2 ** max(crashes_in_window - 1, 0)))


class Keeper:
    def __init__(self, status_file: Path, argv: list[str], first_backoff: float = 1.0) -> None:
        self.status_file = status_file
        self.argv = argv
        self.first_backoff = first_backoff
        self.status = KeeperStatus()
        self.stopping = False
        self.child: subprocess.Popen[bytes] | None = None

    def _write(self) -> None:
        draft = self.status_file.with_suffix(".tmp")
        draft.write_text(json.dumps(asdict(self.status)))
        draft.replace(self.status_file)

    def _stop(self, signum: int, _frame: object) -> None:
        self.stopping = True
        if self.child is not None and self.child.poll() is None:
            # The group signal usually reached the child already; forwarding again is harmless.
            self.child.send_signal(signum)

    def run(self) -> int:
        signal.signal(signal.SIGTERM, self._stop)
        signal.signal(signal.SIGINT, self._stop)
        self.status_file.parent.mkdir(parents=True, exist_ok=True)
        while True:
            self.child = subprocess.Popen(self.argv, stdin=subprocess.DEVNULL)
            self.status.state, self.status.pid = "running", self.child.pid
            self._write()
            code = self.child.wait()
            self.status.last_exit, self.status.last_exit_at = code, datetime.now(UTC).isoformat()
            if self.stopping or code == 0:
                self.status.state = "stopped"
                self._write()
                return 0
            now = time.monotonic()
            self.status.crashes = [t for t in self.status.crashes if now - t < CRASH_WINDOW] + [now]
            if len(self.status.crashes) >= MAX_CRASHES:
                self.status.state = "gave_up"
                self._write()
                message = f"keeper: crashed {MAX_CRASHES} times in {CRASH_WINDOW:.0f}s; giving up"
                print(message, file=sys.stderr, flush=True)
                return 1
            delay = backoff(len(self.status.crashes), self.first_backoff)
            self.status.state = "backing_off"
            self._write()
            print(f"keeper: exit {code}; restarting in {delay:.0f}s", file=sys.stderr, flush=True)
            deadline = time.monotonic() + delay
            while time.monotonic() < deadline and not self.stopping:
                time.sleep(0.1)
            if self.stopping:
                self.status.state = "stopped"
                self._write()
                return 0
            self.status.restarts += 1


def main(argv: list[str]) -> int:
    if len(argv) < 3 or argv[1] != "--":
        print("usage: python -m infra.keeper STATUS_FILE -- ARGV...", file=sys.stderr)
        return 2
    return Keeper(Path(argv[0]), argv[2:], float(os.environ.get(FIRST_BACKOFF_ENV, "1"))).run()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
