/* replay: runs a libFuzzer harness without libFuzzer (the gcc build). Every
 * argument is a corpus directory (each regular file in it is one input) or a
 * single input file. Each input is run whole, and (when at most 8 KiB) also
 * every prefix of it, so boundary handling is exercised without mutation.
 * Exit 0 when every input ran (a harness reports bugs by crashing or aborting),
 * 1 on I/O errors or when no input was found.
 */
#include <dirent.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv) __attribute__((weak));

#define REPLAY_PREFIX_MAX 8192

static int replay_file(const char *path, size_t *runs)
{
	FILE *f = fopen(path, "rb");
	uint8_t *data = NULL;
	size_t len = 0, cap = 0, n;

	if (!f) {
		fprintf(stderr, "replay: %s: %s\n", path, strerror(errno));
		return -1;
	}
	do {
		if (len == cap) {
			cap = cap ? cap * 2 : 4096;
			data = realloc(data, cap);
			if (!data)
				abort();
		}
		n = fread(data + len, 1, cap - len, f);
		len += n;
	} while (n > 0);
	if (ferror(f)) {
		fprintf(stderr, "replay: %s: read error\n", path);
		fclose(f);
		free(data);
		return -1;
	}
	fclose(f);
	/* exact-size copies so AddressSanitizer (if any) sees over-reads */
	for (size_t cut = len <= REPLAY_PREFIX_MAX ? 0 : len; cut <= len; cut++) {
		uint8_t *copy = malloc(cut ? cut : 1);
		if (!copy)
			abort();
		memcpy(copy, data, cut);
		LLVMFuzzerTestOneInput(copy, cut);
		free(copy);
		(*runs)++;
	}
	free(data);
	return 0;
}

static int replay_path(const char *path, size_t *files, size_t *runs)
{
	struct stat st;

	if (stat(path, &st) < 0) {
		fprintf(stderr, "replay: %s: %s\n", path, strerror(errno));
		return -1;
	}
	if (!S_ISDIR(st.st_mode)) {
		(*files)++;
		return replay_file(path, runs);
	}
	DIR *d = opendir(path);
	if (!d) {
		fprintf(stderr, "replay: %s: %s\n", path, strerror(errno));
		return -1;
	}
	int rc = 0;
	struct dirent *e;
	while ((e = readdir(d))) {
		char full[4096];
		if (e->d_name[0] == '.')
			continue;
		snprintf(full, sizeof(full), "%s/%s", path, e->d_name);
		if (stat(full, &st) < 0 || !S_ISREG(st.st_mode))
			continue;
		(*files)++;
		if (replay_file(full, runs) < 0)
			rc = -1;
	}
	closedir(d);
	return rc;
}

int main(int argc, char **argv)
{
	size_t files = 0, runs = 0;
	int rc = 0;

	if (argc < 2) {
		fprintf(stderr, "usage: %s corpus-dir-or-file...\n", argv[0]);
		return 2;
	}
	if (LLVMFuzzerInitialize)
		LLVMFuzzerInitialize(&argc, &argv);
	for (int i = 1; i < argc; i++)
		if (replay_path(argv[i], &files, &runs) < 0)
			rc = 1;
	printf("replay: %zu inputs, %zu runs\n", files, runs);
	if (files == 0) {
		fprintf(stderr, "replay: no inputs found\n");
		rc = 1;
	}
	return rc;
}
