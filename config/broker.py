"""kombu's filesystem transport (the embedded mode's broker) with message files that appear whole.

kombu's own `_put` creates a message file under its final name and then writes it. A worker that
lists the queue folder in between moves the file away and reads it empty or half written, and
the JSON error ends the worker's consumer: the worker stops taking jobs (celery/kombu#1551). A
burst of playground jobs from several clients hits that window. Here a message is written under
a name no consumer picks up and then renamed into place, which is atomic on POSIX filesystems.
"""
from __future__ import annotations

import logging
import os
import uuid
from time import monotonic_ns

from kombu.exceptions import ChannelError
from kombu.transport import filesystem
from kombu.utils.encoding import str_to_bytes
from kombu.utils.json import dumps

WRITING_SUFFIX = ".writing"  # `_get` takes only names ending in "<queue>.msg"

log = logging.getLogger(__name__)


class Channel(filesystem.Channel):
    def _put(self, queue, payload, **kwargs):
        """Put `payload` onto `queue`: written beside the queue, then renamed into it."""
        # The clock in nanoseconds, zero-padded: names sort in the order they were put (kombu's
        # milliseconds leave a burst's messages in random order).
        name = f"{monotonic_ns():020d}_{uuid.uuid4()}.{queue}.msg"
        path = os.path.join(self.data_folder_out, name)
        writing = path + WRITING_SUFFIX
        data = str_to_bytes(dumps(payload))
        try:
            with open(writing, "wb", buffering=0) as f:
                f.write(data)
            os.replace(writing, path)
        except OSError as exc:
            try:
                os.remove(writing)
            except FileNotFoundError:
                pass
            raise ChannelError(f"Cannot add file {path!r} to directory") from exc

    def _get(self, queue):
        """The next message on `queue`. A file that is not a whole message (one written by kombu's
        own transport before this one, cut short) is skipped: kombu has already removed it, and
        raising would end the worker's consumer."""
        while True:
            try:
                return super()._get(queue)
            except ValueError:
                log.warning("skipped a message file on queue %r that was not whole JSON", queue)


class Transport(filesystem.Transport):
    Channel = Channel
