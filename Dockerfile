# recon for scheduled runs (the weekly leakage report): `docker run IMAGE leakage ...`.
#
#   docker build -t recon-crm-erp:0.1.0 .
#   docker run --rm --init -v /srv/recon:/srv/recon recon-crm-erp:0.1.0 --help
#
# deploy/ has a cron line and a systemd service and timer that run this image.
# The build installs recon and its runtime dependencies only (no test or bench extras); EXTRAS
# names the database drivers for SQL sources and the state store ("" for SQLite only).

ARG PYTHON_VERSION=3.11

FROM python:${PYTHON_VERSION}-slim AS build
ARG EXTRAS=postgres,mysql
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /src
# Only what the wheel is built from: the package, and the rules, templates and sample data it ships.
COPY pyproject.toml README.md ./
COPY recon ./recon
COPY rules ./rules
COPY reports_templates ./reports_templates
COPY sample_data ./sample_data
RUN python -m venv /opt/recon \
    && /opt/recon/bin/pip install --upgrade pip \
    && if [ -n "$EXTRAS" ]; then spec=".[$EXTRAS]"; else spec="."; fi \
    && /opt/recon/bin/pip install "$spec" \
    && /opt/recon/bin/recon --version

FROM python:${PYTHON_VERSION}-slim
LABEL org.opencontainers.image.title="recon-crm-erp" \
      org.opencontainers.image.description="Reconcile CRM companies and deals against ERP customers, orders and invoices." \
      org.opencontainers.image.licenses="MIT"
ENV PATH=/opt/recon/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1
COPY --from=build /opt/recon /opt/recon
# A fixed uid/gid, so the host folder mounted at /srv/recon can be given to it (chown 10001:10001).
RUN groupadd --system --gid 10001 recon \
    && useradd --system --uid 10001 --gid recon --home-dir /srv/recon --no-create-home \
        --shell /usr/sbin/nologin recon \
    && mkdir -p /srv/recon \
    && chown recon:recon /srv/recon
USER recon
WORKDIR /srv/recon
# recon.yaml, the exports, the SQLite state store and the weekly outputs live here.
VOLUME ["/srv/recon"]
ENTRYPOINT ["recon"]
CMD ["--help"]
