/* notify: sd_notify(3) READY/RELOADING/STOPPING/STATUS, a no-op without
 * $NOTIFY_SOCKET (or without libsystemd). Thread safe. */
#ifndef POSTWARDEN_NOTIFY_H
#define POSTWARDEN_NOTIFY_H

void notify_ready(void);
void notify_reloading(void);
void notify_stopping(void);
/* notify_status() - one-line STATUS= text (printf format). */
void notify_status(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
