/* Argument unpacking and error helpers shared by every module (see common.h for conventions). */
#include "common.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

int get_args(napi_env env, napi_callback_info info, size_t want, napi_value *argv) {
  size_t argc = want;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok) {
    throw_arg(env, ERR_ARG, "could not read the call's arguments");
    return -1;
  }
  /* Missing trailing arguments read as undefined, which the typed getters reject by name. */
  return 0;
}

static int typed(napi_env env, napi_value v, const char *what, napi_typedarray_type want,
                 const char *tname, void **data, size_t *len) {
  bool is_ta = false;
  napi_typedarray_type t;
  if (napi_is_typedarray(env, v, &is_ta) != napi_ok || !is_ta ||
      napi_get_typedarray_info(env, v, &t, len, data, NULL, NULL) != napi_ok || t != want) {
    throw_arg(env, ERR_ARG, "%s: expected a %s", what, tname);
    return -1;
  }
  return 0;
}

int get_u8(napi_env env, napi_value v, const char *what, uint8_t **data, size_t *len) {
  void *p = NULL;
  if (typed(env, v, what, napi_uint8_array, "Uint8Array", &p, len) < 0) return -1;
  /* A zero-length view may report a NULL pointer; keep it non-NULL so pointer math stays defined. */
  static uint8_t empty;
  *data = p ? (uint8_t *)p : &empty;
  return 0;
}

static int is_nullish(napi_env env, napi_value v) {
  napi_valuetype t;
  return napi_typeof(env, v, &t) == napi_ok && (t == napi_null || t == napi_undefined);
}

int get_u8_or_null(napi_env env, napi_value v, const char *what, uint8_t **data, size_t *len) {
  if (is_nullish(env, v)) {
    *data = NULL;
    *len = 0;
    return 0;
  }
  return get_u8(env, v, what, data, len);
}

int get_u32arr(napi_env env, napi_value v, const char *what, uint32_t **data, size_t *len) {
  void *p = NULL;
  if (typed(env, v, what, napi_uint32_array, "Uint32Array", &p, len) < 0) return -1;
  static uint32_t empty;
  *data = p ? (uint32_t *)p : &empty;
  return 0;
}

int get_u32arr_or_null(napi_env env, napi_value v, const char *what, uint32_t **data,
                       size_t *len) {
  if (is_nullish(env, v)) {
    *data = NULL;
    *len = 0;
    return 0;
  }
  return get_u32arr(env, v, what, data, len);
}

int get_i32(napi_env env, napi_value v, const char *what, int32_t *out) {
  double d;
  if (napi_get_value_double(env, v, &d) != napi_ok || d != (double)(int32_t)d) {
    throw_arg(env, ERR_ARG, "%s: expected an integer", what);
    return -1;
  }
  *out = (int32_t)d;
  return 0;
}

int get_u32(napi_env env, napi_value v, const char *what, uint32_t *out) {
  double d;
  if (napi_get_value_double(env, v, &d) != napi_ok || d < 0 || d > 4294967295.0 ||
      d != (double)(uint32_t)d) {
    throw_arg(env, ERR_ARG, "%s: expected an integer 0..2^32-1", what);
    return -1;
  }
  *out = (uint32_t)d;
  return 0;
}

int get_bool(napi_env env, napi_value v, const char *what, int *out) {
  bool b;
  if (napi_get_value_bool(env, v, &b) != napi_ok) {
    throw_arg(env, ERR_ARG, "%s: expected a boolean", what);
    return -1;
  }
  *out = b;
  return 0;
}

int get_str(napi_env env, napi_value v, const char *what, char *buf, size_t cap) {
  size_t n = 0;
  if (napi_get_value_string_utf8(env, v, NULL, 0, &n) != napi_ok) {
    throw_arg(env, ERR_ARG, "%s: expected a string", what);
    return -1;
  }
  if (n + 1 > cap) {
    throw_arg(env, ERR_ARG, "%s: longer than %zu bytes", what, cap - 1);
    return -1;
  }
  napi_get_value_string_utf8(env, v, buf, cap, &n);
  return 0;
}

int get_opt(napi_env env, napi_value obj, const char *key, napi_value *out, int *present) {
  *present = 0;
  if (is_nullish(env, obj)) return 0;
  napi_valuetype t;
  if (napi_typeof(env, obj, &t) != napi_ok || t != napi_object) {
    throw_arg(env, ERR_ARG, "options: expected an object");
    return -1;
  }
  bool has = false;
  if (napi_has_named_property(env, obj, key, &has) != napi_ok) return -1;
  if (!has) return 0;
  if (napi_get_named_property(env, obj, key, out) != napi_ok) return -1;
  *present = !is_nullish(env, *out);
  return 0;
}

void throw_arg(napi_env env, const char *code, const char *fmt, ...) {
  char msg[256];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  bool pending = false;
  napi_is_exception_pending(env, &pending);
  if (!pending) napi_throw_type_error(env, code, msg);
}

void throw_errno(napi_env env, int err, const char *syscall) {
  char msg[200];
  snprintf(msg, sizeof msg, "%s: %s (%s)", syscall, strerror(err), errno_name(err));
  napi_value m, e, v;
  napi_create_string_utf8(env, msg, NAPI_AUTO_LENGTH, &m);
  napi_create_error(env, NULL, m, &e);
  napi_create_string_utf8(env, errno_name(err), NAPI_AUTO_LENGTH, &v);
  napi_set_named_property(env, e, "code", v);
  napi_set_named_property(env, e, "errno", make_i32(env, err));
  napi_create_string_utf8(env, syscall, NAPI_AUTO_LENGTH, &v);
  napi_set_named_property(env, e, "syscall", v);
  napi_throw(env, e);
}

const char *errno_name(int err) {
  switch (err) {
#define E(x) \
  case x:    \
    return #x;
    E(EPERM) E(ENOENT) E(EINTR) E(EIO) E(ENXIO) E(EBADF) E(EAGAIN) E(ENOMEM) E(EACCES)
    E(EFAULT) E(EBUSY) E(EEXIST) E(ENODEV) E(EINVAL) E(ENFILE) E(EMFILE) E(ENOTTY) E(ENOSPC)
    E(EPIPE) E(EBADFD) E(ENOTSOCK) E(EDESTADDRREQ) E(EMSGSIZE) E(EPROTOTYPE) E(ENOPROTOOPT)
    E(EPROTONOSUPPORT) E(EOPNOTSUPP) E(EAFNOSUPPORT) E(EADDRINUSE) E(EADDRNOTAVAIL)
    E(ENETDOWN) E(ENETUNREACH) E(ECONNABORTED) E(ECONNRESET) E(ENOBUFS) E(EISCONN) E(ENOTCONN)
    E(ETIMEDOUT) E(ECONNREFUSED) E(EHOSTDOWN) E(EHOSTUNREACH) E(EALREADY) E(EINPROGRESS)
#undef E
    default: {
      static __thread char buf[16];
      snprintf(buf, sizeof buf, "E%d", err);
      return buf;
    }
  }
}

int errno_is_fatal(int err) {
  return err == EBADF || err == EBADFD || err == ENOTSOCK || err == EFAULT ||
         err == EDESTADDRREQ || err == ENOTCONN;
}

napi_value make_i32(napi_env env, int32_t v) {
  napi_value r;
  napi_create_int32(env, v, &r);
  return r;
}

napi_value make_u32(napi_env env, uint32_t v) {
  napi_value r;
  napi_create_uint32(env, v, &r);
  return r;
}

napi_value make_bool(napi_env env, int v) {
  napi_value r;
  napi_get_boolean(env, v != 0, &r);
  return r;
}

int set_fn(napi_env env, napi_value obj, const char *name, napi_callback cb, void *data) {
  napi_value fn;
  if (napi_create_function(env, name, NAPI_AUTO_LENGTH, cb, data, &fn) != napi_ok) return -1;
  return napi_set_named_property(env, obj, name, fn) == napi_ok ? 0 : -1;
}

napi_value io_error(napi_env env, int err, const char *syscall) {
  if (err == EAGAIN) return make_i32(env, 0);
  if (errno_is_fatal(err)) return throw_errno(env, err, syscall), NULL;
  return make_i32(env, -err);
}

int get_fd(napi_env env, napi_value v, int *fd) {
  int32_t x;
  if (get_i32(env, v, "fd", &x) < 0) return -1;
  if (x < 0) return throw_arg(env, ERR_ARG, "fd: expected a non-negative descriptor"), -1;
  *fd = x;
  return 0;
}
