"""Settings, read once from the environment (MARKET_* and an optional .env file).

Nothing reads the environment at import time: `Settings.from_env()` is called by the entry points
(`market` CLI, the app factory in tests) and the result is passed down. Every setting has an
embedded default so `make run` needs no configuration; production is configuration only.
"""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from urllib.parse import urlparse

from dotenv import dotenv_values


class ConfigError(Exception):
    """A setting is wrong or missing; the message names the variable so an operator can fix it."""


_PREFIX = "MARKET_"


@dataclass(frozen=True)
class Settings:
    # where state lives in embedded mode: SQLite, objects, the generated secret
    var_dir: Path = Path("var")
    database_url: str = ""  # default: sqlite under var_dir
    # empty: jobs run in-process (a worker inside `market serve`); redis://… or amqp://… otherwise
    broker_url: str = ""
    s3_endpoint: str = ""  # empty: objects on local disk under var_dir/objects
    s3_access_key: str = ""
    s3_secret_key: str = ""
    s3_bucket: str = ""
    s3_region: str = "us-east-1"
    stripe_api_key: str = ""  # empty: payments by bank transfer only
    stripe_webhook_secret: str = ""
    stripe_publishable_key: str = ""  # pk_…: handed to the buyer's browser with a PaymentIntent (Stripe.js)
    stripe_api_base: str = ""  # set to a localstripe URL in tests
    # the platform's collection account, printed on invoices for bank transfers (demo values by default)
    collection_account_name: str = "杭州数据交易所有限公司"
    collection_account_number: str = "3301 0400 0000 0000 0000"
    collection_bank: str = "中国工商银行杭州分行营业部"
    # the platform as seller of record on invoices (数据交易所统一开票; demo values by default) and the
    # 20-digit invoice number: YY + province (GB/T 2260, 33 = 浙江) + channel digit + 15-digit sequence
    invoice_seller_name: str = "杭州数据交易所有限公司"
    invoice_seller_credit_code: str = "91330100342910872R"
    invoice_seller_address: str = "浙江省杭州市上城区钱江路 1366 号"
    invoice_seller_phone: str = "0571-87001234"
    invoice_issuer: str = "平台开票员"  # 开票人 printed on every invoice
    invoice_province_code: str = "33"
    invoice_channel: str = "0"
    secret_key: str = ""  # signs cookies and download URLs; generated into var_dir when empty
    host: str = "127.0.0.1"
    port: int = 8000
    base_url: str = ""  # public URL of the site, used in links sent out of band
    demo_password: str = "demo-2026"
    default_locale: str = "zh"
    # login protection: a burst of wrong passwords locks the account for a while
    login_max_failures: int = 5
    login_lockout_minutes: int = 15
    login_rate_per_minute: int = 20  # per client address, on the login endpoints
    session_hours: int = 12
    # how long a process may trust a cached session/API key before re-reading it; revocation in the
    # same process is immediate, in other processes it takes at most this long
    auth_cache_seconds: int = 5
    password_profile: str = "rfc_9106_low_memory"  # argon2 parameters; "cheapest" only for tests
    worker_threads: int = 2
    outbox_poll_seconds: float = 0.5
    # a job sent but not acknowledged after this long is sent again (the worker may have died)
    outbox_redeliver_seconds: int = 900
    # a job whose attempts failed this many times is set aside as a dead letter (an admin may requeue it)
    job_max_failures: int = 3
    # a running attempt writes a heartbeat this often; one silent for 4 beats, whose process cannot be
    # checked from here (another machine), is taken for dead and its job set aside
    job_heartbeat_seconds: float = 15.0
    listing_notice_days: int = 5  # 公示期 of a listing before it goes on sale
    # the register (登记, 26号): notice of an initial or change filing, validity of a code, and how long
    # before expiry the holder is reminded to renew it (by a change filing)
    registration_notice_days: int = 5
    registration_valid_years: int = 3
    registration_reminder_days: int = 60
    # the regulator's desk: a buyer placing more orders than this in a day is flagged as unusual volume
    oversight_daily_orders: int = 20
    # platform commission on the net amount of a sale, per tier, in basis points (1 bps = 0.01%)
    commission_bps_raw: int = 500
    commission_bps_cleaned: int = 800
    commission_bps_product: int = 1000
    fund_share_bps: int = 3000  # share of each commission posted to the governance fund
    # share of a derived product's net (after commission) passed to the holders of its sources, and by a
    # derived source on to its own sources (issue 9 item 7)
    lineage_share_bps: int = 1000
    vat_bps: int = 600  # VAT on data services (6%), charged on every order's net amount
    acceptance_days: int = 7  # after delivery, the buyer's window to confirm or dispute before release
    order_expiry_days: int = 7  # an order still waiting (approval, signature, payment) this long expires
    # longest term of an authorization agreement (授权运营协议), in years (27号: at most 5)
    authorization_max_term_years: int = 5
    embedded_worker: bool = True  # run a job worker inside `market serve` when no broker is set
    # limits on an uploaded table: each is refused with a clear message before the heavy work starts
    upload_max_columns: int = 1000
    upload_max_line_chars: int = 32 * 1024 * 1024  # one physical line of a text table
    upload_max_cell_chars: int = 16 * 1024 * 1024  # a long WKT geometry fits
    upload_max_sheets: int = 100
    upload_max_unzipped_mb: int = 1024  # what an XLSX declares it unpacks to (zip bombs)
    upload_max_zip_ratio: int = 200  # unpacked/packed size of one big XLSX member
    upload_max_json_depth: int = 32
    # the budget of reading + profiling one version, run in a child process: over it, the version
    # fails with its reason and the serving process lives on
    profile_memory_mb: int = 2048
    profile_seconds: int = 900
    profile_threads: int = 2  # DuckDB threads of one profiling run
    # operators' pipelines (derived products): the engine (duckdb in-process, or spark), Spark's master URL
    # (local[2] on one machine, spark://… or yarn for a cluster), and the budget of one run: over it the
    # run fails alone
    pipeline_engine: str = "duckdb"
    spark_master: str = "local[2]"
    pipeline_memory_mb: int = 1024
    pipeline_seconds: int = 600
    pipeline_threads: int = 2
    # the sandbox (listings.sandbox): smallest group a result may show, queries per buyer and dataset per day,
    # and the budget of one query's locked DuckDB
    sandbox_k: int = 10
    sandbox_daily_queries: int = 100
    sandbox_seconds: float = 10.0
    sandbox_memory_mb: int = 512
    sandbox_threads: int = 1
    # data delivered as a service (issue 10): calls per minute per API key on the metered data API and
    # on verification (429 with Retry-After over it), counted in each serving process
    data_api_rate_per_minute: int = 600
    log_level: str = "INFO"

    # ---- derived -------------------------------------------------------------------------
    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    @property
    def sqlite_path(self) -> Path:
        return Path(self.database_url.removeprefix("sqlite:///"))

    @property
    def objects_dir(self) -> Path:
        return self.var_dir / "objects"

    @property
    def payments_provider(self) -> str:
        return "stripe" if self.stripe_api_key else "bank_transfer"

    @property
    def broker_kind(self) -> str:
        if not self.broker_url:
            return "inprocess"
        return urlparse(self.broker_url).scheme.split("+")[0].replace("rediss", "redis").replace("amqps", "amqp")

    @property
    def public_base_url(self) -> str:
        return self.base_url or f"http://{self.host}:{self.port}"

    # ---- loading -------------------------------------------------------------------------
    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None, env_file: str | Path | None = ".env",
                 **overrides) -> "Settings":
        """Read MARKET_* from a .env file (if present) overlaid by the process environment."""
        values: dict[str, str] = {}
        if env_file and Path(env_file).is_file():
            values.update({k: v for k, v in dotenv_values(env_file).items() if v is not None})
        values.update(os.environ if environ is None else environ)
        kwargs: dict = {}
        for f in fields(cls):
            var = _PREFIX + f.name.upper()
            if var not in values:
                continue
            raw = values[var].strip()
            kwargs[f.name] = _coerce(var, raw, f.type)
        kwargs.update(overrides)
        settings = cls(**kwargs)
        return settings.validated()

    def validated(self) -> "Settings":
        """Fill derived defaults and refuse inconsistent configuration, naming the variable."""
        s = self
        if not s.database_url:
            s = replace(s, database_url=f"sqlite:///{s.var_dir / 'market.sqlite3'}")
        scheme = urlparse(s.database_url).scheme
        if scheme not in ("sqlite", "postgres", "postgresql"):
            raise ConfigError(
                f"MARKET_DATABASE_URL must start with sqlite:/// or postgres:// (got {s.database_url!r})")
        if s.broker_url and s.broker_kind not in ("redis", "amqp"):
            raise ConfigError(
                f"MARKET_BROKER_URL must be redis://… or amqp://… or empty for in-process jobs "
                f"(got {s.broker_url!r})")
        if s.s3_endpoint:
            if urlparse(s.s3_endpoint).scheme not in ("http", "https") or not urlparse(s.s3_endpoint).netloc:
                raise ConfigError(f"MARKET_S3_ENDPOINT must be an http(s) URL (got {s.s3_endpoint!r})")
            for name in ("s3_access_key", "s3_secret_key", "s3_bucket"):
                if not getattr(s, name):
                    raise ConfigError(f"{_PREFIX}{name.upper()} is required when MARKET_S3_ENDPOINT is set")
        if s.stripe_api_key and not s.stripe_webhook_secret:
            raise ConfigError("MARKET_STRIPE_WEBHOOK_SECRET is required when MARKET_STRIPE_API_KEY is set")
        if not (0 < s.port < 65536):
            raise ConfigError(f"MARKET_PORT must be between 1 and 65535 (got {s.port})")
        if s.default_locale not in ("zh", "en"):
            raise ConfigError(f"MARKET_DEFAULT_LOCALE must be zh or en (got {s.default_locale!r})")
        if s.password_profile not in ("rfc_9106_low_memory", "rfc_9106_high_memory", "cheapest"):
            raise ConfigError(f"MARKET_PASSWORD_PROFILE is not a known argon2 profile (got {s.password_profile!r})")
        if s.job_max_failures < 1:
            raise ConfigError(f"MARKET_JOB_MAX_FAILURES must be at least 1 (got {s.job_max_failures})")
        if s.sandbox_seconds <= 0:
            raise ConfigError(f"MARKET_SANDBOX_SECONDS must be positive (got {s.sandbox_seconds})")
        if s.job_heartbeat_seconds <= 0:
            raise ConfigError(f"MARKET_JOB_HEARTBEAT_SECONDS must be positive (got {s.job_heartbeat_seconds})")
        for name in ("upload_max_columns", "upload_max_line_chars", "upload_max_cell_chars", "upload_max_sheets",
                     "upload_max_unzipped_mb", "upload_max_zip_ratio", "upload_max_json_depth", "profile_memory_mb",
                     "profile_seconds", "profile_threads", "pipeline_memory_mb", "pipeline_seconds",
                     "pipeline_threads", "sandbox_k", "sandbox_daily_queries", "sandbox_memory_mb", "sandbox_threads"):
            if getattr(s, name) < 1:
                raise ConfigError(f"{_PREFIX}{name.upper()} must be a positive number (got {getattr(s, name)})")
        if s.pipeline_engine not in ("duckdb", "spark"):
            raise ConfigError(f"MARKET_PIPELINE_ENGINE must be duckdb or spark (got {s.pipeline_engine!r})")
        if not s.is_sqlite and not s.secret_key:
            # several processes must share one key, so it cannot be generated per machine
            raise ConfigError("MARKET_SECRET_KEY is required when MARKET_DATABASE_URL points at PostgreSQL")
        for name in ("commission_bps_raw", "commission_bps_cleaned", "commission_bps_product", "fund_share_bps",
                     "vat_bps", "lineage_share_bps"):
            # a rate above 100% would post more than the sale to the platform and a negative payable
            if not (0 <= getattr(s, name) <= 10_000):
                raise ConfigError(f"{_PREFIX}{name.upper()} must be between 0 and 10000 basis points "
                                  f"(got {getattr(s, name)})")
        if not (len(s.invoice_province_code) == 2 and s.invoice_province_code.isascii()
                and s.invoice_province_code.isdigit()):
            raise ConfigError("MARKET_INVOICE_PROVINCE_CODE must be 2 digits, e.g. 33 "
                              f"(got {s.invoice_province_code!r})")
        if not (len(s.invoice_channel) == 1 and s.invoice_channel.isascii() and s.invoice_channel.isdigit()):
            raise ConfigError(f"MARKET_INVOICE_CHANNEL must be 1 digit (got {s.invoice_channel!r})")
        if s.authorization_max_term_years < 1:
            raise ConfigError("MARKET_AUTHORIZATION_MAX_TERM_YEARS must be at least 1 year "
                              f"(got {s.authorization_max_term_years})")
        for name in ("acceptance_days", "order_expiry_days"):
            if getattr(s, name) < 1:
                raise ConfigError(f"{_PREFIX}{name.upper()} must be at least 1 day (got {getattr(s, name)})")
        if s.secret_key and len(s.secret_key) < 32:
            raise ConfigError("MARKET_SECRET_KEY must be at least 32 characters")
        return s

    def with_secret(self) -> "Settings":
        """Embedded mode: generate the signing secret once and keep it under var_dir."""
        if self.secret_key:
            return self
        path = self.var_dir / "secret_key"
        path.parent.mkdir(parents=True, exist_ok=True)
        if not path.exists():
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w") as fh:
                fh.write(secrets.token_urlsafe(48))
        return replace(self, secret_key=path.read_text().strip())


def _coerce(var: str, raw: str, annotation) -> object:
    kind = annotation if isinstance(annotation, str) else getattr(annotation, "__name__", str(annotation))
    try:
        if kind == "int":
            return int(raw)
        if kind == "float":
            return float(raw)
        if kind == "bool":
            low = raw.lower()
            if low in ("1", "true", "yes", "on"):
                return True
            if low in ("0", "false", "no", "off", ""):
                return False
            raise ValueError(raw)
        if kind == "Path":
            return Path(raw)
    except ValueError:
        raise ConfigError(f"{var} must be a {kind} (got {raw!r})") from None
    return raw


def settings_table() -> list[tuple[str, str]]:
    """(variable, default) pairs, for the README and `market config`."""
    out = []
    for f in fields(Settings):
        default = f.default if f.default is not field else ""
        out.append((_PREFIX + f.name.upper(), str(default)))
    return out
