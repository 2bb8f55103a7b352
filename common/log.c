/* log: stderr / journald-prefixed stderr / syslog LOG_MAIL sinks (see log.h).
 *
 * Contract: every public call formats one complete line and emits it with a
 * single write(2) or syslog(3), so lines from libmilter's many threads never
 * interleave. Never allocates on the heap; lines longer than 4 KiB are cut.
 * Every formatted line is escaped here (escape.h: control characters and bytes
 * that are not printable UTF-8 become \xNN), so no value from the network can
 * start a forged line, whichever caller logs it. The syslog sink needs the
 * /dev/log socket: without it (containers) lines go to stderr instead.
 * Messages about mail carry the queue id; secrets are never passed here.
 */
#include "log.h"

#include "escape.h"

#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

static const char *log_ident = "postwarden";
static enum log_sink log_sink = LOG_SINK_STDERR;
static atomic_bool log_dbg;
static const char *log_syslog_path = "/dev/log";

void log_set_syslog_path(const char *path)
{
	log_syslog_path = path;
}

static bool log_syslog_present(void)
{
	struct stat st;
	return stat(log_syslog_path, &st) == 0 && S_ISSOCK(st.st_mode);
}

void log_open(const char *ident, enum log_sink sink, bool debug)
{
	log_ident = ident;
	if (sink == LOG_SINK_AUTO)
		sink = getenv("JOURNAL_STREAM") ? LOG_SINK_JOURNAL : LOG_SINK_SYSLOG;
	if (sink == LOG_SINK_SYSLOG && !log_syslog_present())
		sink = LOG_SINK_STDERR;
	log_sink = sink;
	atomic_store(&log_dbg, debug);
	if (sink == LOG_SINK_SYSLOG)
		openlog(ident, LOG_PID | LOG_NDELAY, LOG_MAIL);
}

static const char *log_level_name(int prio)
{
	switch (prio) {
	case LOG_ERR:
		return "error: ";
	case LOG_WARNING:
		return "warning: ";
	case LOG_DEBUG:
		return "debug: ";
	default:
		return "";
	}
}

static void log_emit(int prio, int err, const char *fmt, va_list ap)
{
	char line[4096], esc[4096];
	char *out = line;
	size_t n = 0;
	int r;

	if (prio == LOG_DEBUG && !atomic_load(&log_dbg))
		return;
	if (log_sink == LOG_SINK_JOURNAL)
		r = snprintf(line, sizeof(line), "<%d>%s", prio, log_level_name(prio));
	else if (log_sink == LOG_SINK_STDERR)
		r = snprintf(line, sizeof(line), "%s: %s", log_ident, log_level_name(prio));
	else
		r = snprintf(line, sizeof(line), "%s", log_level_name(prio));
	n = r > 0 ? (size_t)r : 0;
	r = vsnprintf(line + n, sizeof(line) - n, fmt, ap);
	if (r > 0)
		n += (size_t)r;
	if (n >= sizeof(line))
		n = sizeof(line) - 1;
	if (err && n < sizeof(line) - 1) {
		char eb[128];
		const char *es = strerror_r(err, eb, sizeof(eb));
		r = snprintf(line + n, sizeof(line) - n, ": %s", es);
		if (r > 0)
			n += (size_t)r;
		if (n >= sizeof(line))
			n = sizeof(line) - 1;
	}
	line[n] = '\0';
	if (escape_needed(line, n)) {
		n = escape_text(esc, sizeof(esc) - 1, line, n); /* room for the newline */
		out = esc;
	}
	if (log_sink == LOG_SINK_SYSLOG) {
		syslog(prio, "%s", out);
		return;
	}
	if (n >= sizeof(line) - 1)
		n = sizeof(line) - 2;
	out[n++] = '\n';
	ssize_t w = write(STDERR_FILENO, out, n);
	(void)w;
}

#define LOG_DEFINE(name, prio, with_errno)                                                         \
	void name(const char *fmt, ...)                                                            \
	{                                                                                          \
		int saved = errno;                                                                 \
		va_list ap;                                                                        \
		va_start(ap, fmt);                                                                 \
		log_emit(prio, (with_errno) ? saved : 0, fmt, ap);                                 \
		va_end(ap);                                                                        \
		errno = saved;                                                                     \
	}

LOG_DEFINE(log_err, LOG_ERR, 1)
LOG_DEFINE(log_errx, LOG_ERR, 0)
LOG_DEFINE(log_warn, LOG_WARNING, 1)
LOG_DEFINE(log_warnx, LOG_WARNING, 0)
LOG_DEFINE(log_notice, LOG_NOTICE, 0)
LOG_DEFINE(log_info, LOG_INFO, 0)
LOG_DEFINE(log_debug, LOG_DEBUG, 0)

void log_err_e(int err, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	log_emit(LOG_ERR, err < 0 ? -err : err, fmt, ap);
	va_end(ap);
}

void log_warn_e(int err, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	log_emit(LOG_WARNING, err < 0 ? -err : err, fmt, ap);
	va_end(ap);
}

bool log_ratelimit(long *stamp, int interval_s)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	long now = (long)ts.tv_sec + 1; /* never 0, so a zeroed stamp always allows */
	_Atomic long *s = (_Atomic long *)stamp;
	long last = atomic_load(s);
	if (last && now - last < interval_s)
		return false;
	return atomic_compare_exchange_strong(s, &last, now);
}
