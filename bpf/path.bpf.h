/* path: a dentry + vfsmount resolved the way the owning process sees it.
 *
 * Walks d_parent upwards, and at the root of each mount jumps to the mount
 * point in the parent mount (struct mount via container_of of the vfsmount),
 * until it reaches the process's root (task->fs->root) or the top of its
 * mount namespace. So a bind mount of /srv/x onto /home/coder/project comes
 * out as /home/coder/project/..., not as the host's /srv/x/...
 *
 * Output: component names leaf first, each NUL-terminated, appended to the
 * scratch data area (see records.h). Bounded by JCW_PATH_DEPTH components,
 * JCW_MOUNT_HOPS mount crossings and JCW_PATH_MAX bytes; hitting any bound
 * (or an unreadable name, or a name longer than JCW_NAME_MAX - 1) sets
 * `trunc`.
 *
 * The loop runs under bpf_loop() (5.17+): the verifier checks the body once
 * instead of unrolling 80 iterations twice per exec record. */
#ifndef JCW_PATH_BPF_H
#define JCW_PATH_BPF_H

#include "vmlinux.h"
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_helpers.h>

#include "records.h"

struct path_walk {
	__u8 *data;                 /* scratch data area, JCW_DATA_CAP + slack */
	struct dentry *dentry;
	struct mount *mnt;
	struct dentry *mnt_root;    /* mnt's root dentry, read once per mount */
	struct dentry *root_dentry;
	struct vfsmount *root_mnt;
	__u32 off;                  /* next write offset in data */
	__u32 len;                  /* bytes written for this path */
	__u32 depth;
	__u32 hops;
	__u8 done;
	__u8 trunc;
};

/* container_of(vfsmnt, struct mount, mnt) and back, with a CO-RE offset
 * (clang 14 does not relocate a plain offsetof). */
static __always_inline struct mount *vfs_mount(struct vfsmount *v)
{
	return (void *)v - bpf_core_field_offset(struct mount, mnt);
}

static __always_inline struct vfsmount *mount_vfs(struct mount *m)
{
	return (void *)m + bpf_core_field_offset(struct mount, mnt);
}

/* The walk's state lives in a bpf_loop() context, where the verifier sees
 * plain numbers, not BTF pointers, so every field costs a helper call.
 * Fields that are neighbours in every kernel are read with one call:
 * dentry's d_parent and d_name (a qstr: hash, len, name), and mount's
 * mnt_parent, mnt_mountpoint and mnt.mnt_root. The layout is checked
 * against the running kernel's (CO-RE offsets, constants once relocated,
 * so the verifier keeps one branch), with field-by-field reads otherwise. */
struct dentry_head {
	struct dentry *parent;
	__u32 hash;
	__u32 len;
	const unsigned char *name;
};

struct mount_head {
	struct mount *parent;
	struct dentry *mountpoint;
	struct dentry *root;
};

static __always_inline int dentry_head_read(struct dentry *d, struct dentry_head *h)
{
	__u32 at = bpf_core_field_offset(struct dentry, d_parent);

	if (bpf_core_field_offset(struct dentry, d_name) == at + 8 &&
	    bpf_core_field_offset(struct qstr, len) == 4 && bpf_core_field_offset(struct qstr, name) == 8)
		return bpf_probe_read_kernel(h, sizeof(*h), (void *)d + at);
	h->parent = BPF_CORE_READ(d, d_parent);
	h->len = BPF_CORE_READ(d, d_name.len);
	h->name = BPF_CORE_READ(d, d_name.name);
	return 0;
}

static __always_inline int mount_head_read(struct mount *m, struct mount_head *h)
{
	__u32 at = bpf_core_field_offset(struct mount, mnt_parent);

	if (bpf_core_field_offset(struct mount, mnt_mountpoint) == at + 8 &&
	    bpf_core_field_offset(struct mount, mnt) + bpf_core_field_offset(struct vfsmount, mnt_root) == at + 16)
		return bpf_probe_read_kernel(h, sizeof(*h), (void *)m + at);
	h->parent = BPF_CORE_READ(m, mnt_parent);
	h->mountpoint = BPF_CORE_READ(m, mnt_mountpoint);
	h->root = BPF_CORE_READ(m, mnt.mnt_root);
	return 0;
}

static long path_walk_step(__u64 i, void *arg)
{
	struct path_walk *w = arg;
	struct dentry *d = w->dentry;
	struct dentry_head dh;
	struct mount_head mh;
	struct mount *up;
	long n;

	if (d == w->root_dentry && mount_vfs(w->mnt) == w->root_mnt)
		goto done;
	if (d == w->mnt_root) {
		if (mount_head_read(w->mnt, &mh))
			goto trunc;
		if (mh.parent == w->mnt)
			goto done; /* top of the mount namespace */
		if (++w->hops > JCW_MOUNT_HOPS)
			goto trunc;
		up = mh.parent;
		w->dentry = mh.mountpoint;
		w->mnt = up;
		/* The parent's root: one more read, once per mount crossed. */
		w->mnt_root = BPF_CORE_READ(up, mnt.mnt_root);
		return 0;
	}
	if (dentry_head_read(d, &dh))
		goto trunc;
	if (dh.parent == d || !dh.parent)
		goto done; /* root of a filesystem that is not mounted here */
	if (w->depth >= JCW_PATH_DEPTH)
		goto trunc;
	n = bpf_probe_read_kernel_str(w->data + (w->off & JCW_DATA_MASK), JCW_NAME_MAX, dh.name);
	if (n <= 0)
		goto trunc;
	if (w->len + n > JCW_PATH_MAX)
		goto trunc; /* this component does not fit: not counted */
	if (dh.len >= JCW_NAME_MAX)
		w->trunc = 1; /* component cut by the read */
	w->off += n;
	w->len += n;
	w->depth++;
	w->dentry = dh.parent;
	return 0;
trunc:
	w->trunc = 1;
done:
	w->done = 1;
	return 1;
}

/* Appends the components of (dentry, vfsmnt) at data[off]. Returns the
 * number of bytes written; *trunc is set when a bound was hit. root is a
 * BTF pointer or the stack's. */
static __always_inline __u32 path_resolve(__u8 *data, __u32 off, struct dentry *dentry,
					  struct vfsmount *vfsmnt, struct path *root, bool *trunc)
{
	struct path_walk w = {
		.data = data,
		.dentry = dentry,
		.mnt = vfs_mount(vfsmnt),
		.off = off,
	};

	if (!dentry || !vfsmnt) {
		*trunc = true;
		return 0;
	}
	w.mnt_root = BPF_CORE_READ(vfsmnt, mnt_root); /* vfsmnt may be a number */
	w.root_dentry = root->dentry;
	w.root_mnt = root->mnt;
	bpf_loop(JCW_PATH_DEPTH + JCW_MOUNT_HOPS + 1, path_walk_step, &w, 0);
	if (w.trunc || !w.done)
		*trunc = true;
	return w.len;
}

#endif
