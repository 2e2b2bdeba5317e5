"""The client's address: X-Forwarded-For is believed only from the proxies PCLOUD_TRUSTED_PROXIES names.

Anyone can send an X-Forwarded-For header, so taken as is it lets a client write any address into the
operation log. Only when the connection comes from a configured proxy is the header read, from the right
(the entry the nearest proxy appended) past every trusted proxy; the first untrusted address is the
client.
"""

from __future__ import annotations

import ipaddress
from functools import lru_cache

from flask import current_app, request

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


@lru_cache(maxsize=16)
def _networks(setting: str) -> tuple[Network, ...]:
    nets = []
    for part in setting.replace(";", ",").split(","):
        if part.strip():
            nets.append(ipaddress.ip_network(part.strip(), strict=False))
    return tuple(nets)


def _trusted(address: str, nets: tuple[Network, ...]) -> bool:
    try:
        ip = ipaddress.ip_address(address.strip())
    except ValueError:
        return False
    return any(ip in net for net in nets)


def client_ip() -> str:
    remote = request.remote_addr or ""
    nets = _networks(current_app.config.get("PCLOUD_TRUSTED_PROXIES") or "")
    if not nets or not _trusted(remote, nets):
        return remote[:64]
    hops = [h.strip() for h in ",".join(request.headers.getlist("X-Forwarded-For")).split(",") if h.strip()]
    for hop in reversed(hops):
        if not _trusted(hop, nets):
            try:
                return str(ipaddress.ip_address(hop))[:64]
            except ValueError:
                return remote[:64]  # garbage from a trusted proxy: keep what we know
    return (hops[0] if hops else remote)[:64]
