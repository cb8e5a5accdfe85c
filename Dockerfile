# The one image behind web, worker and beat in docker-compose.yml.
# linux/amd64: the locked torch CPU wheel is built for it.
FROM --platform=linux/amd64 python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 HF_HUB_OFFLINE=1 PIP_NO_CACHE_DIR=1
WORKDIR /app
# The runtime part of the tree CI tested: torch's CPU build first, the locked version from
# PyTorch's own index; then everything else from requirements.lock, each file hash-checked
# (torch, already there at the locked version, is left as it is; its dependencies come from the lock).
COPY requirements.lock .
RUN pip install --no-deps torch==2.13.0+cpu --index-url https://download.pytorch.org/whl/cpu \
 && pip install --require-hashes -r requirements.lock
COPY . .
RUN useradd --create-home digest && mkdir -p /app/var && chown -R digest /app/var
USER digest
EXPOSE 8000
CMD ["gunicorn", "config.wsgi:application", "--bind", "0.0.0.0:8000"]
