/* Ring-buffer record -> protobuf frame, without loading any BPF: records are
 * built here exactly as bpf/jcw.bpf.c lays them out (bpf/records.h). */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "convert.h"
#include "records.h"

static const struct convert_ctx ctx = {.boot_to_unix_ns = 1700000000000000000ll, .page_size = 4096};

/* An exec record with the given variable parts (lengths include NULs). */
static void *make_exec(const void *args, size_t alen, const void *exe, size_t elen,
		       const void *cwd, size_t clen, size_t *len)
{
	size_t n = sizeof(struct jcw_exec) + alen + elen + clen;
	struct jcw_exec *e = calloc(1, n);
	uint8_t *d = (uint8_t *)(e + 1);

	e->hdr.type = JCW_REC_EXEC;
	e->hdr.size = (uint32_t)n;
	e->ktime_ns = 5000;
	e->start_boottime_ns = 4000;
	e->pid = 101;
	e->tgid = 100;
	e->ppid = 99;
	e->uid = 1000;
	e->argc = 3;
	e->args_len = (uint32_t)alen;
	e->exe_len = (uint16_t)elen;
	e->cwd_len = (uint16_t)clen;
	e->stdin_kind = JCW_FD_TTY;
	e->stdout_kind = JCW_FD_PIPE;
	strcpy(e->comm, "gcc");
	memcpy(e->hostname, "jcode-os-1-202012345", 20); /* no NUL needed within 65 */
	memcpy(d, args, alen);
	memcpy(d + alen, exe, elen);
	memcpy(d + alen + elen, cwd, clen);
	*len = n;
	return e;
}

static void assert_bytes(ProtobufCBinaryData b, const char *want)
{
	cr_assert_eq(b.len, strlen(want), "got %zu bytes '%.*s', want '%s'", b.len, (int)b.len,
		     (const char *)b.data, want);
	cr_assert(memcmp(b.data, want, b.len) == 0, "got '%.*s', want '%s'", (int)b.len,
		  (const char *)b.data, want);
}

Test(convert, exec_paths_argv_fields)
{
	static const char args[] = "gcc\0main.c\0-o\0main"; /* 4 args, no trailing NUL */
	static const char exe[] = "gcc-12\0bin\0usr\0";
	static const char cwd[] = "hw1\0project\0coder\0home\0";
	struct converted cv;
	char err[128];
	size_t len;
	void *rec = make_exec(args, sizeof(args) - 1, exe, sizeof(exe) - 1, cwd, sizeof(cwd) - 1, &len);

	cr_assert_eq(convert_record(rec, len, &ctx, &cv, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(cv.frame.body_case, JCW__FRAME__BODY_EXEC);
	assert_bytes(cv.exec.exe_path, "/usr/bin/gcc-12");
	assert_bytes(cv.exec.cwd, "/home/coder/project/hw1");
	cr_assert_eq(cv.exec.n_argv, 4);
	assert_bytes(cv.exec.argv[0], "gcc");
	assert_bytes(cv.exec.argv[3], "main");
	assert_bytes(cv.exec.comm, "gcc");
	assert_bytes(cv.exec.hostname, "jcode-os-1-202012345");
	cr_assert_eq(cv.exec.argc, 3, "argc is the kernel's, not the split count");
	cr_assert_eq(cv.exec.tgid, 100);
	cr_assert_eq(cv.exec.ppid, 99);
	cr_assert_eq(cv.exec.time_unix_ns, 1700000000000005000ull);
	cr_assert_eq(cv.exec.start_boottime_ns, 4000);
	cr_assert_eq(cv.exec.stdin_kind, JCW__FD_KIND__FD_TTY);
	cr_assert_eq(cv.exec.stdout_kind, JCW__FD_KIND__FD_PIPE);
	cr_assert(!cv.exec.args_truncated && !cv.exec.seeded);
	converted_free(&cv);
	free(rec);
}

Test(convert, truncation_flags_and_seeded)
{
	struct converted cv;
	struct jcw_exec *e;
	char err[128];
	size_t len;

	e = make_exec("a\0", 2, "x\0", 2, "", 0, &len);
	e->flags = JCW_EXEC_ARGS_TRUNC | JCW_EXEC_EXE_TRUNC | JCW_EXEC_CWD_TRUNC | JCW_EXEC_SEEDED;
	cr_assert_eq(convert_record(e, len, &ctx, &cv, err, sizeof(err)), 0, "%s", err);
	cr_assert(cv.exec.args_truncated);
	cr_assert(cv.exec.exe_path_truncated);
	cr_assert(cv.exec.cwd_truncated);
	cr_assert(cv.exec.seeded);
	assert_bytes(cv.exec.cwd, "/"); /* empty component list is the root */
	assert_bytes(cv.exec.exe_path, "/x");
	converted_free(&cv);
	free(e);
}

Test(convert, seeded_argv_from_proc)
{
	static const char cmdline[] = "sleep\0" "300\0";
	struct converted cv;
	char err[128];
	size_t len;
	void *rec = make_exec("", 0, "sleep\0bin\0usr\0", 15, "", 0, &len);

	cr_assert_eq(convert_record(rec, len, &ctx, &cv, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(cv.exec.n_argv, 0);
	cr_assert_eq(convert_set_argv(&cv, (const uint8_t *)cmdline, sizeof(cmdline) - 1, 0), 0);
	cr_assert_eq(cv.exec.n_argv, 2);
	cr_assert_eq(cv.exec.argc, 2);
	assert_bytes(cv.exec.argv[1], "300");
	converted_free(&cv);
	free(rec);
}

Test(convert, argv_splitting)
{
	ProtobufCBinaryData *v;
	size_t n;

	cr_assert_eq(convert_argv((const uint8_t *)"", 0, &v, &n), 0);
	cr_assert_eq(n, 0);
	cr_assert_null(v);

	/* Empty arguments are kept. */
	cr_assert_eq(convert_argv((const uint8_t *)"a\0\0b\0", 5, &v, &n), 0);
	cr_assert_eq(n, 3);
	assert_bytes(v[0], "a");
	assert_bytes(v[1], "");
	assert_bytes(v[2], "b");
	free(v);

	/* Trailing empty argument: "a" "" */
	cr_assert_eq(convert_argv((const uint8_t *)"a\0\0", 3, &v, &n), 0);
	cr_assert_eq(n, 2);
	assert_bytes(v[1], "");
	free(v);

	/* Missing trailing NUL (cut by the bound): the partial last one stays. */
	cr_assert_eq(convert_argv((const uint8_t *)"ab\0cd", 5, &v, &n), 0);
	cr_assert_eq(n, 2);
	assert_bytes(v[1], "cd");
	free(v);

	/* One empty argument. */
	cr_assert_eq(convert_argv((const uint8_t *)"\0", 1, &v, &n), 0);
	cr_assert_eq(n, 1);
	assert_bytes(v[0], "");
	free(v);
}

Test(convert, path_reversal)
{
	char out[64];
	size_t n;

	n = convert_path((const uint8_t *)"c\0b\0a\0", 6, out);
	cr_assert_eq(n, 6);
	cr_assert(memcmp(out, "/a/b/c", 6) == 0);
	n = convert_path((const uint8_t *)"", 0, out);
	cr_assert_eq(n, 1);
	cr_assert_eq(out[0], '/');
	/* Last component without its NUL (a cut walk) and empty names. */
	n = convert_path((const uint8_t *)"leaf\0\0root", 10, out);
	cr_assert_eq(n, 10);
	cr_assert(memcmp(out, "/root/leaf", 10) == 0);
	/* Bytes that are not UTF-8 pass through unchanged. */
	n = convert_path((const uint8_t *)"\xff\xfe\0", 3, out);
	cr_assert_eq(n, 3);
	cr_assert(memcmp(out, "/\xff\xfe", 3) == 0);
}

Test(convert, exit_status_decoding)
{
	uint32_t code, sig;
	int core;

	convert_status(3 << 8, &code, &sig, &core);
	cr_assert(code == 3 && sig == 0 && !core);
	convert_status(11 | 0x80, &code, &sig, &core);
	cr_assert(code == 0 && sig == 11 && core);
	convert_status(9, &code, &sig, &core);
	cr_assert(code == 0 && sig == 9 && !core);
	convert_status(255 << 8, &code, &sig, &core);
	cr_assert(code == 255 && sig == 0);
}

Test(convert, exit_record)
{
	struct jcw_exit x = {0};
	struct converted cv;
	char err[128];

	x.hdr.type = JCW_REC_EXIT;
	x.hdr.size = sizeof(x);
	x.tgid = 100;
	x.start_boottime_ns = 1000;
	x.ktime_ns = 3500;
	x.exit_code = 15;
	x.flags = JCW_EXIT_KILLER | JCW_EXIT_OOM;
	x.killer_pid = 42;
	strcpy(x.killer_comm, "timeout");
	x.max_rss_pages = 10;
	x.children_max_rss_pages = 25;
	x.cpu_ns = 7;
	x.children_cpu_ns = 150000000;
	x.rchar = 123;
	cr_assert_eq(convert_record(&x, sizeof(x), &ctx, &cv, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(cv.frame.body_case, JCW__FRAME__BODY_EXIT);
	cr_assert_eq(cv.exit.signal, 15);
	cr_assert_eq(cv.exit.status, 15);
	cr_assert_eq(cv.exit.exit_code, 0);
	cr_assert_eq(cv.exit.killer_pid, 42);
	assert_bytes(cv.exit.killer_comm, "timeout");
	cr_assert(cv.exit.oom_killed);
	cr_assert_eq(cv.exit.duration_ns, 2500);
	cr_assert_eq(cv.exit.time_unix_ns, 1700000000000003500ull);
	cr_assert_eq(cv.exit.max_rss_kb, 40);
	cr_assert_eq(cv.exit.children_max_rss_kb, 100);
	cr_assert_eq(cv.exit.cpu_ns, 7);
	cr_assert_eq(cv.exit.children_cpu_ns, 150000000);
	cr_assert_eq(cv.exit.read_bytes, 123);
	cr_assert_not(cv.exit.unrecorded_exec);
	converted_free(&cv);

	/* Without the killer flag no killer is reported, whatever the fields. */
	x.flags = JCW_EXIT_UNRECORDED;
	cr_assert_eq(convert_record(&x, sizeof(x), &ctx, &cv, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(cv.exit.killer_pid, 0);
	cr_assert_eq(cv.exit.killer_comm.len, 0);
	cr_assert(cv.exit.unrecorded_exec, "the exec before it was not recorded");
	converted_free(&cv);
}

Test(convert, time_conversion)
{
	struct convert_ctx c = {.boot_to_unix_ns = -100};

	cr_assert_eq(convert_time(&ctx, 0), 1700000000000000000ull);
	cr_assert_eq(convert_time(&c, 50), 0, "never negative");
	cr_assert_eq(convert_time(&c, 150), 50);
}

Test(convert, malformed_records)
{
	struct converted cv;
	struct jcw_exec *e;
	char err[128];
	uint32_t small[2] = {JCW_REC_EXEC, 8};
	size_t len;

	cr_assert_eq(convert_record(small, 4, &ctx, &cv, err, sizeof(err)), -EINVAL);
	converted_free(&cv);
	cr_assert_eq(convert_record(small, 8, &ctx, &cv, err, sizeof(err)), -EINVAL);
	converted_free(&cv);

	e = make_exec("a\0", 2, "", 0, "", 0, &len);
	e->args_len = 4096; /* overruns the record */
	cr_assert_eq(convert_record(e, len, &ctx, &cv, err, sizeof(err)), -EINVAL);
	cr_assert(strstr(err, "announced") != NULL, "%s", err);
	converted_free(&cv);
	e->args_len = 2;
	e->hdr.size = (uint32_t)len + 1; /* header disagrees with the ring */
	cr_assert_eq(convert_record(e, len, &ctx, &cv, err, sizeof(err)), -EINVAL);
	converted_free(&cv);
	e->hdr.size = (uint32_t)len;
	e->hdr.type = 99;
	cr_assert_eq(convert_record(e, len, &ctx, &cv, err, sizeof(err)), -EINVAL);
	converted_free(&cv);
	free(e);
}

/* The writer's executable (components) of the next make_file; "" none. */
static const char *file_exe = "";
static size_t file_exe_len;

/* A file record laid out as bpf/file.bpf.h does: path_arg old_arg path old
 * exe (argument lengths include their NUL). */
static void *make_file(uint8_t kind, const void *path_arg, size_t palen, const void *old_arg,
		       size_t oalen, const void *path, size_t plen, const void *old, size_t olen,
		       size_t *len)
{
	size_t n = sizeof(struct jcw_file) + palen + oalen + plen + olen + file_exe_len;
	struct jcw_file *f = calloc(1, n);
	uint8_t *d = (uint8_t *)(f + 1);

	f->hdr.type = JCW_REC_FILE;
	f->hdr.size = (uint32_t)n;
	f->ktime_ns = 7000;
	f->size = 29;
	f->pid = 201;
	f->tgid = 200;
	f->kind = kind;
	f->path_arg_len = (uint16_t)palen;
	f->old_arg_len = (uint16_t)oalen;
	f->path_len = (uint16_t)plen;
	f->old_len = (uint16_t)olen;
	f->exe_len = (uint16_t)file_exe_len;
	strcpy(f->comm, "bash");
	memcpy(f->hostname, "jcode-os-1-202012345", 21);
	memcpy(d, path_arg, palen);
	memcpy(d + palen, old_arg, oalen);
	memcpy(d + palen + oalen, path, plen);
	memcpy(d + palen + oalen + plen, old, olen);
	memcpy(d + palen + oalen + plen + olen, file_exe, file_exe_len);
	*len = n;
	return f;
}

static const char hw1_comps[] = "hw1\0project\0coder\0home\0";

Test(convert_file, close_write_resolved_path)
{
	static const char comps[] = "main.c\0hw1\0project\0coder\0home\0";
	struct converted cv;
	char err[128];
	size_t len;
	void *rec = make_file(JCW_FILE_CLOSE_WRITE, "", 0, "", 0, comps, sizeof(comps) - 1, "", 0, &len);

	cr_assert_eq(convert_record(rec, len, &ctx, &cv, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(cv.frame.body_case, JCW__FRAME__BODY_FILE);
	cr_assert_eq(cv.file.kind, JCW__FILE_EVENT_KIND__FILE_CLOSE_WRITE);
	assert_bytes(cv.file.path, "/home/coder/project/hw1/main.c");
	cr_assert_eq(cv.file.old_path.len, 0);
	cr_assert_eq(cv.file.pid, 201);
	cr_assert_eq(cv.file.tgid, 200);
	cr_assert_eq(cv.file.size, 29);
	cr_assert_eq(cv.file.time_unix_ns, 1700000000000007000ull);
	assert_bytes(cv.file.hostname, "jcode-os-1-202012345");
	assert_bytes(cv.file.comm, "bash");
	cr_assert(!cv.file.path_truncated && !cv.file.old_path_truncated);
	converted_free(&cv);
	free(rec);
}

Test(convert_file, unlink_relative_absolute_and_dotted)
{
	struct converted cv;
	char err[128];
	size_t len;
	void *rec;

	/* rm old.c in /home/coder/project/hw1: the cwd + the argument. */
	rec = make_file(JCW_FILE_UNLINK, "old.c", 6, "", 0, hw1_comps, sizeof(hw1_comps) - 1, "", 0, &len);
	cr_assert_eq(convert_record(rec, len, &ctx, &cv, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(cv.file.kind, JCW__FILE_EVENT_KIND__FILE_UNLINK);
	assert_bytes(cv.file.path, "/home/coder/project/hw1/old.c");
	converted_free(&cv);
	free(rec);

	/* An absolute argument is taken as is; no directory was resolved. */
	rec = make_file(JCW_FILE_UNLINK, "/home/coder/project/hw2/x.py", 29, "", 0, "", 0, "", 0, &len);
	cr_assert_eq(convert_record(rec, len, &ctx, &cv, err, sizeof(err)), 0, "%s", err);
	assert_bytes(cv.file.path, "/home/coder/project/hw2/x.py");
	converted_free(&cv);
	free(rec);

	/* "../hw2/x.c" is joined, not normalised (the forwarder does that);
	 * relative to the root directory there is no doubled slash. */
	rec = make_file(JCW_FILE_UNLINK, "../hw2/x.c", 11, "", 0, hw1_comps, sizeof(hw1_comps) - 1, "", 0, &len);
	cr_assert_eq(convert_record(rec, len, &ctx, &cv, err, sizeof(err)), 0, "%s", err);
	assert_bytes(cv.file.path, "/home/coder/project/hw1/../hw2/x.c");
	converted_free(&cv);
	free(rec);
	rec = make_file(JCW_FILE_UNLINK, "x.c", 4, "", 0, "", 0, "", 0, &len);
	cr_assert_eq(convert_record(rec, len, &ctx, &cv, err, sizeof(err)), 0, "%s", err);
	assert_bytes(cv.file.path, "/x.c");
	converted_free(&cv);
	free(rec);
}

Test(convert_file, rename_old_and_new_each_with_its_directory)
{
	static const char tmp_comps[] = "tmp\0";
	struct converted cv;
	char err[128];
	size_t len;
	/* renameat(tmpfd, "main.c.swp", AT_FDCWD, "main.c") in hw1: new
	 * relative to the cwd, old relative to the dirfd's /tmp. */
	void *rec = make_file(JCW_FILE_RENAME, "main.c", 7, "main.c.swp", 11, hw1_comps,
			      sizeof(hw1_comps) - 1, tmp_comps, sizeof(tmp_comps) - 1, &len);

	cr_assert_eq(convert_record(rec, len, &ctx, &cv, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(cv.file.kind, JCW__FILE_EVENT_KIND__FILE_RENAME);
	assert_bytes(cv.file.path, "/home/coder/project/hw1/main.c");
	assert_bytes(cv.file.old_path, "/tmp/main.c.swp");
	converted_free(&cv);
	free(rec);

	/* Absolute old, relative new. */
	rec = make_file(JCW_FILE_RENAME, "b.c", 4, "/home/coder/project/hw1/a.c", 28, hw1_comps,
			sizeof(hw1_comps) - 1, "", 0, &len);
	cr_assert_eq(convert_record(rec, len, &ctx, &cv, err, sizeof(err)), 0, "%s", err);
	assert_bytes(cv.file.path, "/home/coder/project/hw1/b.c");
	assert_bytes(cv.file.old_path, "/home/coder/project/hw1/a.c");
	converted_free(&cv);
	free(rec);
}

/* The writer's executable comes after every path, of a close and of a
 * rename (whose two joined paths come first in the same buffer). */
Test(convert_file, the_writer_exe_follows_the_paths)
{
	static const char exe[] = "mv\0bin\0usr\0";
	static const char comps[] = "main.c\0hw1\0project\0coder\0home\0";
	struct converted cv;
	char err[128];
	size_t len;
	void *rec;

	file_exe = exe;
	file_exe_len = sizeof(exe) - 1;
	rec = make_file(JCW_FILE_RENAME, "b.c", 4, "/home/coder/project/hw1/a.c", 28, hw1_comps,
			sizeof(hw1_comps) - 1, "", 0, &len);
	cr_assert_eq(convert_record(rec, len, &ctx, &cv, err, sizeof(err)), 0, "%s", err);
	assert_bytes(cv.file.path, "/home/coder/project/hw1/b.c");
	assert_bytes(cv.file.old_path, "/home/coder/project/hw1/a.c");
	assert_bytes(cv.file.exe, "/usr/bin/mv");
	cr_assert(!cv.file.exe_truncated);
	converted_free(&cv);
	free(rec);
	rec = make_file(JCW_FILE_CLOSE_WRITE, "", 0, "", 0, comps, sizeof(comps) - 1, "", 0, &len);
	((struct jcw_file *)rec)->flags = JCW_FILE_EXE_TRUNC;
	cr_assert_eq(convert_record(rec, len, &ctx, &cv, err, sizeof(err)), 0, "%s", err);
	assert_bytes(cv.file.path, "/home/coder/project/hw1/main.c");
	assert_bytes(cv.file.exe, "/usr/bin/mv");
	cr_assert(cv.file.exe_truncated);
	converted_free(&cv);
	free(rec);
	file_exe = "";
	file_exe_len = 0;
}

Test(convert_file, truncation_flags)
{
	struct converted cv;
	struct jcw_file *f;
	char err[128];
	size_t len;

	f = make_file(JCW_FILE_RENAME, "", 0, "", 0, "", 0, "", 0, &len);
	f->flags = JCW_FILE_PATH_TRUNC;
	cr_assert_eq(convert_record(f, len, &ctx, &cv, err, sizeof(err)), 0, "%s", err);
	cr_assert(cv.file.path_truncated && !cv.file.old_path_truncated);
	converted_free(&cv);
	f->flags = JCW_FILE_OLD_TRUNC;
	cr_assert_eq(convert_record(f, len, &ctx, &cv, err, sizeof(err)), 0, "%s", err);
	cr_assert(!cv.file.path_truncated && cv.file.old_path_truncated);
	converted_free(&cv);
	free(f);
}

Test(convert_file, malformed)
{
	struct converted cv;
	struct jcw_file *f;
	char err[128];
	size_t len;

	f = make_file(JCW_FILE_UNLINK, "a.c", 4, "", 0, "", 0, "", 0, &len);
	f->path_len = 100; /* overruns the record */
	cr_assert_eq(convert_record(f, len, &ctx, &cv, err, sizeof(err)), -EINVAL);
	cr_assert(strstr(err, "announced") != NULL, "%s", err);
	converted_free(&cv);
	f->path_len = 0;
	f->kind = 9;
	cr_assert_eq(convert_record(f, len, &ctx, &cv, err, sizeof(err)), -EINVAL);
	cr_assert(strstr(err, "kind") != NULL, "%s", err);
	converted_free(&cv);
	f->kind = JCW_FILE_UNLINK;
	f->hdr.size = sizeof(struct jcw_file) - 8;
	cr_assert_eq(convert_record(f, sizeof(struct jcw_file) - 8, &ctx, &cv, err, sizeof(err)), -EINVAL);
	cr_assert(strstr(err, "too short") != NULL, "%s", err);
	converted_free(&cv);
	free(f);
}

Test(convert_stderr, a_head_piece_with_its_text_or_its_unread_bytes)
{
	struct {
		struct jcw_stderr r;
		char data[8];
	} s = {0};
	struct converted cv;
	char err[128];

	s.r.hdr.type = JCW_REC_STDERR;
	s.r.hdr.size = sizeof(s.r) + 5;
	s.r.tgid = 100;
	s.r.start_boottime_ns = 1000;
	s.r.offset = 12;
	s.r.len = 5;
	memcpy(s.data, "oops\n", 5);
	cr_assert_eq(convert_record(&s, sizeof(s.r) + 5, &ctx, &cv, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(cv.frame.body_case, JCW__FRAME__BODY_STDERR_PIECE);
	assert_bytes(cv.err.data, "oops\n");
	cr_assert_eq(cv.err.offset, 12);
	cr_assert_eq(cv.err.unread, 0);
	converted_free(&cv);

	/* The kernel side could not copy the write: no data, its bytes said. */
	s.r.len = 0;
	s.r.unread = 17;
	s.r.hdr.size = sizeof(s.r);
	cr_assert_eq(convert_record(&s, sizeof(s.r), &ctx, &cv, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(cv.err.data.len, 0);
	cr_assert_eq(cv.err.unread, 17);
	cr_assert_eq(cv.err.offset, 12);
	converted_free(&cv);
}

Test(convert_stderr, a_tail_says_its_unread_bytes_at_most_its_length)
{
	struct jcw_stderr_tail *t = calloc(1, sizeof(*t));
	const size_t len = offsetof(struct jcw_stderr_tail, data) + JCW_STDERR_TAIL_CAP;
	struct converted cv;
	char err[128];

	cr_assert_not_null(t);
	t->hdr.type = JCW_REC_STDERR_TAIL;
	t->hdr.size = (uint32_t)len;
	t->tgid = 100;
	t->total = 9000;
	t->ring = 6;
	t->unread = 4;
	memcpy(t->data, "ab\0\0\0\0", 6);
	cr_assert_eq(convert_record(t, len, &ctx, &cv, err, sizeof(err)), 0, "%s", err);
	cr_assert(cv.err.tail);
	cr_assert_eq(cv.err.data.len, 6);
	cr_assert_eq(cv.err.offset, 9000 - 6);
	cr_assert_eq(cv.err.unread, 4);
	converted_free(&cv);

	t->unread = 1u << 20;   /* more than it holds: never more than its data */
	cr_assert_eq(convert_record(t, len, &ctx, &cv, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(cv.err.unread, 6);
	converted_free(&cv);
	free(t);
}
