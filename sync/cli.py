"""The command line: each command parses its arguments, calls one library function, and
turns a :class:`NamcosoError` into one clear line and an exit code."""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from .errors import NamcosoError

log = logging.getLogger("namcoso")


def _config(args: argparse.Namespace):
    from .config import load_config

    return load_config(Path(args.config) if getattr(args, "config", None) else None)


def cmd_demo(args: argparse.Namespace) -> int:
    from .replay import run_demo
    from .report import print_demo

    root = Path(args.dir)
    result = run_demo(root, scale=args.scale, out=sys.stdout)
    print_demo(result, root, sys.stdout)
    return 0


def cmd_sync(args: argparse.Namespace) -> int:
    from .pipeline import run_sync
    from .report import print_sync

    result = run_sync(_config(args), full=args.full, dry_run=args.dry_run, accept=args.accept or ())
    print_sync(result, sys.stdout)
    return result.exit_code


def cmd_validate(args: argparse.Namespace) -> int:
    from .report import print_findings
    from .validate_file import validate_file

    config = None
    try:
        config = _config(args)
    except NamcosoError:
        if not args.registry:
            raise
    report = validate_file(args.target, commune=args.commune, config=config, registry=args.registry)
    print_findings(report, sys.stdout)
    return int(not report.valid)


def cmd_status(args: argparse.Namespace) -> int:
    from .report import print_status

    print_status(_config(args), sys.stdout)
    return 0


def cmd_run(args: argparse.Namespace) -> int:
    from .scheduler import run_forever

    return run_forever(_config(args))


def cmd_doctor(args: argparse.Namespace) -> int:
    from .doctor import doctor

    checks = doctor(_config(args))
    for name, ok, detail in checks:
        print(f"[{'OK' if ok else 'LỖI'}] {name}: {detail}")
    return int(not all(ok for _, ok, _ in checks))


def cmd_provision(args: argparse.Namespace) -> int:
    from .provision import provision

    for line in provision(_config(args), repair=args.repair):
        print(line)
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="namcoso",
        description="Nắm cơ sở: đồng bộ báo cáo của các xã về bảng tổng hợp của Huyện ủy.",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="ghi nhật ký chi tiết")
    sub = parser.add_subparsers(dest="command", required=True, metavar="LỆNH")

    def add(name: str, func: Callable, help_text: str, config: bool = True):
        p = sub.add_parser(name, help=help_text, description=help_text)
        if config:
            p.add_argument("--config", help="tệp namcoso.toml (mặc định: tìm từ thư mục hiện tại)")
        p.set_defaults(func=func)
        return p

    p = add("demo", cmd_demo, "tạo dự án mẫu Ba Tri 2018 (Excel) và chạy đồng bộ", config=False)
    p.add_argument("--dir", default="ba-tri-demo", help="thư mục tạo dự án (mặc định ba-tri-demo)")
    p.add_argument(
        "--scale",
        choices=["district", "province"],
        default="district",
        help="district: huyện Ba Tri; province: toàn tỉnh Bến Tre",
    )
    p = add("sync", cmd_sync, "đồng bộ một lần (chỉ đọc bảng tính đã thay đổi)")
    p.add_argument("--full", action="store_true", help="đọc lại mọi bảng tính")
    p.add_argument("--dry-run", action="store_true", help="chỉ báo sẽ ghi gì, không ghi")
    p.add_argument(
        "--accept", action="append", metavar="MÃ_XÃ", help="chấp nhận số dòng giảm mạnh của xã này"
    )
    add("run", cmd_run, "đồng bộ theo lịch [schedule] cho đến khi dừng")
    p = add(
        "validate", cmd_validate, "kiểm tra một bảng tính xã (.xlsx, hoặc ID/URL Google Sheets)"
    )
    p.add_argument("target", help="tệp .xlsx hoặc ID/URL bảng tính")
    p.add_argument("--commune", help="mã xã (để đối chiếu danh mục ấp)")
    p.add_argument("--registry", help="tệp master.xlsx chứa danh mục (khi không có namcoso.toml)")
    p = add("provision", cmd_provision, "tạo bảng tính cho các xã chưa có, từ mẫu")
    p.add_argument("--repair", action="store_true", help="áp lại danh sách chọn và khóa tiêu đề")
    add("status", cmd_status, "các lần đồng bộ gần đây và tình trạng từng xã")
    add("doctor", cmd_doctor, "kiểm tra khóa Google, quyền truy cập master và bảng tính các xã")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING,
        format="%(asctime)s %(levelname)s %(message)s",
    )
    try:
        return args.func(args)
    except NamcosoError as e:
        print(f"namcoso: {e}", file=sys.stderr)
        return e.exit_code
    except KeyboardInterrupt:
        print("namcoso: đã dừng.", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
