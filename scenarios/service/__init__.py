"""Use cases of 信易+ scenarios and 信用+医疗, one module per use case family.

``catalogue`` (scenarios, statistics), ``offers`` (merchant offers, a
resident's benefits), ``redemptions`` (scan, redeem, void, CSV export) and
``medical`` (hospital policy, eligibility, visits, charges, bills, overdue job).
"""

from scenarios.service import catalogue, medical, offers, redemptions

__all__ = ["catalogue", "medical", "offers", "redemptions"]
