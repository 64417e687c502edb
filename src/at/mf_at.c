/*
** mf_at.c: AT line tokenizer and classifier (see mf_at.h).
*/
#include "mf_at.h"
#include "mf_lines.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

void mf_at_init(mf_at_parser *p)
{
	p->len = 0;
	p->overflow = 0;
	p->after_cr = 0;
	p->reported = 0;
	p->line[0] = 0;
}

/* Strip noise: bytes before the first printable character. */
static void finish_line(mf_at_parser *p)
{
	size_t i = 0;
	while (i < p->len && ((unsigned char)p->line[i] < 0x20 || (unsigned char)p->line[i] >= 0x7f))
		i++;
	if (i) {
		memmove(p->line, p->line + i, p->len - i);
		p->len -= i;
	}
	/* trailing spaces carry no meaning in result codes */
	while (p->len && p->line[p->len - 1] == ' ')
		p->len--;
	p->line[p->len] = 0;
}

size_t mf_at_feed(mf_at_parser *p, const char *buf, size_t n, int *line_ready)
{
	size_t i = 0;
	*line_ready = 0;
	if (p->reported) {
		p->len = 0;
		p->overflow = 0;
		p->reported = 0;
	}
	while (i < n) {
		char c = buf[i++];
		if (c == '\n' && p->after_cr) {
			p->after_cr = 0;
			continue;
		}
		p->after_cr = 0;
		if (c == '\r' || c == '\n') {
			p->after_cr = (c == '\r');
			if (p->len == 0 && !p->overflow)
				continue; /* empty line */
			finish_line(p);
			if (p->len == 0 && !p->overflow)
				continue; /* the line was only noise */
			*line_ready = 1;
			p->reported = 1;
			return i;
		}
		if (p->len < MF_AT_LINE_MAX)
			p->line[p->len++] = c;
		else
			p->overflow = 1;
	}
	return i;
}

int mf_at_swallow_lf(mf_at_parser *p, char c)
{
	int skip = p->after_cr && c == '\n';
	p->after_cr = 0;
	return skip;
}

static int starts(const char *s, const char *prefix)
{
	return strncmp(s, prefix, strlen(prefix)) == 0;
}

int mf_at_has_prefix(const char *line, const char *prefix)
{
	size_t n = strlen(prefix);
	return n && strncasecmp(line, prefix, n) == 0 && line[n] == ':';
}

void mf_at_prefix(const char *cmd, char *out, size_t cap)
{
	size_t o = 0;
	out[0] = 0;
	if (!cmd || cap == 0 || strncasecmp(cmd, "AT", 2) != 0)
		return;
	const char *s = cmd + 2;
	if (*s != '+' && *s != '$' && *s != '^')
		return;
	while (*s && *s != '=' && *s != '?' && *s != ';' && o + 1 < cap)
		out[o++] = (char)toupper((unsigned char)*s++);
	out[o] = 0;
}

int mf_at_is_known_urc(const char *line)
{
	return (mf_line_classes(line, strlen(line)) & MF_LC_OWN) != 0;
}

int mf_at_cme_code(const char *line)
{
	const char *s = NULL;
	if (starts(line, "+CME ERROR:"))
		s = line + 11;
	else if (starts(line, "+CMS ERROR:"))
		s = line + 11;
	if (!s)
		return -1;
	while (*s == ' ')
		s++;
	if (!isdigit((unsigned char)*s))
		return -1;
	char *end;
	long v = strtol(s, &end, 10);
	return (*end == 0 && v >= 0 && v < 100000) ? (int)v : -1;
}

static int is_echo(const char *line, const mf_at_ctx *ctx)
{
	if (!ctx || !ctx->cmd || ctx->echo_done)
		return 0;
	if (strcmp(line, ctx->cmd) == 0)
		return 1;
	/* A partial or reformatted echo still starts with AT. */
	return strncasecmp(line, "AT", 2) == 0 && strncasecmp(ctx->cmd, "AT", 2) == 0;
}

mf_line_kind mf_at_classify(const char *line, const mf_at_ctx *ctx)
{
	if (is_echo(line, ctx))
		return MF_LINE_ECHO;
	if (strcmp(line, "OK") == 0)
		return MF_LINE_OK;
	if (strcmp(line, "ERROR") == 0)
		return MF_LINE_ERROR;
	if (starts(line, "+CME ERROR:") || starts(line, "+CMS ERROR:"))
		return MF_LINE_CME;
	if (strcmp(line, "NO CARRIER") == 0 || strcmp(line, "NO DIALTONE") == 0 ||
	    strcmp(line, "BUSY") == 0 || strcmp(line, "NO ANSWER") == 0)
		return MF_LINE_NO_CARRIER;
	if (strcmp(line, "CONNECT") == 0 || starts(line, "CONNECT "))
		return MF_LINE_CONNECT;
	if (!ctx || !ctx->cmd)
		return MF_LINE_URC;
	char prefix[32];
	mf_at_prefix(ctx->cmd, prefix, sizeof prefix);
	if (line[0] == '+') {
		/* "+NAME:" answers the command in flight only if it is its own name. */
		if (prefix[0] && mf_at_has_prefix(line, prefix))
			return MF_LINE_INFO;
		return MF_LINE_URC;
	}
	if (mf_at_is_known_urc(line))
		return MF_LINE_URC;
	return MF_LINE_INFO;
}
