"""Settings from the environment, with embedded defaults for development.

This is the only module that reads ``os.environ``. Policy numbers (limits,
periods, thresholds) are settings here so an operator can change them without
touching code.
"""

from __future__ import annotations

import json
import os
import secrets
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

PROJECT_ROOT = Path(__file__).resolve().parent.parent
INSTANCE_DIR = PROJECT_ROOT / "instance"
DEFAULT_DATABASE_URL = f"sqlite:///{INSTANCE_DIR / 'credit.db'}"

# Development-only secrets are generated once into instance/ so that data
# encrypted in one `make run` can still be read in the next.
_DEV_SECRETS_FILE = "dev-secrets.json"
_DEV_MARKER = "dev-"


class ConfigError(RuntimeError):
    """Raised when the configuration is unsafe or incomplete."""


@dataclass(frozen=True)
class Settings:
    app_env: str = "development"
    database_url: str = DEFAULT_DATABASE_URL
    redis_url: str | None = None
    jwt_secret: str = ""
    pii_key: str = ""  # 32 bytes, hex: AES-256-GCM key for ID numbers + blind-index HMAC key
    seal_private_key_pem: str | None = None  # Ed25519 PEM; generated into instance/ when unset
    jwt_issuer: str = "credit-platform"
    jwt_audience: str = "credit-platform-api"
    access_token_ttl_s: int = 15 * 60
    refresh_token_ttl_s: int = 30 * 24 * 3600
    password_min_length: int = 8
    password_min_strength: int = 2  # zxcvbn score 0-4
    argon2_time_cost: int = 2
    argon2_memory_cost_kib: int = 19 * 1024
    login_limit_per_phone: str = "5 per minute;30 per hour"
    login_limit_per_ip: str = "30 per minute"
    ratelimit_key_prefix: str = "rl"
    real_name_verifier: str = "checksum"  # checksum (dev/demo) | counter (in person at a service counter)
    qr_ttl_s: int = 60
    qr_max_live: int = 100  # live codes one resident may hold at once (each issue adds a day-long marker)
    points_star_thresholds: str = "0,50,100,200,400"  # 信用户 1★-5★ rating thresholds (per-village override)
    # 信用+医疗 defaults for a hospital that has not set its own policy (DOMAIN.md)
    medical_min_level: str = "A"
    medical_line_a_fen: int = 100_000
    medical_line_aa_fen: int = 200_000
    medical_line_aaa_fen: int = 300_000
    medical_repayment_days: int = 10
    # personal credit (DOMAIN.md): objection deadline in Chinese working days, records per batch call
    credit_objection_working_days: int = 5
    credit_batch_max: int = 1000
    inspection_weights: str = "1,2,4,8"  # 双随机: how much more likely grade A, B, C, D enterprises are drawn
    inspection_inspectors_per_target: int = 2  # officers sent to each drawn enterprise (执法人员不少于两人)
    redemption_void_window_s: int = 24 * 3600  # a merchant admin may void a redemption, a village admin a store sale, this long
    idempotency_ttl_s: int = 24 * 3600
    idempotency_lock_ttl_s: int = 30
    max_content_length: int = 8 * 1024 * 1024  # a full batch: 1,000 records with decisions of up to 2,000 characters
    page_size_default: int = 20
    page_size_max: int = 100
    public_base_url: str = "http://127.0.0.1:8000"
    commitment_sign_limit: str = "5 per minute;20 per hour"  # failed signing re-authentications
    commitment_breach_severity: str = "general"  # severity of the commitment_breach credit record
    commitment_default_validity_days: int = 365  # paper commitments recorded without a template
    commitment_paperless_target_pct: int = 70  # target share of commitments signed online
    log_level: str = "INFO"
    db_pool_size: int = 10
    db_echo: bool = False
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def is_production(self) -> bool:
        return self.app_env == "production"

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    @property
    def pii_key_bytes(self) -> bytes:
        return bytes.fromhex(self.pii_key)

    def with_overrides(self, **overrides: Any) -> Settings:
        return replace(self, **overrides)


_ENV_NAMES = {f.name: f.name.upper() for f in fields(Settings) if f.name != "extra"}
_ENV_NAMES["seal_private_key_pem"] = "SEAL_PRIVATE_KEY"


def _coerce(value: str, target: Any) -> Any:
    if target is bool or target == "bool":
        return value.strip().lower() in {"1", "true", "yes", "on"}
    if target is int or target == "int":
        return int(value)
    return value


def load_settings(environ: dict[str, str] | None = None, **overrides: Any) -> Settings:
    """Build settings from the environment (or a given mapping) plus overrides, then check them."""
    env = os.environ if environ is None else environ
    values: dict[str, Any] = {}
    types = {f.name: f.type for f in fields(Settings)}
    for name, env_name in _ENV_NAMES.items():
        raw = env.get(env_name)
        if raw not in (None, ""):
            values[name] = _coerce(raw, types[name])
    values.update(overrides)
    settings = Settings(**values)
    if settings.is_production:
        _check_production(settings)
    else:
        settings = _fill_dev_secrets(settings)
    _check_common(settings)
    return settings


def _fill_dev_secrets(settings: Settings) -> Settings:
    missing = {k: v for k, v in {"jwt_secret": settings.jwt_secret, "pii_key": settings.pii_key}.items() if not v}
    if not missing:
        return settings
    INSTANCE_DIR.mkdir(exist_ok=True)
    path = INSTANCE_DIR / _DEV_SECRETS_FILE
    stored: dict[str, str] = json.loads(path.read_text()) if path.exists() else {}
    changed = False
    for name in missing:
        if name not in stored:
            stored[name] = _DEV_MARKER + secrets.token_hex(32) if name == "jwt_secret" else secrets.token_hex(32)
            changed = True
    if changed:
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(stored))
        tmp.chmod(0o600)
        tmp.replace(path)
    filled: dict[str, Any] = {name: stored[name] for name in missing}
    return replace(settings, **filled)


def _check_common(settings: Settings) -> None:
    try:
        key = settings.pii_key_bytes
    except ValueError as exc:
        raise ConfigError("PII_KEY must be 64 hex characters (32 bytes)") from exc
    if len(key) != 32:
        raise ConfigError("PII_KEY must be 64 hex characters (32 bytes)")
    if settings.real_name_verifier not in {"checksum", "counter"}:
        raise ConfigError("REAL_NAME_VERIFIER must be 'checksum' or 'counter'")


def _check_production(settings: Settings) -> None:
    """Refuse to start production with development defaults, naming the setting at fault."""
    problems = []
    if not settings.jwt_secret or settings.jwt_secret.startswith(_DEV_MARKER) or len(settings.jwt_secret) < 32:
        problems.append("JWT_SECRET must be set to a random value of at least 32 characters")
    if not settings.pii_key:
        problems.append("PII_KEY must be set (64 hex characters)")
    if not settings.seal_private_key_pem:
        problems.append("SEAL_PRIVATE_KEY must be set (Ed25519 private key, PEM)")
    if settings.is_sqlite:
        problems.append("DATABASE_URL must point at PostgreSQL, not SQLite")
    if not settings.redis_url:
        problems.append("REDIS_URL must be set; the in-process fake Redis is for development only")
    if settings.real_name_verifier == "checksum":
        problems.append("REAL_NAME_VERIFIER=checksum is for development only; use 'counter'")
    if problems:
        raise ConfigError("refusing to start with APP_ENV=production: " + "; ".join(problems))
