"""Use cases of 厚德积分 (points), one module per use case group.

- rules: 村规民约 per village;
- residents: the points roll and star thresholds;
- awards: submit, approve (posts once), reject, reverse;
- store: items, redemptions with a resident's code, and voids of sales;
- queries: my points, my entries, leaderboard;
- verify: the ledger's invariants.
"""

from points.service.awards import approve, get_award, list_awards, reject, reverse, submit_awards
from points.service.queries import leaderboard, my_entries, my_points
from points.service.residents import (
    add_resident,
    get_thresholds,
    is_resident,
    list_residents,
    set_thresholds,
)
from points.service.rules import create_rule, list_rules, update_rule
from points.service.store import create_item, list_items, list_sales, redeem, update_item, void_sale
from points.service.verify import verify

__all__ = [
    "add_resident", "approve", "create_item", "create_rule", "get_award", "get_thresholds", "is_resident",
    "leaderboard", "list_awards", "list_items", "list_residents", "list_sales", "list_rules", "my_entries", "my_points", "redeem",
    "reject", "reverse", "set_thresholds", "submit_awards", "update_item", "update_rule", "verify", "void_sale",
]
