"""Settings: embedded defaults, production by configuration, clear errors naming the variable."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from market.config import ConfigError, Settings

ROOT = Path(__file__).resolve().parents[2]


def test_embedded_defaults():
    s = Settings.from_env({}, env_file=None)
    assert s.is_sqlite and s.database_url == "sqlite:///var/market.sqlite3"
    assert s.broker_kind == "inprocess" and s.payments_provider == "bank_transfer"
    assert s.objects_dir == Path("var/objects") and s.port == 8000 and s.host == "127.0.0.1"


def test_production_by_configuration():
    s = Settings.from_env({
        "MARKET_DATABASE_URL": "postgres://u:p@db:5432/market", "MARKET_BROKER_URL": "amqp://guest:guest@mq:5672/",
        "MARKET_S3_ENDPOINT": "https://minio.internal:9000", "MARKET_S3_ACCESS_KEY": "a", "MARKET_S3_SECRET_KEY": "b",
        "MARKET_S3_BUCKET": "market", "MARKET_STRIPE_API_KEY": "sk_live_x", "MARKET_STRIPE_WEBHOOK_SECRET": "whsec",
        "MARKET_SECRET_KEY": "x" * 40, "MARKET_PORT": "9000",
    }, env_file=None)
    assert not s.is_sqlite and s.broker_kind == "amqp" and s.payments_provider == "stripe" and s.port == 9000


@pytest.mark.parametrize("env,variable", [
    ({"MARKET_PORT": "eighty"}, "MARKET_PORT"),
    ({"MARKET_PORT": "70000"}, "MARKET_PORT"),
    ({"MARKET_DATABASE_URL": "mysql://x"}, "MARKET_DATABASE_URL"),
    ({"MARKET_BROKER_URL": "kafka://x"}, "MARKET_BROKER_URL"),
    ({"MARKET_S3_ENDPOINT": "http://127.0.0.1:9000"}, "MARKET_S3_ACCESS_KEY"),
    ({"MARKET_S3_ENDPOINT": "minio:9000"}, "MARKET_S3_ENDPOINT"),
    ({"MARKET_STRIPE_API_KEY": "sk_test"}, "MARKET_STRIPE_WEBHOOK_SECRET"),
    ({"MARKET_DATABASE_URL": "postgres://db/x"}, "MARKET_SECRET_KEY"),
    ({"MARKET_EMBEDDED_WORKER": "perhaps"}, "MARKET_EMBEDDED_WORKER"),
    ({"MARKET_DEFAULT_LOCALE": "fr"}, "MARKET_DEFAULT_LOCALE"),
])
def test_wrong_setting_names_the_variable(env, variable):
    with pytest.raises(ConfigError) as err:
        Settings.from_env(env, env_file=None)
    assert variable in str(err.value)


def test_dotenv_file_is_read_and_environment_wins(tmp_path):
    env_file = tmp_path / ".env"
    env_file.write_text("MARKET_PORT=8100\nMARKET_LOG_LEVEL=DEBUG\n")
    s = Settings.from_env({"MARKET_PORT": "8200"}, env_file=env_file)
    assert s.port == 8200 and s.log_level == "DEBUG"


def test_secret_is_generated_once_in_embedded_mode(tmp_path):
    s = Settings.from_env({"MARKET_VAR_DIR": str(tmp_path)}, env_file=None)
    first = s.with_secret().secret_key
    assert len(first) >= 32 and s.with_secret().secret_key == first
    assert (tmp_path / "secret_key").stat().st_mode & 0o077 == 0


def test_cli_fails_at_start_naming_the_variable(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "market.cli", "audit", "verify"], cwd=tmp_path,
                          env={"MARKET_PORT": "not-a-port", "PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT)},
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2
    assert "MARKET_PORT" in proc.stderr
