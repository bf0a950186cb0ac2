"""Use cases of credit commitments.

CONTRACT used by credit: ``require_signed_repair_commitment``.
"""

from __future__ import annotations

from sqlalchemy.orm import Session


def require_signed_repair_commitment(*, session: Session, commitment_id: str, person_id: str) -> None:
    """Raise an AppError unless ``commitment_id`` is a signed ``credit_repair`` commitment of this person.

    Credit calls this (function-level import) when a repair application attaches a commitment.
    """
