/* store_outage: load a redis store while tests/integration/store-redis.sh stops, kills and
 * restarts the server, and check what the callers saw.
 *
 * Usage: store_outage URI TIMEOUT_MS SECONDS RESTART_FILE
 * THREADS threads call incrby/get/set in a loop (20 ms apart) for SECONDS. At the end
 * (RESTART_FILE then holds the wall-clock ms at which the restarted server answered PONG):
 *  - every return is 0, STORE_NOTFOUND or one of the documented outage errnos;
 *  - no call took longer than TIMEOUT_MS + 200 ms;
 *  - the outage was seen (some calls failed);
 *  - a call succeeded within RECOVERY_MS of the restart, and each thread's last call did.
 * Exit 0 when all hold, 1 otherwise; prints one line of figures either way.
 */
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "store.h"

#define THREADS 4
#define RECOVERY_MS 3000

struct stats {
	pthread_mutex_t mu;
	long calls, failures, bad_rc, slow;
	long max_ms;
	int last_bad;
	long long fail_by_errno[8];
	long long first_fail_ms;
	long long success_ms[4096]; /* wall-clock start of each success after the first failure */
	int nsuccess;
};

static const int outage_errnos[] = { ECONNREFUSED, ENOENT, ECONNRESET, EPIPE, ETIMEDOUT, EAGAIN };
#define NERR (sizeof(outage_errnos) / sizeof(outage_errnos[0]))

static struct store *st;
static long timeout_ms;
static long long end_ms;
static struct stats S = { .mu = PTHREAD_MUTEX_INITIALIZER };

static long long wall_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static long long mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void record(long long start_wall, long ms, int rc)
{
	pthread_mutex_lock(&S.mu);
	S.calls++;
	if (ms > S.max_ms)
		S.max_ms = ms;
	if (ms >= timeout_ms + 200)
		S.slow++;
	if (rc == 0 || rc == STORE_NOTFOUND) {
		if (S.failures &&
		    S.nsuccess < (int)(sizeof(S.success_ms) / sizeof(S.success_ms[0])))
			S.success_ms[S.nsuccess++] = start_wall;
	} else {
		bool known = false;
		for (size_t i = 0; i < NERR; i++) {
			if (rc == -outage_errnos[i]) {
				S.fail_by_errno[i]++;
				known = true;
			}
		}
		if (!known) {
			S.bad_rc++;
			S.last_bad = rc;
		}
		if (!S.failures)
			S.first_fail_ms = start_wall;
		S.failures++;
	}
	pthread_mutex_unlock(&S.mu);
}

static void *run(void *arg)
{
	int id = (int)(long)arg;
	char key[64];
	int last = 0;

	snprintf(key, sizeof(key), "pw:test:outage:%d", id);
	while (mono_ms() < end_ms) {
		for (int op = 0; op < 3; op++) {
			long long w = wall_ms(), t0 = mono_ms();
			char *v = NULL;
			size_t len;
			switch (op) {
			case 0:
				last = store_incrby(st, "pw:test:outage:n", 1, NULL);
				break;
			case 1:
				last = store_get(st, key, &v, &len);
				free(v);
				break;
			default:
				last = store_set(st, key, "x", 1, 60);
				break;
			}
			record(w, (long)(mono_ms() - t0), last);
		}
		struct timespec ts = { 0, 20 * 1000000 };
		nanosleep(&ts, NULL);
	}
	return (void *)(long)(last == 0 || last == STORE_NOTFOUND);
}

int main(int argc, char **argv)
{
	pthread_t t[THREADS];
	bool ok = true;
	int last_ok = 0;

	if (argc != 5) {
		fprintf(stderr, "usage: store_outage URI TIMEOUT_MS SECONDS RESTART_FILE\n");
		return 2;
	}
	timeout_ms = atol(argv[2]);
	end_ms = mono_ms() + atol(argv[3]) * 1000;
	st = store_open(argv[1]);
	if (!st) {
		fprintf(stderr, "store_open(%s): %s\n", argv[1], strerror(errno));
		return 1;
	}
	for (long i = 0; i < THREADS; i++)
		pthread_create(&t[i], NULL, run, (void *)i);
	for (int i = 0; i < THREADS; i++) {
		void *r;
		pthread_join(t[i], &r);
		last_ok += r != NULL;
	}
	store_close(st);

	long long restart = 0, recovered = -1;
	FILE *f = fopen(argv[4], "r");
	if (!f || fscanf(f, "%lld", &restart) != 1)
		restart = 0;
	if (f)
		fclose(f);
	for (int i = 0; restart && i < S.nsuccess; i++)
		if (S.success_ms[i] >= restart && (recovered < 0 || S.success_ms[i] < recovered))
			recovered = S.success_ms[i];

	printf("calls %ld failures %ld (", S.calls, S.failures);
	for (size_t i = 0; i < NERR; i++)
		printf("%s%s %lld", i ? ", " : "", strerror(outage_errnos[i]), S.fail_by_errno[i]);
	printf(") unexpected %ld max %ld ms slow %ld recovery %lld ms last-ok %d/%d\n", S.bad_rc,
	       S.max_ms, S.slow, recovered < 0 ? -1 : recovered - restart, last_ok, THREADS);
	if (S.bad_rc) {
		printf("FAIL: unexpected return %d (%s)\n", S.last_bad, strerror(-S.last_bad));
		ok = false;
	}
	if (S.slow) {
		printf("FAIL: %ld calls took >= %ld ms\n", S.slow, timeout_ms + 200);
		ok = false;
	}
	if (!S.failures) {
		printf("FAIL: the outage was not seen\n");
		ok = false;
	}
	if (!restart || recovered < 0 || recovered - restart > RECOVERY_MS) {
		printf("FAIL: no success within %d ms of the restart\n", RECOVERY_MS);
		ok = false;
	}
	if (last_ok != THREADS) {
		printf("FAIL: %d threads ended on a failure\n", THREADS - last_ok);
		ok = false;
	}
	return ok ? 0 : 1;
}
