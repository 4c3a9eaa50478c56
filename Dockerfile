# Candlefish Secrets Console: one image for web (Daphne), worker and beat (Celery).
# docker-compose.yml builds it; the service's `command` picks the process.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

RUN groupadd --system --gid 10001 candlefish \
 && useradd --system --uid 10001 --gid candlefish --home-dir /app --no-create-home --shell /usr/sbin/nologin candlefish \
 && mkdir -p /app /var/lib/candlefish \
 && chown candlefish:candlefish /var/lib/candlefish
WORKDIR /app

# Pinned dependencies first, from pyproject.toml alone, so code changes do not reinstall them.
COPY pyproject.toml ./
RUN python -c "import tomllib; print('\n'.join(tomllib.load(open('pyproject.toml', 'rb'))['project']['dependencies']))" \
        > /tmp/requirements.txt \
 && pip install -r /tmp/requirements.txt \
 && rm /tmp/requirements.txt

COPY . .
# The console itself, editable: settings find templates/ and static/ next to the code in /app
# (a plain install would put the packages in site-packages, away from them). Then static files
# for WhiteNoise with the production storage (hashed names, compressed).
RUN pip install --no-deps -e . \
 && CONSOLE_ENV=production CONSOLE_DATA_DIR=/tmp/build STATIC_ROOT=/app/staticfiles \
        python manage.py collectstatic --noinput \
 && rm -rf /tmp/build build

ENV CONSOLE_ENV=production \
    PYTHONPATH=/app \
    CONSOLE_DATA_DIR=/var/lib/candlefish \
    STATIC_ROOT=/app/staticfiles

USER candlefish
EXPOSE 8000
CMD ["daphne", "--bind", "0.0.0.0", "--port", "8000", "--proxy-headers", "console.asgi:application"]
