/*
 * Readiness watchers: a uv_poll handle on the main loop calls a JS callback when an fd is
 * readable/writable. The callback runs through napi_make_callback, so promise jobs and nextTicks
 * queued by it run right after, as for any Node I/O callback. No libuv threadpool is involved.
 *
 * Ownership: the watcher struct has two owners, the uv handle (released by the uv_close
 * callback) and the JS external handle (released by its finalizer). It is freed when both are gone.
 * While watching, a strong reference pins the external, so dropping the JS handle does not stop
 * the watch; unwatch() is the only way (or environment teardown, via a cleanup hook).
 * A watcher keeps the process alive while watching unless ref(handle, false) is called.
 * Unwatch before closing the fd; one fd must have at most one watcher (a libuv rule).
 */
#include <errno.h>
#include <stdlib.h>
#include <uv.h>

#include "common.h"

static const napi_type_tag POLL_TAG = {0x6f76706e706f6c6cULL, 0x51e0c3a9d27b4f16ULL};

typedef struct {
  uv_poll_t handle;
  napi_env env;
  napi_ref cb, self;
  napi_async_context actx;
  int active;  /* between watch() and unwatch()/teardown */
  int owners;  /* uv handle + external */
} watcher;

static void release(watcher *w) {
  if (--w->owners == 0) free(w);
}

static void on_close(uv_handle_t *h) { release((watcher *)h->data); }

static void on_finalize(napi_env env, void *data, void *hint) {
  (void)env;
  (void)hint;
  release((watcher *)data);
}

/* Stops polling and starts closing the uv handle. No napi calls (also used during teardown). */
static void stop_uv(watcher *w) {
  w->active = 0;
  uv_poll_stop(&w->handle);
  uv_close((uv_handle_t *)&w->handle, on_close);
}

static void on_teardown(void *arg) {
  watcher *w = arg;
  if (w->active) stop_uv(w);
}

static void on_poll(uv_poll_t *h, int status, int events) {
  watcher *w = h->data;
  if (!w->active) return;
  napi_env env = w->env;
  napi_handle_scope scope;
  napi_value cb, global, argv[2], result;
  napi_open_handle_scope(env, &scope);
  napi_get_reference_value(env, w->cb, &cb);
  napi_get_global(env, &global);
  argv[0] = make_i32(env, status);
  argv[1] = make_i32(env, events);
  if (napi_make_callback(env, w->actx, global, cb, 2, argv, &result) == napi_pending_exception) {
    napi_value err;
    napi_get_and_clear_last_exception(env, &err);
    napi_fatal_exception(env, err); /* becomes 'uncaughtException', as for any I/O callback */
  }
  napi_close_handle_scope(env, scope);
}

static watcher *unwrap(napi_env env, napi_value v) {
  bool ok = false;
  void *p = NULL;
  if (napi_check_object_type_tag(env, v, &POLL_TAG, &ok) != napi_ok || !ok ||
      napi_get_value_external(env, v, &p) != napi_ok) {
    throw_arg(env, ERR_ARG, "handle: expected a handle from poll.watch()");
    return NULL;
  }
  return p;
}

/* watch(fd, events, callback(status, events)) -> handle */
static napi_value poll_watch(napi_env env, napi_callback_info info) {
  napi_value argv[3], ext, name;
  int fd;
  uint32_t events;
  napi_valuetype t;
  uv_loop_t *loop;
  if (get_args(env, info, 3, argv) < 0 || get_fd(env, argv[0], &fd) < 0 ||
      get_u32(env, argv[1], "events", &events) < 0)
    return NULL;
  if (!events || (events & ~(uint32_t)(UV_READABLE | UV_WRITABLE)))
    return throw_arg(env, ERR_ARG, "events: expected READABLE and/or WRITABLE bits"), NULL;
  if (napi_typeof(env, argv[2], &t) != napi_ok || t != napi_function)
    return throw_arg(env, ERR_ARG, "callback: expected a function"), NULL;
  watcher *w = calloc(1, sizeof *w);
  if (!w) return throw_errno(env, ENOMEM, "calloc"), NULL;
  napi_get_uv_event_loop(env, &loop);
  int r = uv_poll_init(loop, &w->handle, fd);
  if (r < 0) {
    free(w);
    return throw_errno(env, -r, "uv_poll_init"), NULL;
  }
  w->env = env;
  w->handle.data = w;
  w->owners = 2;
  if (napi_create_external(env, w, on_finalize, NULL, &ext) != napi_ok) {
    w->owners = 1;
    uv_close((uv_handle_t *)&w->handle, on_close);
    return NULL;
  }
  napi_type_tag_object(env, ext, &POLL_TAG);
  napi_create_reference(env, ext, 1, &w->self);
  napi_create_reference(env, argv[2], 1, &w->cb);
  napi_create_string_utf8(env, "ovpn.poll", NAPI_AUTO_LENGTH, &name);
  napi_async_init(env, NULL, name, &w->actx);
  napi_add_env_cleanup_hook(env, on_teardown, w);
  w->active = 1;
  if ((r = uv_poll_start(&w->handle, (int)events, on_poll)) < 0) {
    /* Leave a consistent closed watcher behind, then report. */
    napi_remove_env_cleanup_hook(env, on_teardown, w);
    stop_uv(w);
    napi_delete_reference(env, w->cb);
    napi_delete_reference(env, w->self);
    napi_async_destroy(env, w->actx);
    return throw_errno(env, -r, "uv_poll_start"), NULL;
  }
  return ext;
}

/* unwatch(handle): idempotent; safe from inside the watcher's own callback. */
static napi_value poll_unwatch(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  watcher *w;
  if (get_args(env, info, 1, argv) < 0 || !(w = unwrap(env, argv[0]))) return NULL;
  if (!w->active) return NULL;
  napi_remove_env_cleanup_hook(env, on_teardown, w);
  stop_uv(w);
  napi_delete_reference(env, w->cb);
  napi_delete_reference(env, w->self); /* the external may now be collected */
  napi_async_destroy(env, w->actx);
  return NULL;
}

/* ref(handle, on): whether an active watcher keeps the process alive. */
static napi_value poll_ref(napi_env env, napi_callback_info info) {
  napi_value argv[2];
  watcher *w;
  int on;
  if (get_args(env, info, 2, argv) < 0 || !(w = unwrap(env, argv[0])) || get_bool(env, argv[1], "on", &on) < 0)
    return NULL;
  if (w->active) (on ? uv_ref : uv_unref)((uv_handle_t *)&w->handle);
  return NULL;
}

int init_poll(napi_env env, napi_value obj) {
  if (set_fn(env, obj, "watch", poll_watch, NULL) < 0 || set_fn(env, obj, "unwatch", poll_unwatch, NULL) < 0 ||
      set_fn(env, obj, "ref", poll_ref, NULL) < 0)
    return -1;
  napi_set_named_property(env, obj, "READABLE", make_u32(env, UV_READABLE));
  napi_set_named_property(env, obj, "WRITABLE", make_u32(env, UV_WRITABLE));
  return 0;
}
