"""Any sequence of awards, deductions, reversals, rejections, redemptions and voids keeps the ledger's invariants."""

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    rule,
    run_state_machine_as_test,
)
from sqlalchemy import select

from backend.errors import AppError
from backend.qr import service as qr_service
from points import service
from points.models import PointsAccount
from tests.factories import valid_id_number

RULES = {"help": 10, "care": 25, "litter": -15}
PRICE = 7


def test_the_ledger_balances_whatever_happens(app, factory, session, redis):
    app_settings = app.extensions["settings"]

    class Ledger(RuleBasedStateMachine):
        @initialize()
        def village(self):
            org = factory.org("village")
            self.org_id = org.id
            self.clerk = factory.user("clerk", org).actor
            self.approver = factory.user("approver", org).actor
            self.cashier = factory.user("cashier", org).actor
            admin = factory.user("admin", org).actor
            self.admin = admin
            self.residents = []  # (resident_id, person_id)
            for _ in range(3):
                user = factory.user("resident", id_number=valid_id_number())
                view = service.add_resident(session=session, settings=app_settings, actor=admin, org_id=org.id,
                                            phone=user.phone)
                self.residents.append((view.id, user.person_id))
            for code, points in RULES.items():
                service.create_rule(session=session, org_id=org.id, code=code, name=code, points=points,
                                    category="test")
            self.item_id = service.create_item(session=session, org_id=org.id, name="皂", price=PRICE,
                                               stock=10_000).id
            self.balance = {rid: 0 for rid, _ in self.residents}
            self.rating = dict(self.balance)
            self.approved: list[tuple[str, str, int]] = []
            self.sales: list[tuple[str, str, int]] = []  # (sale id, resident id, points)

        def _submit(self, who, code):
            rid = self.residents[who][0]
            result = service.submit_awards(session=session, actor=self.clerk, org_id=self.org_id,
                                           items=[{"resident_id": rid, "rule_code": code}])
            return rid, result["items"][0]["id"]

        @rule(who=st.integers(0, 2), code=st.sampled_from(sorted(RULES)), clicks=st.integers(1, 3))
        def award(self, who, code, clicks):
            rid, award_id = self._submit(who, code)
            for _ in range(clicks):
                service.approve(session=session, actor=self.approver, org_id=self.org_id, award_id=award_id)
            self.balance[rid] += RULES[code]
            self.rating[rid] += RULES[code]
            self.approved.append((award_id, rid, RULES[code]))

        @rule(who=st.integers(0, 2), code=st.sampled_from(sorted(RULES)))
        def reject(self, who, code):
            _, award_id = self._submit(who, code)
            service.reject(session=session, actor=self.approver, org_id=self.org_id, award_id=award_id)

        @rule(data=st.data())
        def reverse(self, data):
            if not self.approved:
                return
            award_id, rid, points = self.approved.pop(data.draw(st.integers(0, len(self.approved) - 1)))
            service.reverse(session=session, actor=self.approver, org_id=self.org_id, award_id=award_id,
                            reason="test")
            self.balance[rid] -= points
            self.rating[rid] -= points

        @rule(who=st.integers(0, 2), quantity=st.integers(1, 4))
        def redeem(self, who, quantity):
            rid, person_id = self.residents[who]
            code = qr_service.issue(redis=redis, person_id=person_id, ttl_s=60).code
            try:
                sale = service.redeem(session=session, redis=redis, actor=self.cashier, org_id=self.org_id, code=code,
                               item_id=self.item_id, quantity=quantity)
            except AppError as exc:
                session.rollback()  # what the end of the request does
                assert exc.code == "insufficient_points"
                assert self.balance[rid] < PRICE * quantity
            else:
                assert self.balance[rid] >= PRICE * quantity
                self.balance[rid] -= PRICE * quantity
                self.sales.append((sale["id"], rid, PRICE * quantity))

        @rule(data=st.data(), twice=st.booleans())
        def void(self, data, twice):
            if not self.sales:
                return
            sale_id, rid, points = self.sales.pop(data.draw(st.integers(0, len(self.sales) - 1)))
            for attempt in range(2 if twice else 1):
                try:
                    service.void_sale(session=session, settings=app_settings, actor=self.admin,
                                      org_id=self.org_id, sale_id=sale_id, reason="退货")
                except AppError as exc:
                    session.rollback()
                    assert attempt == 1 and exc.code == "redemption_already_voided"
            self.balance[rid] += points

        @invariant()
        def entries_balance(self):
            assert service.verify(session=session) == []
            rows = session.execute(select(PointsAccount.id, PointsAccount.balance, PointsAccount.rating).where(
                PointsAccount.org_id == self.org_id, PointsAccount.kind == "resident")).all()
            session.rollback()
            assert {r.id: r.balance for r in rows} == self.balance
            assert {r.id: r.rating for r in rows} == self.rating

    run_state_machine_as_test(Ledger, settings=settings(
        max_examples=12, stateful_step_count=15, deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture]))
