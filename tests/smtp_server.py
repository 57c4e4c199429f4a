"""A real SMTP server for tests: aiosmtpd in a process of its own on a loopback port, keeping each message it
accepts as a file, so that a test reads what the portal really sent over SMTP.

The process is ``python -m aiosmtpd -n -l 127.0.0.1:<port> -c tests.smtp_server.FolderHandler <folder>``; a test
may stop it (the mail server is down) and start it again on the same port.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from tests.sandbox_process import ROOT, free_port


class FolderHandler:
    """aiosmtpd's handler (runs inside the server process): each accepted message becomes one JSON file."""

    def __init__(self, folder: str) -> None:
        self.folder = Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True)

    @classmethod
    def from_cli(cls, parser: Any, *args: str) -> FolderHandler:
        """``python -m aiosmtpd ... -c tests.smtp_server.FolderHandler <folder>``."""
        if len(args) != 1:
            parser.error("FolderHandler takes one argument: the folder to keep messages in")
        return cls(args[0])

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        record = {"mail_from": envelope.mail_from, "rcpt_tos": list(envelope.rcpt_tos),
                  "data": envelope.original_content.decode("utf-8", "replace")}
        name = f"{time.time_ns()}-{uuid.uuid4().hex}"
        # Written aside, then renamed: a reader never sees half a message.
        partial = self.folder / f".{name}.tmp"
        partial.write_text(json.dumps(record))
        partial.rename(self.folder / f"{name}.json")
        return "250 Message accepted for delivery"


@dataclass(frozen=True)
class Received:
    """One message the server accepted: the envelope's recipients and the parsed message."""

    rcpt_tos: tuple[str, ...]
    message: EmailMessage

    @property
    def subject(self) -> str:
        return str(self.message["Subject"])

    @property
    def body(self) -> str:
        part = self.message.get_body(preferencelist=("plain",))
        return part.get_content() if part is not None else ""


@dataclass
class SmtpServer:
    folder: Path
    port: int = 0
    log_path: Path | None = None
    process: subprocess.Popen | None = field(default=None, repr=False)

    def start(self, timeout: float = 15.0) -> None:
        self.port = self.port or free_port()
        self.folder.mkdir(parents=True, exist_ok=True)
        log = (self.log_path or self.folder.parent / "smtp.log").open("ab")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "aiosmtpd", "-n", "-l", f"127.0.0.1:{self.port}",
             "-c", "tests.smtp_server.FolderHandler", str(self.folder)],
            cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)}, stdout=log, stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + timeout
        while not self._accepting():
            if self.process.poll() is not None:
                raise RuntimeError(f"aiosmtpd exited with {self.process.returncode}")
            if time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"aiosmtpd not listening within {timeout}s")
            time.sleep(0.05)

    def _accepting(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as connection:
                return connection.recv(3) == b"220"
        except OSError:
            return False

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def messages(self) -> list[Received]:
        """Every message accepted so far, oldest first."""
        found = []
        for path in sorted(self.folder.glob("*.json")):
            record = json.loads(path.read_text())
            # SMTP carries CRLF line ends; parsed with LF ones, every part's content reads the same.
            data = record["data"].replace("\r\n", "\n").encode()
            message = message_from_bytes(data, policy=policy.default)
            assert isinstance(message, EmailMessage)
            found.append(Received(rcpt_tos=tuple(record["rcpt_tos"]), message=message))
        return found

    def clear(self) -> None:
        for path in self.folder.glob("*.json"):
            path.unlink()
