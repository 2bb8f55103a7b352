/* Check boilerplate shared by every unit test: one suite per file, named after the
 * module, with one tcase ("main") holding every test function CHECK_MAIN lists.
 * Check's own environment variables apply (CK_FORK=no to debug, CK_VERBOSITY). */
#ifndef POSTWARDEN_CHECK_COMMON_H
#define POSTWARDEN_CHECK_COMMON_H

#include <check.h>
#include <stdlib.h>

/* CHECK_MAIN(name, tc...) - main() running the test functions listed in one tcase. */
#define CHECK_MAIN(suite_name, ...)                                                                \
	int main(void)                                                                             \
	{                                                                                          \
		Suite *s = suite_create(suite_name);                                               \
		TCase *tc = tcase_create("main");                                                  \
		const TTest *const tests[] = { __VA_ARGS__ };                                      \
		for (size_t i = 0; i < sizeof(tests) / sizeof(tests[0]); i++)                      \
			tcase_add_test(tc, tests[i]);                                              \
		tcase_set_timeout(tc, 60);                                                         \
		suite_add_tcase(s, tc);                                                            \
		SRunner *sr = srunner_create(s);                                                   \
		srunner_run_all(sr, CK_ENV);                                                       \
		int failed = srunner_ntests_failed(sr);                                            \
		srunner_free(sr);                                                                  \
		return failed ? EXIT_FAILURE : EXIT_SUCCESS;                                       \
	}

#endif
