# SPDX-License-Identifier: GPL-2.0-or-later
"""The machine around the tests: the run lock, the system users, and the
processes the harness started (and only those)."""

import ctypes
import errno
import fcntl
import os
import pwd
import signal
import subprocess
import time
import warnings

LOCK_PATH = "/run/lock/tpop3d-integration.lock"
USER_COMMENT = "tpop3d integration test"

# Real accounts for the passwd driver. The names say what they are for.
PASSWD_USERS = {
    "tp3user1": "Tp3-pass-one",
    "tp3user2": "Tp3-pass-two",
}

PR_SET_CHILD_SUBREAPER = 36

# What make install and the README's set-up provide: the unprivileged user
# of the pre-login process and its empty chroot (the defaults of
# privsep-user and privsep-directory).
PRIVSEP_USER = "tpop3d"
PRIVSEP_DIR = "/var/lib/tpop3d/empty"


class SetupError(Exception):
    pass


def require_root():
    if os.geteuid() != 0:
        raise SetupError("the integration tests must run as root: they create "
                         "system users and start the daemon, which drops "
                         "privileges to them")


def take_run_lock(wait_seconds=900):
    """One run at a time on a machine: the users and their passwords are
    machine-wide. Returns the open lock file (keep it open)."""
    os.makedirs(os.path.dirname(LOCK_PATH), exist_ok=True)
    f = open(LOCK_PATH, "w")
    deadline = time.monotonic() + wait_seconds
    announced = False
    while True:
        try:
            fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return f
        except OSError as e:
            if e.errno not in (errno.EAGAIN, errno.EACCES):
                raise
        if time.monotonic() > deadline:
            raise SetupError("another integration run holds %s" % LOCK_PATH)
        if not announced:
            print("waiting for another integration run to finish", flush=True)
            announced = True
        time.sleep(0.5)


def _password_matches(user, password):
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            import crypt  # Python < 3.13
        import spwd
    except ImportError:
        return False
    try:
        stored = spwd.getspnam(user).sp_pwdp
    except KeyError:
        return False
    return stored.startswith("$6$") and crypt.crypt(password, stored) == stored


def ensure_users():
    """Create the test accounts that are missing; set their passwords (as
    SHA-512 crypt hashes, which the passwd driver must verify). Returns the
    names created, for remove_users()."""
    created = []
    try:
        pwd.getpwnam(PRIVSEP_USER)
    except KeyError:
        subprocess.run(["useradd", "--system", "--no-create-home",
                        "--home-dir", "/nonexistent", "--shell", "/usr/sbin/nologin",
                        "--comment", USER_COMMENT, "--user-group", PRIVSEP_USER],
                       check=True, stdin=subprocess.DEVNULL)
        created.append(PRIVSEP_USER)
    os.makedirs(PRIVSEP_DIR, mode=0o755, exist_ok=True)
    os.chmod(PRIVSEP_DIR, 0o755)
    for user, password in PASSWD_USERS.items():
        try:
            pwd.getpwnam(user)
        except KeyError:
            subprocess.run(["useradd", "--no-create-home", "--home-dir", "/nonexistent",
                            "--shell", "/usr/sbin/nologin", "--comment", USER_COMMENT,
                            "--user-group", user],
                           check=True, stdin=subprocess.DEVNULL)
            created.append(user)
        if user in created or not _password_matches(user, password):
            subprocess.run(["chpasswd", "--crypt-method", "SHA512"],
                           input=("%s:%s\n" % (user, password)).encode(),
                           check=True)
    return created


def remove_users(names):
    for user in names:
        subprocess.run(["userdel", user], stdin=subprocess.DEVNULL,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def become_subreaper():
    """Orphans of the daemon (sessions whose listener died) are re-parented
    to the harness, so none can escape unnoticed."""
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)


# -- processes ---------------------------------------------------------------

def proc_stat(pid):
    """(state, ppid, pgrp) of PID, or None when it is gone."""
    try:
        with open("/proc/%d/stat" % pid, "rb") as f:
            data = f.read()
    except OSError:
        return None
    rest = data[data.rindex(b")") + 2:].split()
    return rest[0].decode(), int(rest[1]), int(rest[2])


def all_pids():
    return [int(d) for d in os.listdir("/proc") if d.isdigit()]


def runs_as_privsep_user(pid):
    """True for a session's pre-login process (zombie or not), which lives
    as long as the session's AUTHORIZATION state and is not a helper."""
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                if line.startswith("Uid:"):
                    return int(line.split()[1]) == pwd.getpwnam(PRIVSEP_USER).pw_uid
    except (OSError, KeyError):
        pass
    return False


def children_of(ppid):
    out = []
    for pid in all_pids():
        st = proc_stat(pid)
        if st and st[1] == ppid:
            out.append(pid)
    return out


def group_members(pgrp):
    out = []
    for pid in all_pids():
        st = proc_stat(pid)
        if st and st[2] == pgrp:
            out.append(pid)
    return out


def cmdline(pid):
    try:
        with open("/proc/%d/cmdline" % pid, "rb") as f:
            return f.read().replace(b"\0", b" ").decode("latin-1").strip()
    except OSError:
        return "?"


def kill_and_reap(pids):
    """SIGKILL each PID (all of them ours) and collect the ones that are
    our children."""
    for pid in pids:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    for pid in pids:
        for _ in range(100):
            try:
                done, _ = os.waitpid(pid, os.WNOHANG)
            except ChildProcessError:
                break
            if done:
                break
            time.sleep(0.01)


def stray_children(known):
    """Live children that nobody is waiting for: re-parented orphans. The
    ones that already exited (the parent half of a daemon that detached)
    are only collected."""
    out = []
    for pid in children_of(os.getpid()):
        if pid in known:
            continue
        st = proc_stat(pid)
        if st and st[0] == "Z":
            try:
                os.waitpid(pid, os.WNOHANG)
            except ChildProcessError:
                pass
        elif st:
            out.append(pid)
    return out
