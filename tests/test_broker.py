"""The embedded mode's broker: kombu's filesystem transport with message files that appear whole."""
import builtins
import os
from concurrent.futures import ThreadPoolExecutor
from contextlib import suppress

import pytest
from kombu import Connection
from kombu.exceptions import ChannelError
from kombu.transport.virtual import Empty

from config import broker
from config.broker import Transport
from tests.test_settings import run

QUEUE = "inference.org.model"  # runtimes' queue names hold dots


@pytest.fixture
def channel(tmp_path):
    folder = tmp_path / "queue"
    folder.mkdir()
    connection = Connection(transport=Transport, transport_options={
        "data_folder_in": str(folder), "data_folder_out": str(folder), "store_processed": False,
        "control_folder": str(tmp_path / "control")})
    channel = connection.default_channel
    yield channel
    connection.release()


class PollingWhileWriting:
    """A message file opened for writing that, before each write, has a consumer poll the queue."""

    def __init__(self, file, poll):
        self.file, self.poll = file, poll

    def write(self, data):
        self.poll()
        return self.file.write(data)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.file.close()

    def __getattr__(self, name):
        return getattr(self.file, name)


def test_a_message_being_written_is_not_visible_to_a_consumer(channel, monkeypatch):
    """kombu's own _put left an empty file under the queue's name while it wrote: a worker polling
    then read it empty and its consumer died on the JSON error (celery/kombu#1551)."""
    seen_while_writing = []

    def poll():
        try:
            seen_while_writing.append(channel._get(QUEUE))
        except Empty:
            seen_while_writing.append(None)

    real_open = builtins.open

    def open_for_put(file, mode="r", *args, **kwargs):
        opened = real_open(file, mode, *args, **kwargs)
        return PollingWhileWriting(opened, poll) if "w" in mode else opened

    monkeypatch.setattr(builtins, "open", open_for_put)
    channel._put(QUEUE, {"body": "x" * 10_000})
    monkeypatch.undo()

    assert seen_while_writing == [None]
    assert channel._get(QUEUE) == {"body": "x" * 10_000}


def test_messages_come_back_whole_and_in_order(channel):
    for n in range(3):
        channel._put(QUEUE, {"n": n})
    channel._put("default", {"n": "other queue"})

    assert [channel._get(QUEUE)["n"] for _ in range(3)] == [0, 1, 2]
    with pytest.raises(Empty):
        channel._get(QUEUE)
    assert channel._get("default") == {"n": "other queue"}


def test_a_failed_write_leaves_nothing_in_the_queue(channel, tmp_path, monkeypatch):
    real_open = builtins.open

    class DiskFull(PollingWhileWriting):
        def write(self, data):
            raise OSError(28, "No space left on device")

    def open_on_a_full_disk(file, mode="r", *args, **kwargs):
        return DiskFull(real_open(file, mode, *args, **kwargs), None)

    monkeypatch.setattr(builtins, "open", open_on_a_full_disk)
    with pytest.raises(ChannelError, match="Cannot add file"):
        channel._put(QUEUE, {"n": 1})
    monkeypatch.undo()

    assert os.listdir(tmp_path / "queue") == []


def test_a_file_cut_short_by_an_earlier_writer_is_skipped(channel, tmp_path, caplog):
    (tmp_path / "queue" / f"0.{QUEUE}.msg").write_text("")  # kombu's own, cut short; sorts first
    channel._put(QUEUE, {"n": 1})

    assert channel._get(QUEUE) == {"n": 1}
    assert "not whole JSON" in caplog.text
    with pytest.raises(Empty):
        channel._get(QUEUE)


def test_each_message_is_taken_by_one_consumer_only(channel, tmp_path):
    consumers = [Connection(transport=Transport, transport_options=channel.transport_options) for _ in range(4)]
    for n in range(40):
        channel._put(QUEUE, {"n": n})

    def drain(connection) -> list[int]:
        taken = []
        with suppress(Empty):
            while True:
                taken.append(connection.default_channel._get(QUEUE)["n"])
        return taken

    with ThreadPoolExecutor(len(consumers)) as pool:
        taken = [n for batch in pool.map(drain, consumers) for n in batch]
    for connection in consumers:
        connection.release()

    assert sorted(taken) == list(range(40))
    assert os.listdir(tmp_path / "queue") == []


def test_a_processed_message_is_kept_when_asked(tmp_path):
    folder, processed = tmp_path / "queue", tmp_path / "processed"
    folder.mkdir()
    processed.mkdir()
    connection = Connection(transport=Transport, transport_options={
        "data_folder_in": str(folder), "data_folder_out": str(folder), "store_processed": True,
        "processed_folder": str(processed), "control_folder": str(tmp_path / "control")})
    connection.default_channel._put(QUEUE, {"n": 1})

    assert connection.default_channel._get(QUEUE) == {"n": 1}
    assert [path.name.endswith(f".{QUEUE}.msg") for path in processed.iterdir()] == [True]
    connection.release()


def test_an_exchange_table_still_being_created_reads_as_no_bindings(channel, tmp_path):
    """kombu's own binder creates the table file empty, then locks and writes it: a worker
    publishing to the exchange in between died on the JSON error."""
    (tmp_path / "control").mkdir()
    (tmp_path / "control" / "celery.pidbox.exchange").write_bytes(b"")

    assert channel.get_table("celery.pidbox") == []


def test_binding_to_an_exchange_table_still_being_created_adds_to_it(channel, tmp_path):
    (tmp_path / "control").mkdir()
    (tmp_path / "control" / "celery.pidbox.exchange").write_bytes(b"")

    channel._queue_bind("celery.pidbox", "", "", "worker-a")
    channel._queue_bind("celery.pidbox", "", "", "worker-b")
    channel._queue_bind("celery.pidbox", "", "", "worker-a")

    assert [binding.queue for binding in channel.get_table("celery.pidbox")] == ["worker-b", "worker-a"]


def test_unbinding_removes_only_that_queue(channel):
    for queue in ("worker-a", "worker-b"):
        channel._queue_bind("celery.pidbox", "", "", queue)

    channel._delete("worker-a", "celery.pidbox", "", "")

    assert [binding.queue for binding in channel.get_table("celery.pidbox")] == ["worker-b"]


def test_the_embedded_mode_celery_app_uses_this_transport(tmp_path):
    result = run("from config.celery import app; c = app.connection_for_write(); "
                 "print(type(c.transport).__module__, c.transport.driver_type)",
                 {"VAR_DIR": str(tmp_path), "DJANGO_DEBUG": "1"})
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["config.broker", "filesystem"]


def test_a_new_channel_removes_files_a_crash_left_and_nothing_else(tmp_path, monkeypatch):
    folder = tmp_path / "queue"
    folder.mkdir()
    left = [folder / f"1_a.{QUEUE}.msg{broker.WRITING_SUFFIX}", folder / f"2_b.{QUEUE}.msg{broker.CLAIMED_SUFFIX}"]
    kept = folder / f"3_c.{QUEUE}.msg"
    for path in [*left, kept]:
        path.write_text("{}")
    options = {"data_folder_in": str(folder), "data_folder_out": str(folder), "control_folder": str(tmp_path / "c")}

    def open_channel():
        connection = Connection(transport=Transport, transport_options=options)
        connection.default_channel
        connection.release()

    open_channel()  # the files are new: a live process may be between its two steps
    assert all(path.exists() for path in [*left, kept])
    monkeypatch.setattr(broker, "ORPHAN_AFTER_S", -1)  # as if they were old
    open_channel()
    assert not any(path.exists() for path in left) and kept.exists()
