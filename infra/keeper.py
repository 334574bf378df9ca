"""Keeps one process of the stack up: restarts it when it crashes, with backoff, and says so.

    python -m infra.keeper STATUS_FILE [--user USER] [--after-restart COMMAND] -- ARGV...

The stack starts each of its servers (PostgreSQL, the broker, Temporal) and each of our services
under a keeper (same process group, so stopping the group stops both). A crash (non-zero exit,
or killed by a signal the keeper did not forward) restarts it after 1, 2, 4 … 30 s;
``MAX_CRASHES`` crashes within ``CRASH_WINDOW`` seconds mean it will not stay up: the keeper
gives up and exits 1, and ``privacyctl status`` / ``make run`` report it. A clean exit (0) or a
stop asked by SIGTERM/SIGINT (forwarded to the process: PostgreSQL's fast shutdown is SIGINT)
ends the keeper too, and is never taken for a crash.

``--user``: the process runs as that OS user (PostgreSQL refuses root) while the keeper keeps
its own, so it can always write its status. ``--after-restart``: a command run after each
restart (not the first start: the stack waits for that itself), e.g. ``python -m
infra.recovery broker``, which waits for real readiness and restores what the restart lost;
until it succeeds the state is ``restarting``, and its failure counts as a crash.

Its state — restarts, last exit, starting / running / restarting / backing_off / gave_up /
stopped — is written to STATUS_FILE (JSON) after each change.
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
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
    state: str = "starting"  # running | restarting | backing_off | gave_up | stopped
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
    def __init__(
        self,
        status_file: Path,
        argv: list[str],
        first_backoff: float = 1.0,
        user: str | None = None,
        after_restart: list[str] | None = None,
    ) -> None:
        self.status_file = status_file
        self.argv = argv
        self.first_backoff = first_backoff
        self.user = user
        self.after_restart = after_restart
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

    def _start(self) -> subprocess.Popen[bytes]:
        if self.user is None:
            return subprocess.Popen(self.argv, stdin=subprocess.DEVNULL)
        return subprocess.Popen(
            self.argv, stdin=subprocess.DEVNULL, user=self.user, group=self.user, extra_groups=[]
        )

    def _recovered(self, child: subprocess.Popen[bytes]) -> bool:
        """Run the after-restart command while the child runs; True once it succeeded."""
        assert self.after_restart is not None
        recovery = subprocess.Popen(self.after_restart, stdin=subprocess.DEVNULL)
        while recovery.poll() is None:
            if self.stopping or child.poll() is not None:
                recovery.kill()
                recovery.wait()
                return False
            time.sleep(0.1)
        if recovery.returncode == 0:
            return True
        print(f"keeper: after-restart command exited {recovery.returncode}", file=sys.stderr, flush=True)
        if child.poll() is None:
            child.kill()  # not ready after a restart: a crash like any other
        return False

    def run(self) -> int:
        signal.signal(signal.SIGTERM, self._stop)
        signal.signal(signal.SIGINT, self._stop)
        self.status_file.parent.mkdir(parents=True, exist_ok=True)
        while True:
            self.child = child = self._start()
            restarting = self.status.restarts > 0 and self.after_restart is not None
            self.status.state, self.status.pid = ("restarting" if restarting else "running"), child.pid
            self._write()
            if restarting and self._recovered(child):
                self.status.state = "running"
                self._write()
            code = child.wait()
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


def keeper_argv(
    status_file: Path, argv: list[str], user: str | None = None, after_restart: list[str] | None = None
) -> list[str]:
    """The command line that runs ``argv`` under a keeper (what the stack launches)."""
    options = ["--user", user] if user else []
    if after_restart:
        options += ["--after-restart", shlex.join(after_restart)]
    return [sys.executable, "-m", "infra.keeper", str(status_file), *options, "--", *argv]


def main(argv: list[str]) -> int:
    if "--" not in argv:
        print(__doc__.split("\n\n")[1], file=sys.stderr)
        return 2
    split = argv.index("--")
    parser = argparse.ArgumentParser(prog="python -m infra.keeper")
    parser.add_argument("status_file", type=Path)
    parser.add_argument("--user")
    parser.add_argument("--after-restart", type=shlex.split)
    options = parser.parse_args(argv[:split])
    command = argv[split + 1 :]
    if not command:
        parser.error("no command to keep up after --")
    first = float(os.environ.get(FIRST_BACKOFF_ENV, "1"))
    return Keeper(options.status_file, command, first, options.user, options.after_restart).run()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
