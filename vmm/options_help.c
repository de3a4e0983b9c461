// SPDX-License-Identifier: MIT
/* --help and `vmm run --help`: the option table's texts, wrapped, between fixed prose. */
#include <stdio.h>
#include <string.h>

#include "vmm/exit_codes.h"
#include "vmm/options.h"

#define HELP_WIDTH 79  /* columns, the line's end included */
#define HELP_INDENT 20 /* where the texts start */

/* text wrapped into lines that start at column HELP_INDENT; col is where we are now */
static void print_wrapped(FILE *out, const char *text, int col)
{
	while (*text) {
		size_t len = strcspn(text, " ");

		if (col > HELP_INDENT && col + 1 + (int)len > HELP_WIDTH) {
			fprintf(out, "\n%*s", HELP_INDENT, "");
			col = HELP_INDENT;
		} else if (col > HELP_INDENT) {
			fputc(' ', out);
			col++;
		} else if (col < HELP_INDENT) {
			fprintf(out, "%*s", HELP_INDENT - col, "");
			col = HELP_INDENT;
		}
		fwrite(text, 1, len, out);
		col += (int)len;
		text += len;
		while (*text == ' ')
			text++;
	}
	fputc('\n', out);
}

/* "  --name METAVAR" (or the entry's own usage lines), then its text. */
static void print_option(FILE *out, const struct option_spec *o, const char *text, bool brief)
{
	char left[160];
	const char *usage = o->usage && !brief ? o->usage : NULL;
	int col;

	if (usage) {
		const char *nl;

		while ((nl = strchr(usage, '\n'))) {
			fprintf(out, "  %.*s\n", (int)(nl - usage), usage);
			usage = nl + 1;
		}
		snprintf(left, sizeof(left), "%s", usage);
	} else {
		snprintf(left, sizeof(left), "--%s%s%s", o->name, o->metavar ? " " : "",
			 o->metavar ? o->metavar : "");
	}
	col = fprintf(out, "  %s", left);
	if (col >= HELP_INDENT) {
		fputc('\n', out);
		col = 0;
	}
	print_wrapped(out, text, col);
}

static void print_options(FILE *out, unsigned int mode)
{
	for (unsigned int i = 0; i < options_count; i++) {
		const struct option_spec *o = &options_table[i];
		const char *text = mode == OPTION_RUN && o->run_help ? o->run_help : o->help;

		if (o->modes & mode)
			print_option(out, o, text, mode == OPTION_RUN);
	}
}

/* The first lines (intro, a format with argv0's %s), then the options the mode takes. */
static void print_head(FILE *out, const char *intro, const char *argv0, unsigned int mode)
{
	fprintf(out, intro, argv0);
	fputs("\nOptions:\n", out);
	print_options(out, mode);
	fputc('\n', out);
}

void options_usage(void *stream, const char *argv0)
{
	FILE *out = stream;

	print_head(out,
		   "Usage: %s --kernel KERNEL [options]\n"
		   "Boot a Linux kernel in a KVM virtual machine.\n",
		   argv0, OPTION_BOOT);
	fprintf(out,
		"In a KEY=VALUE list (--disk, --net, --share) a comma inside a value is written\n"
		"twice: path=a,,b.img is the file a,b.img.\n"
		"\n"
		"Run one command in a throw-away VM and exit with its status: %s run --help\n"
		"Drive a VM started with --api-socket PATH: %s ctl PATH COMMAND, where COMMAND\n"
		"is ping, info, pause, resume, shutdown, reboot or power-button (%s ctl --help)\n"
		"\n"
		"Console: the terminal is put in raw mode; type Ctrl-A then X to quit,\n"
		"Ctrl-A Ctrl-A to send a Ctrl-A to the guest.\n"
		"The guest may write a byte to I/O port 0x440 to log a boot milestone with the\n"
		"time since the VMM started.\n"
		"\n"
		"Exit status:\n"
		"  %d  the guest powered off (ACPI)\n"
		"  %d  host-side error (KVM refused an operation, out of memory, ...)\n"
		"  %d  bad command line or input file\n"
		"  %d  the guest asked for a reboot (ACPI reset, i8042 reset)\n"
		"  %d  triple fault: the guest crashed beyond recovery (registers on stderr)\n"
		"  %d  KVM could not run the guest (internal error or failed entry)\n"
		"  %d  quit from the console (Ctrl-A X)\n"
		"  %d  --timeout expired\n"
		"  128+N  stopped by signal N (SIGINT 130, SIGTERM 143); 159 (SIGSYS): a\n"
		"         thread made a system call outside its seccomp list (named on stderr)\n",
		argv0, argv0, argv0, VMM_EXIT_POWEROFF, VMM_EXIT_ERROR, VMM_EXIT_USAGE,
		VMM_EXIT_REBOOT, VMM_EXIT_TRIPLE_FAULT, VMM_EXIT_KVM_ERROR, VMM_EXIT_QUIT,
		VMM_EXIT_TIMEOUT);
}

void options_usage_run(void *stream, const char *argv0)
{
	FILE *out = stream;

	print_head(out,
		   "Usage: %s run --kernel KERNEL [options] [--] CMD [ARGS...]\n"
		   "Boot a throw-away VM, run CMD in it and exit with CMD's exit status. CMD's\n"
		   "stdout and stderr arrive on ours, separately; its stdin is /dev/null. The\n"
		   "guest kernel's messages are not shown (see --verbose). The guest's root is\n"
		   "the host's / shared read-only (virtio-fs) with fresh /dev, /proc, /sys, /tmp\n"
		   "and /run, so CMD can be any host program and cannot change host files outside\n"
		   "a --share.\n",
		   argv0, OPTION_RUN);
	fprintf(out,
		"Exit status:\n"
		"  0-255   CMD's exit status\n"
		"  128+N   CMD was killed by signal N (as a shell reports it), or vmm was\n"
		"  %d     --timeout expired\n"
		"  %d     the guest stopped without reporting CMD's status (kernel panic,\n"
		"          crash, init failure); the console's last lines go to stderr\n"
		"  %d, %d    vmm's own host error or bad command line, before the guest started\n"
		"A CMD that exits with 1, 2, 124 or 125 itself cannot be told apart by the\n"
		"status alone: --status-file says which it was.\n"
		"\n"
		"CI example: run a test under each kernel, keep its status:\n"
		"  for k in kernels/*/bzImage; do\n"
		"      %s run --kernel \"$k\" --timeout 300 --status-file status.txt \\\n"
		"          -- ./tests/run.sh\n"
		"      echo \"$k: exit $? ($(cat status.txt))\"\n"
		"  done\n",
		VMM_EXIT_TIMEOUT, VMM_EXIT_NO_STATUS, VMM_EXIT_ERROR, VMM_EXIT_USAGE, argv0);
}
