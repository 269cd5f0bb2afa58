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

/* Parses a whole decimal number in [min, max]. */
bool cli_parse_uint(const char *s, uint64_t min, uint64_t max, uint64_t *out);

/* A passphrase: the first line of file, or typed on the terminal (twice if
 * confirm).  Returns sodium_malloc'd memory to free with cli_passphrase_free,
 * or NULL after printing why (*status set to the exit status). */
char *cli_passphrase(const char *file, const char *what, bool confirm, int *status);
void cli_passphrase_free(char *pass);

#endif
