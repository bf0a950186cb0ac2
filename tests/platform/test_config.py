import pytest

from backend.config import ConfigError, load_settings

GOOD_PROD = {
    "APP_ENV": "production",
    "JWT_SECRET": "x" * 48,
    "PII_KEY": "ab" * 32,
    "SEAL_PRIVATE_KEY": "-----BEGIN PRIVATE KEY-----\n...\n-----END PRIVATE KEY-----",
    "DATABASE_URL": "postgresql+psycopg://app@db/credit",
    "REDIS_URL": "redis://redis:6379/0",
    "REAL_NAME_VERIFIER": "counter",
}


def test_production_starts_with_every_secret_and_service_set():
    settings = load_settings(environ=GOOD_PROD)
    assert settings.is_production and settings.redis_url == "redis://redis:6379/0"


@pytest.mark.parametrize(
    ("name", "value", "named"),
    [
        ("JWT_SECRET", "", "JWT_SECRET"),
        ("JWT_SECRET", "short", "JWT_SECRET"),
        ("PII_KEY", "", "PII_KEY"),
        ("SEAL_PRIVATE_KEY", "", "SEAL_PRIVATE_KEY"),
        ("DATABASE_URL", "sqlite:///x.db", "DATABASE_URL"),
        ("REDIS_URL", "", "REDIS_URL"),
        ("REAL_NAME_VERIFIER", "checksum", "REAL_NAME_VERIFIER"),
    ],
)
def test_production_refuses_a_default_and_names_the_setting(name, value, named):
    env = dict(GOOD_PROD, **{name: value})
    with pytest.raises(ConfigError, match=named):
        load_settings(environ=env)


def test_a_malformed_pii_key_is_refused_in_any_environment():
    with pytest.raises(ConfigError, match="PII_KEY"):
        load_settings(environ={"PII_KEY": "not-hex", "JWT_SECRET": "j" * 40})


def test_development_generates_and_keeps_its_secrets():
    first = load_settings(environ={})
    second = load_settings(environ={})
    assert first.jwt_secret == second.jwt_secret and len(first.pii_key_bytes) == 32
