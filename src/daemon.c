/* SPDX-License-Identifier: GPL-2.0-or-later */
/* daemon.c: detaching and the pidfile. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "daemon.h"

/* Write end of the pipe the foreground parent waits on; -1 when none. */
static int ready_fd = -1;

int daemon_detach(void)
{
    int pfd[2], fd;
    pid_t pid;

    if (pipe(pfd) < 0)
        return -1;
    pid = fork();
    if (pid < 0)
        return -1;
    if (pid > 0) {
        char status = 1;

        /* Init systems read the pidfile as soon as we return: wait until
         * the daemon has written it (or has failed and closed the pipe). */
        close(pfd[1]);
        while (read(pfd[0], &status, 1) < 0 && errno == EINTR)
            ;
        _exit(status == 0 ? 0 : 1);
    }
    close(pfd[0]);
    if (setsid() < 0)
        return -1;
    /* A second fork: the daemon is not a session leader and can never
     * acquire a controlling terminal again. */
    pid = fork();
    if (pid < 0)
        return -1;
    if (pid > 0)
        _exit(0);
    ready_fd = pfd[1];
    fcntl(ready_fd, F_SETFD, FD_CLOEXEC);
    if (chdir("/") < 0)
        return -1;
    umask(022);
    fd = open("/dev/null", O_RDWR);
    if (fd < 0)
        return -1;
    dup2(fd, STDIN_FILENO);
    dup2(fd, STDOUT_FILENO);
    dup2(fd, STDERR_FILENO);
    if (fd > STDERR_FILENO)
        close(fd);
    return 0;
}

void daemon_ready(void)
{
    char ok = 0;

    if (ready_fd < 0)
        return;
    if (write(ready_fd, &ok, 1) < 0) {
        /* the parent is gone; nothing waits */
    }
    close(ready_fd);
    ready_fd = -1;
}

int pidfile_write(const char *path, const char **error_r)
{
    char buf[32];
    FILE *f;
    int fd, n;

    f = fopen(path, "r");
    if (f) {
        long pid = 0;
        char line[32];

        if (fgets(line, sizeof line, f))
            pid = strtol(line, NULL, 10);
        fclose(f);
        if (pid > 1 && kill((pid_t)pid, 0) == 0 && pid != (long)getpid()) {
            *error_r = "pidfile names a running process: already running?";
            return -1;
        }
        unlink(path);
    }
    fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
    if (fd < 0) {
        *error_r = strerror(errno);
        return -1;
    }
    n = snprintf(buf, sizeof buf, "%ld\n", (long)getpid());
    if (write(fd, buf, (size_t)n) != n) {
        *error_r = strerror(errno);
        close(fd);
        unlink(path);
        return -1;
    }
    close(fd);
    return 0;
}

void pidfile_remove(const char *path)
{
    if (path)
        unlink(path);
}
