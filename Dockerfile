# syntax=docker/dockerfile:1
#
# One image for every Carflow process; the command picks the role:
#   carflow api        (default) the FastAPI app under uvicorn
#   carflow migrate    Alembic upgrade to head, then exit
#   python worker.py   the Temporal worker
# temporal/docker-compose.yml runs all three from this file.

# Debian release pinned so the apt package names below stay valid.
ARG PYTHON_IMAGE=python:3.11-slim-bookworm

# --- build: resolve and install the package into a self-contained venv -------
FROM ${PYTHON_IMAGE} AS build

ENV PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONDONTWRITEBYTECODE=1
RUN python -m venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH
WORKDIR /src

# Dependencies first, from pyproject alone, so a source change does not
# re-download them (this layer is rebuilt only when pyproject.toml changes).
COPY pyproject.toml ./
RUN --mount=type=cache,target=/root/.cache/pip \
    python -c "import tomllib; print('\n'.join(tomllib.load(open('pyproject.toml', 'rb'))['project']['dependencies']))" \
        > /tmp/requirements.txt \
    && pip install -r /tmp/requirements.txt

# Then the project itself (a regular, non-editable install: templates and
# migrations are package data inside site-packages).
COPY . .
RUN --mount=type=cache,target=/root/.cache/pip \
    pip install --no-deps .

# --- runtime -----------------------------------------------------------------
FROM ${PYTHON_IMAGE} AS runtime

# Shared libraries WeasyPrint loads at run time (PDF documents), plus a font so
# text renders in a slim image that ships none.
RUN apt-get update \
    && apt-get install -y --no-install-recommends \
        libpango-1.0-0 \
        libpangoft2-1.0-0 \
        libharfbuzz-subset0 \
        fonts-dejavu-core \
    && rm -rf /var/lib/apt/lists/*

# Unprivileged user with a fixed numeric id (Kubernetes runAsNonRoot can check it).
RUN groupadd --system --gid 10001 carflow \
    && useradd --system --uid 10001 --gid carflow --home-dir /app --no-create-home \
        --shell /usr/sbin/nologin carflow

COPY --from=build /opt/venv /opt/venv
WORKDIR /app
# `python worker.py` runs this file; everything it imports comes from the venv.
COPY --from=build /src/worker.py /app/worker.py
# var/ is Settings.var_dir (relative default "var"); the only writable place.
RUN mkdir -p /app/var && chown carflow:carflow /app/var

ENV PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    CARFLOW_PROFILE=prod \
    CARFLOW_API_HOST=0.0.0.0

USER 10001:10001
EXPOSE 8000

# /healthz answers 503 while the database or Temporal is unreachable. Only the
# API serves HTTP: compose disables this check for the worker and migrate.
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
    CMD python -c "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/healthz' % os.environ.get('CARFLOW_API_PORT', '8000'), timeout=4)" || exit 1

CMD ["carflow", "api"]
