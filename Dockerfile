FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 \
    TRANSIT_DATA_DIR=/var/lib/transit NUMBA_CACHE_DIR=/var/cache/numba

WORKDIR /app
COPY pyproject.toml README.md constraints.txt ./
COPY transit ./transit
COPY feeds ./feeds
RUN pip install --no-cache-dir -c constraints.txt . \
    && useradd --system --home /app transit \
    && mkdir -p /var/lib/transit /var/cache/numba \
    && chown transit /var/lib/transit /var/cache/numba

USER transit
# Compile the demo network at build time so the image serves at once; mount a volume on
# /var/lib/transit and run `transit ingest --catalog ...` to serve real operators.
RUN transit ingest --catalog feeds/catalog.toml

EXPOSE 8000
HEALTHCHECK CMD python -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/healthz')"
CMD ["transit", "serve", "--host", "0.0.0.0", "--port", "8000", "--catalog", "feeds/catalog.toml"]
