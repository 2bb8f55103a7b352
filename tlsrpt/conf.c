/* conf: tlsrpt's config table (tlsrpt.conf(5)) and the snapshot built from it. The report
 * keys (organization_name, contact_info, report_from, sendmail, report_time, resolver,
 * ca_file) are read and checked here; the collector uses listen_mode and sending_ip, the
 * daily run (reporter.c) report_time (off without report_from), the log follower
 * (follow.c) logfile: an absolute path, journal or journal:NAMESPACE (the journal forms
 * only when built with libsystemd).
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "schedule.h"
#include "tlsrpt.h"
#include "xalloc.h"

static const struct cfg_key tlsrpt_keys[] = {
	{ "listen_mode", CFG_STRING, "0660", 0, 0, 0, NULL,
	  "mode of the collector socket (octal): Postfix's smtp must be able to write" },
	{ "organization_name", CFG_STRING, "", 0, 0, 0, NULL,
	  "organization-name of the reports (RFC 8460 section 4.4)" },
	{ "contact_info", CFG_STRING, "", 0, 0, 0, NULL,
	  "contact-info of the reports: an address, no mailto:" },
	{ "report_from", CFG_STRING, "", 0, 0, 0, NULL, "envelope and From: of report mail" },
	{ "sendmail", CFG_STRING, "/usr/sbin/sendmail", 0, 0, 0, NULL,
	  "the program report mail is handed to, with arguments if needed (no shell)" },
	{ "report_time", CFG_STRING, "00:30", 0, 0, 0, NULL,
	  "when the daemon sends yesterday's reports (HH:MM, UTC), or off" },
	{ "report_delay", CFG_DURATION, "30m", 0, 0, 12 * 3600 * 1000LL, NULL,
	  "longest random wait after report_time before the reports go out (0: none)" },
	{ "logfile", CFG_STRING, "", 0, 0, 0, NULL,
	  "Postfix 3.7-3.9: a mail log to follow (like tail -F), journal or journal:NAMESPACE" },
	{ "sending_ip", CFG_STRING, "", 0, 0, 0, NULL,
	  "this host's outgoing address, for failure details (logs do not show it)" },
	{ "resolver", CFG_STRING, "", 0, 0, 0, NULL,
	  "DNS forwarders addr[@port]; empty: the nameservers of /etc/resolv.conf" },
	{ "ca_file", CFG_STRING, "", 0, 0, 0, NULL,
	  "CA certificates for https report upload (PEM); empty: the system CA store" },
	CFG_KEY_END,
};

/* An octal mode of at most 0777. */
static int tlsrpt_mode_parse(const char *s, unsigned *mode)
{
	char *end;
	if (!*s || strspn(s, "01234567") != strlen(s))
		return -EINVAL;
	unsigned long m = strtoul(s, &end, 8);
	if (m > 0777)
		return -EINVAL;
	*mode = (unsigned)m;
	return 0;
}

static int tlsrpt_check_key(const char *section, const char *key, const char *value,
                            struct buf *err)
{
	unsigned mode;
	if (section)
		return 0;
	if (strcmp(key, "listen_mode") == 0 && tlsrpt_mode_parse(value, &mode) < 0) {
		buf_add_line(err, "listen_mode: '%s' is not an octal mode like 0660", value);
		return -EINVAL;
	}
	if (strcmp(key, "report_time") == 0 && strcmp(value, "off") != 0 &&
	    tlsrpt_schedule_minute(value) < 0) {
		buf_add_line(err, "report_time: '%s' is not HH:MM (UTC) or off", value);
		return -EINVAL;
	}
	if (strcmp(key, "logfile") == 0 && *value && value[0] != '/') {
		bool journal = strcmp(value, "journal") == 0 ||
		               (strncmp(value, "journal:", 8) == 0 && value[8]);
		if (!journal) {
			buf_add_line(err,
			             "logfile: '%s' is not an absolute path, journal or "
			             "journal:NAMESPACE",
			             value);
			return -EINVAL;
		}
#ifndef HAVE_SYSTEMD
		buf_add_line(err, "logfile: '%s': this tlsrpt is built without libsystemd", value);
		return -EINVAL;
#endif
	}
	if (strcmp(key, "contact_info") == 0 && strncmp(value, "mailto:", 7) == 0) {
		buf_add_line(err, "contact_info: an address, without mailto:");
		return -EINVAL;
	}
	return 0;
}

static const struct cfg_default tlsrpt_daemon_defaults[] = {
	{ "listen", "unix:/var/spool/postfix/run/tlsrpt/tlsrpt.sock" },
	{ "user", "tlsrpt" },
	{ NULL, NULL },
};

const struct cfg_schema tlsrpt_schema = {
	.base = daemon_keys,
	.base_defaults = tlsrpt_daemon_defaults,
	.global = tlsrpt_keys,
	.check = tlsrpt_check_key,
};

struct tlsrpt_conf *tlsrpt_conf_build(const struct cfg *cfg, struct buf *err)
{
	struct tlsrpt_conf *c = xcalloc(1, sizeof(*c));
	const char *ip = cfg_str(cfg, NULL, "sending_ip");

	(void)err;
	c->sending_ip = *ip ? xstrdup(ip) : NULL;
	if (tlsrpt_mode_parse(cfg_str(cfg, NULL, "listen_mode"), &c->listen_mode) < 0)
		c->listen_mode = 0660;
	c->report_minute = *cfg_str(cfg, NULL, "report_from")
	                           ? tlsrpt_schedule_minute(cfg_str(cfg, NULL, "report_time"))
	                           : -1;
	if (c->report_minute < 0)
		c->report_minute = -1;
	c->report_delay_s = (long long)(cfg_duration_ms(cfg, NULL, "report_delay") / 1000);
	return c;
}

void tlsrpt_conf_free(struct tlsrpt_conf *c)
{
	if (!c)
		return;
	free(c->sending_ip);
	free(c);
}
