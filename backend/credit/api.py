"""HTTP endpoints of credit (filled in by its issue)."""

from backend.http import make_blueprint

blp = make_blueprint("credit", __name__, "credit")
