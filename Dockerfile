FROM python:3.11-slim
WORKDIR /app
COPY pyproject.toml README.md ./
COPY events ./events
RUN pip install --no-cache-dir .
ENV EVENTS_DATA_DIR=/data
EXPOSE 8000
CMD ["python", "-m", "events", "serve", "--host", "0.0.0.0", "--port", "8000"]
