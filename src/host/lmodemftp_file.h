/*
** lmodemftp_file.h: local file services for the Lua layer, registered into
** modemftp.core by mf_lua_register_sys. They let Lua own the local files of
** a transfer and make them durable, with every step checked:
**
**   core.stat(path | file)  -> {type, size, dev, ino, mode, nlink, mtime,
**                              mtime_nsec} | nil, err
**       type: "file", "directory", "char", "block", "fifo", "socket",
**       "link" (never: stat follows links) or "other"; a Lua file is
**       fstat'ed (what it really is: a pipe, a device, a regular file).
**   core.fsync(path | file) -> true | nil, err
**       a Lua file is flushed (fflush) and then fsync'ed; a path is opened
**       read-only and fsync'ed.
**   core.fsync_dir(dir)     -> true | nil, err
**       fsync of a directory, so that a rename or a new name in it
**       survives a power loss; a file system that cannot sync directories
**       (EINVAL) counts as done.
**   core.chmod(path | file, mode) -> true | nil, err
**       set the permission bits (mode & 07777, as core.stat gives them);
**       a Lua file is fchmod'ed: a temporary file takes the mode of the
**       file it will replace.
**   core.ferror(file)       -> boolean
**       the stream's error indicator: a write or read through it failed
**       (the core's file sinks and sources use the same FILE).
**   core.listdir(dir)       -> {name, ...} | nil, err
**       the names in a folder ("." and ".." left out), in the order the
**       file system gives them: a BusyBox gateway has no `find -printf`,
**       so the example jobs list folders here. A missing folder, or one
**       that cannot be read, is a failure (err.errno ENOENT, EACCES, ...).
**
** Failures are nil, err with err.kind "io", err.errno and a message that
** names the path ("fsync /x/y: No space left on device"). A closed file,
** or a value of another type, is misuse and raises.
*/
#ifndef LMODEMFTP_FILE_H
#define LMODEMFTP_FILE_H
#include <lua.h>

/* Add the functions to the table on top of the stack. */
void mf_lua_register_file(lua_State *L);

#endif
