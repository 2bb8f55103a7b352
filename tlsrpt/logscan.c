/* logscan: RFC 8460 (section 4) session outcomes from Postfix 3.7 smtp(8) log lines.
 *
 * A line is rejected unless the program before its first '[' ends in "/smtp" or
 * "/tlsproxy" (one memchr and a memcmp; lmtp and every other daemon stop there). Then one
 * session is recorded per "... TLS connection established to", per certificate
 * verification failure (merged with the "Untrusted ... established" line of the same
 * handshake), per "SSL_connect error" and per "TLS is required, but was not offered" (once
 * per process, queue id and relay), and, with connection reuse (tlsproxy makes the
 * handshake, smtp logs no SSL_connect error), per smtp "Cannot start TLS: handshake failure"
 * that finds tlsproxy's "TLS handshake failed for ... peer=[IP]:PORT" after its "CONNECT to"
 * that endpoint; a session waits in its process's entry until that
 * process logs a "QUEUEID: to=<...@domain>" line, which names the policy domain of every
 * session waiting there, and is then emitted. Postfix >= 3.10 "TLSRPT:" lines are events
 * of their own and switch the stream to them alone. doc/protocols.md, "Postfix 3.7 smtp
 * TLS log lines", has the observed formats and every decision taken here.
 *
 * Pure: no I/O, no clock (the caller passes the reference time), no logging; timestamps
 * are logtime.c's (mktime() reads the process's TZ). Bounded: LOGSCAN_PIDS_MAX process entries,
 * fixed-size strings (longer values are cut), LOGSCAN_SESSIONS_MAX waiting sessions per process.
 * One thread.
 */
#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "logscan.h"
#include "logtime.h"
#include "xalloc.h"

#define LS_HOST_MAX 256
#define LS_IP_MAX 64
#define LS_REASON_MAX 192
#define LS_QID_MAX 32
#define LS_KEY_MAX (LS_QID_MAX + LS_HOST_MAX + LS_IP_MAX + 2)
#define LS_SLOTS (2 * LOGSCAN_PIDS_MAX) /* open addressing, at most half full */
#define LS_EP_MAX (LS_IP_MAX + 8)       /* "[IP]:PORT" */
#define LS_PROXY_RING 32
#define LS_PROXY_CONNS 256   /* tlsproxy "CONNECT to" endpoints remembered */
#define LS_PROXY_SECONDS 60  /* a tlsproxy failure matches smtp's handshake line this soon */
#define LS_SWEEP_EVERY 65536 /* smtp lines between sweeps of stale sessions */

enum ls_prog { LS_PROG_SMTP, LS_PROG_TLSPROXY };

struct ls_peer {
	char host[LS_HOST_MAX];
	char ip[LS_IP_MAX];
};

struct ls_session {
	long long time;
	bool success;
	enum tlsrpt_result result;
	struct ls_peer peer;
	char reason[LS_REASON_MAX];
};

struct ls_proc {
	int pid;
	unsigned long long used; /* ls->smtp_seq when last touched */
	bool vf;                 /* a verification failure waiting for its handshake line */
	bool ssl_err;            /* an SSL_connect error whose "Cannot start TLS" is to come */
	struct ls_session vf_sess;
	size_t n;
	struct ls_session pending[LOGSCAN_SESSIONS_MAX];
	char key[LS_KEY_MAX]; /* queue id and relay of the last counted refusal */
	long long key_time;   /* when it was logged */
};

struct ls_proxy_fail {
	bool live;
	bool handshake; /* "TLS handshake failed": for smtp's "Cannot start TLS" line */
	struct ls_session s;
};

/* tlsproxy "CONNECT to [IP]:PORT": a client-role connection (the server role logs
 * "CONNECT from"), so that its "TLS handshake failed" is known to be a delivery's */
struct ls_proxy_conn {
	bool live;
	int pid;
	long long time;
	char ep[LS_EP_MAX];
};

struct logscan {
	struct logtime clock; /* line timestamps to UTC */
	char *sending_ip;
	logscan_emit_fn emit;
	void *emit_arg;
	logscan_policy_fn policy;
	void *policy_arg;
	struct logscan_stats st;
	bool native;   /* a TLSRPT: line was seen: Postfix reports every session itself */
	long long now; /* latest time seen on a line of interest */
	unsigned long long smtp_seq;
	size_t n_procs;
	struct ls_proc *slots[LS_SLOTS];
	struct ls_proxy_fail proxy[LS_PROXY_RING];
	size_t proxy_next;
	struct ls_proxy_conn conns[LS_PROXY_CONNS];
	size_t conn_next;
	long long hs_last;             /* time of the last tlsproxy handshake failure kept */
	struct ls_session tlsrpt_sess; /* a TLSRPT: line's session */
	char domain[TLSRPT_DOMAIN_MAX + 1];
	struct tlsrpt_event ev;
};

/* --- small scanners over (p, n) -------------------------------------------------- */

static bool ls_has_prefix(const char *p, size_t n, const char *lit, size_t litn)
{
	return n >= litn && memcmp(p, lit, litn) == 0;
}
#define LS_PREFIX(p, n, lit) ls_has_prefix((p), (n), (lit), sizeof(lit) - 1)

static bool ls_contains(const char *p, size_t n, const char *lit)
{
	return memmem(p, n, lit, strlen(lit)) != NULL;
}

static void ls_copy(char *dst, size_t cap, const char *src, size_t n)
{
	if (n >= cap)
		n = cap - 1;
	memcpy(dst, src, n);
	dst[n] = '\0';
}

static bool ls_host_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '.' || c == '-' || c == '_';
}

/* ls_peer_parse() - "HOST[IP]" at @p; Return: bytes used (after ']'), or 0. */
static size_t ls_peer_parse(const char *p, size_t n, struct ls_peer *peer)
{
	size_t h = 0, i;

	while (h < n && ls_host_char(p[h]))
		h++;
	if (h == 0 || h >= n || p[h] != '[')
		return 0;
	for (i = h + 1; i < n && p[i] != ']'; i++)
		if (p[i] == '[' || p[i] == ' ')
			return 0;
	if (i >= n || i == h + 1)
		return 0;
	ls_copy(peer->host, sizeof(peer->host), p, h);
	for (size_t k = 0; peer->host[k]; k++)
		if (peer->host[k] >= 'A' && peer->host[k] <= 'Z')
			peer->host[k] = (char)(peer->host[k] - 'A' + 'a');
	ls_copy(peer->ip, sizeof(peer->ip), p + h + 1, i - h - 1);
	return i + 1;
}

/* ls_peer_port_parse() - "HOST[IP]:PORT" at @p; Return: bytes used, or 0. */
static size_t ls_peer_port_parse(const char *p, size_t n, struct ls_peer *peer)
{
	size_t u = ls_peer_parse(p, n, peer), d;

	if (u == 0 || u >= n || p[u] != ':')
		return 0;
	for (d = u + 1; d < n && p[d] >= '0' && p[d] <= '9'; d++)
		;
	return d > u + 1 ? d : 0;
}

/* ls_endpoint_parse() - tlsproxy's "[IP]:PORT" at @p (no host name: @peer->host is "");
 * Return: bytes used, or 0. */
static size_t ls_endpoint_parse(const char *p, size_t n, struct ls_peer *peer)
{
	size_t i, d;

	if (n < 2 || p[0] != '[')
		return 0;
	for (i = 1; i < n && p[i] != ']'; i++)
		if (p[i] == '[' || p[i] == ' ')
			return 0;
	if (i >= n || i == 1 || i + 1 >= n || p[i + 1] != ':')
		return 0;
	for (d = i + 2; d < n && p[d] >= '0' && p[d] <= '9'; d++)
		;
	if (d == i + 2)
		return 0;
	peer->host[0] = '\0';
	ls_copy(peer->ip, sizeof(peer->ip), p + 1, i - 1);
	return d;
}

static bool ls_peer_eq(const struct ls_peer *a, const struct ls_peer *b)
{
	return strcmp(a->host, b->host) == 0 && strcmp(a->ip, b->ip) == 0;
}

/* --- the process table ------------------------------------------------------------- */

static size_t ls_slot_of(int pid)
{
	return (size_t)(((uint32_t)pid * 2654435761u) >> 19) % LS_SLOTS;
}

static struct ls_proc **ls_find_slot(struct logscan *ls, int pid)
{
	size_t i = ls_slot_of(pid);

	while (ls->slots[i] && ls->slots[i]->pid != pid)
		i = (i + 1) % LS_SLOTS;
	return &ls->slots[i];
}

/* ls_proc_remove() - free slot @i's entry; backward-shift the probe chain after it. */
static void ls_proc_remove(struct logscan *ls, size_t i)
{
	size_t j = i;

	ls->st.dropped += ls->slots[i]->n + (ls->slots[i]->vf ? 1 : 0);
	free(ls->slots[i]);
	ls->slots[i] = NULL;
	ls->n_procs--;
	for (;;) {
		j = (j + 1) % LS_SLOTS;
		if (!ls->slots[j])
			return;
		size_t home = ls_slot_of(ls->slots[j]->pid);
		bool movable = i <= j ? (home <= i || home > j) : (home <= i && home > j);
		if (movable) {
			ls->slots[i] = ls->slots[j];
			ls->slots[j] = NULL;
			i = j;
		}
	}
}

static void ls_proc_expire(struct logscan *ls, struct ls_proc *p)
{
	size_t k = 0;

	for (size_t i = 0; i < p->n; i++) {
		if (ls->now - p->pending[i].time > LOGSCAN_STALE_SECONDS)
			ls->st.dropped++;
		else
			p->pending[k++] = p->pending[i];
	}
	p->n = k;
	if (p->vf && ls->now - p->vf_sess.time > LOGSCAN_STALE_SECONDS) {
		p->vf = false;
		ls->st.dropped++;
	}
}

/* ls_sweep() - drop stale sessions; free entries left with nothing waiting. */
static void ls_sweep(struct logscan *ls)
{
	size_t i = 0;

	while (i < LS_SLOTS) {
		struct ls_proc *p = ls->slots[i];
		if (p) {
			ls_proc_expire(ls, p);
			if (p->n == 0 && !p->vf) {
				ls_proc_remove(ls, i);
				continue; /* slot i may hold a shifted entry now */
			}
		}
		i++;
	}
}

static struct ls_proc *ls_proc_get(struct logscan *ls, int pid)
{
	struct ls_proc **slot = ls_find_slot(ls, pid);

	if (*slot) {
		(*slot)->used = ls->smtp_seq;
		ls_proc_expire(ls, *slot);
		return *slot;
	}
	if (ls->n_procs >= LOGSCAN_PIDS_MAX) {
		ls_sweep(ls);
		if (ls->n_procs >= LOGSCAN_PIDS_MAX) {
			size_t oldest = LS_SLOTS;
			for (size_t i = 0; i < LS_SLOTS; i++)
				if (ls->slots[i] && (oldest == LS_SLOTS ||
				                     ls->slots[i]->used < ls->slots[oldest]->used))
					oldest = i;
			ls_proc_remove(ls, oldest);
		}
		slot = ls_find_slot(ls, pid);
	}
	struct ls_proc *p = xmalloc(sizeof(*p));
	p->pid = pid;
	p->used = ls->smtp_seq;
	p->vf = false;
	p->ssl_err = false;
	p->n = 0;
	p->key[0] = '\0';
	*slot = p;
	ls->n_procs++;
	return p;
}

/* --- sessions and events ------------------------------------------------------------ */

static void ls_push(struct logscan *ls, struct ls_proc *p, const struct ls_session *s)
{
	if (ls->native)
		return;
	if (p->n == LOGSCAN_SESSIONS_MAX) {
		memmove(&p->pending[0], &p->pending[1], (p->n - 1) * sizeof(p->pending[0]));
		p->n--;
		ls->st.dropped++;
	}
	p->pending[p->n++] = *s;
}

static void ls_flush_vf(struct logscan *ls, struct ls_proc *p)
{
	if (p->vf) {
		p->vf = false;
		ls_push(ls, p, &p->vf_sess);
	}
}

static void ls_emit(struct logscan *ls, const struct ls_session *s, const char *domain)
{
	struct tlsrpt_event *ev = &ls->ev;
	struct tlsrpt_policy *pol = &ev->policies[0];

	ev->time = s->time;
	ev->domain = domain;
	ev->tlsrpt = NULL;
	ev->n_policies = 1;
	pol->type = TLSRPT_POLICY_NONE;
	pol->domain = NULL;
	pol->n_strings = 0;
	pol->n_mx = 0;
	if (ls->policy)
		ls->policy(domain, s->peer.host[0] ? s->peer.host : NULL, pol, ls->policy_arg);
	if (pol->type == TLSRPT_POLICY_NONE && !s->success &&
	    (s->result == TLSRPT_DANE_REQUIRED ||
	     ls_contains(s->reason, strlen(s->reason), "DANE TLSA")))
		pol->type = TLSRPT_POLICY_TLSA;
	if (pol->n_strings > TLSRPT_POLICY_STRINGS_MAX)
		pol->n_strings = TLSRPT_POLICY_STRINGS_MAX;
	if (pol->n_mx > TLSRPT_MX_HOSTS_MAX)
		pol->n_mx = TLSRPT_MX_HOSTS_MAX;
	pol->success = s->success;
	pol->n_details = 0;
	if (!s->success) {
		struct tlsrpt_detail *d = &pol->details[0];
		memset(d, 0, sizeof(*d));
		d->result = s->result;
		d->sending_ip = ls->sending_ip;
		d->mx_host = s->peer.host[0] ? s->peer.host : NULL;
		d->receiving_ip = s->peer.ip[0] ? s->peer.ip : NULL;
		d->reason = s->reason[0] ? s->reason : NULL;
		pol->n_details = 1;
	}
	ls->st.events++;
	ls->emit(ev, ls->emit_arg);
}

/* ls_domain_set() - the domain of "to=<local@domain>" into ls->domain, lower case.
 * Return: 0, or -1 when it is not a domain name (an address literal, no '@'). */
static int ls_domain_set(struct logscan *ls, const char *rcpt, size_t n)
{
	const char *at = NULL;

	for (size_t i = 0; i < n; i++)
		if (rcpt[i] == '@')
			at = rcpt + i;
	if (!at)
		return -1;
	size_t dn = n - (size_t)(at + 1 - rcpt);
	if (dn > 0 && at[dn] == '.')
		dn--;
	if (dn == 0 || dn > TLSRPT_DOMAIN_MAX)
		return -1;
	for (size_t i = 0; i < dn; i++) {
		char c = at[1 + i];
		if (!ls_host_char(c))
			return -1;
		ls->domain[i] = (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
	}
	ls->domain[dn] = '\0';
	return 0;
}

static void ls_session_fail(struct ls_session *s, long long t, enum tlsrpt_result r,
                            const struct ls_peer *peer)
{
	s->time = t;
	s->success = false;
	s->result = r;
	s->peer = *peer;
	s->reason[0] = '\0';
}

/* ls_reason_classify() - a verification failure's reason text to its result type. */
static void ls_reason_classify(struct ls_session *s, const char *r, size_t n)
{
	if (n > 4 && LS_PREFIX(r, n, "num=")) {
		const char *colon = memchr(r, ':', n);
		if (colon) {
			n -= (size_t)(colon + 1 - r);
			r = colon + 1;
		}
	}
	if (ls_contains(r, n, "certificate has expired")) {
		s->result = TLSRPT_CERTIFICATE_EXPIRED;
	} else if (ls_contains(r, n, "hostname mismatch")) {
		s->result = TLSRPT_CERTIFICATE_HOST_MISMATCH;
	} else if (ls_contains(r, n, "not trusted by local or TLSA policy")) {
		s->result = TLSRPT_CERTIFICATE_NOT_TRUSTED;
		ls_copy(s->reason, sizeof(s->reason), r, n);
	} else {
		s->result = TLSRPT_VALIDATION_FAILURE;
		ls_copy(s->reason, sizeof(s->reason), r, n);
	}
}

/* --- line kinds ------------------------------------------------------------------ */

/* "(Anonymous|Verified|Trusted|Untrusted) TLS connection (established|reused) to P:" */
static int ls_tls_conn(struct logscan *ls, struct ls_proc *p, const char *m, size_t n, long long t)
{
	const char *sp = memchr(m, ' ', n);
	struct ls_session s;

	if (!sp)
		return -EINVAL;
	size_t off = (size_t)(sp + 1 - m);
	if (LS_PREFIX(m + off, n - off, "TLS connection reused to "))
		return 1;
	if (!LS_PREFIX(m + off, n - off, "TLS connection established to "))
		return -EINVAL;
	off += sizeof("TLS connection established to ") - 1;
	if (ls_peer_port_parse(m + off, n - off, &s.peer) == 0)
		return -EINVAL;
	p->ssl_err = false;
	if (p->vf && ls_peer_eq(&p->vf_sess.peer, &s.peer)) {
		ls_flush_vf(ls, p);
		return 1;
	}
	ls_flush_vf(ls, p);
	for (size_t i = 0; i < LS_PROXY_RING; i++) {
		struct ls_proxy_fail *f = &ls->proxy[i];
		if (f->live && !f->handshake && t - f->s.time <= LS_PROXY_SECONDS &&
		    ls_peer_eq(&f->s.peer, &s.peer)) {
			f->live = false;
			ls_push(ls, p, &f->s);
			return 1;
		}
	}
	s.time = t;
	s.success = true;
	s.result = 0;
	s.reason[0] = '\0';
	ls_push(ls, p, &s);
	return 1;
}

/* "[server ]certificate verification failed for P:PORT: REASON" */
static int ls_verify_fail(struct logscan *ls, struct ls_proc *p, const char *m, size_t n,
                          long long t)
{
	struct ls_session s;
	size_t off = LS_PREFIX(m, n, "server ") ? sizeof("server ") - 1 : 0;
	size_t u;

	off += sizeof("certificate verification failed for ") - 1;
	if ((u = ls_peer_port_parse(m + off, n - off, &s.peer)) == 0)
		return -EINVAL;
	off += u;
	if (!LS_PREFIX(m + off, n - off, ": "))
		return -EINVAL;
	off += 2;
	ls_session_fail(&s, t, TLSRPT_VALIDATION_FAILURE, &s.peer);
	ls_reason_classify(&s, m + off, n - off);
	if (!p) {
		struct ls_proxy_fail *f = &ls->proxy[ls->proxy_next];
		ls->proxy_next = (ls->proxy_next + 1) % LS_PROXY_RING;
		f->live = true;
		f->handshake = false;
		f->s = s;
		return 1;
	}
	if (p->vf && ls_peer_eq(&p->vf_sess.peer, &s.peer))
		return 1; /* a second complaint about the same handshake */
	ls_flush_vf(ls, p);
	p->vf = true;
	p->vf_sess = s;
	return 1;
}

/* "SSL_connect error to P:PORT: ..." */
static int ls_handshake_fail(struct logscan *ls, struct ls_proc *p, const char *m, size_t n,
                             long long t)
{
	struct ls_session s;
	size_t off = sizeof("SSL_connect error to ") - 1;

	if (ls_peer_port_parse(m + off, n - off, &s.peer) == 0)
		return -EINVAL;
	p->ssl_err = true;
	if (p->vf && ls_peer_eq(&p->vf_sess.peer, &s.peer)) {
		ls_flush_vf(ls, p);
		return 1;
	}
	ls_flush_vf(ls, p);
	ls_session_fail(&s, t, TLSRPT_VALIDATION_FAILURE, &s.peer);
	ls_copy(s.reason, sizeof(s.reason), "tls-handshake-failure", 21);
	ls_push(ls, p, &s);
	return 1;
}

/* "CONNECT to [IP]:PORT" (tlsproxy): a client-role connection, remembered. */
static int ls_proxy_connect(struct logscan *ls, int pid, const char *m, size_t n, long long t)
{
	struct ls_peer peer;
	size_t off = sizeof("CONNECT to ") - 1;

	if (ls_endpoint_parse(m + off, n - off, &peer) != n - off)
		return -EINVAL;
	struct ls_proxy_conn *c = &ls->conns[ls->conn_next];
	ls->conn_next = (ls->conn_next + 1) % LS_PROXY_CONNS;
	c->live = true;
	c->pid = pid;
	c->time = t;
	ls_copy(c->ep, sizeof(c->ep), m + off, n - off);
	return 1;
}

/* "TLS handshake failed for service=S peer=[IP]:PORT" (tlsproxy): when the same process
 * connected to that endpoint (client role) in the last LS_PROXY_SECONDS, kept for smtp's
 * "Cannot start TLS" line; the server role's failures are left alone. */
static int ls_proxy_hs_fail(struct logscan *ls, int pid, const char *m, size_t n, long long t)
{
	const char *pe = memmem(m, n, " peer=", 6);
	struct ls_peer peer;

	if (!pe)
		return -EINVAL;
	size_t off = (size_t)(pe + 6 - m), en = n - off;
	if (ls_endpoint_parse(m + off, en, &peer) != en)
		return -EINVAL;
	for (size_t i = 0; i < LS_PROXY_CONNS; i++) {
		struct ls_proxy_conn *c = &ls->conns[i];
		if (!c->live || c->pid != pid || t - c->time > LS_PROXY_SECONDS ||
		    strlen(c->ep) != en || memcmp(c->ep, m + off, en) != 0)
			continue;
		c->live = false;
		struct ls_proxy_fail *f = &ls->proxy[ls->proxy_next];
		ls->proxy_next = (ls->proxy_next + 1) % LS_PROXY_RING;
		f->live = true;
		f->handshake = true;
		ls_session_fail(&f->s, t, TLSRPT_VALIDATION_FAILURE, &peer);
		ls_copy(f->s.reason, sizeof(f->s.reason), "tls-handshake-failure", 21);
		ls->hs_last = t;
		return 1;
	}
	return 1;
}

/* ls_proxy_hs_take() - the oldest tlsproxy handshake failure of the last LS_PROXY_SECONDS
 * with IP @ip (any, when NULL), consumed. Return: it, or NULL. */
static struct ls_proxy_fail *ls_proxy_hs_take(struct logscan *ls, const char *ip, long long t)
{
	for (size_t k = 0; k < LS_PROXY_RING; k++) {
		struct ls_proxy_fail *f = &ls->proxy[(ls->proxy_next + k) % LS_PROXY_RING];
		if (f->live && f->handshake && t - f->s.time <= LS_PROXY_SECONDS &&
		    (!ip || strcmp(f->s.peer.ip, ip) == 0)) {
			f->live = false;
			return f;
		}
	}
	return NULL;
}

/* ls_key_repeat() - whether queue id @qid and relay @peer are those of the process's last
 * counted refusal or handshake failure, logged at @t or the second before (one delivery
 * attempt logs every recipient's status at once; a retry of the same message by the same
 * process, after a backoff or a flush, comes later); if not, they become it. */
static bool ls_key_repeat(struct ls_proc *p, const char *qid, size_t qn, const struct ls_peer *peer,
                          long long t)
{
	char key[LS_KEY_MAX];

	ls_copy(key, sizeof(key), qid, qn);
	size_t k = strlen(key);
	key[k++] = ' ';
	ls_copy(key + k, sizeof(key) - k, peer->host, strlen(peer->host));
	k = strlen(key);
	key[k++] = '[';
	ls_copy(key + k, sizeof(key) - k, peer->ip, strlen(peer->ip));
	if (strcmp(key, p->key) == 0 && t >= p->key_time && t - p->key_time <= 1)
		return true;
	memcpy(p->key, key, sizeof(key));
	p->key_time = t;
	return false;
}

static const char ls_cannot_start[] = "Cannot start TLS: handshake failure";

/* smtp's "Cannot start TLS: handshake failure" about relay @peer (NULL: a non-final MX,
 * which the line does not name). After an SSL_connect error of this process that error
 * was the session; else it is tlsproxy's handshake failure for that relay's IP (the oldest
 * one, when not named), once per process, queue id and relay. */
static void ls_cannot_start_tls(struct logscan *ls, struct ls_proc *p, const char *qid, size_t qn,
                                const struct ls_peer *peer, long long t)
{
	if (peer && ls_key_repeat(p, qid, qn, peer, t))
		return;
	if (p->ssl_err) {
		p->ssl_err = false;
		return;
	}
	if (t - ls->hs_last > LS_PROXY_SECONDS)
		return;
	struct ls_proxy_fail *f = ls_proxy_hs_take(ls, peer ? peer->ip : NULL, t);
	if (!f)
		return;
	struct ls_session s = f->s;
	if (peer)
		s.peer = *peer;
	ls_flush_vf(ls, p);
	ls_push(ls, p, &s);
}

/* A refusal (no STARTTLS, no TLSA) counted once per process, queue id and relay. */
static void ls_refusal(struct logscan *ls, struct ls_proc *p, const char *qid, size_t qn,
                       const struct ls_peer *peer, enum tlsrpt_result r, long long t)
{
	struct ls_session s;

	if (ls_key_repeat(p, qid, qn, peer, t))
		return;
	ls_flush_vf(ls, p);
	ls_session_fail(&s, t, r, peer);
	ls_push(ls, p, &s);
}

static const char ls_not_offered[] = "TLS is required, but was not offered by host ";

static int ls_not_offered_at(struct logscan *ls, struct ls_proc *p, const char *qid, size_t qn,
                             const char *text, size_t n, long long t)
{
	struct ls_peer peer;
	size_t off = sizeof(ls_not_offered) - 1;

	if (ls_peer_parse(text + off, n - off, &peer) == 0)
		return -EINVAL;
	ls_refusal(ls, p, qid, qn, &peer, TLSRPT_STARTTLS_NOT_SUPPORTED, t);
	return 1;
}

/* "QUEUEID: to=<RCPT>, [orig_to=<...>, ]relay=RELAY, ..., status=S (TEXT)" */
static int ls_to(struct logscan *ls, struct ls_proc *p, const char *qid, size_t qn, const char *m,
                 size_t n, long long t)
{
	const char *gt = memchr(m, '>', n);
	static const char relay_tag[] = ", relay=";

	if (!gt)
		return -EINVAL;
	const char *rest = gt + 1;
	size_t rn = n - (size_t)(rest - m);
	const char *relay = memmem(rest, rn, relay_tag, sizeof(relay_tag) - 1);
	if (!relay)
		return -EINVAL;
	relay += sizeof(relay_tag) - 1;
	size_t reln = n - (size_t)(relay - m);
	const char *hit = memmem(relay, reln, ls_not_offered, sizeof(ls_not_offered) - 1);
	if (hit) {
		if (ls_not_offered_at(ls, p, qid, qn, hit, reln - (size_t)(hit - relay), t) < 0)
			return -EINVAL;
	} else if (LS_PREFIX(relay, reln, "none,") &&
	           ls_contains(relay, reln, "no TLSA records found")) {
		struct ls_peer none = { "", "" };
		ls_refusal(ls, p, qid, qn, &none, TLSRPT_DANE_REQUIRED, t);
	} else if ((p->ssl_err || t - ls->hs_last <= LS_PROXY_SECONDS) &&
	           ls_contains(relay, reln, ls_cannot_start)) {
		struct ls_peer peer;
		if (ls_peer_port_parse(relay, reln, &peer) > 0)
			ls_cannot_start_tls(ls, p, qid, qn, &peer, t);
	}
	ls_flush_vf(ls, p);
	if (p->n == 0)
		return 1;
	if (ls_domain_set(ls, m + 4, (size_t)(gt - m) - 4) < 0) {
		ls->st.dropped += p->n;
		p->n = 0;
		return 1;
	}
	for (size_t i = 0; i < p->n; i++)
		ls_emit(ls, &p->pending[i], ls->domain);
	p->n = 0;
	return 1;
}

static const struct {
	const char *name;
	enum tlsrpt_result result;
} ls_failure_types[] = {
	{ "starttls_not_supported", TLSRPT_STARTTLS_NOT_SUPPORTED },
	{ "certificate_host_mismatch", TLSRPT_CERTIFICATE_HOST_MISMATCH },
	{ "certificate_not_trusted", TLSRPT_CERTIFICATE_NOT_TRUSTED },
	{ "certificate_expired", TLSRPT_CERTIFICATE_EXPIRED },
	{ "validation_failure", TLSRPT_VALIDATION_FAILURE },
	{ "sts_policy_fetch_error", TLSRPT_STS_POLICY_FETCH_ERROR },
	{ "sts_policy_invalid", TLSRPT_STS_POLICY_INVALID },
	{ "sts_webpki_invalid", TLSRPT_STS_WEBPKI_INVALID },
	{ "tlsa_invalid", TLSRPT_TLSA_INVALID },
	{ "dnssec_invalid", TLSRPT_DNSSEC_INVALID },
	{ "dane_required", TLSRPT_DANE_REQUIRED },
};

static int ls_failure_type(const char *v, size_t n, enum tlsrpt_result *r)
{
	for (size_t i = 0; i < sizeof(ls_failure_types) / sizeof(ls_failure_types[0]); i++) {
		const char *name = ls_failure_types[i].name;
		size_t k = strlen(name);
		/* the dashed RFC spelling is accepted too */
		if (n != k)
			continue;
		size_t j = 0;
		while (j < k && (v[j] == name[j] || (v[j] == '-' && name[j] == '_')))
			j++;
		if (j == k) {
			*r = ls_failure_types[i].result;
			return 0;
		}
	}
	return -1;
}

/* "TLSRPT: status=success|failure, domain=D, receiving_mx=HOST[IP][, failure_type=T,
 * failure_reason=R]" (Postfix >= 3.10): one event as it stands. */
static int ls_tlsrpt(struct logscan *ls, struct ls_proc *p, const char *m, size_t n, long long t)
{
	struct ls_session *s = &ls->tlsrpt_sess;
	bool have_status = false, have_domain = false, have_type = false;
	size_t off = sizeof("TLSRPT: ") - 1;

	memset(&s->peer, 0, sizeof(s->peer));
	s->time = t;
	s->success = false;
	s->result = TLSRPT_VALIDATION_FAILURE;
	s->reason[0] = '\0';
	while (off < n) {
		const char *f = m + off;
		const char *end = memmem(f, n - off, ", ", 2);
		size_t fn = end ? (size_t)(end - f) : n - off;
		const char *eq = memchr(f, '=', fn);
		if (!eq)
			return -EINVAL;
		size_t kn = (size_t)(eq - f), vn = fn - kn - 1;
		const char *v = eq + 1;
		if (kn == 6 && memcmp(f, "status", 6) == 0) {
			if (vn == 7 && memcmp(v, "success", 7) == 0)
				s->success = true;
			else if (!(vn == 7 && memcmp(v, "failure", 7) == 0))
				return -EINVAL;
			have_status = true;
		} else if (kn == 6 && memcmp(f, "domain", 6) == 0) {
			char tmp[TLSRPT_DOMAIN_MAX + 2];
			if (vn == 0 || vn > TLSRPT_DOMAIN_MAX)
				return -EINVAL;
			tmp[0] = '@';
			memcpy(tmp + 1, v, vn);
			if (ls_domain_set(ls, tmp, vn + 1) < 0)
				return -EINVAL;
			have_domain = true;
		} else if (kn == 12 && memcmp(f, "receiving_mx", 12) == 0) {
			if (ls_peer_parse(v, vn, &s->peer) != vn)
				return -EINVAL;
		} else if (kn == 12 && memcmp(f, "failure_type", 12) == 0) {
			if (ls_failure_type(v, vn, &s->result) < 0)
				return -EINVAL;
			have_type = true;
		} else if (kn == 14 && memcmp(f, "failure_reason", 14) == 0) {
			ls_copy(s->reason, sizeof(s->reason), v, vn);
		}
		off += fn + (end ? 2 : 0);
	}
	if (!have_status || !have_domain || (!s->success && !have_type))
		return -EINVAL;
	if (s->success)
		s->reason[0] = '\0';
	ls->native = true;
	if (p) {
		size_t k = 0;
		for (size_t i = 0; i < p->n; i++)
			if (!ls_peer_eq(&p->pending[i].peer, &s->peer))
				p->pending[k++] = p->pending[i];
		p->n = k;
		if (p->vf && ls_peer_eq(&p->vf_sess.peer, &s->peer))
			p->vf = false;
	}
	ls_emit(ls, s, ls->domain);
	return 1;
}

/* --- the line ------------------------------------------------------------------------ */

enum ls_kind {
	LS_SKIP,
	LS_TLS_CONN,
	LS_VERIFY_FAIL,
	LS_HANDSHAKE_FAIL,
	LS_TLSRPT,
	LS_TO,
	LS_NOT_OFFERED,
	LS_NOT_VERIFIED,
	LS_CANNOT_START,
	LS_PROXY_CONNECT,
	LS_PROXY_HS_FAIL,
};

/* ls_classify() - the kind of message @m; a queue id's length goes to @qn. */
static enum ls_kind ls_classify(const char *m, size_t n, size_t *qn)
{
	switch (m[0]) {
	case 'A':
	case 'V':
	case 'T':
	case 'U':
		if (LS_PREFIX(m, n, "TLSRPT: "))
			return LS_TLSRPT;
		if (LS_PREFIX(m, n, "TLS handshake failed for "))
			return LS_PROXY_HS_FAIL;
		if (LS_PREFIX(m, n, "Anonymous TLS connection ") ||
		    LS_PREFIX(m, n, "Verified TLS connection ") ||
		    LS_PREFIX(m, n, "Trusted TLS connection ") ||
		    LS_PREFIX(m, n, "Untrusted TLS connection "))
			return LS_TLS_CONN;
		break;
	case 's':
		if (LS_PREFIX(m, n, "server certificate verification failed for "))
			return LS_VERIFY_FAIL;
		break;
	case 'c':
		if (LS_PREFIX(m, n, "certificate verification failed for "))
			return LS_VERIFY_FAIL;
		break;
	case 'C':
		if (LS_PREFIX(m, n, "CONNECT to "))
			return LS_PROXY_CONNECT;
		break;
	case 'S':
		if (LS_PREFIX(m, n, "SSL_connect error to "))
			return LS_HANDSHAKE_FAIL;
		break;
	default:
		break;
	}
	size_t i = 0;
	while (i < n && i <= LS_QID_MAX &&
	       ((m[i] >= '0' && m[i] <= '9') || (m[i] >= 'A' && m[i] <= 'Z') ||
	        (m[i] >= 'a' && m[i] <= 'z')))
		i++;
	if (i == 0 || i > LS_QID_MAX || !LS_PREFIX(m + i, n - i, ": "))
		return LS_SKIP;
	*qn = i;
	const char *r = m + i + 2;
	size_t rn = n - i - 2;
	if (LS_PREFIX(r, rn, "to=<"))
		return LS_TO;
	if (LS_PREFIX(r, rn, "TLS is required, but was not offered by host "))
		return LS_NOT_OFFERED;
	if (LS_PREFIX(r, rn, "Server certificate not verified"))
		return LS_NOT_VERIFIED;
	if (LS_PREFIX(r, rn, ls_cannot_start))
		return LS_CANNOT_START;
	return LS_SKIP;
}

int logscan_line(struct logscan *ls, const char *line, size_t len)
{
	enum ls_prog prog;
	size_t qn = 0;
	long long t;

	ls->st.lines++;
	const char *br = memchr(line, '[', len);
	if (!br)
		return 0;
	size_t b = (size_t)(br - line);
	if (b >= 5 && memcmp(br - 5, "/smtp", 5) == 0)
		prog = LS_PROG_SMTP;
	else if (b >= 9 && memcmp(br - 9, "/tlsproxy", 9) == 0)
		prog = LS_PROG_TLSPROXY;
	else
		return 0;
	ls->st.smtp_lines++;
	ls->smtp_seq++;

	int pid = 0;
	size_t i = b + 1;
	while (i < len && line[i] >= '0' && line[i] <= '9' && i - b <= 9)
		pid = pid * 10 + (line[i++] - '0');
	if (i == b + 1 || pid <= 0 || !ls_has_prefix(line + i, len - i, "]: ", 3) || i + 3 >= len)
		goto malformed;
	const char *m = line + i + 3;
	size_t mn = len - i - 3;
	enum ls_kind kind = ls_classify(m, mn, &qn);
	if (kind == LS_SKIP)
		return 0;
	if (prog == LS_PROG_TLSPROXY ? kind != LS_VERIFY_FAIL && kind != LS_TLSRPT &&
	                                       kind != LS_PROXY_CONNECT && kind != LS_PROXY_HS_FAIL
	                             : kind == LS_PROXY_CONNECT || kind == LS_PROXY_HS_FAIL)
		return 0;

	size_t tn = logtime_parse(&ls->clock, line, b, &t);
	if (tn == 0 || tn >= b || line[tn] != ' ')
		goto malformed;
	size_t h = tn + 1;
	while (h < b && line[h] != ' ')
		h++;
	if (h == tn + 1 || h >= b || memchr(line + h + 1, ' ', b - h - 1))
		goto malformed;
	if (t > ls->now)
		ls->now = t;
	if (ls->smtp_seq % LS_SWEEP_EVERY == 0)
		ls_sweep(ls);

	struct ls_proc *p = prog == LS_PROG_SMTP ? ls_proc_get(ls, pid) : NULL;
	int rc = 1;
	switch (kind) {
	case LS_TLS_CONN:
		rc = ls_tls_conn(ls, p, m, mn, t);
		break;
	case LS_VERIFY_FAIL:
		rc = ls_verify_fail(ls, p, m, mn, t);
		break;
	case LS_HANDSHAKE_FAIL:
		rc = ls_handshake_fail(ls, p, m, mn, t);
		break;
	case LS_TLSRPT:
		rc = ls_tlsrpt(ls, p, m, mn, t);
		break;
	case LS_TO:
		rc = ls_to(ls, p, m, qn, m + qn + 2, mn - qn - 2, t);
		break;
	case LS_NOT_OFFERED:
		rc = ls_not_offered_at(ls, p, m, qn, m + qn + 2, mn - qn - 2, t);
		break;
	case LS_CANNOT_START:
		ls_cannot_start_tls(ls, p, m, qn, NULL, t);
		break;
	case LS_PROXY_CONNECT:
		rc = ls_proxy_connect(ls, pid, m, mn, t);
		break;
	case LS_PROXY_HS_FAIL:
		rc = ls_proxy_hs_fail(ls, pid, m, mn, t);
		break;
	case LS_NOT_VERIFIED:
	case LS_SKIP:
		break;
	}
	if (p && p->n == 0 && !p->vf && p->key[0] == '\0')
		ls_proc_remove(ls, (size_t)(ls_find_slot(ls, pid) - ls->slots));
	if (rc >= 0)
		return rc;
malformed:
	ls->st.malformed++;
	return -EINVAL;
}

/* --- life cycle ---------------------------------------------------------------------- */

void logscan_set_ref_time(struct logscan *ls, long long ref_time)
{
	logtime_init(&ls->clock, ref_time);
}

struct logscan *logscan_new(long long ref_time, const char *sending_ip, logscan_emit_fn emit,
                            void *arg)
{
	if (!emit) {
		errno = EINVAL;
		return NULL;
	}
	struct logscan *ls = xcalloc(1, sizeof(*ls));
	ls->sending_ip = sending_ip ? xstrdup(sending_ip) : NULL;
	ls->emit = emit;
	ls->emit_arg = arg;
	ls->hs_last = LLONG_MIN / 2;
	logscan_set_ref_time(ls, ref_time);
	return ls;
}

void logscan_set_policy(struct logscan *ls, logscan_policy_fn fn, void *arg)
{
	ls->policy = fn;
	ls->policy_arg = arg;
}

void logscan_finish(struct logscan *ls)
{
	for (size_t i = 0; i < LS_SLOTS; i++) {
		if (ls->slots[i]) {
			ls->st.dropped += ls->slots[i]->n + (ls->slots[i]->vf ? 1 : 0);
			free(ls->slots[i]);
			ls->slots[i] = NULL;
		}
	}
	ls->n_procs = 0;
	memset(ls->proxy, 0, sizeof(ls->proxy));
	memset(ls->conns, 0, sizeof(ls->conns));
}

void logscan_free(struct logscan *ls)
{
	if (!ls)
		return;
	for (size_t i = 0; i < LS_SLOTS; i++)
		free(ls->slots[i]);
	free(ls->sending_ip);
	free(ls);
}

void logscan_stats(const struct logscan *ls, struct logscan_stats *st)
{
	*st = ls->st;
}
