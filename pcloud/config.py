"""Settings from the environment (PCLOUD_*, DATABASE_URL) with defaults that run on one machine."""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import Any


def instance_dir() -> Path:
    """PCLOUD_INSTANCE_DIR, else ./instance; read when an app is made, never at import."""
    return Path(os.environ.get("PCLOUD_INSTANCE_DIR") or Path.cwd() / "instance").resolve()


def _int(name: str, default: int) -> int:
    return int(os.environ.get(name, default))


def _secret_key(instance: Path) -> str:
    """PCLOUD_SECRET_KEY, else a key generated once and kept in instance/ so restarts keep sessions."""
    if os.environ.get("PCLOUD_SECRET_KEY"):
        return os.environ["PCLOUD_SECRET_KEY"]
    instance.mkdir(mode=0o700, parents=True, exist_ok=True)
    path = instance / "secret_key"
    if not path.exists():
        # O_EXCL: two processes starting together agree on one key
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w") as fh:
                fh.write(secrets.token_hex(32))
        except FileExistsError:
            pass
    return path.read_text().strip()


def normalise_database_url(url: str) -> str:
    """Accept postgres:// and postgresql:// and use the psycopg 3 driver for both."""
    if url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://"):]
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://"):]
    return url


def load_config(overrides: dict[str, Any] | None = None) -> dict[str, Any]:
    instance = instance_dir()
    db_url = os.environ.get("DATABASE_URL") or f"sqlite:///{instance / 'pcloud.db'}"
    cfg: dict[str, Any] = {
        "SQLALCHEMY_DATABASE_URI": normalise_database_url(db_url),
        # hide_parameters: a failed statement's values (password and token hashes) never reach the log.
        # No pool_pre_ping (a round trip on every request): core.database pings only a connection that sat
        # idle longer than PCLOUD_DB_PING_IDLE_SECONDS, and the principal lookup retries a dropped one.
        "SQLALCHEMY_ENGINE_OPTIONS": {"hide_parameters": True},
        "PCLOUD_DB_PING_IDLE_SECONDS": _int("PCLOUD_DB_PING_IDLE_SECONDS", 10),
        "PCLOUD_TIMEZONE": os.environ.get("PCLOUD_TIMEZONE", "Asia/Shanghai"),
        # the language of a request with no `lang` cookie and no English in Accept-Language, and of what the
        # worker and the CLI write: zh (简体中文) or en
        "PCLOUD_DEFAULT_LANGUAGE": os.environ.get("PCLOUD_DEFAULT_LANGUAGE", "zh"),
        # sign-in
        "PCLOUD_TOKEN_TTL": _int("PCLOUD_TOKEN_TTL", 12 * 3600),
        "PCLOUD_WEB_SESSION_TTL": _int("PCLOUD_WEB_SESSION_TTL", 12 * 3600),
        "PCLOUD_LOGIN_MAX_FAILURES": _int("PCLOUD_LOGIN_MAX_FAILURES", 5),
        "PCLOUD_LOGIN_WINDOW_MINUTES": _int("PCLOUD_LOGIN_WINDOW_MINUTES", 15),
        "PCLOUD_LOGIN_LOCK_MINUTES": _int("PCLOUD_LOGIN_LOCK_MINUTES", 15),
        # failed sign-ins (any phone) from one client address within the window before it is locked too
        "PCLOUD_LOGIN_MAX_IP_FAILURES": _int("PCLOUD_LOGIN_MAX_IP_FAILURES", 20),
        # reverse proxies in front of the app whose X-Forwarded-For is trusted (0: use the socket's address)
        "PCLOUD_SMS_TTL_SECONDS": _int("PCLOUD_SMS_TTL_SECONDS", 300),
        "PCLOUD_SMS_COOLDOWN_SECONDS": _int("PCLOUD_SMS_COOLDOWN_SECONDS", 60),
        "PCLOUD_SMS_MAX_PER_ADDRESS": _int("PCLOUD_SMS_MAX_PER_ADDRESS", 20),
        "PCLOUD_SMS_MAX_ATTEMPTS": _int("PCLOUD_SMS_MAX_ATTEMPTS", 5),
        "PCLOUD_SMS_SENDER": os.environ.get("PCLOUD_SMS_SENDER", "pcloud.auth.sms:LogSmsSender"),
        "PCLOUD_PHONE_PATTERN": os.environ.get("PCLOUD_PHONE_PATTERN", r"^1[3-9]\d{9}$"),
        "PCLOUD_BCRYPT_ROUNDS": _int("PCLOUD_BCRYPT_ROUNDS", 12),
        # the egress rule of every outbound HTTP call (httpJobHandler, alarm webhook; pcloud/core/egress.py):
        # comma-separated hosts, "*.example.com", "*", addresses or networks, each with an optional ":port"
        "PCLOUD_JOB_HTTP_ALLOWED_HOSTS": os.environ.get("PCLOUD_JOB_HTTP_ALLOWED_HOSTS", ""),
        # the run log is kept at least this many days: jobLogCleanHandler never deletes younger runs
        "PCLOUD_JOB_LOG_RETENTION_DAYS": _int("PCLOUD_JOB_LOG_RETENTION_DAYS", 30),
        # how long a SQLite write waits for another writer before the request answers 503
        "PCLOUD_SQLITE_BUSY_TIMEOUT_MS": _int("PCLOUD_SQLITE_BUSY_TIMEOUT_MS", 10000),
        # operation log: rows older than this many days are deleted by `pcloud clean-action-log` and
        # the worker's maintenance job; the client IP comes from X-Forwarded-For only when the request
        # arrives from one of these proxies (comma-separated addresses or networks, e.g. 10.0.0.0/8)
        "PCLOUD_ACTION_LOG_RETENTION_DAYS": _int("PCLOUD_ACTION_LOG_RETENTION_DAYS", 180),
        "PCLOUD_TRUSTED_PROXIES": os.environ.get("PCLOUD_TRUSTED_PROXIES", ""),
        # pages
        "SESSION_COOKIE_HTTPONLY": True,
        # Behind TLS (the deployment's reverse proxy) set PCLOUD_SECURE_COOKIES=1.
        "SESSION_COOKIE_SECURE": os.environ.get("PCLOUD_SECURE_COOKIES", "") in ("1", "true", "yes"),
        "SESSION_COOKIE_SAMESITE": "Lax",
        "REMEMBER_COOKIE_HTTPONLY": True,
        "BOOTSTRAP_SERVE_LOCAL": True,
        "WTF_CSRF_TIME_LIMIT": None,
        "MAX_CONTENT_LENGTH": 2 * 1024 * 1024,
        "PCLOUD_EXPORT_MAX_ROWS": _int("PCLOUD_EXPORT_MAX_ROWS", 200_000),  # "export all" refuses beyond this
        "PCLOUD_EXPORT_SLOTS": _int("PCLOUD_EXPORT_SLOTS", 1),  # exports written at once, all hosts together
        # user import (users.imports): the largest file accepted (a 100,000-row file is ~4 MB), and how many of
        # its errors the answer lists (all are counted)
        "PCLOUD_IMPORT_MAX_BYTES": _int("PCLOUD_IMPORT_MAX_BYTES", 20 * 1024 * 1024),
        "PCLOUD_IMPORT_ERROR_LIST_MAX": _int("PCLOUD_IMPORT_ERROR_LIST_MAX", 1000),
        # typed 初始密码 per file: each is hashed at PCLOUD_BCRYPT_ROUNDS (~0.25 s at 12, spread over the cores)
        "PCLOUD_IMPORT_MAX_TYPED_PASSWORDS": _int("PCLOUD_IMPORT_MAX_TYPED_PASSWORDS", 500),
        # OpenAPI (flask-smorest); Swagger UI assets come from the swagger-ui-bundle package
        "API_TITLE": "PCloud API",
        "API_VERSION": "1.0",
        "OPENAPI_VERSION": "3.0.3",
        "OPENAPI_URL_PREFIX": "/api",
        "OPENAPI_JSON_PATH": "openapi.json",
        "OPENAPI_SWAGGER_UI_PATH": "docs",
        "OPENAPI_SWAGGER_UI_URL": "/api/docs/assets/",
    }
    # Clients of the original PCloud (API.md): `body` answers refusals with HTTP 200 and code 401/403/1000/3000.
    cfg["PCLOUD_API_ERRORS"] = os.environ.get("PCLOUD_API_ERRORS", "http").strip().lower() or "http"
    # Uploads live in the database; earlier versions kept them here, and `pcloud init` imports what it finds.
    cfg["PCLOUD_UPLOAD_DIR"] = os.environ.get("PCLOUD_UPLOAD_DIR") or str(instance / "uploads")
    cfg["PCLOUD_COMPANY_NAME"] = os.environ.get("PCLOUD_COMPANY_NAME", "公司")
    cfg["PCLOUD_INSTANCE_DIR"] = str(instance)
    # run-time parameters (pcloud/params): defaults an administrator may change on the 参数设置 page, unless
    # the environment sets them
    cfg["PCLOUD_PASSWORD_MIN_LENGTH"] = _int("PCLOUD_PASSWORD_MIN_LENGTH", 8)
    cfg["PCLOUD_PASSWORD_CLASSES"] = os.environ.get("PCLOUD_PASSWORD_CLASSES", "letter,digit")
    # the login log kept as long as the operation log unless set apart (it followed that setting before)
    cfg["PCLOUD_LOGIN_LOG_RETENTION_DAYS"] = _int("PCLOUD_LOGIN_LOG_RETENTION_DAYS",
                                                  cfg["PCLOUD_ACTION_LOG_RETENTION_DAYS"])
    cfg["PCLOUD_FORCE_PASSWORD_CHANGE"] = os.environ.get("PCLOUD_FORCE_PASSWORD_CHANGE", "") in ("1", "true", "yes")
    if overrides:
        cfg.update(overrides)
    # What the deployment set itself (environment or the factory's argument): such a parameter is read-only.
    cfg["PCLOUD_SET_BY_ENVIRONMENT"] = frozenset(
        {name for name in os.environ if name.startswith("PCLOUD_")} | set(overrides or ()))
    if "SECRET_KEY" not in cfg:
        cfg["SECRET_KEY"] = _secret_key(instance)
    cfg["SQLALCHEMY_DATABASE_URI"] = normalise_database_url(cfg["SQLALCHEMY_DATABASE_URI"])
    if cfg["PCLOUD_API_ERRORS"] not in ("http", "body"):
        raise ValueError(f"PCLOUD_API_ERRORS must be http or body, not {cfg['PCLOUD_API_ERRORS']!r}")
    if cfg["PCLOUD_DEFAULT_LANGUAGE"] not in ("zh", "en"):
        raise ValueError(f"PCLOUD_DEFAULT_LANGUAGE must be zh or en, not {cfg['PCLOUD_DEFAULT_LANGUAGE']!r}")
    return cfg
