/* SPDX-License-Identifier: ISC */
/* Replays saved inputs through a harness's LLVMFuzzerTestOneInput without
 * libFuzzer, for `make check`:
 *   replay-NAME FILE|DIR...
 * First the empty input (libFuzzer always runs it, and its merge never
 * keeps an empty file), then each file.  Each input runs in a child process
 * of its own, so that one crash, abort, leak (under ASan) or hang
 * (FUZZ_REPLAY_TIMEOUT seconds, default 60) is reported with its file name
 * and the others still run.  Folders are read one level deep, in name order.  Prints one closing line and exits 1 if
 * any input failed, 2 if an argument cannot be read.
 * FUZZ_REPLAY_NOFORK=1 runs every input in this process (for a debugger). */
#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fuzz.h"

static const char *prog = "fuzz-replay";
static unsigned timeout = 60;
static bool no_fork;
static size_t inputs, failed, unreadable;

/* The whole file in a buffer of exactly its size, as libFuzzer gives it, so
 * that ASan sees any read past the end. */
static uint8_t *read_input(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	if (f == NULL)
		return NULL;
	uint8_t *buf = NULL;
	struct stat st;
	if (fstat(fileno(f), &st) == 0 && S_ISREG(st.st_mode)) {
		*len = (size_t)st.st_size;
		buf = malloc(*len > 0 ? *len : 1);
		if (buf != NULL && fread(buf, 1, *len, f) != *len) {
			free(buf);
			buf = NULL;
		}
	}
	fclose(f);
	return buf;
}

static void run_one(const char *path)
{
	size_t len = 0;
	uint8_t *buf = path != NULL ? read_input(path, &len) : malloc(1);
	if (path == NULL)
		path = "(empty input)";
	if (buf == NULL) {
		fprintf(stderr, "%s: cannot read '%s': %s\n", prog, path,
			errno != 0 ? strerror(errno) : "not a regular file");
		unreadable++;
		return;
	}
	inputs++;
	if (no_fork) {
		LLVMFuzzerTestOneInput(buf, len);
		free(buf);
		return;
	}
	fflush(NULL);
	pid_t pid = fork();
	if (pid == 0) {
		alarm(timeout);
		LLVMFuzzerTestOneInput(buf, len);
		free(buf);
		exit(0); /* atexit handlers and LeakSanitizer run here */
	}
	free(buf);
	int status = 0;
	if (pid < 0 || waitpid(pid, &status, 0) != pid) {
		fprintf(stderr, "%s: '%s': cannot run: %s\n", prog, path, strerror(errno));
		failed++;
		return;
	}
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		return;
	failed++;
	if (WIFSIGNALED(status))
		fprintf(stderr, "%s: '%s': FAILED: %s\n", prog, path,
			WTERMSIG(status) == SIGALRM ? "timeout" : strsignal(WTERMSIG(status)));
	else
		fprintf(stderr, "%s: '%s': FAILED: exit status %d\n", prog, path, WEXITSTATUS(status));
}

static int skip_dots(const struct dirent *de)
{
	return de->d_name[0] != '.';
}

static void run_path(const char *path)
{
	struct stat st;
	if (stat(path, &st) != 0 || !S_ISDIR(st.st_mode)) {
		run_one(path);
		return;
	}
	struct dirent **names;
	int n = scandir(path, &names, skip_dots, alphasort);
	if (n < 0) {
		fprintf(stderr, "%s: cannot read '%s': %s\n", prog, path, strerror(errno));
		unreadable++;
		return;
	}
	for (int i = 0; i < n; i++) {
		size_t size = strlen(path) + strlen(names[i]->d_name) + 2;
		char *file = malloc(size);
		if (file == NULL) {
			unreadable++;
		} else {
			snprintf(file, size, "%s/%s", path, names[i]->d_name);
			run_one(file);
			free(file);
		}
		free(names[i]);
	}
	free(names);
}

int main(int argc, char **argv)
{
	if (argc > 0 && argv[0][0] != '\0')
		prog = strrchr(argv[0], '/') ? strrchr(argv[0], '/') + 1 : argv[0];
	if (argc < 2) {
		fprintf(stderr, "usage: %s FILE|DIR...\n", prog);
		return 2;
	}
	const char *t = getenv("FUZZ_REPLAY_TIMEOUT");
	if (t != NULL && atoi(t) > 0)
		timeout = (unsigned)atoi(t);
	const char *nf = getenv("FUZZ_REPLAY_NOFORK");
	no_fork = nf != NULL && strcmp(nf, "1") == 0;
	run_one(NULL);
	for (int i = 1; i < argc; i++)
		run_path(argv[i]);
	printf("%s: %zu passed, %zu failed\n", prog, inputs - failed, failed);
	if (unreadable > 0)
		return 2;
	return failed > 0 ? 1 : 0;
}
