/* Unit tests for tlsrpt/logscan.c: the captured Postfix 3.7.11 log
 * (tests/data/postfix-3.7.11-tls-maillog.txt) gives its expected events; synthetic lines
 * in the same formats cover the timestamp forms, the year and time zone, several
 * recipients, MX fallback, tlsproxy (its handshake failures too), reuse, STARTTLS refusal, TLSRPT:
 * lines, interleaved processes, bounds and garbage. Each event is rendered as one string for
 * comparison: "DOMAIN ok" or "DOMAIN fail RESULT MX IP [REASON]". */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "check_common.h"
#include "testtime.h"
#include "logscan.h"

#define T_EVENTS_MAX 64

static char t_ev[T_EVENTS_MAX][512];
static long long t_time[T_EVENTS_MAX];
static int t_type[T_EVENTS_MAX];
static const char *t_sip[T_EVENTS_MAX];
static size_t t_n;
static unsigned long long t_total;

static void t_emit(const struct tlsrpt_event *ev, void *arg)
{
	const struct tlsrpt_policy *p = &ev->policies[0];

	(void)arg;
	ck_assert_uint_eq(ev->n_policies, 1);
	ck_assert_ptr_nonnull(ev->domain);
	t_total++;
	if (t_n >= T_EVENTS_MAX)
		return;
	t_time[t_n] = ev->time;
	t_type[t_n] = p->type;
	t_sip[t_n] = NULL;
	if (p->success) {
		ck_assert_uint_eq(p->n_details, 0);
		snprintf(t_ev[t_n], sizeof(t_ev[0]), "%s ok", ev->domain);
	} else {
		const struct tlsrpt_detail *d = &p->details[0];
		ck_assert_uint_eq(p->n_details, 1);
		t_sip[t_n] = d->sending_ip;
		snprintf(t_ev[t_n], sizeof(t_ev[0]), "%s fail %d %s %s%s%s", ev->domain, d->result,
		         d->mx_host ? d->mx_host : "-", d->receiving_ip ? d->receiving_ip : "-",
		         d->reason ? " " : "", d->reason ? d->reason : "");
	}
	t_n++;
}

/* 2026-11-24 12:00:00 UTC: after every line of the captured log */
#define T_REF 1795521600LL

static struct logscan *t_new(long long ref)
{
	t_n = 0;
	t_total = 0;
	struct logscan *ls = logscan_new(ref, NULL, t_emit, NULL);
	ck_assert_ptr_nonnull(ls);
	return ls;
}

/* t_feed() - each '\n'-separated line of @text; Return: the sum of the return values. */
static int t_feed(struct logscan *ls, const char *text)
{
	int sum = 0;

	while (*text) {
		const char *nl = strchr(text, '\n');
		size_t n = nl ? (size_t)(nl - text) : strlen(text);
		sum += logscan_line(ls, text, n);
		text += n + (nl ? 1 : 0);
	}
	return sum;
}

static void t_expect(const char *const *want, size_t n)
{
	for (size_t i = 0; i < n && i < t_n; i++)
		ck_assert_str_eq(t_ev[i], want[i]);
	ck_assert_uint_eq(t_n, n);
}
#define T_EXPECT(...)                                                                              \
	do {                                                                                       \
		const char *const w_[] = { __VA_ARGS__ };                                          \
		t_expect(w_, sizeof(w_) / sizeof(w_[0]));                                          \
	} while (0)

#define EST                                                                                        \
	"TLSv1.3 with cipher TLS_AES_256_GCM_SHA384 (256/256 bits) key-exchange X25519 "           \
	"server-signature ECDSA (prime256v1) server-digest SHA256"
#define H "Dec  2 23:55:00 sender postfix/smtp"
#define DELAYS "delay=0.07, delays=0.04/0.03/0.01/0"

START_TEST(captured_log)
{
	const char *src = getenv("POSTWARDEN_SOURCE");
	char path[4096], line[4096];
	struct logscan_stats st;

	t_tz("UTC");
	snprintf(path, sizeof(path), "%s/tests/data/postfix-3.7.11-tls-maillog.txt",
	         src ? src : ".");
	FILE *f = fopen(path, "r");
	ck_assert_msg(f != NULL, "%s: %s", path, strerror(errno));
	struct logscan *ls = t_new(T_REF);
	int interesting = 0;
	while (fgets(line, sizeof(line), f)) {
		size_t n = strcspn(line, "\n");
		int rc = logscan_line(ls, line, n);
		ck_assert_int_ge(rc, 0);
		interesting += rc;
	}
	fclose(f);
	logscan_finish(ls);
	T_EXPECT("d1.test ok", "d2.test fail 201 mx1.d2.test 127.0.18.26",
	         "d3.test fail 204 mx1.d3.test 127.0.18.27",
	         "d4.test fail 202 mx1.d4.test 127.0.18.28",
	         "d5.test fail 205 mx1.d5.test 127.0.18.29 self-signed certificate",
	         "nopol.test ok");
	ck_assert_int_eq(t_time[0], t_utc(2026, 11, 24, 0, 41, 40));
	ck_assert_int_eq(t_time[1], t_utc(2026, 11, 24, 0, 41, 41));
	for (size_t i = 0; i < t_n; i++)
		ck_assert_int_eq(t_type[i], TLSRPT_POLICY_NONE);
	logscan_stats(ls, &st);
	ck_assert_uint_eq(st.lines, 59);
	ck_assert_uint_eq(st.smtp_lines, 15);
	ck_assert_uint_eq(st.events, 6);
	ck_assert_uint_eq(st.malformed, 0);
	ck_assert_uint_eq(st.dropped, 0);
	ck_assert_int_eq(interesting, 15);
	logscan_free(ls);
}
END_TEST

/* one success for d.test, logged with timestamp @ts; Return: its time */
static long long t_time_of(long long ref, const char *ts)
{
	char buf[1024];
	struct logscan *ls = t_new(ref);

	snprintf(buf, sizeof(buf),
	         "%s sender postfix/smtp[7]: Verified TLS connection established to "
	         "mx.d.test[192.0.2.1]:25: " EST
	         "\n%s sender postfix/smtp[7]: 1A2B3C: to=<u@d.test>, "
	         "relay=mx.d.test[192.0.2.1]:25, " DELAYS ", dsn=2.0.0, status=sent (250 2.0.0 Ok)",
	         ts, ts);
	ck_assert_int_eq(t_feed(ls, buf), 2);
	logscan_free(ls);
	ck_assert_uint_eq(t_n, 1);
	return t_time[0];
}

START_TEST(timestamp_forms)
{
	long long ref = t_utc(2026, 12, 3, 6, 0, 0), want = t_utc(2026, 12, 2, 23, 55, 0);

	t_tz("UTC");
	ck_assert_int_eq(t_time_of(ref, "Dec  2 23:55:00"), want);
	ck_assert_int_eq(t_time_of(ref, "Dec 02 23:55:00"), want);
	ck_assert_int_eq(t_time_of(ref, "2026-12-02T23:55:00+0000"), want);
	ck_assert_int_eq(t_time_of(ref, "2026-12-02T23:55:00+00:00"), want);
	ck_assert_int_eq(t_time_of(ref, "2026-12-02T23:55:00Z"), want);
	ck_assert_int_eq(t_time_of(ref, "2026-12-02T23:55:00.123456Z"), want);
	ck_assert_int_eq(t_time_of(ref, "2026-12-03T00:55:00.5+01:00"), want);
	ck_assert_int_eq(t_time_of(ref, "2026-12-02T20:55:00-0300"), want);
	ck_assert_int_eq(t_time_of(ref, "2026-12-02T23:55:00"), want); /* no zone: local */
	ck_assert_int_eq(t_time_of(ref, "Dec 12 01:02:03"), t_utc(2025, 12, 12, 1, 2, 3));
}
END_TEST

START_TEST(year_rollover)
{
	long long ref = t_utc(2027, 1, 1, 0, 10, 0);

	t_tz("UTC");
	ck_assert_int_eq(t_time_of(ref, "Dec 31 23:59:59"), t_utc(2026, 12, 31, 23, 59, 59));
	ck_assert_int_eq(t_time_of(ref, "Jan  1 00:05:00"), t_utc(2027, 1, 1, 0, 5, 0));
	/* a line a few hours "ahead" of the reference (clock skew) stays in its year */
	ck_assert_int_eq(t_time_of(ref, "Jan  1 03:00:00"), t_utc(2027, 1, 1, 3, 0, 0));
	/* a follower moves its reference on: the same date is then this year's */
	{
		struct logscan *ls = t_new(t_utc(2026, 12, 31, 23, 0, 0));
		const char *l = "Jan  1 00:05:00 sender postfix/smtp[7]: Verified TLS connection "
		                "established to mx.d.test[192.0.2.1]:25: x";
		const char *to = "Jan  1 00:05:00 sender postfix/smtp[7]: 1A: to=<u@d.test>, "
		                 "relay=mx.d.test[192.0.2.1]:25, dsn=2.0.0, status=sent (250 Ok)";
		logscan_set_ref_time(ls, t_utc(2027, 1, 1, 0, 6, 0));
		logscan_line(ls, l, strlen(l));
		logscan_line(ls, to, strlen(to));
		ck_assert_uint_eq(t_n, 1);
		ck_assert_int_eq(t_time[0], t_utc(2027, 1, 1, 0, 5, 0));
		logscan_free(ls);
	}
	/* a reference in June: December is last year's */
	ck_assert_int_eq(t_time_of(t_utc(2027, 6, 1, 0, 0, 0), "Dec  2 23:55:00"),
	                 t_utc(2026, 12, 2, 23, 55, 0));
}
END_TEST

START_TEST(time_zone)
{
	long long ref = t_utc(2026, 12, 3, 6, 0, 0);

	t_tz("CET-1CEST,M3.5.0,M10.5.0/3");
	ck_assert_int_eq(t_time_of(ref, "Jul 15 12:00:00"), t_utc(2026, 7, 15, 10, 0, 0));
	ck_assert_int_eq(t_time_of(ref, "Jan 15 12:00:00"), t_utc(2026, 1, 15, 11, 0, 0));
	ck_assert_int_eq(t_time_of(ref, "Dec 02 23:55:00"), t_utc(2026, 12, 2, 22, 55, 0));
	ck_assert_int_eq(t_time_of(ref, "2026-07-15T12:00:00"), t_utc(2026, 7, 15, 10, 0, 0));
	/* an explicit offset wins over TZ */
	ck_assert_int_eq(t_time_of(ref, "2026-07-15T12:00:00+00:00"), t_utc(2026, 7, 15, 12, 0, 0));
	/* 30 s apart across a cached minute */
	ck_assert_int_eq(t_time_of(ref, "Jul 15 12:00:59"), t_utc(2026, 7, 15, 10, 0, 59));
	t_tz("UTC");
}
END_TEST

START_TEST(three_recipients)
{
	struct logscan *ls = t_new(T_REF);

	t_tz("UTC");
	t_feed(ls,
	       H "[300]: Verified TLS connection established to mx1.d1.test[127.0.18.25]:25: " EST
	         "\n" H "[300]: 4A1: to=<a@d1.test>, relay=mx1.d1.test[127.0.18.25]:25, " DELAYS
	         ", dsn=2.0.0, status=sent (250 2.0.0 Ok)\n" H
	         "[300]: 4A1: to=<b@d1.test>, relay=mx1.d1.test[127.0.18.25]:25, " DELAYS
	         ", dsn=2.0.0, status=sent (250 2.0.0 Ok)\n" H
	         "[300]: 4A1: to=<c@D1.TEST>, relay=mx1.d1.test[127.0.18.25]:25, " DELAYS
	         ", dsn=2.0.0, status=sent (250 2.0.0 Ok)\n");
	logscan_finish(ls);
	T_EXPECT("d1.test ok");
	logscan_free(ls);
}
END_TEST

START_TEST(mx_fallback)
{
	struct logscan *ls = t_new(T_REF);
	struct logscan_stats st;

	t_tz("UTC");
	t_feed(ls,
	       H "[301]: server certificate verification failed for mx1.d6.test[127.0.18.30]:25: "
	         "num=62:hostname mismatch\n" H
	         "[301]: Untrusted TLS connection established to mx1.d6.test[127.0.18.30]:25: " EST
	         "\n" H "[301]: 5B2: Server certificate not verified\n" H
	         "[301]: Verified TLS connection established to mx2.d6.test[127.0.18.31]:25: " EST
	         "\n" H "[301]: 5B2: to=<u@d6.test>, relay=mx2.d6.test[127.0.18.31]:25, " DELAYS
	         ", dsn=2.0.0, status=sent (250 2.0.0 Ok)\n");
	T_EXPECT("d6.test fail 202 mx1.d6.test 127.0.18.30", "d6.test ok");
	logscan_stats(ls, &st);
	ck_assert_uint_eq(st.events, 2);
	logscan_free(ls);
}
END_TEST

START_TEST(tlsproxy)
{
	struct logscan *ls = t_new(T_REF);

	t_tz("UTC");
	/* reuse on: tlsproxy logs the handshake, then smtp does: one session */
	t_feed(ls, "Dec  2 23:55:00 sender postfix/tlsproxy[400]: Verified TLS connection "
	           "established to mx1.d1.test[127.0.18.25]:25: " EST "\n" H
	           "[401]: Verified TLS connection established to mx1.d1.test[127.0.18.25]:25: " EST
	           "\n" H "[401]: 6C3: to=<u@d1.test>, relay=mx1.d1.test[127.0.18.25]:25, " DELAYS
	           ", dsn=2.0.0, status=sent (250 2.0.0 Ok)\n");
	T_EXPECT("d1.test ok");
	/* the verification failure logged by tlsproxy belongs to smtp's handshake line */
	t_feed(ls,
	       "Dec  2 23:55:01 sender postfix/tlsproxy[400]: server certificate verification "
	       "failed for mx1.d3.test[127.0.18.27]:25: certificate has expired\n"
	       "Dec  2 23:55:01 sender postfix/tlsproxy[400]: Untrusted TLS connection established "
	       "to mx1.d3.test[127.0.18.27]:25: " EST "\n" H
	       "[402]: Untrusted TLS connection established to mx1.d3.test[127.0.18.27]:25: " EST
	       "\n" H "[402]: 6C4: to=<u@d3.test>, relay=mx1.d3.test[127.0.18.27]:25, " DELAYS
	       ", dsn=4.7.5, status=deferred (Server certificate not verified)\n");
	T_EXPECT("d1.test ok", "d3.test fail 204 mx1.d3.test 127.0.18.27");
	logscan_free(ls);
}
END_TEST

#define PX "Dec  2 23:55:00 sender postfix/tlsproxy"

START_TEST(tlsproxy_handshake_failure)
{
	struct logscan *ls = t_new(T_REF);
	struct logscan_stats st;

	t_tz("UTC");
	/* reuse on (as tlsrpt-postfixlog-tlsproxy logs it): tlsproxy makes the handshake and
	 * smtp logs no SSL_connect error; the last MX, two recipients: one session, its host
	 * from smtp's relay */
	t_feed(ls,
	       PX "[700]: CONNECT to [192.0.2.6]:25\n" PX
	          "[700]: warning: TLS library problem: error:0A00042E:SSL routines::tlsv1 "
	          "alert protocol version:../ssl/record/rec_layer_s3.c:1602:SSL alert number "
	          "70:\n" PX "[700]: TLS handshake failed for service=smtp peer=[192.0.2.6]:25\n" PX
	          "[700]: DISCONNECT [192.0.2.6]:25\n" H
	          "[701]: H1: to=<a@h.test>, relay=mx1.h.test[192.0.2.6]:25, " DELAYS
	          ", dsn=4.7.5, status=deferred (Cannot start TLS: handshake failure)\n" H
	          "[701]: H1: to=<b@h.test>, relay=mx1.h.test[192.0.2.6]:25, " DELAYS
	          ", dsn=4.7.5, status=deferred (Cannot start TLS: handshake failure)\n");
	T_EXPECT("h.test fail 205 mx1.h.test 192.0.2.6 tls-handshake-failure");
	/* a non-final MX: smtp's line names no host, tlsproxy's only the address */
	t_feed(ls, PX
	       "[700]: CONNECT to [192.0.2.6]:25\n" PX
	       "[700]: TLS handshake failed for service=smtp peer=[192.0.2.6]:25\n" H
	       "[702]: H2: Cannot start TLS: handshake failure\n" PX
	       "[700]: CONNECT to [192.0.2.7]:25\n" PX
	       "[700]: Verified TLS connection established to mx2.i.test[192.0.2.7]:25: " EST "\n" H
	       "[702]: Verified TLS connection established to mx2.i.test[192.0.2.7]:25: " EST "\n" H
	       "[702]: H2: to=<u@i.test>, relay=mx2.i.test[192.0.2.7]:25, " DELAYS
	       ", dsn=2.0.0, status=sent (250 2.0.0 Ok)\n");
	T_EXPECT("h.test fail 205 mx1.h.test 192.0.2.6 tls-handshake-failure",
	         "i.test fail 205 - 192.0.2.6 tls-handshake-failure", "i.test ok");
	/* not a delivery's: the server role ("CONNECT from"), a failure without its CONNECT,
	 * one whose CONNECT another tlsproxy process logged; and without tlsproxy at all a
	 * "Cannot start TLS" is a local problem: nothing counted */
	t_feed(ls, PX "[700]: CONNECT from [198.51.100.9]:41234\n" PX
	              "[700]: TLS handshake failed for service=smtpd peer=[198.51.100.9]:41234\n" PX
	              "[700]: TLS handshake failed for service=smtp peer=[192.0.2.8]:25\n" PX
	              "[703]: CONNECT to [192.0.2.9]:25\n" PX
	              "[704]: TLS handshake failed for service=smtp peer=[192.0.2.9]:25\n" H
	              "[705]: H3: Cannot start TLS: handshake failure\n" H
	              "[705]: H3: to=<u@j.test>, relay=mx1.j.test[192.0.2.8]:25, " DELAYS
	              ", dsn=4.7.5, status=deferred (Cannot start TLS: handshake failure)\n" H
	              "[706]: warning: connect to private/tlsproxy service: No such file or "
	              "directory\n" H
	              "[706]: H4: to=<u@k.test>, relay=mx1.k.test[192.0.2.9]:25, " DELAYS
	              ", dsn=4.7.5, status=deferred (Cannot start TLS: handshake failure)\n");
	ck_assert_uint_eq(t_n, 3);
	/* no reuse: the SSL_connect error is the session, its "Cannot start TLS" lines (non-final
	 * and final) add none and leave a tlsproxy failure for the same address waiting, which
	 * a proxied delivery then takes */
	t_feed(ls, PX "[700]: CONNECT to [192.0.2.11]:25\n" PX
	              "[700]: TLS handshake failed for service=smtp peer=[192.0.2.11]:25\n" H
	              "[707]: SSL_connect error to mx1.l.test[192.0.2.11]:25: -1\n" H
	              "[707]: H5: Cannot start TLS: handshake failure\n" H
	              "[707]: SSL_connect error to mx2.l.test[192.0.2.12]:25: -1\n" H
	              "[707]: H5: to=<u@l.test>, relay=mx2.l.test[192.0.2.12]:25, " DELAYS
	              ", dsn=4.7.5, status=deferred (Cannot start TLS: handshake failure)\n" H
	              "[708]: H6: to=<u@m.test>, relay=mx1.m.test[192.0.2.11]:25, " DELAYS
	              ", dsn=4.7.5, status=deferred (Cannot start TLS: handshake failure)\n");
	T_EXPECT("h.test fail 205 mx1.h.test 192.0.2.6 tls-handshake-failure",
	         "i.test fail 205 - 192.0.2.6 tls-handshake-failure", "i.test ok",
	         "l.test fail 205 mx1.l.test 192.0.2.11 tls-handshake-failure",
	         "l.test fail 205 mx2.l.test 192.0.2.12 tls-handshake-failure",
	         "m.test fail 205 mx1.m.test 192.0.2.11 tls-handshake-failure");
	/* a tlsproxy failure two minutes old is not taken */
	t_feed(ls, "Dec  2 23:53:00 sender postfix/tlsproxy[700]: CONNECT to [192.0.2.13]:25\n"
	           "Dec  2 23:53:00 sender postfix/tlsproxy[700]: TLS handshake failed for "
	           "service=smtp peer=[192.0.2.13]:25\n" H
	           "[709]: H7: to=<u@n.test>, relay=mx1.n.test[192.0.2.13]:25, " DELAYS
	           ", dsn=4.7.5, status=deferred (Cannot start TLS: handshake failure)\n");
	logscan_finish(ls);
	logscan_stats(ls, &st);
	ck_assert_uint_eq(st.events, 6);
	ck_assert_uint_eq(st.malformed, 0);
	logscan_free(ls);
}
END_TEST

START_TEST(reused)
{
	struct logscan *ls = t_new(T_REF);

	t_tz("UTC");
	ck_assert_int_eq(
	        t_feed(ls, H
	               "[500]: Verified TLS connection reused to mx1.d1.test[127.0.18.25]:25: " EST
	               "\n" H
	               "[500]: 7D1: to=<u@d1.test>, relay=mx1.d1.test[127.0.18.25]:25, " DELAYS
	               ", dsn=2.0.0, status=sent (250 2.0.0 Ok)\n"),
	        2);
	ck_assert_uint_eq(t_n, 0);
	logscan_free(ls);
}
END_TEST

START_TEST(starttls_not_offered)
{
	struct logscan *ls = t_new(T_REF);

	t_tz("UTC");
	/* three recipients of one delivery: one session */
	t_feed(ls, H "[600]: 8E1: to=<a@d2.test>, relay=mx1.d2.test[127.0.18.26]:25, " DELAYS
	             ", dsn=4.7.4, status=deferred (TLS is required, but was not offered by host "
	             "mx1.d2.test[127.0.18.26])\n" H
	             "[600]: 8E1: to=<b@d2.test>, relay=mx1.d2.test[127.0.18.26]:25, " DELAYS
	             ", dsn=4.7.4, status=deferred (TLS is required, but was not offered by host "
	             "mx1.d2.test[127.0.18.26])\n" H
	             "[600]: 8E1: to=<c@d2.test>, relay=mx1.d2.test[127.0.18.26]:25, " DELAYS
	             ", dsn=4.7.4, status=deferred (TLS is required, but was not offered by host "
	             "mx1.d2.test[127.0.18.26])\n");
	T_EXPECT("d2.test fail 201 mx1.d2.test 127.0.18.26");
	/* the first MX refuses (no to=), the second too: two sessions */
	t_feed(ls, H "[600]: 8E2: TLS is required, but was not offered by host "
	             "mx1.d7.test[127.0.18.32]\n" H
	             "[600]: 8E2: to=<a@d7.test>, relay=mx2.d7.test[127.0.18.33]:25, " DELAYS
	             ", dsn=4.7.4, status=deferred (TLS is required, but was not offered by host "
	             "mx2.d7.test[127.0.18.33])\n");
	T_EXPECT("d2.test fail 201 mx1.d2.test 127.0.18.26",
	         "d7.test fail 201 mx1.d7.test 127.0.18.32",
	         "d7.test fail 201 mx2.d7.test 127.0.18.33");
	/* the same message retried later by the same process: a new attempt */
	t_feed(ls, H "[600]: 8E1: to=<a@d2.test>, relay=mx1.d2.test[127.0.18.26]:25, " DELAYS
	             ", dsn=4.7.4, status=deferred (TLS is required, but was not offered by host "
	             "mx1.d2.test[127.0.18.26])\n");
	ck_assert_uint_eq(t_n, 4);
	/* ... and again, with no line of that process in between: 4.5 minutes later, a new
	 * attempt; its recipients' lines in that second and the next: the same attempt */
#define R1                                                                                         \
	"[600]: 8E1: to=<a@d2.test>, relay=mx1.d2.test[127.0.18.26]:25, " DELAYS                   \
	", dsn=4.7.4, status=deferred (TLS is required, but was not offered by host "              \
	"mx1.d2.test[127.0.18.26])\n"
	t_feed(ls, "Dec  2 23:59:30 sender postfix/smtp" R1);
	ck_assert_uint_eq(t_n, 5);
	t_feed(ls,
	       "Dec  2 23:59:30 sender postfix/smtp" R1 "Dec  2 23:59:31 sender postfix/smtp" R1);
	ck_assert_uint_eq(t_n, 5);
#undef R1
	logscan_free(ls);
}
END_TEST

START_TEST(tlsrpt_lines)
{
	struct logscan *ls = t_new(T_REF);
	struct logscan_stats st;

	t_tz("UTC");
	t_feed(ls, H
	       "[700]: Verified TLS connection established to mail.example.com[192.0.2.7]:25: " EST
	       "\n" H "[700]: TLSRPT: status=success, domain=example.com, "
	       "receiving_mx=mail.example.com[192.0.2.7]\n" H
	       "[700]: 9F1: to=<u@example.com>, relay=mail.example.com[192.0.2.7]:25, " DELAYS
	       ", dsn=2.0.0, status=sent (250 2.0.0 Ok)\n" H
	       "[701]: certificate verification failed for mx.example.net[192.0.2.8]:25: "
	       "self-signed certificate\n" H "[701]: TLSRPT: status=failure, domain=Example.NET, "
	       "receiving_mx=mx.example.net[192.0.2.8], failure_type=validation_failure, "
	       "failure_reason=self-signed_certificate\n" H
	       "[701]: Untrusted TLS connection established to mx.example.net[192.0.2.8]:25: " EST
	       "\n" H "[701]: 9F2: to=<u@example.net>, relay=mx.example.net[192.0.2.8]:25, " DELAYS
	       ", dsn=4.7.5, status=deferred (Server certificate not verified)\n");
	T_EXPECT("example.com ok",
	         "example.net fail 205 mx.example.net 192.0.2.8 self-signed_certificate");
	/* from now on only TLSRPT: lines count */
	t_feed(ls,
	       H "[702]: Verified TLS connection established to mx1.d1.test[127.0.18.25]:25: " EST
	         "\n" H "[702]: 9F3: to=<u@d1.test>, relay=mx1.d1.test[127.0.18.25]:25, " DELAYS
	         ", dsn=2.0.0, status=sent (250 2.0.0 Ok)\n");
	ck_assert_uint_eq(t_n, 2);
	ck_assert_int_eq(t_feed(ls, H "[703]: TLSRPT: status=failure, domain=d1.test, "
	                              "receiving_mx=mx1.d1.test[127.0.18.25], "
	                              "failure_type=starttls_not_supported\n"),
	                 1);
	T_EXPECT("example.com ok",
	         "example.net fail 205 mx.example.net 192.0.2.8 self-signed_certificate",
	         "d1.test fail 201 mx1.d1.test 127.0.18.25");
	/* malformed ones */
	ck_assert_int_eq(t_feed(ls, H "[703]: TLSRPT: status=maybe, domain=d1.test\n"), -EINVAL);
	ck_assert_int_eq(
	        t_feed(ls,
	               H "[703]: TLSRPT: status=failure, domain=d1.test, failure_type=nonsense\n"),
	        -EINVAL);
	ck_assert_int_eq(t_feed(ls, H "[703]: TLSRPT: status=failure, domain=d1.test\n"), -EINVAL);
	ck_assert_int_eq(t_feed(ls, H "[703]: TLSRPT: domain=d1.test\n"), -EINVAL);
	logscan_stats(ls, &st);
	ck_assert_uint_eq(st.malformed, 4);
	ck_assert_uint_eq(st.events, 3);
	logscan_free(ls);
}
END_TEST

START_TEST(interleaved)
{
	struct logscan *ls = t_new(T_REF);

	t_tz("UTC");
	t_feed(ls,
	       H "[801]: server certificate verification failed for mx1.d3.test[127.0.18.27]:25: "
	         "certificate has expired\n" H
	         "[802]: Verified TLS connection established to mx1.d1.test[127.0.18.25]:25: " EST
	         "\n" H
	         "[801]: Untrusted TLS connection established to mx1.d3.test[127.0.18.27]:25: " EST
	         "\n"
	         "Dec  2 23:55:00 sender postfix/qmgr[22007]: 1111: removed\n" H
	         "[803]: certificate verification failed for mx1.d5.test[127.0.18.29]:25: "
	         "untrusted issuer /CN=Test CA\n" H
	         "[802]: AAA1: to=<u@d1.test>, relay=mx1.d1.test[127.0.18.25]:25, " DELAYS
	         ", dsn=2.0.0, status=sent (250 2.0.0 Ok)\n" H
	         "[803]: Untrusted TLS connection established to mx1.d5.test[127.0.18.29]:25: " EST
	         "\n" H "[801]: AAA2: to=<u@d3.test>, relay=mx1.d3.test[127.0.18.27]:25, " DELAYS
	         ", dsn=4.7.5, status=deferred (Server certificate not verified)\n" H
	         "[803]: AAA3: to=<u@d5.test>, relay=mx1.d5.test[127.0.18.29]:25, " DELAYS
	         ", dsn=4.7.5, status=deferred (Server certificate not verified)\n");
	T_EXPECT("d1.test ok", "d3.test fail 204 mx1.d3.test 127.0.18.27",
	         "d5.test fail 205 mx1.d5.test 127.0.18.29 untrusted issuer /CN=Test CA");
	logscan_free(ls);
}
END_TEST

START_TEST(verification_results)
{
	struct logscan *ls = t_new(T_REF);

	t_tz("UTC");
	t_feed(ls, H
	       "[900]: server certificate verification failed for mx1.a.test[192.0.2.1]:25: "
	       "num=65:no matching DANE TLSA records\n" H
	       "[900]: Untrusted TLS connection established to mx1.a.test[192.0.2.1]:25: " EST
	       "\n" H "[900]: B1: to=<u@a.test>, relay=mx1.a.test[192.0.2.1]:25, " DELAYS
	       ", dsn=4.7.5, status=deferred (Server certificate not verified)\n" H
	       "[901]: certificate verification failed for mx1.b.test[192.0.2.2]:25: not trusted "
	       "by local or TLSA policy\n" H
	       "[901]: Untrusted TLS connection established to mx1.b.test[192.0.2.2]:25: " EST
	       "\n" H "[901]: B2: to=<u@b.test>, relay=mx1.b.test[192.0.2.2]:25, " DELAYS
	       ", dsn=4.7.5, status=deferred (Server certificate not verified)\n"
	       /* two complaints about one handshake: one session, the first complaint */
	       H "[902]: server certificate verification failed for mx1.c.test[192.0.2.3]:25: "
	       "certificate has expired\n" H
	       "[902]: server certificate verification failed for mx1.c.test[192.0.2.3]:25: "
	       "num=62:hostname mismatch\n" H
	       "[902]: Untrusted TLS connection established to mx1.c.test[192.0.2.3]:25: " EST
	       "\n" H "[902]: B3: to=<u@c.test>, relay=mx1.c.test[192.0.2.3]:25, " DELAYS
	       ", dsn=4.7.5, status=deferred (Server certificate not verified)\n"
	       /* no policy: an untrusted handshake with no complaint is a success */
	       H "[903]: Untrusted TLS connection established to mx1.e.test[192.0.2.4]:25: " EST
	       "\n" H "[903]: B4: to=<u@e.test>, relay=mx1.e.test[192.0.2.4]:25, " DELAYS
	       ", dsn=4.2.0, status=deferred (host mx1.e.test[192.0.2.4] said: 450 4.2.0 "
	       "<u@e.test>: Recipient address rejected: try later (in reply to RCPT TO command))\n"
	       /* handshake failure */
	       H "[904]: SSL_connect error to mx1.f.test[192.0.2.5]:25: -1\n" H
	       "[904]: B5: to=<u@f.test>, relay=mx1.f.test[192.0.2.5]:25, " DELAYS
	       ", dsn=4.7.5, status=deferred (Cannot start TLS: handshake failure)\n"
	       /* dane-only, no TLSA records: no connection, dane-required once per delivery */
	       H "[905]: B6: to=<a@g.test>, relay=none, delay=0.01, delays=0/0/0.01/0, dsn=4.7.5, "
	       "status=deferred (no TLSA records found)\n" H
	       "[905]: B6: to=<b@g.test>, relay=none, delay=0.01, delays=0/0/0.01/0, dsn=4.7.5, "
	       "status=deferred (no TLSA records found)\n");
	T_EXPECT("a.test fail 205 mx1.a.test 192.0.2.1 no matching DANE TLSA records",
	         "b.test fail 203 mx1.b.test 192.0.2.2 not trusted by local or TLSA policy",
	         "c.test fail 204 mx1.c.test 192.0.2.3", "e.test ok",
	         "f.test fail 205 mx1.f.test 192.0.2.5 tls-handshake-failure",
	         "g.test fail 306 - -");
	/* with no policy recorded, what the log shows to be DANE is a tlsa policy */
	ck_assert_int_eq(t_type[0], TLSRPT_POLICY_TLSA);
	for (int i = 1; i < 5; i++)
		ck_assert_int_eq(t_type[i], TLSRPT_POLICY_NONE);
	ck_assert_int_eq(t_type[5], TLSRPT_POLICY_TLSA);
	logscan_free(ls);
}
END_TEST

START_TEST(unfinished_handshakes)
{
	struct logscan *ls = t_new(T_REF);

	t_tz("UTC");
	/* a complaint with no handshake line after it is still one failed session */
	t_feed(ls, H "[980]: server certificate verification failed for "
	             "mx1.d3.test[127.0.18.27]:25: certificate has expired\n" H
	             "[980]: G1: to=<u@d3.test>, relay=mx1.d3.test[127.0.18.27]:25, " DELAYS
	             ", dsn=4.7.5, status=deferred (Server certificate not verified)\n");
	/* a complaint about one peer, then a handshake with another: two sessions */
	t_feed(ls,
	       H "[981]: server certificate verification failed for mx1.d4.test[127.0.18.28]:25: "
	         "num=62:hostname mismatch\n" H
	         "[981]: Verified TLS connection established to mx2.d4.test[127.0.18.29]:25: " EST
	         "\n" H "[981]: G2: to=<u@d4.test>, relay=mx2.d4.test[127.0.18.29]:25, " DELAYS
	         ", dsn=2.0.0, status=sent (250 2.0.0 Ok)\n");
	/* a tlsproxy complaint two minutes old does not taint a later handshake */
	t_feed(ls, "Dec  2 23:53:00 sender postfix/tlsproxy[982]: server certificate verification "
	           "failed for mx1.d5.test[127.0.18.30]:25: self-signed certificate\n" H
	           "[983]: Verified TLS connection established to mx1.d5.test[127.0.18.30]:25: " EST
	           "\n" H "[983]: G3: to=<u@d5.test>, relay=mx1.d5.test[127.0.18.30]:25, " DELAYS
	           ", dsn=2.0.0, status=sent (250 2.0.0 Ok)\n");
	T_EXPECT("d3.test fail 204 mx1.d3.test 127.0.18.27",
	         "d4.test fail 202 mx1.d4.test 127.0.18.28", "d4.test ok", "d5.test ok");
	logscan_free(ls);
}
END_TEST

static char t_policy_mx[T_EVENTS_MAX][64]; /* the MX host each policy call got, "-": NULL */
static int t_policy_calls;

static void t_policy(const char *domain, const char *mx_host, struct tlsrpt_policy *p, void *arg)
{
	static const char *const lines[] = { "version: STSv1", "mode: enforce", "mx: mx1.d1.test",
		                             "max_age: 86400" };
	static const char *const mx[] = { "mx1.d1.test" };

	(void)arg;
	if (t_policy_calls < T_EVENTS_MAX)
		snprintf(t_policy_mx[t_policy_calls++], sizeof(t_policy_mx[0]), "%s",
		         mx_host ? mx_host : "-");
	if (strcmp(domain, "d1.test") != 0)
		return;
	p->type = TLSRPT_POLICY_STS;
	p->n_strings = 4;
	for (size_t i = 0; i < 4; i++)
		p->strings[i] = lines[i];
	p->n_mx = 1;
	p->mx[0] = mx[0];
}

START_TEST(policy_and_sending_ip)
{
	t_tz("UTC");
	t_n = 0;
	struct logscan *ls = logscan_new(T_REF, "198.51.100.9", t_emit, NULL);
	logscan_set_policy(ls, t_policy, NULL);
	t_feed(ls, H
	       "[950]: server certificate verification failed for mx1.d1.test[127.0.18.25]:25: "
	       "certificate has expired\n" H
	       "[950]: Untrusted TLS connection established to mx1.d1.test[127.0.18.25]:25: " EST
	       "\n" H "[950]: C1: to=<u@d1.test>, relay=mx1.d1.test[127.0.18.25]:25, " DELAYS
	       ", dsn=4.7.5, status=deferred (Server certificate not verified)\n" H
	       "[950]: Verified TLS connection established to mx1.other.test[127.0.18.26]:25: " EST
	       "\n" H "[950]: C2: to=<u@other.test>, relay=mx1.other.test[127.0.18.26]:25, " DELAYS
	       ", dsn=2.0.0, status=sent (250 2.0.0 Ok)\n");
	T_EXPECT("d1.test fail 204 mx1.d1.test 127.0.18.25", "other.test ok");
	ck_assert_int_eq(t_type[0], TLSRPT_POLICY_STS);
	ck_assert_int_eq(t_type[1], TLSRPT_POLICY_NONE);
	ck_assert_str_eq(t_sip[0], "198.51.100.9");
	ck_assert_int_eq(t_policy_calls, 2);
	ck_assert_str_eq(t_policy_mx[0], "mx1.d1.test");
	ck_assert_str_eq(t_policy_mx[1], "mx1.other.test");
	logscan_free(ls);
}
END_TEST

START_TEST(service_names)
{
	struct logscan *ls = t_new(T_REF);

	t_tz("UTC");
	t_feed(ls, "Dec  2 23:55:00 sender postfix-out/smtp[960]: Verified TLS connection "
	           "established to mx1.d1.test[127.0.18.25]:25: " EST "\n"
	           "Dec  2 23:55:00 sender postfix-out/smtp[960]: D1: to=<u@d1.test>, "
	           "relay=mx1.d1.test[127.0.18.25]:25, " DELAYS
	           ", dsn=2.0.0, status=sent (250 2.0.0 Ok)\n");
	ck_assert_int_eq(t_feed(ls,
	                        "Dec  2 23:55:00 sender postfix/lmtp[961]: Verified TLS connection "
	                        "established to lmtp.d1.test[127.0.18.25]:24: " EST "\n"
	                        "Dec  2 23:55:00 sender postfix/lmtp[961]: D2: to=<u@d1.test>, "
	                        "relay=lmtp.d1.test[127.0.18.25]:24, " DELAYS
	                        ", dsn=2.0.0, status=sent (250 2.0.0 Ok)\n"
	                        "Dec  2 23:55:00 sender postfix/smtpd[962]: connect from "
	                        "localhost[127.0.0.1]\n"),
	                 0);
	T_EXPECT("d1.test ok");
	logscan_free(ls);
}
END_TEST

START_TEST(stale_and_finish)
{
	struct logscan *ls = t_new(T_REF);
	struct logscan_stats st;

	t_tz("UTC");
	/* process 970 dies after its handshake; 971's lines come 20 minutes later */
	t_feed(ls, "Dec  2 23:00:00 sender postfix/smtp[970]: Verified TLS connection established "
	           "to mx1.d1.test[127.0.18.25]:25: " EST "\n"
	           "Dec  2 23:20:00 sender postfix/smtp[971]: Verified TLS connection established "
	           "to mx1.d1.test[127.0.18.25]:25: " EST "\n"
	           "Dec  2 23:20:00 sender postfix/smtp[970]: E1: to=<u@d2.test>, "
	           "relay=mx1.d2.test[127.0.18.26]:25, " DELAYS
	           ", dsn=2.0.0, status=sent (250 2.0.0 Ok)\n");
	ck_assert_uint_eq(t_n, 0);
	logscan_stats(ls, &st);
	ck_assert_uint_eq(st.dropped, 1);
	logscan_finish(ls);
	logscan_stats(ls, &st);
	ck_assert_uint_eq(st.dropped, 2);
	/* usable after finish */
	t_feed(ls,
	       H "[972]: Verified TLS connection established to mx1.d1.test[127.0.18.25]:25: " EST
	         "\n" H "[972]: E2: to=<u@d1.test>, relay=mx1.d1.test[127.0.18.25]:25, " DELAYS
	         ", dsn=2.0.0, status=sent (250 2.0.0 Ok)\n");
	T_EXPECT("d1.test ok");
	logscan_free(ls);
}
END_TEST

START_TEST(bounded)
{
	struct logscan *ls = t_new(T_REF);
	struct logscan_stats st;
	char line[1024];

	t_tz("UTC");
	for (int pid = 1; pid <= LOGSCAN_PIDS_MAX + 1000; pid++) {
		int n = snprintf(line, sizeof(line),
		                 H "[%d]: Verified TLS connection established to "
		                   "mx1.d1.test[127.0.18.25]:25: " EST,
		                 pid);
		ck_assert_int_eq(logscan_line(ls, line, (size_t)n), 1);
	}
	logscan_stats(ls, &st);
	ck_assert_uint_eq(st.dropped, 1000);
	/* the newest processes are still there, the oldest are gone */
	int n = snprintf(line, sizeof(line),
	                 H "[%d]: F1: to=<u@d1.test>, relay=mx1.d1.test[127.0.18.25]:25, " DELAYS
	                   ", dsn=2.0.0, status=sent (250 2.0.0 Ok)",
	                 LOGSCAN_PIDS_MAX + 1000);
	logscan_line(ls, line, (size_t)n);
	n = snprintf(line, sizeof(line),
	             H "[1]: F2: to=<u@d1.test>, relay=mx1.d1.test[127.0.18.25]:25, " DELAYS
	               ", dsn=2.0.0, status=sent (250 2.0.0 Ok)");
	logscan_line(ls, line, (size_t)n);
	ck_assert_uint_eq(t_n, 1);
	/* more sessions than a process may hold waiting: the oldest goes */
	for (int i = 0; i < LOGSCAN_SESSIONS_MAX + 2; i++)
		t_feed(ls, H "[5]: Verified TLS connection established to "
		             "mx1.d1.test[127.0.18.25]:25: " EST "\n");
	t_feed(ls, H "[5]: F3: to=<u@d9.test>, relay=mx1.d1.test[127.0.18.25]:25, " DELAYS
	             ", dsn=2.0.0, status=sent (250 2.0.0 Ok)\n");
	ck_assert_uint_eq(t_n, 1 + LOGSCAN_SESSIONS_MAX);
	/* long values are cut, not overrun */
	char big[4096];
	memset(big, 'a', sizeof(big));
	n = snprintf(line, sizeof(line),
	             H
	             "[6]: certificate verification failed for mx1.d1.test[127.0.18.25]:25: %.900s",
	             big);
	ck_assert_int_eq(logscan_line(ls, line, (size_t)n), 1);
	logscan_free(ls);
}
END_TEST

START_TEST(garbage)
{
	struct logscan *ls = t_new(T_REF);
	struct logscan_stats st;
	static const char *const bad[] = {
		H "[]: Verified TLS connection established to x[1]:25: y",
		H "[12: Verified TLS connection established to x[1]:25: y",
		H "[12]:",
		H "[12]: Verified TLS connection established to nowhere",
		H "[12]: Verified TLS connection established to x[1]",
		H "[12]: server certificate verification failed for x[1]:25",
		H "[12]: A1: to=<u@d.test",
		H "[12]: A1: to=<u@d.test>, no relay here",
		H "[12]: A1: TLS is required, but was not offered by host ",
		"Dec  2 23:55:00 sender postfix/tlsproxy[12]: CONNECT to nowhere",
		"Dec  2 23:55:00 sender postfix/tlsproxy[12]: CONNECT to [192.0.2.1]:",
		"Dec  2 23:55:00 sender postfix/tlsproxy[12]: TLS handshake failed for "
		"service=smtp",
		"Dec  2 23:55:00 sender postfix/tlsproxy[12]: TLS handshake failed for "
		"service=smtp "
		"peer=[]:25",
		"Xyz  2 23:55:00 sender postfix/smtp[12]: Verified TLS connection established to "
		"x.test[1]:25: y",
		"Dec 32 23:55:00 sender postfix/smtp[12]: Verified TLS connection established to "
		"x.test[1]:25: y",
		"Dec  2 24:55:00 sender postfix/smtp[12]: Verified TLS connection established to "
		"x.test[1]:25: y",
		"2026-13-02T23:55:00Z sender postfix/smtp[12]: Verified TLS connection established "
		"to x.test[1]:25: y",
		"2026-12-02T23:55:00+2 sender postfix/smtp[12]: Verified TLS connection "
		"established to x.test[1]:25: y",
		"Dec  2 23:55:00 postfix/smtp[12]: Verified TLS connection established to "
		"x.test[1]:25: y",
		"postfix/smtp[12]: Verified TLS connection established to x.test[1]:25: y",
		"/smtp[",
	};
	static const char *const skipped[] = {
		"",
		"[",
		"no bracket at all",
		"Dec  2 23:55:00 sender kernel: [ 12.345] smtp[1]: x",
		H "[12]: connect to mx1.d.test[192.0.2.1]:25: Connection refused",
		H "[12]: warning: something",
		H "[12]: A1: host mx1.d.test[192.0.2.1] said: 450 try later",
		H "[12]: CONNECT to [192.0.2.1]:25",
		H "[12]: TLS handshake failed for service=smtp peer=[192.0.2.1]:25",
		"Dec  2 23:55:00 sender postfix/tlsproxy[12]: CONNECT from [192.0.2.1]:4321",
		"Dec  2 23:55:00 sender postfix/tlsproxy[12]: DISCONNECT [192.0.2.1]:25",
		"Dec  2 23:55:00 sender postfix/tlsproxy[12]: A1: to=<u@d.test>, relay=x[1]:25, "
		"status=sent",
	};

	t_tz("UTC");
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ck_assert_msg(logscan_line(ls, bad[i], strlen(bad[i])) == -EINVAL, "%s", bad[i]);
	for (size_t i = 0; i < sizeof(skipped) / sizeof(skipped[0]); i++)
		ck_assert_msg(logscan_line(ls, skipped[i], strlen(skipped[i])) == 0, "%s",
		              skipped[i]);
	/* not NUL-terminated: the length is the line */
	const char *cut = H "[12]: Verified TLS connection established to x.test[1]:25: y";
	ck_assert_int_eq(logscan_line(ls, cut, strlen(cut) - 6), -EINVAL);
	/* an address literal is no policy domain: the session is dropped */
	t_feed(ls, H "[13]: Verified TLS connection established to x.test[192.0.2.1]:25: " EST
	             "\n" H "[13]: A2: to=<u@[192.0.2.1]>, relay=x.test[192.0.2.1]:25, " DELAYS
	             ", dsn=2.0.0, status=sent (250 2.0.0 Ok)\n");
	logscan_stats(ls, &st);
	ck_assert_uint_eq(st.malformed, sizeof(bad) / sizeof(bad[0]) + 1);
	ck_assert_uint_eq(st.events, 0);
	ck_assert_uint_eq(st.dropped, 1);
	logscan_free(ls);
	logscan_free(NULL);
	errno = 0;
	ck_assert_ptr_null(logscan_new(0, NULL, NULL, NULL));
	ck_assert_int_eq(errno, EINVAL);
}
END_TEST

CHECK_MAIN("tlsrpt_logscan", captured_log, timestamp_forms, year_rollover, time_zone,
           three_recipients, mx_fallback, tlsproxy, tlsproxy_handshake_failure, reused,
           starttls_not_offered, tlsrpt_lines, interleaved, verification_results,
           unfinished_handshakes, policy_and_sending_ip, service_names, stale_and_finish, bounded,
           garbage)
