"""Process-wide services built once from settings: the object store (and later the payment gateway).

Web handlers get them from app state; jobs, which run outside any request, get them here.
"""

from __future__ import annotations

from market.config import Settings
from market.storage import Storage, build_storage

_settings: Settings | None = None
_storage: Storage | None = None


def configure(settings: Settings) -> None:
    global _settings, _storage
    _settings = settings
    _storage = None


def settings() -> Settings:
    if _settings is None:
        raise RuntimeError("market.runtime.configure(settings) was not called")
    return _settings


def storage() -> Storage:
    global _storage
    if _storage is None:
        s = settings()
        _storage = build_storage(
            s3_endpoint=s.s3_endpoint or None, s3_access_key=s.s3_access_key, s3_secret_key=s.s3_secret_key,
            s3_bucket=s.s3_bucket, s3_region=s.s3_region, objects_dir=s.objects_dir, secret=s.secret_key.encode(),
            base_url="")
        _storage.ensure_bucket()
    return _storage
