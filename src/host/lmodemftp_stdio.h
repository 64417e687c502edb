/*
** lmodemftp_stdio.h: the process's terminal and standard streams, for the
** Lua layer; registered into modemftp.core by mf_lua_register_sys.
**
**   core.term_columns(fd)   -> columns | nil
**       the width of the terminal on descriptor fd (TIOCGWINSZ), or nil
**       when fd is no terminal or the terminal does not say (0 columns):
**       the console's progress line fits it (COLUMNS is the fallback).
**   core.divert_stdout()    -> file | nil, err
**       keep the standard output as a new Lua file (a duplicate of
**       descriptor 1), then point descriptor 1 at the standard error: what
**       a job writes to stdout from then on (print, io.write, the commands
**       it runs) goes to stderr, and `modemftp run --json` writes its line
**       to the file, alone. The C stdout is flushed first.
**   core.last_words(file, text) / core.last_words(nil)
**       text (at most 2048 bytes) to write to the file's descriptor if the
**       process is ended by the --timeout hard exit (core.deadline's second
**       expiry), where no Lua runs: the --json line of a job that did not
**       stop. nil forgets it.
*/
#ifndef LMODEMFTP_STDIO_H
#define LMODEMFTP_STDIO_H
#include <lua.h>

/* Add the functions to the table on top of the stack. */
void mf_lua_register_stdio(lua_State *L);

/* Write the last words core.last_words set, if any (async-signal-safe:
** one write loop on a saved descriptor). */
void mf_say_last_words(void);

#endif
