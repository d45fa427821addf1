/* privs: giving up what the collector no longer needs once the BPF programs
 * are attached and the ring buffer is mapped.
 *
 * Everything after attach works on descriptors already open (ring buffer,
 * counter map, links, capture file) or on the forwarder's socket, so no
 * capability is needed: the bounding, ambient, effective, permitted and
 * inheritable sets are all emptied and PR_SET_NO_NEW_PRIVS is set, so no
 * exec can regain any. Optionally switches to another user first. Raw
 * syscalls (capset, prctl): no libcap dependency. */
#ifndef JCW_PRIVS_H
#define JCW_PRIVS_H

#include <stddef.h>

/* user: NULL/"" to keep the uid, or a name or numeric uid. 0 or -errno
 * with a reason in err. */
int privs_drop(const char *user, char *err, size_t errlen);

#endif
