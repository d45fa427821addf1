#include "snap_register.h"

#include <errno.h>
#include <string.h>

#include "process/body.h"
#include "json.h"
#include "strbuf.h"
#include "process/urlpath.h"

int snap_register_request(const struct snap_register_in *in, struct api_request *out)
{
	const char *segs[] = {in->class_div, in->hw, in->student_id, in->filename, in->url_ts};
	struct api_request r = {0};
	struct strbuf sb = STRBUF_INIT, name = STRBUF_INIT;
	char ts[BODY_TIME_LEN];
	struct json_obj o;
	size_t i;

	strbuf_puts(&sb, "/api");
	for (i = 0; i < sizeof(segs) / sizeof(segs[0]); i++) {
		if (urlpath_put_segment(&sb, segs[i], strlen(segs[i]))) {
			strbuf_free(&sb);
			return -EINVAL;
		}
	}
	r.path = strbuf_detach(&sb, NULL);

	body_time_iso8601(in->event_time_ns, ts);
	json_obj_begin(&o, &sb);
	json_obj_uint(&o, "bytes", in->bytes);
	json_obj_cstr(&o, "event_id", in->event_id);
	json_obj_bool(&o, "deleted", in->deleted);
	json_obj_cstr(&o, "timestamp", ts);
	if (in->file)
		json_obj_cstr(&o, "file", in->file);
	strbuf_printf(&name, "%s%s", in->url_ts, in->ext ? in->ext : "");
	json_obj_str(&o, "snapshot", name.buf, name.len);
	strbuf_free(&name);
	if (in->signals) {
		json_obj_cstr(&o, "sha256", in->signals->sha256);
		if (in->signals->sha256_normalized[0])
			json_obj_cstr(&o, "sha256_normalized", in->signals->sha256_normalized);
		else
			json_obj_null(&o, "sha256_normalized");
		json_obj_uint(&o, "lines_added", in->signals->lines_added);
		json_obj_uint(&o, "lines_removed", in->signals->lines_removed);
		json_obj_bool(&o, "burst",
			      in->paste_lines && in->signals->lines_added >= in->paste_lines);
		if (in->have_previous && in->event_time_ns / 1000000000ull >= in->previous_s)
			json_obj_uint(&o, "seconds_since_previous",
				      in->event_time_ns / 1000000000ull - in->previous_s);
		else
			json_obj_null(&o, "seconds_since_previous");
	}
	if (in->writer_kind) {
		struct json_obj w;

		json_obj_key(&o, "writer");
		json_obj_begin(&w, &sb);
		json_obj_cstr(&w, "comm", in->writer_comm ? in->writer_comm : "");
		if (in->writer_exe)
			json_obj_cstr(&w, "exe", in->writer_exe);
		else
			json_obj_null(&w, "exe");
		json_obj_cstr(&w, "kind", in->writer_kind);
		json_obj_end(&w);
	}
	/* Only when several saves were folded into this one (a burst, or the
	 * student's budget): "saved 50,000 times" stays visible. */
	if (in->saves > 1)
		json_obj_uint(&o, "saves", in->saves);
	json_obj_end(&o);
	r.body = strbuf_detach(&sb, &r.body_len);

	strbuf_printf(&sb, "%s/%s", in->class_div, in->student_id);
	r.student_key = strbuf_detach(&sb, NULL);
	r.event_id = strdup(in->event_id);
	r.endpoint = API_SNAPSHOT;
	r.type = PROC_NONE;
	r.event_time_unix_ns = in->event_time_ns;
	if (!r.path || !r.body || !r.student_key || !r.event_id) {
		api_request_free(&r);
		return -ENOMEM;
	}
	*out = r;
	return 0;
}
