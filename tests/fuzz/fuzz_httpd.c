/* Admin port request head fuzzer (forwarder/observe/httpd_parse.h): the one
 * parser that reads bytes from the network.
 *
 * Input: the bytes of a head as a client sends them. Invariants: the
 * completeness check reads only the given length; the parser answers 0, 400
 * or 405 and writes only inside the buffer (ASan sees the exact size); a
 * parsed request is GET or HEAD of a path that starts with '/' and holds
 * no '?', space, CR, LF or NUL, taken from the first line. */
#include <stdlib.h>

#include "fuzz_util.h"
#include "observe/httpd_parse.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct httpd_request r;
	char *buf;
	size_t plen, i;
	int rc;

	buf = malloc(size ? size : 1);
	FUZZ_CHECK(buf != NULL);
	memcpy(buf, data, size);
	(void)httpd_head_complete(buf, size);
	rc = httpd_parse(buf, size, &r);
	FUZZ_CHECK(rc == 0 || rc == 400 || rc == 405);
	if (rc == 0) {
		FUZZ_CHECK(r.path >= buf && r.path < buf + size && r.path[0] == '/');
		plen = strlen(r.path);
		FUZZ_CHECK(r.path + plen < buf + size);
		for (i = 0; i < plen; i++)
			FUZZ_CHECK(r.path[i] != '?' && r.path[i] != ' ' && r.path[i] != '\r' &&
				   r.path[i] != '\n');
		FUZZ_CHECK(memcmp(data, r.head_only ? "HEAD " : "GET ", r.head_only ? 5 : 4) == 0);
		FUZZ_CHECK(!memchr(data, '\0', size));
	}
	free(buf);
	return 0;
}
