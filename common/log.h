/* log: one logging front for every daemon and command.
 *
 * Three sinks, picked once by log_open(): plain lines on stderr (-f, tests and
 * commands), stderr with "<N>" sd-daemon priority prefixes (under journald, when
 * $JOURNAL_STREAM is set), or syslog(3) facility LOG_MAIL, or plain stderr when
 * there is no syslog socket (/dev/log, e.g. in a container). Every line is
 * escaped before it is written: control characters and bytes that are not
 * printable UTF-8 appear as \xNN, so a logged value can never start a second
 * line. log_warn()/log_err()
 * append ": strerror(errno)" (or of an explicit -errno with the _e variants);
 * log_warnx()/log_errx() do not. Thread safe: each line is one write/syslog call.
 */
#ifndef POSTWARDEN_LOG_H
#define POSTWARDEN_LOG_H

#include <stdarg.h>
#include <stdbool.h>

enum log_sink {
	LOG_SINK_AUTO,   /* journald if $JOURNAL_STREAM, else syslog */
	LOG_SINK_STDERR, /* plain lines (-f) */
	LOG_SINK_JOURNAL,
	LOG_SINK_SYSLOG,
};

/**
 * log_open() - choose where log lines go.
 * @ident: program name used as syslog ident and stderr prefix (not copied: keep it alive)
 * @sink: LOG_SINK_*; LOG_SINK_SYSLOG (also from AUTO) becomes LOG_SINK_STDERR when
 *        the syslog socket does not exist
 * @debug: log_debug() lines are written only when true
 */
void log_open(const char *ident, enum log_sink sink, bool debug);
/* log_set_syslog_path() - the socket log_open() looks for before choosing syslog
 * (default "/dev/log"; for tests). Not copied: keep it alive. */
void log_set_syslog_path(const char *path);

#define LOG_PRINTF(a, b) __attribute__((format(printf, a, b)))
void log_err(const char *fmt, ...) LOG_PRINTF(1, 2);   /* error + strerror(errno) */
void log_errx(const char *fmt, ...) LOG_PRINTF(1, 2);  /* error */
void log_warn(const char *fmt, ...) LOG_PRINTF(1, 2);  /* warning + strerror(errno) */
void log_warnx(const char *fmt, ...) LOG_PRINTF(1, 2); /* warning */
void log_notice(const char *fmt, ...) LOG_PRINTF(1, 2);
void log_info(const char *fmt, ...) LOG_PRINTF(1, 2);
void log_debug(const char *fmt, ...) LOG_PRINTF(1, 2);
/* With an explicit error code: @err is a negative errno (as returned by our APIs). */
void log_err_e(int err, const char *fmt, ...) LOG_PRINTF(2, 3);
void log_warn_e(int err, const char *fmt, ...) LOG_PRINTF(2, 3);

/**
 * log_ratelimit() - true at most once per @interval_s seconds for one @stamp.
 * @stamp: caller-owned time of the last allowed line (0 initially); updated atomically
 */
bool log_ratelimit(long *stamp, int interval_s);

#endif
