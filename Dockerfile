# rdv-monitor, to leave running for weeks: `docker compose up -d` (see README, "Running for weeks").
# The base image carries the browser build of one Playwright release: its tag must be the exact
# `playwright==` pin of pyproject.toml (tests/unit/test_docker_files.py keeps them equal).
FROM mcr.microsoft.com/playwright/python:v1.65.2-noble

ARG UID=10001
ENV PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    RDV_MONITOR_CONFIG=/config/rdv-monitor.yaml \
    RDV_MONITOR_DATA_DIR=/data \
    RDV_MONITOR_HOST=0.0.0.0 \
    RDV_MONITOR_PORT=8080

# An editable install: the Alembic migrations and prefectures/ are found next to the source tree.
WORKDIR /app
COPY pyproject.toml README.md rdv-monitor.example.yaml ./
COPY monitor ./monitor
COPY migrations ./migrations
COPY prefectures ./prefectures
RUN pip install -e . \
    && groupadd --gid "${UID}" rdv \
    && useradd --uid "${UID}" --gid "${UID}" --create-home --shell /usr/sbin/nologin rdv \
    && mkdir -p /data /config \
    && chown "${UID}:${UID}" /data /config

USER ${UID}:${UID}
VOLUME ["/data"]
EXPOSE 8080
# `run` applies pending database migrations before the first check; SIGTERM stops it cleanly.
CMD ["rdv-monitor", "run"]
