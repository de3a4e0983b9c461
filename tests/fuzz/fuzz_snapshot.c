/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target for the snapshot state file's reader (vmm/snapshot_format.c): the
 * input is a file's payload (its sections), given a valid header and checksum here so
 * that the fuzzer reaches the section walk instead of stopping at the checksum; the same
 * bytes are also read as a whole file, header and all, unrepaired. Every section lookup
 * must stay inside the buffer (ASan watches), META, if found whole, is compared with
 * a machine, and each device section is read as virtio-net's (virtio/net/net_snapshot.h).
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "virtio/net/net_snapshot.h"
#include "vmm/snapshot_format.h"
#include "vmm/version.h"

static void check(bool ok)
{
	if (!ok)
		__builtin_trap();
}

static void read_all(uint8_t *buf, size_t len)
{
	struct snap_reader r;
	struct snap_meta meta, wanted = { .memory_size = 16 << 20, .ncpus = 1 };
	char err[256];

	if (snap_reader_open(&r, buf, len, err, sizeof(err))) {
		check(memchr(err, '\0', sizeof(err)) != NULL);
		return;
	}
	for (uint32_t id = 0; id <= SNAP_DEVICE + 1; id++)
		for (uint32_t instance = 0; instance < 4; instance++) {
			const void *data;
			size_t n;

			if (snap_find(&r, id, instance, &data, &n))
				continue;
			check((const uint8_t *)data >= buf && n <= len &&
			      (const uint8_t *)data + n <= buf + len);
			if (n)
				check(((const volatile uint8_t *)data)[n - 1] ||
				      !((const volatile uint8_t *)data)[n - 1]);
			/* a device's own section: virtio-net's reader takes any bytes */
			if (id == SNAP_DEVICE) {
				struct net_snapshot st;

				err[0] = '\0';
				if (net_snapshot_parse(data, n, instance + 1, &st, err,
						       sizeof(err)))
					check(memchr(err, '\0', sizeof(err)) && err[0]);
				else
					check(st.active_pairs >= 1 &&
					      st.active_pairs <= instance + 1 && !(st.mac[0] & 1));
			}
		}
	if (!snap_get(&r, SNAP_META, 0, &meta, sizeof(meta)))
		snap_meta_check(&meta, &wanted, err, sizeof(err));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct snap_header h = { .format_version = SNAP_FORMAT_VERSION };
	uint8_t *buf = malloc(sizeof(h) + size);

	if (!buf)
		return 0;
	/* as the writer makes it: the checksum over the file with its own bytes zero */
	memcpy(h.magic, SNAP_MAGIC, SNAP_MAGIC_LEN);
	h.header_size = sizeof(h);
	h.payload_size = size;
	memcpy(buf, &h, sizeof(h));
	if (size)
		memcpy(buf + sizeof(h), data, size);
	sha256(buf, sizeof(h) + size, h.sha256);
	memcpy(buf, &h, sizeof(h));
	read_all(buf, sizeof(h) + size);
	free(buf);

	/* and the bytes as a file of their own */
	buf = malloc(size ? size : 1);
	if (!buf)
		return 0;
	if (size)
		memcpy(buf, data, size);
	read_all(buf, size);
	free(buf);
	return 0;
}
