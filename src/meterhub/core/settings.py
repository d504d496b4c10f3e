"""Settings from environment variables with the ``METERHUB_`` prefix (one typed class)."""

from __future__ import annotations

from enum import StrEnum
from functools import lru_cache
from pathlib import Path
from typing import Literal

from platformdirs import user_data_dir
from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

# The shipped default: fine for a laptop, refused by `meterhub serve` in production mode.
DEFAULT_SECRET_KEY = "meterhub-insecure-default-secret-change-me"


class Environment(StrEnum):
    """How strict the server is: production refuses default secrets and insecure cookies."""

    PRODUCTION = "production"
    DEVELOPMENT = "development"


def _default_data_dir() -> Path:
    return Path(user_data_dir("meterhub", appauthor=False))


class Settings(BaseSettings):
    """Process-wide settings. Read once at the edge (CLI) and passed down."""

    model_config = SettingsConfigDict(env_prefix="METERHUB_", env_file=None, extra="ignore")

    database_url: str | None = Field(
        default=None,
        description="PostgreSQL URL; unset means an embedded server in data_dir/pg",
    )
    storage: Literal["auto", "timescaledb", "postgres"] = Field(
        default="auto",
        description="storage path of a new database's time series: auto (TimescaleDB hypertables when the "
        "server has the extension, else monthly partitions), timescaledb, or postgres; a migrated "
        "database keeps its path",
    )
    data_dir: Path = Field(default_factory=_default_data_dir)
    max_future_skew_seconds: int = Field(
        default=24 * 3600, description="readings further in the future than this are rejected"
    )
    earliest_reading: str = Field(default="2000-01-01T00:00:00+00:00")
    readings_retention_days: int | None = Field(
        default=None,
        gt=0,
        description="`meterhub db retention` drops raw readings older than this many days, never those the "
        "hourly series or open billing periods still need; unset: readings are kept for ever",
    )
    mqtt_url: str = Field(default="mqtt://127.0.0.1:1883")
    log_level: str = Field(default="INFO")

    # --- HTTP API and resident cabinet (meterhub.api) ---
    env: Environment = Field(
        default=Environment.DEVELOPMENT,
        description="production refuses to start with the default secret key or without Secure cookies",
    )
    secret_key: str = Field(
        default=DEFAULT_SECRET_KEY,
        description="server secret: the HMAC key of account link codes printed on receipts (≥ 32 chars)",
    )
    session_lifetime_seconds: int = Field(
        default=12 * 3600, gt=0, description="a cabinet session cookie expires this long after login [s]"
    )
    token_lifetime_days: int = Field(
        default=90, gt=0, le=3650, description="default lifetime of a bearer token for scripts [days]"
    )
    cookie_secure: bool = Field(
        default=False, description="set the Secure flag on cookies (required in production, behind HTTPS)"
    )
    login_rate_window_seconds: int = Field(
        default=15 * 60, gt=0, description="window in which failed logins are counted [s]"
    )
    login_max_failures_per_user: int = Field(
        default=5, gt=0, description="failed logins of one username per window before 429"
    )
    login_max_failures_per_ip: int = Field(
        default=20, gt=0, description="failed logins from one client address per window before 429"
    )
    link_max_failures_per_user: int = Field(
        default=10, gt=0, description="wrong account link codes of one user per window before 429"
    )
    upload_max_bytes: int = Field(
        default=5 * 1024 * 1024, gt=0, description="largest photo attached to a request (заявка) [bytes]"
    )
    db_pool_max_size: int = Field(default=10, gt=0, description="API database connection pool size")
    auth_cache_seconds: float = Field(
        default=5.0,
        ge=0,
        le=60,
        description="how long a server process reuses an authenticated caller without reading the database "
        "(changes notify every process at once; this bounds a delayed notification; 0: off)",
    )
    # --- API: accounts and sessions, the cabinet's contacts and payments (docs/api.md, docs/cabinet.md)
    trusted_proxies: list[str] = Field(
        default_factory=list,
        description="reverse proxies (addresses or CIDR) whose X-Forwarded-For/-Proto are trusted",
    )
    login_max_failures_per_account: int = Field(
        default=50, gt=0, description="failed logins of one username from unknown clients per window"
    )
    token_max_days_resident: int = Field(default=30, gt=0, le=3650, description="longest resident token")
    token_max_days_engineer: int = Field(default=365, gt=0, le=3650, description="longest engineer token")
    token_max_days_accountant: int = Field(default=90, gt=0, le=3650, description="longest accountant token")
    token_max_days_admin: int = Field(default=7, gt=0, le=3650, description="longest admin token [days]")
    link_code_valid_months: int = Field(
        default=3, gt=0, le=24, description="a receipt's link code works this many months after its period"
    )
    public_url: str = Field(
        default="http://127.0.0.1:8000", description="the cabinet's address as residents reach it (e-mails)"
    )
    smtp_host: str | None = Field(default=None, description="SMTP server for password-recovery e-mails")
    smtp_port: int = Field(default=25, gt=0, lt=65536)
    smtp_username: str | None = Field(default=None)
    smtp_password: str | None = Field(default=None)
    smtp_starttls: bool = Field(default=False, description="STARTTLS before logging in to the SMTP server")
    mail_from: str = Field(default="meterhub@localhost", description="From: of the cabinet's e-mails")
    servicedesk_imap_host: str | None = Field(default=None, description="inbound mailbox of requests")
    servicedesk_imap_port: int = Field(default=993, gt=0, lt=65536)
    servicedesk_imap_ssl: bool = Field(default=True, description="IMAP over TLS; false: plain")
    servicedesk_imap_username: str = Field(default="")
    servicedesk_imap_password: str = Field(default="")
    servicedesk_imap_mailbox: str = Field(default="INBOX")
    servicedesk_sms_webhook_url: str | None = Field(default=None, description="SMS gateway webhook")
    servicedesk_sms_webhook_token: str | None = Field(default=None, description="bearer token of the webhook")
    password_reset_minutes: int = Field(default=60, gt=0, le=1440, description="a reset link's lifetime")
    payment_url: str | None = Field(
        default=None, description="the management company's payment page; {account_no} and {amount} filled in"
    )
    company_name: str = Field(default="", description="управляющая компания, as shown in the cabinet")
    company_phone: str = Field(default="", description="the management company's phone")
    company_email: str = Field(default="", description="the management company's e-mail")
    company_address: str = Field(default="", description="the management company's office and hours")
    emergency_phone: str = Field(default="", description="аварийно-диспетчерская служба, 24 h")
    access_howto_ru: str = Field(
        default="", description="how a resident gets a login (the login page); empty: a default text"
    )


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
