/* hash: the two non-cryptographic hashes the tables use. Bucket choice
 * only: nothing relies on them against an adversary (every table bounds
 * its chains or its size). */
#ifndef JCW_HASH_H
#define JCW_HASH_H

#include <stddef.h>
#include <stdint.h>

/* FNV-1a over more bytes, continuing from h (one hash over several parts). */
static inline uint64_t hash_fnv1a_more(uint64_t h, const void *data, size_t len)
{
	const uint8_t *p = data;
	size_t i;

	for (i = 0; i < len; i++) {
		h ^= p[i];
		h *= 0x100000001b3ull;
	}
	return h;
}

/* FNV-1a over bytes: keys that are strings. */
static inline uint64_t hash_fnv1a(const void *data, size_t len)
{
	return hash_fnv1a_more(0xcbf29ce484222325ull, data, len);
}

/* splitmix64's finaliser: keys that are numbers differing in a few bits
 * (a process's tgid and start time). */
static inline uint64_t hash_mix64(uint64_t x)
{
	x ^= x >> 30;
	x *= 0xbf58476d1ce4e5b9ull;
	x ^= x >> 27;
	x *= 0x94d049bb133111ebull;
	x ^= x >> 31;
	return x;
}

/* A process's key, (tgid, start_boottime_ns), for every table of them. */
static inline uint64_t hash_proc(uint32_t tgid, uint64_t start_ns)
{
	return hash_mix64(start_ns ^ ((uint64_t)tgid << 32 | tgid));
}

#endif
