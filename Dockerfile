# One image for our services (intake, worker, api); the command picks the service.
FROM python:3.11-slim
WORKDIR /app
COPY pyproject.toml README.md ./
COPY schemas ./schemas
COPY orchestrator ./orchestrator
COPY workers ./workers
COPY infra ./infra
RUN pip install --no-cache-dir '.[otlp]'
ENV PRIVACY_STATE_DIR=/var/lib/privacy
# The state dir holds the ready files the health checks look for: writable by the service user.
RUN mkdir -p /var/lib/privacy && chown nobody /var/lib/privacy
USER nobody
ENTRYPOINT ["privacyctl", "serve"]
