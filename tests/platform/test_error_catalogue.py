"""docs/errors.md lists every error code the app registers, as tests/platform/render_errors.py writes it."""

from tests.platform.render_errors import DOC, render


def test_the_error_catalogue_page_is_up_to_date() -> None:
    assert DOC.read_text(encoding="utf-8") == render(), \
        "docs/errors.md is out of date: run .venv/bin/python -m tests.platform.render_errors"
