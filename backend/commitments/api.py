"""HTTP endpoints of commitments (filled in by its issue)."""

from backend.http import make_blueprint

blp = make_blueprint("commitments", __name__, "commitments")
