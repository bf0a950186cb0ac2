"""An edit that lands while a draft is being signed is what gets sealed, never the text read first.

Signing checks the password (slow, on purpose) between reading the draft and turning it signed. A
PATCH from another tab committing in that window used to stay on the row while the seal carried the
old text: the department tracked a text its signer never signed. The interleaving is forced on
PostgreSQL by holding the commitment's row lock, as the PATCH's transaction would, until the sign
waits for it; SQLite serialises whole requests, so it cannot happen there."""

import json
import threading

import pytest
from sqlalchemy import text, update
from sqlalchemy.orm import Session

from backend.commitments.models import Commitment
from tests.commitments.conftest import draft, sign
from tests.pg_locks import wait_until_blocked_by

pytestmark = pytest.mark.usefixtures("postgresql_only")



def test_the_seal_carries_the_text_the_row_keeps(app, client, factory, desk):
    resident = factory.user("resident")
    commitment = draft(client, resident, desk.template["id"])
    engine = app.extensions["engine"]
    with engine.connect() as editor, Session(bind=engine) as watcher:
        editor_pid = editor.execute(text("SELECT pg_backend_pid()")).scalar()
        editor.execute(text("SELECT id FROM commitments WHERE id = :id FOR UPDATE"), {"id": commitment["id"]})
        answer = {}
        signing = threading.Thread(target=lambda: answer.update(
            response=sign(app.test_client(), resident, commitment["id"])))
        signing.start()
        wait_until_blocked_by(watcher, editor_pid, "the sign")
        editor.execute(update(Commitment).where(Commitment.id == commitment["id"])
                       .values(text="本人承诺改动后的文本。", fields={"name": "张三", "matter": "改动", "amount": 1}))
        editor.commit()
        signing.join(30)
    response = answer["response"]
    assert response.status_code == 200, response.json
    row = client.get(f"/api/v1/commitments/{commitment['id']}", headers=resident.headers).json
    public = client.get(f"/api/v1/public/commitments/{response.json['public_id']}").json
    sealed = json.loads(public["content"])
    assert public["valid"] is True
    assert sealed["text"] == row["text"] == "本人承诺改动后的文本。"
    assert sealed["fields"] == row["fields"]
