/* JSON builder fuzzer: common/json.h on arbitrary bytes, and the API bodies
 * of forwarder/process/body.h built from an Exec/Exit whose every text field is
 * fuzzed.
 *
 * Invariants: json_put_string writes exactly one valid string literal;
 * decoding it gives the input back when the input is valid UTF-8, and
 * otherwise the replacement count is non-zero and the decoded text is still
 * valid UTF-8; a body is one valid JSON object whatever argv, paths and exit
 * status hold. */
#include <stdlib.h>

#include "process/body.h"
#include "fuzz_util.h"
#include "json.h"
#include "strbuf.h"

#define FUZZ_MAX_ARGS 64

static void fuzz_string(const uint8_t *data, size_t size)
{
	struct strbuf sb;
	uint8_t *dec;
	size_t replaced;
	long n;
	bool valid = fuzz_utf8_valid(data, size);

	strbuf_init(&sb);
	replaced = json_put_string(&sb, data, size);
	FUZZ_CHECK(strbuf_ok(&sb));
	FUZZ_CHECK(fuzz_json_valid(sb.buf, sb.len));
	FUZZ_CHECK(valid == (replaced == 0));
	FUZZ_CHECK(replaced <= size);
	dec = malloc(sb.len + 1);
	FUZZ_CHECK(dec != NULL);
	n = fuzz_json_unquote((const uint8_t *)sb.buf, sb.len, dec);
	FUZZ_CHECK(n >= 0);
	FUZZ_CHECK(fuzz_utf8_valid(dec, (size_t)n));
	if (valid)
		FUZZ_CHECK((size_t)n == size && memcmp(dec, data, size) == 0);
	/* utf8_seq_len agrees with the independent validator on every prefix */
	for (size_t i = 0; i < size && i < 64; i++) {
		size_t l = utf8_seq_len(data + i, size - i);

		FUZZ_CHECK(l <= 4 && l <= size - i);
		if (l)
			FUZZ_CHECK(fuzz_utf8_valid(data + i, l));
	}
	free(dec);
	strbuf_free(&sb);
}

static bool next_source(void *ctx, const char **path, size_t *len)
{
	struct fuzz_in *in = ctx;
	const uint8_t *tok;

	if (!fuzz_token(in, '\0', &tok, len))
		return false;
	*path = (const char *)tok;
	return true;
}

static ProtobufCBinaryData take(struct fuzz_in *in)
{
	ProtobufCBinaryData b = {0, NULL};
	const uint8_t *tok;

	if (fuzz_token(in, '\0', &tok, &b.len))
		b.data = (uint8_t *)tok;
	return b;
}

/* Input layout: flags, argc, the Exit's and Exec's numbers, then
 * NUL-separated hostname, exe, cwd, target, argc arguments and (for a build
 * with flag 8) the source files. */
static void fuzz_body(const uint8_t *data, size_t size)
{
	struct fuzz_in in = {data, size};
	Jcw__Exec exec = JCW__EXEC__INIT;
	Jcw__Exit exit = JCW__EXIT__INIT;
	ProtobufCBinaryData argv[FUZZ_MAX_ARGS];
	ProtobufCBinaryData target;
	struct body_in bi = {0};
	struct strbuf sb;
	uint8_t flags = fuzz_u8(&in);
	size_t argc = fuzz_u8(&in) % FUZZ_MAX_ARGS;
	char tbuf[BODY_TIME_LEN], sigbuf[16];
	unsigned signo;

	exit.status = fuzz_u32(&in);
	exit.exit_code = fuzz_u32(&in);
	exit.signal = fuzz_u32(&in);
	exit.core_dumped = flags & 2;
	exit.time_unix_ns = (uint64_t)fuzz_u32(&in) << (flags >> 4);
	exit.duration_ns = (uint64_t)fuzz_u32(&in) << 20;
	exit.cpu_ns = (uint64_t)fuzz_u32(&in) << 24;
	exit.children_cpu_ns = (uint64_t)fuzz_u32(&in) << 24;
	exit.max_rss_kb = fuzz_u32(&in);
	exit.children_max_rss_kb = fuzz_u32(&in);
	exec.time_unix_ns = (uint64_t)fuzz_u32(&in) << 30;
	exec.args_truncated = flags & 4;
	exec.argc = fuzz_u32(&in);
	exec.hostname = take(&in);
	exec.exe_path = take(&in);
	exec.cwd = take(&in);
	target = take(&in);
	for (exec.n_argv = 0; exec.n_argv < argc; exec.n_argv++)
		argv[exec.n_argv] = take(&in);
	exec.argv = argv;

	bi.endpoint = flags & 1 ? API_BUILD_LOG : API_RUN_LOG;
	bi.exec = &exec;
	bi.exit = &exit;
	bi.event_id = "boot-1";
	bi.target_path = (const char *)target.data;
	bi.target_len = target.len;
	bi.process_type = flags & 8 ? "python" : "binary";
	if (bi.endpoint == API_BUILD_LOG && (flags & 8)) {
		bi.next_source = next_source;   /* the rest of the input */
		bi.source_ctx = &in;
	}
	strbuf_init(&sb);
	body_write(&sb, &bi);
	FUZZ_CHECK(strbuf_ok(&sb));
	FUZZ_CHECK(sb.len > 0 && sb.buf[0] == '{');
	FUZZ_CHECK(strlen(sb.buf) == sb.len);
	FUZZ_CHECK(fuzz_json_valid(sb.buf, sb.len));
	strbuf_free(&sb);

	body_time_iso8601(exit.time_unix_ns, tbuf);
	FUZZ_CHECK(strlen(tbuf) == BODY_TIME_LEN - 1);
	FUZZ_CHECK(memcmp(tbuf + BODY_TIME_LEN - 7, "+00:00", 6) == 0);
	(void)body_exit_code(&exit, &signo);
	FUZZ_CHECK(strlen(body_signal_name(exit.signal, sigbuf)) < sizeof(sigbuf));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	if (data[0] & 1)
		fuzz_body(data + 1, size - 1);
	else
		fuzz_string(data + 1, size - 1);
	return 0;
}
