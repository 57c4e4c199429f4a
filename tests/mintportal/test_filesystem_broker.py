"""The embedded default's filesystem broker (mintportal/broker.py): a message file appears whole or not at all.

The first test shows the defect on kombu's own transport, deterministically: a reader that polls in the moment
between the writer creating a message file and filling it (reached through the writer's lock call, which comes
exactly there) parses an empty file and raises, which stops a Celery worker. The portal's transport, through the
same moment, finds nothing yet and then the whole message. The others run real processes and threads publishing
through kombu while competing consumers drain: every message arrives exactly once and nothing raises.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import threading
import time
import uuid
from pathlib import Path
from queue import Empty
from typing import Any

import pytest
from kombu import Connection
from kombu.transport import filesystem

from mintportal import broker
from tests.redis_server import filesystem_broker_options

PUBLISHERS = 3
THREADS_PER_PUBLISHER = 2
MESSAGES_PER_THREAD = 60
CONSUMERS = 2
TOTAL = PUBLISHERS * THREADS_PER_PUBLISHER * MESSAGES_PER_THREAD


def _options(folder: Path) -> dict[str, Any]:
    return {**filesystem_broker_options(folder), "polling_interval": 0.01}


def _channel(transport: type, folder: Path) -> Any:
    return Connection("filesystem://", transport=transport, transport_options=_options(folder)).channel()


def _reading_while_writing(monkeypatch: pytest.MonkeyPatch, reader: Any, results: list[object]) -> None:
    """Makes the writer's exclusive lock, taken after its file exists and before any byte is in it, run a read."""
    real_lock = filesystem.lock

    def lock_then_read(f: Any, flags: int) -> None:
        real_lock(f, flags)
        try:
            results.append(reader._get("q"))
        except (Empty, ValueError) as exc:
            results.append(exc)

    monkeypatch.setattr(filesystem, "lock", lock_then_read)


def test_stock_kombu_reader_meets_a_half_written_message(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    results: list[object] = []
    _reading_while_writing(monkeypatch, _channel(filesystem.Transport, tmp_path), results)

    _channel(filesystem.Transport, tmp_path)._put("q", {"n": 1})

    assert len(results) == 1
    assert isinstance(results[0], json.JSONDecodeError)


def test_portal_reader_never_meets_a_half_written_message(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    results: list[object] = []
    reader = _channel(broker.Transport, tmp_path)
    _reading_while_writing(monkeypatch, reader, results)

    _channel(broker.Transport, tmp_path)._put("q", {"n": 1})

    assert len(results) == 1
    assert isinstance(results[0], Empty)
    assert reader._get("q") == {"n": 1}
    with pytest.raises(Empty):
        reader._get("q")
    assert [p.name for p in Path(_options(tmp_path)["data_folder_in"]).iterdir()] == []


def _stock_style_file(folder: Path, queue: str) -> Path:
    """A message file as kombu's writer leaves it between creating and filling it: named, empty."""
    path = Path(_options(folder)["data_folder_in"]) / f"{round(time.monotonic() * 1000)}_{uuid.uuid4()}.{queue}.msg"
    path.touch()
    return path


def test_a_half_written_stock_message_is_left_for_the_next_poll(tmp_path: Path) -> None:
    reader = _channel(broker.Transport, tmp_path)
    path = _stock_style_file(tmp_path, "q")
    age = broker.UNREADABLE_GRACE - 5
    os.utime(path, (time.time() - age, time.time() - age))

    with pytest.raises(Empty):
        reader._get("q")
    assert path.exists()

    path.write_text(json.dumps({"n": 2}))
    assert reader._get("q") == {"n": 2}
    assert not path.exists()


def test_a_message_unreadable_past_the_grace_is_set_aside_not_raised(tmp_path: Path) -> None:
    reader = _channel(broker.Transport, tmp_path)
    reader._put("q", {"n": 3})
    path = _stock_style_file(tmp_path, "q")
    age = broker.UNREADABLE_GRACE + 5
    os.utime(path, (time.time() - age, time.time() - age))

    # The abandoned file sorts first; the good message behind it still arrives.
    assert reader._get("q") == {"n": 3}
    with pytest.raises(Empty):
        reader._get("q")
    assert not path.exists()
    assert (Path(_options(tmp_path)["processed_folder"]) / f"{path.name}.unreadable").exists()


def _publish(folder: Path, publisher: int) -> None:
    def thread_body(thread: int) -> None:
        with Connection("filesystem://", transport=broker.Transport, transport_options=_options(folder)) as conn:
            queue = conn.SimpleQueue("q")
            for n in range(MESSAGES_PER_THREAD):
                queue.put({"id": f"{publisher}-{thread}-{n}"}, serializer="json")
            queue.close()

    threads = [threading.Thread(target=thread_body, args=(t,)) for t in range(THREADS_PER_PUBLISHER)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()


def _consume(folder: Path, received: Any, seen: Any) -> None:
    """Drains until every published message was received by some consumer; reports each id it got."""
    with Connection("filesystem://", transport=broker.Transport, transport_options=_options(folder)) as conn:
        queue = conn.SimpleQueue("q")
        while seen.value < TOTAL:
            try:
                message = queue.get(block=True, timeout=0.2)
            except Empty:
                continue
            message.ack()
            with seen.get_lock():
                seen.value += 1
            received.put(message.payload["id"])
        queue.close()


def test_concurrent_publishers_and_consumers_deliver_every_message_exactly_once(tmp_path: Path) -> None:
    context = multiprocessing.get_context("fork")
    received = context.Queue()
    seen = context.Value("i", 0)
    # Bind the queue once so that the exchange table exists before the processes race on it.
    with Connection("filesystem://", transport=broker.Transport, transport_options=_options(tmp_path)) as conn:
        conn.SimpleQueue("q").close()
    consumers = [context.Process(target=_consume, args=(tmp_path, received, seen)) for _ in range(CONSUMERS)]
    publishers = [context.Process(target=_publish, args=(tmp_path, p)) for p in range(PUBLISHERS)]
    for process in consumers + publishers:
        process.start()

    ids = [received.get(timeout=60) for _ in range(TOTAL)]
    for process in publishers + consumers:
        process.join(timeout=60)

    assert [p.exitcode for p in publishers + consumers] == [0] * (PUBLISHERS + CONSUMERS)
    expected = {f"{p}-{t}-{n}" for p in range(PUBLISHERS) for t in range(THREADS_PER_PUBLISHER)
                for n in range(MESSAGES_PER_THREAD)}
    assert sorted(ids) == sorted(expected)
    assert received.empty()
    assert os.listdir(_options(tmp_path)["data_folder_in"]) == []


def test_processes_creating_the_exchange_table_at_once_never_leave_it_unreadable(tmp_path: Path) -> None:
    context = multiprocessing.get_context("fork")
    binders = [context.Process(target=_bind_and_read, args=(tmp_path, f"q{i}")) for i in range(6)]
    for process in binders:
        process.start()
    for process in binders:
        process.join(timeout=60)

    assert [p.exitcode for p in binders] == [0] * len(binders)
    table = _channel(broker.Transport, tmp_path).get_table("shared")
    assert sorted(row.queue for row in table) == [f"q{i}" for i in range(6)]


def _bind_and_read(folder: Path, queue: str) -> None:
    channel = _channel(broker.Transport, folder)
    channel._queue_bind("shared", queue, "", queue)
    assert queue in {row.queue for row in channel.get_table("shared")}
