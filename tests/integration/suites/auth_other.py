# SPDX-License-Identifier: GPL-2.0-or-later
"""The other driver: an external program asked over pipes, one run per
login. The programs are small Python scripts written by each test."""

import os
import re
import subprocess
import time

from harness import check, mbox, system
from harness.runner import test
from harness.server import owner_ids, password_of

PROG_USER, PROG_GROUP = "nobody", "nogroup"

PASSWORDS = ["Other-secret-1", "Other-secret-2", "Other-wrong-1"]

# Shared by every test program: the packet format, strictly.
PRELUDE = r'''#!/usr/bin/python3
import hashlib, os, signal, sys, time

def read_request():
    """Pairs of NUL-terminated key and value, one more NUL, then the end
    of standard input (the daemon closes it after the request)."""
    data = b""
    while True:
        chunk = os.read(0, 65536)
        if not chunk:
            break
        data += chunk
    pairs, pos = {}, 0
    while True:
        if pos >= len(data):
            raise ValueError("no terminating NUL")
        if data[pos] == 0:
            pos += 1
            break
        k = data.index(b"\0", pos)
        v = data.index(b"\0", k + 1)
        key = data[pos:k].decode()
        if key in pairs:
            raise ValueError("key %s twice" % key)
        pairs[key] = data[k + 1:v].decode("latin-1")
        pos = v + 1
    if pos != len(data):
        raise ValueError("bytes after the terminator")
    return pairs

def send(raw):
    while raw:
        raw = raw[os.write(1, raw):]

def reply(**kv):
    send(b"".join(k.encode() + b"\0" + str(v).encode() + b"\0"
                  for k, v in kv.items()) + b"\0")
'''

GOOD = r'''
try:
    req = read_request()
except ValueError as e:
    reply(result="NO", logmsg="malformed request: %s" % e)
    sys.exit(0)
want = {"method", "user", "local_part", "clienthost", "serverhost"}
if "domain" in req:
    want.add("domain")
want |= {"pass"} if req.get("method") == "PASS" else {"timestamp", "digest"}
if set(req) != want or req["method"] not in ("PASS", "APOP"):
    reply(result="NO", logmsg="unexpected request keys %s" % sorted(req))
    sys.exit(0)
user = req["user"]
if user == "ohost":
    if req["clienthost"] == "127.0.0.1" and req["serverhost"] == "127.0.0.1":
        reply(result="YES", uid="nobody", gid="nogroup")
    else:
        reply(result="NO", logmsg="clienthost=%s serverhost=%s"
              % (req["clienthost"], req["serverhost"]))
    sys.exit(0)
if user not in USERS:
    reply(result="NO", logmsg="no such user here")
    sys.exit(0)
secret, answer = USERS[user]
if req["method"] == "PASS":
    good = req["pass"] == secret
else:
    good = hashlib.md5((req["timestamp"] + secret).encode()).hexdigest() == req["digest"]
if good:
    reply(result="YES", **answer)
else:
    reply(result="NO", logmsg="wrong password for %s" % user)
'''

SLOW = r'''
read_request()
time.sleep(5)
reply(result="YES", uid="nobody", gid="nogroup")
'''

STUBBORN = r'''
signal.signal(signal.SIGTERM, signal.SIG_IGN)
read_request()
time.sleep(5)
reply(result="YES", uid="nobody", gid="nogroup")
'''

DIES = r'''
user = read_request()["user"]
if user == "exit3":
    sys.exit(3)
if user == "killed":
    os.kill(os.getpid(), signal.SIGKILL)
if user == "closed":
    os.close(1)
    time.sleep(0.1)
'''

# user -> the reply bytes
GARBAGE = r'''
CASES = {
    "half": b"result\0YES",
    "maybe": b"result\0MAYBE\0\0",
    "nouid": b"result\0YES\0gid\0nogroup\0\0",
    "baduid": b"result\0YES\0uid\0no-such-user-tp3\0gid\0nogroup\0\0",
    "huge": b"logmsg\0" + b"x" * 5000 + b"\0result\0NO\0\0",
    "twice": b"result\0NO\0result\0YES\0uid\0nobody\0gid\0nogroup\0\0",
    "binary": b"\xff\xfe\x01\0\0\0",
    "relbox": b"result\0YES\0uid\0nobody\0gid\0nogroup\0mailbox\0spool/x\0\0",
    "root": b"result\0YES\0uid\0" + b"0\0gid\0" + b"0\0\0",
}
send(CASES[read_request()["user"]])
'''

ENVCHECK = r'''
problems = []
with open("/proc/self/environ", "rb") as f:
    env = f.read()
if env != b"PATH=/usr/bin:/bin\0":
    problems.append("environment %r" % env)
ids = (os.getuid(), os.geteuid(), os.getgid(), os.getegid(), os.getgroups())
if ids != (UID, UID, GID, GID, [GID]):
    problems.append("ids %r" % (ids,))
for fd in sorted(int(x) for x in os.listdir("/proc/self/fd")):
    if fd > 2:
        try:
            os.fstat(fd)
        except OSError:
            continue    # the directory listdir read
        problems.append("fd %d open (%s)" % (fd, os.readlink("/proc/self/fd/%d" % fd)))
if os.readlink("/proc/self/fd/2") != "/dev/null":
    problems.append("stderr is %s" % os.readlink("/proc/self/fd/2"))
if os.getcwd() != "/":
    problems.append("cwd %s" % os.getcwd())
if os.getpgrp() != os.getpid():
    problems.append("not in its own process group")
status = dict(l.split(":", 1) for l in open("/proc/self/status").read().splitlines())
# Python itself ignores SIGPIPE and SIGXFSZ; nothing else may be ignored or
# blocked. Signals 32 and 33 are glibc's own (thread cancellation, set*id):
# no program can change them through the C library, glibc installs its own
# handlers for them in any program that needs them, and a daemon started
# from a shell that ignored them inherits that.
ign = int(status["SigIgn"], 16) & ~((1 << (13 - 1)) | (1 << (25 - 1))
                                     | (1 << (32 - 1)) | (1 << (33 - 1)))
if ign or int(status["SigBlk"], 16):
    problems.append("signals ignored %x blocked %s" % (ign, status["SigBlk"].strip()))
req = read_request()
if problems:
    reply(result="NO", logmsg="env-check FAILED: " + "; ".join(problems))
else:
    reply(result="NO", logmsg="env-check ok for " + req["user"])
'''


def write_program(ctx, name, body, **consts):
    """An executable script NAME in a fresh directory the program user can
    read; CONSTS become Python assignments before BODY."""
    d = ctx.tmpdir("prog")
    path = os.path.join(d, name)
    head = "".join("%s = %r\n" % kv for kv in consts.items())
    with open(path, "w") as f:
        f.write(PRELUDE + head + body)
    os.chmod(path, 0o755)
    return path


def other_config(program, extra=None):
    config = {
        "auth-flatfile-enable": "no",
        "auth-other-enable": "yes",
        "auth-other-program": program,
        "auth-other-user": PROG_USER,
        "auth-other-group": PROG_GROUP,
        "auth-other-timeout": "5",
    }
    config.update(extra or {})
    return config


def good_server(ctx, extra=None):
    uid2, gid2 = owner_ids("tp3user2")
    users = {
        "ouser1": ("Other-secret-1", {"uid": "tp3user2", "gid": str(gid2)}),
        "ouser2": ("Other-secret-2", {"uid": "nobody", "gid": "nogroup",
                                      "domain": "other.example",
                                      "mailbox": "MAILBOX", "mboxtype": "bsd"}),
    }
    prog_dir = ctx.tmpdir("prog")
    program = os.path.join(prog_dir, "good.py")
    srv = ctx.server(other_config(program, extra), start=False)
    box = os.path.join(srv.spool, "custom-box-of-ouser2")
    users["ouser2"][1]["mailbox"] = box
    with open(program, "w") as f:
        f.write(PRELUDE + "USERS = %r\n" % (users,) + GOOD)
    os.chmod(program, 0o755)
    srv.put_mbox("ouser1", mbox.standard(), owner=(uid2, gid2))
    nobody = owner_ids("nobody", "nogroup")
    srv.put_mbox("ohost", mbox.small(), owner=nobody)
    with open(box, "wb") as f:
        f.write(mbox.small())
    os.chown(box, *nobody)
    os.chmod(box, 0o600)
    srv.start()
    return srv, box


def attempt(srv, user, password):
    with srv.connect() as c:
        c.ok("USER " + user)
        r = c.reply("PASS " + password)
        if r.startswith(b"+OK"):
            c.ok("STAT")
            c.ok("QUIT")
        return r


def leftovers(srv, program, wait=3.0):
    """Processes of the program, and any child of a session (a zombie
    included) but its pre-login process: none may outlive an
    authentication. The ONLOGIN request after a successful login runs the
    program once more, detached and bounded by auth-other-timeout: give it
    WAIT seconds to end."""
    deadline = time.monotonic() + wait
    while True:
        out = [p for p in system.all_pids() if program in system.cmdline(p)]
        for session in srv.children():
            out.extend(p for p in system.children_of(session)
                       if not system.runs_as_privsep_user(p))
        if not out or time.monotonic() > deadline:
            return sorted(set(out))
        time.sleep(0.05)


def no_passwords_logged(srv):
    text = srv.log_text()
    for p in PASSWORDS:
        check.true(p not in text, "a password appears in the daemon log")


@test
def pass_yes_and_no(ctx):
    srv, box = good_server(ctx)
    msgs = srv.messages("ouser1")
    with srv.login("ouser1", "Other-secret-1") as c:
        check.eq(c.ok("STAT").split()[1:3],
                 [b"%d" % len(msgs), b"%d" % sum(m.size for m in msgs)], "STAT of ouser1")
        check.eq(c.ok_body("RETR 2"), msgs[1].served, "RETR 2 of ouser1")
        c.ok("QUIT")
    # The mailbox the program named, not the mailbox directive's.
    with open(box, "rb") as f:
        want = mbox.split(f.read())
    with srv.login("ouser2", "Other-secret-2") as c:
        check.eq(c.ok("STAT").split()[1], b"%d" % len(want), "STAT of the mailbox named by the program")
        c.ok("QUIT")
    mark = len(srv.log_text())
    check.startswith(attempt(srv, "ouser1", "Other-wrong-1"), b"-ERR [AUTH]", "wrong password")
    check.true(srv.wait_log(r"login failed: user=ouser1 driver=other[^\n]*said NO: "
                            r"wrong password for ouser1", 5, start=mark),
               "refusal and the program's logmsg not logged:\n" + srv.log_tail())
    check.startswith(attempt(srv, "nosuchuser", "Other-secret-1"), b"-ERR [AUTH]",
                     "unknown user")
    check.true(not leftovers(srv, "good.py"), "program processes left: %s" % leftovers(srv, "good.py"))
    no_passwords_logged(srv)


@test
def apop_decided_by_program(ctx):
    srv, _ = good_server(ctx)
    with srv.connect() as c:
        check.true(c.timestamp, "no APOP timestamp with the other driver: %r" % c.greeting)
        check.startswith(c.apop("ouser1", "Other-secret-1"), b"+OK", "APOP the program accepts")
        c.ok("STAT")
        c.ok("QUIT")
    with srv.connect() as c:
        check.startswith(c.apop("ouser1", "Other-wrong-1"), b"-ERR [AUTH]",
                         "APOP the program refuses")


@test
def client_address_reaches_program(ctx):
    srv, _ = good_server(ctx)
    r = attempt(srv, "ohost", "anything")
    if not r.startswith(b"+OK"):
        m = srv.wait_log(r"clienthost=[^\n]*", 1)
        check.fail("program did not see clienthost and serverhost 127.0.0.1: %s"
                   % (m.group(0) if m else srv.log_tail()))


@test
def clean_environment_and_privileges(ctx):
    uid, gid = owner_ids(PROG_USER, PROG_GROUP)
    program = write_program(ctx, "envcheck.py", ENVCHECK, UID=uid, GID=gid)
    srv = ctx.server(other_config(program))
    mark = len(srv.log_text())
    check.startswith(attempt(srv, "envuser", "whatever"), b"-ERR [AUTH]", "env check login")
    m = srv.wait_log(r"env-check [^\n]*", 5, start=mark)
    check.true(m, "no env-check report in the log:\n" + srv.log_tail())
    check.eq(m.group(0), "env-check ok for envuser", "what the program found")


def timed_temp_failure(srv, user, limit, what):
    with srv.connect() as c:
        c.ok("USER " + user)
        t0 = time.monotonic()
        r = c.reply("PASS whatever", timeout=15)
        dt = time.monotonic() - t0
        check.startswith(r, b"-ERR [SYS/TEMP]", what)
        check.true(dt < limit, "%s: answered after %.2fs (limit %.1fs)" % (what, dt, limit))
        # The session is still usable.
        c.ok("USER tp3user1")
        c.ok("PASS " + password_of("tp3user1"))
        c.ok("STAT")
        c.ok("QUIT")
    return dt


@test
def slow_program_is_stopped(ctx):
    program = write_program(ctx, "slow.py", SLOW)
    srv = ctx.server(other_config(program, {"auth-other-timeout": "0.5"}))
    mark = len(srv.log_text())
    dt = timed_temp_failure(srv, "slowuser", 2.0, "login against a program that sleeps")
    check.true(dt >= 0.45, "gave up after %.2fs, before auth-other-timeout 0.5" % dt)
    check.true(srv.wait_log(r"login failed temporarily: user=slowuser driver=other[^\n]*"
                            r"no reply from [^\n]* within 500 ms", 5, start=mark),
               "timeout not logged:\n" + srv.log_tail())
    check.true(not leftovers(srv, program), "program processes left: %s" % leftovers(srv, program))
    with srv.login("tp3user2") as c:
        c.ok("QUIT")


@test
def program_ignoring_sigterm_is_killed(ctx):
    program = write_program(ctx, "stubborn.py", STUBBORN)
    srv = ctx.server(other_config(program, {"auth-other-timeout": "0.3"}))
    timed_temp_failure(srv, "stubborn", 2.0, "login against a program that ignores SIGTERM")
    check.true(not leftovers(srv, program), "program processes left: %s" % leftovers(srv, program))


@test
def program_that_dies(ctx):
    program = write_program(ctx, "dies.py", DIES)
    srv = ctx.server(other_config(program))
    for user, why in (("exit3", r"gave no reply; exited with status 3"),
                      ("killed", r"gave no reply; killed by signal 9"),
                      ("closed", r"gave no reply; exited with status 0")):
        mark = len(srv.log_text())
        timed_temp_failure(srv, user, 3.0, "program that dies (%s)" % user)
        check.true(srv.wait_log(r"user=%s driver=other[^\n]*%s" % (user, why), 5, start=mark),
                   "no %r in the log:\n%s" % (why, srv.log_tail()))
    check.true(not leftovers(srv, program), "program processes left: %s" % leftovers(srv, program))


@test
def garbage_replies(ctx):
    program = write_program(ctx, "garbage.py", GARBAGE)
    srv = ctx.server(other_config(program))
    cases = [
        ("half", r"ended its output in the middle of a reply"),
        ("maybe", r"malformed reply [^\n]*neither YES nor NO"),
        ("nouid", r"unusable reply [^\n]*without a uid"),
        ("baduid", r"unusable reply [^\n]*uid is neither"),
        ("huge", r"longer than 4096 bytes"),
        ("twice", r"malformed reply [^\n]*twice"),
        ("binary", r"malformed reply [^\n]*no result"),
        ("relbox", r"unusable reply [^\n]*not an absolute path"),
    ]
    for user, why in cases:
        mark = len(srv.log_text())
        timed_temp_failure(srv, user, 3.0, "garbage reply (%s)" % user)
        check.true(srv.wait_log(r"login failed temporarily: user=%s driver=other[^\n]*%s"
                                % (user, why), 5, start=mark),
                   "no %r in the log:\n%s" % (why, srv.log_tail()))
    # uid 0 is refused, whatever the program says.
    mark = len(srv.log_text())
    check.startswith(attempt(srv, "root", "whatever"), b"-ERR [AUTH]", "a YES with uid 0")
    check.true(srv.wait_log(r"user=root driver=other[^\n]*uid 0", 5, start=mark),
               "uid 0 refusal not logged:\n" + srv.log_tail())
    check.true(not leftovers(srv, program), "program processes left: %s" % leftovers(srv, program))


@test
def program_that_cannot_be_run(ctx):
    program = write_program(ctx, "good.py", GOOD, USERS={})
    srv = ctx.server(other_config(program))
    os.chmod(program, 0o700)    # root's now; the program user cannot run it
    mark = len(srv.log_text())
    timed_temp_failure(srv, "ouser1", 3.0, "program the program user cannot run")
    check.true(srv.wait_log(r"driver=other[^\n]*cannot run [^\n]*exec: Permission denied",
                            5, start=mark), "exec failure not logged:\n" + srv.log_tail())


@test
def config_is_checked(ctx):
    program = write_program(ctx, "good.py", GOOD, USERS={})
    srv = ctx.server(other_config(program), start=False)
    bad = [
        ({"auth-other-program": "good.py"}, "auth-other-program"),
        ({"auth-other-program": program + ".missing"}, "auth-other-program"),
        ({"auth-other-program": os.path.dirname(program)}, "auth-other-program"),
        ({"auth-other-program": None}, "auth-other-program"),
        ({"auth-other-user": "root"}, "auth-other-user"),
        ({"auth-other-user": None}, "auth-other-user"),
        ({"auth-other-group": "root"}, "auth-other-group"),
        ({"auth-other-user": "no-such-user-tp3"}, "auth-other-user"),
    ]
    base = dict(srv.config)
    for updates, directive in bad:
        srv.config = dict(base)
        srv.write_config(updates)
        r = subprocess.run([ctx.binary, "-t", "-f", srv.conf], capture_output=True, timeout=20)
        err = r.stderr.decode("latin-1")
        check.true(r.returncode != 0, "-t accepted %r" % updates)
        check.true(directive in err, "error for %r does not name %s: %r"
                   % (updates, directive, err))
    for mode, why in ((0o644, "not executable"), (0o757, "writable by every user")):
        os.chmod(program, mode)
        srv.config = dict(base)
        srv.write_config()
        r = subprocess.run([ctx.binary, "-t", "-f", srv.conf], capture_output=True, timeout=20)
        err = r.stderr.decode("latin-1")
        check.true(r.returncode != 0 and why in err,
                   "-t on a program of mode %o: status %d, %r" % (mode, r.returncode, err))
    os.chmod(program, 0o755)
