# One image for every koppel service; the command chooses the service.
FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PYTHONWARNINGS=ignore
# fonts-dejavu-core: the login sheets (Printversie) print names beyond Latin-1 (Ayşe, Łukasz)
RUN apt-get update && apt-get install -y --no-install-recommends curl fonts-dejavu-core && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY pyproject.toml constraints.txt ./
COPY shared ./shared
COPY services ./services
COPY config.yml ./
RUN pip install --no-cache-dir -c constraints.txt .
# e.g. docker run koppel nameko run --config config.yml services.roster.service
CMD ["nameko", "run", "--config", "config.yml", "services.gateway.service"]
