/*
** tap.h: the smallest TAP producer, for the C tests.
** Each check prints "ok N - what" or "not ok N - what"; tap_done() prints the
** plan and returns the exit status. scripts/run-tests sums TAP over suites.
*/
#ifndef TAP_H
#define TAP_H
#include <stdio.h>
#include <string.h>

static int tap_n, tap_failed;

#define ok(cond, ...) tap_ok(!!(cond), __FILE__, __LINE__, __VA_ARGS__)
static int tap_ok(int pass, const char *file, int line, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
#include <stdarg.h>
static int tap_ok(int pass, const char *file, int line, const char *fmt, ...)
{
	va_list ap;
	printf("%sok %d - ", pass ? "" : "not ", ++tap_n);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	if (!pass) {
		tap_failed++;
		printf("#   failed at %s:%d\n", file, line);
	}
	fflush(stdout);
	return pass;
}
#define is_int(got, want, ...) \
	(ok((long long)(got) == (long long)(want), __VA_ARGS__) ? 1 : \
	 (printf("#   got %lld, want %lld\n", (long long)(got), (long long)(want)), 0))
__attribute__((unused)) static int tap_str_eq(const char *a, const char *b) { return a && b && strcmp(a, b) == 0; }
__attribute__((unused)) static const char *tap_show(const char *s) { return s ? s : "(null)"; }
#define is_str(got, want, ...) \
	(ok(tap_str_eq((got), (want)), __VA_ARGS__) ? 1 : \
	 (printf("#   got \"%s\", want \"%s\"\n", tap_show(got), (want)), 0))

static int tap_done(void)
{
	printf("1..%d\n", tap_n);
	return tap_failed ? 1 : 0;
}
#endif
