/* SPDX-License-Identifier: ISC */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "cli.h"

#define PASSPHRASE_MAX 1024

const char *cli_program = "folio";
int cli_verbosity = 1;

static void progress_clear(void);

static void vmessage(const char *fmt, va_list ap)
{
	progress_clear();
	fprintf(stderr, "%s: ", cli_program);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
}

void cli_error(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vmessage(fmt, ap);
	va_end(ap);
}

void cli_note(int level, const char *fmt, ...)
{
	if (cli_verbosity < level)
		return;
	va_list ap;
	va_start(ap, fmt);
	vmessage(fmt, ap);
	va_end(ap);
}

int cli_exit_status(int code)
{
	switch (code) {
	case FOLIO_OK:
		return 0;
	case FOLIO_EREJECT:
		return EXIT_REJECTED;
	case FOLIO_EUSAGE:
	case FOLIO_ENEEDPASS:
		return EXIT_USAGE;
	default:
		return EXIT_SYSTEM;
	}
}

int cli_fail(const folio_ctx *ctx)
{
	cli_error("%s", folio_errmsg(ctx));
	return cli_exit_status(folio_errcode(ctx));
}

int cli_usage_error(const char *synopsis, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vmessage(fmt, ap);
	va_end(ap);
	fprintf(stderr, "%sTry '%s --help' for more.\n", synopsis, cli_program);
	return EXIT_USAGE;
}

int cli_version(void)
{
	printf("%s %s\n", cli_program, folio_version_string());
	return 0;
}

/* ---- progress ------------------------------------------------------------- */

#define PROGRESS_INTERVAL 0.1 /* seconds between redraws */
#define PROGRESS_RATE_AFTER 1.0 /* seconds of a phase before its rate means much */

static struct {
	bool shown;             /* a line is on the terminal */
	enum folio_phase phase; /* the phase last reported; 0 before the first */
	bool finish_drawn;      /* the phase's last file was drawn */
	double phase_start;     /* when it began, and its bytes then */
	uint64_t phase_bytes;
	double last_draw;
} progress;

static double monotonic_seconds(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void progress_clear(void)
{
	if (!progress.shown)
		return;
	fputs("\r\033[K", stderr);
	fflush(stderr);
	progress.shown = false;
}

/* The unit, a power of 1024 as the size options take them, that shows n
 * with at most four digits before the point. */
static const char *size_unit(uint64_t n, double *div)
{
	static const char *const units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
	size_t u = 0;
	*div = 1;
	while (u + 1 < sizeof(units) / sizeof(units[0]) && (double)n / *div >= 1024) {
		*div *= 1024;
		u++;
	}
	return units[u];
}

static void format_size(char *out, size_t size, uint64_t done, uint64_t total)
{
	double div;
	const char *unit = size_unit(total > done ? total : done, &div);
	int prec = div == 1 ? 0 : 1;
	if (total > 0)
		snprintf(out, size, "%.*f/%.*f %s", prec, (double)done / div, prec, (double)total / div, unit);
	else
		snprintf(out, size, "%.*f %s", prec, (double)done / div, unit);
}

static void format_left(char *out, size_t size, double seconds)
{
	uint64_t s = seconds > 359999 ? 359999 : (uint64_t)(seconds + 0.5);
	if (s >= 3600)
		snprintf(out, size, "%llu:%02llu:%02llu left", (unsigned long long)(s / 3600),
			 (unsigned long long)(s / 60 % 60), (unsigned long long)(s % 60));
	else
		snprintf(out, size, "%llu:%02llu left", (unsigned long long)(s / 60),
			 (unsigned long long)(s % 60));
}

static size_t terminal_width(void)
{
	struct winsize ws;
	if (ioctl(STDERR_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0)
		return ws.ws_col;
	return 80;
}

static void progress_draw(void *arg, const struct folio_progress *p)
{
	(void)arg;
	static const char *const names[] = {
		[FOLIO_PHASE_PREPARING] = "preparing", [FOLIO_PHASE_HASHING] = "hashing",
		[FOLIO_PHASE_COMPRESSING] = "compressing", [FOLIO_PHASE_VERIFYING] = "verifying",
		[FOLIO_PHASE_UNPACKING] = "unpacking",
	};
	double now = monotonic_seconds();
	/* a phase starts with nothing done: also the same phase again (the
	 * parts of an install, each unpacked in turn) */
	bool new_phase = p->phase != progress.phase || (p->files_done == 0 && p->bytes_done == 0);
	if (new_phase) {
		progress.phase = p->phase;
		progress.phase_start = now;
		progress.phase_bytes = p->bytes_done;
		progress.finish_drawn = false;
	}
	/* a phase's first and last file are always drawn, so that even a
	 * short run shows where it went; the rest at most every interval */
	bool finish = p->files_total > 0 && p->files_done >= p->files_total && !progress.finish_drawn;
	if (!new_phase && !finish && now - progress.last_draw < PROGRESS_INTERVAL)
		return;
	progress.last_draw = now;
	progress.finish_drawn |= finish;

	const char *name = (size_t)p->phase < sizeof(names) / sizeof(names[0]) && names[p->phase] != NULL
				   ? names[p->phase] : "working";
	/* the parts, most important first; each is shown only if it and all
	 * before it fit */
	char parts[4][64];
	size_t nparts = 0;
	snprintf(parts[nparts++], sizeof(parts[0]), "%-11s %llu/%llu files", name,
		 (unsigned long long)p->files_done, (unsigned long long)p->files_total);
	format_size(parts[nparts++], sizeof(parts[0]), p->bytes_done, p->bytes_total);
	double elapsed = now - progress.phase_start;
	uint64_t moved = p->bytes_done > progress.phase_bytes ? p->bytes_done - progress.phase_bytes : 0;
	if (elapsed >= PROGRESS_RATE_AFTER && moved > 0) {
		double rate = (double)moved / elapsed, div;
		const char *unit = size_unit((uint64_t)rate, &div);
		snprintf(parts[nparts++], sizeof(parts[0]), "%.1f %s/s", rate / div, unit);
		if (p->bytes_total > p->bytes_done)
			format_left(parts[nparts++], sizeof(parts[0]),
				    (double)(p->bytes_total - p->bytes_done) / rate);
	}
	size_t width = terminal_width() - 1; /* the last column would wrap on some terminals */
	char line[512];
	size_t len = 0;
	for (size_t i = 0; i < nparts; i++) {
		size_t n = strlen(parts[i]) + (i > 0 ? 2 : 0);
		if (len + n > width && i > 0)
			break;
		len += (size_t)snprintf(line + len, sizeof(line) - len, "%s%s", i > 0 ? "  " : "", parts[i]);
	}
	if (len > width)
		line[width] = '\0';
	fprintf(stderr, "\r%s\033[K", line);
	fflush(stderr);
	progress.shown = true;
}

void cli_progress_begin(folio_ctx *ctx)
{
	if (cli_verbosity < 1 || !isatty(STDERR_FILENO))
		return;
	progress.phase = 0;
	folio_set_progress(ctx, progress_draw, NULL);
}

void cli_progress_end(folio_ctx *ctx)
{
	folio_set_progress(ctx, NULL, NULL);
	progress_clear();
}

bool cli_parse_uint(const char *s, uint64_t min, uint64_t max, uint64_t *out)
{
	if (s == NULL || *s < '0' || *s > '9')
		return false;
	char *end;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 10);
	if (errno != 0 || *end != '\0' || v < min || v > max)
		return false;
	*out = v;
	return true;
}

bool cli_parse_size(const char *s, uint64_t *out)
{
	if (s == NULL || *s < '0' || *s > '9')
		return false;
	char *end;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 10);
	if (errno != 0 || v == 0)
		return false;
	static const char suffixes[] = "KMGT";
	unsigned shift = 0;
	if (*end != '\0') {
		const char *k = strchr(suffixes, *end);
		if (k == NULL || end[1] != '\0')
			return false;
		shift = 10 * (unsigned)(k - suffixes + 1);
	}
	if (v > (UINT64_MAX >> shift))
		return false;
	*out = (uint64_t)v << shift;
	return true;
}

int cli_limit_option(struct cli_limits *l, int c, const char *arg, const char *synopsis)
{
	int which = c - CLI_OPT_LIMIT;
	uint64_t v;
	bool counted = which == FOLIO_LIMIT_FILE_COUNT || which == FOLIO_LIMIT_PATH_LENGTH ||
		       which == FOLIO_LIMIT_PATH_DEPTH;
	if (which < 0 || which >= FOLIO_LIMIT__COUNT)
		return cli_usage_error(synopsis, "bad option");
	if (counted ? !cli_parse_uint(arg, 1, UINT32_MAX, &v) : !cli_parse_size(arg, &v))
		return cli_usage_error(synopsis, "limit '%s' is not a %s", arg,
				       counted ? "number from 1 to 2^32-1" : "size (N, NK, NM, NG or NT)");
	if (which == FOLIO_LIMIT_WINDOW_LOG) {
		if ((v & (v - 1)) != 0 || v < (1u << 10) || v > (1ull << 31))
			return cli_usage_error(synopsis, "window '%s' is not a power of two from 1K to 2G", arg);
		unsigned log = 0;
		while ((1ull << log) < v)
			log++;
		v = log;
	}
	l->set[which] = true;
	l->value[which] = v;
	return 0;
}

int cli_apply_limits(folio_ctx *ctx, const struct cli_limits *l)
{
	for (int i = 0; i < FOLIO_LIMIT__COUNT; i++)
		if (l->set[i] && folio_set_limit(ctx, (enum folio_limit)i, l->value[i]) != FOLIO_OK)
			return cli_fail(ctx);
	return 0;
}

static char *pass_alloc(void)
{
	if (sodium_init() < 0) /* sodium_malloc needs it; safe to call again */
		return NULL;
	char *p = sodium_malloc(PASSPHRASE_MAX + 2);
	if (p != NULL)
		memset(p, 0, PASSPHRASE_MAX + 2);
	return p;
}

void cli_passphrase_free(char *pass)
{
	sodium_free(pass);
}

static char *pass_from_file(const char *file, int *status)
{
	FILE *f = fopen(file, "re");
	if (f == NULL) {
		cli_error("cannot read passphrase file '%s': %s", file, strerror(errno));
		*status = errno == ENOENT ? EXIT_USAGE : EXIT_SYSTEM;
		return NULL;
	}
	char *p = pass_alloc();
	if (p == NULL || fgets(p, PASSPHRASE_MAX + 2, f) == NULL) {
		cli_error("cannot read passphrase file '%s': %s", file,
			  p == NULL ? "out of memory" : "it is empty");
		*status = p == NULL ? EXIT_SYSTEM : EXIT_USAGE;
		fclose(f);
		sodium_free(p);
		return NULL;
	}
	fclose(f);
	p[strcspn(p, "\r\n")] = '\0';
	if (*p == '\0') {
		cli_error("passphrase file '%s' holds an empty passphrase", file);
		*status = EXIT_USAGE;
		sodium_free(p);
		return NULL;
	}
	return p;
}

/* One line from the terminal with echo off. */
static bool read_tty_line(int tty, const char *prompt, char *buf)
{
	struct termios old, quiet;
	bool restore = tcgetattr(tty, &old) == 0;
	if (restore) {
		quiet = old;
		quiet.c_lflag &= ~(tcflag_t)ECHO;
		quiet.c_lflag |= ECHONL;
		tcsetattr(tty, TCSAFLUSH, &quiet);
	}
	if (write(tty, prompt, strlen(prompt)) < 0) {
		/* the prompt is a courtesy */
	}
	size_t n = 0;
	bool ok = false;
	for (;;) {
		char c;
		ssize_t r = read(tty, &c, 1);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		if (c == '\n') {
			ok = true;
			break;
		}
		if (n < PASSPHRASE_MAX)
			buf[n++] = c;
	}
	buf[n] = '\0';
	if (restore)
		tcsetattr(tty, TCSAFLUSH, &old);
	return ok;
}

char *cli_passphrase(const char *file, const char *what, bool confirm, int *status)
{
	if (file != NULL)
		return pass_from_file(file, status);
	int tty = open("/dev/tty", O_RDWR | O_CLOEXEC);
	if (tty < 0) {
		cli_error("%s needs a passphrase: no terminal to ask on (use --passphrase-file)", what);
		*status = EXIT_USAGE;
		return NULL;
	}
	char *p = pass_alloc(), *again = confirm ? pass_alloc() : NULL;
	char prompt[256];
	snprintf(prompt, sizeof(prompt), "Passphrase for %s: ", what);
	bool ok = p != NULL && (!confirm || again != NULL) && read_tty_line(tty, prompt, p);
	if (ok && confirm)
		ok = read_tty_line(tty, "Passphrase again: ", again);
	close(tty);
	if (!ok || *p == '\0' || (confirm && strcmp(p, again) != 0)) {
		cli_error("%s: %s", what, !ok ? "no passphrase read" : *p == '\0'
			  ? "empty passphrase (use --unencrypted for no passphrase)"
			  : "the passphrases differ");
		*status = EXIT_USAGE;
		sodium_free(p);
		sodium_free(again);
		return NULL;
	}
	sodium_free(again);
	return p;
}
