/*
 * Module entry of the ovpn-ts native addon. Exports one object per area:
 *   aead  batched AES-GCM / ChaCha20-Poly1305 over reused OpenSSL contexts (aead.c)
 *   tun   TUN open/ioctl and batched read/write (tun.c)
 *   udp   sockets, recvmmsg/sendmmsg batches, GSO/GRO (udp.c, udp_setup.c)
 *   poll  uv_poll readiness watchers (poll.c)
 *   caps(), errnoName()
 * Instance data is per Node environment, so worker threads each get their own scratch.
 */
#include <stdlib.h>

#include "common.h"

static void instance_free(napi_env env, void *data, void *hint) {
  (void)env;
  (void)hint;
  ovpn_instance *inst = data;
  free(inst->udp);
  free(inst);
}

static int add_area(napi_env env, napi_value exports, const char *name,
                    int (*init)(napi_env, napi_value)) {
  napi_value obj;
  if (napi_create_object(env, &obj) != napi_ok || init(env, obj) < 0) return -1;
  return napi_set_named_property(env, exports, name, obj) == napi_ok ? 0 : -1;
}

static int add_udp(napi_env env, napi_value exports, ovpn_instance *inst) {
  napi_value obj;
  if (napi_create_object(env, &obj) != napi_ok || init_udp(env, obj, inst) < 0) return -1;
  return napi_set_named_property(env, exports, "udp", obj) == napi_ok ? 0 : -1;
}

static napi_value module_init(napi_env env, napi_value exports) {
  ovpn_instance *inst = calloc(1, sizeof *inst);
  if (!inst || napi_set_instance_data(env, inst, instance_free, NULL) != napi_ok) {
    free(inst);
    napi_throw_error(env, NULL, "ovpn_native: out of memory at load");
    return NULL;
  }
  if (add_area(env, exports, "aead", init_aead) < 0 || add_area(env, exports, "tun", init_tun) < 0 ||
      add_area(env, exports, "poll", init_poll) < 0 || add_udp(env, exports, inst) < 0 ||
      init_top(env, exports) < 0)
    return NULL;
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, module_init)
