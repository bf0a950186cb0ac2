"""One error path: AppError and its subclasses, rendered as RFC 9457 problem+json.

Services raise ``AppError(code, status, **params)``. The ``code`` is the
stable, snake_case string clients switch on; title and detail come from the
message catalogue in zh-CN (default) or English (``Accept-Language: en``).
``params`` fill the detail template and are also sent as extension members.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

PROBLEM_JSON = "application/problem+json"

# code -> (zh title, en title, zh detail, en detail); details are str.format templates.
_CATALOG: dict[str, tuple[str, str, str, str]] = {}


def register_messages(messages: dict[str, tuple[str, str, str, str]]) -> None:
    """Add a domain's error messages to the catalogue (each domain calls this once at import)."""
    _CATALOG.update(messages)


def catalogue() -> dict[str, tuple[str, str, str, str]]:
    """Every registered code with its (zh title, en title, zh detail, en detail): docs/errors.md."""
    return dict(_CATALOG)


register_messages(
    {
        "validation_failed": ("请求参数有误", "Invalid request", "请检查标注的字段。", "Check the fields listed in errors."),
        "malformed_json": ("请求体不是合法的 JSON", "Malformed JSON", "请求体无法解析为 JSON。", "The request body is not valid JSON."),
        "unsupported_media_type": ("不支持的内容类型", "Unsupported media type", "请使用 application/json。", "Send application/json."),
        "payload_too_large": ("请求体过大", "Payload too large", "请求体超过了允许的大小。", "The request body exceeds the allowed size."),
        "not_found": ("资源不存在", "Not found", "请求的资源不存在。", "The requested resource does not exist."),
        "method_not_allowed": ("方法不被允许", "Method not allowed", "该路径不支持此请求方法。", "This path does not support this method."),
        "unauthorized": ("未登录或登录已失效", "Authentication required", "请提供有效的访问令牌。", "Provide a valid access token."),
        "token_expired": ("登录已过期", "Token expired", "访问令牌已过期，请刷新。", "The access token has expired; refresh it."),
        "forbidden_role": ("没有权限", "Forbidden", "您在该机构中没有执行此操作的角色。", "Your roles in this organisation do not allow this."),
        "admin_required": ("需要平台管理员", "Platform admin required", "只有平台管理员可以执行此操作。", "Only a platform admin may do this."),
        "verification_required": ("需要实名认证", "Real-name verification required", "请先完成实名认证。", "Complete real-name verification first."),
        "rate_limited": ("请求过于频繁", "Too many requests", "请稍后再试。", "Try again later."),
        "invalid_as_of": ("日期超出范围", "Day out of range", "--as-of {day} 应在 2000-01-01 至今天（{today}）之间。", "--as-of {day} must lie between 2000-01-01 and today ({today})."),
        "conflict_of_interest": ("不能处理与自己有关的事项", "Conflict of interest", "办理或决定的人不能是申请人、所涉及的本人，也不能是所涉企业的成员，请由同事办理。", "No one handles or decides a matter that concerns them (as its applicant, the person it is about, or a member of the enterprise it is about): a colleague does."),
        "conflict": ("数据冲突", "Conflict", "请求与当前数据冲突，请重试。", "The request conflicts with the current state; retry."),
        "dependency_unavailable": ("服务暂不可用", "Service unavailable", "{part} 暂不可用，请稍后再试。", "{part} is unavailable; try again later."),
        "internal_error": ("服务器内部错误", "Internal server error", "请稍后再试，并提供请求编号 {request_id}。", "Try again later; quote request id {request_id}."),
        "idempotency_key_reused": ("幂等键已被使用", "Idempotency key reused", "同一个 Idempotency-Key 已用于不同的请求内容。", "This Idempotency-Key was used with a different request body."),
        "request_in_progress": ("请求正在处理", "Request in progress", "相同 Idempotency-Key 的请求仍在处理中。", "A request with this Idempotency-Key is still in progress."),
        "invalid_idempotency_key": ("幂等键格式错误", "Invalid Idempotency-Key", "Idempotency-Key 应为 1 到 255 个可见字符。", "Idempotency-Key must be 1-255 visible characters."),
        # A 信易+ redemption (merchant admin) or a points-store sale (village admin) may be voided once, within a window.
        "redemption_already_voided": ("已撤销", "Already voided", "这笔核销（兑换）已经撤销。", "This redemption was already voided."),
        "void_window_passed": ("已超过撤销时限", "Too late to void", "核销（兑换）{hours} 小时后不能再撤销。", "A redemption can be voided only within {hours} hours."),
        "bidi_control": ("含有文字方向控制字符", "Bidirectional control character", "{field} 含有改变文字显示方向的控制字符（如 U+202E）：文字必须按存储的样子显示（盖章的文本、姓名和名称尤其如此）。", "{field} holds a character that changes the display direction (such as U+202E); text must read as stored (sealed texts, names above all)."),
        "invalid_cursor": ("分页游标无效", "Invalid cursor", "请使用上一页返回的 next_cursor。", "Use the next_cursor returned by the previous page."),
    }
)


class AppError(Exception):
    """A failure the client can act on, with a stable code."""

    status = 400

    def __init__(self, code: str, status: int | None = None, **params: Any) -> None:
        super().__init__(code)
        self.code = code
        if status is not None:
            self.status = status
        self.params = params
        self.headers: dict[str, str] = {}
        self.kept: list[Callable[[Any], None]] = []

    def keep(self, write: Callable[[Any], None]) -> AppError:
        """Add a write that stands although the request is refused: ``write(session)`` runs after the
        request's own writes are rolled back, in a transaction of its own, before the answer. For
        the trail of a refused look at someone's credit (the query log), which the refusal's reason
        reveals as much as a success would."""
        self.kept.append(write)
        return self

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.code!r}, {self.status}, {self.params!r})"


def write_kept(exc: AppError, session: Any) -> bool:
    """Run (once) the writes a refusal keeps, in ``session`` after its rollback; True if there were any
    (the caller commits them)."""
    writes, exc.kept = exc.kept, []
    for write in writes:
        write(session)
    return bool(writes)


class Invalid(AppError):
    status = 422


class NotFound(AppError):
    status = 404

    def __init__(self, code: str = "not_found", **params: Any) -> None:
        super().__init__(code, **params)


class Conflict(AppError):
    status = 409


class Forbidden(AppError):
    status = 403


class Unauthorized(AppError):
    status = 401

    def __init__(self, code: str = "unauthorized", **params: Any) -> None:
        super().__init__(code, **params)


class Gone(AppError):
    status = 410


class Unavailable(AppError):
    status = 503

    def __init__(self, part: str, retry_after: int = 5) -> None:
        super().__init__("dependency_unavailable", part=part)
        self.headers["Retry-After"] = str(retry_after)


def problem(code: str, status: int, lang: str, params: dict[str, Any] | None = None,
            errors: Any = None) -> dict[str, Any]:
    """Build a problem+json document in the given language ('zh' or 'en')."""
    params = params or {}
    zh_title, en_title, zh_detail, en_detail = _CATALOG.get(code, (code, code, "", ""))
    template = en_detail if lang == "en" else zh_detail
    try:
        detail = template.format(**params)
    except (KeyError, IndexError, ValueError):
        detail = template
    body: dict[str, Any] = {
        "type": f"https://errors.credit.example/{code}",
        "title": en_title if lang == "en" else zh_title,
        "status": status,
        "detail": detail,
        "code": code,
    }
    for key, value in params.items():
        body.setdefault(key, value)
    if errors is not None:
        body["errors"] = errors
    return body


def check_job_day(day: dt.date, today: dt.date) -> None:
    """A daily job's ``--as-of`` day lies between 2000-01-01 and today: a day to come would mark
    bills overdue or end publicity periods before their time, which cannot be undone."""
    if not dt.date(2000, 1, 1) <= day <= today:
        raise Invalid("invalid_as_of", day=day.isoformat(), today=today.isoformat())


@contextmanager
def cli_errors() -> Iterator[None]:
    """In a CLI command: a refusal (an AppError) as a one-line message and exit status 1, not a traceback."""
    import click

    try:
        yield
    except AppError as exc:
        raise click.ClickException(exc.code + "".join(f" {k}={v}" for k, v in exc.params.items())) from exc
