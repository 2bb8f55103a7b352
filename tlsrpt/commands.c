/* commands: tlsrpt's admin subcommands (tlsrpt(8)):
 *   ingest-log FILE|-  read a Postfix 3.7-3.9 mail log (logscan.c) and add its TLS sessions
 *           to the store's counters, as the collector adds datagrams; the policy of a
 *           session is the one policyd-mtasts recorded for its domain that day (sts), else
 *           no-policy-found. Syslog dates take their year from the file's modification time
 *           (stdin: now). Progress on stderr every million lines; a summary at the end.
 *   status [DAY]  the counters per policy domain of DAY (YYYY-MM-DD, UTC; default today)
 *           from the store, and what each running collector reported in the last minute
 *   report --day D [--domain D] --dry-run [--out DIR]
 *           the day's RFC 8460 reports (report.c) built from the store, one per policy
 *           domain, printed as JSON, and written gzip-compressed to DIR under their RFC 8460
 *           file names; a dry run looks nothing up, sends nothing and keeps no report-id
 *   report --day D [--domain D]
 *           send them (send.c): only a day over for TLSRPT_SEND_GRACE_S, only when the store
 *           shows an active DKIM selector of report_from's domain, under the store lock
 *           pw:tlsrpt:lock:report:<day> (one host of a fleet sends); one line per domain
 * Exit codes: 0; 1 (ingest-log: the store did not take the counts; status: nothing found;
 * report: a report could not be built, written or delivered);
 * 64 usage; 66 the log cannot be read; 75 not now (the day is not over, another host
 * holds the day's lock); 78 config error (report: report_from, contact_info unset, no
 * active DKIM selector).
 */
#include <errno.h>
#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "deliver.h"
#include "log.h"
#include "logscan.h"
#include "report.h"
#include "send.h"
#include "seen.h"
#include "store.h"
#include "tlsrpt.h"
#include "xalloc.h"

#define TLSRPT_INGEST_FLUSH_EVENTS 100000
#define TLSRPT_EXIT_TEMPFAIL 75 /* EX_TEMPFAIL: not now (day not over, another host sends) */

struct ingest {
	struct store *st;
	struct tlsrpt_agg *agg;
	unsigned long long events;
	struct tlsrpt_seen seen; /* the policies policyd-mtasts recorded, cached */
	long long day_time;      /* the log's reference time: the day looked up */
};

static void ingest_policy(const char *domain, const char *mx_host, struct tlsrpt_policy *p,
                          void *arg)
{
	struct ingest *in = arg;
	tlsrpt_seen_policy(&in->seen, in->day_time, domain, mx_host, p);
}

static void ingest_emit(const struct tlsrpt_event *ev, void *arg)
{
	struct ingest *in = arg;
	tlsrpt_agg_add(in->agg, ev);
	in->events++;
	if (in->events % TLSRPT_INGEST_FLUSH_EVENTS == 0 && in->st)
		tlsrpt_agg_flush(in->agg, in->st, NULL);
}

static int tlsrpt_cmd_ingest(struct daemon *d, int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: tlsrpt ingest-log FILE|-\n");
		return DAEMON_EXIT_USAGE;
	}
	bool in_stdin = strcmp(argv[1], "-") == 0;
	FILE *f = in_stdin ? stdin : fopen(argv[1], "re");
	struct stat sb;
	if (!f || fstat(fileno(f), &sb) < 0) {
		fprintf(stderr, "tlsrpt: %s: %s\n", argv[1], strerror(errno));
		return 66; /* EX_NOINPUT */
	}
	struct daemon_conf *dc = daemon_conf_get(d);
	const struct tlsrpt_conf *c = dc->priv;
	struct ingest in = { .st = daemon_store(d), .agg = tlsrpt_agg_new(0) };
	in.seen.st = in.st;
	long long ref =
	        in_stdin || !S_ISREG(sb.st_mode) ? (long long)time(NULL) : (long long)sb.st_mtime;
	struct logscan *ls = logscan_new(ref, c->sending_ip, ingest_emit, &in);
	logscan_set_policy(ls, ingest_policy, &in);
	in.day_time = ref;

	char *line = NULL;
	size_t cap = 0;
	ssize_t n;
	unsigned long long lines = 0;
	while ((n = getline(&line, &cap, f)) >= 0) {
		if (n > 0 && line[n - 1] == '\n')
			n--;
		logscan_line(ls, line, (size_t)n);
		if (++lines % 1000000 == 0)
			fprintf(stderr, "tlsrpt: %llu lines, %llu sessions\n", lines, in.events);
	}
	logscan_finish(ls);
	struct logscan_stats lst;
	logscan_stats(ls, &lst);
	struct buf err;
	buf_init(&err);
	int rc = in.st ? tlsrpt_agg_flush(in.agg, in.st, &err) : -ENOTCONN;
	printf("%s: %llu lines, %llu smtp lines, %llu TLS sessions counted, %llu malformed, "
	       "%llu without a recipient domain (dropped)\n",
	       argv[1], lst.lines, lst.smtp_lines, lst.events, lst.malformed, lst.dropped);
	if (rc < 0)
		fprintf(stderr, "tlsrpt: the store did not take the counts: %s\n",
		        err.len ? buf_cstr(&err) : strerror(-rc));
	buf_fini(&err);
	free(line);
	logscan_free(ls);
	tlsrpt_agg_free(in.agg);
	tlsrpt_seen_fini(&in.seen);
	if (!in_stdin)
		fclose(f);
	daemon_conf_put(dc);
	return rc < 0 ? 1 : DAEMON_EXIT_OK;
}

struct status_ctx {
	struct store *st;
	int n;
	size_t skip; /* prefix length of the keys scanned */
};

static int status_hash(const char *field, long long value, void *arg)
{
	long long *sf = arg;
	if (strcmp(field, "success") == 0)
		sf[0] += value;
	else if (strcmp(field, "failure") == 0)
		sf[1] += value;
	return 0;
}

static int status_policy(const char *key, const char *val, size_t len, void *arg)
{
	struct status_ctx *s = arg;
	char cnt[STORE_KEY_MAX];
	long long sf[2] = { 0, 0 };
	json_t *o = json_loadb(val, len, 0, NULL);

	snprintf(cnt, sizeof(cnt), "pw:tlsrpt:cnt:%s", key + strlen("pw:tlsrpt:pol:"));
	store_hgetall(s->st, cnt, status_hash, sf);
	printf("  %-40s %-16s success %lld, failure %lld\n",
	       json_string_value(json_object_get(o, "policy-domain")),
	       json_string_value(json_object_get(o, "policy-type")), sf[0], sf[1]);
	json_decref(o);
	s->n++;
	return 0;
}

/* pw:mtasts:fail:<day>:<domain>:<result-type> = N (report.h) */
static int status_fetch_failure(const char *key, const char *val, size_t len, void *arg)
{
	struct status_ctx *s = arg;
	const char *rest = key + s->skip, *colon = strrchr(rest, ':');
	if (!colon)
		return 0;
	printf("  %-40.*s %-16s failure %.*s (policy fetches by policyd-mtasts: %s)\n",
	       (int)(colon - rest), rest, "sts", (int)len, val, colon + 1);
	s->n++;
	return 0;
}

static int status_collector(const char *key, const char *val, size_t len, void *arg)
{
	int *n = arg;
	json_t *o = json_loadb(val, len, 0, NULL);
	printf("  %s: pid %lld, datagrams %lld (queue full %lld, too long %lld, malformed %lld), "
	       "sessions %lld, not stored %lld\n",
	       key + strlen("pw:tlsrpt:status:"), json_integer_value(json_object_get(o, "pid")),
	       json_integer_value(json_object_get(o, "received")),
	       json_integer_value(json_object_get(o, "dropped_full")),
	       json_integer_value(json_object_get(o, "truncated")),
	       json_integer_value(json_object_get(o, "malformed")),
	       json_integer_value(json_object_get(o, "sessions")),
	       json_integer_value(json_object_get(o, "dropped")));
	json_t *lg = json_object_get(o, "log"); /* logfile = (follow.c) */
	if (json_is_object(lg))
		printf("    log: %lld lines, %lld sessions, %lld malformed, %lld dropped, %lld "
		       "rotations\n",
		       json_integer_value(json_object_get(lg, "lines")),
		       json_integer_value(json_object_get(lg, "sessions")),
		       json_integer_value(json_object_get(lg, "malformed")),
		       json_integer_value(json_object_get(lg, "dropped")),
		       json_integer_value(json_object_get(lg, "rotations")));
	json_decref(o);
	(*n)++;
	return 0;
}

/* The last run of @day's reports (send.h's pw:tlsrpt:run:<day>), one line and one per
 * failed domain. */
static void status_run(struct store *st, const char *day)
{
	char key[STORE_KEY_MAX], *val = NULL, at[32] = "?";
	size_t len;
	snprintf(key, sizeof(key), "%s%s", TLSRPT_RUN_PREFIX, day);
	if (store_get(st, key, &val, &len) != 0) {
		printf("  %s: no run\n", day);
		return;
	}
	json_t *o = json_loadb(val, len, 0, NULL), *failed = json_object_get(o, "failed"), *v;
	time_t t = (time_t)json_integer_value(json_object_get(o, "at"));
	struct tm tm;
	if (t > 0)
		strftime(at, sizeof(at), "%Y-%m-%d %H:%M:%S UTC", gmtime_r(&t, &tm));
	const char *by = json_string_value(json_object_get(o, "by"));
	const char *refused = json_string_value(json_object_get(o, "refused"));
	const char *dom;
	if (refused) {
		printf("  %s: %s by %s: REFUSED: %s\n", day, at, by ? by : "?", refused);
	} else {
		printf("  %s: %s by %s: %lld delivered, %lld already sent, %lld without a TLSRPT "
		       "record, %zu FAILED\n",
		       day, at, by ? by : "?", json_integer_value(json_object_get(o, "delivered")),
		       json_integer_value(json_object_get(o, "already")),
		       json_integer_value(json_object_get(o, "no_record")),
		       json_object_size(failed));
		json_object_foreach(failed, dom, v)
		{
			printf("    %s: %s\n", dom,
			       json_string_value(v) ? json_string_value(v) : "?");
		}
	}
	json_decref(o);
	free(val);
}

static int tlsrpt_cmd_status(struct daemon *d, int argc, char **argv)
{
	struct tm tm;
	if (argc > 2 ||
	    (argc == 2 && (strlen(argv[1]) != 10 || !strptime(argv[1], "%Y-%m-%d", &tm)))) {
		fprintf(stderr, "usage: tlsrpt status [YYYY-MM-DD]\n");
		return DAEMON_EXIT_USAGE;
	}
	struct store *st = daemon_store(d);
	if (!st) {
		printf("store: unavailable\n");
		return 1;
	}
	char day[11], prefix[64];
	struct status_ctx s = { .st = st };
	int collectors = 0;

	if (argc == 2)
		snprintf(day, sizeof(day), "%s", argv[1]);
	else
		clock_utc_day(time(NULL), day);
	snprintf(prefix, sizeof(prefix), "pw:tlsrpt:pol:%s:", day);
	printf("sessions on %s (UTC; all hosts sharing store %s):\n", day, store_backend(st));
	store_scan(st, prefix, status_policy, &s);
	snprintf(prefix, sizeof(prefix), "%s%s:", TLSRPT_MTASTS_FAIL_PREFIX, day);
	s.skip = strlen(prefix);
	store_scan(st, prefix, status_fetch_failure, &s);
	if (s.n == 0)
		printf("  none yet\n");
	printf("report runs (the last of each day):\n");
	if (argc == 2) {
		status_run(st, day);
	} else {
		for (int ago = 1; ago <= 3; ago++) {
			char past[11];
			clock_utc_day(time(NULL) - (long long)ago * 86400, past);
			status_run(st, past);
		}
	}
	printf("collectors (reports of the last minute):\n");
	store_scan(st, "pw:tlsrpt:status:", status_collector, &collectors);
	if (collectors == 0)
		printf("  none running\n");
	return s.n || collectors ? DAEMON_EXIT_OK : 1;
}

struct report_args {
	const char *day, *domain, *out;
	bool dry_run;
};

static int report_parse_args(int argc, char **argv, struct report_args *a)
{
	long long b, e;
	memset(a, 0, sizeof(*a));
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--dry-run") == 0)
			a->dry_run = true;
		else if (strcmp(argv[i], "--day") == 0 && i + 1 < argc)
			a->day = argv[++i];
		else if (strcmp(argv[i], "--domain") == 0 && i + 1 < argc)
			a->domain = argv[++i];
		else if (strcmp(argv[i], "--out") == 0 && i + 1 < argc)
			a->out = argv[++i];
		else
			return -EINVAL;
	}
	return a->day && tlsrpt_day_bounds(a->day, &b, &e) == 0 ? 0 : -EINVAL;
}

/* Write @gz to DIR/@name (mode 0640). Return 0 or -errno. */
static int report_write(const char *dir, const char *name, const struct buf *gz)
{
	char path[4096];
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	FILE *f = fopen(path, "wxe");
	if (!f)
		return -errno;
	size_t n = fwrite(gz->data, 1, gz->len, f);
	int rc = fclose(f) == 0 && n == gz->len ? 0 : -EIO;
	if (rc == 0)
		printf("wrote %s (%zu bytes)\n", path, gz->len);
	return rc;
}

/* One domain's report: built, printed, written to --out. Return 0, 1 (nothing), -errno. */
static int report_one(struct store *st, const struct report_args *a,
                      const struct tlsrpt_report_meta *meta, const char *domain)
{
	char id[320], name[1024];
	json_t *rep = NULL;
	struct buf err, gz;
	int rc = tlsrpt_report_id(st, a->day, domain, !a->dry_run, id, sizeof(id));
	if (rc < 0) {
		fprintf(stderr, "tlsrpt: %s: report-id: %s\n", domain, strerror(-rc));
		return rc;
	}
	buf_init(&err);
	buf_init(&gz);
	rc = tlsrpt_report_build(st, a->day, domain, id, meta, &rep, &err);
	if (rc < 0)
		fprintf(stderr, "tlsrpt: %s: %s\n", domain, buf_cstr(&err));
	if (rc == 0) {
		tlsrpt_report_filename(meta, domain, a->day, id, name, sizeof(name));
		char *text = json_dumps(rep, JSON_INDENT(2));
		printf("# %s\n%s\n", name, text ? text : "");
		free(text);
		if (a->out && (rc = tlsrpt_report_gzip(rep, &gz)) == 0 &&
		    (rc = report_write(a->out, name, &gz)) < 0)
			fprintf(stderr, "tlsrpt: %s/%s: %s\n", a->out, name, strerror(-rc));
	}
	json_decref(rep);
	buf_fini(&gz);
	buf_fini(&err);
	return rc;
}

static void report_print(const char *domain, int rc, const char *what, void *arg)
{
	(void)rc;
	(void)arg;
	printf("%s: %s\n", domain, what);
	fflush(stdout);
}

/* The day's reports sent (send.c). Return the exit code. */
static int report_send(struct store *st, const struct daemon_conf *dc, const struct report_args *a)
{
	static const int exits[] = {
		[TLSRPT_RUN_DONE] = DAEMON_EXIT_OK,
		[TLSRPT_RUN_FAILED] = DAEMON_EXIT_FAIL,
		[TLSRPT_RUN_OPEN] = TLSRPT_EXIT_TEMPFAIL,
		[TLSRPT_RUN_LOCKED] = TLSRPT_EXIT_TEMPFAIL,
		[TLSRPT_RUN_NO_DKIM] = DAEMON_EXIT_CONFIG,
		[TLSRPT_RUN_CONFIG] = DAEMON_EXIT_CONFIG,
	};
	struct buf err;
	unsigned sent = 0;
	buf_init(&err);
	signal(SIGPIPE, SIG_IGN);
	int rc = tlsrpt_send_run(st, dc->cfg, a->day, a->domain, (long long)time(NULL), NULL,
	                         report_print, NULL, &sent, &err);
	if (err.len)
		fprintf(stderr, "tlsrpt: %s\n", buf_cstr(&err));
	if (rc == TLSRPT_RUN_DONE || rc == TLSRPT_RUN_FAILED)
		fprintf(stderr, "tlsrpt: %s: %u report%s sent%s\n", a->day, sent,
		        sent == 1 ? "" : "s",
		        rc == TLSRPT_RUN_FAILED ? ", some domains failed" : "");
	buf_fini(&err);
	return rc < 0 ? DAEMON_EXIT_FAIL : exits[rc];
}

static int tlsrpt_cmd_report(struct daemon *d, int argc, char **argv)
{
	struct report_args a;
	if (report_parse_args(argc, argv, &a) < 0 || (a.out && !a.dry_run)) {
		fprintf(stderr, "usage: tlsrpt report --day YYYY-MM-DD [--domain D] "
		                "[--dry-run [--out DIR]]\n");
		return DAEMON_EXIT_USAGE;
	}
	struct store *st = daemon_store(d);
	if (!st) {
		fprintf(stderr, "tlsrpt: the store cannot be opened\n");
		return DAEMON_EXIT_UNAVAIL;
	}
	struct daemon_conf *dc = daemon_conf_get(d);
	struct tlsrpt_report_meta meta = {
		.organization_name = cfg_str(dc->cfg, NULL, "organization_name"),
		.contact_info = cfg_str(dc->cfg, NULL, "contact_info"),
	};
	if (!a.dry_run) {
		int ex = report_send(st, dc, &a);
		daemon_conf_put(dc);
		return ex;
	}
	char **domains = NULL;
	size_t n = 0;
	int rc = 0, made = 0;
	if (a.domain) {
		rc = report_one(st, &a, &meta, a.domain);
		made += rc == 0;
	} else if ((rc = tlsrpt_report_domains(st, a.day, &domains, &n)) == 0) {
		for (size_t i = 0; i < n; i++) {
			int r = report_one(st, &a, &meta, domains[i]);
			made += r == 0;
			if (r < 0)
				rc = r;
		}
	}
	tlsrpt_report_domains_free(domains);
	fprintf(stderr, "tlsrpt: %d report%s for %s (dry run: nothing sent or marked)\n", made,
	        made == 1 ? "" : "s", a.day);
	daemon_conf_put(dc);
	return rc < 0 ? 1 : DAEMON_EXIT_OK;
}

/* check: report settings, the sendmail program, the log to follow. */
static void check_settings(const struct cfg *cfg, struct daemon_check *ck)
{
	const char *from = cfg_str(cfg, NULL, "report_from");
	const char *contact = cfg_str(cfg, NULL, "contact_info");
	const char *sm = cfg_str(cfg, NULL, "sendmail");
	const char *logfile = cfg_str(cfg, NULL, "logfile");
	char prog[4096];

	if (!*from)
		printf("report_from is not set: this host collects, and sends no reports\n");
	else if (!strchr(from, '@'))
		daemon_check_problem(ck, DAEMON_EXIT_CONFIG, "report_from = %s: not an address",
		                     from);
	if (*from && (!*contact || !strchr(contact, '@')))
		daemon_check_problem(ck, DAEMON_EXIT_CONFIG,
		                     "contact_info = %s: an address is needed to send reports",
		                     contact);
	snprintf(prog, sizeof(prog), "%.*s", (int)strcspn(sm, " \t"), sm);
	if (*from && access(prog, X_OK) < 0)
		daemon_check_problem(ck, DAEMON_EXIT_UNAVAIL, "sendmail = %s: %s: %s", sm, prog,
		                     strerror(errno));
	if (*logfile && strncmp(logfile, "journal", 7) != 0) {
		if (access(logfile, R_OK) == 0)
			printf("logfile %s: readable\n", logfile);
		else if (errno == ENOENT)
			printf("logfile %s: not there yet (followed once it appears)\n", logfile);
		else
			daemon_check_problem(ck, DAEMON_EXIT_UNAVAIL,
			                     "logfile = %s: %s (the service user must be able to "
			                     "read it: tlsrpt(8), SYSTEMD)",
			                     logfile, strerror(errno));
	}
}

/* check: an active DKIM selector of report_from's domain (RFC 8460 section 3), when the
 * store can be opened without creating it. */
static void check_dkim(const struct cfg *cfg, struct daemon_check *ck)
{
	const char *from = cfg_str(cfg, NULL, "report_from"), *uri = cfg_str(cfg, NULL, "store");
	const char *at = strrchr(from, '@');
	struct stat sb;
	char dom[256], sel[STORE_KEY_MAX], dir[4096];

	if (!at || !*uri)
		return;
	if (strncmp(uri, "lmdb:", 5) == 0) {
		snprintf(dir, sizeof(dir), "%.*s", (int)strcspn(uri + 5, "?"), uri + 5);
		if (stat(dir, &sb) < 0) {
			printf("DKIM: not checked (the store is not made yet)\n");
			return;
		}
	}
	struct store *st = store_open(uri);
	if (!st)
		return;
	snprintf(dom, sizeof(dom), "%s", at + 1);
	for (char *p = dom; *p; p++)
		if (*p >= 'A' && *p <= 'Z')
			*p = (char)(*p - 'A' + 'a');
	int rc = tlsrpt_dkim_selector(st, dom, sel, sizeof(sel));
	char *colon = strrchr(sel, ':'); /* "<d>:<selector>" */
	if (rc == 0 && colon)
		printf("DKIM: milter-dkim signs %s as d=%.*s, selector %s\n", dom,
		       (int)(colon - sel), sel, colon + 1);
	else if (rc == 1)
		daemon_check_problem(
		        ck, DAEMON_EXIT_UNAVAIL,
		        "DKIM: no active selector for %s in the store: report mail "
		        "must be DKIM-signed (RFC 8460 section 3), reports are refused",
		        dom);
	store_close(st);
}

static int tlsrpt_cmd_check(struct daemon *d, int argc, char **argv)
{
	struct daemon_check ck = { 0 };

	(void)argv;
	if (argc > 1) {
		fprintf(stderr, "usage: tlsrpt check\n");
		return DAEMON_EXIT_USAGE;
	}
	if (daemon_check_begin(d, &ck) < 0)
		return daemon_check_end(d, &ck);
	struct daemon_conf *dc = daemon_conf_get(d);
	check_settings(dc->cfg, &ck);
	unsigned before = ck.problems;
	daemon_check_store(d, &ck);
	if (ck.problems == before)
		check_dkim(dc->cfg, &ck);
	daemon_conf_put(dc);
	return daemon_check_end(d, &ck);
}

const struct daemon_cmd tlsrpt_commands[] = {
	{ "report", "--day YYYY-MM-DD [--domain D] [--dry-run [--out DIR]]",
	  "send the RFC 8460 reports of a past day (dry run: print them, gzip files in DIR)",
	  tlsrpt_cmd_report, DAEMON_NEEDS_CONF | DAEMON_NEEDS_STORE, NULL },
	{ "ingest-log", "FILE|-", "count the TLS sessions of a Postfix 3.7-3.9 mail log",
	  tlsrpt_cmd_ingest, DAEMON_NEEDS_CONF | DAEMON_NEEDS_STORE, NULL },
	{ "status", "[YYYY-MM-DD]", "a day's sessions per policy domain and the running collectors",
	  tlsrpt_cmd_status, DAEMON_NEEDS_STORE, NULL },
	{ "check", "",
	  "as the service user: report settings, sendmail, the log, store, DKIM selector of "
	  "report_from; create nothing",
	  tlsrpt_cmd_check, 0, NULL },
	{ NULL, NULL, NULL, NULL, 0, NULL },
};
