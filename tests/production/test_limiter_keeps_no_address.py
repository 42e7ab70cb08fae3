"""The rate limiter counts per client address but stores no address (issue 16 item 1).

The test reads the limiter's storage itself, as someone with access to the Redis server or
the process memory would: every key and every value, searched for the address in every
notation we could think of.
"""

from __future__ import annotations

import base64
import ipaddress
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
from flask import Flask

from authdemo.clock import FrozenClock
from authdemo.extensions import limiter
from tests.conftest import Browser, make_app
from tests.production.conftest import REDIS_HOST, REDIS_PORT, require

ADDRESSES = ("203.0.113.77", "2001:db8:85a3::8a2e:370:7334")


def notations(text: str) -> set[bytes]:
    """The address as text (every common spelling), as packed bytes, hex, base64 and an
    integer, each in upper and lower case where that applies."""
    address = ipaddress.ip_address(text)
    packed = address.packed
    forms = {str(address), address.exploded, hex(int(address))[2:], str(int(address))}
    if isinstance(address, ipaddress.IPv4Address):
        forms |= {f"::ffff:{address}", ".".join(f"{part:03d}" for part in packed)}
        forms.add(address.reverse_pointer.removesuffix(".in-addr.arpa"))
    else:
        forms |= {address.exploded.replace(":", ""), text}
    forms.add(packed.hex())
    found = {form.encode() for form in forms}
    found |= {form.upper().encode() for form in forms}
    found |= {packed, base64.b64encode(packed), base64.b64encode(packed).rstrip(b"=")}
    found.add(base64.urlsafe_b64encode(packed).rstrip(b"="))
    return found


def _exercise(app: Flask, address: str, clock: FrozenClock) -> None:
    """Requests from ``address`` that each per-address limit counts."""
    browser = Browser(app.test_client())
    browser.client.environ_base["REMOTE_ADDR"] = address
    browser.post_json("/api/passkeys/sign-in/options")
    browser.choose_username("someone-new")
    guess = {"username": "ghost", "password": "not it", "code": "000000"}
    assert browser.post_form("/signin/password", guess).status_code == 401
    recovery = {"username": "ghost", "recovery_code": "AAAA-AAAA-AAAA-AAAA"}
    assert browser.post_form("/signin/recovery", recovery).status_code == 401


def _memory_dump(app: Flask) -> bytes:
    with app.app_context():
        storage = limiter.storage
    return repr(vars(storage)).encode()


@pytest.fixture
def redis_index() -> Iterator[int]:
    require("Redis", REDIS_HOST, REDIS_PORT)
    index = int(os.environ.get("AUTHDEMO_TEST_PRODUCTION_REDIS_DB", "14"))
    client = redis.Redis(host=REDIS_HOST, port=REDIS_PORT, db=index)
    client.flushdb()
    yield index
    client.flushdb()


def _redis_dump(index: int) -> bytes:
    client = redis.Redis(host=REDIS_HOST, port=REDIS_PORT, db=index)
    dump = b""
    for key in client.scan_iter(count=1000):
        value = client.dump(key) or b""
        kind = client.type(key)
        if kind == b"list":
            value += b" ".join(client.lrange(key, 0, -1))
        elif kind == b"zset":
            value += b" ".join(client.zrange(key, 0, -1))
        elif kind == b"string":
            value += client.get(key) or b""
        dump += key + b" " + value + b"\n"
    return dump


def _assert_counted_without_the_address(dump: bytes, address: str) -> None:
    assert b"addr:" in dump, "the limiter counted nothing per address"
    leaked = sorted(form for form in notations(address) if form in dump)
    assert leaked == [], f"the limiter storage holds {address} as {leaked}"


@pytest.mark.parametrize("address", ADDRESSES)
def test_memory_storage_holds_no_client_address(
    tmp_path: Path, clock: FrozenClock, address: str
) -> None:
    app = make_app(tmp_path, clock, RATELIMIT_STORAGE_URI="memory-lazy://", REDIS_URL="")
    _exercise(app, address, clock)
    _assert_counted_without_the_address(_memory_dump(app), address)


@pytest.mark.redis
@pytest.mark.parametrize("address", ADDRESSES)
def test_redis_storage_holds_no_client_address(
    tmp_path: Path, clock: FrozenClock, redis_index: int, address: str
) -> None:
    url = f"redis://{REDIS_HOST}:{REDIS_PORT}/{redis_index}"
    app = make_app(tmp_path, clock, RATELIMIT_STORAGE_URI=url)
    _exercise(app, address, clock)
    _assert_counted_without_the_address(_redis_dump(redis_index), address)


def test_the_notations_searched_for_include_the_plain_address() -> None:
    # The search itself must be able to fail: the raw key format would be caught.
    raw_key = b"LIMITER/authdemo/203.0.113.77/address-guessing/20/1/minute"
    assert any(form in raw_key for form in notations("203.0.113.77"))
    assert any(form in b"00cb00714d" for form in notations("203.0.113.77"))
