/*
** mf_holder.h: another process on the port.
**
** A modem's AT port is for one program at a time: two that talk on it get
** each other's answers. Ports are opened exclusively (TIOCEXCL: a second
** open fails with EBUSY, except for root) and that flag is cleared again
** on close (a pty whose other side stays open keeps it otherwise). When an
** open fails with EBUSY, mf_holders names who holds the device, from
** /proc/<pid>/fd: the same character device (st_rdev) or file.
*/
#ifndef MF_HOLDER_H
#define MF_HOLDER_H

#include <stddef.h>

/* Set (on 1) or clear (0) exclusive use of the tty fd; best effort (not a
** tty: nothing to do). */
void mf_tty_exclusive(int fd, int on);

/* Describe the processes other than this one that hold path open, as
** "pid 812 (ModemManager), pid 9031 (minicom)" (at most 4, then ", ...")
** into out. Returns how many were found (0: out is "", e.g. /proc hides
** them from an unprivileged user). */
int mf_holders(const char *path, char *out, size_t cap);

/* The message of an open that failed with EBUSY: "PATH: busy: held by ..."
** (or "...: busy (no process found holding it)"). */
void mf_busy_message(const char *path, char *err, size_t errlen);

#endif
