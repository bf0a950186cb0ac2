"""Who is calling: passed explicitly from the API layer into every service."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class Actor:
    account_id: str
    person_id: str | None = None  # set once real-name verification bound the account to a person
    is_admin: bool = False
    ip: str | None = None
    user_agent: str | None = None
    roles: dict[str, frozenset[str]] = field(default_factory=dict)  # org_id -> roles, filled on demand
    org_kinds: dict[str, str | None] = field(default_factory=dict)  # org_id -> kind (None: no such org), likewise

    @property
    def is_verified(self) -> bool:
        return self.person_id is not None
