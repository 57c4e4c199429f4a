# One image for every role of the full stack (docker-compose.yml): web, worker, beat, migrate, sandbox.
FROM python:3.12-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PORTAL_RUN_DIR=/app/var

WORKDIR /app
COPY requirements.txt .
RUN pip install -r requirements.txt

COPY . .
# Static files are collected at build time (whitenoise serves them); the values here only satisfy the
# settings' required variables for this one command and are not used at run time.
RUN DJANGO_SECRET_KEY=collectstatic-only MINT_CLIENT_ID=unused MINT_CLIENT_SECRET=unused \
    python manage.py collectstatic --no-input -v 0 \
 && useradd --create-home --uid 10001 portal \
 && mkdir -p /app/var/beat /app/var/sandbox \
 && chown -R portal /app/var

USER portal
EXPOSE 8000 8001
CMD ["gunicorn", "mintportal.wsgi", "--bind", "0.0.0.0:8000", "--workers", "3", "--threads", "4"]
