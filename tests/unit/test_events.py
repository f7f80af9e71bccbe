"""Deploy and operation events: one schema, written by the server and read by the client."""

from __future__ import annotations

import json

import pytest
from pydantic import ValidationError

from hangar.api.streams import _lines
from hangar.client.api_client import _event
from hangar.control.events import EventLog


def test_what_the_server_streams_the_client_reads_back_as_the_same_events():
    log = EventLog()
    log.emit("release", "Release v2 created", version=2)
    log.emit("done", "Visit your newly deployed app at http://web.localhost", url="http://x")
    log.close()
    sent = [event for event in log.follow() if event is not None]

    wire = b"".join(_lines(sent)).decode().splitlines()

    assert json.loads(wire[0]) == {"type": "release", "message": "Release v2 created", "version": 2}
    assert [_event(json.loads(line)) for line in wire] == sent


def test_an_unknown_kind_is_refused_where_it_is_emitted():
    with pytest.raises(ValidationError):
        EventLog().emit("finished", "typo'd kind")  # type: ignore[arg-type]


def test_a_newer_servers_kinds_and_fields_reach_an_older_client_as_plain_steps():
    assert _event({"type": "done", "message": "ok", "later_field": 1}).final
    newer = _event({"type": "certificate", "message": "Certificate issued"})
    assert (newer.type, newer.message) == ("phase", "Certificate issued")
