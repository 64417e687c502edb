/*
** mf_fdio.h: poll-based read/write with deadlines on a non-blocking file
** descriptor, shared by the termios, TCP and libserialport backends.
** Same return convention as the transport ops.
*/
#ifndef MF_FDIO_H
#define MF_FDIO_H
#include "mf_transport.h"

long mf_fd_read(int fd, void *buf, size_t len, int timeout_ms, char *err, size_t errlen);
long mf_fd_write(int fd, const void *buf, size_t len, int timeout_ms, char *err, size_t errlen);
int mf_fd_set_nonblock(int fd);
/* Close fd on exec: a child process (a job's os.execute) must not hold the
** modem port. Backends that cannot open with O_CLOEXEC (libserialport)
** call this on the descriptor they get. 0, or -1 with errno. */
int mf_fd_set_cloexec(int fd);

#endif
