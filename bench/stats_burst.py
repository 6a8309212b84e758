"""The statistics under the mass-ceremony burst: exact in every ancestor afterwards.

    .venv/bin/python bench/stats_burst.py [--n 50000]

Runs ``bench/join_burst.py`` (``make bench-join``: N workers joining through the real venue
pages at full speed, on its own throwaway database ``BENCH_JOIN_DATABASE_URL``) with the
statistics folder (``manage.py stats_fold``, every 0.5 s) running beside the server from the
moment the burst's scene is built, then folds once more and recounts every node of that
database from the raw tables (``stats_verify --all``). The join rate shows what the folder
costs the burst; any difference fails. Last line::

    stats-burst: N=50000 rate=… folds=… slowest_fold=…s nodes=… differences=0
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_URL = "postgresql://postgres@127.0.0.1:5432/niangjia_join_bench"
READY = "名职工的请求"  # join_burst prints this once its scene is built and warmed


def _manage(env: dict[str, str], *args: str) -> str:
    done = subprocess.run(
        [sys.executable, str(REPO_ROOT / "manage.py"), *args],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    sys.stdout.write(done.stdout)
    sys.stderr.write(done.stderr[-3000:])
    if done.returncode not in (0, 1):
        raise SystemExit(f"stats-burst: manage.py {' '.join(args)} 失败（{done.returncode}）")
    return done.stdout


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bench/stats_burst.py", description=__doc__)
    parser.add_argument("--n", type=int, default=50_000, help="入会人数，默认 50000")
    args = parser.parse_args(argv)
    url = os.environ.get("BENCH_JOIN_DATABASE_URL", DEFAULT_URL)
    env = {**os.environ, "DATABASE_URL": url, "DEBUG": "true", "LOG_LEVEL": "INFO"}
    log_dir = REPO_ROOT / "var" / "bench-join"
    log_dir.mkdir(parents=True, exist_ok=True)
    burst = subprocess.Popen(
        [
            sys.executable,
            str(REPO_ROOT / "bench" / "join_burst.py"),
            "--n",
            str(args.n),
            "--no-bare",
        ],
        cwd=REPO_ROOT,
        env={**os.environ, "DATABASE_URL": url},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    folder = None
    folder_log = log_dir / "stats-folder.log"
    output: list[str] = []
    assert burst.stdout is not None
    for line in burst.stdout:
        sys.stdout.write(line)
        sys.stdout.flush()
        output.append(line)
        if folder is None and READY in line:
            _manage(env, "stats_rebuild")  # the burst emptied the tables it writes
            folder = subprocess.Popen(
                [
                    sys.executable,
                    str(REPO_ROOT / "manage.py"),
                    "stats_fold",
                    "--interval",
                    "0.5",
                    "--verbose",
                ],
                cwd=REPO_ROOT,
                env=env,
                stdout=folder_log.open("w"),
                stderr=subprocess.STDOUT,
            )
            print(
                f"  统计汇总进程 {folder.pid} 已随入会启动（日志 {folder_log.relative_to(REPO_ROOT)}）"
            )
    code = burst.wait()
    if folder is None:
        print("stats-burst: 错误：入会压测没有进行到提交阶段", file=sys.stderr)
        return 2
    time.sleep(1)
    folder.terminate()
    folder.wait(60)
    _manage(env, "stats_fold", "--once")
    verified = _manage(env, "stats_verify", "--all")
    rate = re.search(r"join-burst: .*rate=(\d+)", "".join(output))
    nodes = re.search(r"nodes=(\d+)", verified)
    differences = re.search(r"differences=(\d+)", verified)
    folds = [float(s) for s in re.findall(r"seconds=([\d.]+)", folder_log.read_text("utf-8"))]
    print(
        f"stats-burst: N={args.n} rate={rate.group(1) if rate else '?'} "
        f"folds={len(folds)} slowest_fold={max(folds, default=0):.2f}s "
        f"nodes={nodes.group(1) if nodes else '?'} "
        f"differences={differences.group(1) if differences else '?'}"
    )
    ok = code == 0 and differences is not None and differences.group(1) == "0"
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
