"""HTTP to Google in one place: credentials, pacing, retries, timeouts, counting.

The transport is gspread's: :class:`Transport` subclasses
:class:`gspread.http_client.HTTPClient`, so the backend calls gspread's endpoint methods
(``spreadsheets_get``, ``batch_update``, ``values_batch_update``, …) and only Drive calls
that gspread does not offer (a folder listing with ``version``, a download) go through
:meth:`Transport.request` with gspread's own URL constants. Every request runs on a
``requests.Session`` (google-auth's ``AuthorizedSession`` in production, so the
``responses`` library can fake it in tests). Nothing else in namcoso retries.

gspread's own ``BackOffHTTPClient`` is not used: in 6.2.1 it retries without jitter,
ignores ``Retry-After`` and, on a persistent 429, never gives up. Here:

- **Pacer**: at most ``requests_per_minute`` calls in any 60-second window, shared by
  every backend of the same service account in the process (Google's quota is 60 per
  minute per user; a service account is one user).
- **Retries**: 408, 429, 500, 502, 503, 504, and 403 whose reason is a rate limit, with
  truncated exponential backoff and jitter (``min(2**n + random(), 32)`` seconds, or the
  server's ``Retry-After``), at most ``max_attempts`` tries; timeouts and dropped
  connections are retried the same way. Each retry is logged (never the token).
- **Counting**: ``requests`` (every attempt, since each one spends quota), ``reads``
  (GET), ``writes`` (everything else) and ``retries``. The OAuth token request is not
  counted.
"""

from __future__ import annotations

import json
import logging
import random
import threading
import time
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any

import google.auth.exceptions
import requests
from google.oauth2 import service_account
from gspread.exceptions import APIError as GspreadAPIError
from gspread.http_client import HTTPClient, ParamsType
from gspread.urls import DRIVE_FILES_API_V3_URL, SPREADSHEETS_API_V4_BASE_URL

from ..errors import ConfigError

log = logging.getLogger("namcoso.google")

SHEETS_URL = SPREADSHEETS_API_V4_BASE_URL
DRIVE_FILES_URL = DRIVE_FILES_API_V3_URL

#: Sync needs to read and write spreadsheets, to list a folder's files with their
#: ``version``, and to download the .xlsx files communes upload without converting them
#: (:mod:`.google_uploads`). ``drive.readonly`` covers the listing, the download and the
#: doctor's sharing checks, and cannot change any file (``drive.metadata.readonly`` could
#: list but not download). A service account sees only what is shared with it, so this is
#: the folder the district shares. Provisioning new commune sheets (create in the folder,
#: share with the commune) needs ``drive`` (``drive.file`` only covers files the app
#: created, not sheets a district made by hand), so it is not asked for here: pass
#: ``scopes=`` to ``GoogleBackend.from_config`` there.
SCOPES = (
    "https://www.googleapis.com/auth/spreadsheets",
    "https://www.googleapis.com/auth/drive.readonly",
)

RETRYABLE_STATUSES = frozenset({408, 429, 500, 502, 503, 504})
RATE_LIMIT_REASONS = frozenset(
    {"ratelimitexceeded", "userratelimitexceeded", "rate_limit_exceeded"}
)


# -- credentials ------------------------------------------------------------------------


def load_credentials(
    path: Path | None, scopes: tuple[str, ...] = SCOPES
) -> service_account.Credentials:
    """Service-account credentials from a JSON key file.

    Every problem is a :class:`ConfigError` with one Vietnamese line naming the file,
    never its content: the exception is raised outside any ``except`` block so that no
    chained exception (a JSON error keeps the whole document) travels with it.
    """
    if path is None:
        raise ConfigError(
            "Chưa khai báo khóa tài khoản dịch vụ Google: đặt [google] credentials trong "
            "namcoso.toml hoặc biến môi trường GOOGLE_APPLICATION_CREDENTIALS"
        )
    path = Path(path)
    name = path.name
    if not path.is_file():
        raise ConfigError(f"Không tìm thấy tệp khóa tài khoản dịch vụ Google: {path}")
    problem: str | None = None
    info: Any = None
    try:
        info = json.loads(path.read_text(encoding="utf-8"))
    except OSError:
        problem = f"Không đọc được tệp khóa tài khoản dịch vụ {name} (kiểm tra quyền đọc tệp)"
    except ValueError:  # JSONDecodeError, UnicodeDecodeError
        problem = f"Tệp khóa {name} không phải JSON hợp lệ: cần tệp khóa tài khoản dịch vụ (.json)"
    if problem:
        raise ConfigError(problem)
    if not isinstance(info, dict) or info.get("type") != "service_account":
        raise ConfigError(
            f'Tệp {name} không phải khóa tài khoản dịch vụ (cần "type": "service_account"); '
            "tạo khóa JSON cho tài khoản dịch vụ trong Google Cloud Console"
        )
    missing = [k for k in ("client_email", "private_key", "token_uri") if not info.get(k)]
    if missing:
        raise ConfigError(f"Tệp khóa {name} thiếu trường {', '.join(missing)}; tải lại tệp khóa")
    credentials = None
    try:
        credentials = service_account.Credentials.from_service_account_info(info, scopes=scopes)
    except Exception:  # cryptography raises several kinds for a damaged key
        problem = f"Khóa riêng (private_key) trong {name} hỏng hoặc không hợp lệ; tải lại tệp khóa"
    if credentials is None:
        raise ConfigError(problem or f"Tệp khóa {name} không dùng được")
    return credentials


# -- errors -----------------------------------------------------------------------------


@dataclass(eq=False)
class ApiError(GspreadAPIError):
    """A Google API call that failed for good (after any retries).

    ``status`` is the HTTP status (None for a timeout or a dropped connection),
    ``reason`` Google's status or reason (``PERMISSION_DENIED``, ``notFound``,
    ``timeout``…), ``message`` Google's message (never contains the token).

    It is a :class:`gspread.exceptions.APIError` (``code``, ``error``) so that gspread
    code running on this transport still recognises it; unlike gspread's, it also
    exists for failures that have no response (timeouts, dropped connections).
    """

    status: int | None
    reason: str
    message: str
    attempts: int = 1
    retry_after: float | None = None

    def __post_init__(self) -> None:
        self.response = requests.Response()  # the real one is set when there is one
        self.code = self.status or -1
        self.error = {"code": self.code, "message": self.message, "status": self.reason}
        Exception.__init__(self, self.error)

    def __str__(self) -> str:
        return f"{self.status or '-'} {self.reason}: {self.message}"

    def __reduce__(self) -> tuple[Any, ...]:
        return ApiError, (self.status, self.reason, self.message, self.attempts, self.retry_after)

    @property
    def retryable(self) -> bool:
        if self.status is None:
            return self.reason in ("timeout", "network")
        if self.status in RETRYABLE_STATUSES:
            return True
        return self.status == 403 and self.reason.lower() in RATE_LIMIT_REASONS

    @property
    def rate_limited(self) -> bool:
        return self.status == 429 or (
            self.status == 403 and self.reason.lower() in RATE_LIMIT_REASONS
        )


def retry_after_seconds(value: str | None, now: datetime | None = None) -> float | None:
    """``Retry-After`` as seconds: either a number of seconds or an HTTP date."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


def error_from_response(response: requests.Response) -> ApiError:
    """An :class:`ApiError` from a Google error response (Sheets v4 or Drive v3 style).

    Sheets puts the reason in ``error.status`` and ``error.details[].reason``; Drive in
    ``error.errors[].reason``. A rate-limit reason wins, so a 403 quota error is retried.
    """
    reason, message = "", response.reason or ""
    try:
        error = response.json().get("error", {})
    except ValueError:
        error = {}
    if isinstance(error, dict):
        message = str(error.get("message") or message)
        reasons = [str(error.get("status") or "")]
        reasons += [
            str(e.get("reason", "")) for e in error.get("errors", []) if isinstance(e, dict)
        ]
        reasons += [
            str(d.get("reason", "")) for d in error.get("details", []) if isinstance(d, dict)
        ]
        reasons = [r for r in reasons if r]
        limited = [r for r in reasons if r.lower() in RATE_LIMIT_REASONS]
        reason = (limited or reasons or [""])[0]
    error = ApiError(
        status=response.status_code,
        reason=reason or f"HTTP_{response.status_code}",
        message=message[:300],
        retry_after=retry_after_seconds(response.headers.get("Retry-After")),
    )
    error.response = response
    return error


# -- pacing -----------------------------------------------------------------------------


class Pacer:
    """At most ``per_minute`` requests in any ``window`` seconds (a sliding window).

    A plain token bucket of capacity ``per_minute`` could let ``2 × per_minute`` calls
    through in one 60-second window (a full bucket, then a minute of refill), which is
    exactly what trips Google's per-minute quota; remembering the last ``per_minute``
    send times and waiting until the oldest is a window old cannot.
    """

    def __init__(
        self,
        per_minute: int,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
        window: float = 60.0,
    ) -> None:
        if per_minute < 1:
            raise ConfigError("requests_per_minute phải từ 1 trở lên")
        self.per_minute = per_minute
        self.window = window
        self.clock = clock
        self.sleep = sleep
        self.sent: deque[float] = deque()
        self.waited = 0.0
        self._lock = threading.Lock()

    def wait(self) -> float:
        """Block until one more request fits in the window, then count it. Returns the wait."""
        with self._lock:
            now = self.clock()
            while self.sent and self.sent[0] <= now - self.window:
                self.sent.popleft()
            delay = 0.0
            if len(self.sent) >= self.per_minute:
                delay = self.sent[0] + self.window - now
                log.info("Giữ nhịp gọi Google: chờ %.1f giây để không vượt hạn mức", delay)
                self.sleep(delay)
                self.waited += delay
                # A clock that did not move during sleep (tests) must not loop forever.
                now = max(self.clock(), self.sent[0] + self.window)
                self.sent.popleft()
            self.sent.append(now)
            return delay


_PACERS: dict[str, Pacer] = {}
_PACERS_LOCK = threading.Lock()


def shared_pacer(account: str, per_minute: int) -> Pacer:
    """The process-wide pacer of one account (Google's quota is per user, not per client)."""
    with _PACERS_LOCK:
        pacer = _PACERS.get(account)
        if pacer is None or pacer.per_minute != per_minute:
            pacer = _PACERS[account] = Pacer(per_minute)
        return pacer


# -- transport --------------------------------------------------------------------------


class Transport(HTTPClient):
    """gspread's HTTP client with pacing, timeouts, bounded retries and counting.

    ``Transport(auth)`` or ``Transport(session=...)``, as gspread builds its clients, so
    ``gspread.Client(credentials, http_client=Transport)`` also gets these retries.
    """

    def __init__(
        self,
        auth: Any = None,
        session: requests.Session | None = None,
        *,
        pacer: Pacer | None = None,
        sleep: Callable[[float], None] = time.sleep,
        rng: Callable[[], float] = random.random,
        max_attempts: int = 6,
        timeout: float | tuple[float, float] = (10.0, 150.0),
        max_backoff: float = 32.0,
        max_retry_after: float = 120.0,
    ) -> None:
        super().__init__(auth, session)
        self.set_timeout(timeout)
        self.pacer = pacer or Pacer(55)
        self.sleep = sleep
        self.rng = rng
        self.max_attempts = max(1, max_attempts)
        self.max_backoff = max_backoff
        self.max_retry_after = max_retry_after
        self.requests = 0
        self.reads = 0
        self.writes = 0
        self.retries = 0

    def backoff(self, retry: int, retry_after: float | None = None) -> float:
        """Seconds to wait before retry number ``retry`` (0-based)."""
        if retry_after is not None:
            return retry_after
        return min(2.0**retry + self.rng(), self.max_backoff)

    def request(
        self,
        method: str,
        endpoint: str,
        params: ParamsType | None = None,
        data: bytes | None = None,
        json: Mapping[str, Any] | None = None,
        files: Any = None,
        headers: Any = None,
    ) -> requests.Response:
        """One API call, retried while the failure is transient (gspread's signature).

        A JSON body is sent compact and UTF-8 (:func:`encode_json`: what the 2 MB body
        budget measures); a JSON reply is checked to parse. Raises :class:`ApiError`
        when the call fails for good, and :class:`ConfigError` when Google refuses the
        service-account key itself.
        """
        if json is not None:
            data = encode_json(json)
            headers = {**(headers or {}), "Content-Type": "application/json; charset=utf-8"}
        label = f"{method.upper()} {short_url(endpoint)}"
        for attempt in range(1, self.max_attempts + 1):
            self.pacer.wait()
            self.requests += 1
            if method.upper() == "GET":
                self.reads += 1
            else:
                self.writes += 1
            try:
                response = self.session.request(
                    method,
                    endpoint,
                    params=params,
                    data=data,
                    files=files,
                    headers=headers,
                    timeout=self.timeout,
                )
            except google.auth.exceptions.RefreshError as e:
                if not getattr(e, "retryable", False):
                    raise ConfigError(
                        "Google từ chối khóa tài khoản dịch vụ (khóa đã bị xóa, vô hiệu hoặc "
                        "đồng hồ máy sai giờ); tạo khóa mới trong Google Cloud Console",
                        detail=type(e).__name__,
                    ) from None
                error = ApiError(None, "network", "máy chủ cấp quyền của Google tạm lỗi")
            except requests.Timeout:
                error = ApiError(None, "timeout", "hết thời gian chờ Google trả lời")
            except (requests.ConnectionError, google.auth.exceptions.TransportError):
                error = ApiError(None, "network", "không kết nối được tới Google")
            else:
                if response.ok:
                    return checked_json(response)
                error = error_from_response(response)
            error.attempts = attempt
            if not error.retryable or attempt == self.max_attempts:
                raise error
            if error.retry_after is not None and error.retry_after > self.max_retry_after:
                log.warning(
                    "%s: Google yêu cầu chờ %.0f giây, bỏ qua lần này", label, error.retry_after
                )
                raise error
            delay = self.backoff(attempt - 1, error.retry_after)
            log.warning(
                "%s: %s %s, thử lại lần %d/%d sau %.1f giây",
                label,
                error.status or "",
                error.reason,
                attempt + 1,
                self.max_attempts,
                delay,
            )
            self.retries += 1
            self.sleep(delay)
        raise AssertionError("unreachable")  # pragma: no cover

    def get_json(self, endpoint: str, params: ParamsType | None = None) -> dict[str, Any]:
        """A GET whose reply is a JSON object (for the Drive calls gspread lacks)."""
        value = self.request("get", endpoint, params=params).json()
        return value if isinstance(value, dict) else {"value": value}


def encode_json(body: Any) -> bytes:
    """Compact UTF-8 JSON (what is sent, and what the 2 MB body budget measures)."""
    return json.dumps(body, ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode()


def checked_json(response: requests.Response) -> requests.Response:
    """``response``, after checking that a JSON reply parses (gspread's endpoint methods
    call ``.json()`` on it; a damaged reply is an :class:`ApiError`, not a traceback).

    The parsed value is kept, so the reply is parsed once. Media (a download) passes as is.
    """
    if not response.content or "json" not in response.headers.get("Content-Type", ""):
        return response
    try:
        value = response.json()
    except ValueError:
        raise ApiError(
            response.status_code, "bad_response", "Google trả về dữ liệu không đọc được"
        ) from None
    response.json = lambda **_: value  # type: ignore[method-assign]
    return response


def short_url(url: str) -> str:
    """An endpoint for logs: the path after the API root, without the query."""
    path = url.split("?", 1)[0]
    for root in (SHEETS_URL, DRIVE_FILES_URL):
        if path.startswith(root):
            return root.rsplit("/", 1)[-1] + path[len(root) :]
    return path
