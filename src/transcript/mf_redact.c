/*
** mf_redact.c: remembers the secrets a session carries and blanks them out
** of recorded and traced traffic. Only the quoted form "secret" is replaced:
** AT commands always quote passwords, and a bare substring match would
** blank out common short strings ("1234") everywhere else.
*/
#include "mf_transcript_int.h"

#include <stdlib.h>
#include <string.h>

struct mf_redactor {
	size_t n; /* secrets in use, oldest first */
	size_t len[MF_REDACT_SLOTS];
	char s[MF_REDACT_SLOTS][MF_REDACT_MAX];
};

mf_redactor *mf_redactor_new(void)
{
	return calloc(1, sizeof(mf_redactor));
}

void mf_redactor_free(mf_redactor *r)
{
	free(r);
}

void mf_redact_add(mf_redactor *r, const char *secret, size_t len)
{
	if (!r || !secret || len == 0 || len > MF_REDACT_MAX)
		return;
	/* Keep the most recent: drop an equal one (it moves to the end), or
	** the oldest when full. */
	size_t drop = r->n;
	for (size_t i = 0; i < r->n; i++)
		if (r->len[i] == len && memcmp(r->s[i], secret, len) == 0)
			drop = i;
	if (drop == r->n && r->n == MF_REDACT_SLOTS)
		drop = 0;
	if (drop < r->n) {
		memmove(&r->len[drop], &r->len[drop + 1], (r->n - drop - 1) * sizeof r->len[0]);
		memmove(r->s[drop], r->s[drop + 1], (r->n - drop - 1) * sizeof r->s[0]);
		r->n--;
	}
	r->len[r->n] = len;
	memcpy(r->s[r->n], secret, len);
	r->n++;
}

static int ieq(const char *p, const char *word, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		char c = p[i];
		if (c >= 'a' && c <= 'z')
			c = (char)(c - 'a' + 'A');
		if (c != word[i])
			return 0;
	}
	return 1;
}

typedef struct arg {
	int quoted;
	size_t off, len; /* the text (inside the quotes when quoted) */
} arg;

/* Split the argument list starting at p[i] into args, stopping at the end
** of the command (CR, LF, ';' or the buffer end). An unterminated quote
** ends the list: a half-seen password is not learned. */
static size_t split_args(const char *p, size_t n, size_t i, arg *a, size_t max)
{
	size_t na = 0;
	while (na < max) {
		while (i < n && p[i] == ' ')
			i++;
		if (i >= n)
			break;
		if (p[i] == '"') {
			const char *q = memchr(p + i + 1, '"', n - i - 1);
			if (!q || memchr(p + i + 1, '\r', (size_t)(q - p) - i - 1) ||
			    memchr(p + i + 1, '\n', (size_t)(q - p) - i - 1))
				break;
			a[na].quoted = 1;
			a[na].off = i + 1;
			a[na].len = (size_t)(q - p) - i - 1;
			i = (size_t)(q - p) + 1;
		} else {
			size_t s = i;
			while (i < n && p[i] != ',' && p[i] != ';' && p[i] != '\r' && p[i] != '\n')
				i++;
			a[na].quoted = 0;
			a[na].off = s;
			a[na].len = i - s;
		}
		na++;
		while (i < n && p[i] == ' ')
			i++;
		if (i >= n || p[i] != ',')
			break;
		i++;
	}
	return na;
}

/* The nth (1-based) quoted argument, or NULL. */
static const arg *quoted(const arg *a, size_t na, int nth)
{
	for (size_t i = 0; i < na; i++)
		if (a[i].quoted && --nth == 0)
			return &a[i];
	return NULL;
}

void mf_redact_learn(mf_redactor *r, const char *cmd, size_t len)
{
	if (!r || !cmd)
		return;
	/* Both the command (AT+QFTPCFG=...) and the module's answer to a query
	** (+QFTPCFG: ...) carry the password in the same place. */
	const char *p = cmd;
	size_t i = 0;
	while (i < len) {
		const char *plus = memchr(p + i, '+', len - i);
		if (!plus)
			break;
		i = (size_t)(plus - p) + 1;
		int ftp;
		size_t at;
		if (len - i >= 7 && ieq(p + i, "QFTPCFG", 7)) {
			ftp = 1;
			at = i + 7;
		} else if (len - i >= 6 && ieq(p + i, "QICSGP", 6)) {
			ftp = 0;
			at = i + 6;
		} else if (len - i >= 4 && ieq(p + i, "CPIN", 4) && i + 4 < len && p[i + 4] == '=') {
			/* AT+CPIN="pin" or AT+CPIN="puk","newpin": every quoted
			** argument is a secret (the answer "+CPIN: SIM PIN" has none) */
			arg a[2];
			size_t na = split_args(p, len, i + 5, a, 2);
			for (size_t k = 0; k < na; k++)
				if (a[k].quoted && a[k].len > 0)
					mf_redact_add(r, p + a[k].off, a[k].len);
			continue;
		} else {
			continue;
		}
		while (at < len && p[at] == ' ')
			at++;
		if (at >= len || (p[at] != '=' && p[at] != ':'))
			continue;
		arg a[8];
		size_t na = split_args(p, len, at + 1, a, 8);
		const arg *pw = NULL;
		if (ftp) {
			/* "account","user","pass": the 2nd quoted string after it */
			if (na >= 3 && a[0].quoted && a[0].len == 7 && ieq(p + a[0].off, "ACCOUNT", 7) &&
			    a[1].quoted && a[2].quoted)
				pw = &a[2];
		} else {
			pw = quoted(a, na, 3); /* ctx,type,"apn","user","pass"[,auth] */
		}
		if (pw && pw->len > 0)
			mf_redact_add(r, p + pw->off, pw->len);
	}
}

size_t mf_redact_find(const mf_redactor *r, const char *p, size_t n, size_t from, size_t *span)
{
	if (!r || r->n == 0)
		return n;
	size_t i = from;
	while (i < n) {
		const char *q = memchr(p + i, '"', n - i);
		if (!q)
			break;
		size_t at = (size_t)(q - p);
		for (size_t k = r->n; k-- > 0;) {
			size_t l = r->len[k];
			if (n - at >= l + 2 && p[at + 1 + l] == '"' && memcmp(p + at + 1, r->s[k], l) == 0) {
				*span = l + 2;
				return at;
			}
		}
		i = at + 1;
	}
	return n;
}

size_t mf_redact(const mf_redactor *r, const char *src, size_t srclen, char *dst)
{
	size_t o = 0, i = 0, span = 0;
	if (srclen == 0) {
		dst[0] = '\0';
		return 0;
	}
	for (;;) {
		size_t at = mf_redact_find(r, src, srclen, i, &span);
		memcpy(dst + o, src + i, at - i);
		o += at - i;
		if (at == srclen)
			break;
		memcpy(dst + o, "\"\\*\"", 4);
		o += 4;
		i = at + span;
	}
	dst[o] = '\0';
	return o;
}
