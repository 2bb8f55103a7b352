/* libFuzzer harness for tlsrpt/logscan.c: the input, split at '\n', is a Postfix log fed
 * line by line (TZ=UTC, a fixed reference time), then finished and fed again. Every line
 * returns 1, 0 or -EINVAL; every event has one policy, a lower-case domain of host
 * characters, no details on success and one known result on failure; the counters agree
 * with what was fed and emitted. Failures abort. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "logscan.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

static unsigned long long fz_events;

static void fz_emit(const struct tlsrpt_event *ev, void *arg)
{
	const struct tlsrpt_policy *p = &ev->policies[0];
	size_t n;

	(void)arg;
	fz_events++;
	if (ev->n_policies != 1 || !ev->domain || (n = strlen(ev->domain)) == 0 ||
	    n > TLSRPT_DOMAIN_MAX)
		abort();
	for (size_t i = 0; i < n; i++) {
		char c = ev->domain[i];
		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '-' ||
		      c == '_'))
			abort();
	}
	if (p->success != (p->n_details == 0) || p->n_details > 1)
		abort();
	if (p->n_details == 1) {
		const struct tlsrpt_detail *d = &p->details[0];
		if (d->result < TLSRPT_STARTTLS_NOT_SUPPORTED || d->result > TLSRPT_DANE_REQUIRED ||
		    (d->result > TLSRPT_VALIDATION_FAILURE &&
		     d->result < TLSRPT_STS_POLICY_FETCH_ERROR))
			abort();
		if ((d->mx_host && strlen(d->mx_host) > 255) ||
		    (d->reason && strlen(d->reason) > 255))
			abort();
	}
}

static void fz_policy(const char *domain, const char *mx_host, struct tlsrpt_policy *p, void *arg)
{
	static const char *const s[] = { "version: STSv1", "mode: enforce" };

	(void)arg;
	if (mx_host && !mx_host[0])
		abort(); /* NULL when no MX host was reached, never empty */
	if (domain[0] == 'a') {
		p->type = TLSRPT_POLICY_STS;
		p->n_strings = 2;
		p->strings[0] = s[0];
		p->strings[1] = s[1];
	}
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	setenv("TZ", "UTC", 1);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *s = (const char *)data;
	struct logscan_stats st;
	unsigned long long lines = 0;

	fz_events = 0;
	struct logscan *ls = logscan_new(1795521600LL, "192.0.2.1", fz_emit, NULL);
	if (!ls)
		abort();
	logscan_set_policy(ls, fz_policy, NULL);
	for (int pass = 0; pass < 2; pass++) {
		size_t start = 0;
		for (size_t i = 0; i <= size; i++) {
			if (i < size && s[i] != '\n')
				continue;
			int rc = logscan_line(ls, s + start, i - start);
			if (rc != 1 && rc != 0 && rc != -EINVAL)
				abort();
			lines++;
			start = i + 1;
		}
		logscan_finish(ls);
	}
	logscan_stats(ls, &st);
	if (st.lines != lines || st.smtp_lines > st.lines || st.malformed > st.smtp_lines ||
	    st.events != fz_events)
		abort();
	logscan_free(ls);
	return 0;
}
