"""Object storage: dataset files, samples, generated documents.

This is the only module that imports ``minio``. Two implementations share one behaviour:

* :class:`LocalDiskStorage` - files under a root directory (embedded / single-host mode);
  downloads go through our own ``/files/<key>`` route with an HMAC-signed URL.
* :class:`S3Storage` - any S3-compatible server (MinIO, AWS S3, ...) through ``minio.Minio``;
  downloads are presigned GET URLs.

The API is synchronous: call it from a worker thread (``anyio.to_thread.run_sync``) or a job.

Invariants both implementations keep:

* keys are validated (:func:`validate_key`) - segments of ``[A-Za-z0-9._-]`` joined by ``/``;
* ``put`` streams: the input is read in 1 MiB chunks, hashed (sha256) and counted as it goes;
  it is never read whole into memory (S3 buffers at most one 10 MiB multipart part);
* a ``put`` that fails (the stream raises, the server refuses, ...) leaves the key as it was
  before: nothing half-written is ever visible under the key;
* ``stat`` returns the sha256 of the stored content (S3: ``x-amz-meta-sha256``; local: a
  sidecar ``<file>~meta.json``; both fall back to re-hashing the content if the record is
  missing or stale);
* ``delete`` is idempotent; a missing key raises ``StorageError("storage.not_found")``.
"""

from __future__ import annotations

import hashlib
import hmac
import io
import json
import logging
import math
import os
import re
import tempfile
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import BinaryIO, Protocol, runtime_checkable
from urllib.parse import quote, urlparse

__all__ = [
    "CHUNK_SIZE",
    "PART_SIZE",
    "LocalDiskStorage",
    "S3Storage",
    "Storage",
    "StorageError",
    "StoredObject",
    "build_storage",
    "content_disposition",
    "content_sha256",
    "validate_key",
]

log = logging.getLogger(__name__)

CHUNK_SIZE = 1024 * 1024  # read/write granularity: 1 MiB
PART_SIZE = 10 * 1024 * 1024  # S3 multipart part size for streams (max object ~97 GiB at 10 000 parts)
MAX_KEY_LENGTH = 512
MAX_SIGNED_URL_SECONDS = 7 * 24 * 3600  # S3's limit for presigned URLs; applied to both backends
DEFAULT_CONTENT_TYPE = "application/octet-stream"

_KEY_RE = re.compile(r"[A-Za-z0-9._-]+(?:/[A-Za-z0-9._-]+)*")
_EXPIRES_RE = re.compile(r"[0-9]{1,12}")
# Names of our own temporary files / objects contain "~", which no valid key can contain.
_LOCAL_TMP_PREFIX = ".~tmp-"
_LOCAL_META_SUFFIX = "~meta.json"
_S3_TMP_PREFIX = ".uploads~/"
_S3_SHA_META = "sha256"  # stored as the x-amz-meta-sha256 header


class StorageError(Exception):
    """A storage operation failed. ``code`` is stable: storage.not_found, storage.bad_key,
    storage.bad_signature, storage.expired, storage.bad_length, storage.conflict,
    storage.backend (the server refused or failed), storage.unavailable (could not reach it)."""

    def __init__(self, code: str, message: str = ""):
        super().__init__(f"{code}: {message}" if message else code)
        self.code = code
        self.message = message


@dataclass(frozen=True)
class StoredObject:
    key: str
    size: int
    sha256: str  # hex
    content_type: str


@runtime_checkable
class Storage(Protocol):
    def ensure_bucket(self) -> None: ...

    def put(
        self,
        key: str,
        stream: BinaryIO,
        *,
        content_type: str = DEFAULT_CONTENT_TYPE,
        length: int | None = None,
    ) -> StoredObject: ...

    def put_bytes(self, key: str, data: bytes, *, content_type: str = DEFAULT_CONTENT_TYPE) -> StoredObject: ...

    def open(self, key: str) -> Iterator[bytes]: ...

    def get_bytes(self, key: str) -> bytes: ...

    def stat(self, key: str) -> StoredObject: ...

    def exists(self, key: str) -> bool: ...

    def delete(self, key: str) -> None: ...

    def signed_url(self, key: str, *, expires_in: int, filename: str | None = None) -> str: ...


# --------------------------------------------------------------------------- helpers


def content_sha256(data: bytes) -> str:
    """Hex sha256 of ``data``."""
    return hashlib.sha256(data).hexdigest()


def validate_key(key: object) -> str:
    """Return ``key`` if it is a valid object key, else raise ``StorageError("storage.bad_key")``.

    Valid: relative, 1..512 chars, ``/``-separated segments of ``[A-Za-z0-9._-]``, no empty,
    ``.`` or ``..`` segment (so no leading/trailing/double slash, backslash, NUL, or traversal).
    """
    if not isinstance(key, str) or not key or len(key) > MAX_KEY_LENGTH or not _KEY_RE.fullmatch(key):
        raise StorageError("storage.bad_key", f"invalid object key {key!r}")
    if any(seg in (".", "..") for seg in key.split("/")):
        raise StorageError("storage.bad_key", f"invalid object key {key!r}")
    return key


def _check_expires_in(expires_in: int) -> int:
    if isinstance(expires_in, bool) or not isinstance(expires_in, int):
        raise ValueError("expires_in must be an int (seconds)")
    if not 1 <= expires_in <= MAX_SIGNED_URL_SECONDS:
        raise ValueError(f"expires_in must be between 1 and {MAX_SIGNED_URL_SECONDS} seconds")
    return expires_in


_RFC5987_SAFE = "!#$&+-.^_`|~"


def content_disposition(filename: str, disposition: str = "attachment") -> str:
    """A Content-Disposition value carrying ``filename`` (RFC 6266 / RFC 5987).

    ``filename=`` gets an ASCII fallback (non-ASCII, quotes, separators and controls become
    ``_``); ``filename*=UTF-8''...`` carries the real (e.g. Chinese) name percent-encoded.
    The local ``/files/`` route should use this too, so both backends answer alike.
    """
    cleaned = "".join(
        "_" if (ord(c) < 32 or ord(c) == 127 or c in "/\\") else c for c in filename
    ).strip() or "download"
    fallback = "".join(c if 32 <= ord(c) < 127 and c not in '"\\' else "_" for c in cleaned)
    encoded = quote(cleaned, safe=_RFC5987_SAFE, encoding="utf-8")
    return f"{disposition}; filename=\"{fallback}\"; filename*=UTF-8''{encoded}"


class _HashingReader:
    """Wraps the caller's stream: reads at most ``CHUNK_SIZE`` per call, hashes and counts.

    With a declared ``length`` it reads exactly that many bytes (never more) and raises
    ``storage.bad_length`` if the stream ends early. Errors from the stream propagate as is.
    """

    def __init__(self, stream: BinaryIO, length: int | None):
        if length is not None and (isinstance(length, bool) or not isinstance(length, int) or length < 0):
            raise ValueError("length must be a non-negative int or None")
        self._stream = stream
        self._length = length
        self._hash = hashlib.sha256()
        self.size = 0

    def read(self, n: int | None = -1) -> bytes:
        if n is None or n < 0 or n > CHUNK_SIZE:
            n = CHUNK_SIZE
        if self._length is not None:
            n = min(n, self._length - self.size)
        if n <= 0:
            return b""
        data = self._stream.read(n)
        if not data:  # EOF (a non-blocking raw stream's None counts as EOF too)
            if self._length is not None and self.size < self._length:
                raise StorageError(
                    "storage.bad_length", f"stream ended after {self.size} of {self._length} bytes"
                )
            return b""
        if not isinstance(data, bytes):
            data = bytes(data)
        if len(data) > n:  # a misbehaving stream; never accept more than asked
            raise StorageError("storage.bad_length", "stream returned more bytes than requested")
        self._hash.update(data)
        self.size += len(data)
        return data

    @property
    def sha256(self) -> str:
        return self._hash.hexdigest()


class _ChainReader:
    """Serves an already-read head buffer, then the rest of a reader."""

    def __init__(self, head: bytes, rest: _HashingReader):
        self._head: memoryview | None = memoryview(head)
        self._rest = rest

    def read(self, n: int | None = -1) -> bytes:
        if n is None or n < 0:
            n = CHUNK_SIZE
        if self._head is not None:
            out = bytes(self._head[:n])
            self._head = self._head[n:]
            if not len(self._head):
                self._head.release()
                self._head = None
            if out:
                return out
        return self._rest.read(n)


class _ChunkIterator(Iterator[bytes]):
    """Iterator over chunks that releases its resource when exhausted, on error, on ``close()``
    (also usable as a context manager) or when garbage-collected."""

    def __init__(self, chunks: Iterator[bytes], release):
        self._chunks = chunks
        self._release = release

    def __iter__(self) -> _ChunkIterator:
        return self

    def __next__(self) -> bytes:
        if self._release is None:
            raise StopIteration
        try:
            return next(self._chunks)
        except BaseException:
            self.close()
            raise

    def close(self) -> None:
        release, self._release = self._release, None
        if release is not None:
            release()

    def __enter__(self) -> _ChunkIterator:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def __del__(self) -> None:
        try:
            self.close()
        except Exception:
            pass


# --------------------------------------------------------------------------- local disk


class LocalDiskStorage:
    """Objects as files under ``root``; metadata in a sidecar ``<file>~meta.json``.

    Writes go to a temp file in the target directory, are fsynced, then ``os.replace``d over
    the key. Temp and sidecar names contain ``~`` so they can never collide with a key.
    The sidecar records the content file's inode/size/mtime: if it is missing or does not
    match (e.g. a crash between the two renames), ``stat`` re-hashes the file instead.
    """

    def __init__(self, root: Path, secret: bytes, base_url: str = ""):
        if not isinstance(secret, (bytes, bytearray)) or not secret:
            raise ValueError("LocalDiskStorage needs a non-empty bytes secret to sign URLs")
        self.root = Path(root)
        self._secret = bytes(secret)
        self.base_url = base_url.rstrip("/")

    def __repr__(self) -> str:
        return f"LocalDiskStorage(root={str(self.root)!r})"

    # paths

    def _path(self, key: str) -> Path:
        return self.root.joinpath(*validate_key(key).split("/"))

    @staticmethod
    def _meta_path(path: Path) -> Path:
        return path.with_name(path.name + _LOCAL_META_SUFFIX)

    def ensure_bucket(self) -> None:
        self.root.mkdir(parents=True, exist_ok=True)

    # writing

    def put(
        self,
        key: str,
        stream: BinaryIO,
        *,
        content_type: str = DEFAULT_CONTENT_TYPE,
        length: int | None = None,
    ) -> StoredObject:
        path = self._path(key)
        reader = _HashingReader(stream, length)
        content_type = content_type or DEFAULT_CONTENT_TYPE
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except (FileExistsError, NotADirectoryError) as exc:
            raise StorageError("storage.conflict", f"a parent of {key!r} is an object") from exc
        if path.is_dir():
            raise StorageError("storage.conflict", f"{key!r} is a prefix of other objects")

        tmp_data = tmp_meta = None
        try:
            fd, tmp_data = tempfile.mkstemp(dir=path.parent, prefix=_LOCAL_TMP_PREFIX, suffix=".part")
            with os.fdopen(fd, "wb") as f:
                while chunk := reader.read(CHUNK_SIZE):
                    f.write(chunk)
                f.flush()
                os.fsync(f.fileno())
                st = os.fstat(f.fileno())
            obj = StoredObject(key=key, size=reader.size, sha256=reader.sha256, content_type=content_type)
            meta = {
                "sha256": obj.sha256,
                "size": obj.size,
                "content_type": obj.content_type,
                "ino": st.st_ino,
                "mtime_ns": st.st_mtime_ns,
            }
            fd, tmp_meta = tempfile.mkstemp(dir=path.parent, prefix=_LOCAL_TMP_PREFIX, suffix=".meta")
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                json.dump(meta, f)
            os.replace(tmp_data, path)  # rename keeps inode and mtime: the sidecar still matches
            tmp_data = None
            os.replace(tmp_meta, self._meta_path(path))
            tmp_meta = None
            return obj
        except IsADirectoryError as exc:
            raise StorageError("storage.conflict", f"{key!r} is a prefix of other objects") from exc
        finally:
            for leftover in (tmp_data, tmp_meta):
                if leftover is not None:
                    try:
                        os.unlink(leftover)
                    except FileNotFoundError:
                        pass

    def put_bytes(self, key: str, data: bytes, *, content_type: str = DEFAULT_CONTENT_TYPE) -> StoredObject:
        return self.put(key, io.BytesIO(data), content_type=content_type, length=len(data))

    # reading

    def _open_file(self, key: str):
        path = self._path(key)
        try:
            return open(path, "rb")  # noqa: SIM115 - closed by the iterator
        except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
            raise StorageError("storage.not_found", f"no object {key!r}") from None

    def open(self, key: str) -> Iterator[bytes]:
        f = self._open_file(key)
        return _ChunkIterator(iter(lambda: f.read(CHUNK_SIZE), b""), f.close)

    def get_bytes(self, key: str) -> bytes:
        with self._open_file(key) as f:
            return f.read()

    def stat(self, key: str) -> StoredObject:
        path = self._path(key)
        try:
            st = path.stat()
        except (FileNotFoundError, NotADirectoryError):
            raise StorageError("storage.not_found", f"no object {key!r}") from None
        if not path.is_file():
            raise StorageError("storage.not_found", f"no object {key!r}")
        try:
            meta = json.loads(self._meta_path(path).read_text(encoding="utf-8"))
            if (meta["ino"], meta["size"], meta["mtime_ns"]) == (st.st_ino, st.st_size, st.st_mtime_ns):
                return StoredObject(key=key, size=st.st_size, sha256=meta["sha256"], content_type=meta["content_type"])
        except (OSError, ValueError, KeyError, TypeError):
            pass
        # No trustworthy sidecar: hash the content itself.
        h = hashlib.sha256()
        size = 0
        for chunk in self.open(key):
            h.update(chunk)
            size += len(chunk)
        return StoredObject(key=key, size=size, sha256=h.hexdigest(), content_type=DEFAULT_CONTENT_TYPE)

    def exists(self, key: str) -> bool:
        return self._path(key).is_file()

    def delete(self, key: str) -> None:
        path = self._path(key)
        for p in (path, self._meta_path(path)):
            try:
                os.unlink(p)
            except (FileNotFoundError, NotADirectoryError, IsADirectoryError):
                pass

    # signed URLs (served by the web layer's /files/ route)

    def _sign(self, key: str, expires: str, filename: str | None) -> str:
        msg = f"{key}\n{expires}\n{filename or ''}".encode()
        return hmac.new(self._secret, msg, hashlib.sha256).hexdigest()

    def signed_url(self, key: str, *, expires_in: int, filename: str | None = None, now: float | None = None) -> str:
        validate_key(key)
        expires = str(int(time.time() if now is None else now) + _check_expires_in(expires_in))
        url = f"{self.base_url}/files/{key}?expires={expires}&sig={self._sign(key, expires, filename)}"
        if filename:
            url += f"&filename={quote(filename, safe='')}"
        return url

    def verify_signed(
        self, key: str, expires: str, sig: str, filename: str | None, now: float | None = None
    ) -> None:
        """Check a ``/files/<key>?expires=..&sig=..[&filename=..]`` request (values already
        URL-decoded). Raises ``storage.bad_key``, ``storage.bad_signature`` or ``storage.expired``."""
        validate_key(key)
        if not isinstance(expires, str) or not _EXPIRES_RE.fullmatch(expires) or not isinstance(sig, str):
            raise StorageError("storage.bad_signature", "malformed signed URL")
        expected = self._sign(key, expires, filename).encode()
        if not hmac.compare_digest(expected, sig.encode("utf-8", "surrogateescape")):
            raise StorageError("storage.bad_signature", "signature does not match")
        if (time.time() if now is None else now) > int(expires):
            raise StorageError("storage.expired", "signed URL has expired")


# --------------------------------------------------------------------------- S3


_NOT_FOUND_CODES = {"NoSuchKey", "NoSuchObject", "NotFound", "ResourceNotFound"}


class _s3_errors:
    """Context manager mapping minio/urllib3 failures to StorageError (stream errors pass through)."""

    def __init__(self, key: str | None = None):
        self.key = key

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc, tb):
        if exc is None or isinstance(exc, StorageError):
            return False
        from minio.error import InvalidResponseError, S3Error, ServerError
        from urllib3.exceptions import HTTPError

        if isinstance(exc, S3Error):
            if exc.code in _NOT_FOUND_CODES:
                raise StorageError("storage.not_found", f"no object {self.key!r}") from exc
            raise StorageError("storage.backend", f"S3 {exc.code}: {exc.message}") from exc
        if isinstance(exc, (ServerError, InvalidResponseError)):
            raise StorageError("storage.backend", str(exc)) from exc
        if isinstance(exc, HTTPError):
            raise StorageError("storage.unavailable", str(exc)) from exc
        return False


class S3Storage:
    """Objects in one bucket of an S3-compatible server.

    ``put``: a stream that ends within one part (10 MiB) is buffered (as minio would anyway),
    hashed, and PUT with ``x-amz-meta-sha256`` in one request. A longer stream is uploaded by
    multipart to a temporary key under ``.uploads~/`` and then server-side copied to the key
    with the sha256 metadata (``REPLACE`` directive); the temporary object is always removed,
    so the key only ever shows complete content. (Give ``.uploads~/`` a lifecycle expiry in
    production to sweep leftovers of crashed processes.)

    ``stat`` falls back to re-hashing the object when the metadata is missing (objects written
    by other tools, or servers that ignore the copy's REPLACE directive, e.g. nanio).
    """

    def __init__(self, endpoint: str, access_key: str, secret_key: str, bucket: str, region: str = "us-east-1"):
        from minio import Minio

        parsed = urlparse(endpoint)
        if parsed.scheme not in ("http", "https") or not parsed.netloc or parsed.path not in ("", "/"):
            raise ValueError(f"S3 endpoint must be http(s)://host[:port] (got {endpoint!r})")
        if parsed.query or parsed.fragment or parsed.username:
            raise ValueError(f"S3 endpoint must be http(s)://host[:port] (got {endpoint!r})")
        if not bucket:
            raise ValueError("S3 bucket is required")
        self.endpoint = f"{parsed.scheme}://{parsed.netloc}"
        self.bucket = bucket
        self.region = region or "us-east-1"
        self.client = Minio(
            parsed.netloc,
            access_key=access_key,
            secret_key=secret_key,
            secure=parsed.scheme == "https",
            region=self.region,  # known region: presigning needs no network round-trip
        )

    def __repr__(self) -> str:
        return f"S3Storage(endpoint={self.endpoint!r}, bucket={self.bucket!r})"

    def ensure_bucket(self) -> None:
        with _s3_errors():
            if self.client.bucket_exists(self.bucket):
                return
            try:
                self.client.make_bucket(self.bucket, location=self.region)
            except Exception as exc:  # lost a race with another process: fine
                if getattr(exc, "code", None) not in ("BucketAlreadyOwnedByYou", "BucketAlreadyExists"):
                    raise

    # writing

    def put(
        self,
        key: str,
        stream: BinaryIO,
        *,
        content_type: str = DEFAULT_CONTENT_TYPE,
        length: int | None = None,
    ) -> StoredObject:
        validate_key(key)
        content_type = content_type or DEFAULT_CONTENT_TYPE
        reader = _HashingReader(stream, length)

        if length is None or length <= PART_SIZE:
            # Read up to one part (+1 byte to detect the end), exactly what minio would buffer.
            chunks: list[bytes] = []
            got = 0
            while got <= PART_SIZE:
                chunk = reader.read(CHUNK_SIZE)
                if not chunk:
                    break
                chunks.append(chunk)
                got += len(chunk)
            head = b"".join(chunks)
            del chunks
            if got <= PART_SIZE:
                return self._put_small(key, head, content_type, reader.sha256)
        else:
            head = b""

        # Large: multipart to a temporary key, then copy into place with the sha256 metadata.
        from minio.commonconfig import REPLACE, CopySource

        tmp_key = f"{_S3_TMP_PREFIX}{uuid.uuid4().hex}"
        source = _ChainReader(head, reader)
        del head
        if length is None:
            part_size, put_length = PART_SIZE, -1
        else:
            per_part = math.ceil(length / 10_000)
            part_size = max(PART_SIZE, math.ceil(per_part / CHUNK_SIZE) * CHUNK_SIZE)
            put_length = length
        try:
            with _s3_errors(key):
                self.client.put_object(
                    self.bucket, tmp_key, source, length=put_length, part_size=part_size, content_type=content_type
                )
            obj = StoredObject(key=key, size=reader.size, sha256=reader.sha256, content_type=content_type)
            with _s3_errors(key):
                self.client.copy_object(
                    self.bucket,
                    key,
                    CopySource(self.bucket, tmp_key),
                    metadata={"Content-Type": content_type, f"x-amz-meta-{_S3_SHA_META}": obj.sha256},
                    metadata_directive=REPLACE,
                )
            return obj
        finally:
            try:
                self.client.remove_object(self.bucket, tmp_key)
            except Exception:  # noqa: BLE001 - best effort; the lifecycle rule sweeps the rest
                log.warning("could not remove temporary upload %s/%s", self.bucket, tmp_key, exc_info=True)

    def _put_small(self, key: str, data: bytes, content_type: str, sha256: str) -> StoredObject:
        with _s3_errors(key):
            self.client.put_object(
                self.bucket,
                key,
                io.BytesIO(data),
                length=len(data),
                content_type=content_type,
                metadata={f"x-amz-meta-{_S3_SHA_META}": sha256},
            )
        return StoredObject(key=key, size=len(data), sha256=sha256, content_type=content_type)

    def put_bytes(self, key: str, data: bytes, *, content_type: str = DEFAULT_CONTENT_TYPE) -> StoredObject:
        validate_key(key)
        if len(data) <= PART_SIZE:
            return self._put_small(key, bytes(data), content_type or DEFAULT_CONTENT_TYPE, content_sha256(data))
        return self.put(key, io.BytesIO(data), content_type=content_type, length=len(data))

    # reading

    def open(self, key: str) -> Iterator[bytes]:
        validate_key(key)
        with _s3_errors(key):
            response = self.client.get_object(self.bucket, key)

        def release() -> None:
            response.close()
            response.release_conn()

        def chunks() -> Iterator[bytes]:
            with _s3_errors(key):
                yield from response.stream(CHUNK_SIZE)

        return _ChunkIterator(chunks(), release)

    def get_bytes(self, key: str) -> bytes:
        with self.open(key) as chunks:  # type: ignore[attr-defined]
            return b"".join(chunks)

    def stat(self, key: str) -> StoredObject:
        validate_key(key)
        with _s3_errors(key):
            info = self.client.stat_object(self.bucket, key)
        size = int(info.size or 0)
        content_type = info.content_type or DEFAULT_CONTENT_TYPE
        sha = (info.metadata or {}).get(f"x-amz-meta-{_S3_SHA_META}")
        if sha and re.fullmatch(r"[0-9a-f]{64}", sha):
            return StoredObject(key=key, size=size, sha256=sha, content_type=content_type)
        h = hashlib.sha256()
        n = 0
        with self.open(key) as chunks:  # type: ignore[attr-defined]
            for chunk in chunks:
                h.update(chunk)
                n += len(chunk)
        return StoredObject(key=key, size=n, sha256=h.hexdigest(), content_type=content_type)

    def exists(self, key: str) -> bool:
        validate_key(key)
        try:
            with _s3_errors(key):
                self.client.stat_object(self.bucket, key)
        except StorageError as exc:
            if exc.code == "storage.not_found":
                return False
            raise
        return True

    def delete(self, key: str) -> None:
        validate_key(key)
        with _s3_errors(key):
            self.client.remove_object(self.bucket, key)

    def signed_url(self, key: str, *, expires_in: int, filename: str | None = None) -> str:
        validate_key(key)
        headers = {"response-content-disposition": content_disposition(filename)} if filename else None
        with _s3_errors(key):
            return self.client.presigned_get_object(
                self.bucket, key, expires=timedelta(seconds=_check_expires_in(expires_in)), response_headers=headers
            )


# --------------------------------------------------------------------------- wiring


def build_storage(
    *,
    s3_endpoint: str | None,
    s3_access_key,
    s3_secret_key,
    s3_bucket,
    s3_region,
    objects_dir: Path,
    secret: bytes,
    base_url: str = "",
) -> Storage:
    """S3 when ``s3_endpoint`` is set, else local disk under ``objects_dir``.
    Neither touches the network or disk here: call ``ensure_bucket()`` at start-up."""
    if s3_endpoint:
        return S3Storage(
            s3_endpoint, s3_access_key or "", s3_secret_key or "", s3_bucket or "", s3_region or "us-east-1"
        )
    return LocalDiskStorage(Path(objects_dir), secret, base_url)
