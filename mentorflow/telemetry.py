"""The Temporal runtime's telemetry: its Rust core's logs and, optionally, its Prometheus metrics.

Set up once per process by the entry point, after ``configure_logging`` and before the first
Temporal client or worker is made (the runtime is fixed then). Short client commands skip it:
the forwarding thread of the Temporal core can call into Python while the interpreter exits,
which aborts the process.
"""

import logging

from temporalio.runtime import (
    LogForwardingConfig,
    LoggingConfig,
    PrometheusConfig,
    Runtime,
    TelemetryConfig,
    TelemetryFilter,
)


def configure_telemetry(metrics_port: int | None = None) -> None:
    """Route the core's logs through stdlib logging (``temporalio.core``), so they share the
    process's format; with ``metrics_port``, serve the runtime's Prometheus metrics there."""
    forwarded = LoggingConfig(
        filter=TelemetryFilter(core_level="WARN", other_level="ERROR"),
        forwarding=LogForwardingConfig(logger=logging.getLogger("temporalio.core")),
    )
    metrics = None if metrics_port is None else PrometheusConfig(f"0.0.0.0:{metrics_port}")
    Runtime.set_default(
        Runtime(telemetry=TelemetryConfig(logging=forwarded, metrics=metrics)),
        error_if_already_set=False,
    )
