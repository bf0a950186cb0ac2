"""HTTP endpoints of scenarios (filled in by its issue)."""

from backend.http import make_blueprint

blp = make_blueprint("scenarios", __name__, "scenarios")
