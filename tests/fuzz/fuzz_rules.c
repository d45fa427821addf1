/* Classification rules-file parser fuzzer (forwarder/process/classify.h): the input
 * is a rules file; its last line, when it is not a rule, is also used as an
 * executable name to classify with the loaded rules.
 *
 * The file goes through a memfd named by /proc/self/fd, so the real
 * fopen/getline path runs without touching the disk.
 *
 * Invariants: success or an error message that names the file; with the
 * rules loaded, classify_match on any name returns a rule with a known type
 * whose pattern matches that name, and a compiler rule has extensions. */
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include "process/classify.h"
#include "fuzz_util.h"

static void check_match(const struct classify_rules *r, const char *name, size_t len)
{
	const struct classify_rule *rule = classify_match(r, name, len);

	if (!rule)
		return;
	FUZZ_CHECK((unsigned)rule->type < PROC_TYPE_COUNT && rule->type != PROC_BINARY);
	FUZZ_CHECK(rule->pattern && classify_glob(rule->pattern, name, len));
	if (rule->type == PROC_COMPILER || rule->type == PROC_C_COMPILER ||
	    rule->type == PROC_CXX_COMPILER)
		FUZZ_CHECK(rule->n_exts > 0 && rule->exts);
	for (size_t i = 0; i < rule->n_exts; i++)
		FUZZ_CHECK(rule->exts[i] && rule->exts[i][0] == '.');
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const names[] = {
		"gcc", "x86_64-linux-gnu-gcc-12", "clang++-14", "python3.11", "a.out", "javac",
	};
	struct classify_rules *r = NULL;
	char path[64], err[512];
	const uint8_t *last;
	size_t last_len;
	int fd, rc;

	fd = memfd_create("rules", 0);
	FUZZ_CHECK(fd >= 0);
	FUZZ_CHECK(write(fd, data, size) == (ssize_t)size);
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	err[0] = '\0';
	rc = classify_rules_new(path, &r, err, sizeof(err));
	close(fd);
	if (rc) {
		FUZZ_CHECK(rc < 0 && r == NULL);
		FUZZ_CHECK(memchr(err, '\0', sizeof(err)) && strncmp(err, path, strlen(path)) == 0);
		return 0;
	}
	FUZZ_CHECK(r != NULL);
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		check_match(r, names[i], strlen(names[i]));
	last = memrchr(data, '\n', size);
	last = last ? last + 1 : data;
	last_len = size - (size_t)(last - data);
	check_match(r, (const char *)last, last_len);
	classify_rules_free(r);
	return 0;
}
