"""The embedded mail server: a real SMTP server (aiosmtpd) that files every message in a Maildir.

With no SMTP relay configured, the commands that run workflows start it under the data directory,
so a person can open the very e-mails the programme sent (any mail client reads a Maildir). It
keeps one copy per Message-ID: a message sent again after an interrupted delivery is accepted
and dropped, as a real mailbox provider would. Its 250 reply names a queue id, as relays do.

``stop()`` and ``start()`` take it down and bring it back on its port. The tests' relay
(``tests/mail_relay.py``) derives from it to refuse addresses, ask for a login and fail on demand,
through the hooks ``refusal``, ``filed``, ``controller_options`` and ``config``.

The commands run it as ``MailSink``: the same server in a process of its own
(``python -m mentorflow.mail_server MAILDIR PORT``), so that receiving and filing mail runs on
another core than the worker's workflows and activities (issue 17: in the process of a simulated
year, the server's thread took a fifth of the time, holding the interpreter the worker needs).
"""

import logging
import mailbox
import subprocess
import sys
import threading
from collections import Counter
from email.parser import BytesHeaderParser
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller

from activities.mail.smtp import SmtpConfig
from mentorflow.errors import StackError

# aiosmtpd logs every envelope (addresses included) at INFO; logs here carry ids only.
logging.getLogger("mail.log").setLevel(logging.WARNING)


_HEADERS = BytesHeaderParser()


class MaildirHandler:
    """aiosmtpd handler: file every message once per Message-ID."""

    def __init__(self, path: Path):
        self.maildir = mailbox.Maildir(path, create=True)
        self.received: Counter[str] = Counter()
        """SMTP transactions per Message-ID since start (a duplicate send counts twice)."""
        self._lock = threading.Lock()
        self._filed = {str(m["Message-ID"]) for m in self.maildir}
        self._queued = 0

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, options: Any
    ) -> str:
        refused = self.refusal(address)
        if refused is not None:
            return refused
        envelope.rcpt_tos.append(address)
        return "250 OK"

    def refusal(self, address: str) -> str | None:
        """The reply refusing ``address`` at RCPT; None accepts it (every address, here)."""
        return None

    async def filed(self, message_id: str) -> None:
        """Called once a message is filed, before its 250 is sent."""

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        # The headers only, with the compatible policy: parsing the whole message with the
        # modern policy took 2 ms a message, a sixth of a simulated year's time (issue 17).
        mid = str(_HEADERS.parsebytes(envelope.content)["Message-ID"])
        with self._lock:
            self.received[mid] += 1
            self._queued += 1
            reply = f"250 2.0.0 Ok: queued as {self._queued:08X}"
            if mid not in self._filed:
                self.maildir.add(envelope.content)
                self._filed.add(mid)
        await self.filed(mid)
        return reply


class MailServer:
    """A running embedded server; ``config`` is what the worker sends with."""

    def __init__(
        self, maildir: Path, handler: MaildirHandler | None = None, port: int | None = None
    ):
        self.maildir = maildir
        maildir.parent.mkdir(parents=True, exist_ok=True)
        self.handler = handler or MaildirHandler(maildir)
        self.port = port or _free_port()
        self._controller: Controller | None = None

    @property
    def config(self) -> SmtpConfig:
        return SmtpConfig(host="127.0.0.1", port=self.port)

    def controller_options(self) -> dict[str, Any]:
        """Extra options of aiosmtpd's ``Controller`` (none here: no login, no TLS)."""
        return {}

    def start(self) -> "MailServer":
        """Start (or start again, on the same port)."""
        self._controller = Controller(
            self.handler, hostname="127.0.0.1", port=self.port, **self.controller_options()
        )
        self._controller.start()
        return self

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    def __enter__(self) -> "MailServer":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def _free_port() -> int:
    # Imported here: the sink's own process then starts without Temporal's client (0.4 s).
    from mentorflow.embedded import free_port

    return free_port()


READY = "ready"
"""What the sink's process prints once its server answers (``MailSink.start`` waits for it)."""


class MailSink:
    """The embedded server in a process of its own; ``config`` is what the worker sends with.

    The process ends when ``stop()`` closes its standard input, or when this process ends in any
    way (its end of the pipe closes with it), so no server outlives the command that started it.
    """

    def __init__(self, maildir: Path):
        self.maildir = maildir
        self.port = _free_port()
        self._process: subprocess.Popen[str] | None = None

    @property
    def config(self) -> SmtpConfig:
        return SmtpConfig(host="127.0.0.1", port=self.port)

    @property
    def pid(self) -> int | None:
        """The server's process id while it runs (``bench.load`` counts its CPU)."""
        return self._process.pid if self._process else None

    def start(self) -> "MailSink":
        """Start (or start again, on the same port); returns once the server answers."""
        module = "mentorflow.mail_server"
        command = [sys.executable, "-m", module, str(self.maildir), str(self.port)]
        process = subprocess.Popen(
            command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
        )
        assert process.stdout is not None  # stdout=PIPE above
        if process.stdout.readline().strip() != READY:  # its errors went to our stderr
            process.kill()
            process.wait()
            raise StackError(f"the embedded mail server did not start on port {self.port}")
        self._process = process
        return self

    def stop(self) -> None:
        process, self._process = self._process, None
        if process is None:
            return
        assert process.stdin is not None  # stdin=PIPE in start
        process.stdin.close()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()

    def __enter__(self) -> "MailSink":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def main(argv: list[str]) -> None:
    """``python -m mentorflow.mail_server MAILDIR PORT``: serve until standard input closes."""
    maildir, port = argv
    try:
        server = MailServer(Path(maildir), port=int(port)).start()
    except OSError as e:  # the port is taken, the Maildir cannot be written: one line says which
        sys.exit(f"mail server: {e}")
    try:
        print(READY, flush=True)
        sys.stdin.read()  # returns when MailSink.stop() closes it, or when its process ended
    except KeyboardInterrupt:
        pass  # a Ctrl-C in the terminal reaches the whole process group; the parent stops too
    finally:
        server.stop()


if __name__ == "__main__":
    main(sys.argv[1:])
