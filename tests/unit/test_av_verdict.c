/* Unit tests for milter-av/verdict: clamd reply parsing and the action mapping. */
#include <errno.h>
#include <string.h>

#include "check_common.h"
#include "verdict.h"

static struct verdict_reply parse_str(const char *s, int *rc)
{
	struct verdict_reply r;
	*rc = verdict_parse(s, strlen(s) + 1, &r);
	return r;
}

START_TEST(parse_ok_and_found)
{
	int rc;
	struct verdict_reply r = parse_str("stream: OK", &rc);
	ck_assert_int_eq(rc, 0);
	ck_assert_int_eq(r.status, VERDICT_CLEAN);

	r = parse_str("stream: Testbed.EICAR-NDB.UNOFFICIAL FOUND", &rc);
	ck_assert_int_eq(rc, 0);
	ck_assert_int_eq(r.status, VERDICT_INFECTED);
	ck_assert_str_eq(r.detail, "Testbed.EICAR-NDB.UNOFFICIAL");

	r = parse_str("fd[11]: Eicar-Test-Signature FOUND", &rc);
	ck_assert_int_eq(rc, 0);
	ck_assert_int_eq(r.status, VERDICT_INFECTED);
	ck_assert_str_eq(r.detail, "Eicar-Test-Signature");

	r = parse_str("fd[11]: OK", &rc);
	ck_assert_int_eq(r.status, VERDICT_CLEAN);
}
END_TEST

START_TEST(parse_terminators)
{
	struct verdict_reply r;
	/* newline-terminated (n commands), trailing garbage after the NUL ignored */
	ck_assert_int_eq(verdict_parse("stream: OK\n", 11, &r), 0);
	ck_assert_int_eq(r.status, VERDICT_CLEAN);
	ck_assert_int_eq(verdict_parse("stream: OK\0 X FOUND", 19, &r), 0);
	ck_assert_int_eq(r.status, VERDICT_CLEAN);
	/* not NUL-terminated at all: length bounds it */
	const char raw[] = { 's', 't', 'r', 'e', 'a', 'm', ':', ' ', 'O', 'K' };
	ck_assert_int_eq(verdict_parse(raw, sizeof(raw), &r), 0);
	ck_assert_int_eq(r.status, VERDICT_CLEAN);
	/* cut before the end: "stream: O" is not OK */
	ck_assert_int_eq(verdict_parse(raw, sizeof(raw) - 1, &r), -EPROTO);
	ck_assert_int_eq(r.status, VERDICT_ERROR);
}
END_TEST

START_TEST(parse_oversize)
{
	int rc;
	struct verdict_reply r = parse_str("INSTREAM size limit exceeded. ERROR", &rc);
	ck_assert_int_eq(rc, 0);
	ck_assert_int_eq(r.status, VERDICT_OVERSIZE);

	r = parse_str("stream: Heuristics.Limits.Exceeded.MaxFileSize FOUND", &rc);
	ck_assert_int_eq(rc, 0);
	ck_assert_int_eq(r.status, VERDICT_OVERSIZE);
	ck_assert_str_eq(r.detail, "Heuristics.Limits.Exceeded.MaxFileSize");

	/* a virus whose name merely contains the words is still a virus */
	r = parse_str("stream: Foo.size limit exceeded FOUND", &rc);
	ck_assert_int_eq(r.status, VERDICT_INFECTED);
}
END_TEST

START_TEST(parse_errors)
{
	int rc;
	struct verdict_reply r = parse_str("stream: Can't allocate memory ERROR", &rc);
	ck_assert_int_eq(rc, 0);
	ck_assert_int_eq(r.status, VERDICT_ERROR);
	ck_assert_ptr_nonnull(strstr(r.detail, "Can't allocate memory"));

	r = parse_str("UNKNOWN COMMAND", &rc);
	ck_assert_int_eq(rc, -EPROTO);
	ck_assert_int_eq(r.status, VERDICT_ERROR);

	r = parse_str("", &rc);
	ck_assert_int_eq(rc, -EPROTO);
	r = parse_str("stream:  FOUND", &rc);
	ck_assert_int_eq(rc, -EPROTO);
	ck_assert_int_eq(r.status, VERDICT_ERROR);
	r = parse_str("stream: OKAY", &rc);
	ck_assert_int_eq(rc, -EPROTO);
}
END_TEST

START_TEST(parse_sanitizes_and_bounds)
{
	char big[3000];
	memcpy(big, "stream: ", 8);
	memset(big + 8, 'A', sizeof(big) - 8);
	memcpy(big + 600, "%\r\x01", 3);
	memcpy(big + VERDICT_REPLY_MAX - 6, " FOUND", 6);
	struct verdict_reply r;
	ck_assert_int_eq(verdict_parse(big, sizeof(big), &r), 0);
	ck_assert_int_eq(r.status, VERDICT_INFECTED);
	ck_assert_uint_eq(strlen(r.detail), VERDICT_NAME_MAX - 1);
	for (const char *p = r.detail; *p; p++)
		ck_assert(*p >= 0x20 && *p < 0x7f && *p != '%');
	/* past VERDICT_REPLY_MAX the reply is cut: " FOUND" at 2000 is not seen */
	memset(big + VERDICT_REPLY_MAX - 6, 'A', 6);
	memcpy(big + 2000, " FOUND", 6);
	ck_assert_int_eq(verdict_parse(big, sizeof(big), &r), -EPROTO);
}
END_TEST

static const struct verdict_policy defaults = {
	.on_virus = VERDICT_VIRUS_REJECT,
	.on_error = VERDICT_ERROR_TEMPFAIL,
	.oversize = VERDICT_OVERSIZE_ACCEPT,
	.add_header = true,
};

static struct verdict_reply mk(enum verdict_status st, const char *detail)
{
	struct verdict_reply r = { .status = st };
	strcpy(r.detail, detail);
	return r;
}

START_TEST(decide_clean)
{
	struct verdict_decision d;
	struct verdict_reply r = mk(VERDICT_CLEAN, "");
	verdict_decide(&defaults, &r, "ClamAV 1.4.6", &d);
	ck_assert_int_eq(d.action, VERDICT_ACCEPT);
	ck_assert_str_eq(d.scanned_header, "postwarden milter-av (ClamAV 1.4.6)");
	ck_assert_str_eq(d.virus_header, "");
	verdict_decide(&defaults, &r, NULL, &d);
	ck_assert_str_eq(d.scanned_header, "postwarden milter-av");
	struct verdict_policy p = defaults;
	p.add_header = false;
	verdict_decide(&p, &r, "ClamAV 1.4.6", &d);
	ck_assert_str_eq(d.scanned_header, "");
}
END_TEST

START_TEST(decide_virus_actions)
{
	struct verdict_decision d;
	struct verdict_reply r = mk(VERDICT_INFECTED, "Eicar-Test-Signature");
	struct verdict_policy p = defaults;

	verdict_decide(&p, &r, "ClamAV 1.4.6", &d);
	ck_assert_int_eq(d.action, VERDICT_REJECT);
	ck_assert_str_eq(d.rcode, "550");
	ck_assert_str_eq(d.xcode, "5.7.1");
	ck_assert_ptr_nonnull(strstr(d.text, "Eicar-Test-Signature"));

	p.on_virus = VERDICT_VIRUS_DISCARD;
	verdict_decide(&p, &r, "ClamAV 1.4.6", &d);
	ck_assert_int_eq(d.action, VERDICT_DISCARD);

	p.on_virus = VERDICT_VIRUS_QUARANTINE;
	verdict_decide(&p, &r, "ClamAV 1.4.6", &d);
	ck_assert_int_eq(d.action, VERDICT_QUARANTINE);
	ck_assert_str_eq(d.virus_header, "Eicar-Test-Signature");

	p.on_virus = VERDICT_VIRUS_TAG;
	verdict_decide(&p, &r, "ClamAV 1.4.6", &d);
	ck_assert_int_eq(d.action, VERDICT_ACCEPT);
	ck_assert_str_eq(d.virus_header, "Eicar-Test-Signature");
	ck_assert_str_eq(d.scanned_header, "postwarden milter-av (ClamAV 1.4.6)");
}
END_TEST

START_TEST(decide_error)
{
	struct verdict_decision d;
	struct verdict_reply r = mk(VERDICT_ERROR, "no clamd backend reachable");
	struct verdict_policy p = defaults;
	verdict_decide(&p, &r, NULL, &d);
	ck_assert_int_eq(d.action, VERDICT_TEMPFAIL);
	ck_assert_str_eq(d.rcode, "451");
	ck_assert_str_eq(d.xcode, "4.7.1");
	p.on_error = VERDICT_ERROR_ACCEPT;
	verdict_decide(&p, &r, "ClamAV 1.4.6", &d);
	ck_assert_int_eq(d.action, VERDICT_ACCEPT);
	/* an unscanned message is never labelled as scanned */
	ck_assert_str_eq(d.scanned_header, "skipped (error)");
}
END_TEST

START_TEST(decide_oversize)
{
	struct verdict_decision d;
	struct verdict_reply r = mk(VERDICT_OVERSIZE, "Heuristics.Limits.Exceeded.MaxScanSize");
	struct verdict_policy p = defaults;
	p.on_virus = VERDICT_VIRUS_DISCARD; /* must not matter */
	verdict_decide(&p, &r, "ClamAV 1.4.6", &d);
	ck_assert_int_eq(d.action, VERDICT_ACCEPT);
	ck_assert_str_eq(d.scanned_header, "skipped (oversize)");
	ck_assert_str_eq(d.virus_header, "");
	p.oversize = VERDICT_OVERSIZE_TEMPFAIL;
	verdict_decide(&p, &r, NULL, &d);
	ck_assert_int_eq(d.action, VERDICT_TEMPFAIL);
	ck_assert_str_eq(d.rcode, "451");
	p.oversize = VERDICT_OVERSIZE_REJECT;
	verdict_decide(&p, &r, NULL, &d);
	ck_assert_int_eq(d.action, VERDICT_REJECT);
	ck_assert_str_eq(d.rcode, "552");
	ck_assert_str_eq(d.xcode, "5.3.4");
}
END_TEST

START_TEST(names)
{
	ck_assert_str_eq(verdict_status_name(VERDICT_OVERSIZE), "oversize");
	ck_assert_str_eq(verdict_action_name(VERDICT_QUARANTINE), "quarantine");
}
END_TEST

CHECK_MAIN("av_verdict", parse_ok_and_found, parse_terminators, parse_oversize, parse_errors,
           parse_sanitizes_and_bounds, decide_clean, decide_virus_actions, decide_error,
           decide_oversize, names)
