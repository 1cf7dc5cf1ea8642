"""A throwaway Dovecot IMAP server on loopback (Debian's dovecot-imapd), for the IMAP tests.

It runs in the foreground from a temporary folder with its own configuration: one user with
a plain password, maildir storage, plain IMAP on 127.0.0.1 (no TLS: loopback only). As root it
runs mail processes as Debian's `dovecot` user; otherwise everything runs as the caller.
Messages are delivered by writing them into the maildir's `new/` folder, as a local delivery
agent would.
"""

from __future__ import annotations

import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

DOVECOT = shutil.which("dovecot") or "/usr/sbin/dovecot"

CONFIG = """
base_dir = {root}/run
state_dir = {root}/state
log_path = {root}/dovecot.log
protocols = imap
listen = 127.0.0.1
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
mail_location = maildir:{root}/mail/%u
first_valid_uid = {uid}
last_valid_uid = 0
default_internal_user = {user}
default_internal_group = {group}
default_login_user = {login_user}
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {root}/users
}}
userdb {{
  driver = static
  args = uid={uid} gid={gid} home={root}/home/%u
}}
service imap-login {{
  chroot =
  inet_listener imap {{
    address = 127.0.0.1
    port = {port}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
service anvil {{
  chroot =
}}
service auth {{
  user = $default_internal_user
}}
"""


@dataclass
class Dovecot:
    root: Path
    port: int
    user: str
    password: str
    uid: int
    gid: int

    def url(self, folder: str = "INBOX") -> str:
        return f"imap://{self.user}:{self.password}@127.0.0.1:{self.port}/{folder}"

    def deliver(self, raw: bytes) -> Path:
        folder = self.root / "mail" / self.user
        for sub in ("new", "cur", "tmp"):
            (folder / sub).mkdir(parents=True, exist_ok=True)
            os.chown(folder / sub, self.uid, self.gid)
        os.chown(folder, self.uid, self.gid)
        name = f"{time.time_ns()}.{os.getpid()}.test"
        path = folder / "new" / name
        path.write_bytes(raw.replace(b"\r\n", b"\n"))
        os.chown(path, self.uid, self.gid)
        return path

    def seen(self) -> list[Path]:
        """Messages that an IMAP client has marked \\Seen (maildir flag S)."""
        cur = self.root / "mail" / self.user / "cur"
        return [p for p in cur.iterdir() if ":2," in p.name and "S" in p.name.split(":2,")[1]]


def available() -> bool:
    return Path(DOVECOT).exists()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def running() -> Iterator[Dovecot]:
    root = Path(tempfile.mkdtemp(prefix="events-dovecot-"))
    os.chmod(root, 0o755)
    if os.getuid() == 0:
        mail_user = pwd.getpwnam("dovecot")
        user, group, login_user = "dovecot", "dovecot", "dovenull"
    else:
        mail_user = pwd.getpwuid(os.getuid())
        user = login_user = mail_user.pw_name
        group = subprocess.run(["id", "-gn"], capture_output=True, text=True).stdout.strip()
    box = Dovecot(
        root, _free_port(), "replies", "imap-test-password", mail_user.pw_uid, mail_user.pw_gid
    )
    for sub in ("run", "state", "mail", "home"):
        (root / sub).mkdir()
    for sub in ("mail", "home"):
        os.chown(root / sub, box.uid, box.gid)
    (root / "users").write_text(f"{box.user}:{{PLAIN}}{box.password}\n")
    config = root / "dovecot.conf"
    config.write_text(
        CONFIG.format(
            root=root,
            port=box.port,
            uid=box.uid,
            gid=box.gid,
            user=user,
            group=group,
            login_user=login_user,
        )
    )
    process = subprocess.Popen(
        [DOVECOT, "-F", "-c", str(config)], stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    )
    try:
        deadline = time.monotonic() + 15
        while True:
            try:
                with socket.create_connection(("127.0.0.1", box.port), timeout=0.5):
                    break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    log = (
                        (root / "dovecot.log").read_text()
                        if (root / "dovecot.log").exists()
                        else ""
                    )
                    out = process.stdout.read().decode() if process.stdout else ""
                    raise RuntimeError(f"dovecot did not start: {out}\n{log}") from None
                time.sleep(0.1)
        yield box
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
        if process.stdout is not None:
            process.stdout.close()
        shutil.rmtree(root, ignore_errors=True)
