"""market.storage: one behavioural suite run against local disk, S3 on moto and S3 on nanio.

moto never verifies signatures nor expires presigned URLs, so signing and expiry of S3 URLs
are tested against nanio only (see tests/s3servers.py).
"""

from __future__ import annotations

import hashlib
import hmac
import io
import random
import time
import tracemalloc
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterable, Iterator
from pathlib import Path
from urllib.parse import parse_qs, quote, unquote, urlsplit

import pytest

from market.storage import (
    CHUNK_SIZE,
    PART_SIZE,
    LocalDiskStorage,
    S3Storage,
    Storage,
    StorageError,
    StoredObject,
    build_storage,
    content_disposition,
    content_sha256,
    validate_key,
)
from s3servers import moto_server, nanio_server

SECRET = b"test-secret-0123456789abcdef0123456789"
BASE_URL = "http://testserver"
MiB = 1024 * 1024
BIG = 25 * MiB + 12345  # not a multiple of any chunk or part size
CN_NAME = "数据报告 2024（第一季度）.csv"


# --------------------------------------------------------------------------- servers & fixtures


@pytest.fixture(scope="module")
def moto_endpoint():
    with moto_server() as endpoint:
        yield endpoint


@pytest.fixture(scope="module")
def nanio_endpoint():
    with nanio_server() as endpoint:
        yield endpoint


def _s3(endpoint: tuple[str, str, str]) -> S3Storage:
    url, access_key, secret_key = endpoint
    s = S3Storage(url, access_key, secret_key, bucket=f"t-{uuid.uuid4().hex[:20]}")
    s.ensure_bucket()
    return s


@pytest.fixture
def local_storage(tmp_path: Path) -> LocalDiskStorage:
    s = LocalDiskStorage(tmp_path / "objects", SECRET, base_url=BASE_URL)
    s.ensure_bucket()
    return s


@pytest.fixture
def nanio_storage(nanio_endpoint) -> S3Storage:
    return _s3(nanio_endpoint)


@pytest.fixture
def moto_storage(moto_endpoint) -> S3Storage:
    return _s3(moto_endpoint)


@pytest.fixture(
    params=[
        pytest.param("local", id="local"),
        pytest.param("moto", id="moto", marks=pytest.mark.s3),
        pytest.param("nanio", id="nanio", marks=pytest.mark.s3),
    ]
)
def storage(request) -> Storage:
    return request.getfixturevalue(f"{request.param}_storage")


# --------------------------------------------------------------------------- helpers


class GenStream(io.RawIOBase):
    """A read-only raw stream backed by a generator of byte chunks; length unknown to readers."""

    def __init__(self, chunks: Iterable[bytes]):
        self._it = iter(chunks)
        self._buf = memoryview(b"")

    def readable(self) -> bool:
        return True

    def readinto(self, b) -> int:
        while not len(self._buf):
            try:
                self._buf = memoryview(next(self._it))
            except StopIteration:
                return 0
        n = min(len(b), len(self._buf))
        b[:n] = self._buf[:n]
        self._buf = self._buf[n:]
        return n


def gen_chunks(total: int, seed: int = 7, fail_after: int | None = None) -> Iterator[bytes]:
    """Deterministic pseudo-random chunks of irregular sizes; raises after ``fail_after`` bytes."""
    rnd = random.Random(seed)
    sent = 0
    while sent < total:
        n = min(rnd.randint(1, 256 * 1024), total - sent)
        if fail_after is not None and sent + n > fail_after:
            raise RuntimeError("source stream broke")
        yield rnd.randbytes(n)
        sent += n


def expected_digest(total: int, seed: int = 7) -> str:
    h = hashlib.sha256()
    for chunk in gen_chunks(total, seed):
        h.update(chunk)
    return h.hexdigest()


def stored_files(root: Path) -> list[str]:
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file())


def s3_keys(s: S3Storage) -> list[str]:
    return sorted(o.object_name for o in s.client.list_objects(s.bucket, recursive=True))


def all_keys(s: Storage) -> list[str]:
    """Everything stored, including temporaries (local: files; S3: objects)."""
    if isinstance(s, LocalDiskStorage):
        return stored_files(s.root)
    return s3_keys(s)


def fetch(s: Storage, url: str) -> tuple[bytes, dict[str, str]]:
    """Download a signed URL. Local: what the /files/ route will do (verify_signed, then open)."""
    if isinstance(s, LocalDiskStorage):
        parts = urlsplit(url)
        assert url.startswith(f"{BASE_URL}/files/")
        key = unquote(parts.path.removeprefix("/files/"))
        q = {k: v[0] for k, v in parse_qs(parts.query).items()}
        s.verify_signed(key, q["expires"], q["sig"], q.get("filename"))
        return b"".join(s.open(key)), {}
    with urllib.request.urlopen(url, timeout=30) as resp:
        assert resp.status == 200
        return resp.read(), dict(resp.headers)


def http_status(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=30) as resp:
            return resp.status
    except urllib.error.HTTPError as exc:
        return exc.code


def assert_code(code: str):
    return pytest.raises(StorageError, match=code.replace(".", r"\."))


# --------------------------------------------------------------------------- behaviour (every backend)


def test_round_trip_with_sha256(storage: Storage):
    data = "地区,人口\n北京,2189\n上海,2487\n".encode() * 100
    obj = storage.put("datasets/42/v1/population.csv", io.BytesIO(data), content_type="text/csv")
    want = hashlib.sha256(data).hexdigest()
    assert obj.sha256 == want == content_sha256(data)
    assert obj.size == len(data)
    assert obj.content_type == "text/csv"
    assert storage.stat(obj.key) == obj
    assert storage.get_bytes(obj.key) == data
    assert b"".join(storage.open(obj.key)) == data
    assert storage.exists(obj.key)


def test_put_bytes_and_empty_object(storage: Storage):
    obj = storage.put_bytes("samples/a.json", b'{"ok": true}', content_type="application/json")
    assert obj == StoredObject("samples/a.json", 12, content_sha256(b'{"ok": true}'), "application/json")
    assert storage.stat("samples/a.json") == obj

    empty = storage.put_bytes("samples/empty.bin", b"")
    assert empty.size == 0 and empty.sha256 == hashlib.sha256(b"").hexdigest()
    assert empty.content_type == "application/octet-stream"
    assert storage.get_bytes("samples/empty.bin") == b""
    assert list(storage.open("samples/empty.bin")) in ([], [b""])
    assert storage.stat("samples/empty.bin") == empty


def test_overwrite_replaces_content_and_metadata(storage: Storage):
    storage.put_bytes("k/v.txt", b"first", content_type="text/plain")
    obj = storage.put_bytes("k/v.txt", b"second version", content_type="text/markdown")
    assert storage.get_bytes("k/v.txt") == b"second version"
    assert storage.stat("k/v.txt") == obj
    assert obj.content_type == "text/markdown"


def test_streams_25mb_of_unknown_length(storage: Storage, request):
    want = expected_digest(BIG)
    stream = GenStream(gen_chunks(BIG))
    tracemalloc.start()
    try:
        obj = storage.put("big/stream.bin", stream)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert (obj.size, obj.sha256) == (BIG, want)
    if isinstance(storage, LocalDiskStorage):
        assert peak < 8 * MiB, f"local put held {peak / MiB:.1f} MiB"
    elif request.node.callspec.params["storage"] == "nanio":  # moto runs in-process: not measurable
        # minio buffers one 10 MiB part (plus copies while splitting and signing it)
        assert peak < 4 * PART_SIZE, f"S3 put held {peak / MiB:.1f} MiB"

    st = storage.stat("big/stream.bin")
    assert (st.size, st.sha256) == (BIG, want)

    h, n, sizes = hashlib.sha256(), 0, []
    for chunk in storage.open("big/stream.bin"):
        h.update(chunk)
        n += len(chunk)
        sizes.append(len(chunk))
    assert (n, h.hexdigest()) == (BIG, want)
    assert len(sizes) > 1 and max(sizes) <= CHUNK_SIZE  # streamed, not slurped
    assert all_keys(storage) == (
        ["big/stream.bin", "big/stream.bin~meta.json"] if isinstance(storage, LocalDiskStorage) else ["big/stream.bin"]
    )


@pytest.mark.parametrize("total", [5 * MiB, 12 * MiB + 3])
def test_stream_with_declared_length(storage: Storage, total: int):
    obj = storage.put("sized.bin", GenStream(gen_chunks(total, seed=3)), length=total)
    assert (obj.size, obj.sha256) == (total, expected_digest(total, seed=3))
    assert storage.stat("sized.bin").sha256 == obj.sha256


def test_declared_length_reads_no_further(storage: Storage):
    stream = io.BytesIO(b"0123456789")
    obj = storage.put("prefix.bin", stream, length=4)
    assert storage.get_bytes("prefix.bin") == b"0123"
    assert obj.size == 4 and stream.tell() == 4


@pytest.mark.parametrize("declared", [100, 12 * MiB])
def test_stream_shorter_than_declared_length_is_refused(storage: Storage, declared: int):
    with assert_code("storage.bad_length"):
        storage.put("short.bin", GenStream(gen_chunks(declared - 1)), length=declared)
    assert not storage.exists("short.bin")
    assert all_keys(storage) == []


@pytest.mark.parametrize("fail_after", [100_000, 15 * MiB], ids=["in-first-part", "mid-multipart"])
def test_failed_put_leaves_nothing_behind(storage: Storage, fail_after: int):
    with pytest.raises(RuntimeError, match="source stream broke"):
        storage.put("broken/file.bin", GenStream(gen_chunks(BIG, fail_after=fail_after)))
    assert not storage.exists("broken/file.bin")
    with assert_code("storage.not_found"):
        storage.stat("broken/file.bin")
    assert all_keys(storage) == []  # no temp file / temporary upload object either


def test_failed_overwrite_keeps_previous_version(storage: Storage):
    old = storage.put_bytes("keep.bin", b"good old bytes")
    with pytest.raises(RuntimeError):
        storage.put("keep.bin", GenStream(gen_chunks(BIG, fail_after=11 * MiB)))
    assert storage.get_bytes("keep.bin") == b"good old bytes"
    assert storage.stat("keep.bin") == old


BAD_KEYS = [
    "",
    "/abs/path",
    "../escape",
    "a/../../b",
    "a/./b",
    ".",
    "a//b",
    "trailing/",
    "back\\slash",
    "nul\x00byte",
    "space here",
    "中文.csv",
    "tilde~x",
    "q?x=1",
    "a" * 513,
]


@pytest.mark.parametrize("key", BAD_KEYS, ids=lambda k: repr(k)[:20])
def test_bad_keys_are_refused(storage: Storage, key: str):
    calls = [
        lambda: storage.put(key, io.BytesIO(b"x")),
        lambda: storage.put_bytes(key, b"x"),
        lambda: storage.open(key),
        lambda: storage.get_bytes(key),
        lambda: storage.stat(key),
        lambda: storage.exists(key),
        lambda: storage.delete(key),
        lambda: storage.signed_url(key, expires_in=60),
    ]
    for call in calls:
        with assert_code("storage.bad_key"):
            call()
    assert all_keys(storage) == []


def test_key_validation_accepts_the_allowed_alphabet():
    assert validate_key("a" * 512) == "a" * 512
    assert validate_key("datasets/2024-01/v1.2_final.CSV") == "datasets/2024-01/v1.2_final.CSV"
    assert validate_key("..a/b..") == "..a/b.."
    with assert_code("storage.bad_key"):
        validate_key(None)  # type: ignore[arg-type]


def test_missing_key_is_not_found(storage: Storage):
    for call in (storage.stat, storage.open, storage.get_bytes):
        with assert_code("storage.not_found"):
            call("no/such/key.csv")
    assert storage.exists("no/such/key.csv") is False


def test_delete_is_idempotent(storage: Storage):
    storage.put_bytes("gone/soon.txt", b"bye")
    storage.delete("gone/soon.txt")
    assert not storage.exists("gone/soon.txt")
    storage.delete("gone/soon.txt")
    storage.delete("never/existed.txt")
    with assert_code("storage.not_found"):
        storage.get_bytes("gone/soon.txt")
    assert all_keys(storage) == []


def test_open_can_be_abandoned_and_reused(storage: Storage):
    storage.put_bytes("partial.bin", b"z" * (3 * CHUNK_SIZE))
    for _ in range(15):  # more than a connection pool holds, if responses leaked
        it = storage.open("partial.bin")
        assert len(next(it)) > 0
        it.close()  # type: ignore[attr-defined]
        with storage.open("partial.bin") as it2:  # type: ignore[attr-defined]
            assert len(next(it2)) > 0
    assert storage.get_bytes("partial.bin") == b"z" * (3 * CHUNK_SIZE)


def test_signed_url_with_chinese_filename(storage: Storage, request):
    data = "名称,值\n甲,1\n".encode()
    storage.put_bytes("exports/report.csv", data, content_type="text/csv")
    url = storage.signed_url("exports/report.csv", expires_in=300, filename=CN_NAME)
    assert url.isascii()
    body, headers = fetch(storage, url)
    assert body == data
    if isinstance(storage, LocalDiskStorage):
        assert parse_qs(urlsplit(url).query)["filename"] == [CN_NAME]
    else:
        disposition = parse_qs(urlsplit(url).query)["response-content-disposition"][0]
        assert disposition == content_disposition(CN_NAME)
        assert f"filename*=UTF-8''{quote(CN_NAME, safe='')}" in disposition
        if request.node.callspec.params["storage"] == "moto":  # nanio ignores response-* overrides
            assert headers.get("Content-Disposition") == content_disposition(CN_NAME)

    plain = storage.signed_url("exports/report.csv", expires_in=300)
    assert fetch(storage, plain)[0] == data


def test_signed_url_expiry_bounds(storage: Storage):
    storage.put_bytes("x.txt", b"x")
    for bad in (0, -5, 7 * 24 * 3600 + 1, 1.5):
        with pytest.raises(ValueError):
            storage.signed_url("x.txt", expires_in=bad)  # type: ignore[arg-type]


def test_content_disposition():
    assert content_disposition("report.csv") == "attachment; filename=\"report.csv\"; filename*=UTF-8''report.csv"
    value = content_disposition('数据"报告\r\n/../x.csv')
    assert "\r" not in value and "\n" not in value
    fallback = value.split('filename="', 1)[1].split('"', 1)[0]
    assert fallback.isascii() and "/" not in fallback and '"' not in fallback
    assert value.endswith("filename*=UTF-8''%E6%95%B0%E6%8D%AE%22%E6%8A%A5%E5%91%8A___.._x.csv")
    assert content_disposition("a.pdf", "inline").startswith("inline; ")


# --------------------------------------------------------------------------- local disk specifics


def test_local_url_format_and_signature(local_storage: LocalDiskStorage):
    url = local_storage.signed_url("a/b.csv", expires_in=60, filename=CN_NAME, now=1_700_000_000)
    expires = "1700000060"
    sig = hmac.new(SECRET, f"a/b.csv\n{expires}\n{CN_NAME}".encode(), hashlib.sha256).hexdigest()
    assert url == f"{BASE_URL}/files/a/b.csv?expires={expires}&sig={sig}&filename={quote(CN_NAME, safe='')}"
    bare = LocalDiskStorage(local_storage.root, SECRET).signed_url("a/b.csv", expires_in=60, now=1_700_000_000)
    sig = hmac.new(SECRET, f"a/b.csv\n{expires}\n".encode(), hashlib.sha256).hexdigest()
    assert bare == f"/files/a/b.csv?expires={expires}&sig={sig}"


def test_local_verify_signed(local_storage: LocalDiskStorage):
    s = local_storage
    # one clock for signing and checking: a stalled machine must not turn "fresh" into "expired"
    now = time.time()
    url = s.signed_url("d/f.csv", expires_in=60, filename=CN_NAME, now=now)
    q = {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}
    exp, sig, name = q["expires"], q["sig"], q["filename"]

    s.verify_signed("d/f.csv", exp, sig, name, now=now)  # fresh
    s.verify_signed("d/f.csv", exp, sig, name, now=int(exp))  # last valid second
    with assert_code("storage.expired"):
        s.verify_signed("d/f.csv", exp, sig, name, now=int(exp) + 1)
    with assert_code("storage.expired"):
        s.verify_signed("d/f.csv", exp, sig, name, now=now + 3600)

    tampered_sig = sig[:-1] + ("0" if sig[-1] != "0" else "1")
    for args in [
        ("d/f.csv", exp, tampered_sig, name),  # signature
        ("d/g.csv", exp, sig, name),  # key
        ("d/f.csv", str(int(exp) + 3600), sig, name),  # expires pushed out
        ("d/f.csv", exp, sig, "其他.csv"),  # filename
        ("d/f.csv", exp, sig, None),  # filename dropped
        ("d/f.csv", "abc", sig, name),  # malformed expires
        ("d/f.csv", "-1", sig, name),
        ("d/f.csv", exp, "", name),
        ("d/f.csv", exp, "签名" * 32, name),  # non-ASCII: no TypeError from compare_digest
        ("d/f.csv", exp, sig.upper(), name),
    ]:
        with assert_code("storage.bad_signature"):
            s.verify_signed(*args)
    with assert_code("storage.bad_key"):
        s.verify_signed("../f.csv", exp, sig, name)
    other = LocalDiskStorage(s.root, b"another-secret-entirely-0123456789")
    with assert_code("storage.bad_signature"):
        other.verify_signed("d/f.csv", exp, sig, name)


def test_local_sidecar_is_not_trusted_when_stale(local_storage: LocalDiskStorage):
    s = local_storage
    s.put_bytes("m/x.txt", b"original", content_type="text/plain")
    (s.root / "m" / "x.txt").write_bytes(b"changed behind our back")  # same inode, new size/mtime
    assert s.stat("m/x.txt").sha256 == content_sha256(b"changed behind our back")
    (s.root / "m" / "x.txt~meta.json").unlink()
    st = s.stat("m/x.txt")
    assert (st.size, st.sha256, st.content_type) == (23, content_sha256(b"changed behind our back"), "application/octet-stream")
    (s.root / "m" / "x.txt~meta.json").write_text("{not json")
    assert s.stat("m/x.txt").sha256 == content_sha256(b"changed behind our back")


def test_local_file_versus_prefix_conflict(local_storage: LocalDiskStorage):
    s = local_storage
    s.put_bytes("a", b"file")
    with assert_code("storage.conflict"):
        s.put_bytes("a/b", b"under a file")
    s.put_bytes("c/d", b"x")
    with assert_code("storage.conflict"):
        s.put_bytes("c", b"over a directory")
    assert not s.exists("c")
    with assert_code("storage.not_found"):
        s.stat("c")
    s.delete("c")  # a directory is not an object: no-op
    assert s.get_bytes("c/d") == b"x"
    assert stored_files(s.root) == ["a", "a~meta.json", "c/d", "c/d~meta.json"]


def test_local_layout_and_no_temp_files(local_storage: LocalDiskStorage):
    s = local_storage
    s.put("x/y/z.bin", GenStream(gen_chunks(3 * MiB)))
    assert stored_files(s.root) == ["x/y/z.bin", "x/y/z.bin~meta.json"]
    assert (s.root / "x" / "y" / "z.bin").stat().st_size == 3 * MiB


def test_local_needs_a_secret(tmp_path: Path):
    with pytest.raises(ValueError):
        LocalDiskStorage(tmp_path, b"")


# --------------------------------------------------------------------------- S3 specifics


@pytest.mark.s3
def test_nanio_presigned_url_signature_and_expiry(nanio_storage: S3Storage):
    s = nanio_storage
    s.put_bytes("signed/data.csv", b"a,b\n1,2\n", content_type="text/csv")

    url = s.signed_url("signed/data.csv", expires_in=300)
    with urllib.request.urlopen(url, timeout=30) as resp:
        assert resp.status == 200
        assert resp.read() == b"a,b\n1,2\n"

    sig = parse_qs(urlsplit(url).query)["X-Amz-Signature"][0]
    tampered = url.replace(sig, sig[:-1] + ("0" if sig[-1] != "0" else "1"))
    assert http_status(tampered) == 403

    named = s.signed_url("signed/data.csv", expires_in=300, filename=CN_NAME)
    assert http_status(named) == 200
    assert http_status(named.replace("%25E6%2595%25B0", "%25E6%2595%25B1")) == 403  # filename is signed
    other_key = url.replace("/signed/data.csv?", "/signed/other.csv?")
    assert http_status(other_key) == 403

    short = s.signed_url("signed/data.csv", expires_in=1)
    time.sleep(2.1)
    assert http_status(short) == 403


@pytest.mark.s3
def test_moto_presigned_url_works(moto_storage: S3Storage):
    moto_storage.put_bytes("m.txt", b"moto bytes")
    url = moto_storage.signed_url("m.txt", expires_in=60)
    assert fetch(moto_storage, url)[0] == b"moto bytes"


@pytest.mark.s3
def test_s3_open_releases_the_response(moto_storage: S3Storage, monkeypatch):
    s = moto_storage
    s.put_bytes("r.bin", b"r" * (2 * CHUNK_SIZE + 1))
    responses = []
    real_get = s.client.get_object

    def spy(*args, **kwargs):
        resp = real_get(*args, **kwargs)
        calls: list[str] = []
        real_close, real_release = resp.close, resp.release_conn
        resp.close = lambda: (calls.append("close"), real_close())[1]
        resp.release_conn = lambda: (calls.append("release"), real_release())[1]
        responses.append(calls)
        return resp

    monkeypatch.setattr(s.client, "get_object", spy)
    assert len(s.get_bytes("r.bin")) == 2 * CHUNK_SIZE + 1  # read to the end
    it = s.open("r.bin")
    next(it)
    it.close()  # type: ignore[attr-defined]  # abandoned half-way
    assert sum(1 for _ in s.open("r.bin")) >= 2  # plain iteration to exhaustion
    assert len(responses) == 3
    for calls in responses:  # (urllib3 may also release on its own at end of stream)
        assert calls[-2:] == ["close", "release"]


@pytest.mark.s3
def test_s3_stat_rehashes_objects_without_metadata(moto_storage: S3Storage):
    s = moto_storage
    s.client.put_object(s.bucket, "foreign.bin", io.BytesIO(b"written by another tool"), length=23)
    st = s.stat("foreign.bin")
    assert (st.size, st.sha256) == (23, content_sha256(b"written by another tool"))


def test_s3_endpoint_parsing():
    s = S3Storage("https://s3.example.com", "ak", "sk", "bucket")
    assert s.endpoint == "https://s3.example.com" and s.client._base_url.is_https
    s = S3Storage("http://127.0.0.1:9000/", "ak", "sk", "bucket", region="cn-north-1")
    assert s.endpoint == "http://127.0.0.1:9000" and not s.client._base_url.is_https
    assert s.region == "cn-north-1"
    for bad in ("127.0.0.1:9000", "ftp://host", "http://host/path", "http://"):
        with pytest.raises(ValueError):
            S3Storage(bad, "ak", "sk", "bucket")


def test_build_storage_picks_the_backend(tmp_path: Path):
    common = dict(
        s3_access_key="ak", s3_secret_key="sk", s3_bucket="market", s3_region="us-east-1",
        objects_dir=tmp_path / "objects", secret=SECRET, base_url="http://x",
    )
    for endpoint in (None, ""):
        local = build_storage(s3_endpoint=endpoint, **common)
        assert isinstance(local, LocalDiskStorage) and local.root == tmp_path / "objects"
        assert isinstance(local, Storage)
    remote = build_storage(s3_endpoint="http://127.0.0.1:1", **common)  # no network at construction
    assert isinstance(remote, S3Storage) and remote.bucket == "market"
    assert isinstance(remote, Storage)


@pytest.mark.s3
def test_unreachable_server_is_storage_unavailable():
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    s = S3Storage(f"http://127.0.0.1:{port}", "ak", "sk", "bucket")
    s.client._http.connection_pool_kw["retries"] = 0  # don't wait through minio's retry back-off
    s.client._http.clear()
    with assert_code("storage.unavailable"):
        s.stat("x")
