FROM python:3.11-slim
WORKDIR /app
# badges: a CJK font with the Hong Kong characters, and DejaVu Sans for Latin text
RUN apt-get update && apt-get install -y --no-install-recommends fonts-arphic-uming fonts-dejavu-core \
    && rm -rf /var/lib/apt/lists/*
COPY pyproject.toml README.md ./
COPY events ./events
RUN pip install --no-cache-dir .
ENV EVENTS_DATA_DIR=/data
EXPOSE 8000
CMD ["python", "-m", "events", "serve", "--host", "0.0.0.0", "--port", "8000"]
