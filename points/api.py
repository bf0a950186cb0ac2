"""HTTP endpoints of points (filled in by its issue)."""

from backend.http import make_blueprint

blp = make_blueprint("points", __name__, "points")
