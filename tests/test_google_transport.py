"""The Google transport: retries, backoff, Retry-After, timeouts, pacing, credentials."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime
from pathlib import Path

import pytest
import requests
from google_fake import (
    CLIENT_EMAIL,
    RATE_LIMIT_403,
    USER_RATE_LIMIT_403,
    FakeClock,
    build_world,
    make_backend,
    service_account_info,
    write_key_file,
)

from sync.backends.google import GoogleBackend
from sync.backends.google_transport import (
    ApiError,
    Pacer,
    error_from_response,
    load_credentials,
    retry_after_seconds,
    shared_pacer,
)
from sync.config import Config, GoogleSettings
from sync.errors import ConfigError, MasterUnavailable, SourceUnavailable


@pytest.fixture
def world(fake):
    return build_world(fake, 2)


def backoff_sleeps(backend) -> list[float]:
    return backend.clock.sleeps


# -- retries ------------------------------------------------------------------------------


@pytest.mark.parametrize("k", [1, 2, 3, 4, 5])
def test_429_k_times_then_success_is_retried_with_bounded_jittered_backoff(fake, world, k):
    sheet = world.communes[0]
    fake.inject(429, times=k, target=sheet, method="get")
    backend = make_backend(fake, world.master, world.folder)

    tabs = backend.read_commune(sheet)

    assert "Sinh hoạt chi bộ" in tabs
    assert backend.retries == k
    assert backend.reads == k + 1 and fake.reads[sheet] == k + 1
    sleeps = backoff_sleeps(backend)
    assert len(sleeps) == k
    for n, slept in enumerate(sleeps):
        assert 2**n <= slept <= min(2**n + 1, 32)  # min(2^n + random, 32 s)


def test_jitter_differs_between_retries_and_is_capped_at_32_seconds(fake, world):
    backend = make_backend(fake, world.master, world.folder, rng=lambda: 0.999, max_attempts=8)
    fake.inject(503, times=7, target=world.master)
    backend.read_registry()
    assert backend.clock.sleeps == pytest.approx([1.999, 2.999, 4.999, 8.999, 16.999, 32, 32])


def test_retry_after_header_is_honoured(fake, world):
    fake.inject(429, times=2, target=world.master, headers={"Retry-After": "7"})
    backend = make_backend(fake, world.master, world.folder)
    backend.read_registry()
    assert backend.clock.sleeps == [7.0, 7.0]


def test_a_very_long_retry_after_gives_up_at_once(fake, world):
    fake.inject(429, times=1, target=world.master, headers={"Retry-After": "3600"})
    backend = make_backend(fake, world.master, world.folder)
    with pytest.raises(MasterUnavailable):
        backend.read_registry()
    assert backend.requests == 1 and backend.clock.sleeps == []


def test_persistent_429_gives_up_after_the_bound(fake, world):
    sheet = world.communes[0]
    fake.inject(429, times=100, target=sheet)
    backend = make_backend(fake, world.master, world.folder)
    with pytest.raises(SourceUnavailable) as caught:
        backend.read_commune(sheet)
    assert "hạn mức" in caught.value.message and "6 lần" in caught.value.message
    assert fake.reads[sheet] == 6 and backend.retries == 5
    assert len(backend.clock.sleeps) == 5


def test_persistent_429_on_the_master_is_master_unavailable(fake, world):
    fake.inject(429, times=100, target=world.master)
    backend = make_backend(fake, world.master, world.folder, max_attempts=3)
    with pytest.raises(MasterUnavailable):
        backend.read_registry()
    assert fake.reads[world.master] == 3


@pytest.mark.parametrize("body", [RATE_LIMIT_403, USER_RATE_LIMIT_403])
def test_403_rate_limit_is_retried(fake, world, body):
    sheet = world.communes[1]
    fake.inject(403, body=body, times=2, target=sheet)
    backend = make_backend(fake, world.master, world.folder)
    assert backend.read_commune(sheet)
    assert backend.retries == 2


def test_drive_user_rate_limit_on_listing_is_retried(fake, world):
    fake.inject(403, body=USER_RATE_LIMIT_403, times=1, method="files.list")
    backend = make_backend(fake, world.master, world.folder)
    assert len(backend.fingerprints(world.communes)) == 2
    assert backend.retries == 1


def test_403_permission_denied_is_not_retried(fake, world):
    sheet = world.communes[0]
    fake.spreadsheets[sheet].shared = False
    backend = make_backend(fake, world.master, world.folder)
    with pytest.raises(SourceUnavailable) as caught:
        backend.read_commune(sheet)
    assert "chưa chia sẻ cho tài khoản đồng bộ" in caught.value.message
    assert CLIENT_EMAIL in caught.value.message
    assert backend.requests == 1 and backend.retries == 0 and backend.clock.sleeps == []


@pytest.mark.parametrize("status", [408, 500, 502, 503, 504])
def test_server_errors_are_retried(fake, world, status):
    fake.inject(status, times=2, target=world.master)
    backend = make_backend(fake, world.master, world.folder)
    assert backend.read_registry()
    assert backend.retries == 2


@pytest.mark.parametrize(
    "error",
    [
        requests.exceptions.ReadTimeout("read timed out"),
        requests.exceptions.ConnectTimeout("connect timed out"),
        requests.exceptions.ConnectionError("connection reset"),
    ],
)
def test_timeouts_and_dropped_connections_are_retried(fake, world, error):
    sheet = world.communes[0]
    fake.inject(exception=error, times=3, target=sheet)
    backend = make_backend(fake, world.master, world.folder)
    assert backend.read_commune(sheet)
    assert backend.retries == 3


def test_persistent_timeouts_give_up(fake, world):
    sheet = world.communes[0]
    fake.inject(exception=requests.exceptions.ReadTimeout("slow"), times=100, target=sheet)
    backend = make_backend(fake, world.master, world.folder)
    with pytest.raises(SourceUnavailable) as caught:
        backend.read_commune(sheet)
    assert "hết thời gian" in caught.value.message
    assert backend.requests == 6


def test_every_request_carries_a_timeout(fake, world):
    backend = make_backend(fake, world.master, world.folder)
    seen = []
    original = backend.transport.session.request

    def spy(method, url, **kwargs):
        seen.append(kwargs.get("timeout"))
        return original(method, url, **kwargs)

    backend.transport.session.request = spy
    backend.read_registry()
    backend.fingerprints(world.communes)
    assert seen and all(t is not None for t in seen)


def test_retries_are_logged_without_the_token(fake, world, caplog):
    fake.inject(429, times=2, target=world.master)
    backend = make_backend(fake, world.master, world.folder)
    with caplog.at_level(logging.DEBUG):
        backend.read_registry()
    retry_lines = [r.getMessage() for r in caplog.records if "thử lại" in r.getMessage()]
    assert len(retry_lines) == 2
    assert "ya29" not in caplog.text and "Bearer" not in caplog.text


def test_the_token_request_is_not_counted(fake, world):
    backend = make_backend(fake, world.master, world.folder)
    backend.read_registry()
    assert fake.token_requests == 1
    assert backend.requests == backend.reads == 1 and backend.writes == 0


def test_a_rejected_key_is_a_config_error(fake, world):
    fake.reject_tokens = True
    backend = make_backend(fake, world.master, world.folder)
    with pytest.raises(ConfigError) as caught:
        backend.read_registry()
    assert "khóa" in caught.value.message


# -- error parsing ------------------------------------------------------------------------


def _response(status: int, body: dict, headers: dict | None = None) -> requests.Response:
    response = requests.Response()
    response.status_code = status
    response._content = json.dumps(body).encode()
    response.headers.update(headers or {})
    return response


def test_error_bodies_of_sheets_and_drive_are_understood():
    from google_fake import NOT_FOUND, PERMISSION_DENIED, RESOURCE_EXHAUSTED

    assert error_from_response(_response(404, NOT_FOUND)).reason == "NOT_FOUND"
    denied = error_from_response(_response(403, PERMISSION_DENIED))
    assert denied.reason == "PERMISSION_DENIED" and not denied.retryable
    limited = error_from_response(_response(429, RESOURCE_EXHAUSTED))
    assert limited.retryable and limited.rate_limited
    drive = error_from_response(_response(403, USER_RATE_LIMIT_403))
    assert drive.reason == "userRateLimitExceeded" and drive.retryable


def test_retry_after_accepts_seconds_and_http_dates():
    now = datetime(2024, 1, 1, 0, 0, 0, tzinfo=UTC)
    assert retry_after_seconds("12") == 12
    assert retry_after_seconds("Mon, 01 Jan 2024 00:00:30 GMT", now) == 30
    assert retry_after_seconds("garbage") is None
    assert retry_after_seconds(None) is None


def test_api_error_says_which_failures_are_transient():
    assert ApiError(None, "timeout", "").retryable
    assert ApiError(429, "RESOURCE_EXHAUSTED", "").retryable
    assert ApiError(403, "rateLimitExceeded", "").retryable
    assert not ApiError(403, "PERMISSION_DENIED", "").retryable
    assert not ApiError(404, "NOT_FOUND", "").retryable
    assert not ApiError(400, "INVALID_ARGUMENT", "").retryable


# -- pacing -------------------------------------------------------------------------------


def _max_in_any_window(times: list[float], window: float = 60.0) -> int:
    return max(sum(1 for u in times if t <= u < t + window) for t in times)


def test_pacer_keeps_any_60_second_window_under_the_limit():
    clock = FakeClock()
    pacer = Pacer(55, clock=clock, sleep=clock.sleep)
    times = []
    for i in range(400):
        pacer.wait()
        times.append(clock())
        clock.now += 0.05 if i % 7 else 3.0  # bursts with pauses
    assert _max_in_any_window(times) <= 55
    assert pacer.waited > 0


def test_pacer_does_not_wait_under_the_limit():
    clock = FakeClock()
    pacer = Pacer(55, clock=clock, sleep=clock.sleep)
    for _ in range(55):
        assert pacer.wait() == 0
    assert clock.sleeps == []
    assert pacer.wait() > 0


def test_backend_requests_are_paced_per_minute(fake, world):
    backend = make_backend(fake, world.master, world.folder, requests_per_minute=5)
    clock = backend.clock
    times = []
    original = backend.transport.session.request

    def timed(method, url, **kwargs):
        times.append(clock())
        return original(method, url, **kwargs)

    backend.transport.session.request = timed
    for _ in range(6):
        for sheet in world.communes:
            backend.read_commune(sheet)
    assert len(times) == 12
    assert _max_in_any_window(times) <= 5
    assert sum(clock.sleeps) >= 60


def test_pacer_is_shared_by_backends_of_one_account():
    assert shared_pacer("a@example.iam", 55) is shared_pacer("a@example.iam", 55)
    assert shared_pacer("a@example.iam", 55) is not shared_pacer("b@example.iam", 55)


# -- credentials --------------------------------------------------------------------------

SECRET = "MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQDSECRETSECRET"


def _assert_clean(error: ConfigError, caplog) -> None:
    text = f"{error} {error!r} {error.message} {error.detail}"
    assert SECRET not in text and "PRIVATE KEY" not in text
    assert error.__cause__ is None and error.__context__ is None
    assert SECRET not in caplog.text
    assert "\n" not in error.message


def test_missing_credentials_setting_is_a_config_error():
    with pytest.raises(ConfigError) as caught:
        load_credentials(None)
    assert "GOOGLE_APPLICATION_CREDENTIALS" in caught.value.message


def test_missing_key_file_is_a_config_error(tmp_path):
    with pytest.raises(ConfigError) as caught:
        load_credentials(tmp_path / "khong-co.json")
    assert "Không tìm thấy tệp khóa" in caught.value.message


@pytest.mark.parametrize(
    "content",
    [
        f"not json at all {SECRET}",
        json.dumps({"installed": {"client_secret": SECRET}}),
        json.dumps({"type": "service_account", "private_key": SECRET}),
        json.dumps(
            {
                **service_account_info(),
                "private_key": f"-----BEGIN PRIVATE KEY-----\n{SECRET}\n-----END PRIVATE KEY-----",
            }
        ),
        b"\xff\xfe" + SECRET.encode(),
    ],
    ids=["not-json", "oauth-client", "missing-fields", "damaged-key", "not-utf8"],
)
def test_invalid_key_file_is_a_config_error_without_key_material(tmp_path, caplog, content):
    path = tmp_path / "service-account.json"
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")
    with caplog.at_level(logging.DEBUG), pytest.raises(ConfigError) as caught:
        load_credentials(path)
    _assert_clean(caught.value, caplog)
    assert path.name in caught.value.message


def test_unreadable_key_file_is_a_config_error(tmp_path, caplog):
    path = tmp_path / "service-account.json"
    path.mkdir()  # a folder where the file should be
    with pytest.raises(ConfigError):
        load_credentials(path)


def test_valid_key_file_gives_the_service_account(tmp_path):
    credentials = load_credentials(write_key_file(tmp_path))
    assert credentials.service_account_email == CLIENT_EMAIL
    assert "https://www.googleapis.com/auth/spreadsheets" in credentials.scopes
    assert not any(s.endswith("/auth/drive") for s in credentials.scopes)


def test_from_config_builds_a_backend_from_the_key_file(tmp_path, fake, world):
    config = Config(
        root=tmp_path,
        backend="google",
        google=GoogleSettings(
            credentials=write_key_file(tmp_path), master=world.master, folder=world.folder
        ),
    )
    backend = GoogleBackend.from_config(config, clock=FakeClock())
    assert backend.client_email == CLIENT_EMAIL
    assert "Danh mục xã" in backend.read_registry()


def test_from_config_without_master_is_a_config_error(tmp_path):
    config = Config(root=tmp_path, backend="google", google=GoogleSettings(credentials=Path("x")))
    with pytest.raises(ConfigError):
        GoogleBackend.from_config(config)


# -- gspread's HTTP client ------------------------------------------------------------------


def _gspread_client(fake, clock, **kwargs):
    import functools

    import gspread
    from google.oauth2 import service_account

    from sync.backends.google_transport import SCOPES, Transport

    credentials = service_account.Credentials.from_service_account_info(
        service_account_info(), scopes=SCOPES
    )
    pacer = Pacer(55, clock=clock, sleep=clock.sleep)
    transport = functools.partial(Transport, pacer=pacer, sleep=clock.sleep, **kwargs)
    return gspread.Client(credentials, http_client=transport)


def test_the_transport_is_a_gspread_http_client_that_gspread_itself_can_use(fake, world):
    from gspread.http_client import HTTPClient

    clock = FakeClock()
    client = _gspread_client(fake, clock)
    assert isinstance(client.http_client, HTTPClient)
    fake.inject(429, times=2, target=world.communes[0], method="get")
    values = client.open_by_key(world.communes[0]).worksheet("Sinh hoạt chi bộ").get_all_values()
    assert values[1][0] == "Ấp 0-1"
    assert client.http_client.retries == 2 and len(clock.sleeps) == 2


def test_gspread_on_this_transport_gives_up_on_a_persistent_429(fake, world):
    import gspread

    clock = FakeClock()
    client = _gspread_client(fake, clock, max_attempts=4)
    fake.inject(429, times=100, target=world.communes[0])
    with pytest.raises(gspread.exceptions.APIError) as caught:
        client.open_by_key(world.communes[0])
    assert caught.value.code == 429 and isinstance(caught.value, ApiError)
    assert fake.reads[world.communes[0]] == 4 and len(clock.sleeps) == 3


def test_a_damaged_json_reply_is_an_api_error_not_a_traceback(fake, world):
    backend = make_backend(fake, world.master, world.folder)
    original = backend.transport.session.request

    def damaged(method, url, **kwargs):
        response = original(method, url, **kwargs)
        response._content = b'{"sheets": [ truncated'
        return response

    backend.transport.session.request = damaged
    with pytest.raises(MasterUnavailable):
        backend.read_registry()
    assert backend.requests == 1


def test_json_bodies_are_sent_compact_utf8_as_the_body_budget_measures(fake, world):
    backend = make_backend(fake, world.master, world.folder)
    sent = []
    original = backend.transport.session.request

    def spy(method, url, **kwargs):
        sent.append(kwargs.get("data"))
        return original(method, url, **kwargs)

    backend.transport.session.request = spy
    title = {"properties": {"sheetId": 0, "title": "Ấp 1"}, "fields": "title"}
    body = {"requests": [{"updateSheetProperties": title}]}
    backend.transport.batch_update(world.communes[0], body)
    assert sent == [
        '{"requests":[{"updateSheetProperties":{"properties":{"sheetId":0,"title":"Ấp 1"},'
        '"fields":"title"}}]}'.encode()
    ]
    assert fake.spreadsheets[world.communes[0]].tabs[0].title == "Ấp 1"
