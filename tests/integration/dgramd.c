/* dgramd: a counting daemon on the skeleton and the datagram runner (common/server_dgram.c),
 * for tests/integration/server-dgram.sh and the datagram benchmark. Each datagram is
 * counted under its prefix: the bytes before its first ':' (at most 32; none: "-"). The
 * tick writes the counts and the runner's counters to the file DGRAMD_OUT (when set),
 * replaced atomically, every tick and once more after the stop (the final tick), as lines
 * `<prefix> <count>`, then `total`, `received`, `handled`, `dropped_full`, `truncated`.
 * From the environment, before the skeleton starts: DGRAMD_QUEUE_MAX, DGRAMD_DGRAM_MAX
 * (the runner's limits), DGRAMD_SLOW_US (the worker sleeps this long per datagram: a slow
 * consumer). Not installed. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "daemon.h"
#include "log.h"
#include "server_dgram.h"

#define DGRAMD_PREFIXES 64
#define DGRAMD_PREFIX_MAX 32

static const struct cfg_key dgramd_keys[] = {
	CFG_KEY_END,
};

static const struct cfg_default dgramd_defaults[] = {
	{ "listen", "unix:/run/dgramd/dgramd.sock" },
	{ "user", "dgramd" },
	{ NULL, NULL },
};

static const struct cfg_schema dgramd_schema = {
	.base = daemon_keys,
	.base_defaults = dgramd_defaults,
	.global = dgramd_keys,
};

static struct {
	pthread_mutex_t lock;
	size_t n;
	char prefix[DGRAMD_PREFIXES][DGRAMD_PREFIX_MAX + 1];
	unsigned long long count[DGRAMD_PREFIXES];
	unsigned long long total;
	long slow_us;
} dd = { .lock = PTHREAD_MUTEX_INITIALIZER };

/* dgramd_count() - count one datagram under its prefix (the table is full: under "*"). */
static void dgramd_count(const char *p, size_t n)
{
	const char *colon = memchr(p, ':', n < DGRAMD_PREFIX_MAX ? n : DGRAMD_PREFIX_MAX);
	char key[DGRAMD_PREFIX_MAX + 1] = "-";
	if (colon && colon > p) {
		memcpy(key, p, (size_t)(colon - p));
		key[colon - p] = '\0';
	}
	size_t i;
	for (i = 0; i < dd.n; i++)
		if (strcmp(dd.prefix[i], key) == 0)
			break;
	if (i == dd.n) {
		if (dd.n == DGRAMD_PREFIXES - 1)
			snprintf(key, sizeof(key), "*");
		for (i = 0; i < dd.n; i++)
			if (strcmp(dd.prefix[i], key) == 0)
				break;
		if (i == dd.n)
			snprintf(dd.prefix[dd.n++], sizeof(dd.prefix[0]), "%s", key);
	}
	dd.count[i]++;
	dd.total++;
}

static void dgramd_batch(struct daemon *d, const struct iovec *msgs, size_t n)
{
	(void)d;
	if (dd.slow_us > 0) {
		struct timespec ts = { 0, dd.slow_us * 1000L * (long)n };
		ts.tv_sec = ts.tv_nsec / 1000000000L;
		ts.tv_nsec %= 1000000000L;
		nanosleep(&ts, NULL);
	}
	pthread_mutex_lock(&dd.lock);
	for (size_t i = 0; i < n; i++)
		dgramd_count(msgs[i].iov_base, msgs[i].iov_len);
	pthread_mutex_unlock(&dd.lock);
}

static void dgramd_tick(struct daemon *d, bool stopping)
{
	(void)d;
	const char *out = getenv("DGRAMD_OUT");
	struct server_dgram_stats s;
	char tmp[4096];

	server_dgram_stats(&s);
	if (!out)
		return;
	snprintf(tmp, sizeof(tmp), "%s.tmp", out);
	FILE *f = fopen(tmp, "w");
	if (!f) {
		log_warn("%s", tmp);
		return;
	}
	pthread_mutex_lock(&dd.lock);
	for (size_t i = 0; i < dd.n; i++)
		fprintf(f, "%s %llu\n", dd.prefix[i], dd.count[i]);
	fprintf(f, "total %llu\n", dd.total);
	pthread_mutex_unlock(&dd.lock);
	fprintf(f, "received %llu\nhandled %llu\ndropped_full %llu\ntruncated %llu\n", s.received,
	        s.handled, s.dropped_full, s.truncated);
	if (fclose(f) != 0 || rename(tmp, out) < 0)
		log_warn("%s", out);
	if (stopping)
		log_info("counts written to %s", out);
}

static size_t dgramd_env(const char *name)
{
	const char *v = getenv(name);
	return v ? strtoul(v, NULL, 10) : 0;
}

static struct server_dgram_ops dgramd_ops = { .batch = dgramd_batch };

int main(int argc, char **argv)
{
	dgramd_ops.queue_max = dgramd_env("DGRAMD_QUEUE_MAX");
	dgramd_ops.dgram_max = dgramd_env("DGRAMD_DGRAM_MAX");
	dd.slow_us = (long)dgramd_env("DGRAMD_SLOW_US");
	struct daemon_spec spec = {
		.name = "dgramd",
		.summary = "datagram runner test daemon (counts datagrams by prefix)",
		.config_path = "/etc/postwarden/dgramd.conf",
		.schema = &dgramd_schema,
		.runner = server_dgram_runner(&dgramd_ops),
		.tick = dgramd_tick,
		.tick_ms = 1000,
	};
	return daemon_main(&spec, argc, argv);
}
