/* SPDX-License-Identifier: MIT */
/*
 * Test builds only (make static-test, -DVMM_TEST_HOOKS): a port through which the guest
 * makes a vCPU thread do what a compromised device model might, so the harness can watch
 * the sandbox stop it. In every other build the port does not exist.
 */
#ifndef VMM_TEST_HOOKS_H
#define VMM_TEST_HOOKS_H

struct vm;

/* Claims PLATFORM_TEST_HOOK_PORT on vm's port bus; without VMM_TEST_HOOKS does nothing. */
int test_hooks_register(struct vm *vm);

/*
 * Called by each vCPU thread before it loads its seccomp list. With VMM_TEST_VCPU_LATE set
 * it sleeps a second first, so a test can see whether the main thread waits for its vCPUs'
 * lists before it loads its own; without VMM_TEST_HOOKS it does nothing.
 */
void test_hooks_vcpu_late(void);

#endif
