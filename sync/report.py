"""What the command line prints: run summaries, findings tables, status."""

from __future__ import annotations

import shutil
import textwrap
from typing import TextIO

from .config import Config
from .findings import ERROR, INFO, WARNING, Report
from .state import StateStore

STATUS_TEXT = {"ok": "bình thường", "unreadable": "lỗi truy cập", "held": "đang giữ số liệu cũ"}


def print_sync(result, out: TextIO) -> None:
    verb = "Sẽ ghi" if result.dry_run else "Đã ghi"
    counts = {s: sum(f.severity == s for f in result.findings) for s in (ERROR, WARNING, INFO)}
    print(
        f"Đồng bộ ({result.mode}): đọc {result.communes_read} xã, bỏ qua {result.communes_skipped} "
        f"(không đổi), lỗi {result.communes_failed}; nhận {result.rows_accepted} dòng, "
        f"loại {result.rows_rejected}.",
        file=out,
    )
    print(
        f"Phát hiện: {counts[ERROR]} lỗi, {counts[WARNING]} cảnh báo, {counts[INFO]} thông tin; "
        f"{result.requests} lệnh gọi; {result.seconds:.1f} giây.",
        file=out,
    )
    if result.master_tabs_written:
        print(f"{verb} vào master: {', '.join(result.master_tabs_written)}.", file=out)
    else:
        print("Master không có gì thay đổi: không ghi.", file=out)
    if result.communes_written:
        print(f"{verb} phản hồi cho {len(result.communes_written)} xã.", file=out)
    for code in result.unreadable:
        print(f"Xã {code}: không đọc được bảng tính, giữ số liệu lần trước.", file=out)
    for code in getattr(result, "refused", []):
        why = "bảng tính không phải của xã này hoặc trùng với xã khác"
        print(f"Xã {code}: {why}, giữ số liệu lần trước.", file=out)
    for code in getattr(result, "unwritten", []):
        why = "chưa ghi được phản hồi (tệp đang mở hoặc không ghi được)"
        print(f"Xã {code}: {why}, sẽ ghi lần sau.", file=out)
    for code in result.held:
        print(
            f"Xã {code}: số dòng giảm mạnh, giữ số liệu cũ "
            f"(chấp nhận: namcoso sync --accept {code}).",
            file=out,
        )


def print_findings(report: Report, out: TextIO) -> None:
    """A readable table: one block per finding, wrapped to the terminal."""
    width = max(60, min(shutil.get_terminal_size((100, 20)).columns, 120))
    if not report.findings:
        print("Không có lỗi: bảng tính hợp lệ.", file=out)
        return
    for f in report.findings:
        where = f"{f.tab}!{f.cell}" if f.cell else f.tab
        head = f"[{f.severity}] {where}" + (f" — giá trị: {f.value!s}" if f.value else "")
        print(head, file=out)
        for label, text in (("Nội dung", f.message), ("Cách sửa", f.fix)):
            wrapped = textwrap.fill(
                text, width=width, initial_indent=f"    {label}: ", subsequent_indent=" " * 14
            )
            print(wrapped, file=out)
    counts = report.counts()
    print(
        f"\nTổng cộng: {counts[ERROR]} lỗi, {counts[WARNING]} cảnh báo, {counts[INFO]} thông tin.",
        file=out,
    )


def print_status(config: Config, out: TextIO) -> None:
    """The last runs and each commune's freshness, from the state store."""
    if not config.state_path.exists():
        print("Chưa có lần đồng bộ nào (chạy: namcoso sync).", file=out)
        return
    from datetime import datetime

    from .lock import current_holder

    store = StateStore(config.state_path)
    try:
        print(f"Dự án: {config.name} ({config.backend})", file=out)
        holder = current_holder(config.lock_path)
        if holder is not None:
            print(f"Đang có một lần đồng bộ chạy ({holder.describe()}).", file=out)
        print("Các lần đồng bộ gần nhất:", file=out)
        print(
            f"  {'Thời điểm':<26} {'Chế độ':<9} {'đọc/bỏ qua/lỗi':<15} {'nhận/loại':<12} "
            f"{'phát hiện':>9} {'lệnh gọi':>8} {'giây':>6}  ghi",
            file=out,
        )
        for run in store.runs(limit=10):
            communes = f"{run['communes_read']}/{run['communes_skipped']}/{run['communes_failed']}"
            rows = f"{run['rows_accepted']}/{run['rows_rejected']}"
            print(
                f"  {datetime.fromisoformat(run['started']):%d/%m/%Y %H:%M:%S}{'':<7} "
                f"{run['mode']:<9} {communes:<15} {rows:<12} "
                f"{run['findings']:>9} {run['requests']:>8} {run['seconds']:>6}  "
                f"{'có' if run['changed'] else 'không'}",
                file=out,
            )
        print("Tình trạng từng xã:", file=out)
        for code, rec in sorted(store.sources().items()):
            when = rec.last_read.strftime("%d/%m/%Y %H:%M") if rec.last_read else "chưa đọc được"
            status = STATUS_TEXT.get(rec.status, rec.status)
            detail = f" — {rec.detail}" if rec.detail else ""
            print(f"  {code}  dữ liệu đọc lúc {when:<17} {status}{detail}", file=out)
    finally:
        store.close()


def print_demo(result, root, out: TextIO) -> None:
    """After ``namcoso demo``: the district's ratings per year, findings, where to look."""
    from .layout import master_layout

    tab = result.tabs.get("rating_stats")
    headers = [c.header for c in master_layout()["rating_stats"].columns]
    print("", file=out)
    for row in tab.rows if tab else []:
        if not row[0]:  # a total row ("Toàn huyện", "Toàn tỉnh"): no commune code
            counts = " · ".join(str(v) for v in row[3:9])
            print(f"Xếp loại chi bộ năm {row[2]}, {str(row[1]).lower()}: {counts}", file=out)
    print(f"  ({' · '.join(headers[3:9])})", file=out)
    errors = sum(f.severity == ERROR for f in result.findings)
    print(
        f"{len(result.findings)} phát hiện ({errors} lỗi) trong trang 'Lỗi dữ liệu' "
        "và trang 'Kiểm tra dữ liệu' của từng xã.",
        file=out,
    )
    print(f"Bảng tổng hợp: {(root / 'master.xlsx').resolve()}", file=out)
    print(f"Bảng tính các xã: {(root / 'communes').resolve()}", file=out)
