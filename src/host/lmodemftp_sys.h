/*
** lmodemftp_sys.h: host services for the modemftp command, registered into
** modemftp.core: serial port discovery (libserialport), per-port locks
** (flock with a deadline, usable by any user, naming a busy lock's
** holder), umask, syslog, isatty, a whole-job deadline timer
** (SIGALRM, see core.deadline), realpath, the local file services of
** lmodemftp_file.h (stat, fsync, fsync_dir, chmod, ferror, listdir) and the
** standard streams of lmodemftp_stdio.h (term_columns, divert_stdout).
*/
#ifndef LMODEMFTP_SYS_H
#define LMODEMFTP_SYS_H
#include <lua.h>

/* Add the functions to the table on top of the stack. */
void mf_lua_register_sys(lua_State *L);

#endif
