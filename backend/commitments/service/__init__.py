"""Use cases of credit commitments and sealed credit reports.

CONTRACT used by credit: ``require_signed_repair_commitment``.

Modules: ``keys`` (seal keys, JWKS, rotation), ``templates``, ``commitments`` (draft, sign,
lifecycle, paper records, stats), ``reports`` (sealed credit reports), ``public`` (verification).
"""

from __future__ import annotations

from backend.commitments.service import commitments as commitments
from backend.commitments.service import common as common
from backend.commitments.service import keys as keys
from backend.commitments.service import public as public
from backend.commitments.service import reports as reports
from backend.commitments.service import templates as templates
from backend.commitments.service.commitments import require_signed_repair_commitment

__all__ = ["commitments", "common", "keys", "public", "reports", "require_signed_repair_commitment", "templates"]
