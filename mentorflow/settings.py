"""Settings, read once from the environment by an entry point and passed down.

An unset database URL means the embedded PostgreSQL under the data directory; ``demo``,
``simulate`` and ``dev`` start their own Temporal server, the other commands connect to
``TEMPORAL_ADDRESS``.
"""

from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from activities.mail.smtp import SmtpConfig
from mentorflow.codec import KEY_FILE, CodecKeys, key_file_keys, parse_keys
from store.sealing import MasterKeys

MASTER_KEY_FILE = "master-keys"
"""Under the data directory: the master keys of sealing when none are configured."""

PLACEHOLDER_SECRET = "changethis"
"""The signing secret's default: accepted in development only."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="MENTORFLOW_", extra="ignore", frozen=True)

    database_url: str | None = None
    """MENTORFLOW_DATABASE_URL: PostgreSQL of the event store; unset = embedded PostgreSQL."""
    temporal_address: str = Field("localhost:7233", validation_alias="TEMPORAL_ADDRESS")
    """TEMPORAL_ADDRESS: host:port of the Temporal frontend the worker, the web app and the
    programme commands connect to (``demo``, ``simulate`` and ``dev`` start their own server)."""
    temporal_namespace: str = Field("default", validation_alias="TEMPORAL_NAMESPACE")
    """TEMPORAL_NAMESPACE."""
    data_dir: Path = Path(".mentorflow")
    """MENTORFLOW_DATA_DIR: where the embedded stack keeps its files."""
    log_format: Literal["auto", "json", "console"] = "auto"
    """MENTORFLOW_LOG_FORMAT: auto = console on a terminal, JSON otherwise."""
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    """MENTORFLOW_LOG_LEVEL."""
    smtp_host: str | None = None
    """MENTORFLOW_SMTP_HOST: the SMTP relay; unset = the embedded Maildir server (DATA_DIR/mail)."""
    smtp_port: int = 587
    """MENTORFLOW_SMTP_PORT."""
    smtp_starttls: bool = True
    """MENTORFLOW_SMTP_STARTTLS: upgrade the connection with STARTTLS before authenticating."""
    smtp_username: str | None = None
    """MENTORFLOW_SMTP_USERNAME: unset = no authentication."""
    smtp_password: SecretStr | None = None
    """MENTORFLOW_SMTP_PASSWORD."""
    smtp_timeout: float = Field(default=30.0, gt=0)
    """MENTORFLOW_SMTP_TIMEOUT: seconds the sending of one message to the relay may take, all its
    commands together. A worker that died mid-send holds its claim on the message twice as long;
    then another sends it again."""
    mail_sender: str = "Mentorflow <mentorflow@localhost>"
    """MENTORFLOW_MAIL_SENDER: the From of every message; Message-IDs use its domain."""
    mail_retry_hours: float = Field(48.0, gt=0)
    """MENTORFLOW_MAIL_RETRY_HOURS: how long a delivery is retried before it is given up."""

    audit_key_fingerprint: str | None = None
    """MENTORFLOW_AUDIT_KEY_FINGERPRINT: the checkpoint key auditors trust (``SHA256:...``)."""
    migrate: bool = True
    """MENTORFLOW_MIGRATE: apply migrations at start; false for a worker that is not the owner."""
    health_port: int | None = None
    """MENTORFLOW_HEALTH_PORT: the worker serves /healthz, /readyz and /metrics; unset = no."""
    temporal_metrics_port: int | None = None
    """MENTORFLOW_TEMPORAL_METRICS_PORT: the Temporal runtime's Prometheus metrics; unset = off."""
    shutdown_grace_seconds: float = 30.0
    """MENTORFLOW_SHUTDOWN_GRACE_SECONDS: after SIGTERM, in-flight activities get this long."""

    environment: Literal["development", "production"] = "development"
    """MENTORFLOW_ENVIRONMENT: production refuses the placeholder signing secret."""
    secret_key: SecretStr = SecretStr(PLACEHOLDER_SECRET)
    """MENTORFLOW_SECRET_KEY: signs personal links and web sessions (worker and web alike)."""
    public_url: str = "http://127.0.0.1:8000"
    """MENTORFLOW_PUBLIC_URL: the web app's address as people reach it, the base of e-mail links."""
    web_host: str = "127.0.0.1"
    """MENTORFLOW_WEB_HOST: the address `mentorflow web` listens on."""
    web_port: int = 8000
    """MENTORFLOW_WEB_PORT: the port `mentorflow web` listens on."""
    web_workers: int = Field(1, ge=1, le=64)
    """MENTORFLOW_WEB_WORKERS: processes of `mentorflow web` (one per core serves the most)."""

    oidc_issuer: str | None = None
    """MENTORFLOW_OIDC_ISSUER: the OpenID Connect provider staff may sign in with; unset = none."""
    oidc_client_id: str | None = None
    """MENTORFLOW_OIDC_CLIENT_ID: the web app's client id at that provider."""
    oidc_client_secret: SecretStr | None = None
    """MENTORFLOW_OIDC_CLIENT_SECRET: the web app's client secret at that provider."""

    @model_validator(mode="after")
    def _oidc_all_or_nothing(self) -> "Settings":
        given = (self.oidc_issuer, self.oidc_client_id, self.oidc_client_secret)
        if any(v is not None for v in given) and any(v is None for v in given):
            raise ValueError(
                "MENTORFLOW_OIDC_ISSUER, MENTORFLOW_OIDC_CLIENT_ID and"
                " MENTORFLOW_OIDC_CLIENT_SECRET go together: set all three or none"
            )
        return self

    @model_validator(mode="after")
    def _refuse_placeholder_secret(self) -> "Settings":
        if self.secret_key.get_secret_value() != PLACEHOLDER_SECRET:
            return self
        if self.environment != "development":
            raise ValueError("MENTORFLOW_SECRET_KEY is the placeholder: set a long random secret")
        return self

    codec_keys: SecretStr | None = None
    """MENTORFLOW_CODEC_KEYS: Temporal payload keys, ``id:base64key,...`` (AES-256: 32 bytes);
    unset = the key file DATA_DIR/codec-keys, created on first use."""
    codec_key_id: str | None = None
    """MENTORFLOW_CODEC_KEY_ID: the key that encrypts; may be unset when there is only one."""

    def codec(self) -> CodecKeys:
        """The payload codec's keys: configured, or the data directory's key file."""
        if self.codec_keys is not None:
            return parse_keys(self.codec_keys.get_secret_value(), self.codec_key_id)
        return key_file_keys(self.data_dir / KEY_FILE, self.codec_key_id)

    master_keys: SecretStr | None = None
    """MENTORFLOW_MASTER_KEYS: master keys that wrap people's data keys, ``id:base64key,...``;
    unset = the key file DATA_DIR/master-keys, created on first use."""
    master_key_id: str | None = None
    """MENTORFLOW_MASTER_KEY_ID: the master key that wraps new data keys; unset when only one."""

    def master(self) -> MasterKeys:
        """The master keys of sealing: configured, or the data directory's key file."""
        named = {"what": "master key", "setting": "MENTORFLOW_MASTER_KEY_ID"}
        if self.master_keys is not None:
            keys = parse_keys(self.master_keys.get_secret_value(), self.master_key_id, **named)
        else:
            keys = key_file_keys(self.data_dir / MASTER_KEY_FILE, self.master_key_id, **named)
        return MasterKeys(keys.keys, keys.current)

    def smtp(self) -> "SmtpConfig | None":
        """The configured relay, or None for the embedded server."""
        if self.smtp_host is None:
            return None
        return SmtpConfig(
            host=self.smtp_host,
            port=self.smtp_port,
            starttls=self.smtp_starttls,
            username=self.smtp_username,
            password=self.smtp_password.get_secret_value() if self.smtp_password else None,
            sender=self.mail_sender,
            timeout=self.smtp_timeout,
        )
