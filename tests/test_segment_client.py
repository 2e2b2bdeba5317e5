"""pcloud.segments.client against a live gunicorn: OPEN sign-in, token cached and renewed on 401, the
local batch buffer, and the service's refusals as SegmentClientError."""

from __future__ import annotations

from typing import Any

import pytest

from pcloud.segments.client import SegmentClient, SegmentClientError
from tests.conftest import ApiClient, LiveServer

OPEN = "/api/open/admin"


def open_account(api: ApiClient, grant: bool = True) -> dict[str, Any]:
    acct = api.data("POST", f"{OPEN}/account/create", {"name": f"客户端{'' if grant else '（未授权）'}"})
    if grant:
        entries = [e["id"] for e in api.data("POST", f"{OPEN}/resource/list", {})
                   if e["resourceUrl"].startswith("/api/integration/segment/")]
        api.data("POST", f"{OPEN}/resource/grant", {"accountId": acct["id"], "resourceIds": entries})
    return acct


def test_client_ids_token_cache_and_renewal(api: ApiClient, live_server: LiveServer) -> None:
    api.data("POST", "/api/integration/admin/segment/create", {"bizTag": "cli", "step": 100})
    acct = open_account(api)
    client = SegmentClient(live_server.url, acct["secureId"], acct["secureKey"])
    first = [client.next_id("cli") for _ in range(5)]
    batch = client.batch("cli", 1500)
    assert all(isinstance(i, int) for i in first + batch)
    assert len(set(first + batch)) == 1505
    assert batch[:1000] == sorted(batch[:1000]) and batch[1000:] == sorted(batch[1000:])
    assert client.sign_ins == 1 and client.requests == 1 + 5 + 2  # one sign-in, the token reused
    # freezing and unfreezing revokes the token but keeps the key: the client signs in again by itself
    api.data("PUT", f"{OPEN}/account/status", {"id": acct["id"], "status": 2})
    api.data("PUT", f"{OPEN}/account/status", {"id": acct["id"], "status": 0})
    assert client.next_id("cli") not in first
    assert client.sign_ins == 2
    # a reset key: renewal fails and the client hears 401
    api.data("POST", f"{OPEN}/account/{acct['id']}/resetKey")
    with pytest.raises(SegmentClientError) as info:
        client.next_id("cli")
    assert info.value.code == 401
    client.close()


def test_client_local_buffer_and_errors(api: ApiClient, live_server: LiveServer) -> None:
    api.data("POST", "/api/integration/admin/segment/create", {"bizTag": "buf", "step": 10})
    acct = open_account(api)
    client = SegmentClient(live_server.url, acct["secureId"], acct["secureKey"], buffer_size=50)
    ids = [client.next_id("buf") for _ in range(120)]
    assert len(set(ids)) == 120
    assert client.requests == 1 + 3  # sign-in + three batches of 50
    with pytest.raises(SegmentClientError) as info:
        client.next_id("unknown-tag")
    assert info.value.code == 404
    with pytest.raises(SegmentClientError) as info:
        client.batch("bad tag", 3)
    assert info.value.code == 422
    ungranted = open_account(api, grant=False)
    with pytest.raises(SegmentClientError) as info:
        SegmentClient(live_server.url, ungranted["secureId"], ungranted["secureKey"]).next_id("buf")
    assert info.value.code == 403
    with pytest.raises(SegmentClientError) as info:
        SegmentClient(live_server.url, ungranted["secureId"], "wrong").next_id("buf")
    assert info.value.code == 401
    with pytest.raises(ValueError):
        SegmentClient("ftp://x", "a", "b")
