"""put_objects, get_objects and verify_objects against a real S3 server.

scripts/test-s3.sh starts one on 127.0.0.1 and runs this file with
DGEN_S3_ENDPOINT and DGEN_S3_BUCKET set (and the credentials in
AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY); without a server only the
checks of bad input run, and the rest is skipped with a message.
"""

import os

import pytest

import dgen

ENDPOINT = os.environ.get("DGEN_S3_ENDPOINT")
BUCKET = os.environ.get("DGEN_S3_BUCKET")
server = pytest.mark.skipif(
    not (ENDPOINT and BUCKET),
    reason="no S3 server: set DGEN_S3_ENDPOINT and DGEN_S3_BUCKET (scripts/test-s3.sh does)",
)
DATA = dict(dedup_ratio=2, compress_ratio=3, seed=31)


@pytest.mark.parametrize(
    "kwargs, words",
    [
        (dict(url="s3://bench/x/", objects=0, object_size=1), "objects"),
        (dict(url="s3://bench/x/", objects=1, object_size=0), "object size"),
        (dict(url="bench/x/", objects=1, object_size=1), "url"),
        (dict(url="s3://bench/x/", objects=1, object_size=1, part_size=4 << 20), "part_size"),
        (dict(url="s3://bench/x/", objects=1, sizes="uniform:2MiB:1MiB"), "sizes"),
        (dict(url="s3://bench/x/", objects=1), "object_size"),
        (dict(url="s3://bench/x/", objects=1, object_size=1, endpoint="ftp://x"), "endpoint"),
    ],
)
def test_bad_input_is_a_value_error_before_any_request(kwargs, words):
    with pytest.raises(ValueError, match=words):
        dgen.put_objects(**kwargs)


def test_get_and_verify_need_the_seed():
    for f in (dgen.get_objects, dgen.verify_objects):
        with pytest.raises(ValueError, match="seed"):
            f("s3://bench/x/", 1, 4096)


@server
def test_put_get_verify_and_a_wrong_seed():
    url = f"s3://{BUCKET}/py/"
    opts = dict(sizes="uniform:1MiB:9MiB", part_size=5 << 20, jobs=4, endpoint=ENDPOINT, **DATA)
    put = dgen.put_objects(url, 12, create_bucket=True, **opts)
    assert put["objects"] == 12 and put["seed"] == 31 and put["multipart_objects"] > 0
    assert put["request_latency_us"]["p50"] > 0
    got = dgen.get_objects(url, 12, **opts)
    assert got["bytes"] == put["bytes"] and got["first_byte_us"]["p50"] > 0
    ok = dgen.verify_objects(url, 12, **opts)
    assert ok["passed"] and ok["problems"] == []
    with pytest.raises(dgen.MismatchError) as e:
        dgen.verify_objects(url, 12, **dict(opts, seed=32))
    # The sizes follow from the seed too, so some objects are also short.
    report = e.value.report
    assert report["wrong"] + report["short"] == 12 and report["missing"] + report["extra"] == 0
    # The first wrong byte is at or right after the start (a byte may match by chance).
    assert all(p["offset"] < 16 for p in report["problems"]), report["problems"]
    assert report["problems"][0]["key"] == "py/00000000"


@server
def test_a_wrong_secret_is_a_permission_error():
    with pytest.raises(PermissionError, match="403"):
        dgen.put_objects(
            f"s3://{BUCKET}/py-denied/", 1, 4096, endpoint=ENDPOINT, access_key="dgen-test-key", secret_key="wrong"
        )


@server
def test_a_missing_bucket_is_file_not_found():
    with pytest.raises(FileNotFoundError, match="does not exist"):
        dgen.put_objects("s3://dgen-no-such-bucket/x/", 1, 4096, endpoint=ENDPOINT)
