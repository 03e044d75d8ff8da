"""The embedded mode's broker: kombu's filesystem transport with message files that appear whole."""
import builtins
import os

import pytest
from kombu import Connection
from kombu.exceptions import ChannelError
from kombu.transport.virtual import Empty

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


def test_the_embedded_mode_celery_app_uses_this_transport(tmp_path):
    result = run("from config.celery import app; c = app.connection_for_write(); "
                 "print(type(c.transport).__module__, c.transport.driver_type)",
                 {"VAR_DIR": str(tmp_path), "DJANGO_DEBUG": "1"})
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["config.broker", "filesystem"]
