# syntax=docker/dockerfile:1
FROM python:3.11-slim AS base

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1 \
    APP_ENV=production PORT=8000

WORKDIR /app
COPY pyproject.toml README.md ./
COPY backend ./backend
COPY points ./points
COPY scenarios ./scenarios
RUN pip install . && useradd --create-home --uid 10001 app
COPY alembic.ini ./
COPY migrations ./migrations

USER app
EXPOSE 8000
HEALTHCHECK --interval=15s --timeout=3s --start-period=10s --retries=3 \
  CMD python -c "import os,urllib.request; urllib.request.urlopen(f'http://127.0.0.1:{os.environ.get(\"PORT\",\"8000\")}/healthz', timeout=2)"
CMD ["gunicorn", "--config", "backend/gunicorn.conf.py"]
