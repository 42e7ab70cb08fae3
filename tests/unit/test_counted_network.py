"""What the per-address rate limits count (authdemo.ratelimit.counted_network)."""

from __future__ import annotations

import pytest

from authdemo.ratelimit import counted_network


@pytest.mark.parametrize(
    ("address", "counted"),
    [
        ("192.0.2.1", "192.0.2.1"),
        ("2001:db8:a:b:1:2:3:4", "2001:db8:a:b::/64"),
        ("2001:DB8:A:B::", "2001:db8:a:b::/64"),  # one notation per network
        ("::ffff:192.0.2.1", "192.0.2.1"),  # IPv4-mapped: the IPv4 address
        ("fe80::1%eth0", "fe80::/64"),  # a zone index names no other client
        ("", ""),  # no address at all: one bucket, as before
        ("not an address", "not an address"),  # a proxy header gone wrong: counted as given
    ],
)
def test_each_client_is_counted_by_the_network_it_controls(address: str, counted: str) -> None:
    assert counted_network(address) == counted
