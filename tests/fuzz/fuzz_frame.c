/* Frame decoder fuzzer: the bytes a (compromised) collector or a forged
 * capture can send. The input is fed to the frame reader in chunks of a
 * fuzzed size (partial reads), every frame is decoded, Execs wait in a join
 * table as in the forwarder's app, and each Exit that finds its Exec goes
 * through pipeline_process; every Exec also goes through it with an empty
 * Exit, so hostile Exec fields reach the pipeline without the fuzzer having
 * to guess a matching (tgid, start) pair. FileEvents take the snapshot
 * side's pure path: mapping, filter, and the registration request their
 * path would get.
 *
 * Invariants: a frame is never longer than max_frame; after an error the
 * reader stays broken; re-encoding a decoded frame is stable; a pipeline
 * success has a path of exactly /api/{class_div}/{hwN}/{id}/logs/{build|run},
 * a valid JSON body and a student key matching the path; anything else has
 * a reason. A mapped file lies below its student's directory with no "..",
 * and its registration is /api/{class_div}/{hwN}/{id}/{filename}/{ts} of
 * percent-encoded segments with a valid JSON body. */
#include <errno.h>
#include <stdlib.h>

#include "fuzz_util.h"
#include "frame.h"
#include "input/errjoin.h"
#include "input/join.h"
#include "process/pipeline.h"
#include "snapshot/snap_filter.h"
#include "snapshot/snap_path.h"
#include "snapshot/snap_register.h"

static struct pipeline *fuzz_pipe;
static struct errjoin *fuzz_err;   /* stderr pieces, until their exit */

static void check_request(enum pipe_result res, enum pipe_reason reason,
			  struct api_request *req)
{
	FUZZ_CHECK((unsigned)res < PIPE_RESULT_COUNT);
	if (res != PIPE_SUCCESS) {
		FUZZ_CHECK(reason != REASON_NONE && (unsigned)reason < PIPE_REASON_COUNT);
		return;
	}
	FUZZ_CHECK(req->path && req->body && req->event_id && req->student_key);
	FUZZ_CHECK(fuzz_api_path_ok(req->path));
	FUZZ_CHECK(strlen(req->body) == req->body_len);
	FUZZ_CHECK(fuzz_json_valid(req->body, req->body_len));
	/* "{class_div}/{id}" names the same student as the path */
	{
		const char *cls = req->path + 5, *hw = strchr(cls, '/');
		const char *id = strchr(hw + 1, '/') + 1, *id_end = strchr(id, '/');
		size_t cl = (size_t)(hw - cls), il = (size_t)(id_end - id);

		FUZZ_CHECK(strlen(req->student_key) == cl + 1 + il);
		FUZZ_CHECK(memcmp(req->student_key, cls, cl) == 0 && req->student_key[cl] == '/');
		FUZZ_CHECK(memcmp(req->student_key + cl + 1, id, il) == 0);
	}
	FUZZ_CHECK(strstr(req->body, "\"event_id\"") != NULL);
	api_request_free(req);
}

/* The snapshot side of a file event, without the disk. */
static void check_file(const Jcw__FileEvent *e, uint64_t seq)
{
	static struct file_exts exts;
	static bool exts_ready;
	struct snap_register_in ri = {0};
	struct api_request req;
	struct snap_path sp;
	const char *p, *seg;
	char err[128];
	int n = 0;

	if (!exts_ready) {
		if (file_exts_parse(FILE_EXTS_DEFAULT, &exts, err, sizeof(err)))
			abort();
		exts_ready = true;
	}
	if (snap_path_map("/home/coder/project", e->hostname.data, e->hostname.len, e->path.data,
			  e->path.len, &sp) != SNAP_PATH_OK)
		return;
	FUZZ_CHECK(strlen(sp.rel) == sp.rel_len && !strstr(sp.rel, "/../") && !strstr(sp.rel, "//"));
	FUZZ_CHECK(strncmp(sp.rel, sp.st.class_div, sp.st.class_div_len) == 0);
	FUZZ_CHECK(!strchr(sp.filename, '/'));
	(void)snap_filter_check(sp.below_hw, sp.below_len, &exts);
	ri.class_div = sp.st.class_div;
	ri.hw = sp.hw;
	ri.student_id = sp.st.id;
	ri.filename = sp.filename;
	ri.url_ts = "20250101_120101";
	ri.bytes = seq;
	ri.deleted = e->kind == JCW__FILE_EVENT_KIND__FILE_UNLINK;
	ri.event_id = "boot-1";
	ri.event_time_ns = e->time_unix_ns;
	if (snap_register_request(&ri, &req))
		return;   /* "." or ".." as the file name: refused */
	FUZZ_CHECK(strncmp(req.path, "/api/", 5) == 0);
	for (p = req.path + 5; *p; p = *seg ? seg + 1 : seg) {
		seg = strchr(p, '/');
		if (!seg)
			seg = p + strlen(p);
		FUZZ_CHECK(fuzz_url_segment_ok(p, (size_t)(seg - p)));
		n++;
	}
	FUZZ_CHECK(n == 5);
	FUZZ_CHECK(fuzz_json_valid(req.body, req.body_len));
	api_request_free(&req);
}

static void check_reencode(const Jcw__Frame *f)
{
	uint8_t *a = NULL, *b = NULL;
	size_t alen, blen;
	Jcw__Frame *g;

	/* protobuf-c 1.4 keeps unknown fields, even one whose tag is field 0
	 * written as a non-minimal varint, and re-packs it as a plain tag 0 it
	 * then refuses: not a round trip. The forwarder never re-encodes what it
	 * receives, so frames with unknown fields are only checked for not
	 * crashing. */
	if (f->base.n_unknown_fields ||
	    ((const ProtobufCMessage *)f->hello)->n_unknown_fields)
		return;
	if (frame_encode(f, &a, &alen))
		return;
	FUZZ_CHECK(alen >= FRAME_HDR_LEN);
	g = frame_decode(a + FRAME_HDR_LEN, alen - FRAME_HDR_LEN);
	FUZZ_CHECK(g != NULL);
	FUZZ_CHECK(g->body_case == f->body_case && g->seq == f->seq);
	FUZZ_CHECK(frame_encode(g, &b, &blen) == 0);
	FUZZ_CHECK(alen == blen && memcmp(a, b, alen) == 0);
	jcw__frame__free_unpacked(g, NULL);
	free(a);
	free(b);
}

static void handle_frame(struct join_table *join, Jcw__Frame *f)
{
	static const Jcw__Exit empty_exit = JCW__EXIT__INIT;
	struct api_request req;
	enum pipe_reason reason;
	enum pipe_result res;
	Jcw__Frame *ef;

	check_reencode(f);
	switch (f->body_case) {
	case JCW__FRAME__BODY_EXEC:
		res = pipeline_process(fuzz_pipe, "boot", f->seq, f->exec, &empty_exit,
				       errjoin_find(fuzz_err, f->exec->tgid, f->exec->start_boottime_ns),
				       &req, &reason);
		check_request(res, reason, &req);
		join_put(join, f, f->seq);   /* the table owns f now */
		return;
	case JCW__FRAME__BODY_EXIT:
		ef = join_take(join, f->exit->tgid, f->exit->start_boottime_ns);
		if (ef) {
			FUZZ_CHECK(ef->body_case == JCW__FRAME__BODY_EXEC);
			res = pipeline_process(fuzz_pipe, "boot", f->seq, ef->exec, f->exit,
					       errjoin_find(fuzz_err, f->exit->tgid,
							    f->exit->start_boottime_ns),
					       &req, &reason);
			errjoin_drop(fuzz_err, f->exit->tgid, f->exit->start_boottime_ns);
			check_request(res, reason, &req);
			jcw__frame__free_unpacked(ef, NULL);
		}
		break;
	case JCW__FRAME__BODY_FILE:
		check_file(f->file, f->seq);
		break;
	case JCW__FRAME__BODY_STDERR_PIECE:
		errjoin_piece(fuzz_err, f->stderr_piece, f->stderr_piece->tgid % 3, f->seq);
		break;
	default:
		break;
	}
	jcw__frame__free_unpacked(f, NULL);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_in in = {data, size};
	struct frame_reader r;
	struct join_table *join;
	uint8_t mode = fuzz_u8(&in);
	/* bit 0: capture (magic first); bits 1-7: chunk size 1..128 */
	bool magic = mode & 1;
	size_t chunk = 1 + (mode >> 1), max_frame = 64 + fuzz_u8(&in) * 64u;
	bool broken = false;

	if (!fuzz_pipe) {
		struct pipeline_config pc = {
			.rules_file = NULL,
			.stderr_mode = STDERR_ALL,
			.stderr_limits = {.diag_max = 512, .head_max = 128, .tail_max = 128},
		};
		char err[256];

		if (pipeline_new(&pc, &fuzz_pipe, err, sizeof(err)) ||
		    errjoin_new(4, 2, 512, 256, &fuzz_err))
			abort();
	}
	{
		const struct join_limits jl = {.max_entries = 8, .max_bytes = JOIN_CONTAINER_BYTES_MIN,
					       .container_bytes = JOIN_CONTAINER_BYTES_MIN};

		if (join_new(&jl, &join))
			return 0;
	}
	frame_reader_init(&r, max_frame, magic);
	while (in.n && !broken) {
		size_t n = in.n < chunk ? in.n : chunk;
		const uint8_t *msg;
		size_t len;
		int rc;

		if (frame_reader_feed(&r, in.p, n))
			break;
		in.p += n;
		in.n -= n;
		while ((rc = frame_reader_next(&r, &msg, &len)) == 1) {
			Jcw__Frame *f;

			FUZZ_CHECK(len <= max_frame);
			f = frame_decode(msg, len);
			if (f)
				handle_frame(join, f);
		}
		if (rc < 0) {
			FUZZ_CHECK(rc == -EMSGSIZE || (rc == -EPROTO && magic));
			FUZZ_CHECK(r.broken);
			FUZZ_CHECK(frame_reader_next(&r, &msg, &len) < 0);
			broken = true;
		}
	}
	FUZZ_CHECK(frame_reader_pending(&r) <= size);
	frame_reader_free(&r);
	join_free(join);
	return 0;
}
