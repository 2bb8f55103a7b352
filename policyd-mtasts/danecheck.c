/* danecheck: does the Postfix beside us apply the DANE levels we answer?
 *
 * Postfix's smtp client applies `dane` and `dane-only` only with `smtp_dns_support_level =
 * dnssec` and a resolv.conf resolver that sets the AD bit (doc/protocols.md, "DANE in
 * Postfix"): otherwise `dane-only` defers every such mail and `dane` delivers with no DANE
 * check. Both are checked the way Postfix meets them: `postconf -h smtp_dns_support_level`
 * (run without a shell, honouring MAIL_CONFIG like every Postfix command), and a DNSSEC query
 * (DO bit) through the system resolver library, which reads /etc/resolv.conf and keeps the
 * AD bit only when resolv.conf says `options trust-ad` (glibc >= 2.31), as Postfix's own
 * lookups do. The name asked is the owner of the first trust anchor (the root by default):
 * a name that must validate. When a check fails the daemon logs why and answers as with
 * `dane_mode = off` until a reload passes it.
 */
#include <arpa/nameser.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <resolv.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "clock.h"
#include "log.h"
#include "mtasts.h"

#define MTASTS_POSTCONF "/usr/sbin/postconf"
#define MTASTS_POSTCONF_TIMEOUT_MS 10000

static atomic_bool mtasts_dane_ok;

/* Run postconf -h PARAM; its first output line into @out. Return 0 or -errno. */
static int danecheck_postconf(const char *param, char *out, size_t outsz)
{
	int p[2];
	if (pipe2(p, O_CLOEXEC) < 0)
		return -errno;
	pid_t pid = fork();
	if (pid < 0) {
		int e = errno;
		close(p[0]);
		close(p[1]);
		return -e;
	}
	if (pid == 0) {
		char *const argv[] = { "postconf", "-h", (char *)param, NULL };
		int null = open("/dev/null", O_WRONLY);
		dup2(p[1], STDOUT_FILENO);
		if (null >= 0)
			dup2(null, STDERR_FILENO);
		execv(MTASTS_POSTCONF, argv);
		_exit(127);
	}
	close(p[1]);
	size_t n = 0;
	int64_t end = clock_mono_ms() + MTASTS_POSTCONF_TIMEOUT_MS;
	for (;;) {
		int left = (int)(end - clock_mono_ms());
		struct pollfd pf = { .fd = p[0], .events = POLLIN };
		if (left <= 0 || poll(&pf, 1, left) <= 0)
			break;
		ssize_t r = read(p[0], out + n, outsz - 1 - n);
		if (r <= 0)
			break;
		n += (size_t)r;
		if (n == outsz - 1)
			break;
	}
	close(p[0]);
	out[n] = '\0';
	out[strcspn(out, "\r\n")] = '\0';
	/* the child closes its output just before it exits: wait for it until the deadline */
	int status = 0;
	pid_t w;
	while ((w = waitpid(pid, &status, WNOHANG)) == 0 && clock_mono_ms() < end)
		usleep(2000);
	if (w == 0) {
		kill(pid, SIGKILL);
		waitpid(pid, &status, 0);
		return -ETIMEDOUT;
	}
	if (w < 0)
		return -ECHILD;
	if (WIFEXITED(status) && WEXITSTATUS(status) == 127)
		return -ENOENT;
	return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : -EIO;
}

/* The owner name of the first record in trust anchor file @path, into @name. */
static int danecheck_anchor_name(const char *path, char *name, size_t namesz)
{
	FILE *f = fopen(path, "re");
	if (!f)
		return -errno;
	char line[4096];
	int rc = -EINVAL;
	while (fgets(line, sizeof(line), f)) {
		char *s = line + strspn(line, " \t");
		if (*s == ';' || *s == '\n' || *s == '\0')
			continue;
		size_t n = strcspn(s, " \t\r\n");
		if (n > 0 && n < namesz) {
			memcpy(name, s, n);
			name[n] = '\0';
			rc = 0;
		}
		break;
	}
	fclose(f);
	return rc;
}

/* Ask @name SOA with the DO bit through resolv.conf. Return 1 AD set, 0 not, -errno. */
static int danecheck_ad(const char *name)
{
	struct __res_state rs;
	unsigned char ans[4096];

	memset(&rs, 0, sizeof(rs));
	if (res_ninit(&rs) != 0)
		return -EIO;
	rs.options |= RES_USE_DNSSEC | RES_USE_EDNS0;
	int n = res_nquery(&rs, name, ns_c_in, ns_t_soa, ans, sizeof(ans));
	res_nclose(&rs);
	if (n < (int)sizeof(HEADER))
		return -EHOSTUNREACH;
	return ((const HEADER *)ans)->ad ? 1 : 0;
}

int mtasts_danecheck(const struct cfg *cfg, struct buf *why)
{
	char level[256] = "", name[256];
	int bad = 0;

	int rc = danecheck_postconf("smtp_dns_support_level", level, sizeof(level));
	if (rc < 0) {
		buf_add_line(why, "%s -h smtp_dns_support_level: %s", MTASTS_POSTCONF,
		             rc == -EIO ? "failed (no Postfix configuration?)" : strerror(-rc));
		bad++;
	} else if (strcmp(level, "dnssec") != 0) {
		buf_add_line(why,
		             "Postfix has smtp_dns_support_level = %s, not dnssec: it would not "
		             "apply DANE (set it in main.cf)",
		             *level ? level : "(empty)");
		bad++;
	}
	const char *ta = cfg_str(cfg, NULL, "trust_anchor");
	if (!*ta)
		ta = MTASTS_ROOT_KEY;
	rc = danecheck_anchor_name(ta, name, sizeof(name));
	if (rc < 0) {
		buf_add_line(why, "trust anchor %s: no record (%s)", ta, strerror(-rc));
		return -EINVAL;
	}
	rc = danecheck_ad(name);
	if (rc <= 0) {
		buf_add_line(
		        why,
		        "the resolver of /etc/resolv.conf gave %s for the signed name '%s': "
		        "Postfix "
		        "would see no DNSSEC (use a validating resolver and `options trust-ad`)",
		        rc < 0 ? "no answer" : "no AD bit", name);
		bad++;
	}
	return bad ? -EINVAL : 0;
}

int mtasts_anchor_name(const struct cfg *cfg, char *name, size_t namesz)
{
	const char *ta = cfg_str(cfg, NULL, "trust_anchor");
	return danecheck_anchor_name(*ta ? ta : MTASTS_ROOT_KEY, name, namesz);
}

enum dane_mode mtasts_dane_mode(const struct mtasts_conf *c)
{
	return atomic_load(&mtasts_dane_ok) ? c->dane_mode : DANE_MODE_OFF;
}

void mtasts_dane_checked(struct daemon *d)
{
	struct daemon_conf *dc = daemon_conf_get(d);
	const struct mtasts_conf *c = dc->priv;
	bool ok = true;

	if (c->dane_mode != DANE_MODE_OFF) {
		struct buf why;
		buf_init(&why);
		if (mtasts_danecheck(dc->cfg, &why) < 0) {
			ok = false;
			for (char *p = why.data; p && *p; p++)
				*p = *p == '\n' ? ';' : *p;
			log_errx("DANE answers are off (as with dane_mode = off): %s",
			         buf_cstr(&why));
		}
		buf_fini(&why);
	}
	atomic_store(&mtasts_dane_ok, ok);
	daemon_conf_put(dc);
}
