/*
** ec20sim_cmd_file.c: the file commands on the RAM drive (ec20sim_ram.c):
** AT+QFUPL, QFLST, QFDEL, QFDWL and the handle commands QFOPEN, QFREAD,
** QFWRITE, QFSEEK, QFPOSITION, QFCLOSE. Their errors are the Quectel FILE
** manual's codes (400 invalid input, 405 not found, ...), not the FTP ones.
*/
#include "ec20sim_at.h"

#include <fnmatch.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

/* "RAM:name" (or a drive of the model) -> its canonical name, or -1 */
static int ram_name(sim *s, const char *full, char *out, size_t len)
{
	if (!full || strlen(full) > 80 || model_drive(s->model, full, out, len, 400))
		return -1;
	return 0;
}

/* "DRV:pattern": the model's drive it names (canonical, with ':') and the
** pattern after it; NULL when it names none */
static const char *pattern_drive(sim *s, const char *pat, char *drv, size_t len)
{
	const char *rest = strchr(pat, ':');
	char t[96];
	if (!rest)
		return NULL;
	rest++;
	snprintf(t, sizeof t, "%.*s*", (int)(rest - pat), pat); /* the drive alone */
	if (model_drive(s->model, t, drv, len, 400))
		return NULL;
	drv[strlen(drv) - 2] = 0; /* "RAM:*" -> "RAM" */
	return rest;
}

static int on_drive(const ramfile *r, const char *drv)
{
	size_t n = strlen(drv);
	return !strncmp(r->name, drv, n) && r->name[n] == ':';
}

static int c_qfupl(sim *s, int f, args *A)
{
	const char *full;
	char name[88];
	long long size, tmo, ack;
	if (f == F_TEST) {
		out_info(s, "+QFUPL: <filename>[,<file_size>[,<timeout>[,<ackmode>]]]");
		return RC_OK;
	}
	if (f != F_WRITE)
		return RC_ERROR;
	if (get_str(A, 0, 80, &full) < 0 || ram_name(s, full, name, sizeof name) < 0)
		return 400;
	if (get_int(A, 1, 0, LLONG_MAX, 10240, &size) < 0 || get_int(A, 2, 1, 65535, 5, &tmo) < 0 ||
	    get_int(A, 3, 0, 1, 0, &ack) < 0)
		return 400;
	if (ram_find(s, name))
		return 407;
	if (s->ram_used + (size_t)size > s->o.ram_size)
		return 420;
	s->upl = ram_create(s, name);
	if (!s->upl)
		return 420;
	begin_file_in(s, SINK_QFUPL, size, tmo, (int)ack);
	return RC_NONE;
}

/* "RAM:name" -> its file; NULL for a bad name as for a missing file (405) */
static ramfile *named_file(sim *s, const char *full)
{
	char name[88];
	if (ram_name(s, full, name, sizeof name) < 0)
		return NULL;
	return ram_find(s, name);
}

static int list_match(const char *pat, const char *name)
{
	if (!*pat || !strcmp(pat, "*") || !strcmp(pat, ".*") || !strcmp(pat, "?") || !strcmp(pat, "."))
		return 1; /* chapter 3 writes "RAM:*", "RAM:.*", "RAM:?" and "RAM:." alike */
	return fnmatch(pat, name, 0) == 0;
}

static int c_qflst(sim *s, int f, args *A)
{
	const char *pat = NULL;
	char drv[96];
	if (f == F_TEST)
		return RC_OK;
	if (f == F_WRITE && (get_str(A, 0, 80, &pat) < 0 || !pat))
		return 400;
	if (f != F_WRITE && f != F_EXEC)
		return RC_ERROR;
	if (f == F_EXEC || !strcmp(pat, "*")) { /* the model's first drive */
		snprintf(drv, sizeof drv, "%s", s->model->drives[0]);
		pat = "*";
	} else if (!(pat = pattern_drive(s, pat, drv, sizeof drv))) {
		return RC_OK; /* no other drive has files here */
	}
	/* oldest first, like a directory listing */
	ramfile *v[256];
	int n = 0;
	for (ramfile *r = s->ram; r && n < 256; r = r->next)
		v[n++] = r;
	for (int i = n - 1; i >= 0; i--)
		if (on_drive(v[i], drv) && list_match(pat, v[i]->name + strlen(drv) + 1))
			out_info(s, "+QFLST: \"%s\",%zu", v[i]->name, v[i]->len);
	return RC_OK;
}

static int c_qfdel(sim *s, int f, args *A)
{
	const char *full;
	if (f == F_TEST)
		return RC_OK;
	if (f != F_WRITE || get_str(A, 0, 80, &full) < 0 || !full)
		return f == F_WRITE ? 400 : RC_ERROR;
	char drv[96];
	const char *pat = pattern_drive(s, full, drv, sizeof drv);
	if (!strcmp(full, "*"))
		return RC_OK;
	if (pat && !strcmp(pat, "*")) {
		ram_clear_drive(s, drv);
		return RC_OK;
	}
	ramfile *r = named_file(s, full);
	if (!r)
		return 405;
	ram_delete(s, r);
	return RC_OK;
}

static int c_qfdwl(sim *s, int f, args *A)
{
	const char *full;
	if (f == F_TEST)
		return RC_OK;
	if (f != F_WRITE || get_str(A, 0, 80, &full) < 0 || !full)
		return f == F_WRITE ? 400 : RC_ERROR;
	ramfile *r = named_file(s, full);
	if (!r)
		return 405;
	out_connect(s);
	out_raw(s, r->data, r->len);
	out_info(s, "+QFDWL: %zu,%x", r->len, ram_checksum(r->data, r->len));
	out_final(s, "OK");
	return RC_NONE;
}

/* The handle commands have only a test and a write form, and the write form
** names an open handle (1024 on) first. Its slot; or -1: answer *rc. */
static int handle_arg(sim *s, int f, const args *A, int *rc)
{
	long long v;
	*rc = f == F_WRITE ? 416 : f == F_TEST ? RC_OK : RC_ERROR;
	if (f != F_WRITE || get_int(A, 0, 1024, 1024 + SIM_MAX_FH - 1, -1, &v) < 0 || v < 0 ||
	    !s->fh[v - 1024].f)
		return -1;
	return (int)(v - 1024);
}

static int c_qfopen(sim *s, int f, args *A)
{
	const char *full;
	char name[88];
	long long mode;
	if (f == F_TEST)
		return RC_OK;
	if (f != F_WRITE)
		return RC_ERROR;
	if (get_str(A, 0, 80, &full) < 0 || ram_name(s, full, name, sizeof name) < 0 ||
	    get_int(A, 1, 0, 2, 0, &mode) < 0)
		return 400;
	ramfile *r = ram_find(s, name);
	if (!r && mode == 2)
		return 405;
	int slot = -1;
	for (int i = 0; i < SIM_MAX_FH; i++)
		if (!s->fh[i].f) {
			slot = i;
			break;
		}
	if (slot < 0)
		return 413;
	if (!r && !(r = ram_create(s, name)))
		return 420;
	if (mode == 1) {
		s->ram_used -= r->len;
		r->len = 0;
	}
	s->fh[slot].f = r;
	s->fh[slot].pos = 0;
	s->fh[slot].mode = (int)mode;
	out_info(s, "+QFOPEN: %d", 1024 + slot);
	return RC_OK;
}

static int c_qfclose(sim *s, int f, args *A)
{
	int rc, h = handle_arg(s, f, A, &rc);
	if (h < 0)
		return rc;
	s->fh[h].f = NULL;
	return RC_OK;
}

static int c_qfread(sim *s, int f, args *A)
{
	long long len;
	int rc, h = handle_arg(s, f, A, &rc);
	if (h < 0)
		return rc;
	ramfh *fh = &s->fh[h];
	size_t left = fh->f->len > fh->pos ? fh->f->len - fh->pos : 0;
	if (get_int(A, 1, 0, LLONG_MAX, (long long)left, &len) < 0)
		return 400;
	if ((size_t)len > left)
		len = (long long)left;
	char c[64];
	snprintf(c, sizeof c, "\r\nCONNECT %lld\r\n", len);
	out_raw(s, c, strlen(c));
	out_raw(s, fh->f->data + fh->pos, (size_t)len);
	fh->pos += (size_t)len;
	out_final(s, "OK");
	return RC_NONE;
}

static int c_qfwrite(sim *s, int f, args *A)
{
	long long len, tmo;
	int rc, h = handle_arg(s, f, A, &rc);
	if (h < 0)
		return rc;
	if (get_int(A, 1, 0, LLONG_MAX, 10240, &len) < 0 || get_int(A, 2, 1, 65535, 5, &tmo) < 0)
		return 400;
	if (s->fh[h].mode == 2)
		return 414;
	s->wfh = h;
	begin_file_in(s, SINK_QFWRITE, len, tmo, 0);
	return RC_NONE;
}

static int c_qfseek(sim *s, int f, args *A)
{
	long long off, org;
	int rc, h = handle_arg(s, f, A, &rc);
	if (h < 0)
		return rc;
	if (get_int(A, 1, LLONG_MIN / 2, LLONG_MAX / 2, 0, &off) < 0 || get_int(A, 2, 0, 2, 0, &org) < 0)
		return 400;
	ramfh *fh = &s->fh[h];
	long long base = org == 0 ? 0 : org == 1 ? (long long)fh->pos : (long long)fh->f->len;
	if (base + off < 0 || base + off > (long long)fh->f->len)
		return 401;
	fh->pos = (size_t)(base + off);
	return RC_OK;
}

static int c_qfposition(sim *s, int f, args *A)
{
	int rc, h = handle_arg(s, f, A, &rc);
	if (h < 0)
		return rc;
	out_info(s, "+QFPOSITION: %zu", s->fh[h].pos);
	return RC_OK;
}

const at_cmd cmd_file[] = {
	{"QFUPL", c_qfupl}, {"QFLST", c_qflst}, {"QFDEL", c_qfdel}, {"QFDWL", c_qfdwl},
	{"QFOPEN", c_qfopen}, {"QFCLOSE", c_qfclose}, {"QFREAD", c_qfread},
	{"QFWRITE", c_qfwrite}, {"QFSEEK", c_qfseek}, {"QFPOSITION", c_qfposition},
	{NULL, NULL},
};
