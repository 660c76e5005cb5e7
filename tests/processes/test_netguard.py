"""The SSRF guard with real resolutions (loopback names, literal link-local and mapped addresses)."""
import pytest

from app.processes.netguard import (
    BlockedAddressError,
    HostResolutionError,
    address_problem,
    check_url,
    check_url_literal,
    origin,
)


def test_localhost_resolves_and_is_allowed_by_default():
    check_url("http://localhost:8123/api/webhook/x")
    check_url("https://127.0.0.1/")
    check_url("http://[::1]:80/")


@pytest.mark.parametrize("url", ["http://localhost:8123/", "http://127.0.0.1/", "http://[::1]/", "http://10.0.0.5/", "http://192.168.1.20/", "http://[fd00::5]/"])
def test_block_private_refuses_loopback_and_lan(url):
    with pytest.raises(BlockedAddressError):
        check_url(url, block_private=True)


@pytest.mark.parametrize(
    "url, problem",
    [
        ("http://169.254.169.254/latest/meta-data/", "link-local"),
        ("http://169.254.0.1/", "link-local"),
        ("http://[fe80::1]/", "link-local"),
        ("http://[::ffff:169.254.169.254]/", "link-local"),
        ("http://[::ffff:a9fe:a9fe]/", "link-local"),
        ("http://2852039166/", "link-local"),
        ("http://0xa9.0xfe.0xa9.0xfe/", "link-local"),
        ("http://0.0.0.0/", "unspecified"),
        ("http://[::]/", "unspecified"),
        ("http://224.0.0.251/", "multicast"),
        ("http://[ff02::1]/", "multicast"),
        ("http://240.0.0.1/", "reserved"),
    ],
)
def test_always_refused_even_when_private_is_allowed(url, problem):
    with pytest.raises(BlockedAddressError, match=problem):
        check_url(url, block_private=False)
    with pytest.raises(BlockedAddressError, match=problem):
        check_url_literal(url, block_private=False)


@pytest.mark.parametrize("url", ["ftp://localhost/", "file:///etc/passwd", "javascript:alert(1)", "http://", "http://[::1/", "http://localhost:99999/"])
def test_only_http_and_https_with_a_host(url):
    with pytest.raises(BlockedAddressError):
        check_url(url)


def test_unresolvable_name_is_a_resolution_error_not_a_block():
    with pytest.raises(HostResolutionError):
        check_url("http://no-such-host.invalid/")
    assert isinstance(HostResolutionError("x"), OSError)
    assert issubclass(BlockedAddressError, ValueError)


def test_literal_check_does_not_resolve_names():
    check_url_literal("http://no-such-host.invalid/", block_private=True)


@pytest.mark.parametrize(
    "address, allowed, allowed_when_blocking_private",
    [
        ("8.8.8.8", True, True),
        ("2606:4700:4700::1111", True, True),
        ("127.0.0.1", True, False),
        ("::1", True, False),
        ("::ffff:127.0.0.1", True, False),
        ("172.16.0.1", True, False),
        ("100.64.0.1", True, False),
        ("64:ff9b::808:808", True, True),
        ("64:ff9b::a9fe:a9fe", False, False),
        ("2002:a9fe:a9fe::1", False, False),
    ],
)
def test_address_table(address, allowed, allowed_when_blocking_private):
    assert (address_problem(address) is None) is allowed
    assert (address_problem(address, block_private=True) is None) is allowed_when_blocking_private


def test_origin_drops_credentials_path_and_query():
    assert origin("https://u:p@Example.org:8443/a/b?token=x#f") == "https://example.org:8443"
    assert origin("http://[::1]/x") == "http://[::1]"


@pytest.mark.parametrize("url", ["http://169.254.169.254./latest", "http://[fe80::1%25eth0]/", "http://0.0.0.0./"])
def test_literal_check_sees_through_trailing_dots_and_zone_ids(url):
    with pytest.raises(BlockedAddressError):
        check_url_literal(url)


@pytest.mark.parametrize("url", ["http://localhost:9/", "http://LOCALHOST./", "http://ha.localhost/"])
def test_literal_check_treats_localhost_names_as_loopback_when_blocking_private(url):
    check_url_literal(url)
    with pytest.raises(BlockedAddressError, match="loopback"):
        check_url_literal(url, block_private=True)
