/* SPDX-License-Identifier: ISC */
/* folio-pack: make keys and key lists; pack a folder into a signed bundle. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli.h"

static const char synopsis[] =
	"usage: folio-pack keygen -o PATH [--unencrypted] [--passphrase-file FILE] [-f]\n"
	"       folio-pack pack SRC_DIR -k KEY -c CHANNEL -o OUT [--keys LIST] [options]\n"
	"       folio-pack pack SRC_DIR -k KEY -c CHANNEL -o PREFIX --layers text,media [--base B]\n"
	"       folio-pack delegate -k ROOT.key -p DAY.pub -c CHANNEL -o LIST [--first N] [--last M]\n"
	"       folio-pack revoke -k ROOT.key (-p DAY.pub | --key-id ID) -c CHANNEL -o LIST [--after N]\n"
	"       folio-pack split BUNDLE --size SIZE -k KEY [-o PREFIX] [-p ROOT.pub] [--base EDITION-DIR] [-f]\n";

static const char help[] =
	"folio-pack: pack a folder of articles into a signed, compressed bundle.\n"
	"\n"
	"Usage:\n"
	"  folio-pack keygen -o PATH [options]     write PATH.key (0600) and PATH.pub\n"
	"  folio-pack pack SRC_DIR -k KEY -c CHANNEL -o OUT [options]\n"
	"  folio-pack delegate -k ROOT.key -p DAY.pub -c CHANNEL -o LIST [options]\n"
	"                                          let key DAY sign editions of CHANNEL:\n"
	"                                          write LIST and LIST.minisig, the\n"
	"                                          key list signed by the root key\n"
	"  folio-pack revoke -k ROOT.key (-p DAY.pub | --key-id ID) -c CHANNEL -o LIST\n"
	"                                          take that right back from a key\n"
	"  folio-pack split BUNDLE --size SIZE -k KEY [-o PREFIX]\n"
	"                                          cut BUNDLE into PREFIX.part001, ...\n"
	"                                          and a signed index PREFIX.parts\n"
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
	"  -T, --threads N            frames compressed side by side, 0 = one per core (default 0)\n"
	"      --valid-days N         days until the edition expires (default 30)\n"
	"      --passphrase-file FILE read the key's passphrase from FILE's first line\n"
	"  -f, --force                replace OUT if it exists\n"
	"      --keys LIST            carry the key list LIST (and LIST.minisig) that\n"
	"                             lets KEY sign this edition for the root key\n"
	"      --frame-size SIZE      end a zstd frame after the entry that brings it\n"
	"                             to SIZE bytes of tar (default 8M; 1: one frame\n"
	"                             per entry)\n"
	"\n"
	"Bundles that carry part of the edition (same signed manifest in each):\n"
	"      --layers LAYERS        text, media or text,media: one bundle per layer,\n"
	"                             OUT.text.folio and OUT.media.folio (OUT is a\n"
	"                             prefix), each with the files of its layer\n"
	"      --base B               a delta against B, an earlier edition of the\n"
	"                             channel: a bundle signed by KEY or an unpacked\n"
	"                             edition folder.  Files B has are left out; a\n"
	"                             changed file B has under the same path may go\n"
	"                             as a zstd patch against B's copy, and so\n"
	"                             does the manifest\n"
	"\n"
	"delegate and revoke options (LIST is made or changed; its version goes up):\n"
	"  -k, --key ROOT.key         the channel's root secret key, which signs LIST\n"
	"  -p, --pubkey DAY.pub       the key to delegate to, or to revoke\n"
	"      --key-id ID            revoke: the key by its id instead\n"
	"  -c, --channel CHANNEL      the channel LIST is for\n"
	"  -o, --output LIST          the key list (LIST.minisig is its signature)\n"
	"      --first N              delegate: first edition the key may sign (default 1)\n"
	"      --last M               delegate: last edition it may sign (default 2^53-1)\n"
	"      --after N              revoke: editions up to N it signed stay good\n"
	"                             (default: none does)\n"
	"      --passphrase-file FILE read the root key's passphrase from FILE\n"
	"\n"
	"split options (BUNDLE is verified in full first):\n"
	"      --size SIZE            bytes of each part but the last (N, NK, NM, NG\n"
	"                             or NT; at most 100000 parts)\n"
	"  -k, --key KEY              the key that signed BUNDLE; it signs the index\n"
	"  -o, --output PREFIX        write PREFIX.part001 ... (3 digits, more when\n"
	"                             there are more parts), PREFIX.parts and\n"
	"                             PREFIX.parts.minisig (default: BUNDLE)\n"
	"  -p, --pubkey ROOT.pub      verify BUNDLE with this key instead of KEY's\n"
	"                             public half (a bundle that carries a key list\n"
	"                             needs its channel's root key)\n"
	"      --base EDITION-DIR     the folder of the edition BUNDLE is a delta\n"
	"                             against: a delta verifies only with it\n"
	"  -f, --force                replace existing outputs (and remove other\n"
	"                             PREFIX.partN files an earlier split left)\n"
	"      --passphrase-file FILE read KEY's passphrase from FILE's first line\n"
	"\n"
	"The reader's edition (pack options):\n"
	"      --no-index             no generated index.html, search or thumbnails\n"
	"      --max-image-width N    scale JPEG, PNG and WebP images wider than N\n"
	"                             pixels down to N (16-65535)\n"
	"      --keep-image-metadata  keep EXIF (GPS positions, camera serials), XMP,\n"
	"                             IPTC and comments in images (default: strip\n"
	"                             them, losslessly)\n"
	"      --optimize-images      make JPEG and PNG images smaller without changing\n"
	"                             a pixel (slower; not with --verbatim or\n"
	"                             --keep-image-metadata)\n"
	"      --verbatim             pack the files exactly as they are: no article\n"
	"                             pages, no edition page, no image changes\n"
	"\n"
	CLI_LIMITS_HELP
	"\n"
	"Common options:\n"
	"  -q, --quiet                print only errors (no progress)\n"
	"  -v, --verbose              print each file\n"
	"  -h, --help                 print this help and exit\n"
	"  -V, --version              print versions and exit\n"
	"\n"
	"On a terminal, pack and split show their progress on standard error.\n"
	"SOURCE_DATE_EPOCH, if set, is the creation time (reproducible bundles).\n"
	"TMPDIR (default /tmp) holds folio-pack's work folder while it runs.\n"
	"Exit status: 0 success, 1 input refused (unsafe source, names that collide,\n"
	"a limit exceeded, an image that cannot be cleaned, bad key or passphrase,\n"
	"a malformed key list or one the root key did not sign, a base that is not\n"
	"a bundle KEY signed or an edition folder), 2 usage error (also: a key list\n"
	"for another channel, or that does not let KEY sign the edition; revoking a\n"
	"key the list does not name; a base of another channel or not older than\n"
	"the edition; split: an output that exists, too many parts), 3 system error\n"
	"(also: a base that cannot be read).  split: 1 also when BUNDLE does not verify.\n";

enum { OPT_UNENCRYPTED = 256, OPT_PASSFILE, OPT_VALID_DAYS, OPT_NO_INDEX, OPT_MAX_IMAGE_WIDTH,
       OPT_KEEP_IMAGE_METADATA, OPT_VERBATIM, OPT_KEYS, OPT_KEY_ID, OPT_FIRST, OPT_LAST,
       OPT_AFTER, OPT_SIZE, OPT_FRAME_SIZE, OPT_LAYERS, OPT_BASE, OPT_OPTIMIZE_IMAGES };

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
	{"optimize-images", no_argument, NULL, OPT_OPTIMIZE_IMAGES},
	{"keys", required_argument, NULL, OPT_KEYS},
	{"frame-size", required_argument, NULL, OPT_FRAME_SIZE},
	{"layers", required_argument, NULL, OPT_LAYERS},
	{"base", required_argument, NULL, OPT_BASE},
	{"pubkey", required_argument, NULL, 'p'},
	{"key-id", required_argument, NULL, OPT_KEY_ID},
	{"first", required_argument, NULL, OPT_FIRST},
	{"last", required_argument, NULL, OPT_LAST},
	{"after", required_argument, NULL, OPT_AFTER},
	{"size", required_argument, NULL, OPT_SIZE},
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
	/* delegate and revoke */
	const char *pubkey, *key_id;
	uint64_t first, last;
	int64_t after;
	/* split */
	uint64_t part_size;
	/* which options were given, to refuse those of another command */
	bool pack_only, keygen_only, signing, first_last, after_given, limit_given;
};

/* "text", "media", "text,media" or "media,text". */
static bool parse_layers(const char *s, unsigned *out)
{
	unsigned layers = 0;
	for (;;) {
		size_t n = strcspn(s, ",");
		unsigned bit = n == 4 && strncmp(s, "text", 4) == 0	  ? FOLIO_LAYER_TEXT
			       : n == 5 && strncmp(s, "media", 5) == 0 ? FOLIO_LAYER_MEDIA
								       : 0;
		if (bit == 0 || (layers & bit) != 0)
			return false;
		layers |= bit;
		if (s[n] == '\0')
			break;
		s += n + 1;
	}
	*out = layers;
	return true;
}

static int parse(int argc, char **argv, struct args *a, bool *done)
{
	uint64_t n;
	int c;
	while ((c = getopt_long(argc, argv, "o:fk:c:e:t:l:T:p:qvhV", options, NULL)) != -1) {
		switch (c) {
		case 'o': a->output = optarg; break;
		case OPT_UNENCRYPTED: a->unencrypted = true; a->keygen_only = true; break;
		case OPT_PASSFILE: a->passfile = optarg; break;
		case 'f': a->pack.force = 1; break;
		case 'k': a->key = optarg; a->signing = true; break;
		case 'c': a->pack.channel = optarg; a->signing = true; break;
		case 'p': a->pubkey = optarg; break;
		case OPT_KEY_ID: a->key_id = optarg; break;
		case OPT_KEYS: a->pack.keys = optarg; a->pack_only = true; break;
		case OPT_FRAME_SIZE:
			if (!cli_parse_size(optarg, &a->pack.frame_size))
				return cli_usage_error(synopsis, "frame size '%s' is not a size", optarg);
			a->pack_only = true;
			break;
		case OPT_LAYERS:
			if (!parse_layers(optarg, &a->pack.layers))
				return cli_usage_error(synopsis, "layers '%s' is not text, media or text,media", optarg);
			a->pack_only = true;
			break;
		case OPT_BASE: a->pack.base = optarg; break; /* pack and split */
		case OPT_FIRST:
		case OPT_LAST:
			if (!cli_parse_uint(optarg, c == OPT_FIRST ? 1 : 0, (1ull << 53) - 1, &n))
				return cli_usage_error(synopsis, "%s '%s' is not a number from %d to 2^53-1",
						       c == OPT_FIRST ? "first" : "last", optarg, c == OPT_FIRST);
			*(c == OPT_FIRST ? &a->first : &a->last) = n;
			a->first_last = true;
			break;
		case OPT_SIZE:
			if (!cli_parse_size(optarg, &a->part_size))
				return cli_usage_error(synopsis, "--size '%s' is not a size (N, NK, NM, NG or NT)", optarg);
			break;
		case OPT_AFTER:
			if (!cli_parse_uint(optarg, 0, (1ull << 53) - 1, &n))
				return cli_usage_error(synopsis, "after '%s' is not a number from 0 to 2^53-1", optarg);
			a->after = (int64_t)n;
			a->after_given = true;
			break;
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
		case OPT_OPTIMIZE_IMAGES: a->pack.optimize_images = 1; a->pack_only = true; break;
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
			a->limit_given = true;
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
	if (a->pack.optimize_images)
		cli_note(1, "images: %llu optimised losslessly, %llu bytes saved",
			 (unsigned long long)st->images_optimized,
			 (unsigned long long)st->image_bytes_optimized);
}

/* Loads a->key, asking for its passphrase when it has one; 0, or the exit
 * status after printing why. */
static int load_seckey(folio_ctx *ctx, const struct args *a, folio_seckey **key)
{
	int status = 0;
	char *pass = NULL;
	int rc = folio_seckey_load(ctx, a->key, NULL, key);
	if (rc == FOLIO_ENEEDPASS) {
		char what[512];
		snprintf(what, sizeof(what), "key '%s'", a->key);
		pass = cli_passphrase(a->passfile, what, false, &status);
		if (pass == NULL)
			return status;
		rc = folio_seckey_load(ctx, a->key, pass, key);
		cli_passphrase_free(pass);
	}
	return rc != FOLIO_OK ? cli_fail(ctx) : 0;
}

/* The key list at path, as delegate or revoke left it, on stderr. */
static void print_keylist(folio_ctx *ctx, const char *path)
{
	folio_keylist *kl = NULL;
	if (folio_keylist_load(ctx, path, NULL, &kl) != FOLIO_OK) {
		cli_fail(ctx);
		return;
	}
	char when[32];
	folio_time_format(when, folio_keylist_created(kl));
	cli_note(1, "wrote '%s' and '%s.minisig': key list version %llu of channel %s, signed by root %s at %s",
		 path, path, (unsigned long long)folio_keylist_version(kl), folio_keylist_channel(kl),
		 folio_keylist_signer_id(kl), when);
	for (size_t i = 0; i < folio_keylist_count(kl); i++) {
		const char *id;
		uint64_t first, last;
		int64_t revoked;
		(void)folio_keylist_key(kl, i, &id, &first, &last, &revoked);
		char range[64] = "no edition";
		if (last >= first)
			snprintf(range, sizeof(range), "editions %llu to %llu", (unsigned long long)first,
				 (unsigned long long)last);
		if (revoked >= 0)
			folio_time_format(when, revoked);
		cli_note(1, "  key %s: %s%s%s", id, range, revoked >= 0 ? ", revoked at " : "",
			 revoked >= 0 ? when : "");
	}
	folio_keylist_free(kl);
}

/* delegate and revoke. */
static int keylist_change(struct args *a, bool delegate)
{
	const char *cmd = delegate ? "delegate" : "revoke";
	if (a->key == NULL || a->pack.channel == NULL || a->output == NULL)
		return cli_usage_error(synopsis, "%s needs -k ROOT.key, -c CHANNEL and -o LIST", cmd);
	if (delegate ? a->pubkey == NULL : (a->pubkey == NULL) == (a->key_id == NULL))
		return cli_usage_error(synopsis, delegate ? "delegate needs -p DAY.pub"
							  : "revoke needs one of -p DAY.pub and --key-id ID");
	if (delegate && (a->key_id != NULL || a->after_given))
		return cli_usage_error(synopsis, "--key-id and --after are for revoke, not delegate");
	if (!delegate && a->first_last)
		return cli_usage_error(synopsis, "--first and --last are for delegate, not revoke");
	if (a->key_id != NULL && (strlen(a->key_id) != 16 || strspn(a->key_id, "0123456789ABCDEF") != 16))
		return cli_usage_error(synopsis, "key id '%s' is not 16 upper-case hex digits", a->key_id);
	folio_ctx *ctx = folio_new();
	if (ctx == NULL) {
		cli_error("out of memory");
		return EXIT_SYSTEM;
	}
	folio_seckey *root = NULL;
	folio_pubkey *day = NULL;
	int status = 0, rc = FOLIO_OK;
	if (a->pubkey != NULL && (rc = folio_pubkey_load(ctx, a->pubkey, &day)) != FOLIO_OK) {
		status = cli_fail(ctx);
		goto out;
	}
	if ((status = load_seckey(ctx, a, &root)) != 0)
		goto out;
	if (delegate)
		rc = folio_keys_delegate(ctx, a->output, root, day, a->pack.channel, a->first, a->last);
	else
		rc = folio_keys_revoke(ctx, a->output, root, day != NULL ? folio_pubkey_id(day) : a->key_id,
				       a->pack.channel, a->after_given ? a->after : -1);
	if (rc != FOLIO_OK)
		status = cli_fail(ctx);
	else
		print_keylist(ctx, a->output);
out:
	folio_pubkey_free(day);
	folio_seckey_free(root);
	folio_free(ctx);
	return status;
}

static int pack(struct args *a)
{
	if (a->src == NULL || a->key == NULL || a->pack.channel == NULL || a->output == NULL)
		return cli_usage_error(synopsis, "pack needs SRC_DIR, -k KEY, -c CHANNEL and -o OUT");
	if (a->pack.optimize_images && (a->pack.verbatim || a->pack.keep_image_metadata))
		return cli_usage_error(synopsis, "--optimize-images changes images: not with %s",
				       a->pack.verbatim ? "--verbatim" : "--keep-image-metadata");
	folio_ctx *ctx = folio_new();
	if (ctx == NULL) {
		cli_error("out of memory");
		return EXIT_SYSTEM;
	}
	folio_seckey *key = NULL;
	int rc;
	int status = cli_apply_limits(ctx, &a->limits);
	if (status != 0)
		goto out;
	if ((status = load_seckey(ctx, a, &key)) != 0)
		goto out;
	a->pack.on_file = print_file;
	a->pack.on_warning = print_warning;
	struct folio_pack_stats st;
	cli_progress_begin(ctx);
	rc = folio_pack(ctx, a->src, key, &a->pack, a->output, &st);
	cli_progress_end(ctx);
	if (rc != FOLIO_OK) {
		status = cli_fail(ctx);
		goto out;
	}
	if (a->pack.layers == 0 && a->pack.base == NULL)
		cli_note(1, "packed '%s': channel %s, edition %llu, %llu files (%llu stored), %llu -> %llu bytes, key %s%s%s",
			 a->output, a->pack.channel, (unsigned long long)st.edition,
			 (unsigned long long)st.files, (unsigned long long)st.stored,
			 (unsigned long long)st.input_bytes, (unsigned long long)st.output_bytes,
			 folio_seckey_id(key), a->pack.keys != NULL ? ", key list " : "",
			 a->pack.keys != NULL ? a->pack.keys : "");
	for (size_t i = 0; (a->pack.layers != 0 || a->pack.base != NULL) && i < st.nbundles; i++) {
		const struct folio_pack_bundle_stats *b = &st.bundles[i];
		char name[4096];
		if (b->layer != NULL)
			snprintf(name, sizeof(name), "%s.%s.folio", a->output, b->layer);
		else
			snprintf(name, sizeof(name), "%s", a->output);
		cli_note(1, "packed '%s': channel %s, edition %llu, %s, %llu files in the edition, %llu contents carried whole, %llu as patches, %llu left to the base, %llu bytes, key %s%s%s",
			 name, a->pack.channel, (unsigned long long)st.edition,
			 b->layer != NULL ? b->layer : "every layer", (unsigned long long)st.files,
			 (unsigned long long)b->whole, (unsigned long long)b->patches,
			 (unsigned long long)b->in_base, (unsigned long long)b->bytes,
			 folio_seckey_id(key), a->pack.keys != NULL ? ", key list " : "",
			 a->pack.keys != NULL ? a->pack.keys : "");
	}
	print_reader_summary(a, &st);
out:
	folio_seckey_free(key);
	folio_free(ctx);
	return status;
}

/* split: the bundle in parts and their signed index. */
static int split(struct args *a, const char *bundle)
{
	if (a->key == NULL || a->part_size == 0)
		return cli_usage_error(synopsis, "split needs -k KEY and --size SIZE");
	folio_ctx *ctx = folio_new();
	if (ctx == NULL) {
		cli_error("out of memory");
		return EXIT_SYSTEM;
	}
	folio_seckey *key = NULL;
	folio_pubkey *root = NULL;
	int status = cli_apply_limits(ctx, &a->limits);
	if (status != 0)
		goto out;
	if (a->pubkey != NULL && folio_pubkey_load(ctx, a->pubkey, &root) != FOLIO_OK) {
		status = cli_fail(ctx);
		goto out;
	}
	if ((status = load_seckey(ctx, a, &key)) != 0)
		goto out;
	struct folio_split_result r;
	const char *base = a->pack.base;
	cli_progress_begin(ctx);
	int rc = folio_bundle_split_with(ctx, bundle, key, root, &base, base != NULL, a->part_size,
					 a->output, a->pack.force, &r);
	cli_progress_end(ctx);
	if (rc != FOLIO_OK) {
		status = cli_fail(ctx);
		goto out;
	}
	cli_note(1, "split '%s' (channel %s, edition %llu, %llu bytes) into %zu part%s of at most %llu "
		    "bytes; index '%s', signed by key %s",
		 bundle, r.channel, (unsigned long long)r.edition, (unsigned long long)r.bundle_size,
		 r.parts, r.parts == 1 ? "" : "s", (unsigned long long)a->part_size, r.index,
		 folio_seckey_id(key));
out:
	folio_seckey_free(key);
	folio_pubkey_free(root);
	folio_free(ctx);
	return status;
}

int main(int argc, char **argv)
{
	cli_program = "folio-pack";
	struct args a = {.first = 1, .last = (1ull << 53) - 1};
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
	if (a.part_size != 0 && strcmp(cmd, "split") != 0)
		return cli_usage_error(synopsis, "--size is for split only");
	if (strcmp(cmd, "keygen") == 0) {
		if (rest != 0)
			return cli_usage_error(synopsis, "keygen takes no argument '%s'", pos[0]);
		if (a.pack_only || a.signing || a.limit_given || a.pack.base != NULL)
			return cli_usage_error(synopsis, "that option is for pack, not keygen");
		if (a.pubkey != NULL || a.key_id != NULL || a.first_last || a.after_given)
			return cli_usage_error(synopsis, "that option is for delegate or revoke, not keygen");
		return keygen(&a);
	}
	if (strcmp(cmd, "delegate") == 0 || strcmp(cmd, "revoke") == 0) {
		if (rest != 0)
			return cli_usage_error(synopsis, "%s takes no argument '%s'", cmd, pos[0]);
		if (a.pack_only || a.keygen_only || a.limit_given || a.pack.base != NULL)
			return cli_usage_error(synopsis, "that option is not for %s", cmd);
		return keylist_change(&a, strcmp(cmd, "delegate") == 0);
	}
	if (strcmp(cmd, "pack") == 0) {
		if (rest != 1)
			return cli_usage_error(synopsis, "pack takes one SRC_DIR");
		if (a.keygen_only)
			return cli_usage_error(synopsis, "--unencrypted is for keygen, not pack");
		if (a.pubkey != NULL || a.key_id != NULL || a.first_last || a.after_given)
			return cli_usage_error(synopsis, "that option is for delegate or revoke, not pack");
		a.src = pos[0];
		return pack(&a);
	}
	if (strcmp(cmd, "split") == 0) {
		if (rest != 1)
			return cli_usage_error(synopsis, "split takes one BUNDLE");
		if (a.keygen_only || a.pack_only || a.pack.channel != NULL || a.key_id != NULL ||
		    a.first_last || a.after_given)
			return cli_usage_error(synopsis, "that option is not for split");
		struct stat st;
		if (a.pack.base != NULL && stat(a.pack.base, &st) == 0 && !S_ISDIR(st.st_mode))
			return cli_usage_error(synopsis, "split --base takes the base edition's folder ('%s' is "
					       "a file: folio-unpack unpack it first)", a.pack.base);
		return split(&a, pos[0]);
	}
	return cli_usage_error(synopsis, "unknown command '%s'", cmd);
}
