"""kombu's filesystem transport (the embedded mode's broker) with files that are never read half
written.

kombu 5.7's own transport creates a message file under its final name and then writes it. A
worker that lists the queue folder in between moves the file away and reads it empty or half
written, and the JSON error ends the worker's consumer: the worker stops taking jobs
(celery/kombu#1551). A burst of playground jobs from several clients hits that window. Its
exchange tables (the control folder: which queues a fanout exchange reaches) have the same flaw
when two workers bind at start. Here:
- a message is written under a name no consumer picks up and then renamed into the queue;
- a consumer claims a message by renaming it inside the queue's folder, which is atomic (kombu
  moves it to the temp folder: a copy, when that is another filesystem, that a second consumer
  can read as it is written);
- an exchange table is created, read and rewritten under its lock in one step;
- a file a crash left mid-write or mid-claim is removed by the next channel that opens.
Renames within one folder are atomic on POSIX filesystems.
"""
from __future__ import annotations

import logging
import os
import shutil
import time
import uuid
from collections.abc import Callable
from queue import Empty
from time import monotonic_ns

from kombu.exceptions import ChannelError
from kombu.transport import filesystem, virtual
from kombu.utils.encoding import bytes_to_str, str_to_bytes
from kombu.utils.json import dumps, loads

WRITING_SUFFIX = ".writing"  # consumers take only names ending in "<queue>.msg"
CLAIMED_SUFFIX = ".claimed"
# A `.writing` or `.claimed` file this old (by its inode's last change: a rename counts) was left
# by a process that died between two steps of a few microseconds: nobody will finish it.
ORPHAN_AFTER_S = 600

log = logging.getLogger(__name__)
Table = list[filesystem.exchange_queue_t]


def _table(data: bytes) -> Table:
    """An exchange table's bindings; an empty file is one being created: none yet."""
    return [filesystem.exchange_queue_t(*q) for q in loads(bytes_to_str(data))] if data.strip() else []


class Channel(filesystem.Channel):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._remove_orphans()

    def _remove_orphans(self) -> None:
        """Files a crash left between writing and renaming a message, or between claiming and
        reading it, would stay for ever. A claimed message is lost with its consumer (as with
        kombu's own move): the reaper sends a job whose message was lost again."""
        cutoff = time.time() - ORPHAN_AFTER_S
        for folder in {self.data_folder_in, self.data_folder_out}:
            try:
                entries = list(os.scandir(folder))
            except FileNotFoundError:
                continue
            for entry in entries:
                try:
                    if entry.name.endswith((WRITING_SUFFIX, CLAIMED_SUFFIX)) and entry.stat().st_ctime < cutoff:
                        os.remove(entry.path)
                        log.warning("removed %s, left by a process that stopped", entry.path)
                except FileNotFoundError:
                    pass  # another channel removed it first

    def _put(self, queue, payload, **kwargs):
        """Put `payload` onto `queue`: written beside the queue, then renamed into it."""
        # The clock in nanoseconds, zero-padded: names sort in the order they were put (kombu's
        # milliseconds leave a burst's messages in random order).
        name = f"{monotonic_ns():020d}_{uuid.uuid4()}.{queue}.msg"
        path = os.path.join(self.data_folder_out, name)
        writing = path + WRITING_SUFFIX
        data = str_to_bytes(dumps(payload))
        try:
            with open(writing, "wb") as f:  # buffered: all of it or an error, never a short write
                f.write(data)
            os.replace(writing, path)
        except OSError as exc:
            try:
                os.remove(writing)
            except FileNotFoundError:
                pass
            raise ChannelError(f"Cannot add file {path!r} to directory") from exc

    def _get(self, queue):
        """The oldest message on `queue`. A file that is not a whole message (one that kombu's own
        transport cut short) is skipped: raising would end the worker's consumer."""
        for name in sorted(os.listdir(self.data_folder_in)):
            if name.partition(".")[2] != f"{queue}.msg":
                continue
            payload = self._claim(os.path.join(self.data_folder_in, name))
            if payload is None:
                continue  # another consumer took it first
            try:
                return loads(bytes_to_str(payload))
            except ValueError:
                log.warning("skipped message file %s on queue %r: not whole JSON", name, queue)
        raise Empty()

    def _claim(self, path: str) -> bytes | None:
        """The message file's bytes, once it is this consumer's; None if another took it."""
        claimed = path + CLAIMED_SUFFIX
        try:
            os.rename(path, claimed)
        except FileNotFoundError:
            return None
        try:
            with open(claimed, "rb") as f:
                payload = f.read()
            if self.store_processed:
                shutil.move(claimed, os.path.join(self.processed_folder, os.path.basename(path)))
            else:
                os.remove(claimed)
        except OSError as exc:
            raise ChannelError(f"Cannot read file {claimed!r} from queue.") from exc
        return payload

    def get_table(self, exchange):
        file = self._exchange_file(exchange)
        try:
            with file.open("rb") as f:
                filesystem.lock(f, filesystem.LOCK_SH)
                try:
                    return _table(f.read())
                finally:
                    filesystem.unlock(f)
        except FileNotFoundError:
            return []
        except OSError as exc:
            raise ChannelError(f"Cannot open {file}") from exc

    def _queue_bind(self, exchange, routing_key, pattern, queue):
        binding = filesystem.exchange_queue_t(routing_key or "", pattern or "", queue or "")
        self.control_folder.mkdir(exist_ok=True)
        self._change_table(exchange, lambda table: table if binding in table else [binding, *table], create=True)

    def _delete(self, queue, exchange, routing_key, pattern, *args, **kwargs):
        virtual.Channel._delete(self, queue, exchange, routing_key, pattern, *args, **kwargs)
        binding = filesystem.exchange_queue_t(routing_key or "", pattern or "", queue or "")
        self._change_table(exchange, lambda table: [b for b in table if b != binding], create=False)

    def _change_table(self, exchange, change: Callable[[Table], Table], *, create: bool) -> None:
        """Read, change and rewrite an exchange's table under one exclusive lock; the file is
        created without truncating it, so a binder or reader that opens it first finds it whole
        or empty, never half written."""
        file = self._exchange_file(exchange)
        flags = os.O_RDWR | (os.O_CREAT if create else 0)
        try:
            fd = os.open(file, flags, 0o644)
        except FileNotFoundError:
            return  # nothing to unbind from
        except OSError as exc:
            raise ChannelError(f"Cannot open {file}") from exc
        with open(fd, "r+b") as f:
            filesystem.lock(f, filesystem.LOCK_EX)
            try:
                table = _table(f.read())
                changed = change(table)
                if changed != table:
                    f.seek(0)
                    f.write(str_to_bytes(dumps(changed)))
                    f.truncate()
            finally:
                filesystem.unlock(f)


class Transport(filesystem.Transport):
    Channel = Channel
