/* SPDX-License-Identifier: ISC */
/* folio-unpack: verify, list or unpack a bundle, or keep editions in a
 * library.  Never needs a secret key. */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

static const char synopsis[] =
	"usage: folio-unpack verify BUNDLE -p PUBKEY [-c CHANNEL] [--base EDITION-DIR]...\n"
	"       folio-unpack list BUNDLE -p PUBKEY [-c CHANNEL] [--json]\n"
	"       folio-unpack unpack BUNDLE -p PUBKEY -C DEST [-c CHANNEL] [-f] [--partial]\n"
	"                    [--base EDITION-DIR]...\n"
	"       folio-unpack trust add CHANNEL ROOT.pub --library DIR [--force]\n"
	"       folio-unpack trust remove CHANNEL --library DIR\n"
	"       folio-unpack install BUNDLE --library DIR [-c CHANNEL] [--max-size SIZE]\n"
	"                    [--future-margin DURATION] [--force] [--partial]\n"
	"       folio-unpack install INDEX.parts|PART... [PART|DIR...] --library DIR [--partial]\n"
	"                    [install options]\n"
	"       folio-unpack parts INDEX.parts [PART|DIR...] (-p KEY.pub | --library DIR)\n"
	"       folio-unpack status --library DIR [--json]\n"
	"       folio-unpack prune --library DIR [--keep N] [--max-size SIZE]\n"
	"       folio-unpack check --library DIR\n";

static const char help[] =
	"folio-unpack: check a signed folio bundle and unpack its edition, or keep\n"
	"editions in a library.\n"
	"\n"
	"Usage:\n"
	"  folio-unpack verify BUNDLE -p PUBKEY   check the signature and every byte;\n"
	"                                         write nothing\n"
	"  folio-unpack list BUNDLE -p PUBKEY     check the signature; print the\n"
	"                                         edition, its files and articles\n"
	"  folio-unpack unpack BUNDLE -p PUBKEY -C DEST\n"
	"                                         check every byte; DEST appears only\n"
	"                                         when all of it verified\n"
	"BUNDLE may be - for standard input.  A bundle may carry only part of its\n"
	"edition (a layer, a delta, a damaged download: docs/FORMAT.md section 17);\n"
	"the rest comes from --base folders and, with --force, from DEST itself.\n"
	"\n"
	"The library (a folder of editions, DIR/CHANNEL/EDITION/, with a page\n"
	"DIR/index.html; see docs/FORMAT.md section 16):\n"
	"  folio-unpack trust add CHANNEL ROOT.pub --library DIR [--force]\n"
	"                                         pin CHANNEL to the publisher's root key\n"
	"  folio-unpack trust remove CHANNEL --library DIR\n"
	"                                         install no more editions of CHANNEL\n"
	"                                         (its editions stay)\n"
	"  folio-unpack install BUNDLE --library DIR\n"
	"                                         verify, refuse an older, expired,\n"
	"                                         future or foreign edition, install\n"
	"  folio-unpack status --library DIR      channels, editions, disk use, problems\n"
	"  folio-unpack prune --library DIR --keep N | --max-size SIZE\n"
	"                                         remove the oldest editions\n"
	"  folio-unpack check --library DIR       re-hash every file of every edition\n"
	"\n"
	"A bundle in parts (folio-pack split: NAME.part001 ..., the signed index\n"
	"NAME.parts and NAME.parts.minisig):\n"
	"  folio-unpack parts INDEX.parts [PART|DIR...] (-p KEY.pub | --library DIR)\n"
	"                                         verify the index, look for each part\n"
	"                                         beside it and in the PARTs and DIRs\n"
	"                                         given, print one line per part (good,\n"
	"                                         damaged, missing) and which to send again\n"
	"  folio-unpack install INDEX.parts|PART... [PART|DIR...] --library DIR\n"
	"                                         join the parts (all good, or with\n"
	"                                         --partial those that are) and install\n"
	"                                         the bundle they make; given only parts,\n"
	"                                         the index is NAME.parts beside them\n"
	"\n"
	"Options:\n"
	"  -p, --pubkey FILE          the publisher's public key (minisign format): the\n"
	"                             channel's root key when its bundles carry a key\n"
	"                             list that delegates signing to other keys;\n"
	"                             parts: the key that signed the index (the one\n"
	"                             that signed the bundle)\n"
	"  -c, --channel CHANNEL      refuse a bundle for any other channel\n"
	"  -C, --directory DEST       unpack: the folder to create\n"
	"  -f, --force                unpack: replace DEST if it exists (atomically;\n"
	"                             never with an older edition of its channel);\n"
	"                             install: re-install the edition last accepted\n"
	"                             (repairs one check found damaged); trust add:\n"
	"                             replace the key CHANNEL is pinned to\n"
	"      --json                 list: print the signed manifest as it is;\n"
	"                             status: print one JSON object\n"
	"      --library DIR          the library (default: $FOLIO_LIBRARY); parts: take\n"
	"                             the index's key from it (the channel's root or a\n"
	"                             key of its newest key list that is not revoked)\n"
	"      --partial              unpack, install: keep every file that verifies of\n"
	"                             a damaged, truncated or incomplete bundle (reading\n"
	"                             resumes at the next zstd frame after damage); the\n"
	"                             rest is listed in DEST/.folio/missing, and a later\n"
	"                             bundle of the edition completes it; from parts:\n"
	"                             leave out the parts that are missing or damaged\n"
	"      --base EDITION-DIR     unpack: an unpacked edition (a delta's base) whose\n"
	"                             files may supply what the bundle does not carry,\n"
	"                             each hashed again; may be given more than once\n"
	"      --max-size SIZE        install, prune: remove the oldest editions until\n"
	"                             the library uses at most SIZE bytes (the newest\n"
	"                             edition of each channel stays)\n"
	"      --keep N               prune: keep the newest N editions of each channel\n"
	"      --future-margin DURATION\n"
	"                             install: how far past this device's time an\n"
	"                             edition may say it was made (N, Ns, Nm, Nh or Nd;\n"
	"                             default 1d)\n"
	"  -q, --quiet                print only errors (no progress)\n"
	"  -v, --verbose              say more\n"
	"  -h, --help                 print this help and exit\n"
	"  -V, --version              print versions and exit\n"
	"\n"
	CLI_LIMITS_HELP
	"\n"
	"On a terminal, verify, unpack and install show their progress on standard\n"
	"error.\n"
	"Exit status: 0 success, 1 bundle rejected (signature, key, hash, expiry,\n"
	"channel, unsafe or malformed content, limits, incomplete: text files that\n"
	"neither the bundle nor a base supplies, without --partial; older than the edition in\n"
	"DEST or than the library accepted, created too far in the future), or\n"
	"status/check found problems, or parts: a part is missing or damaged, or the\n"
	"index does not verify; install from parts: a part is missing or damaged\n"
	"(without --partial), 2 usage error, 3 system error.\n";

enum { OPT_JSON = 256, OPT_LIBRARY, OPT_MAX_SIZE, OPT_KEEP, OPT_FUTURE_MARGIN, OPT_PARTIAL, OPT_BASE };

static const struct option options[] = {
	{"pubkey", required_argument, NULL, 'p'},
	{"channel", required_argument, NULL, 'c'},
	{"directory", required_argument, NULL, 'C'},
	{"force", no_argument, NULL, 'f'},
	{"json", no_argument, NULL, OPT_JSON},
	{"library", required_argument, NULL, OPT_LIBRARY},
	{"max-size", required_argument, NULL, OPT_MAX_SIZE},
	{"keep", required_argument, NULL, OPT_KEEP},
	{"future-margin", required_argument, NULL, OPT_FUTURE_MARGIN},
	{"partial", no_argument, NULL, OPT_PARTIAL},
	{"base", required_argument, NULL, OPT_BASE},
	{"quiet", no_argument, NULL, 'q'},
	{"verbose", no_argument, NULL, 'v'},
	{"help", no_argument, NULL, 'h'},
	{"version", no_argument, NULL, 'V'},
	CLI_LIMIT_OPTIONS,
	{NULL, 0, NULL, 0},
};

struct args {
	const char *pubkey, *channel, *dest, *bundle, *library;
	bool force, json, partial;
	uint64_t max_size, keep;
	int64_t future_margin; /* -1: not given */
	struct cli_limits limits;
	const char *base[16];
	size_t nbase;
};

/* N, Ns, Nm, Nh or Nd. */
static bool parse_duration(const char *s, int64_t *out)
{
	if (s == NULL || *s < '0' || *s > '9')
		return false;
	char *end;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 10);
	uint64_t unit = 1;
	if (*end != '\0') {
		const char *units = "smhd";
		static const uint64_t seconds[] = {1, 60, 3600, 86400};
		const char *k = strchr(units, *end);
		if (k == NULL || end[1] != '\0')
			return false;
		unit = seconds[k - units];
	}
	if (errno != 0 || v > (uint64_t)INT64_MAX / 2 / unit)
		return false;
	*out = (int64_t)(v * unit);
	return true;
}

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
		case OPT_LIBRARY: a->library = optarg; break;
		case OPT_PARTIAL: a->partial = true; break;
		case OPT_BASE:
			if (a->nbase == sizeof(a->base) / sizeof(a->base[0]))
				return cli_usage_error(synopsis, "--base may be given at most 16 times");
			a->base[a->nbase++] = optarg;
			break;
		case OPT_MAX_SIZE:
			if (!cli_parse_size(optarg, &a->max_size))
				return cli_usage_error(synopsis, "--max-size '%s' is not a size (N, NK, NM, NG or NT)", optarg);
			break;
		case OPT_KEEP:
			if (!cli_parse_uint(optarg, 1, UINT32_MAX, &a->keep))
				return cli_usage_error(synopsis, "--keep '%s' is not a number from 1 to 2^32-1", optarg);
			break;
		case OPT_FUTURE_MARGIN:
			if (!parse_duration(optarg, &a->future_margin))
				return cli_usage_error(synopsis, "--future-margin '%s' is not a duration (N, Ns, Nm, Nh or Nd)",
						       optarg);
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

/* What a bundle that carries part of its edition gave, and what is
 * still missing. */
static void say_missing(uint64_t received, uint64_t reused, uint64_t missing, uint64_t missing_text,
			uint64_t base, const char *damage, const char *where, bool verifying)
{
	if (damage != NULL && *damage != '\0')
		cli_note(1, "warning: damage skipped: %s", damage);
	if (reused > 0)
		cli_note(2, "%llu contents from the bundle, %llu from editions already here",
			 (unsigned long long)received, (unsigned long long)reused);
	if (missing == 0)
		return;
	if (verifying)
		cli_note(1, "it carries part of its edition: %llu file%s not in it%s", (unsigned long long)missing,
			 missing == 1 ? " is" : "s are", base ? " (a delta: the base edition has them)" : "");
	else if (missing_text == 0 && (damage == NULL || *damage == '\0'))
		cli_note(1, "%llu media file%s not here yet (a text layer): the edition reads without "
			    "its images; a media layer of it completes it (missing files are listed in "
			    "%s/.folio/missing)", (unsigned long long)missing, missing == 1 ? " is" : "s are",
			 where);
	else
		cli_note(1, "warning: incomplete: %llu file%s missing (%llu of them text), listed in "
			    "%s/.folio/missing; a later bundle of this edition completes it",
			 (unsigned long long)missing, missing == 1 ? " is" : "s are",
			 (unsigned long long)missing_text, where);
}

static void note_missing(folio_bundle *b, const char *dest, bool verifying)
{
	say_missing(folio_bundle_received(b), folio_bundle_reused(b), folio_bundle_missing_count(b),
		    folio_bundle_missing_text(b), folio_bundle_base(b), folio_bundle_damage(b), dest,
		    verifying);
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
	/* the --base folders, and a DEST that holds an edition: a delta's
	 * manifest may be a patch against one of theirs */
	const char *sources[sizeof(a->base) / sizeof(a->base[0]) + 1];
	size_t nsources = a->nbase;
	memcpy(sources, a->base, a->nbase * sizeof(*sources));
	char *dest_manifest = NULL;
	if (a->force && a->dest != NULL && asprintf(&dest_manifest, "%s/.folio/manifest.json", a->dest) >= 0 &&
	    access(dest_manifest, F_OK) == 0)
		sources[nsources++] = a->dest;
	free(dest_manifest);
	if (rc == FOLIO_OK)
		rc = folio_bundle_open_with(ctx, a->bundle, key, a->channel, sources, nsources, &b);
	if (rc == FOLIO_OK && strcmp(cmd, "list") == 0) {
		print_list(b, a->json);
	} else if (rc == FOLIO_OK) {
		cli_progress_begin(ctx);
		if (strcmp(cmd, "verify") == 0)
			rc = folio_bundle_verify(b);
		else
			rc = folio_bundle_unpack(b, a->dest, (a->force ? FOLIO_FORCE : 0) |
							     (a->partial ? FOLIO_PARTIAL : 0));
		cli_progress_end(ctx);
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
		else if (folio_bundle_missing_count(b) == 0)
			cli_note(1, "unpacked edition %llu of channel %s into '%s': %zu files",
				 (unsigned long long)folio_bundle_edition(b), folio_bundle_channel(b),
				 a->dest, n);
		else
			cli_note(1, "unpacked edition %llu of channel %s into '%s': %zu of its %zu files",
				 (unsigned long long)folio_bundle_edition(b), folio_bundle_channel(b),
				 a->dest, n - folio_bundle_missing_count(b), n);
		note_missing(b, a->dest, strcmp(cmd, "verify") == 0);
	}
	folio_bundle_free(b);
	folio_pubkey_free(key);
	folio_free(ctx);
	return status;
}

/* ---- parts ------------------------------------------------------------------------ */

static void waiting(void *arg, const char *dir);

static bool ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);
	return n >= m && strcmp(s + n - m, suffix) == 0;
}

/* NAME.partNNN (3 digits or more): the length of NAME.part, else 0. */
static size_t part_prefix_len(const char *s)
{
	const char *p = strstr(s, ".part");
	size_t at = 0;
	for (; p != NULL; p = strstr(p + 1, ".part")) /* the last ".part" */
		at = (size_t)(p - s) + 5;
	if (at == 0)
		return 0;
	size_t digits = strlen(s + at);
	return digits >= 3 && strspn(s + at, "0123456789") == digits ? at : 0;
}

static bool is_parts_arg(const char *s)
{
	return ends_with(s, ".parts") || part_prefix_len(s) > 0;
}

/* The index among args (the one NAME.parts), or NAME.parts beside the
 * first part NAME.partNNN; *index is malloc'd.  0, or the usage status. */
static int find_index(char **args, int n, char **index)
{
	*index = NULL;
	const char *found = NULL;
	for (int i = 0; i < n; i++)
		if (ends_with(args[i], ".parts")) {
			if (found != NULL)
				return cli_usage_error(synopsis, "two indexes given: '%s' and '%s'", found, args[i]);
			found = args[i];
		}
	if (found != NULL) {
		*index = strdup(found);
	} else {
		for (int i = 0; i < n && found == NULL; i++)
			if (part_prefix_len(args[i]) > 0)
				found = args[i];
		if (found == NULL)
			return cli_usage_error(synopsis, "no index given (NAME.parts, or a part NAME.partNNN "
					       "with NAME.parts beside it)");
		size_t len = part_prefix_len(found);
		if (asprintf(index, "%.*ss", (int)len, found) < 0)
			*index = NULL;
	}
	if (*index == NULL) {
		cli_error("out of memory");
		return EXIT_SYSTEM;
	}
	return 0;
}

/* The places to look for parts: every argument but the index. */
static const char **places_of(char **args, int n, const char *index, size_t *count)
{
	const char **places = calloc((size_t)n + 1, sizeof(*places));
	*count = 0;
	for (int i = 0; places != NULL && i < n; i++)
		if (strcmp(args[i], index) != 0)
			places[(*count)++] = args[i];
	return places;
}

/* Says which files given are not parts of the index. */
static void note_strays(const folio_parts *p, const char *index, const char **places, size_t n)
{
	struct folio_part_info first;
	if (folio_parts_part(p, 0, &first) != FOLIO_OK)
		return;
	size_t base = part_prefix_len(first.name);
	for (size_t j = 0; j < n; j++) {
		const char *name = strrchr(places[j], '/') ? strrchr(places[j], '/') + 1 : places[j];
		if (*name == '\0') /* a folder */
			continue;
		bool ours = false;
		for (size_t i = 0; i < folio_parts_count(p) && !ours; i++) {
			struct folio_part_info pi;
			(void)folio_parts_part(p, i, &pi);
			ours = strcmp(pi.name, name) == 0;
		}
		if (!ours && part_prefix_len(name) > 0)
			cli_note(1, "warning: '%s' is not a part of '%s' (its parts are named %.*sNNN)",
				 places[j], index, (int)base, first.name);
	}
}

/* One line per part on stdout, then which to send again; the number of
 * parts not good. */
static size_t print_parts(const folio_parts *p, const char *index)
{
	size_t n = folio_parts_count(p), bad = n - folio_parts_good(p);
	for (size_t i = 0; i < n; i++) {
		struct folio_part_info pi;
		(void)folio_parts_part(p, i, &pi);
		if (pi.state == FOLIO_PART_GOOD)
			printf("%s: good (%s)\n", pi.name, pi.path);
		else if (pi.state == FOLIO_PART_DAMAGED)
			printf("%s: damaged: %s (%s)\n", pi.name, pi.problem, pi.path);
		else
			printf("%s: missing\n", pi.name);
	}
	if (bad == 0) {
		printf("all %zu parts of '%s' are good: channel %s, edition %llu, %llu bytes\n", n, index,
		       folio_parts_channel(p), (unsigned long long)folio_parts_edition(p),
		       (unsigned long long)folio_parts_bundle_size(p));
		return 0;
	}
	printf("send again:");
	for (size_t i = 0; i < n; i++) {
		struct folio_part_info pi;
		(void)folio_parts_part(p, i, &pi);
		if (pi.state != FOLIO_PART_GOOD)
			printf(" %s", pi.name);
	}
	printf("\n");
	return bad;
}

/* folio-unpack parts. */
static int run_parts(char **args, int n, struct args *a)
{
	char *index;
	int status = find_index(args, n, &index);
	if (status != 0)
		return status;
	size_t nplaces;
	const char **places = places_of(args, n, index, &nplaces);
	folio_ctx *ctx = folio_new();
	folio_pubkey *key = NULL;
	folio_library *lib = NULL;
	folio_parts *p = NULL;
	if (ctx == NULL || places == NULL) {
		cli_error("out of memory");
		status = EXIT_SYSTEM;
		goto out;
	}
	int rc = a->pubkey != NULL ? folio_pubkey_load(ctx, a->pubkey, &key)
				   : folio_library_open(ctx, a->library, 0, waiting, NULL, &lib);
	if (rc == FOLIO_OK)
		rc = folio_parts_open(ctx, index, key, lib, places, nplaces, &p);
	if (rc == FOLIO_OK)
		rc = folio_parts_find(p, places, nplaces);
	if (rc != FOLIO_OK) {
		status = cli_fail(ctx);
		goto out;
	}
	note_strays(p, index, places, nplaces);
	size_t bad = print_parts(p, index);
	if (bad > 0) {
		cli_error("'%s': %zu of its %zu parts %s missing or damaged", index, bad, folio_parts_count(p),
			  bad == 1 ? "is" : "are");
		status = EXIT_REJECTED;
	}
out:
	folio_parts_free(p);
	folio_library_close(lib);
	folio_pubkey_free(key);
	folio_free(ctx);
	free((void *)places);
	free(index);
	return status;
}

/* install from parts, in the library open as lib; the exit status. */
static int install_parts(folio_ctx *ctx, folio_library *lib, char **args, int n,
			 const struct folio_install_options *o, struct folio_install_result *r, int *rc)
{
	char *index;
	int status = find_index(args, n, &index);
	if (status != 0)
		return status;
	size_t nplaces;
	const char **places = places_of(args, n, index, &nplaces);
	folio_parts *p = NULL;
	if (places == NULL) {
		free(index);
		cli_error("out of memory");
		return EXIT_SYSTEM;
	}
	*rc = folio_parts_open(ctx, index, NULL, lib, places, nplaces, &p);
	if (*rc == FOLIO_OK)
		*rc = folio_parts_find(p, places, nplaces);
	if (*rc == FOLIO_OK) {
		note_strays(p, index, places, nplaces);
		size_t bad = folio_parts_count(p) - folio_parts_good(p);
		if (bad > 0 && o->partial)
			cli_note(1, "warning: installing without %zu of the %zu parts of '%s' (--partial)", bad,
				 folio_parts_count(p), index);
		*rc = folio_library_install_parts(lib, p, o, r);
	}
	folio_parts_free(p);
	free((void *)places);
	free(index);
	return 0;
}

/* ---- the library ---------------------------------------------------------------- */

static void waiting(void *arg, const char *dir)
{
	(void)arg;
	cli_note(1, "the library '%s' is busy (another folio-unpack is using it): waiting", dir);
}

static void print_problem(void *arg, const char *message)
{
	(void)arg;
	cli_error("%s", message);
}

static int run_library(const char *cmd, const char *sub, char **pos, int npos, struct args *a)
{
	folio_ctx *ctx = folio_new();
	if (ctx == NULL) {
		cli_error("out of memory");
		return EXIT_SYSTEM;
	}
	int status = cli_apply_limits(ctx, &a->limits);
	if (status != 0) {
		folio_free(ctx);
		return status;
	}
	bool writes = strcmp(cmd, "trust") == 0 || strcmp(cmd, "install") == 0 || strcmp(cmd, "prune") == 0;
	int flags = writes ? FOLIO_LIBRARY_WRITE : 0;
	/* only trust add makes a library: an install into one that trusts
	 * nothing yet is refused, and a refusal writes nothing (no DIR, no
	 * .folio-library/ planted in a mistyped folder) */
	if (strcmp(cmd, "trust") == 0 && strcmp(sub, "add") == 0)
		flags |= FOLIO_LIBRARY_CREATE;
	folio_library *lib = NULL;
	int rc = folio_library_open(ctx, a->library, flags, waiting, NULL, &lib);
	if (rc != FOLIO_OK)
		goto out;
	if (strcmp(cmd, "trust") == 0 && strcmp(sub, "add") == 0) {
		int changed;
		rc = folio_library_trust_add(lib, pos[0], pos[1], a->force, &changed);
		if (rc == FOLIO_OK)
			cli_note(1, changed ? "the library '%s' now trusts '%s' for channel '%s'"
					    : "the library '%s' already trusts '%s' for channel '%s': nothing to do",
				 a->library, pos[1], pos[0]);
	} else if (strcmp(cmd, "trust") == 0) {
		rc = folio_library_trust_remove(lib, pos[0]);
		if (rc == FOLIO_OK)
			cli_note(1, "the library '%s' no longer trusts channel '%s': its editions stay, "
				    "no more are installed", a->library, pos[0]);
	} else if (strcmp(cmd, "install") == 0) {
		struct folio_install_options o = {
			.channel = a->channel, .max_size = a->max_size,
			.future_margin = a->future_margin, .force = a->force, .partial = a->partial,
		};
		struct folio_install_result r;
		cli_progress_begin(ctx);
		if (npos > 1 || is_parts_arg(pos[0])) {
			status = install_parts(ctx, lib, pos, npos, &o, &r, &rc);
			cli_progress_end(ctx);
			if (status != 0)
				goto out;
		} else {
			rc = folio_library_install(lib, pos[0], &o, &r);
		}
		cli_progress_end(ctx);
		if (rc == FOLIO_OK && r.nothing_to_do != 0 && r.damage[0] != '\0')
			cli_note(1, "warning: damage skipped: %s", r.damage);
		if (rc == FOLIO_OK && r.nothing_to_do == 1)
			cli_note(1, "edition %llu of channel '%s' is already installed: nothing to do",
				 (unsigned long long)r.edition, r.channel);
		else if (rc == FOLIO_OK && r.nothing_to_do == 2)
			cli_note(1, "edition %llu of channel '%s' was accepted before and has since been "
				    "pruned: nothing to do", (unsigned long long)r.edition, r.channel);
		else if (rc == FOLIO_OK)
			cli_note(1, "installed edition %llu of channel '%s' (%s) in %s/%s/%llu: %llu files, "
				    "%llu bytes, %llu of them shared with other editions%s",
				 (unsigned long long)r.edition, r.channel, r.title, a->library, r.channel,
				 (unsigned long long)r.edition, (unsigned long long)r.files,
				 (unsigned long long)r.bytes, (unsigned long long)r.bytes_shared,
				 r.sharing ? "" : " (this file system has no hard links: plain copies)");
		if (rc == FOLIO_OK && r.nothing_to_do == 0) {
			char where[PATH_MAX];
			snprintf(where, sizeof(where), "%s/%s/%llu", a->library, r.channel,
				 (unsigned long long)r.edition);
			say_missing(r.received, r.reused, r.missing, r.missing_text, r.base, r.damage, where, false);
		}
		if (rc == FOLIO_OK && r.editions_revoked > 0)
			cli_note(1, "removed %llu edition%s of channel '%s' signed by a key its publisher has "
				    "revoked (the bundle's key list says so): their content cannot be trusted",
				 (unsigned long long)r.editions_revoked, r.editions_revoked == 1 ? "" : "s",
				 r.channel);
		if (rc == FOLIO_OK && r.editions_pruned > 0)
			cli_note(1, "pruned %llu older edition%s to fit --max-size",
				 (unsigned long long)r.editions_pruned, r.editions_pruned == 1 ? "" : "s");
		if (rc == FOLIO_OK && r.still_too_big)
			cli_note(1, "warning: the library '%s' is still larger than --max-size: only the "
				    "newest edition of each channel is left", a->library);
	} else if (strcmp(cmd, "status") == 0) {
		char *text;
		int consistent;
		rc = folio_library_status(lib, a->json ? FOLIO_STATUS_JSON : 0, &text, &consistent);
		if (rc == FOLIO_OK) {
			fputs(text, stdout);
			free(text);
			if (!consistent)
				status = EXIT_REJECTED;
		}
	} else if (strcmp(cmd, "prune") == 0) {
		struct folio_prune_result r;
		rc = folio_library_prune(lib, a->keep, a->max_size, &r);
		if (rc == FOLIO_OK)
			cli_note(1, "pruned %llu edition%s; the library '%s' uses %llu bytes",
				 (unsigned long long)r.editions_pruned, r.editions_pruned == 1 ? "" : "s",
				 a->library, (unsigned long long)r.bytes);
		if (rc == FOLIO_OK && r.still_too_big)
			cli_note(1, "warning: the library '%s' is still larger than --max-size: only the "
				    "newest edition of each channel is left", a->library);
	} else {
		struct folio_check_result r;
		rc = folio_library_check(lib, print_problem, NULL, &r);
		if (rc == FOLIO_OK && r.problems == 0)
			cli_note(1, "%llu edition%s, %llu files, all good",
				 (unsigned long long)r.editions, r.editions == 1 ? "" : "s",
				 (unsigned long long)r.files);
		else if (rc == FOLIO_OK) {
			cli_error("%llu problem%s in %llu edition%s (%llu files checked)",
				  (unsigned long long)r.problems, r.problems == 1 ? "" : "s",
				  (unsigned long long)r.editions, r.editions == 1 ? "" : "s",
				  (unsigned long long)r.files);
			status = EXIT_REJECTED;
		}
	}
out:
	if (rc != FOLIO_OK)
		status = cli_fail(ctx);
	folio_library_close(lib);
	folio_free(ctx);
	return status;
}

static bool is_library_cmd(const char *cmd)
{
	return strcmp(cmd, "trust") == 0 || strcmp(cmd, "install") == 0 || strcmp(cmd, "status") == 0 ||
	       strcmp(cmd, "prune") == 0 || strcmp(cmd, "check") == 0;
}

static int library_main(int argc, char **argv, struct args *a)
{
	const char *cmd = argv[1], *sub = "";
	int skip = 1;
	if (strcmp(cmd, "trust") == 0) {
		if (argc < 3 || (strcmp(argv[2], "add") != 0 && strcmp(argv[2], "remove") != 0))
			return cli_usage_error(synopsis, "trust needs 'add' or 'remove'");
		sub = argv[2];
		skip = 2;
	}
	bool done = false;
	int status = parse(argc - skip, argv + skip, a, &done);
	if (done || status != 0)
		return status;
	char **pos = argv + skip + optind;
	int npos = argc - skip - optind;
	int want = strcmp(cmd, "install") == 0 ? 1 : strcmp(sub, "add") == 0 ? 2 : strcmp(sub, "remove") == 0 ? 1 : 0;
	static const char *const what[] = {"no argument", "one argument", "two arguments"};
	if (npos != want && !(strcmp(cmd, "install") == 0 && npos > 1))
		return cli_usage_error(synopsis, "%s%s%s takes %s", cmd, *sub ? " " : "", sub, what[want]);
	if (a->library == NULL)
		a->library = getenv("FOLIO_LIBRARY");
	if (a->library == NULL || *a->library == '\0')
		return cli_usage_error(synopsis, "%s needs --library DIR (or FOLIO_LIBRARY)", cmd);
	bool install = strcmp(cmd, "install") == 0, prune = strcmp(cmd, "prune") == 0;
	if (a->pubkey != NULL || a->dest != NULL)
		return cli_usage_error(synopsis, "-p and -C are for verify, list and unpack");
	if (a->channel != NULL && !install)
		return cli_usage_error(synopsis, "-c is for install only (and verify, list, unpack)");
	if (a->force && !install && strcmp(sub, "add") != 0)
		return cli_usage_error(synopsis, "--force is for install, trust add and unpack only");
	if (a->json && strcmp(cmd, "status") != 0)
		return cli_usage_error(synopsis, "--json is for status and list only");
	if (a->max_size > 0 && !install && !prune)
		return cli_usage_error(synopsis, "--max-size is for install and prune only");
	if (a->keep > 0 && !prune)
		return cli_usage_error(synopsis, "--keep is for prune only");
	if (a->future_margin >= 0 && !install)
		return cli_usage_error(synopsis, "--future-margin is for install only");
	if (a->partial && !install)
		return cli_usage_error(synopsis, "--partial is for install and unpack only");
	if (a->nbase > 0)
		return cli_usage_error(synopsis, "--base is for unpack and verify (install takes the "
				       "base from the library)");
	if (install && npos > 1 && !is_parts_arg(pos[0]) && !is_parts_arg(pos[1]))
		return cli_usage_error(synopsis, "install takes one BUNDLE, or an index and parts "
				       "(NAME.parts, NAME.partNNN)");
	if (prune && a->keep == 0 && a->max_size == 0)
		return cli_usage_error(synopsis, "prune needs --keep N, --max-size SIZE or both");
	return run_library(cmd, sub, pos, npos, a);
}

int main(int argc, char **argv)
{
	cli_program = "folio-unpack";
	struct args a = {.future_margin = -1};
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
	if (is_library_cmd(cmd))
		return library_main(argc, argv, &a);
	if (strcmp(cmd, "parts") == 0) {
		int st = parse(argc - 1, argv + 1, &a, &done);
		if (done || st != 0)
			return st;
		int npos = argc - 1 - optind;
		if (npos < 1)
			return cli_usage_error(synopsis, "parts needs an INDEX");
		if (a.library == NULL && a.pubkey == NULL)
			a.library = getenv("FOLIO_LIBRARY");
		if (a.library != NULL && *a.library == '\0')
			a.library = NULL;
		if ((a.pubkey == NULL) == (a.library == NULL))
			return cli_usage_error(synopsis, "parts needs one of -p KEY.pub and --library DIR");
		if (a.channel != NULL || a.dest != NULL || a.force || a.json || a.partial || a.max_size > 0 ||
		    a.keep > 0 || a.future_margin >= 0)
			return cli_usage_error(synopsis, "parts takes only -p or --library (and -q, -v, limits)");
		return run_parts(argv + 1 + optind, npos, &a);
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
	if (a.library != NULL || a.max_size > 0 || a.keep > 0 || a.future_margin >= 0)
		return cli_usage_error(synopsis, "--library, --max-size, --keep and --future-margin "
				       "are for the library commands");
	if (strcmp(cmd, "unpack") != 0 && a.partial)
		return cli_usage_error(synopsis, "--partial is for unpack and install only");
	if (strcmp(cmd, "list") == 0 && a.nbase > 0)
		return cli_usage_error(synopsis, "--base is for unpack and verify only");
	bool unpack = strcmp(cmd, "unpack") == 0;
	if (unpack != (a.dest != NULL))
		return cli_usage_error(synopsis, unpack ? "unpack needs -C DEST" : "-C is for unpack only");
	if (a.force && !unpack)
		return cli_usage_error(synopsis, "--force is for unpack only");
	if (a.json && strcmp(cmd, "list") != 0)
		return cli_usage_error(synopsis, "--json is for list only");
	return run(cmd, &a);
}
