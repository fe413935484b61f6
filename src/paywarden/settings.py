"""Settings: one object, built once at start-up from ``PAYWARDEN_*`` variables."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="PAYWARDEN_", extra="ignore", frozen=True)

    data_dir: Path = Field(default=Path("var"), description="Where the SQLite file and keys live")
    database_url: str | None = Field(
        default=None, description="SQLAlchemy URL; default: SQLite in data_dir"
    )
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=1, le=65_535)
    log_level: str = "info"
    log_json: bool | None = Field(default=None, description="JSON logs; default: when not a TTY")
    ledger_queue_depth_max: int = Field(default=1_024, ge=1, le=1_000_000)
    ledger_expiry_interval_s: float = Field(default=1.0, gt=0, le=60)
    request_body_bytes_max: int = Field(default=8 * 1024 * 1024, ge=1024)

    @property
    def database(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'paywarden.db').resolve()}"
