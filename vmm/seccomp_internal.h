/* SPDX-License-Identifier: MIT */
/*
 * The seccomp module's own: how an allow-list line is written (struct rule and the macros
 * the tables use) and where the tables are (vmm/seccomp_rules.c). Only vmm/seccomp.c and
 * vmm/seccomp_rules.c include it.
 */
#ifndef VMM_SECCOMP_INTERNAL_H
#define VMM_SECCOMP_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <seccomp.h>

#include "vmm/seccomp.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

enum { FD_ANY = -1 };
enum rule_action { RULE_ALLOW, RULE_ENOSYS };

struct arg_test {
	unsigned int arg; /* 1-based argument index; 0: no test */
	enum scmp_compare op;
	uint64_t a, b;
};

struct rule {
	int nr;
	int fd_class; /* FD_ANY, or a vmm_seccomp_fd_class argument 0 must belong to */
	bool own_pid; /* argument 0 must be this process's PID (tgkill) */
	enum rule_action action;
	struct arg_test test[2];
	uint8_t share_args;	/* bit n: argument n is one of the file server's descriptors */
	uint8_t share_base_arg; /* 1-based; that argument must equal the window's base */
};

#define ALLOW(name)                                                                                \
	{                                                                                          \
		.nr = SCMP_SYS(name), .fd_class = FD_ANY                                           \
	}
#define ALLOW_ON(name, cls)                                                                        \
	{                                                                                          \
		.nr = SCMP_SYS(name), .fd_class = (cls)                                            \
	}
#define ARG_EQ(n, v)                                                                               \
	{                                                                                          \
		(n) + 1, SCMP_CMP_EQ, (uint64_t)(v), 0                                             \
	}
/*
 * argument < v, unsigned over all 64 bits: for a descriptor, "one of ours, never AT_FDCWD"
 * (-100 fails however its upper half is filled, which a test for != could miss)
 */
#define ARG_LT(n, v)                                                                               \
	{                                                                                          \
		(n) + 1, SCMP_CMP_LT, (uint64_t)(v), 0                                             \
	}
/* (argument & mask) == value */
#define ARG_MASKED(n, mask, v)                                                                     \
	{                                                                                          \
		(n) + 1, SCMP_CMP_MASKED_EQ, (uint64_t)(mask), (uint64_t)(v)                       \
	}
#define ALLOW_IF(name, t0)                                                                         \
	{                                                                                          \
		.nr = SCMP_SYS(name), .fd_class = FD_ANY, .test = { t0 }                           \
	}
#define ALLOW_IF2(name, t0, t1)                                                                    \
	{                                                                                          \
		.nr = SCMP_SYS(name), .fd_class = FD_ANY, .test = { t0, t1 }                       \
	}
/* on the file server's own descriptors: argument n for each bit n of args */
#define ON_SHARE(name, args)                                                                       \
	{                                                                                          \
		.nr = SCMP_SYS(name), .fd_class = FD_ANY, .share_args = (args)                     \
	}
#define ON_SHARE_IF(name, args, t0)                                                                \
	{                                                                                          \
		.nr = SCMP_SYS(name), .fd_class = FD_ANY, .share_args = (args), .test = { t0 }     \
	}
/*
 * The request's low 32 bits only: the kernel reads it as an unsigned int, and musl's ioctl()
 * takes an int, so a request with bit 31 set (every _IOR and _IOWR) arrives sign-extended.
 */
#define IOCTL(cls, request)                                                                        \
	{                                                                                          \
		.nr = SCMP_SYS(ioctl), .fd_class = (cls), .test = {                                \
			ARG_MASKED(1, 0xffffffffu, request)                                        \
		}                                                                                  \
	}

struct role {
	const char *name;
	const struct rule *rules;
	size_t nrules;
	const struct rule *more; /* a second table, for a role that extends another */
	size_t nmore;
	/*
	 * The calls on the role's hot path, tested first in its filter: the filter runs on
	 * every system call, and without a hint libseccomp may test a call last.
	 */
	int hot[2];
	unsigned int nhot;
};

/* The calls every thread may make, whatever its role. */
extern const struct role seccomp_common;
/* Each role's own list (and, for a role that extends another, its second table). */
extern const struct role seccomp_roles[VMM_SECCOMP_ROLES];

#endif
