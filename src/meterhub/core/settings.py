"""Settings from environment variables with the ``METERHUB_`` prefix (one typed class)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from platformdirs import user_data_dir
from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


def _default_data_dir() -> Path:
    return Path(user_data_dir("meterhub", appauthor=False))


class Settings(BaseSettings):
    """Process-wide settings. Read once at the edge (CLI) and passed down."""

    model_config = SettingsConfigDict(env_prefix="METERHUB_", env_file=None, extra="ignore")

    database_url: str | None = Field(
        default=None,
        description="PostgreSQL URL; unset means an embedded server in data_dir/pg",
    )
    data_dir: Path = Field(default_factory=_default_data_dir)
    max_future_skew_seconds: int = Field(
        default=24 * 3600, description="readings further in the future than this are rejected"
    )
    earliest_reading: str = Field(default="2000-01-01T00:00:00+00:00")
    mqtt_url: str = Field(default="mqtt://127.0.0.1:1883")
    log_level: str = Field(default="INFO")


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
