"""The embedded default's broker: kombu's filesystem transport with message files that appear whole.

kombu's writer (``Channel._put``) creates ``<ms>_<uuid>.<queue>.msg`` under its final name and only then writes
the message into it; its reader (``Channel._get``) lists the folder, takes the first matching name and parses it
with no lock. A reader that polls between the writer's ``open`` and ``write`` meets an empty file and raises
``JSONDecodeError``, which a Celery worker treats as unrecoverable: it happened in ``make run`` when beat sent two
due tasks at once, and took the demo down. The same gap exists when an exchange table is first created.

Here a message is written under a name no reader matches, flushed to disk, then renamed to its final name in one
step, so a reader sees a whole message or nothing. The reader claims a message by a rename inside the queue folder
(kombu moves it to the system's temp folder, which may be another file system, where a move is a copy) and, if it
still meets a file it cannot parse (only a stock kombu producer can leave one), puts it back for the next poll;
one still unreadable after ``UNREADABLE_GRACE`` seconds is set aside in the processed folder and logged. The file
names, the folders and the writer's lock are kombu's, so a stock kombu process can share the folders.

Selected by ``CELERY_BROKER_TRANSPORT`` in mintportal/settings.py for the embedded default only; Redis is untouched.
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
import time
import uuid
from queue import Empty
from typing import Any, cast

from kombu.exceptions import ChannelError
from kombu.transport import filesystem
from kombu.utils.encoding import bytes_to_str, str_to_bytes
from kombu.utils.json import dumps, loads

logger = logging.getLogger(__name__)

#: How long an unparseable message may stay in the queue before it is set aside. A stock writer fills its file
#: microseconds after creating it, so a file still unreadable after this long was abandoned by a dead writer.
UNREADABLE_GRACE = 60.0

# Names the reader never matches: kombu only takes ``<anything>.<queue>.msg`` where the first dot starts
# ``.<queue>.msg``, and a name starting with a dot has an empty part before it.
_WRITING = ".{}.{}.writing"
_CLAIMED = ".{}.claimed"


def _write_whole(path: str, data: bytes) -> str:
    """Writes ``data`` to a hidden sibling of ``path`` under kombu's exclusive lock and syncs it; returns its name.

    The sync comes before any rename, so that after a power loss the final name never points at an empty file.
    """
    folder, name = os.path.split(path)
    partial = os.path.join(folder, _WRITING.format(name, uuid.uuid4().hex))
    try:
        with open(partial, "xb") as f:
            # kombu's own lock helpers (flock on POSIX); their stubs only name text and raw files.
            filesystem.lock(cast(Any, f), fcntl.LOCK_EX)
            try:
                f.write(data)
                f.flush()
                os.fsync(f.fileno())
            finally:
                filesystem.unlock(cast(Any, f))
    except BaseException:
        with contextlib.suppress(OSError):
            os.remove(partial)
        raise
    return partial


class Channel(filesystem.Channel):
    # kombu's stubs name this method differently in filesystem.Channel and in its base; this follows the former.
    def _put(self, queue: str, payload: dict[str, Any], **kwargs: Any) -> None:  # type: ignore[override]
        name = f"{round(time.monotonic() * 1000)}_{uuid.uuid4()}.{queue}.msg"
        final = os.path.join(self.data_folder_out, name)
        try:
            os.replace(_write_whole(final, str_to_bytes(dumps(payload))), final)
        except OSError as exc:
            raise ChannelError(f"Cannot add file {final!r} to directory") from exc

    def _get(self, queue: str, timeout: float | None = None) -> Any:
        wanted = f"{queue}.msg"
        folder = self.data_folder_in
        for name in sorted(os.listdir(folder)):
            if name.partition(".")[2] != wanted:
                continue
            path = os.path.join(folder, name)
            claimed = os.path.join(folder, _CLAIMED.format(name))
            try:
                # A rename is atomic: of several readers, exactly one gets the message.
                os.rename(path, claimed)
            except FileNotFoundError:
                continue
            try:
                with open(claimed, "rb") as f:
                    raw = f.read()
                message = loads(bytes_to_str(raw))
            except ValueError:
                self._unreadable(claimed, path, name)
                continue
            except OSError as exc:
                raise ChannelError(f"Cannot read file {claimed!r} from queue.") from exc
            self._done(claimed, name)
            return message
        raise Empty()

    def _done(self, claimed: str, name: str) -> None:
        try:
            if self.store_processed:
                os.makedirs(self.processed_folder, exist_ok=True)
                os.replace(claimed, os.path.join(self.processed_folder, name))
            else:
                os.remove(claimed)
        except OSError as exc:
            raise ChannelError(f"Cannot remove file {claimed!r} from queue.") from exc

    def _unreadable(self, claimed: str, path: str, name: str) -> None:
        """A half-written message goes back for the next poll (its writer still fills the same file); one that
        stays unreadable is set aside rather than raised, which would stop the worker."""
        try:
            age = time.time() - os.stat(claimed).st_mtime
            if age < UNREADABLE_GRACE:
                os.rename(claimed, path)
                return
            os.makedirs(self.processed_folder, exist_ok=True)
            aside = os.path.join(self.processed_folder, f"{name}.unreadable")
            os.replace(claimed, aside)
        except OSError as exc:
            raise ChannelError(f"Cannot put back unreadable file {claimed!r}.") from exc
        logger.error("broker: message file %s unreadable for %.0f s; set aside as %s", name, age, aside)

    def _queue_bind(self, exchange: str, routing_key: str, pattern: str | None, queue: str) -> None:
        """Creates the exchange table whole (a hard link fails if another process created it first), so that
        ``get_table`` never reads it empty; after that, kombu updates it in place under its lock."""
        file = self._exchange_file(exchange)  # type: ignore[attr-defined]  # kombu 5.7's; its stubs are older
        if not file.exists():
            self.control_folder.mkdir(parents=True, exist_ok=True)
            row = filesystem.exchange_queue_t(routing_key or "", pattern or "", queue or "")
            try:
                partial = _write_whole(str(file), str_to_bytes(dumps([row])))
            except OSError as exc:
                raise ChannelError(f"Cannot open {file}") from exc
            try:
                os.link(partial, file)
                return
            except FileExistsError:
                pass
            except OSError as exc:
                raise ChannelError(f"Cannot open {file}") from exc
            finally:
                with contextlib.suppress(OSError):
                    os.remove(partial)
        super()._queue_bind(exchange, routing_key, pattern, queue)


class Transport(filesystem.Transport):
    Channel = Channel
