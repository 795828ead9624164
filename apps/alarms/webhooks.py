"""Where heatops may POST a webhook: never into its own network.

A webhook URL is typed by a person, and heatops' server sends to it: pointed at
``http://127.0.0.1:8086/query?q=...`` it would make the local InfluxDB run a statement,
at 169.254.169.254 read the cloud's metadata, at Redis's port talk to Redis. So a URL is
checked when it is saved (``Webhook.clean``) and again, after DNS, at every send:

- http or https only, and a port in ``HEATOPS_WEBHOOK_PORTS`` (default 80 and 443);
- every address the host resolves to must be a public one: not loopback, link-local,
  private (RFC 1918, unique-local IPv6, shared address space), unspecified, multicast or
  reserved, IPv4-mapped IPv6 judged as its IPv4;
- unless the host is listed in ``HEATOPS_WEBHOOK_ALLOW_HOSTS`` (names or IP literals, an
  administrator's explicit choice, e.g. a chat bridge on the LAN), which skips both.

The send connects to the address that was checked, with the URL's host in the Host
header and as the TLS server name (certificate checked against it), so a DNS answer that
changes between the check and the connection (DNS rebinding) cannot redirect it.
Redirects are not followed and proxy variables from the environment are ignored.
"""

from __future__ import annotations

import ipaddress
import socket
from dataclasses import dataclass
from urllib.parse import urlsplit

import httpx
from django.conf import settings

DEFAULT_PORTS = {"http": 80, "https": 443}


class WebhookRefused(Exception):
    """The URL may not be sent to; the message says why."""


class WebhookUnresolvable(WebhookRefused):
    """The host name does not resolve (now): at send time, worth retrying."""


@dataclass(frozen=True)
class WebhookTarget:
    url: str
    host: str  # the URL's host name: the TLS server name
    host_header: str  # host[:port] as the URL gave it: the Host header
    addresses: list[str]  # every address the host resolved to, all checked

    def url_at(self, address: str) -> str:
        """The URL with ``address`` in place of the host name."""
        return str(httpx.URL(self.url).copy_with(host=address.split("%", 1)[0]))


def address_problem(address: str) -> str:
    """What kind of address heatops must not send to this is ('' if it may)."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if ip.version == 6 and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    for flag, words in (
        ("is_unspecified", "an unspecified address"),
        ("is_loopback", "a loopback address (this machine)"),
        ("is_link_local", "a link-local address (e.g. cloud metadata)"),
        ("is_multicast", "a multicast address"),
        ("is_reserved", "a reserved address"),
        ("is_private", "a private address"),
    ):
        if getattr(ip, flag):
            return words
    return "" if ip.is_global else "not a public address"


def _allowed_hosts() -> set[str]:
    return {h.strip().lower().rstrip(".") for h in settings.HEATOPS_WEBHOOK_ALLOW_HOSTS if h.strip()}


def _resolve(host: str, port: int) -> list[str]:
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise WebhookUnresolvable(f"{host} does not resolve ({exc})") from exc
    return list(dict.fromkeys(info[4][0] for info in infos))


def webhook_target(url: str) -> WebhookTarget:
    """The address to send ``url`` to, checked; raises WebhookRefused saying why not."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme not in DEFAULT_PORTS:
        raise WebhookRefused("Webhooks are sent over http or https only.")
    host = (parts.hostname or "").lower().rstrip(".")
    if not host:
        raise WebhookRefused("The URL needs a host.")
    try:
        port = parts.port or DEFAULT_PORTS[scheme]
    except ValueError as exc:
        raise WebhookRefused("The URL's port is not a number from 1 to 65535.") from exc
    addresses = _resolve(host, port)
    if host not in _allowed_hosts():
        for address in addresses:
            problem = address_problem(address)
            if problem:
                what = f"{host} is" if [host.strip("[]")] == addresses else f"{host} resolves to {address},"
                raise WebhookRefused(
                    f"{what} {problem}: heatops does not send webhooks into its own network "
                    "(an administrator can allow a host with HEATOPS_WEBHOOK_ALLOW_HOSTS)."
                )
        ports = settings.HEATOPS_WEBHOOK_PORTS
        if port not in ports:
            raise WebhookRefused(
                f"Port {port} is not allowed for webhooks (HEATOPS_WEBHOOK_PORTS: "
                f"{', '.join(map(str, ports))})."
            )
    host_header = parts.netloc.rpartition("@")[2]
    return WebhookTarget(url=url, host=host, host_header=host_header, addresses=addresses)


def webhook_url_problem(url: str) -> str:
    """For forms and models: why this URL cannot be a webhook ('' if it can)."""
    try:
        webhook_target(url)
    except WebhookRefused as exc:
        return str(exc)
    return ""


def webhook_post(url: str, *, body: bytes, headers: dict[str, str], timeout: float = 10) -> httpx.Response:
    """POST to the checked address of ``url``. Raises WebhookRefused before any
    connection if it may not be sent to, httpx errors if the send fails."""
    target = webhook_target(url)
    extensions = {"sni_hostname": target.host} if url.lower().startswith("https:") else {}
    with httpx.Client(timeout=timeout, follow_redirects=False, trust_env=False) as client:
        for i, address in enumerate(target.addresses):  # the next address if one refuses
            request = client.build_request(
                "POST",
                target.url_at(address),
                content=body,
                headers={**headers, "Host": target.host_header},
                extensions=extensions,
            )
            try:
                return client.send(request)
            except httpx.ConnectError:
                if i == len(target.addresses) - 1:
                    raise
    raise AssertionError("unreachable: getaddrinfo answers at least one address")
