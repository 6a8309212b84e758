"""Starting and stopping an application server for a benchmark run, and reading CPU time.

The server runs in its own process group (so every worker it forks can be found and stopped
together); CPU time is read from /proc for that group and for the local PostgreSQL processes.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from bench.common import REPO_ROOT, BenchError

BIN = REPO_ROOT / ".venv" / "bin"
SERVERS = ("granian", "gunicorn")


@dataclass(frozen=True)
class ServerConfig:
    """How the application server runs, as on ``make run``'s command line: granian (WSGI)
    with worker processes and blocking threads, or gunicorn with a worker class."""

    server: str = "granian"
    workers: int = 2
    threads: int = 2
    worker_class: str = "gthread"  # gunicorn only
    access_log: bool = False

    def command(self, app: str, port: int) -> list[str]:
        if self.server == "granian":
            command = [
                str(BIN / "granian"),
                "--interface",
                "wsgi",
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
                "--workers",
                str(self.workers),
                "--blocking-threads",
                str(self.threads),
                "--no-ws",
            ]
            if self.access_log:
                command.append("--access-log")
            return [*command, app]
        command = [
            str(BIN / "gunicorn"),
            app,
            "--bind",
            f"127.0.0.1:{port}",
            "--no-control-socket",
            "--graceful-timeout",
            "5",
            "--worker-class",
            self.worker_class,
            "--workers",
            str(self.workers),
        ]
        if self.worker_class == "gthread":
            command += ["--threads", str(self.threads)]
        if self.access_log:
            command += ["--access-logfile", "-"]
        return command

    def describe(self) -> str:
        log = "，访问日志" if self.access_log else ""
        if self.server == "granian":
            return f"granian WSGI {self.workers} 进程×{self.threads} 线程{log}"
        threads = f"×{self.threads} 线程" if self.worker_class == "gthread" else ""
        return f"gunicorn {self.worker_class} {self.workers} 进程{threads}{log}"


class Server:
    """A gunicorn started for one measurement; ``stop()`` ends its whole process group."""

    def __init__(
        self,
        app: str,
        *,
        port: int,
        config: ServerConfig,
        env: Mapping[str, str],
        log_path: Path,
        ready_path: str = "/healthz",
    ) -> None:
        self.app, self.port, self.config = app, port, config
        self.env = dict(env)
        self.log_path = log_path
        self.ready_path = ready_path
        self.process: subprocess.Popen[bytes] | None = None
        self._log: IO[bytes] | None = None

    def start(self, timeout: float = 60.0) -> None:
        command = self.config.command(self.app, self.port)
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        self._log = self.log_path.open("wb")
        self.process = subprocess.Popen(
            command,
            cwd=REPO_ROOT,
            env=self.env,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        url = f"http://127.0.0.1:{self.port}{self.ready_path}"
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            if self.process.poll() is not None:
                break
            try:
                with urllib.request.urlopen(url, timeout=2) as response:
                    if response.status == 200:
                        return
            except (urllib.error.URLError, OSError):
                time.sleep(0.2)
        self.stop()
        tail = self.log_path.read_text(errors="replace")[-2000:]
        raise BenchError(f"服务器没有在 {timeout:.0f} 秒内启动（{url}）。日志末尾：\n{tail}")

    def cpu_seconds(self) -> float:
        if self.process is None:
            return 0.0
        return group_cpu_seconds(self.process.pid)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            pgid = self.process.pid  # start_new_session: the group id is the server's pid
            os.killpg(pgid, signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(pgid, signal.SIGKILL)
                self.process.wait(timeout=5)
        self.process = None
        if self._log is not None:
            self._log.close()
            self._log = None

    def __enter__(self) -> Server:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def _stat_fields(pid: str) -> list[str] | None:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None


def group_cpu_seconds(pgid: int) -> float:
    """User + system CPU seconds of every live process in process group ``pgid``, plus what
    its reaped children used (cutime/cstime of the leader)."""
    ticks = 0
    for pid in filter(str.isdigit, os.listdir("/proc")):
        fields = _stat_fields(pid)
        if fields is not None and int(fields[2]) == pgid:
            ticks += int(fields[11]) + int(fields[12])
            if int(pid) == pgid:
                ticks += int(fields[13]) + int(fields[14])
    return ticks / os.sysconf("SC_CLK_TCK")


def postgres_backend_cpu(database: str) -> dict[int, float]:
    """CPU seconds used so far by each live local PostgreSQL backend connected to
    ``database`` (their process titles name it): pid -> seconds. Empty when the server runs
    elsewhere. A backend that has ended is gone from the list: sample while it runs."""
    found: dict[int, float] = {}
    tick = os.sysconf("SC_CLK_TCK")
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            if Path(f"/proc/{pid}/comm").read_text().strip() != "postgres":
                continue
            title = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue
        if f" {database} " not in f" {title} ":
            continue
        fields = _stat_fields(pid)
        if fields is not None:
            found[int(pid)] = (int(fields[11]) + int(fields[12])) / tick
    return found
