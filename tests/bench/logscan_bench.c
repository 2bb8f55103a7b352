/* logscan_bench: tlsrpt log ingestion (parser only). Generates a realistic Postfix 3.7
 * mail log in memory (N lines, default 1,000,000: smtpd, cleanup, qmgr, local, postscreen
 * and about 10% smtp lines, TLS successes and certificate failures, syslog timestamps)
 * or reads one (-f FILE), then times logscan_line() over every line against a plain scan
 * that only counts lines containing "postfix/smtp[" (memmem), best of 3 runs each.
 * -w FILE writes the generated log (to time grep on the same data). Prints lines/s. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "logscan.h"
#include "xalloc.h"

struct lb_log {
	char *data;
	size_t len, cap;
	size_t *off; /* line starts; off[n] = end */
	size_t n, ncap;
};

static void lb_add(struct lb_log *l, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void lb_add(struct lb_log *l, const char *fmt, ...)
{
	va_list ap;

	if (l->cap - l->len < 1024) {
		l->cap = l->cap ? 2 * l->cap : 1 << 20;
		l->data = realloc(l->data, l->cap);
		if (!l->data)
			abort();
	}
	if (l->n + 2 > l->ncap) {
		l->ncap = l->ncap ? 2 * l->ncap : 1 << 16;
		l->off = realloc(l->off, l->ncap * sizeof(*l->off));
		if (!l->off)
			abort();
	}
	l->off[l->n++] = l->len;
	va_start(ap, fmt);
	int k = vsnprintf(l->data + l->len, l->cap - l->len, fmt, ap);
	va_end(ap);
	l->len += (size_t)k;
	l->data[l->len++] = '\n';
	l->off[l->n] = l->len;
}

static unsigned lb_rand(unsigned *s)
{
	*s = *s * 1103515245u + 12345u;
	return (*s >> 8) & 0xffffff;
}

#define EST                                                                                        \
	"TLSv1.3 with cipher TLS_AES_256_GCM_SHA384 (256/256 bits) key-exchange X25519 "           \
	"server-signature ECDSA (prime256v1) server-digest SHA256"

static void lb_generate(struct lb_log *l, size_t want)
{
	unsigned seed = 42, q = 0x1A2B3C;
	long long t = 1795478400; /* 2026-11-24 */
	int smtp_pid = 30000, smtp_uses = 0;
	char ts[32];

	while (l->n < want) {
		t += lb_rand(&seed) % 3;
		time_t tt = (time_t)t;
		struct tm tm;
		gmtime_r(&tt, &tm);
		strftime(ts, sizeof(ts), "%b %e %H:%M:%S", &tm);
		unsigned r = lb_rand(&seed) % 100, dom = lb_rand(&seed) % 500;
		q += 7919;
		if (r < 15) {
			lb_add(l,
			       "%s mx postfix/postscreen[1201]: CONNECT from [203.0.113.%u]:%u to "
			       "[192.0.2.1]:25",
			       ts, dom % 250, 40000 + r);
			lb_add(l, "%s mx postfix/postscreen[1201]: PASS OLD [203.0.113.%u]:%u", ts,
			       dom % 250, 40000 + r);
			continue;
		}
		lb_add(l, "%s mx postfix/smtpd[%u]: connect from mail%u.example.org[198.51.100.%u]",
		       ts, 2000 + dom % 7, dom, dom % 250);
		lb_add(l, "%s mx postfix/smtpd[%u]: %X: client=mail%u.example.org[198.51.100.%u]",
		       ts, 2000 + dom % 7, q, dom, dom % 250);
		lb_add(l, "%s mx postfix/cleanup[%u]: %X: message-id=<%u.%X@example.org>", ts,
		       3000 + dom % 3, q, dom, q);
		lb_add(l,
		       "%s mx postfix/qmgr[1100]: %X: from=<sender%u@example.org>, size=%u, "
		       "nrcpt=1 (queue active)",
		       ts, q, dom, 2000 + r * 37);
		lb_add(l,
		       "%s mx postfix/smtpd[%u]: disconnect from mail%u.example.org[198.51.100.%u] "
		       "ehlo=1 mail=1 rcpt=1 data=1 quit=1 commands=5",
		       ts, 2000 + dom % 7, dom, dom % 250);
		if (r < 66) {
			lb_add(l,
			       "%s mx postfix/local[%u]: %X: to=<user%u@mx.example.net>, "
			       "relay=local, delay=0.05, delays=0.03/0/0/0.02, dsn=2.0.0, "
			       "status=sent (delivered to mailbox)",
			       ts, 4000 + dom % 5, q, dom);
		} else {
			if (++smtp_uses > 100) {
				smtp_pid++;
				smtp_uses = 0;
			}
			int pid = smtp_pid + (int)(dom % 5);
			if (r < 72) {
				lb_add(l,
				       "%s mx postfix/smtp[%d]: server certificate verification "
				       "failed for mx1.d%u.test[192.0.2.%u]:25: certificate has "
				       "expired",
				       ts, pid, dom, dom % 250);
				lb_add(l,
				       "%s mx postfix/smtp[%d]: Untrusted TLS connection "
				       "established to mx1.d%u.test[192.0.2.%u]:25: " EST,
				       ts, pid, dom, dom % 250);
				lb_add(l,
				       "%s mx postfix/smtp[%d]: %X: to=<u%u@d%u.test>, "
				       "relay=mx1.d%u.test[192.0.2.%u]:25, delay=0.07, "
				       "delays=0.04/0.03/0.01/0, dsn=4.7.5, status=deferred "
				       "(Server certificate not verified)",
				       ts, pid, q, dom, dom, dom, dom % 250);
			} else {
				lb_add(l,
				       "%s mx postfix/smtp[%d]: Verified TLS connection "
				       "established to mx1.d%u.test[192.0.2.%u]:25: " EST,
				       ts, pid, dom, dom % 250);
				lb_add(l,
				       "%s mx postfix/smtp[%d]: %X: to=<u%u@d%u.test>, "
				       "relay=mx1.d%u.test[192.0.2.%u]:25, delay=0.07, "
				       "delays=0.04/0.03/0.01/0, dsn=2.0.0, status=sent (250 2.0.0 "
				       "Ok: queued as %X)",
				       ts, pid, q, dom, dom, dom, dom % 250, q ^ 0x55);
			}
		}
		lb_add(l, "%s mx postfix/qmgr[1100]: %X: removed", ts, q);
	}
}

static void lb_read(struct lb_log *l, const char *path)
{
	FILE *f = fopen(path, "r");
	char line[8192];

	if (!f) {
		perror(path);
		exit(1);
	}
	while (fgets(line, sizeof(line), f)) {
		line[strcspn(line, "\n")] = '\0';
		lb_add(l, "%s", line);
	}
	fclose(f);
}

static double lb_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static unsigned long long lb_events;
static void lb_emit(const struct tlsrpt_event *ev, void *arg)
{
	(void)ev;
	(void)arg;
	lb_events++;
}

int main(int argc, char **argv)
{
	struct lb_log l = { 0 };
	size_t want = 1000000;
	const char *in = NULL, *out = NULL;
	int c;

	while ((c = getopt(argc, argv, "n:f:w:")) != -1) {
		if (c == 'n')
			want = strtoul(optarg, NULL, 10);
		else if (c == 'f')
			in = optarg;
		else if (c == 'w')
			out = optarg;
		else {
			fprintf(stderr, "usage: logscan_bench [-n LINES] [-f LOG] [-w OUT]\n");
			return 2;
		}
	}
	setenv("TZ", "UTC", 0);
	if (in)
		lb_read(&l, in);
	else
		lb_generate(&l, want);
	if (out) {
		FILE *f = fopen(out, "w");
		if (!f || fwrite(l.data, 1, l.len, f) != l.len || fclose(f) != 0) {
			perror(out);
			return 1;
		}
	}
	double best_p = 1e9, best_s = 1e9;
	unsigned long long plain = 0;
	struct logscan_stats st = { 0 };
	for (int run = 0; run < 3; run++) {
		double t0 = lb_now();
		plain = 0;
		for (size_t i = 0; i < l.n; i++)
			if (memmem(l.data + l.off[i], l.off[i + 1] - l.off[i] - 1, "postfix/smtp[",
			           13))
				plain++;
		double t1 = lb_now();
		lb_events = 0;
		struct logscan *ls = logscan_new(1795564800LL, NULL, lb_emit, NULL);
		for (size_t i = 0; i < l.n; i++)
			logscan_line(ls, l.data + l.off[i], l.off[i + 1] - l.off[i] - 1);
		logscan_finish(ls);
		double t2 = lb_now();
		logscan_stats(ls, &st);
		logscan_free(ls);
		if (t1 - t0 < best_s)
			best_s = t1 - t0;
		if (t2 - t1 < best_p)
			best_p = t2 - t1;
	}
	printf("lines %zu (%.1f MB), smtp lines %llu (%.1f%%), events %llu, malformed %llu, "
	       "dropped %llu\n",
	       l.n, (double)l.len / 1e6, st.smtp_lines, 100.0 * (double)st.smtp_lines / (double)l.n,
	       st.events, st.malformed, st.dropped);
	printf("plain memmem \"postfix/smtp[\": %llu lines, %.3f s, %.0f lines/s\n", plain, best_s,
	       (double)l.n / best_s);
	printf("logscan_line:                  %.3f s, %.0f lines/s (%.2fx the plain scan's "
	       "time)\n",
	       best_p, (double)l.n / best_p, best_p / best_s);
	free(l.data);
	free(l.off);
	return 0;
}
