/* follow: `logfile =` for Postfix 3.7-3.9 (no libtlsrpt): one thread, started with the
 * collector, reads the mail log as it grows and feeds each line to one logscan; the events
 * go to the process's counters (tlsrpt_counters()), which the tick adds to the store like
 * the datagrams' events.
 *
 * `logfile = PATH` behaves like `tail -F`, polling every FOLLOW_POLL_MS:
 *  - where it starts: the position saved in the store for this host and path
 *    (pw:tlsrpt:logpos:<host>:<path> = {"inode","offset"}) when the file is still the same
 *    inode and at least that long; the start of the file when the inode differs (the log
 *    was rotated while the collector was down: the lines left in the rotated file are not
 *    read); the end of the file when nothing is saved (first start). A file that does not
 *    exist yet is waited for and read from its start.
 *  - complete lines only: a last line without its newline waits for the rest.
 *  - rotation: a new inode at PATH (mv + new file) -> the old file is read to its end (its
 *    unfinished last line counted as a line), then the new one from its start; a file
 *    shorter than the offset read (truncated, copytruncate) is read again from its start.
 *  - the position is saved after the lines it covers were handed to the counters: at most
 *    once a second, and when stopping. The counters reach the store at the next tick, so a
 *    crash loses up to one tick of sessions but never counts a line twice; a clean stop
 *    loses nothing but the sessions still waiting for their to= line (logscan_finish(),
 *    counted as dropped), which a restart cannot complete either.
 * `logfile = journal` reads the local system journal with sd-journal (needs libsystemd at
 * build time; the service user must be allowed to read it, e.g. group systemd-journal or
 * adm), `logfile = journal:NAMESPACE` the journal namespace a Postfix unit logs to with
 * LogNamespace= (systemd >= 245): entries of SYSLOG_IDENTIFIER postfix/smtp and
 * postfix/tlsproxy (a multi-instance syslog_name such as postfix-out/smtp is not matched),
 * from the end of the journal at start (no saved position: sessions logged while the
 * collector was down are not counted), each rebuilt as a `journalctl -o short-iso` line
 * ("<UTC ISO time> <host> <ident>[<pid>]: <message>") for logscan.
 *
 * A stop (daemon_wait_stop()) wakes the thread (a long catch-up read yields to it); it
 * reads once more what is already written (at most FOLLOW_STOP_READ bytes: the rest waits
 * for the restart), saves its position and ends; tlsrpt_follow_join() (the final tick) waits for it
 * before the last flush. A reload does not change the file followed: restart for that.
 * Malformed lines are counted by logscan and never stop the thread.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <jansson.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#ifdef HAVE_SYSTEMD
#include <systemd/sd-journal.h>
#endif

#include "log.h"
#include "logscan.h"
#include "seen.h"
#include "store.h"
#include "tlsrpt.h"
#include "xalloc.h"

#define FOLLOW_POLL_MS 250
#define FOLLOW_READ 65536
#define FOLLOW_LINE_MAX 65536 /* longer lines are skipped (counted as skipped) */
#define FOLLOW_SAVE_S 1
#define FOLLOW_STOP_READ (16LL << 20) /* read at most this much more once stopping */

struct follow {
	struct daemon *d;
	char *path; /* "journal" or a file */
	pthread_t thread;
	struct logscan *ls;
	struct tlsrpt_seen seen;
	/* the partial line */
	char *pend;
	size_t plen, pcap;
	bool skipping;                /* inside a line longer than FOLLOW_LINE_MAX */
	long long saved_at;           /* when the position was last saved */
	unsigned long long saved_ino; /* and what it was */
	long long saved_off;
};

static struct follow *follower;   /* set and cleared by the main thread */
static atomic_bool follow_active; /* a follower was started */
static atomic_ullong follow_lines, follow_sessions, follow_malformed, follow_dropped,
        follow_skipped, follow_rotations;

void tlsrpt_follow_stats(struct tlsrpt_follow_stats *s)
{
	s->active = atomic_load(&follow_active);
	s->lines = atomic_load(&follow_lines);
	s->sessions = atomic_load(&follow_sessions);
	s->malformed = atomic_load(&follow_malformed);
	s->dropped = atomic_load(&follow_dropped);
	s->skipped = atomic_load(&follow_skipped);
	s->rotations = atomic_load(&follow_rotations);
}

static void follow_emit(const struct tlsrpt_event *ev, void *arg)
{
	static long stamp;
	(void)arg;
	if (tlsrpt_agg_add(tlsrpt_counters(), ev) < 0 && log_ratelimit(&stamp, 60))
		log_errx("counter table full (the store has not taken counts): dropping");
}

static void follow_policy(const char *domain, const char *mx_host, struct tlsrpt_policy *p,
                          void *arg)
{
	struct follow *f = arg;
	tlsrpt_seen_policy(&f->seen, time(NULL), domain, mx_host, p);
}

/* The logscan counters, published for the status record. */
static void follow_publish(struct follow *f)
{
	struct logscan_stats st;
	logscan_stats(f->ls, &st);
	atomic_store(&follow_lines, st.lines);
	atomic_store(&follow_sessions, st.events);
	atomic_store(&follow_malformed, st.malformed);
	atomic_store(&follow_dropped, st.dropped);
}

static void follow_line(struct follow *f, const char *p, size_t n)
{
	logscan_line(f->ls, p, n);
}

/* Feed the complete lines of @p (@n bytes, appended to the partial line); keep the rest. */
static void follow_data(struct follow *f, const char *p, size_t n)
{
	logscan_set_ref_time(f->ls, time(NULL));
	while (n > 0) {
		const char *nl = memchr(p, '\n', n);
		size_t take = nl ? (size_t)(nl - p) : n;
		if (!f->skipping) {
			if (f->plen + take > FOLLOW_LINE_MAX) {
				f->skipping = true;
				f->plen = 0;
				atomic_fetch_add(&follow_skipped, 1);
			} else if (nl && f->plen == 0) {
				follow_line(f, p, take);
			} else {
				if (f->plen + take > f->pcap) {
					f->pcap = f->plen + take + 256;
					f->pend = xrealloc(f->pend, f->pcap);
				}
				memcpy(f->pend + f->plen, p, take);
				f->plen += take;
				if (nl) {
					follow_line(f, f->pend, f->plen);
					f->plen = 0;
				}
			}
		}
		if (!nl)
			break;
		f->skipping = false;
		p = nl + 1;
		n -= take + 1;
	}
	follow_publish(f);
}

static void follow_pos_key(const struct follow *f, char *key, size_t size)
{
	char host[256];
	store_host_name(host, sizeof(host));
	snprintf(key, size, "pw:tlsrpt:logpos:%s:%s", host, f->path);
}

/* The saved position, or -1. */
static int follow_pos_load(struct follow *f, unsigned long long *ino, long long *off)
{
	struct store *st = daemon_store(f->d);
	char key[STORE_KEY_MAX], *val = NULL;
	size_t len;
	int rc = -1;

	follow_pos_key(f, key, sizeof(key));
	if (!st || store_get(st, key, &val, &len) != 0)
		return -1;
	json_t *o = json_loadb(val, len, 0, NULL);
	json_t *i = json_object_get(o, "inode"), *of = json_object_get(o, "offset");
	if (json_is_integer(i) && json_is_integer(of) && json_integer_value(of) >= 0) {
		*ino = (unsigned long long)json_integer_value(i);
		*off = json_integer_value(of);
		rc = 0;
	}
	json_decref(o);
	free(val);
	return rc;
}

static void follow_pos_save(struct follow *f, unsigned long long ino, long long off, bool now)
{
	static long stamp;
	struct store *st = daemon_store(f->d);
	long long t = time(NULL);
	char key[STORE_KEY_MAX], val[96];

	if (!st || (ino == f->saved_ino && off == f->saved_off) ||
	    (!now && t - f->saved_at < FOLLOW_SAVE_S))
		return;
	f->saved_at = t;
	f->saved_ino = ino;
	f->saved_off = off;
	follow_pos_key(f, key, sizeof(key));
	int n = snprintf(val, sizeof(val), "{\"inode\":%llu,\"offset\":%lld}", ino, off);
	if (store_set(st, key, val, (size_t)n, 0) < 0 && log_ratelimit(&stamp, 60))
		log_errx("%s: cannot save the log position in the store", f->path);
}

/* Read @fd to its end, or until @limit bytes, or (@limit < 0) until a stop is requested.
 * Return the bytes read. */
static long long follow_drain(struct follow *f, int fd, long long limit)
{
	static char buf[FOLLOW_READ]; /* one follower thread */
	long long total = 0;
	ssize_t n = 0;
	while ((limit < 0 ? !daemon_stopping(f->d) : total < limit) &&
	       (n = read(fd, buf, sizeof(buf))) > 0) {
		follow_data(f, buf, (size_t)n);
		total += n;
	}
	if (n < 0) {
		static long stamp;
		if (log_ratelimit(&stamp, 60))
			log_warn("%s: read", f->path);
	}
	return total;
}

static void follow_file(struct follow *f)
{
	int fd = -1;
	struct stat sb;
	unsigned long long ino = 0, saved_ino = 0;
	long long off = 0, saved_off = 0;
	bool first = true, have_saved = follow_pos_load(f, &saved_ino, &saved_off) == 0;
	bool last = false, missing_logged = false;

	for (;;) {
		if (fd < 0) {
			fd = open(f->path, O_RDONLY | O_CLOEXEC);
			if (fd >= 0 && fstat(fd, &sb) < 0) {
				close(fd);
				fd = -1;
			}
			if (fd >= 0) {
				ino = (unsigned long long)sb.st_ino;
				off = 0;
				if (first && have_saved && saved_ino == ino &&
				    saved_off <= sb.st_size)
					off = saved_off;
				else if (first && !have_saved)
					off = sb.st_size;
				if (lseek(fd, off, SEEK_SET) < 0)
					off = 0;
				f->plen = 0;
				f->skipping = false;
				log_info("%s: following from offset %lld", f->path, off);
				first = false;
			} else if (fd < 0 && !missing_logged) {
				log_warn("%s: waiting for the log", f->path);
				missing_logged = true;
				first = false; /* it will be new when it comes */
			}
		}
		if (fd >= 0) {
			/* a catch-up (restart far behind) yields to a stop; the last pass after
			 * it reads a bounded amount, the rest is read after the restart */
			long long got = follow_drain(f, fd, last ? FOLLOW_STOP_READ : -1);
			off += got;
			struct stat ps;
			if (last && got >= FOLLOW_STOP_READ) {
				follow_pos_save(f, ino, off - (long long)f->plen, true);
				break;
			}
			if (stat(f->path, &ps) == 0 && (unsigned long long)ps.st_ino != ino) {
				/* what was written before the rename, all of it: a rotated file is
				 * not read after a restart */
				off += follow_drain(f, fd, LLONG_MAX);
				if (f->plen && !f->skipping)
					follow_line(f, f->pend, f->plen);
				f->plen = 0;
				follow_publish(f);
				close(fd);
				fd = -1;
				atomic_fetch_add(&follow_rotations, 1);
				continue; /* the new file, from its start */
			}
			if (stat(f->path, &ps) == 0 && ps.st_size < off) {
				log_info("%s: truncated: reading from the start", f->path);
				lseek(fd, 0, SEEK_SET);
				off = 0;
				f->plen = 0;
				atomic_fetch_add(&follow_rotations, 1);
				continue;
			}
			follow_pos_save(f, ino, off - (long long)f->plen, last);
		}
		if (last)
			break;
		if (daemon_wait_stop(f->d, FOLLOW_POLL_MS))
			last = true; /* one more pass over what is written already */
	}
	if (fd >= 0)
		close(fd);
}

#ifdef HAVE_SYSTEMD
/* A journal field's value (after "NAME="), or "" . */
static const char *journal_field(sd_journal *j, const char *name, size_t *len)
{
	const void *d;
	size_t l, nl = strlen(name);
	if (sd_journal_get_data(j, name, &d, &l) < 0 || l <= nl) {
		*len = 0;
		return "";
	}
	*len = l - nl - 1;
	return (const char *)d + nl + 1;
}

static void follow_journal(struct follow *f)
{
	sd_journal *j;
	const char *ns = f->path[strlen("journal")] == ':' ? f->path + strlen("journal:") : NULL;
	int r = ns ? sd_journal_open_namespace(&j, ns, SD_JOURNAL_LOCAL_ONLY)
	           : sd_journal_open(&j, SD_JOURNAL_LOCAL_ONLY | SD_JOURNAL_SYSTEM);
	if (r < 0) {
		errno = -r;
		log_err("%s: cannot open", f->path);
		return;
	}
	sd_journal_add_match(j, "SYSLOG_IDENTIFIER=postfix/smtp", 0);
	sd_journal_add_match(j, "SYSLOG_IDENTIFIER=postfix/tlsproxy", 0);
	/* The last matching entry, so that next() returns what comes after it. The tail is
	 * resolved lazily: with nothing there yet (a journal file that does not exist yet),
	 * it would skip whatever the first file holds when it appears, so then start from
	 * the head instead: every matching entry is new. */
	sd_journal_seek_tail(j);
	if (sd_journal_previous(j) <= 0)
		sd_journal_seek_head(j);
	log_info("%s: following from its end", f->path);
	struct buf line;
	buf_init(&line);
	bool last = false;
	for (;;) {
		while (sd_journal_next(j) > 0) {
			uint64_t us;
			size_t hl, il, pl, ml;
			if (sd_journal_get_realtime_usec(j, &us) < 0)
				continue;
			time_t t = (time_t)(us / 1000000);
			struct tm tm;
			char ts[32];
			gmtime_r(&t, &tm);
			strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%S+0000", &tm);
			const char *host = journal_field(j, "_HOSTNAME", &hl);
			const char *id = journal_field(j, "SYSLOG_IDENTIFIER", &il);
			const char *pid = journal_field(j, "SYSLOG_PID", &pl);
			if (!pl)
				pid = journal_field(j, "_PID", &pl);
			const char *msg = journal_field(j, "MESSAGE", &ml);
			buf_reset(&line);
			buf_printf(&line, "%s %.*s %.*s[%.*s]: %.*s", ts, (int)hl, host, (int)il,
			           id, (int)pl, pid, (int)ml, msg);
			logscan_set_ref_time(f->ls, time(NULL));
			follow_line(f, line.data, line.len);
			follow_publish(f);
		}
		if (last)
			break;
		if (daemon_stopping(f->d)) {
			last = true;
			continue;
		}
		sd_journal_wait(j, (uint64_t)FOLLOW_POLL_MS * 1000);
	}
	buf_fini(&line);
	sd_journal_close(j);
}
#endif

static void *follow_main(void *arg)
{
	struct follow *f = arg;
	if (strcmp(f->path, "journal") == 0 || strncmp(f->path, "journal:", 8) == 0) {
#ifdef HAVE_SYSTEMD
		follow_journal(f);
#else
		log_errx("logfile = journal: built without libsystemd");
#endif
	} else {
		follow_file(f);
	}
	logscan_finish(f->ls);
	follow_publish(f);
	return NULL;
}

int tlsrpt_follow_start(struct daemon *d, const char *path, const char *sending_ip)
{
	struct follow *f = xcalloc(1, sizeof(*f));
	f->d = d;
	f->path = xstrdup(path);
	f->seen.st = daemon_store(d);
	f->ls = logscan_new(time(NULL), sending_ip, follow_emit, f);
	if (!f->ls) {
		free(f->path);
		free(f);
		return -ENOMEM;
	}
	logscan_set_policy(f->ls, follow_policy, f);
	int rc = pthread_create(&f->thread, NULL, follow_main, f);
	if (rc != 0) {
		logscan_free(f->ls);
		free(f->path);
		free(f);
		return -rc;
	}
	follower = f;
	atomic_store(&follow_active, true);
	return 0;
}

void tlsrpt_follow_reloaded(const char *logfile)
{
	const char *now = follower ? follower->path : "";
	if (strcmp(now, logfile) != 0)
		log_notice("logfile = %s takes effect at the next start (now: %s)", logfile,
		           *now ? now : "none");
}

void tlsrpt_follow_join(void)
{
	struct follow *f = follower;
	if (!f)
		return;
	pthread_join(f->thread, NULL);
	follower = NULL; /* follow_active stays: the final status record has its counts */
	logscan_free(f->ls);
	tlsrpt_seen_fini(&f->seen);
	free(f->pend);
	free(f->path);
	free(f);
}
