/* SPDX-License-Identifier: MIT */
/* Each unit-test file defines unit_suite(); check_main.c runs it. */
#ifndef TESTS_UNIT_CHECK_MAIN_H
#define TESTS_UNIT_CHECK_MAIN_H

#include <check.h>

Suite *unit_suite(void);

#endif
