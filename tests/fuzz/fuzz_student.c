/* Hostname parser fuzzer (forwarder/student.h), differential against a
 * POSIX regular expression of the documented grammar:
 * jcode-{course}-{section}-{id}, course [A-Za-z0-9_] words joined by single
 * '-', section [A-Za-z0-9_]+, id 1..18 digits, class_div at most 63 bytes.
 *
 * Invariants: student_parse accepts exactly what the grammar accepts;
 * an accepted host is "jcode-" + class_div + "-" + id byte for byte, and
 * both parts are URL-safe as they are. */
#include <errno.h>
#include <regex.h>
#include <stdlib.h>

#include "fuzz_util.h"
#include "student.h"

static regex_t fuzz_re;
static bool fuzz_re_ready;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct student st;
	char *host;
	int rc;

	if (!fuzz_re_ready) {
		if (regcomp(&fuzz_re,
			    "^jcode-[A-Za-z0-9_]+(-[A-Za-z0-9_]+)*-[A-Za-z0-9_]+-[0-9]{1,18}$",
			    REG_EXTENDED | REG_NOSUB))
			abort();
		fuzz_re_ready = true;
	}
	memset(&st, 0xa5, sizeof(st));
	rc = student_parse(data, size, &st);
	FUZZ_CHECK(rc == 0 || rc == -EINVAL);

	if (!memchr(data, '\0', size)) {
		bool match;

		host = malloc(size + 1);
		FUZZ_CHECK(host != NULL);
		memcpy(host, data, size);
		host[size] = '\0';
		match = regexec(&fuzz_re, host, 0, NULL, 0) == 0;
		if (match) {
			/* the id is the trailing digit run, class_div what is between */
			size_t id = size;

			while (id > 0 && host[id - 1] >= '0' && host[id - 1] <= '9')
				id--;
			match = id - 1 - 6 <= STUDENT_CLASS_DIV_MAX;
		}
		FUZZ_CHECK(match == (rc == 0));
		free(host);
	} else {
		FUZZ_CHECK(rc == -EINVAL);
	}
	if (rc)
		return 0;
	FUZZ_CHECK(st.class_div_len >= 3 && st.class_div_len <= STUDENT_CLASS_DIV_MAX);
	FUZZ_CHECK(st.id_len >= 1 && st.id_len <= STUDENT_ID_MAX);
	FUZZ_CHECK(strlen(st.class_div) == st.class_div_len && strlen(st.id) == st.id_len);
	FUZZ_CHECK(size == 6 + st.class_div_len + 1 + st.id_len);
	FUZZ_CHECK(memcmp(data, "jcode-", 6) == 0);
	FUZZ_CHECK(memcmp(data + 6, st.class_div, st.class_div_len) == 0);
	FUZZ_CHECK(data[6 + st.class_div_len] == '-');
	FUZZ_CHECK(memcmp(data + 7 + st.class_div_len, st.id, st.id_len) == 0);
	for (size_t i = 0; i < st.class_div_len; i++)
		FUZZ_CHECK(fuzz_url_unreserved((uint8_t)st.class_div[i]) &&
			   st.class_div[i] != '.' && st.class_div[i] != '~');
	for (size_t i = 0; i < st.id_len; i++)
		FUZZ_CHECK(st.id[i] >= '0' && st.id[i] <= '9');
	return 0;
}
