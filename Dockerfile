# The gateway image: the package and its policies, run as an unprivileged user.
FROM python:3.11.11-slim-bookworm
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 SCHAKEL_POLICIES_DIR=/app/policies
WORKDIR /app
COPY pyproject.toml README.md ./
COPY gateway ./gateway
COPY consent ./consent
COPY audit ./audit
COPY adapters ./adapters
COPY plan ./plan
COPY conference ./conference
COPY notice ./notice
COPY dbtypes ./dbtypes
COPY fhirsystems ./fhirsystems
COPY suppression ./suppression
COPY monitoring ./monitoring
COPY bsn ./bsn
COPY policies ./policies
RUN pip install --no-cache-dir . \
    && useradd --system --home /var/lib/schakel --create-home schakel
USER schakel
EXPOSE 8000
CMD ["schakel", "serve"]
