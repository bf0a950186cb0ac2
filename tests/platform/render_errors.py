"""Render the catalogue of error codes (every ``register_messages`` of the app) into docs/errors.md.

    python -m tests.platform.render_errors

tests/platform/test_error_catalogue.py fails when docs/errors.md differs from what this writes, so
a new error code cannot ship undocumented.
"""

from __future__ import annotations

from pathlib import Path

DOC = Path(__file__).resolve().parents[2] / "docs" / "errors.md"

HEADER = """# Error codes

Every error is `application/problem+json` with a stable `code` (README "API"). This is the whole
catalogue, generated from the messages the app registers by `python -m tests.platform.render_errors`
(`tests/platform/test_error_catalogue.py` fails when it is out of date). Titles and details are
Chinese by default and English with `Accept-Language: en`; `{name}` in a detail is filled from the
problem's extension member of that name. The HTTP status of each code is given where the endpoint
is described (README, API.md); 404s never tell an organisation that is not yours from one that does
not exist.

| code | title (zh) | title (en) | detail (en) |
|---|---|---|---|
"""


def render() -> str:
    from backend import create_app
    from backend.errors import catalogue

    create_app({"database_url": "sqlite://"})  # imports every domain, so every code is registered
    rows = [f"| `{code}` | {zh_title} | {en_title} | {en_detail.replace('|', '/')} |"
            for code, (zh_title, en_title, _zh_detail, en_detail) in sorted(catalogue().items())]
    return HEADER + "\n".join(rows) + "\n"


if __name__ == "__main__":
    DOC.write_text(render(), encoding="utf-8")
    print(f"wrote {DOC}")
