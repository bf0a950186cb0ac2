"""gunicorn settings; every value can be overridden with the GUNICORN_* or PORT environment."""

import gc
import multiprocessing
import os

bind = f"0.0.0.0:{os.environ.get('PORT', '8000')}"
workers = int(os.environ.get("GUNICORN_WORKERS", multiprocessing.cpu_count() * 2 + 1))
threads = int(os.environ.get("GUNICORN_THREADS", "1"))
worker_class = "gthread" if threads > 1 else "sync"
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "30"))
graceful_timeout = 20
keepalive = 5
max_requests = 5000
max_requests_jitter = 500
accesslog = None  # the app writes one JSON line per request itself
errorlog = "-"
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")
wsgi_app = "backend.wsgi:app"


def post_worker_init(worker: object) -> None:
    """Once the worker has loaded the app, move everything alive into the GC's permanent generation:
    the app's modules, schemas and compiled statements live as long as the worker, and the
    collector then no longer walks them on every full collection (a large batch triggers many)."""
    gc.freeze()
