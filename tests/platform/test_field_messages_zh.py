"""Every per-field message a 422 can carry reads in Chinese by default: marshmallow's own and the
ones the schemas write themselves (found in the source, so a new one cannot be forgotten)."""

import ast
import re
from pathlib import Path

from backend.error_handlers import _in_chinese

ROOT = Path(__file__).resolve().parents[2]
CJK = re.compile(r"[\u4e00-\u9fff]")


def _schema_messages() -> set[str]:
    """String literals passed as ``error=`` or to ``ValidationError(...)`` in the app's modules."""
    found: set[str] = set()
    for path in [*ROOT.glob("backend/**/*.py"), *ROOT.glob("points/**/*.py"), *ROOT.glob("scenarios/**/*.py")]:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.Call):
                continue
            name = getattr(node.func, "id", getattr(node.func, "attr", ""))
            values = [k.value for k in node.keywords if k.arg == "error"]
            if name == "ValidationError" and node.args:
                values.append(node.args[0])
            found |= {v.value for v in values if isinstance(v, ast.Constant) and isinstance(v.value, str)}
    return found


def test_every_schema_message_has_its_chinese():
    messages = _schema_messages()
    assert "YYYY-MM" in messages  # the walk finds them
    untranslated = sorted(m for m in messages if not CJK.search(_in_chinese(m)))
    assert untranslated == []


def test_a_schema_message_reads_in_chinese_over_http(client, factory):
    admin = factory.user("admin")
    response = client.post("/api/v1/scenarios", json={"code": "Bad-Code", "name": "x"}, headers=admin.headers)
    assert response.status_code == 422 and CJK.search(response.json["errors"]["code"][0])
    english = client.post("/api/v1/scenarios", json={"code": "Bad-Code", "name": "x"},
                          headers={**admin.headers, "Accept-Language": "en"})
    assert english.json["errors"]["code"] == ["lower-case letters, digits and _, 2-40 characters"]


def test_booleans_of_a_body_are_true_or_false_only(client, factory):
    """A form's "no" would have retired a scenario: JSON bodies take only true and false."""
    admin = factory.user("admin")
    for value in ("no", "yes", 0, 1, "false", None):
        response = client.patch("/api/v1/scenarios/library", json={"active": value}, headers=admin.headers)
        assert response.status_code == 422, value
    assert client.get("/api/v1/scenarios/library").json["active"] is True
    assert client.patch("/api/v1/scenarios/library", json={"active": True}, headers=admin.headers).status_code == 200
