"""The command line: each command parses its arguments, calls one library function, and
turns a :class:`NamcosoError` into one clear line and an exit code.

The exit codes are the same for every command and listed in every ``--help``
(:data:`EXIT_CODES`). The global options (``--config``, ``-v``, ``-q``) are taken before or
after the command. What argparse itself says (usage, errors) is in Vietnamese too.
"""

from __future__ import annotations

import argparse
import contextlib
import difflib
import io
import logging
import re
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from .errors import NamcosoError
from .units import VIETNAM

log = logging.getLogger("namcoso")

#: Exit code → what it means; every command exits with one of these.
EXIT_CODES = {
    0: "xong",
    1: "validate: bảng tính có Lỗi",
    2: "sai lệnh hoặc sai cấu hình (namcoso.toml)",
    3: "xong, nhưng có xã không đọc hoặc không ghi được (giữ số liệu lần trước)",
    4: "không đọc hoặc không ghi được master (không thay đổi gì)",
    5: "master đang mở trong Excel/LibreOffice",
    75: "một lần đồng bộ khác đang chạy",
    130: "bị dừng (Ctrl+C)",
}
EPILOG = "mã thoát:\n" + "\n".join(f"  {code:<4}{text}" for code, text in EXIT_CODES.items())

#: argparse's own messages (English, from gettext) → Vietnamese. Unmatched text is kept.
ARGPARSE_MESSAGES = [
    (r"the following arguments are required: (.*)", "thiếu tham số bắt buộc: {0}"),
    (r"unrecognized arguments: (.*)", "không hiểu tham số: {0}"),
    (r"ambiguous option: (.*) could match (.*)", "tùy chọn {0} không rõ, có thể là: {1}"),
    (r"one of the arguments (.*) is required", "cần một trong các tham số: {0}"),
    (r"expected one argument", "cần một giá trị"),
    (r"expected at most one argument", "chỉ nhận tối đa một giá trị"),
    (r"expected at least one argument", "cần ít nhất một giá trị"),
    (r"expected (\d+) arguments?", "cần {0} giá trị"),
    (r"invalid choice: (.*) \(choose from (.*)\)", "không có lựa chọn {0} (chọn một trong: {1})"),
    (r"invalid (\S+) value: (.*)", "giá trị {1} không hợp lệ"),
    (r"not allowed with argument (.*)", "không dùng cùng với {0}"),
    (r"ignored explicit argument (.*)", "không nhận giá trị {0}"),
]


def translate(message: str) -> str:
    """An argparse message in Vietnamese; a message argparse adds later stays as it is."""
    argument = re.fullmatch(r"argument (.*?): (.*)", message, flags=re.DOTALL)
    if argument:
        return f"tham số {argument[1]}: {translate(argument[2])}"
    for pattern, template in ARGPARSE_MESSAGES:
        match = re.fullmatch(pattern, message, flags=re.DOTALL)
        if match:
            return template.format(*match.groups())
    return message


class HelpFormatter(argparse.RawDescriptionHelpFormatter):
    def add_usage(self, usage, actions, groups, prefix=None):
        super().add_usage(usage, actions, groups, "cách dùng: " if prefix is None else prefix)


class Parser(argparse.ArgumentParser):
    """argparse speaking Vietnamese: section titles, ``-h``, usage errors (exit 2)."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("formatter_class", HelpFormatter)
        kwargs.setdefault("epilog", EPILOG)
        kwargs["add_help"] = False
        super().__init__(*args, **kwargs)
        self._positionals.title = "tham số"
        self._optionals.title = "tùy chọn"
        self.add_argument(
            "-h", "--help", action="help", default=argparse.SUPPRESS, help="in hướng dẫn này"
        )

    def error(self, message: str):
        text = translate(message)
        choice = re.search(r"invalid choice: '([^']*)' \(choose from (.*)\)", message)
        if choice:
            known = re.findall(r"'?([\w-]+)'?", choice[2])
            close = difflib.get_close_matches(choice[1], known, n=1)
            if close:
                text += f"; có phải «{close[0]}»?"
        self.print_usage(sys.stderr)
        self.exit(2, f"{self.prog}: lỗi: {text}\n")


class _Discard(io.TextIOBase):
    """Where ``-q`` sends what commands print: nowhere (``run`` may print for months)."""

    def writable(self) -> bool:
        return True

    def write(self, text: str) -> int:
        return len(text)


def _global_options() -> argparse.ArgumentParser:
    """``--config``, ``-v``, ``-q``: accepted before or after the command. Defaults are
    suppressed so a value given before the command is not reset by the command's parser."""
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--config",
        metavar="TỆP",
        default=argparse.SUPPRESS,
        help="tệp namcoso.toml (mặc định: tìm từ thư mục hiện tại lên các thư mục cha)",
    )
    common.add_argument(
        "-v",
        "--verbose",
        action="store_true",
        default=argparse.SUPPRESS,
        help="ghi nhật ký chi tiết",
    )
    common.add_argument(
        "-q",
        "--quiet",
        action="store_true",
        default=argparse.SUPPRESS,
        help="chỉ in lỗi (mã thoát cho biết kết quả)",
    )
    return common


def vietnam_time(seconds: float | None) -> time.struct_time:
    """A log record's time as Vietnam's wall clock, whatever the server's time zone."""
    offset = VIETNAM.utcoffset(None).total_seconds()
    return time.gmtime((time.time() if seconds is None else seconds) + offset)


def setup_logging(verbose: bool, quiet: bool) -> None:
    handler = logging.StreamHandler(sys.stderr)
    formatter = logging.Formatter(
        "%(asctime)s %(levelname)s %(name)s: %(message)s", datefmt="%d/%m/%Y %H:%M:%S"
    )
    formatter.converter = vietnam_time
    handler.setFormatter(formatter)
    level = logging.ERROR if quiet else logging.INFO if verbose else logging.WARNING
    logging.basicConfig(level=level, handlers=[handler], force=True)


def _config(args: argparse.Namespace):
    from .config import load_config

    return load_config(Path(args.config) if getattr(args, "config", None) else None)


def cmd_demo(args: argparse.Namespace) -> int:
    from .demo import run_demo
    from .init import check_demo_folder
    from .report import print_demo

    root = Path(args.dir)
    check_demo_folder(root)
    result = run_demo(root, scale=args.scale, out=sys.stdout, history=args.history)
    print_demo(result, root, sys.stdout)
    return 0


def cmd_init(args: argparse.Namespace) -> int:
    from .init import init_project

    result = init_project(Path(args.dir), args.district)
    root = result.config.parent
    if result.district:
        d = result.district
        print(
            f"Đã tạo dự án {d.committee} ({d.province}) trong {root}: "
            f"{len(d.communes)} xã trong trang 'Danh mục xã' của {result.master.name}."
        )
    else:
        print(f"Đã tạo dự án trong {root}: {result.config.name}, {result.master.name}.")
    print("Tiếp theo: ghi danh mục ấp, cán bộ và phân công vào master, rồi chạy")
    print(f"  cd {root} && namcoso provision && namcoso sync")
    return 0


def cmd_sync(args: argparse.Namespace) -> int:
    from .pipeline import run_sync
    from .registry import commune_code
    from .report import print_sync

    accept = [commune_code(code) for code in args.accept or ()]
    result = run_sync(_config(args), full=args.full, dry_run=args.dry_run, accept=accept)
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
    from .doctor import doctor, exit_code

    checks = doctor(_config(args))
    for name, ok, detail in checks:
        print(f"[{'OK' if ok else 'LỖI'}] {name}: {detail}")
    return exit_code(checks)


def cmd_provision(args: argparse.Namespace) -> int:
    from .provision import provision

    result = provision(_config(args), repair=args.repair)
    for line in result:
        print(line)
    return result.exit_code


def cmd_report(args: argparse.Namespace) -> int:
    from .district_report import draft_report

    drafted = draft_report(
        _config(args),
        year=args.year,
        first_year=args.first_year,
        commune=args.commune,
        out=Path(args.out) if args.out else None,
    )
    years = drafted.years
    span = f"{years[0]}-{years[-1]}" if len(years) > 1 else str(years[0])
    print(f"Đã viết dự thảo báo cáo {span}: {drafted.path} ({drafted.seconds:.1f} giây).")
    return 0


def build_parser() -> argparse.ArgumentParser:
    common = _global_options()
    parser = Parser(
        prog="namcoso",
        description="Nắm cơ sở: đồng bộ báo cáo của các xã về bảng tổng hợp của Huyện ủy.",
        parents=[common],
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="LỆNH", title="lệnh")

    def add(name: str, func: Callable, help_text: str) -> argparse.ArgumentParser:
        p = sub.add_parser(name, help=help_text, description=help_text, parents=[common])
        p.set_defaults(func=func)
        return p

    p = add("demo", cmd_demo, "tạo dự án mẫu Ba Tri 2018 (Excel) và chạy đồng bộ")
    p.add_argument(
        "--dir",
        default="ba-tri-demo",
        metavar="THƯ_MỤC",
        help="thư mục tạo dự án: trống, hoặc dự án mẫu cũ (mặc định ba-tri-demo)",
    )
    p.add_argument(
        "--scale",
        choices=["district", "province"],
        default="district",
        help="district: huyện Ba Tri; province: toàn tỉnh Bến Tre",
    )
    p.add_argument(
        "--history",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="kèm 2016, 2017 như đã đồng bộ từng tháng, cho namcoso report --from 2016 "
        "(mặc định: có; --no-history chỉ dựng năm 2018)",
    )
    p = add("init", cmd_init, "tạo một dự án mới (namcoso.toml, master.xlsx)")
    p.add_argument("dir", metavar="THƯ_MỤC", help="thư mục mới hoặc trống")
    p.add_argument(
        "--district",
        metavar="MÃ_HUYỆN",
        help="mã huyện của Tổng cục Thống kê (ví dụ 836 = Ba Tri): điền sẵn Danh mục xã",
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
    p.add_argument("target", metavar="TỆP_HOẶC_ID", help="tệp .xlsx hoặc ID/URL bảng tính")
    p.add_argument("--commune", metavar="MÃ_XÃ", help="mã xã (để đối chiếu danh mục ấp)")
    p.add_argument(
        "--registry",
        metavar="TỆP",
        help="tệp master.xlsx chứa danh mục (khi không có namcoso.toml)",
    )
    p = add("provision", cmd_provision, "tạo bảng tính cho các xã chưa có, từ mẫu")
    p.add_argument("--repair", action="store_true", help="áp lại danh sách chọn và khóa tiêu đề")
    add("status", cmd_status, "các lần đồng bộ gần đây và tình trạng từng xã")
    p = add("report", cmd_report, "viết dự thảo báo cáo (.docx) của Huyện ủy từ master")
    p.add_argument(
        "--year", type=int, metavar="NĂM", help="năm báo cáo (mặc định: năm mới nhất có số liệu)"
    )
    p.add_argument(
        "--from", dest="first_year", type=int, metavar="NĂM", help="sơ kết từ năm này đến --year"
    )
    p.add_argument("--commune", metavar="MÃ_XÃ", help="báo cáo của một xã, cho Đảng ủy xã")
    p.add_argument("--out", metavar="TỆP", help="tệp .docx ghi ra (mặc định: bao-cao-NĂM.docx)")
    add(
        "doctor",
        cmd_doctor,
        "kiểm tra cấu hình: các tệp của dự án (Excel), hoặc khóa Google và quyền truy cập",
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command; returns its exit code (:data:`EXIT_CODES`)."""
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as e:  # --help (0) or a usage error (2), already printed
        return int(e.code or 0)
    verbose, quiet = getattr(args, "verbose", False), getattr(args, "quiet", False)
    if verbose and quiet:
        print("namcoso: lỗi: không dùng -v cùng với -q", file=sys.stderr)
        return 2
    setup_logging(verbose, quiet)
    try:
        with contextlib.redirect_stdout(_Discard()) if quiet else contextlib.nullcontext():
            return args.func(args)
    except NamcosoError as e:
        print(f"namcoso: {e}", file=sys.stderr)
        return e.exit_code
    except KeyboardInterrupt:
        print("namcoso: đã dừng.", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
