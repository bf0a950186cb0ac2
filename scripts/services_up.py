"""Exit 0 when the PostgreSQL and Redis of the second test pass answer, else say which does not."""

import sys

import psycopg
import redis


def main(pg_url: str, redis_url: str) -> int:
    ok = True
    try:
        with psycopg.connect(pg_url.replace("postgresql+psycopg://", "postgresql://"), connect_timeout=3) as conn:
            conn.execute("SELECT 1")
    except Exception as exc:  # noqa: BLE001 - report any failure to connect
        print(f"PostgreSQL at {pg_url}: {exc}", file=sys.stderr)
        ok = False
    try:
        redis.Redis.from_url(redis_url, socket_connect_timeout=3).ping()
    except Exception as exc:  # noqa: BLE001
        print(f"Redis at {redis_url}: {exc}", file=sys.stderr)
        ok = False
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2]))
