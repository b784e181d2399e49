# SPDX-License-Identifier: GPL-2.0-or-later
"""One daemon under test: its directory (spool, password file, config), the
process started with -d, and what it logged."""

import errno
import os
import pwd
import grp
import random
import re
import shutil
import signal
import socket
import subprocess
import time

from . import mbox, system
from .client import Pop3

# Flat-file accounts. fuser1's secret is stored in clear so APOP works.
FLAT_USERS = {
    "fuser1": ("Flat-secret-1", "{plaintext}Flat-secret-1"),
    "fuser2": ("Flat-secret-2",
               "$6$tp3flat2salt$LPdCZ07NdEnHdtNT8CYyu0WN84YaJsVoTWOehHSg52M"
               "wP4HB/hpPvKFEuudL8iPJy0er6IaErOx2t3iT5/vdb0"),
}
FLAT_MAIL_USER = "nobody"
FLAT_MAIL_GROUP = "nogroup"

# Texts that must never reach a log line.
SECRETS = [p for p in system.PASSWD_USERS.values()] + \
          [v[0] for v in FLAT_USERS.values()]

SANITIZER_RE = re.compile(r"(ERROR: AddressSanitizer|ERROR: LeakSanitizer|"
                          r"runtime error:|UndefinedBehaviorSanitizer|"
                          r"AddressSanitizer:DEADLYSIGNAL)")

START_TIMEOUT = 15.0
STOP_TIMEOUT = 5.0


class DaemonError(AssertionError):
    pass


# Ports for daemons come from below the kernel's ephemeral range
# (net.ipv4.ip_local_port_range, 32768-60999 by default): a port picked
# there could become the source port of some client connection before the
# daemon binds it. Each is handed out once per run.
PORT_RANGE = (20000, 32000)
_ports_given = set()
_port_rng = random.Random(os.getpid() ^ int(time.time()))


def free_port():
    for _ in range(1000):
        port = _port_rng.randrange(*PORT_RANGE)
        if port in _ports_given:
            continue
        try:
            for family, host in ((socket.AF_INET, "127.0.0.1"), (socket.AF_INET6, "::1")):
                try:
                    with socket.socket(family, socket.SOCK_STREAM) as s:
                        s.bind((host, port))
                except OSError as e:
                    # A machine without IPv6 loopback only has the IPv4 one.
                    if family != socket.AF_INET6 or \
                            e.errno not in (errno.EADDRNOTAVAIL, errno.EAFNOSUPPORT):
                        raise
        except OSError:
            continue
        _ports_given.add(port)
        return port
    raise RuntimeError("no free port in %d-%d" % PORT_RANGE)


def listening(port, host="127.0.0.1"):
    """True when something listens on HOST:PORT (127.0.0.1 or ::1, or the
    wildcard of its family), found without connecting (a probe connection
    would be a session of its own)."""
    want = ":%04X" % port
    table, addrs = (("/proc/net/tcp6", ("0" * 24 + "01000000", "0" * 32))
                    if host == "::1" else ("/proc/net/tcp", ("0100007F", "00000000")))
    try:
        with open(table) as f:
            next(f)
            for line in f:
                fields = line.split()
                if fields[1].endswith(want) and fields[3] == "0A" and \
                        fields[1].split(":")[0] in addrs:
                    return True
    except OSError:
        pass
    return False


def owner_ids(user, group=None):
    pw = pwd.getpwnam(user)
    gid = grp.getgrnam(group).gr_gid if group else pw.pw_gid
    return pw.pw_uid, gid


class Server:
    """A config directory and, once started, a daemon serving it."""

    def __init__(self, binary, root, config=None, env=None):
        self.binary = binary
        self.root = root
        self.spool = os.path.join(root, "spool")
        self.conf = os.path.join(root, "tpop3d.conf")
        self.flatfile = os.path.join(root, "flatfile.passwd")
        self.pidfile = os.path.join(root, "tpop3d.pid")
        self.logpath = os.path.join(root, "daemon.log")
        self.port = free_port()
        self.env = env or {}
        self.proc = None
        self.pgrp = None
        self.exit_status = None
        self.notes = []
        os.makedirs(self.spool)
        # Sessions run as the mailbox owners: they must reach the spool and
        # create NAME.lock in it.
        os.chmod(root, 0o755)
        os.chmod(self.spool, 0o1777)
        with open(self.flatfile, "w") as f:
            for user, (_, stored) in FLAT_USERS.items():
                f.write("%s:%s\n" % (user, stored))
        os.chmod(self.flatfile, 0o600)
        self.config = self.default_config()
        if config:
            self.config.update(config)
        self.write_config()
        for user in system.PASSWD_USERS:
            self.put_mbox(user, mbox.standard())
        for user in FLAT_USERS:
            self.put_mbox(user, mbox.standard())

    # -- files ---------------------------------------------------------------
    def default_config(self):
        return {
            "listen-address": "127.0.0.1:%d" % self.port,
            "max-children": "16",
            "timeout-seconds": "30",
            "mailbox": "bsd:%s/$(user)" % self.spool,
            "auth-passwd-enable": "yes",
            "auth-flatfile-enable": "yes",
            "auth-flatfile-passwd-file": self.flatfile,
            "auth-flatfile-mail-user": FLAT_MAIL_USER,
            "auth-flatfile-mail-group": FLAT_MAIL_GROUP,
        }

    def write_config(self, updates=None, text=None):
        if updates:
            self.config.update(updates)
        if text is None:
            lines = ["# written by the integration harness"]
            for k, v in self.config.items():
                if v is not None:
                    lines.append("%s: %s" % (k, v))
            text = "\n".join(lines) + "\n"
        tmp = self.conf + ".new"
        with open(tmp, "w") as f:
            f.write(text)
        os.chmod(tmp, 0o600)
        os.rename(tmp, self.conf)

    def mbox_path(self, user):
        return os.path.join(self.spool, user)

    def mbox_owner(self, user):
        if user in FLAT_USERS:
            return owner_ids(FLAT_MAIL_USER, FLAT_MAIL_GROUP)
        return owner_ids(user)

    def put_mbox(self, user, data, owner=None, mode=0o600):
        path = self.mbox_path(user)
        with open(path, "wb") as f:
            f.write(data)
        uid, gid = owner or self.mbox_owner(user)
        os.chown(path, uid, gid)
        os.chmod(path, mode)
        return path

    def read_mbox(self, user):
        with open(self.mbox_path(user), "rb") as f:
            return f.read()

    def messages(self, user):
        return mbox.split(self.read_mbox(user))

    # -- the process ---------------------------------------------------------
    def command(self, extra=()):
        return [self.binary, "-d", "-f", self.conf, "-p", self.pidfile] + list(extra)

    def start(self, extra=(), wait=True):
        if self.proc:
            raise RuntimeError("already started")
        env = {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "LANG": "C"}
        for k in ("ASAN_OPTIONS", "UBSAN_OPTIONS", "LSAN_OPTIONS"):
            if k in os.environ:
                env[k] = os.environ[k]
        env.update(self.env)
        self.log = open(self.logpath, "ab")
        self.proc = subprocess.Popen(self.command(extra), stdin=subprocess.DEVNULL,
                                     stdout=self.log, stderr=self.log, env=env,
                                     cwd=self.root, start_new_session=True)
        self.pgrp = self.proc.pid
        if wait:
            self.wait_listening()
        return self

    def wait_listening(self, timeout=START_TIMEOUT):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            rc = self.proc.poll()
            if rc is not None:
                self.exit_status = rc
                raise DaemonError("daemon exited with status %s before listening "
                                  "on 127.0.0.1:%d; log:\n%s"
                                  % (rc, self.port, self.log_tail()))
            if listening(self.port):
                return
            time.sleep(0.02)
        raise DaemonError("daemon not listening on 127.0.0.1:%d after %.0fs; log:\n%s"
                          % (self.port, timeout, self.log_tail()))

    @property
    def pid(self):
        return self.proc.pid

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def signal(self, sig):
        if self.alive():
            os.kill(self.proc.pid, sig)

    def children(self):
        """The daemon's child processes, zombies included (a zombie is a
        session the listener failed to reap)."""
        return system.children_of(self.proc.pid) if self.alive() else []

    def wait_no_children(self, timeout=10.0):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not self.children():
                return True
            time.sleep(0.05)
        return False

    def stop(self):
        """SIGTERM, then SIGKILL for whatever of our process group is left.
        Returns a list of complaints (empty when it stopped cleanly)."""
        complaints = []
        if self.proc is None:
            return complaints
        if self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGTERM)
            try:
                self.exit_status = self.proc.wait(STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                complaints.append("daemon ignored SIGTERM for %.0fs" % STOP_TIMEOUT)
                os.killpg(self.pgrp, signal.SIGKILL)
                self.exit_status = self.proc.wait(STOP_TIMEOUT)
        else:
            self.exit_status = self.proc.returncode
        left = self.wait_group_empty(STOP_TIMEOUT)
        if left:
            complaints.append("processes left after the daemon stopped: " +
                              ", ".join("%d (%s)" % (p, system.cmdline(p)) for p in left))
            system.kill_and_reap(left)
        self.log.close()
        return complaints

    def wait_group_empty(self, timeout):
        deadline = time.monotonic() + timeout
        while True:
            left = [p for p in system.group_members(self.pgrp)
                    if (system.proc_stat(p) or ("Z",))[0] != "Z"]
            # Orphaned zombies are re-parented to us; collect them.
            for p in system.children_of(os.getpid()):
                st = system.proc_stat(p)
                if st and st[0] == "Z" and st[2] == self.pgrp:
                    try:
                        os.waitpid(p, os.WNOHANG)
                    except ChildProcessError:
                        pass
            if not left or time.monotonic() > deadline:
                return left
            time.sleep(0.05)

    # -- the log -------------------------------------------------------------
    def log_text(self):
        try:
            with open(self.logpath, "rb") as f:
                return f.read().decode("latin-1")
        except OSError:
            return ""

    def log_tail(self, n=25):
        lines = self.log_text().splitlines()
        return "\n".join(lines[-n:]) if lines else "(empty)"

    def wait_log(self, pattern, timeout=5.0, start=0):
        """The first match of PATTERN in the log after offset START."""
        rx = re.compile(pattern)
        deadline = time.monotonic() + timeout
        while True:
            m = rx.search(self.log_text(), start)
            if m or time.monotonic() > deadline:
                return m
            time.sleep(0.05)

    def log_problems(self):
        """Sanitizer reports and leaked passwords in the log."""
        text = self.log_text()
        out = []
        m = SANITIZER_RE.search(text)
        if m:
            s = max(0, m.start() - 200)
            out.append("sanitizer report in the daemon log:\n" + text[s:s + 3000])
        for secret in SECRETS:
            if secret in text:
                out.append("a password appears in the daemon log")
                break
        return out

    # -- clients -------------------------------------------------------------
    def connect(self, timeout=10.0, greeting=True):
        return Pop3(self.port, timeout=timeout, greeting=greeting)

    def login(self, user, password=None, timeout=10.0):
        password = password or password_of(user)
        c = self.connect(timeout)
        if not c.greeting.startswith(b"+OK"):
            c.close()
            raise AssertionError("greeting is not +OK: %r" % c.greeting)
        try:
            c.login(user, password)
        except Exception:
            c.close()
            raise
        return c

    def cleanup_dir(self):
        shutil.rmtree(self.root, ignore_errors=True)


def password_of(user):
    if user in system.PASSWD_USERS:
        return system.PASSWD_USERS[user]
    return FLAT_USERS[user][0]
