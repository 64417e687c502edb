/*
** ec20sim_ram.c: the module's RAM drive ("RAM:name"), as AT+QFUPL, QFLST,
** QFDEL, QFDWL, QFOPEN/QFREAD/QFWRITE and QFTPPUT/QFTPGET with RAM: names
** use it. Its size is capped (--ram-size) like the module's. The other
** models' drives (UFS:, SD:) live here too, each file named with its drive;
** all drives share the one capacity.
*/
#include "ec20sim.h"

#include <stdlib.h>
#include <stdio.h>
#include <string.h>

ramfile *ram_find(sim *s, const char *name)
{
	for (ramfile *f = s->ram; f; f = f->next)
		if (strcmp(f->name, name) == 0)
			return f;
	return NULL;
}

ramfile *ram_create(sim *s, const char *name)
{
	ramfile *f = calloc(1, sizeof *f);
	if (!f)
		return NULL;
	snprintf(f->name, sizeof f->name, "%s", name);
	f->next = s->ram;
	s->ram = f;
	return f;
}

/* Make room for `need` more bytes in f, within the drive's capacity. */
int ram_reserve(sim *s, ramfile *f, size_t need)
{
	if (s->ram_used + need > s->o.ram_size)
		return -1;
	if (f->len + need > f->cap) {
		size_t cap = f->cap ? f->cap : 1024;
		while (cap < f->len + need)
			cap *= 2;
		unsigned char *p = realloc(f->data, cap);
		if (!p)
			return -1;
		f->data = p;
		f->cap = cap;
	}
	return 0;
}

int ram_append(sim *s, ramfile *f, const void *d, size_t n)
{
	if (n == 0)
		return 0;
	if (ram_reserve(s, f, n) < 0)
		return -1;
	memcpy(f->data + f->len, d, n);
	f->len += n;
	s->ram_used += n;
	return 0;
}

void ram_delete(sim *s, ramfile *f)
{
	for (ramfile **pp = &s->ram; *pp; pp = &(*pp)->next) {
		if (*pp == f) {
			*pp = f->next;
			s->ram_used -= f->len;
			for (int i = 0; i < SIM_MAX_FH; i++)
				if (s->fh[i].f == f)
					s->fh[i].f = NULL;
			free(f->data);
			free(f);
			return;
		}
	}
}

/* every file of one drive ("RAM"); NULL: all */
void ram_clear_drive(sim *s, const char *drv)
{
	size_t n = drv ? strlen(drv) : 0;
	for (ramfile **pp = &s->ram; *pp;) {
		if (!drv || (!strncmp((*pp)->name, drv, n) && (*pp)->name[n] == ':'))
			ram_delete(s, *pp);
		else
			pp = &(*pp)->next;
	}
}

void ram_clear(sim *s)
{
	while (s->ram)
		ram_delete(s, s->ram);
	s->ram_used = 0;
}

/* Quectel's file checksum: XOR of the data taken as big-endian 16-bit words
** (an odd last byte is the high byte of a last word), printed in hex. */
unsigned ram_checksum(const unsigned char *d, size_t n)
{
	unsigned c = 0;
	size_t i;
	for (i = 0; i + 1 < n; i += 2)
		c ^= (unsigned)d[i] << 8 | d[i + 1];
	if (i < n)
		c ^= (unsigned)d[i] << 8;
	return c;
}
