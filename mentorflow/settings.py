"""Settings, read once from the environment by an entry point and passed down.

Unset database and Temporal settings mean the embedded stack: a private PostgreSQL under the data
directory, and a Temporal server the command starts itself.
"""

from pathlib import Path
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="MENTORFLOW_", extra="ignore", frozen=True)

    database_url: str | None = None
    """MENTORFLOW_DATABASE_URL: PostgreSQL of the event store; unset = embedded PostgreSQL."""
    temporal_address: str | None = Field(None, validation_alias="TEMPORAL_ADDRESS")
    """TEMPORAL_ADDRESS: host:port of the Temporal frontend; unset = embedded server."""
    temporal_namespace: str = Field("default", validation_alias="TEMPORAL_NAMESPACE")
    """TEMPORAL_NAMESPACE."""
    data_dir: Path = Path(".mentorflow")
    """MENTORFLOW_DATA_DIR: where the embedded stack keeps its files."""
    log_format: Literal["auto", "json", "console"] = "auto"
    """MENTORFLOW_LOG_FORMAT: auto = console on a terminal, JSON otherwise."""
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    """MENTORFLOW_LOG_LEVEL."""
