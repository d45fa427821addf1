/* Hostname parser fuzzer (forwarder/process/student.h), differential against a
 * POSIX regular expression of the documented grammar, read from the left:
 * jcode-{course}-{section}-{id} then the end or '-' and a suffix of
 * [A-Za-z0-9.-]; course [A-Za-z0-9]+, section digits, id 1..18 digits,
 * class_div at most 63 bytes.
 *
 * Invariants: STUDENT_NOT_JCODE exactly without the prefix; STUDENT_OK
 * exactly for what the grammar accepts; an accepted host starts with
 * "jcode-" + class_div + "-" + id byte for byte, both URL-safe as they are;
 * the workspace parser accepts the same three parts with no suffix. */
#include <errno.h>
#include <regex.h>
#include <stdlib.h>

#include "fuzz_util.h"
#include "process/student.h"

static regex_t fuzz_re;
static bool fuzz_re_ready;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct student st, ws;
	enum student_result rc;
	size_t i, used;
	char *host;

	if (!fuzz_re_ready) {
		if (regcomp(&fuzz_re,
			    "^jcode-[A-Za-z0-9]+-[0-9]+-[0-9]{1,18}(-[-A-Za-z0-9.]*)?$",
			    REG_EXTENDED | REG_NOSUB))
			abort();
		fuzz_re_ready = true;
	}
	memset(&st, 0xa5, sizeof(st));
	rc = student_parse(data, size, &st);
	FUZZ_CHECK(rc == STUDENT_OK || rc == STUDENT_NOT_JCODE || rc == STUDENT_MALFORMED);
	FUZZ_CHECK((rc == STUDENT_NOT_JCODE) == (size < 6 || memcmp(data, "jcode-", 6) != 0));

	if (!memchr(data, '\0', size)) {
		bool match;

		host = malloc(size + 1);
		FUZZ_CHECK(host != NULL);
		memcpy(host, data, size);
		host[size] = '\0';
		match = regexec(&fuzz_re, host, 0, NULL, 0) == 0;
		if (match) {
			/* class_div: from after the prefix to the second '-' */
			const char *d = strchr(host + 6, '-');

			d = strchr(d + 1, '-');
			match = (size_t)(d - host) - 6 <= STUDENT_CLASS_DIV_MAX;
		}
		FUZZ_CHECK(match == (rc == STUDENT_OK));
		free(host);
	} else {
		FUZZ_CHECK(rc != STUDENT_OK);
	}
	if (rc != STUDENT_OK)
		return 0;
	FUZZ_CHECK(st.class_div_len >= 3 && st.class_div_len <= STUDENT_CLASS_DIV_MAX);
	FUZZ_CHECK(st.id_len >= 1 && st.id_len <= STUDENT_ID_MAX);
	FUZZ_CHECK(strlen(st.class_div) == st.class_div_len && strlen(st.id) == st.id_len);
	used = 6 + st.class_div_len + 1 + st.id_len;
	FUZZ_CHECK(size >= used && (size == used || data[used] == '-'));
	FUZZ_CHECK(memcmp(data + 6, st.class_div, st.class_div_len) == 0);
	FUZZ_CHECK(data[6 + st.class_div_len] == '-');
	FUZZ_CHECK(memcmp(data + 7 + st.class_div_len, st.id, st.id_len) == 0);
	for (i = 0; i < st.class_div_len; i++)
		FUZZ_CHECK(fuzz_url_unreserved((uint8_t)st.class_div[i]) &&
			   st.class_div[i] != '.' && st.class_div[i] != '~' && st.class_div[i] != '_');
	for (i = 0; i < st.id_len; i++)
		FUZZ_CHECK(st.id[i] >= '0' && st.id[i] <= '9');
	/* The workspace name of the same student is the host without prefix
	 * and suffix, and nothing longer. */
	FUZZ_CHECK(student_parse_workspace(data + 6, used - 6, &ws) == 0 && student_equal(&ws, &st));
	FUZZ_CHECK(size == used || student_parse_workspace(data + 6, size - 6, &ws) == -EINVAL);
	return 0;
}
