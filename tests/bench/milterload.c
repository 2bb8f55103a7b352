/* milterload: a milter load generator that speaks the milter protocol (version 6) to a
 * filter socket the way Postfix's milter8.c does, to measure msg/s and latency.
 *
 * Protocol (doc/protocols.md, "Milter packets and their sizes", "Milter negotiation
 * and no-reply stages"): packets are uint32 length (network order, counts the
 * command byte) + command + payload. OPTNEG offers version 6, actions 0x1FF, protocol
 * 0x1FFFFF; the filter's answer is honoured: stages it turned off (SMFIP_NO*) are not sent
 * (their macros still are, as Postfix does), stages with SMFIP_NR_* get no reply read.
 * Per message: D/M, D/R, D/T, D/L per header, D/N, D/B per body chunk (<= 65535 bytes), D/E,
 * then modification replies until the final verdict. Every reply is validated; a protocol
 * or I/O error counts as an error and drops the connection.
 * Threads: -c workers, each with its own connection(s), claiming message slots from one
 * atomic counter, so the run is bounded by -n messages and -t seconds.
 * Output: one "result key=value ..." line plus "header NAME COUNT" lines (stdout).
 */
#include <errno.h>
#include <getopt.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "bench_util.h"
#include "buf.h"
#include "mlmsg.h"
#include "xalloc.h"

#define ML_VERSION 6u
#define ML_ACTIONS 0x1FFu
#define ML_PROTOCOL 0x1FFFFFu
#define ML_CHUNK 65535u
#define ML_MAX_PACKET (64u << 20)
#define ML_MAX_NAMES 16

/* SMFIP_* protocol bits (libmilter/mfdef.h values, the wire format) */
#define P_NOCONNECT 0x1u
#define P_NOHELO 0x2u
#define P_NOMAIL 0x4u
#define P_NORCPT 0x8u
#define P_NOBODY 0x10u
#define P_NOHDRS 0x20u
#define P_NOEOH 0x40u
#define P_NR_HDR 0x80u
#define P_NODATA 0x200u
#define P_NR_CONN 0x1000u
#define P_NR_HELO 0x2000u
#define P_NR_MAIL 0x4000u
#define P_NR_RCPT 0x8000u
#define P_NR_DATA 0x10000u
#define P_NR_EOH 0x40000u
#define P_NR_BODY 0x80000u
#define P_LEADSPC 0x100000u

/* SMFIF_* action bits */
#define A_ADDHDRS 0x1u
#define A_CHGBODY 0x2u
#define A_ADDRCPT 0x4u
#define A_DELRCPT 0x8u
#define A_CHGHDRS 0x10u
#define A_QUARANTINE 0x20u
#define A_CHGFROM 0x40u
#define A_ADDRCPT_PAR 0x80u

enum ml_verdict { V_ACCEPT, V_CONTINUE, V_REJECT, V_TEMPFAIL, V_DISCARD, V_REPLYCODE, V_MAX };
static const char *const ml_verdict_names[V_MAX] = { "accept",   "continue", "reject",
	                                             "tempfail", "discard",  "replycode" };

struct ml_opts {
	const char *socket;
	const char *msgfile;
	const char *outfile;
	int conns;
	long total;
	double seconds;
	int per_conn;
	int timeout;
	bool auth;
};

struct ml_name {
	char name[64];
	long count;
};

struct ml_stats {
	long messages;
	long errors;
	long verdict[V_MAX];
	long quarantine;
	long hdr_added;
	long hdr_changed;
	long other_mods;
	struct ml_name names[ML_MAX_NAMES];
	int nnames;
	struct bench_lat lat;
	double last_done;
};

struct ml_conn {
	int fd;
	struct buf out;
	unsigned char *in;
	size_t in_cap;
	uint32_t actions;
	uint32_t pflags;
	int port;
};

struct ml_run {
	struct ml_opts o;
	struct mlmsg *msg;
	atomic_long next;
	atomic_int dumped;
	double start;
	double deadline;
};

struct ml_worker {
	struct ml_run *run;
	int id;
	struct ml_stats st;
	pthread_t tid;
	char err[160];
};

static void ml_put_u32(struct buf *b, uint32_t v)
{
	unsigned char c[4] = { (unsigned char)(v >> 24), (unsigned char)(v >> 16),
		               (unsigned char)(v >> 8), (unsigned char)v };
	buf_append(b, c, 4);
}

static uint32_t ml_get_u32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* ml_packet: queue one packet; @parts are NUL-terminated strings sent with their NUL. */
static void ml_packet(struct ml_conn *c, char cmd, const void *data, size_t len)
{
	ml_put_u32(&c->out, (uint32_t)len + 1);
	buf_putc(&c->out, cmd);
	buf_append(&c->out, data, len);
}

/* ml_macros: a 'D' packet for @stage from a NULL-terminated name, value, ... list. */
static void ml_macros(struct ml_conn *c, char stage, const char *const *kv)
{
	struct buf p;

	buf_init(&p);
	buf_putc(&p, stage);
	for (; kv[0]; kv += 2) {
		buf_append(&p, kv[0], strlen(kv[0]) + 1);
		buf_append(&p, kv[1], strlen(kv[1]) + 1);
	}
	ml_packet(c, 'D', p.data, p.len);
	buf_fini(&p);
}

static int ml_flush(struct ml_conn *c)
{
	int rc = bench_write_all(c->fd, c->out.data, c->out.len);

	buf_reset(&c->out);
	return rc;
}

/* ml_read: one packet into c->in; *cmd, payload at c->in + 1, *len payload bytes. */
static int ml_read(struct ml_conn *c, char *cmd, size_t *len)
{
	unsigned char hdr[4];
	uint32_t n;
	int rc;

	if ((rc = ml_flush(c)) < 0)
		return rc;
	if ((rc = bench_read_all(c->fd, hdr, 4)) < 0)
		return rc;
	n = ml_get_u32(hdr);
	if (n < 1 || n > ML_MAX_PACKET)
		return -EPROTO;
	if (c->in_cap < n + 1) {
		c->in_cap = n + 1;
		c->in = xrealloc(c->in, c->in_cap);
	}
	if ((rc = bench_read_all(c->fd, c->in, n)) < 0)
		return rc;
	c->in[n] = '\0';
	*cmd = (char)c->in[0];
	*len = n - 1;
	return 0;
}

static void ml_fail(struct ml_worker *w, const char *what, int rc)
{
	if (!w->err[0])
		snprintf(w->err, sizeof(w->err), "%s: %s", what,
		         rc == -EPROTO ? "protocol error" : strerror(-rc));
}

/* ml_strings: true if @p[0..len) is exactly @n NUL-terminated strings. */
static bool ml_strings(const unsigned char *p, size_t len, int n)
{
	size_t i;

	if (len == 0 || p[len - 1] != '\0')
		return false;
	for (i = 0; i < len; i++)
		if (p[i] == '\0')
			n--;
	return n == 0;
}

static int ml_verdict_of(char cmd, const unsigned char *p, size_t len)
{
	switch (cmd) {
	case 'a':
		return V_ACCEPT;
	case 'c':
		return V_CONTINUE;
	case 'r':
		return V_REJECT;
	case 't':
		return V_TEMPFAIL;
	case 'd':
		return V_DISCARD;
	case 'y':
		if (len < 4 || p[len - 1] != '\0' || (p[0] != '4' && p[0] != '5'))
			return -EPROTO;
		return V_REPLYCODE;
	default:
		return -EPROTO;
	}
}

/*
 * ml_stage_reply: read the reply to a stage event. Return 0 to go on (continue, or
 * 's' skip for the body when @skip_ok: *skipped set), 1 + verdict when the filter ended the
 * message (accept, reject, ...), or -errno.
 */
static int ml_stage_reply(struct ml_conn *c, bool skip_ok, bool *skipped)
{
	char cmd;
	size_t len;
	int rc, v;

	for (;;) {
		if ((rc = ml_read(c, &cmd, &len)) < 0)
			return rc;
		if (cmd == 'p')
			continue;
		if (cmd == 's' && skip_ok) {
			*skipped = true;
			return 0;
		}
		v = ml_verdict_of(cmd, c->in + 1, len);
		if (v < 0)
			return v;
		return v == V_CONTINUE ? 0 : 1 + v;
	}
}

/* ml_event: queue [macros +] an event; read its reply unless @no_reply. */
static int ml_event(struct ml_conn *c, char cmd, const void *data, size_t len, bool no_reply)
{
	ml_packet(c, cmd, data, len);
	if (no_reply)
		return 0;
	return ml_stage_reply(c, false, NULL);
}

static void ml_count_name(struct ml_stats *st, const char *name, long n)
{
	int i;

	for (i = 0; i < st->nnames; i++)
		if (strcasecmp(st->names[i].name, name) == 0)
			break;
	if (i == st->nnames) {
		if (st->nnames == ML_MAX_NAMES)
			return;
		snprintf(st->names[i].name, sizeof(st->names[i].name), "%s", name);
		st->nnames++;
	}
	st->names[i].count += n;
}

struct ml_mods {
	struct mlmsg_add *adds;
	size_t nadds;
	bool keep;
};

static void ml_mods_free(struct ml_mods *m)
{
	size_t i;

	for (i = 0; i < m->nadds; i++) {
		free(m->adds[i].name);
		free(m->adds[i].value);
	}
	free(m->adds);
	m->adds = NULL;
	m->nadds = 0;
}

/* ml_mod: validate and count one modification reply to EOM. */
static int ml_mod(struct ml_conn *c, struct ml_stats *st, struct ml_mods *mods, char cmd,
                  size_t len)
{
	const unsigned char *p = c->in + 1;
	struct mlmsg_add *a;
	uint32_t need;

	switch (cmd) {
	case 'h':
	case 'i':
	case 'm': {
		size_t off = cmd == 'h' ? 0 : 4;
		if (len < off || !ml_strings(p + off, len - off, 2) || p[off] == '\0')
			return -EPROTO;
		if ((c->actions & (cmd == 'm' ? A_CHGHDRS : A_ADDHDRS)) == 0)
			return -EPROTO;
		if (cmd == 'm') {
			st->hdr_changed++;
			return 0;
		}
		st->hdr_added++;
		ml_count_name(st, (const char *)p + off, 1);
		if (mods->keep) {
			mods->adds = xreallocarray(mods->adds, mods->nadds + 1, sizeof(*a));
			a = &mods->adds[mods->nadds++];
			a->insert = cmd == 'i';
			a->index = cmd == 'i' ? ml_get_u32(p) : 0;
			a->name = xstrdup((const char *)p + off);
			a->value =
			        xstrdup((const char *)p + off + strlen((const char *)p + off) + 1);
		}
		return 0;
	}
	case 'q':
		if (!ml_strings(p, len, 1) || !(c->actions & A_QUARANTINE))
			return -EPROTO;
		st->quarantine++;
		return 0;
	case 'b':
		need = A_CHGBODY;
		break;
	case '+':
		need = A_ADDRCPT;
		if (!ml_strings(p, len, 1))
			return -EPROTO;
		break;
	case '-':
		need = A_DELRCPT;
		if (!ml_strings(p, len, 1))
			return -EPROTO;
		break;
	case '2':
		need = A_ADDRCPT_PAR;
		if (len == 0 || p[len - 1] != '\0')
			return -EPROTO;
		break;
	case 'e':
		need = A_CHGFROM;
		if (len == 0 || p[len - 1] != '\0')
			return -EPROTO;
		break;
	default:
		return -EPROTO;
	}
	if (!(c->actions & need))
		return -EPROTO;
	st->other_mods++;
	return 0;
}

/* ml_eom: send EOM, read modifications until the verdict; return 1 + verdict or -errno. */
static int ml_eom(struct ml_conn *c, struct ml_stats *st, struct ml_mods *mods)
{
	char cmd;
	size_t len;
	int rc, v;

	ml_packet(c, 'E', NULL, 0);
	for (;;) {
		if ((rc = ml_read(c, &cmd, &len)) < 0)
			return rc;
		if (cmd == 'p')
			continue;
		if (strchr("acrtdy", cmd)) {
			v = ml_verdict_of(cmd, c->in + 1, len);
			return v < 0 ? v : 1 + v;
		}
		if ((rc = ml_mod(c, st, mods, cmd, len)) < 0)
			return rc;
	}
}

static int ml_optneg(struct ml_conn *c)
{
	struct buf p;
	char cmd;
	size_t len;
	int rc;

	buf_init(&p);
	ml_put_u32(&p, ML_VERSION);
	ml_put_u32(&p, ML_ACTIONS);
	ml_put_u32(&p, ML_PROTOCOL);
	ml_packet(c, 'O', p.data, p.len);
	buf_fini(&p);
	if ((rc = ml_read(c, &cmd, &len)) < 0)
		return rc;
	if (cmd != 'O' || len < 12)
		return -EPROTO;
	if (ml_get_u32(c->in + 1) < 2 || ml_get_u32(c->in + 1) > ML_VERSION)
		return -EPROTO;
	c->actions = ml_get_u32(c->in + 5);
	c->pflags = ml_get_u32(c->in + 9);
	if ((c->actions & ~ML_ACTIONS) || (c->pflags & ~ML_PROTOCOL))
		return -EPROTO;
	return 0;
}

/* ml_open: connect, negotiate, CONNECT and HELO. Return 0, 1 + verdict, or -errno. */
static int ml_open(struct ml_worker *w, struct ml_conn *c)
{
	static const char *const conn_macros[] = { "j",
		                                   "mx.example.test",
		                                   "{daemon_name}",
		                                   "milterload",
		                                   "v",
		                                   "Postfix 3.7.11",
		                                   "_",
		                                   "client.example.test [127.0.0.1]",
		                                   NULL };
	struct buf p;
	int rc;

	c->fd = bench_connect(w->run->o.socket, w->run->o.timeout);
	if (c->fd < 0)
		return c->fd;
	if ((rc = ml_optneg(c)) < 0)
		return rc;
	buf_init(&p);
	buf_puts(&p, "client.example.test");
	buf_putc(&p, '\0');
	buf_putc(&p, '4');
	buf_putc(&p, (char)(c->port >> 8));
	buf_putc(&p, (char)(c->port & 0xff));
	buf_puts(&p, "127.0.0.1");
	buf_putc(&p, '\0');
	ml_macros(c, 'C', conn_macros);
	rc = 0;
	if (!(c->pflags & P_NOCONNECT))
		rc = ml_event(c, 'C', p.data, p.len, c->pflags & P_NR_CONN);
	buf_fini(&p);
	if (rc != 0)
		return rc;
	if (!(c->pflags & P_NOHELO))
		rc = ml_event(c, 'H', "client.example.test", sizeof("client.example.test"),
		              c->pflags & P_NR_HELO);
	return rc;
}

static void ml_close(struct ml_conn *c, bool quit)
{
	if (c->fd < 0)
		return;
	if (quit) {
		ml_packet(c, 'Q', NULL, 0);
		ml_flush(c);
	}
	close(c->fd);
	c->fd = -1;
	buf_reset(&c->out);
}

static const char *ml_header_value(const struct ml_conn *c, const char *v)
{
	if (!(c->pflags & P_LEADSPC) && v[0] == ' ')
		return v + 1;
	return v;
}

/* ml_message: one transaction; return 1 + verdict or -errno. */
static int ml_message(struct ml_worker *w, struct ml_conn *c, const char *qid, struct ml_mods *mods)
{
	const struct mlmsg *m = w->run->msg;
	const char *mail_auth[] = {
		"i", qid, "{auth_type}", "PLAIN", "{auth_authen}", "bench", NULL
	};
	const char *mail_plain[] = { "i", qid, NULL };
	const char *qid_only[] = { "i", qid, NULL };
	static const char from[] = "<sender@example.test>";
	static const char rcpt[] = "<rcpt@example.net>";
	uint32_t f = c->pflags;
	struct buf p;
	size_t i, off, n;
	bool skipped = false;
	int rc = 0;

	ml_macros(c, 'M', w->run->o.auth ? mail_auth : mail_plain);
	if (!(f & P_NOMAIL) && (rc = ml_event(c, 'M', from, sizeof(from), f & P_NR_MAIL)) != 0)
		return rc;
	ml_macros(c, 'R', qid_only);
	if (!(f & P_NORCPT) && (rc = ml_event(c, 'R', rcpt, sizeof(rcpt), f & P_NR_RCPT)) != 0)
		return rc;
	ml_macros(c, 'T', qid_only);
	if (!(f & P_NODATA) && (rc = ml_event(c, 'T', NULL, 0, f & P_NR_DATA)) != 0)
		return rc;
	buf_init(&p);
	for (i = 0; i < m->nhdr && !(f & P_NOHDRS); i++) {
		const char *v = ml_header_value(c, m->hdr[i].value);
		buf_reset(&p);
		buf_append(&p, m->hdr[i].name, strlen(m->hdr[i].name) + 1);
		buf_append(&p, v, strlen(v) + 1);
		ml_macros(c, 'L', qid_only);
		if ((rc = ml_event(c, 'L', p.data, p.len, f & P_NR_HDR)) != 0)
			goto out;
	}
	ml_macros(c, 'N', qid_only);
	if (!(f & P_NOEOH) && (rc = ml_event(c, 'N', NULL, 0, f & P_NR_EOH)) != 0)
		goto out;
	for (off = 0; off < m->body_len && !(f & P_NOBODY) && !skipped; off += n) {
		n = m->body_len - off < ML_CHUNK ? m->body_len - off : ML_CHUNK;
		ml_macros(c, 'B', qid_only);
		ml_packet(c, 'B', m->body + off, n);
		if (!(f & P_NR_BODY) && (rc = ml_stage_reply(c, true, &skipped)) != 0)
			goto out;
	}
	ml_macros(c, 'E', qid_only);
	rc = ml_eom(c, &w->st, mods);
out:
	buf_fini(&p);
	return rc;
}

static bool ml_claim(struct ml_run *run)
{
	if (bench_now() >= run->deadline)
		return false;
	return atomic_fetch_add(&run->next, 1) < run->o.total;
}

static void ml_record(struct ml_worker *w, struct ml_conn *c, struct ml_mods *mods, int rc,
                      double t0)
{
	double now = bench_now();

	w->st.messages++;
	w->st.verdict[rc - 1]++;
	bench_lat_add(&w->st.lat, now - t0);
	w->st.last_done = now;
	if (mods->keep) {
		int err = mlmsg_write_modified(w->run->msg, mods->adds, mods->nadds,
		                               c->pflags & P_LEADSPC, w->run->o.outfile);
		if (err < 0)
			ml_fail(w, w->run->o.outfile, err);
	}
}

static void *ml_worker_main(void *arg)
{
	struct ml_worker *w = arg;
	struct ml_run *run = w->run;
	struct ml_conn c = { .fd = -1 };
	struct ml_mods mods = { 0 };
	char qid[32];
	int on_conn = 0, seq = 0, rc;
	double t0;

	buf_init(&c.out);
	while (ml_claim(run)) {
		snprintf(qid, sizeof(qid), "%02X%08X", w->id & 0xff, (unsigned)++seq);
		t0 = bench_now();
		if (c.fd < 0) {
			c.port = 10000 + (w->id * 997 + seq) % 50000;
			rc = ml_open(w, &c);
			if (rc != 0) {
				ml_fail(w, "connect/helo", rc > 0 ? -EPROTO : rc);
				w->st.errors++;
				ml_close(&c, false);
				usleep(10000);
				continue;
			}
			on_conn = 0;
		}
		mods.keep = run->o.outfile && atomic_load(&run->dumped) == 0;
		rc = ml_message(w, &c, qid, &mods);
		if (rc > 0 && mods.keep && atomic_exchange(&run->dumped, 1) != 0)
			mods.keep = false;
		if (rc < 0) {
			ml_fail(w, "message", rc);
			w->st.errors++;
			ml_close(&c, false);
		} else {
			ml_record(w, &c, &mods, rc, t0);
			if (++on_conn >= run->o.per_conn)
				ml_close(&c, true);
		}
		ml_mods_free(&mods);
	}
	ml_close(&c, true);
	buf_fini(&c.out);
	free(c.in);
	return NULL;
}

static void ml_usage(void)
{
	fprintf(stderr, "usage: milterload -s SOCKET -m MESSAGE [-c CONNS] [-n TOTAL] "
	                "[-t SECONDS] [-k PER_CONN] [-a] [-o FILE] [-T TIMEOUT]\n"
	                "  SOCKET: unix:/path | /path | inet:host:port | inet:port@host\n");
	exit(2);
}

static void ml_parse(int argc, char **argv, struct ml_opts *o)
{
	int ch;

	*o = (struct ml_opts){
		.conns = 16, .total = 1000, .seconds = 10, .per_conn = 100, .timeout = 30
	};
	while ((ch = getopt(argc, argv, "s:c:n:t:m:ak:o:T:")) != -1) {
		switch (ch) {
		case 's':
			o->socket = optarg;
			break;
		case 'c':
			o->conns = atoi(optarg);
			break;
		case 'n':
			o->total = atol(optarg);
			break;
		case 't':
			o->seconds = atof(optarg);
			break;
		case 'm':
			o->msgfile = optarg;
			break;
		case 'a':
			o->auth = true;
			break;
		case 'k':
			o->per_conn = atoi(optarg);
			break;
		case 'o':
			o->outfile = optarg;
			break;
		case 'T':
			o->timeout = atoi(optarg);
			break;
		default:
			ml_usage();
		}
	}
	if (!o->socket || !o->msgfile || o->conns < 1 || o->conns > 1024 || o->total < 1 ||
	    o->seconds <= 0 || o->per_conn < 1 || o->timeout < 1 || optind != argc)
		ml_usage();
}

static void ml_report(struct ml_run *run, struct ml_worker *w, int n)
{
	struct ml_stats all = { 0 };
	double end = run->start, secs;
	int i, j, v;

	for (i = 0; i < n; i++) {
		struct ml_stats *s = &w[i].st;
		all.messages += s->messages;
		all.errors += s->errors;
		all.quarantine += s->quarantine;
		all.hdr_added += s->hdr_added;
		all.hdr_changed += s->hdr_changed;
		all.other_mods += s->other_mods;
		for (v = 0; v < V_MAX; v++)
			all.verdict[v] += s->verdict[v];
		for (j = 0; j < s->nnames; j++)
			ml_count_name(&all, s->names[j].name, s->names[j].count);
		bench_lat_merge(&all.lat, &s->lat);
		if (s->last_done > end)
			end = s->last_done;
		if (w[i].err[0])
			fprintf(stderr, "milterload: worker %d: first error: %s\n", i, w[i].err);
	}
	secs = end > run->start ? end - run->start : 0;
	printf("result messages=%ld errors=%ld seconds=%.3f rate=%.1f p50_ms=%.2f p99_ms=%.2f",
	       all.messages, all.errors, secs, secs > 0 ? (double)all.messages / secs : 0.0,
	       bench_lat_pct(&all.lat, 50), bench_lat_pct(&all.lat, 99));
	for (v = 0; v < V_MAX; v++)
		printf(" %s=%ld", ml_verdict_names[v], all.verdict[v]);
	printf(" quarantine=%ld hdr_added=%ld hdr_changed=%ld other_mods=%ld\n", all.quarantine,
	       all.hdr_added, all.hdr_changed, all.other_mods);
	for (j = 0; j < all.nnames; j++)
		printf("header %s %ld\n", all.names[j].name, all.names[j].count);
	bench_lat_fini(&all.lat);
}

int main(int argc, char **argv)
{
	struct ml_run run = { 0 };
	struct ml_worker *w;
	long errors = 0, done = 0;
	int i;

	ml_parse(argc, argv, &run.o);
	signal(SIGPIPE, SIG_IGN);
	run.msg = mlmsg_load(run.o.msgfile);
	if (!run.msg) {
		fprintf(stderr, "milterload: %s: %s\n", run.o.msgfile, strerror(errno));
		return 2;
	}
	w = xcalloc((size_t)run.o.conns, sizeof(*w));
	run.start = bench_now();
	run.deadline = run.start + run.o.seconds;
	for (i = 0; i < run.o.conns; i++) {
		w[i].run = &run;
		w[i].id = i;
		if (pthread_create(&w[i].tid, NULL, ml_worker_main, &w[i]) != 0) {
			fprintf(stderr, "milterload: pthread_create failed\n");
			return 2;
		}
	}
	for (i = 0; i < run.o.conns; i++)
		pthread_join(w[i].tid, NULL);
	ml_report(&run, w, run.o.conns);
	for (i = 0; i < run.o.conns; i++) {
		errors += w[i].st.errors;
		done += w[i].st.messages;
		bench_lat_fini(&w[i].st.lat);
	}
	free(w);
	mlmsg_free(run.msg);
	return errors == 0 && done > 0 ? 0 : 1;
}
