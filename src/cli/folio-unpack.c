/* SPDX-License-Identifier: ISC */
/* folio-unpack: verify, list or unpack a bundle.  Never needs a secret key. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static const char synopsis[] =
	"usage: folio-unpack verify BUNDLE -p PUBKEY [-c CHANNEL]\n"
	"       folio-unpack list BUNDLE -p PUBKEY [-c CHANNEL] [--json]\n"
	"       folio-unpack unpack BUNDLE -p PUBKEY -C DEST [-c CHANNEL] [-f]\n";

static const char help[] =
	"folio-unpack: check a signed folio bundle and unpack its edition.\n"
	"\n"
	"Usage:\n"
	"  folio-unpack verify BUNDLE -p PUBKEY   check the signature and every byte;\n"
	"                                         write nothing\n"
	"  folio-unpack list BUNDLE -p PUBKEY     check the signature; print the\n"
	"                                         edition, its files and articles\n"
	"  folio-unpack unpack BUNDLE -p PUBKEY -C DEST\n"
	"                                         check every byte; DEST appears only\n"
	"                                         when all of it verified\n"
	"BUNDLE may be - for standard input.\n"
	"\n"
	"Options:\n"
	"  -p, --pubkey FILE          the publisher's public key (minisign format): the\n"
	"                             channel's root key when its bundles carry a key\n"
	"                             list that delegates signing to other keys\n"
	"  -c, --channel CHANNEL      refuse a bundle for any other channel\n"
	"  -C, --directory DEST       unpack: the folder to create\n"
	"  -f, --force                unpack: replace DEST if it exists (atomically;\n"
	"                             never with an older edition of its channel)\n"
	"      --json                 list: print the signed manifest as it is\n"
	"  -q, --quiet                print only errors\n"
	"  -v, --verbose              say more\n"
	"  -h, --help                 print this help and exit\n"
	"  -V, --version              print versions and exit\n"
	"\n"
	CLI_LIMITS_HELP
	"\n"
	"Exit status: 0 success, 1 bundle rejected (signature, key, hash, expiry,\n"
	"channel, unsafe or malformed content, limits, older than the edition in\n"
	"DEST), 2 usage error, 3 system error.\n";

enum { OPT_JSON = 256 };

static const struct option options[] = {
	{"pubkey", required_argument, NULL, 'p'},
	{"channel", required_argument, NULL, 'c'},
	{"directory", required_argument, NULL, 'C'},
	{"force", no_argument, NULL, 'f'},
	{"json", no_argument, NULL, OPT_JSON},
	{"quiet", no_argument, NULL, 'q'},
	{"verbose", no_argument, NULL, 'v'},
	{"help", no_argument, NULL, 'h'},
	{"version", no_argument, NULL, 'V'},
	CLI_LIMIT_OPTIONS,
	{NULL, 0, NULL, 0},
};

struct args {
	const char *pubkey, *channel, *dest, *bundle;
	bool force, json;
	struct cli_limits limits;
};

static int parse(int argc, char **argv, struct args *a, bool *done)
{
	int c;
	while ((c = getopt_long(argc, argv, "p:c:C:fqvhV", options, NULL)) != -1) {
		switch (c) {
		case 'p': a->pubkey = optarg; break;
		case 'c': a->channel = optarg; break;
		case 'C': a->dest = optarg; break;
		case 'f': a->force = true; break;
		case OPT_JSON: a->json = true; break;
		case 'q': cli_verbosity = 0; break;
		case 'v': cli_verbosity = 2; break;
		case 'h': fputs(help, stdout); *done = true; return 0;
		case 'V': cli_version(); *done = true; return 0;
		default:
			if (c < CLI_OPT_LIMIT)
				return cli_usage_error(synopsis, "bad option");
			if (cli_limit_option(&a->limits, c, optarg, synopsis) != 0)
				return EXIT_USAGE;
			break;
		}
	}
	return 0;
}

static void print_list(const folio_bundle *b, bool json)
{
	if (json) {
		size_t len;
		const char *m = folio_bundle_manifest_json(b, &len);
		fwrite(m, 1, len, stdout);
		return;
	}
	char created[32], expires[32];
	folio_time_format(created, folio_bundle_created(b));
	folio_time_format(expires, folio_bundle_expires(b));
	size_t n = folio_bundle_file_count(b);
	uint64_t total = 0;
	for (size_t i = 0; i < n; i++) {
		uint64_t size;
		(void)folio_bundle_file(b, i, NULL, &size, NULL, NULL, NULL);
		total += size;
	}
	printf("channel: %s\ntitle:   %s\nedition: %llu\ncreated: %s\nexpires: %s\nkey:     %s\n"
	       "files:   %zu (%llu bytes)\n",
	       folio_bundle_channel(b), folio_bundle_title(b),
	       (unsigned long long)folio_bundle_edition(b), created, expires,
	       folio_bundle_key_id(b), n, (unsigned long long)total);
	if (folio_bundle_keys_version(b) > 0)
		printf("keys:    version %llu (signed by root %s)\n",
		       (unsigned long long)folio_bundle_keys_version(b), folio_bundle_root_id(b));
	for (size_t i = 0; i < n; i++) {
		const char *path, *type;
		uint64_t size;
		(void)folio_bundle_file(b, i, &path, &size, &type, NULL, NULL);
		printf("%12llu  %-24s  %s\n", (unsigned long long)size, type, path);
	}
	size_t na = folio_bundle_article_count(b);
	if (na > 0)
		printf("articles: %zu\n", na);
	for (size_t i = 0; i < na; i++) {
		struct folio_article_info a;
		(void)folio_bundle_article(b, i, &a);
		printf("  %s %-5s %-10.10s %6llu words  %s  %s\n", a.dir, a.lang ? a.lang : "-",
		       a.date ? a.date : "-", (unsigned long long)a.words, a.path, a.title);
	}
}

static int run(const char *cmd, struct args *a)
{
	folio_ctx *ctx = folio_new();
	if (ctx == NULL) {
		cli_error("out of memory");
		return EXIT_SYSTEM;
	}
	folio_pubkey *key = NULL;
	folio_bundle *b = NULL;
	int status = cli_apply_limits(ctx, &a->limits);
	if (status != 0) {
		folio_free(ctx);
		return status;
	}
	int rc = folio_pubkey_load(ctx, a->pubkey, &key);
	if (rc == FOLIO_OK)
		rc = folio_bundle_open(ctx, a->bundle, key, a->channel, &b);
	if (rc == FOLIO_OK) {
		if (strcmp(cmd, "list") == 0)
			print_list(b, a->json);
		else if (strcmp(cmd, "verify") == 0)
			rc = folio_bundle_verify(b);
		else
			rc = folio_bundle_unpack(b, a->dest, a->force ? FOLIO_FORCE : 0);
	}
	if (rc != FOLIO_OK) {
		status = cli_fail(ctx);
	} else if (strcmp(cmd, "list") != 0) {
		size_t n = folio_bundle_file_count(b);
		char via[96] = "";
		if (folio_bundle_keys_version(b) > 0)
			snprintf(via, sizeof(via), " (delegated by root %s, key list version %llu)",
				 folio_bundle_root_id(b), (unsigned long long)folio_bundle_keys_version(b));
		if (strcmp(cmd, "verify") == 0)
			cli_note(1, "'%s' is good: channel %s, edition %llu, %zu files, signed by key %s%s",
				 a->bundle, folio_bundle_channel(b),
				 (unsigned long long)folio_bundle_edition(b), n, folio_bundle_key_id(b), via);
		else if (folio_bundle_current(b))
			cli_note(1, "'%s' already holds edition %llu of channel %s: nothing to do",
				 a->dest, (unsigned long long)folio_bundle_edition(b), folio_bundle_channel(b));
		else
			cli_note(1, "unpacked edition %llu of channel %s into '%s': %zu files",
				 (unsigned long long)folio_bundle_edition(b), folio_bundle_channel(b),
				 a->dest, n);
	}
	folio_bundle_free(b);
	folio_pubkey_free(key);
	folio_free(ctx);
	return status;
}

int main(int argc, char **argv)
{
	cli_program = "folio-unpack";
	struct args a = {0};
	if (argc < 2)
		return cli_usage_error(synopsis, "no command given");
	const char *cmd = argv[1];
	bool done = false;
	if (cmd[0] == '-' && cmd[1] != '\0') {
		int status = parse(argc, argv, &a, &done);
		if (done || status != 0)
			return status;
		return cli_usage_error(synopsis, "no command given");
	}
	if (strcmp(cmd, "verify") != 0 && strcmp(cmd, "list") != 0 && strcmp(cmd, "unpack") != 0)
		return cli_usage_error(synopsis, "unknown command '%s'", cmd);
	int status = parse(argc - 1, argv + 1, &a, &done);
	if (done || status != 0)
		return status;
	if (argc - 1 - optind != 1)
		return cli_usage_error(synopsis, "%s takes one BUNDLE", cmd);
	a.bundle = argv[1 + optind];
	if (a.pubkey == NULL)
		return cli_usage_error(synopsis, "%s needs -p PUBKEY", cmd);
	bool unpack = strcmp(cmd, "unpack") == 0;
	if (unpack != (a.dest != NULL))
		return cli_usage_error(synopsis, unpack ? "unpack needs -C DEST" : "-C is for unpack only");
	if (a.force && !unpack)
		return cli_usage_error(synopsis, "--force is for unpack only");
	if (a.json && strcmp(cmd, "list") != 0)
		return cli_usage_error(synopsis, "--json is for list only");
	return run(cmd, &a);
}
