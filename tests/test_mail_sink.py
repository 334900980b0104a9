"""The embedded mail server in a process of its own (``MailSink``), as the commands run it."""

import mailbox
import os
import smtplib
import subprocess
import sys
import time
from email.message import EmailMessage
from pathlib import Path

import pytest

from mentorflow.errors import StackError
from mentorflow.mail_server import MailServer, MailSink


def _send(port: int, message_id: str) -> None:
    message = EmailMessage()
    message["From"] = "mentorflow@example.org"
    message["To"] = "person@example.org"
    message["Subject"] = "Tapaaminen"
    message["Message-ID"] = message_id
    message.set_content("Hei")
    with smtplib.SMTP("127.0.0.1", port, timeout=10) as client:
        client.send_message(message)


def _refused(port: int) -> bool:
    try:
        smtplib.SMTP("127.0.0.1", port, timeout=2).close()
    except OSError:
        return True
    return False


def test_a_sink_files_each_message_once_stops_and_starts_again_on_its_port(tmp_path):
    maildir = tmp_path / "Maildir"
    with MailSink(maildir) as sink:
        _send(sink.port, "<a@mentorflow>")
        _send(sink.port, "<a@mentorflow>")  # sent again after an interrupted delivery
        _send(sink.port, "<b@mentorflow>")
        sink.stop()
        assert _refused(sink.port)
        sink.start()
        _send(sink.port, "<b@mentorflow>")  # it still knows what it filed before
        _send(sink.port, "<c@mentorflow>")
    assert _refused(sink.port)
    filed = sorted(str(m["Message-ID"]) for m in mailbox.Maildir(maildir))
    assert filed == ["<a@mentorflow>", "<b@mentorflow>", "<c@mentorflow>"]


def test_a_sink_whose_port_is_taken_says_so_in_one_line(tmp_path):
    with MailServer(tmp_path / "taken") as taken:
        sink = MailSink(tmp_path / "Maildir")
        sink.port = taken.port
        with pytest.raises(StackError) as failed:
            sink.start()
    assert str(failed.value) == f"the embedded mail server did not start on port {taken.port}"


def test_a_sink_ends_with_the_process_that_started_it(tmp_path):
    """A command killed outright leaves no mail server behind: the sink reads its end of a pipe
    that the killed process held."""
    starter = (
        "import os, sys; from pathlib import Path; from mentorflow.mail_server import MailSink;"
        f" sink = MailSink(Path({str(tmp_path / 'Maildir')!r})).start();"
        " print(sink.port, sink._process.pid, flush=True); os._exit(9)"
    )
    done = subprocess.run(
        [sys.executable, "-c", starter], capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 9, done.stderr
    port, pid = map(int, done.stdout.split())
    deadline = time.monotonic() + 20
    while _alive(pid) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not _alive(pid)
    assert _refused(port)


def _alive(pid: int) -> bool:
    """Whether ``pid`` still runs (a zombie counts as ended: only its exit status is left)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    status = Path(f"/proc/{pid}/stat")
    return not (status.exists() and status.read_text().split()[2] == "Z")
