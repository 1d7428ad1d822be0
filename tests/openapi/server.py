"""A throwaway `spool serve` for the OpenAPI checks: its own SQLite data dir, a
free port on 127.0.0.1, the echo model, and limits high enough that a fuzzer
never meets a 429."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import threading
from pathlib import Path

ADMIN_EMAIL = "owner@example.com"
ADMIN_PASSWORD = "quartz-lantern-harbor-7"
# A second user, so that removing a workspace member can succeed (the owner
# is the last owner and may not be removed) and adding one can name a real
# email. `spool user create` needs the database to itself, so it runs
# between two starts of the server: the first start creates the owner.
MEMBER_EMAIL = "member@example.com"
MEMBER_PASSWORD = "amber-willow-canal-3"

# spool.toml for the test server. The per-credential rate limit and the
# sign-in failure budgets would otherwise answer 429 to schemathesis (100/s
# per credential; 5 failed sign-ins per email), and every request after that
# would test the limiter instead of the endpoint.
CONFIG = """\
rate_limit_per_second = 1000000
rate_limit_burst = 1000000
sign_in_failures_per_email = 1000000
sign_in_failures_per_address = 1000000
log = "info"
log_format = "text"
"""

LISTENING = re.compile(r"listening on (\d+\.\d+\.\d+\.\d+:\d+)")


def clean_env() -> dict[str, str]:
    """The environment without the caller's own SPOOL_* settings."""
    return {k: v for k, v in os.environ.items() if not k.startswith("SPOOL_")}


def site_args(workdir: Path) -> list[str]:
    return ["--config", str(workdir / "spool.toml"), "--data-dir", str(workdir / "data")]


def create_member(binary: Path, workdir: Path) -> int:
    """`spool user create` for MEMBER_EMAIL while no server runs; the user's id."""
    result = subprocess.run(
        [str(binary), "user", "create", *site_args(workdir),
         "--email", MEMBER_EMAIL, "--name", "Member"],
        env={**clean_env(), "SPOOL_USER_PASSWORD": MEMBER_PASSWORD},
        cwd=workdir, capture_output=True, text=True, timeout=60,
    )
    if result.returncode != 0:
        raise RuntimeError(f"spool user create failed: {result.stderr.strip()}")
    return int(result.stdout.split()[0])


class Server:
    """`spool serve` in `workdir`, ready once it has logged "listening on ADDR"."""

    def __init__(self, binary: Path, workdir: Path, log_path: Path, ready_timeout: float = 60.0,
                 extra_config: str = ""):
        workdir.mkdir(parents=True, exist_ok=True)
        (workdir / "spool.toml").write_text(CONFIG + extra_config)
        env = clean_env()
        env.update(SPOOL_ADMIN_EMAIL=ADMIN_EMAIL, SPOOL_ADMIN_PASSWORD=ADMIN_PASSWORD)
        self.log_path = log_path
        self._log = open(log_path, "a", encoding="utf-8")
        self._ready = threading.Event()
        self.address: str | None = None
        self.process = subprocess.Popen(
            [str(binary), "serve", *site_args(workdir), "--listen", "127.0.0.1:0"],
            cwd=workdir,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=self._log,
            stderr=subprocess.PIPE,
            text=True,
            encoding="utf-8",
            errors="replace",
        )
        self._reader = threading.Thread(target=self._read_stderr, daemon=True)
        self._reader.start()
        if not self._ready.wait(ready_timeout) or self.address is None:
            self.stop()
            raise RuntimeError(f"spool serve did not start; see {log_path}")
        self.base = f"http://{self.address}"

    def _read_stderr(self) -> None:
        assert self.process.stderr is not None
        for line in self.process.stderr:
            self._log.write(line)
            self._log.flush()
            if self.address is None and (match := LISTENING.search(line)):
                self.address = match.group(1)
                self._ready.set()
        # stderr closed: the process has ended (maybe before listening).
        self._ready.set()

    def log_lines(self, pattern: str) -> list[str]:
        """Lines of the server log matching a regular expression."""
        self._log.flush()
        text = self.log_path.read_text(encoding="utf-8", errors="replace")
        return [line for line in text.splitlines() if re.search(pattern, line)]

    def stop(self) -> int | None:
        """SIGTERM, then SIGKILL after 10 s; the exit code."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self._reader.join(5)
        self._log.close()
        return self.process.returncode
