/* SPDX-License-Identifier: MIT */
/* Runs one file's suite; the exit status tells tests/run-unit.sh whether all passed. */
#include <stdlib.h>

#include "check_main.h"

int main(void)
{
	SRunner *runner = srunner_create(unit_suite());
	int failed;

	srunner_run_all(runner, CK_NORMAL);
	failed = srunner_ntests_failed(runner);
	srunner_free(runner);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
