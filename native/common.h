/*
 * Shared helpers for the ovpn-ts native addon: argument unpacking and error reporting.
 *
 * Conventions used by every module:
 * - Caller misuse (wrong argument type, a typed array too short for `n`, a bad descriptor given to
 *   a seal) throws a TypeError whose `code` is one of the OVPN_ERR_* strings below. Nothing in the
 *   slab is touched when that happens.
 * - A failed system call that makes the fd unusable (EBADF, ENOTSOCK, ...) throws an Error with
 *   `code` = the errno name ("EBADF"), `errno` = the number and `syscall`.
 * - Every other failed I/O call on a batch returns -errno so the data path can count and go on;
 *   EAGAIN returns 0.
 * The helpers return 0 on success and -1 after throwing, so call sites read
 * `if (get_u8(...) < 0) return NULL;`.
 */
#ifndef OVPN_NATIVE_COMMON_H
#define OVPN_NATIVE_COMMON_H

#define NAPI_VERSION 8
#include <node_api.h>
#include <stddef.h>
#include <stdint.h>

#define ERR_ARG "OVPN_ERR_INVALID_ARG"
#define ERR_DESC "OVPN_ERR_BAD_DESCRIPTOR"
#define ERR_FREED "OVPN_ERR_AEAD_FREED"
#define ERR_DIRECTION "OVPN_ERR_AEAD_DIRECTION"

/* Per-addon-instance scratch (one per Node environment, so worker threads never share it). */
struct ovpn_udp_scratch;
typedef struct {
  struct ovpn_udp_scratch *udp;
} ovpn_instance;

/* Argument unpacking. `what` names the argument in error messages ("slab", "offsets"). */
int get_args(napi_env env, napi_callback_info info, size_t want, napi_value *argv);
int get_u8(napi_env env, napi_value v, const char *what, uint8_t **data, size_t *len);
int get_u8_or_null(napi_env env, napi_value v, const char *what, uint8_t **data, size_t *len);
int get_u32arr(napi_env env, napi_value v, const char *what, uint32_t **data, size_t *len);
int get_u32arr_or_null(napi_env env, napi_value v, const char *what, uint32_t **data, size_t *len);
int get_u32(napi_env env, napi_value v, const char *what, uint32_t *out);
int get_i32(napi_env env, napi_value v, const char *what, int32_t *out);
int get_bool(napi_env env, napi_value v, const char *what, int *out);
/* Copies a JS string into buf (NUL-terminated); fails if it does not fit. */
int get_str(napi_env env, napi_value v, const char *what, char *buf, size_t cap);
/* Optional property of an options object; *present = 0 when absent or undefined. */
int get_opt(napi_env env, napi_value obj, const char *key, napi_value *out, int *present);

/* Errors. throw_arg formats a TypeError with code `code`; throw_errno an Error for errno `err`. */
void throw_arg(napi_env env, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void throw_errno(napi_env env, int err, const char *syscall);
/* Name of an errno value ("ECONNREFUSED"), or "E<number>" for unknown values. */
const char *errno_name(int err);
/* Errors that mean the fd itself is unusable: these throw instead of returning -errno. */
int errno_is_fatal(int err);

/* Batch result for a failed syscall: 0 for EAGAIN, -errno, or a throw (returns NULL) if fatal. */
napi_value io_error(napi_env env, int err, const char *syscall);
int get_fd(napi_env env, napi_value v, int *fd);

napi_value make_i32(napi_env env, int32_t v);
napi_value make_u32(napi_env env, uint32_t v);
napi_value make_bool(napi_env env, int v);
int set_fn(napi_env env, napi_value obj, const char *name, napi_callback cb, void *data);

/* Module initialisers: each fills `obj` with its functions. */
int init_aead(napi_env env, napi_value obj);
int init_tun(napi_env env, napi_value obj);
int init_tun_offload(napi_env env, napi_value obj); /* readBatchGso, writeBatchGro, ... (tun_offload.c) */
int init_udp(napi_env env, napi_value obj, ovpn_instance *inst);
int init_udp_setup(napi_env env, napi_value obj); /* socket, bind, connect, ... (udp_setup.c) */
int init_poll(napi_env env, napi_value obj);
/* Top-level helpers: caps(), errnoName() (udp_setup.c). */
int init_top(napi_env env, napi_value exports);
napi_value fd_close(napi_env env, napi_callback_info info); /* close(fd), shared by UDP and TUN */

/* Range check helper: does [off, off+len) fit in [0, cap)? Done in 64 bits, so no overflow. */
static inline int range_ok(uint64_t off, uint64_t len, uint64_t cap) {
  return off <= cap && len <= cap - off;
}

#endif
