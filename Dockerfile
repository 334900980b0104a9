# The Mentorflow worker (and CLI) image. Build: docker build -t mentorflow .
FROM python:3.11.7-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 \
    MENTORFLOW_LOG_FORMAT=json MENTORFLOW_DATA_DIR=/var/lib/mentorflow

RUN useradd --system --create-home --home-dir /var/lib/mentorflow mentorflow
WORKDIR /app
# The locked versions first (their own layer), each checked against its recorded hashes: a
# rebuilt image runs the same code as the one that recorded the running workflows' histories.
COPY requirements.lock ./
RUN pip install --require-hashes -r requirements.lock
COPY pyproject.toml README.md worker.py ./
COPY domain domain
COPY workflows workflows
COPY activities activities
COPY store store
COPY mentorflow mentorflow
# the participant guide the web app serves (mentorflow/web/guide links to it)
COPY docs/participant.md docs/participant.md
RUN pip install --no-deps . && pip check

USER mentorflow
# Health and readiness (/healthz, /readyz) and Prometheus metrics (/metrics) of our own;
# the Temporal runtime's metrics on MENTORFLOW_TEMPORAL_METRICS_PORT.
EXPOSE 9464 9465
HEALTHCHECK --interval=15s --timeout=3s --start-period=30s --retries=3 \
    CMD python -c "import urllib.request,sys; sys.exit(0 if urllib.request.urlopen('http://127.0.0.1:9464/readyz', timeout=2).status == 200 else 1)"
# SIGTERM (docker stop, scaling down) lets in-flight activities finish (see worker.py).
STOPSIGNAL SIGTERM
CMD ["mentorflow", "worker"]
