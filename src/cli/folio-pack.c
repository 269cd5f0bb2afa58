/* SPDX-License-Identifier: ISC */
/* folio-pack: make keys; pack a folder into a signed bundle. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static const char synopsis[] =
	"usage: folio-pack keygen -o PATH [--unencrypted] [--passphrase-file FILE] [-f]\n"
	"       folio-pack pack SRC_DIR -k KEY -c CHANNEL -o OUT [options]\n";

static const char help[] =
	"folio-pack: pack a folder of articles into a signed, compressed bundle.\n"
	"\n"
	"Usage:\n"
	"  folio-pack keygen -o PATH [options]     write PATH.key (0600) and PATH.pub\n"
	"  folio-pack pack SRC_DIR -k KEY -c CHANNEL -o OUT [options]\n"
	"\n"
	"keygen options:\n"
	"  -o, --output PATH          write PATH.key and PATH.pub\n"
	"      --unencrypted          store the secret key without a passphrase\n"
	"      --passphrase-file FILE read the passphrase from FILE's first line\n"
	"                             (default: ask twice on the terminal)\n"
	"  -f, --force                replace existing key files\n"
	"\n"
	"pack options:\n"
	"  -k, --key KEY              secret key file (minisign format)\n"
	"  -c, --channel CHANNEL      channel id: [a-z0-9][a-z0-9._-]{0,63}\n"
	"  -o, --output OUT           bundle to write; - for standard output\n"
	"  -e, --edition N            edition number (default: the creation time)\n"
	"  -t, --title TEXT           edition title (default: the channel)\n"
	"  -l, --level N              zstd level 1-22 (default 19)\n"
	"  -T, --threads N            zstd worker threads, 0 = one per core (default 0)\n"
	"      --valid-days N         days until the edition expires (default 30)\n"
	"      --passphrase-file FILE read the key's passphrase from FILE's first line\n"
	"  -f, --force                replace OUT if it exists\n"
	"\n"
	"The reader's edition (pack options):\n"
	"      --no-index             no generated index.html, search or thumbnails\n"
	"      --max-image-width N    scale JPEG, PNG and WebP images wider than N\n"
	"                             pixels down to N (16-65535)\n"
	"      --keep-image-metadata  keep EXIF (GPS positions, camera serials), XMP,\n"
	"                             IPTC and comments in images (default: strip\n"
	"                             them, losslessly)\n"
	"      --verbatim             pack the files exactly as they are: no article\n"
	"                             pages, no edition page, no image changes\n"
	"\n"
	CLI_LIMITS_HELP
	"\n"
	"Common options:\n"
	"  -q, --quiet                print only errors\n"
	"  -v, --verbose              print each file\n"
	"  -h, --help                 print this help and exit\n"
	"  -V, --version              print versions and exit\n"
	"\n"
	"SOURCE_DATE_EPOCH, if set, is the creation time (reproducible bundles).\n"
	"TMPDIR (default /tmp) holds folio-pack's work folder while it runs.\n"
	"Exit status: 0 success, 1 input refused (unsafe source, names that collide,\n"
	"a limit exceeded, an image that cannot be cleaned, bad key or passphrase),\n"
	"2 usage error, 3 system error.\n";

enum { OPT_UNENCRYPTED = 256, OPT_PASSFILE, OPT_VALID_DAYS, OPT_NO_INDEX, OPT_MAX_IMAGE_WIDTH,
       OPT_KEEP_IMAGE_METADATA, OPT_VERBATIM };

static const struct option options[] = {
	{"output", required_argument, NULL, 'o'},
	{"unencrypted", no_argument, NULL, OPT_UNENCRYPTED},
	{"passphrase-file", required_argument, NULL, OPT_PASSFILE},
	{"force", no_argument, NULL, 'f'},
	{"key", required_argument, NULL, 'k'},
	{"channel", required_argument, NULL, 'c'},
	{"edition", required_argument, NULL, 'e'},
	{"title", required_argument, NULL, 't'},
	{"level", required_argument, NULL, 'l'},
	{"threads", required_argument, NULL, 'T'},
	{"valid-days", required_argument, NULL, OPT_VALID_DAYS},
	{"no-index", no_argument, NULL, OPT_NO_INDEX},
	{"max-image-width", required_argument, NULL, OPT_MAX_IMAGE_WIDTH},
	{"keep-image-metadata", no_argument, NULL, OPT_KEEP_IMAGE_METADATA},
	{"verbatim", no_argument, NULL, OPT_VERBATIM},
	{"quiet", no_argument, NULL, 'q'},
	{"verbose", no_argument, NULL, 'v'},
	{"help", no_argument, NULL, 'h'},
	{"version", no_argument, NULL, 'V'},
	CLI_LIMIT_OPTIONS,
	{NULL, 0, NULL, 0},
};

struct args {
	const char *output, *passfile, *key, *src;
	bool unencrypted;
	struct folio_pack_options pack;
	struct cli_limits limits;
	/* which options were given, to refuse those of the other command */
	bool pack_only, keygen_only;
};

static int parse(int argc, char **argv, struct args *a, bool *done)
{
	uint64_t n;
	int c;
	while ((c = getopt_long(argc, argv, "o:fk:c:e:t:l:T:qvhV", options, NULL)) != -1) {
		switch (c) {
		case 'o': a->output = optarg; break;
		case OPT_UNENCRYPTED: a->unencrypted = true; a->keygen_only = true; break;
		case OPT_PASSFILE: a->passfile = optarg; break;
		case 'f': a->pack.force = 1; break;
		case 'k': a->key = optarg; a->pack_only = true; break;
		case 'c': a->pack.channel = optarg; a->pack_only = true; break;
		case 't': a->pack.title = optarg; a->pack_only = true; break;
		case 'e':
			if (!cli_parse_uint(optarg, 1, (1ull << 53) - 1, &a->pack.edition))
				return cli_usage_error(synopsis, "edition '%s' is not a number from 1 to 2^53-1", optarg);
			a->pack_only = true;
			break;
		case 'l':
			if (!cli_parse_uint(optarg, 1, 22, &n))
				return cli_usage_error(synopsis, "level '%s' is not a number from 1 to 22", optarg);
			a->pack.level = (int)n;
			a->pack_only = true;
			break;
		case 'T':
			if (!cli_parse_uint(optarg, 0, 256, &n))
				return cli_usage_error(synopsis, "threads '%s' is not a number from 0 to 256", optarg);
			a->pack.threads = (int)n;
			a->pack_only = true;
			break;
		case OPT_VALID_DAYS:
			if (!cli_parse_uint(optarg, 1, 36500, &n))
				return cli_usage_error(synopsis, "valid days '%s' is not a number from 1 to 36500", optarg);
			a->pack.valid_days = (unsigned)n;
			a->pack_only = true;
			break;
		case OPT_NO_INDEX: a->pack.no_index = 1; a->pack_only = true; break;
		case OPT_KEEP_IMAGE_METADATA: a->pack.keep_image_metadata = 1; a->pack_only = true; break;
		case OPT_VERBATIM: a->pack.verbatim = 1; a->pack_only = true; break;
		case OPT_MAX_IMAGE_WIDTH:
			if (!cli_parse_uint(optarg, 16, 65535, &n))
				return cli_usage_error(synopsis, "max image width '%s' is not a number from 16 to 65535", optarg);
			a->pack.max_image_width = (unsigned)n;
			a->pack_only = true;
			break;
		case 'q': cli_verbosity = 0; break;
		case 'v': cli_verbosity = 2; break;
		case 'h': fputs(help, stdout); *done = true; return 0;
		case 'V': cli_version(); *done = true; return 0;
		default:
			if (c < CLI_OPT_LIMIT)
				return cli_usage_error(synopsis, "bad option");
			if (cli_limit_option(&a->limits, c, optarg, synopsis) != 0)
				return EXIT_USAGE;
			a->pack_only = true;
			break;
		}
	}
	return 0;
}

static int keygen(struct args *a)
{
	if (a->output == NULL)
		return cli_usage_error(synopsis, "keygen needs -o PATH");
	if (a->unencrypted && a->passfile != NULL)
		return cli_usage_error(synopsis, "--unencrypted and --passphrase-file exclude each other");
	char *pass = NULL;
	int status = 0;
	if (!a->unencrypted) {
		pass = cli_passphrase(a->passfile, "the new key", true, &status);
		if (pass == NULL)
			return status;
	}
	folio_ctx *ctx = folio_new();
	if (ctx == NULL) {
		cli_passphrase_free(pass);
		cli_error("out of memory");
		return EXIT_SYSTEM;
	}
	char id[17];
	int rc = folio_keygen(ctx, a->output, pass, a->pack.force, id);
	cli_passphrase_free(pass);
	if (rc != FOLIO_OK)
		status = cli_fail(ctx);
	else
		cli_note(1, "wrote '%s.key' and '%s.pub': key %s%s", a->output, a->output, id,
			 a->unencrypted ? " (unencrypted)" : "");
	folio_free(ctx);
	return status;
}

static void print_file(void *arg, const char *path, uint64_t size, int stored)
{
	(void)arg;
	cli_note(2, "%12llu %s%s", (unsigned long long)size, path, stored ? "" : " (same as an earlier file)");
}

static void print_warning(void *arg, const char *message)
{
	(void)arg;
	cli_note(1, "warning: %s", message);
}

/* One line on what became of the articles and images, when there were any. */
static void print_reader_summary(const struct args *a, const struct folio_pack_stats *st)
{
	if (a->pack.verbatim)
		return;
	cli_note(1, "%llu articles, %llu of them pages rendered from Markdown or text",
		 (unsigned long long)st->articles, (unsigned long long)st->pages);
	if (st->reader_bytes > 0)
		cli_note(1, "edition page index.html, %llu thumbnail%s and search: %llu bytes (search index %llu bytes, %.1f%% of the edition)",
			 (unsigned long long)st->thumbnails, st->thumbnails == 1 ? "" : "s",
			 (unsigned long long)st->reader_bytes,
			 (unsigned long long)st->search_bytes,
			 st->input_bytes ? 100.0 * (double)st->search_bytes / (double)st->input_bytes : 0.0);
	else
		cli_note(1, "no edition page made: %s", a->pack.no_index ? "--no-index" : "the source has its own index.html");
	if (a->pack.keep_image_metadata)
		cli_note(1, "images: metadata kept as it was (--keep-image-metadata)");
	else
		cli_note(1, "images: %llu cleaned of metadata (%llu had a GPS position)",
			 (unsigned long long)st->images_cleaned, (unsigned long long)st->images_located);
	if (a->pack.max_image_width > 0)
		cli_note(1, "images: %llu scaled down to %u pixels wide, %llu bytes saved",
			 (unsigned long long)st->images_shrunk, a->pack.max_image_width,
			 (unsigned long long)st->image_bytes_saved);
}

static int pack(struct args *a)
{
	if (a->src == NULL || a->key == NULL || a->pack.channel == NULL || a->output == NULL)
		return cli_usage_error(synopsis, "pack needs SRC_DIR, -k KEY, -c CHANNEL and -o OUT");
	folio_ctx *ctx = folio_new();
	if (ctx == NULL) {
		cli_error("out of memory");
		return EXIT_SYSTEM;
	}
	folio_seckey *key = NULL;
	char *pass = NULL;
	int status = cli_apply_limits(ctx, &a->limits);
	if (status != 0)
		goto out;
	int rc = folio_seckey_load(ctx, a->key, NULL, &key);
	if (rc == FOLIO_ENEEDPASS) {
		char what[512];
		snprintf(what, sizeof(what), "key '%s'", a->key);
		pass = cli_passphrase(a->passfile, what, false, &status);
		if (pass == NULL)
			goto out;
		rc = folio_seckey_load(ctx, a->key, pass, &key);
	}
	if (rc != FOLIO_OK) {
		status = cli_fail(ctx);
		goto out;
	}
	a->pack.on_file = print_file;
	a->pack.on_warning = print_warning;
	struct folio_pack_stats st;
	rc = folio_pack(ctx, a->src, key, &a->pack, a->output, &st);
	if (rc != FOLIO_OK) {
		status = cli_fail(ctx);
		goto out;
	}
	cli_note(1, "packed '%s': channel %s, edition %llu, %llu files (%llu stored), %llu -> %llu bytes, key %s",
		 a->output, a->pack.channel, (unsigned long long)st.edition,
		 (unsigned long long)st.files, (unsigned long long)st.stored,
		 (unsigned long long)st.input_bytes, (unsigned long long)st.output_bytes,
		 folio_seckey_id(key));
	print_reader_summary(a, &st);
out:
	cli_passphrase_free(pass);
	folio_seckey_free(key);
	folio_free(ctx);
	return status;
}

int main(int argc, char **argv)
{
	cli_program = "folio-pack";
	struct args a = {0};
	folio_pack_options_init(&a.pack);
	if (argc < 2)
		return cli_usage_error(synopsis, "no command given");
	const char *cmd = argv[1];
	bool done = false;
	if (cmd[0] == '-') { /* only -h / -V make sense before a command */
		int status = parse(argc, argv, &a, &done);
		if (done || status != 0)
			return status;
		return cli_usage_error(synopsis, "no command given");
	}
	optind = 1;
	int status = parse(argc - 1, argv + 1, &a, &done);
	if (done || status != 0)
		return status;
	int rest = argc - 1 - optind;
	char **pos = argv + 1 + optind;
	if (strcmp(cmd, "keygen") == 0) {
		if (rest != 0)
			return cli_usage_error(synopsis, "keygen takes no argument '%s'", pos[0]);
		if (a.pack_only)
			return cli_usage_error(synopsis, "that option is for pack, not keygen");
		return keygen(&a);
	}
	if (strcmp(cmd, "pack") == 0) {
		if (rest != 1)
			return cli_usage_error(synopsis, "pack takes one SRC_DIR");
		if (a.keygen_only)
			return cli_usage_error(synopsis, "--unencrypted is for keygen, not pack");
		a.src = pos[0];
		return pack(&a);
	}
	return cli_usage_error(synopsis, "unknown command '%s'", cmd);
}
