"""Build a national-scale synthetic union tree and employer registry in PostgreSQL.

    DATABASE_URL=postgresql://postgres@127.0.0.1:5432/niangjia_bench make bench-data

Options: --grassroots N, --employers N, --seed S, --reset (see bench/README.md).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def _count(text: str) -> int:
    try:
        value = int(text.replace("_", ""))
    except ValueError:
        raise argparse.ArgumentTypeError(f"应为非负整数，收到“{text}”") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"应为非负整数，收到 {value}")
    return value


def _seed(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"应为整数，收到“{text}”") from None


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="bench/generate.py",
        description=(
            "在 PostgreSQL 中生成全国规模的合成工会树（31 个省级总工会、全部市县总工会、"
            "基层工会）和用人单位名录，用 COPY 批量装载。只用于基准测试专用数据库。"
        ),
    )
    parser.add_argument(
        "--grassroots",
        type=_count,
        default=300_000,
        metavar="N",
        help="基层工会数（含联合基层工会），默认 300000",
    )
    parser.add_argument(
        "--employers",
        type=_count,
        default=500_000,
        metavar="N",
        help="用人单位数，默认 500000",
    )
    parser.add_argument("--seed", type=_seed, default=2024, metavar="S", help="随机种子，默认 2024")
    parser.add_argument(
        "--reset",
        action="store_true",
        help="先清空工会树、用人单位及引用它们的全部数据（TRUNCATE），再重新生成",
    )
    parser.add_argument(
        "--cadre-password",
        default=None,
        metavar="PASSWORD",
        help="基准测试干部账号（bench_national 等）的密码，默认见 bench/README.md",
    )
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    repo_root = str(Path(__file__).resolve().parent.parent)
    if repo_root not in sys.path:
        sys.path.insert(0, repo_root)

    from bench.common import BenchError, migrate_if_needed, require_postgresql, setup_django

    try:
        from django.core.exceptions import ImproperlyConfigured
        from django.db import DatabaseError

        try:
            setup_django()
        except ImproperlyConfigured as exc:
            raise BenchError(f"配置错误：{exc}") from exc
        from django.db import connection

        require_postgresql(connection)
        try:
            connection.ensure_connection()
        except DatabaseError as exc:
            raise BenchError(f"无法连接数据库：{exc}") from exc
        settings = connection.settings_dict
        print(
            f"generate: 目标数据库 {settings['NAME']}（{settings.get('HOST') or '本机'}:"
            f"{settings.get('PORT') or 5432}）"
        )
        try:
            from bench.synthetic import DEFAULT_CADRE_PASSWORD, generate, refuse_unless_empty

            refuse_unless_empty(reset=args.reset)
            migrate_if_needed(connection, sys.stdout)

            report = generate(
                grassroots=args.grassroots,
                employers=args.employers,
                seed=args.seed,
                reset=args.reset,
                cadre_password=args.cadre_password or DEFAULT_CADRE_PASSWORD,
                out=sys.stdout,
            )
        except DatabaseError as exc:
            raise BenchError(f"数据库出错，已全部回滚：{exc}") from exc
    except BenchError as exc:
        print(f"generate: 错误：{exc}", file=sys.stderr)
        return 2
    print(report.summary_line())
    return 0


if __name__ == "__main__":
    sys.exit(main())
