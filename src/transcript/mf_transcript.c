/*
** mf_transcript.c: the transcript line format (escaping and parsing one
** line). The player and the recorder build on this; the file-level rules
** (runs, wildcard placement, "! close" last) live in mf_replay.c.
*/
#include "mf_transcript_int.h"

#include <stdio.h>
#include <string.h>

static const char hexd[] = "0123456789abcdef";

size_t mf_tx_esc1(unsigned char c, char *out)
{
	switch (c) {
	case '\r': out[0] = '\\'; out[1] = 'r'; return 2;
	case '\n': out[0] = '\\'; out[1] = 'n'; return 2;
	case '\t': out[0] = '\\'; out[1] = 't'; return 2;
	case '\\': out[0] = '\\'; out[1] = '\\'; return 2;
	default: break;
	}
	if (c >= 0x20 && c <= 0x7e) {
		out[0] = (char)c;
		return 1;
	}
	out[0] = '\\';
	out[1] = 'x';
	out[2] = hexd[c >> 4];
	out[3] = hexd[c & 15];
	return 4;
}

size_t mf_tx_escape(const unsigned char *p, size_t n, char *out)
{
	size_t o = 0;
	for (size_t i = 0; i < n; i++) {
		if (p[i] == ' ' && (i == 0 || i == n - 1)) {
			memcpy(out + o, "\\x20", 4);
			o += 4;
		} else {
			o += mf_tx_esc1(p[i], out + o);
		}
	}
	out[o] = '\0';
	return o;
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Decode the text after "> " or "< ". */
static int unescape(const char *s, size_t n, int host, mf_tx_line *ln, unsigned char *bytes,
                    size_t *wild, char *why, size_t whylen)
{
	size_t o = 0, nw = 0;
	if (n == 0) {
		snprintf(why, whylen, "empty payload after '%c '", host ? '>' : '<');
		return -1;
	}
	if (s[n - 1] == ' ') {
		snprintf(why, whylen, "trailing space (write it as \\x20)");
		return -1;
	}
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c < 0x20 || c > 0x7e) {
			snprintf(why, whylen, "raw byte 0x%02x in payload (escape it as \\x%02x)", c, c);
			return -1;
		}
		if (c != '\\') {
			bytes[o++] = c;
			continue;
		}
		if (++i == n) {
			snprintf(why, whylen, "lone backslash at end of line (write \\\\)");
			return -1;
		}
		switch (s[i]) {
		case 'r': bytes[o++] = '\r'; break;
		case 'n': bytes[o++] = '\n'; break;
		case 't': bytes[o++] = '\t'; break;
		case '\\': bytes[o++] = '\\'; break;
		case 'x': {
			int hi = i + 1 < n ? hexval(s[i + 1]) : -1;
			int lo = i + 2 < n ? hexval(s[i + 2]) : -1;
			if (hi < 0 || lo < 0) {
				snprintf(why, whylen, "\\x needs two hex digits");
				return -1;
			}
			bytes[o++] = (unsigned char)(hi << 4 | lo);
			i += 2;
			break;
		}
		case '*':
			if (!host) { /* the modem "says" a redacted secret */
				memcpy(bytes + o, "***", 3);
				o += 3;
				break;
			}
			if (nw > 0 && wild[nw - 1] == o) {
				snprintf(why, whylen, "\\* directly after \\*");
				return -1;
			}
			wild[nw++] = o;
			break;
		default: {
			unsigned char e = (unsigned char)s[i];
			if (e >= 0x20 && e <= 0x7e)
				snprintf(why, whylen, "unknown escape \\%c (want \\r \\n \\t \\\\ \\xHH \\*)", e);
			else
				snprintf(why, whylen, "unknown escape \\ + byte 0x%02x", e);
			return -1;
		}
		}
	}
	ln->len = o;
	ln->nwild = nw;
	return 0;
}

/* "dtr 0", "rts 1", "close" after "! ". */
static int parse_control(const char *s, size_t n, mf_tx_line *ln, char *why, size_t whylen)
{
	if (n == 5 && memcmp(s, "close", 5) == 0) {
		ln->kind = MF_TX_CLOSE;
		return 0;
	}
	if (n == 5 && (memcmp(s, "dtr ", 4) == 0 || memcmp(s, "rts ", 4) == 0) &&
	    (s[4] == '0' || s[4] == '1')) {
		ln->kind = s[0] == 'd' ? MF_TX_DTR : MF_TX_RTS;
		ln->value = s[4] - '0';
		return 0;
	}
	snprintf(why, whylen, "unknown control line (want '! dtr 0|1', '! rts 0|1' or '! close')");
	return -1;
}

static int parse_pause(const char *s, size_t n, mf_tx_line *ln, char *why, size_t whylen)
{
	int64_t ms = 0;
	if (n == 0 || n > 9)
		goto bad;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			goto bad;
		ms = ms * 10 + (s[i] - '0');
	}
	if (ms < 1 || ms > MF_TX_MAX_PAUSE)
		goto bad;
	ln->kind = MF_TX_PAUSE;
	ln->value = ms;
	return 0;
bad:
	snprintf(why, whylen, "bad pause (want '~ MS' with MS in 1..%d)", MF_TX_MAX_PAUSE);
	return -1;
}

int mf_tx_parse_line(const char *s, size_t n, mf_tx_line *ln, unsigned char *bytes,
                     size_t *wild, char *why, size_t whylen)
{
	memset(ln, 0, sizeof *ln);
	if (n > 0 && s[n - 1] == '\r') {
		snprintf(why, whylen, "CR at end of line (transcripts use LF line ends)");
		return -1;
	}
	if (n == 0) {
		ln->kind = MF_TX_BLANK;
		return 0;
	}
	switch (s[0]) {
	case '#':
		ln->kind = MF_TX_COMMENT;
		return 0;
	case '>':
	case '<':
		if (n < 2 || s[1] != ' ') {
			snprintf(why, whylen, "want '%c ' followed by bytes", s[0]);
			return -1;
		}
		ln->kind = s[0] == '>' ? MF_TX_HOST : MF_TX_MODEM;
		return unescape(s + 2, n - 2, s[0] == '>', ln, bytes, wild, why, whylen);
	case '~':
		if (n < 2 || s[1] != ' ')
			break;
		return parse_pause(s + 2, n - 2, ln, why, whylen);
	case '!':
		if (n < 2 || s[1] != ' ')
			break;
		return parse_control(s + 2, n - 2, ln, why, whylen);
	default:
		break;
	}
	size_t blanks = 0;
	while (blanks < n && (s[blanks] == ' ' || s[blanks] == '\t'))
		blanks++;
	if (blanks == n)
		snprintf(why, whylen, "line of blanks (an empty line must be empty)");
	else if (s[0] == '~' || s[0] == '!')
		snprintf(why, whylen, "want a single space after '%c'", s[0]);
	else
		snprintf(why, whylen, "unknown line (want '#', '>', '<', '~' or '!' first)");
	return -1;
}
