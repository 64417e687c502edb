/*
** mf_holder.c: another process on the port (see mf_holder.h).
*/
#include "mf_holder.h"

#include <ctype.h>
#include <dirent.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>

#define HOLDERS_NAMED 4 /* a busy port is held by one or two programs; more is a list nobody reads */

void mf_tty_exclusive(int fd, int on)
{
	if (fd >= 0)
		(void)ioctl(fd, on ? TIOCEXCL : TIOCNXCL);
}

/* Same device: a character device by its number, anything else by inode. */
static int same_file(const struct stat *a, const struct stat *b)
{
	if (S_ISCHR(a->st_mode) && S_ISCHR(b->st_mode))
		return a->st_rdev == b->st_rdev;
	return a->st_dev == b->st_dev && a->st_ino == b->st_ino;
}

static int holds(const char *pid, const struct stat *dev)
{
	char dir[64];
	snprintf(dir, sizeof dir, "/proc/%.20s/fd", pid); /* digits */
	DIR *d = opendir(dir);
	if (!d)
		return 0;
	int found = 0;
	struct dirent *e;
	while (!found && (e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		char fd[96];
		struct stat st;
		snprintf(fd, sizeof fd, "%s/%.24s", dir, e->d_name);
		found = stat(fd, &st) == 0 && same_file(&st, dev);
	}
	closedir(d);
	return found;
}

static void comm_of(const char *pid, char *out, size_t cap)
{
	char path[64];
	snprintf(path, sizeof path, "/proc/%.20s/comm", pid);
	FILE *f = fopen(path, "re");
	out[0] = 0;
	if (f) {
		if (fgets(out, (int)cap, f))
			out[strcspn(out, "\n")] = 0;
		fclose(f);
	}
	if (!out[0])
		snprintf(out, cap, "?");
}

int mf_holders(const char *path, char *out, size_t cap)
{
	struct stat dev;
	out[0] = 0;
	if (stat(path, &dev) != 0)
		return 0;
	DIR *proc = opendir("/proc");
	if (!proc)
		return 0;
	char self[16];
	snprintf(self, sizeof self, "%ld", (long)getpid());
	int n = 0;
	size_t len = 0;
	struct dirent *e;
	while ((e = readdir(proc))) {
		if (!isdigit((unsigned char)e->d_name[0]) || !strcmp(e->d_name, self) || !holds(e->d_name, &dev))
			continue;
		if (++n > HOLDERS_NAMED) {
			if (n == HOLDERS_NAMED + 1 && len + 5 < cap)
				len += (size_t)snprintf(out + len, cap - len, ", ...");
			continue;
		}
		char comm[32];
		comm_of(e->d_name, comm, sizeof comm);
		int w = snprintf(out + len, cap - len, "%spid %.20s (%s)", n > 1 ? ", " : "", e->d_name, comm);
		if (w > 0)
			len = len + (size_t)w < cap ? len + (size_t)w : cap - 1;
	}
	closedir(proc);
	return n;
}

void mf_busy_message(const char *path, char *err, size_t errlen)
{
	char who[160];
	if (mf_holders(path, who, sizeof who) > 0)
		snprintf(err, errlen, "%s: busy: held by %s", path, who);
	else /* another user's process: /proc hides its descriptors */
		snprintf(err, errlen, "%s: busy: another program holds it (not visible to this user: `sudo fuser -v %s`)",
		         path, path);
}
