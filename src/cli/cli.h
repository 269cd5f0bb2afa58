/* SPDX-License-Identifier: ISC */
/* Helpers shared by folio-pack and folio-unpack: messages, exit statuses,
 * passphrases, numbers.  Only these programs talk to the user. */
#ifndef FOLIO_CLI_H
#define FOLIO_CLI_H

#include <stdbool.h>
#include <stdint.h>

#include "folio.h"

/* Exit statuses, as in the man pages. */
#define EXIT_REJECTED 1
#define EXIT_USAGE 2
#define EXIT_SYSTEM 3

extern const char *cli_program;
extern int cli_verbosity; /* 0 with -q, 1 by default, 2 with -v */

/* "PROGRAM: message" on stderr. */
void cli_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Progress and summaries: on stderr, at or above level. */
void cli_note(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Prints ctx's message and returns the exit status for its code. */
int cli_fail(const folio_ctx *ctx);
/* The exit status for a FOLIO_E* code. */
int cli_exit_status(int code);
/* Prints the message and the synopsis on stderr; returns EXIT_USAGE. */
int cli_usage_error(const char *synopsis, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* Prints the version line of folio and its libraries. */
int cli_version(void);

/* Progress on stderr (docs: PROGRESS in the man pages): when stderr is a
 * terminal and not -q, cli_progress_begin() has ctx report the long calls'
 * progress and draws it as one line, at most ten times a second, fitting
 * the terminal's width.  Every message clears the line first;
 * cli_progress_end() clears it when the call is over. */
void cli_progress_begin(folio_ctx *ctx);
void cli_progress_end(folio_ctx *ctx);

/* A number with an optional binary suffix (K, M, G, T: powers of 1024), at
 * least 1. */
bool cli_parse_size(const char *s, uint64_t *out);
/* Parses a whole decimal number in [min, max]. */
bool cli_parse_uint(const char *s, uint64_t min, uint64_t max, uint64_t *out);

/* The reader's limits as options of both programs (folio-pack refuses a
 * tree that a reader with the same limits would refuse).  Put
 * CLI_LIMIT_OPTIONS in the getopt_long table, hand an option code at or above
 * CLI_OPT_LIMIT to cli_limit_option, then cli_apply_limits to the context. */
enum { CLI_OPT_LIMIT = 1024 };
#define CLI_LIMIT_OPTIONS \
	{"max-window", required_argument, NULL, CLI_OPT_LIMIT + FOLIO_LIMIT_WINDOW_LOG}, \
	{"max-manifest", required_argument, NULL, CLI_OPT_LIMIT + FOLIO_LIMIT_MANIFEST_SIZE}, \
	{"max-file", required_argument, NULL, CLI_OPT_LIMIT + FOLIO_LIMIT_FILE_SIZE}, \
	{"max-total", required_argument, NULL, CLI_OPT_LIMIT + FOLIO_LIMIT_TOTAL_SIZE}, \
	{"max-files", required_argument, NULL, CLI_OPT_LIMIT + FOLIO_LIMIT_FILE_COUNT}, \
	{"max-path", required_argument, NULL, CLI_OPT_LIMIT + FOLIO_LIMIT_PATH_LENGTH}, \
	{"max-depth", required_argument, NULL, CLI_OPT_LIMIT + FOLIO_LIMIT_PATH_DEPTH}
#define CLI_LIMITS_HELP \
	"Limits (SIZE in bytes, or with a K, M, G or T suffix: powers of 1024):\n" \
	"      --max-window SIZE      zstd window, a power of two, 1K..2G (default 16M)\n" \
	"      --max-manifest SIZE    bytes of the signed manifest (default 16M)\n" \
	"      --max-file SIZE        bytes of one file (default 4G)\n" \
	"      --max-total SIZE       bytes of all files together (default 16G)\n" \
	"      --max-files N          number of files (default 200000)\n" \
	"      --max-path N           bytes of one path (default 1024)\n" \
	"      --max-depth N          folders and name of one path (default 32)\n"

struct cli_limits {
	bool set[FOLIO_LIMIT__COUNT];
	uint64_t value[FOLIO_LIMIT__COUNT];
};
/* Parses the argument of limit option c; 0, or EXIT_USAGE after printing why. */
int cli_limit_option(struct cli_limits *l, int c, const char *arg, const char *synopsis);
/* Sets the given limits on ctx; 0, or the exit status after printing why. */
int cli_apply_limits(folio_ctx *ctx, const struct cli_limits *l);

/* A passphrase: the first line of file, or typed on the terminal (twice if
 * confirm).  Returns sodium_malloc'd memory to free with cli_passphrase_free,
 * or NULL after printing why (*status set to the exit status). */
char *cli_passphrase(const char *file, const char *what, bool confirm, int *status);
void cli_passphrase_free(char *pass);

#endif
