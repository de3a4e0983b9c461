// SPDX-License-Identifier: MIT
/* The --stats printers every device kind shares (virtio/registry.h). */
#include "virtio/registry.h"

#include <stdarg.h>

void virtio_report_row(struct virtio_report *r, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vfprintf(r->out, fmt, ap);
	va_end(ap);
	fputs(r->eol, r->out);
}

void virtio_report_json_string(FILE *out, const char *s)
{
	fputc('"', out);
	for (; s && *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\')
			fprintf(out, "\\%c", c);
		else if (c < 0x20)
			fprintf(out, "\\u%04x", c);
		else
			fputc(c, out);
	}
	fputc('"', out);
}
