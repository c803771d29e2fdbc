/*
 * Batched AEAD seal/open over one slab, with one reused OpenSSL EVP context per key and direction.
 *
 * Flow of one sealBatch/openBatch call:
 *   1. Unpack the context handle and the typed arrays (no copies, no allocation).
 *   2. Check the batch shape: n fits desc (5 words each), nonces (12 bytes each), results.
 *   3. Seal only: validate every descriptor first, so a bad one throws before any byte changes.
 *   4. Per packet: reset the IV on the existing context, feed AAD, transform the data in place,
 *      then write (seal) or verify (open) the 16-byte tag.
 *
 * Descriptor i (desc[5i .. 5i+4]), all offsets relative to the slab:
 *   aadOff, aadLen   AAD bytes (authenticated, unchanged)
 *   dataOff, dataLen plaintext <-> ciphertext, transformed in place
 *   tagOff           16-byte tag: written by seal, read by open
 * The three regions must lie inside the slab and must not overlap each other (empty regions
 * excepted), because the in-place transform and the tag write would otherwise change bytes that
 * were already authenticated. On open, a failed tag leaves result 0 and the data region holding
 * unauthenticated garbage: the caller must drop it.
 *
 * OpenSSL comes from the node binary itself (its EVP_* symbols are exported), so no libssl-dev.
 */
#include <errno.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"

#define TAG_LEN 16
#define NONCE_LEN 12
#define DESC_WORDS 5

/* Distinguishes our externals from anybody else's (napi_type_tag_object, N-API 8). */
static const napi_type_tag AEAD_TAG = {0x6f76706e61656164ULL, 0x8d2c41b7e95f03a1ULL};

typedef struct {
  EVP_CIPHER_CTX *ctx; /* NULL once freed */
  EVP_CIPHER *cipher;  /* fetched once; owned */
  int encrypt;
} aead_ctx;

static void aead_release(aead_ctx *a) {
  if (a->ctx) EVP_CIPHER_CTX_free(a->ctx); /* cleanses the key schedule */
  if (a->cipher) EVP_CIPHER_free(a->cipher);
  a->ctx = NULL;
  a->cipher = NULL;
}

static void aead_finalize(napi_env env, void *data, void *hint) {
  (void)env;
  (void)hint;
  aead_release((aead_ctx *)data);
  free(data);
}

static size_t key_len_for(const char *name) {
  if (!strcmp(name, "AES-128-GCM")) return 16;
  if (!strcmp(name, "AES-192-GCM")) return 24;
  if (!strcmp(name, "AES-256-GCM") || !strcmp(name, "CHACHA20-POLY1305")) return 32;
  return 0;
}

/* create(cipherName, key, encrypt) -> external handle */
static napi_value aead_create(napi_env env, napi_callback_info info) {
  napi_value argv[3];
  char name[32];
  uint8_t *key;
  size_t klen;
  int enc;
  if (get_args(env, info, 3, argv) < 0 || get_str(env, argv[0], "cipher", name, sizeof name) < 0 ||
      get_u8(env, argv[1], "key", &key, &klen) < 0 || get_bool(env, argv[2], "encrypt", &enc) < 0)
    return NULL;
  size_t want = key_len_for(name);
  if (!want) {
    throw_arg(env, ERR_ARG, "cipher: unsupported \"%s\" (use AES-128-GCM, AES-192-GCM, "
              "AES-256-GCM or CHACHA20-POLY1305)", name);
    return NULL;
  }
  if (klen != want) {
    throw_arg(env, ERR_ARG, "key: %s needs %zu bytes, got %zu", name, want, klen);
    return NULL;
  }
  aead_ctx *a = calloc(1, sizeof *a);
  if (!a) return throw_errno(env, ENOMEM, "calloc"), NULL;
  a->encrypt = enc;
  a->cipher = EVP_CIPHER_fetch(NULL, name, NULL);
  a->ctx = EVP_CIPHER_CTX_new();
  if (!a->cipher || !a->ctx || !EVP_CipherInit_ex(a->ctx, a->cipher, NULL, key, NULL, enc) ||
      !EVP_CIPHER_CTX_ctrl(a->ctx, EVP_CTRL_AEAD_SET_IVLEN, NONCE_LEN, NULL)) {
    aead_release(a);
    free(a);
    throw_arg(env, ERR_ARG, "cipher: OpenSSL could not set up %s", name);
    return NULL;
  }
  napi_value ext;
  if (napi_create_external(env, a, aead_finalize, NULL, &ext) != napi_ok) {
    aead_finalize(env, a, NULL);
    return NULL;
  }
  napi_type_tag_object(env, ext, &AEAD_TAG);
  return ext;
}

static aead_ctx *unwrap(napi_env env, napi_value v) {
  bool ok = false;
  void *p = NULL;
  if (napi_check_object_type_tag(env, v, &AEAD_TAG, &ok) != napi_ok || !ok ||
      napi_get_value_external(env, v, &p) != napi_ok) {
    throw_arg(env, ERR_ARG, "ctx: expected a handle from aead.create()");
    return NULL;
  }
  aead_ctx *a = p;
  if (!a->ctx) {
    throw_arg(env, ERR_FREED, "ctx: this AEAD context was already freed");
    return NULL;
  }
  return a;
}

/* free(ctx): releases the OpenSSL context now; later use throws OVPN_ERR_AEAD_FREED. Idempotent. */
static napi_value aead_free(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  void *p = NULL;
  bool ok = false;
  if (get_args(env, info, 1, argv) < 0) return NULL;
  if (napi_check_object_type_tag(env, argv[0], &AEAD_TAG, &ok) != napi_ok || !ok ||
      napi_get_value_external(env, argv[0], &p) != napi_ok) {
    throw_arg(env, ERR_ARG, "ctx: expected a handle from aead.create()");
    return NULL;
  }
  aead_release((aead_ctx *)p);
  return NULL;
}

/* Returns NULL when descriptor d fits the slab and its regions are disjoint, else a reason. */
static const char *desc_problem(const uint32_t *d, size_t slab_len) {
  uint64_t ao = d[0], al = d[1], dof = d[2], dl = d[3], to = d[4];
  if (!range_ok(ao, al, slab_len)) return "AAD range is outside the slab";
  if (!range_ok(dof, dl, slab_len)) return "data range is outside the slab";
  if (!range_ok(to, TAG_LEN, slab_len)) return "tag range is outside the slab";
  if (dl > 0x7fffffff || al > 0x7fffffff) return "length above 2^31-1";
  if (dl && to < dof + dl && dof < to + TAG_LEN) return "tag overlaps data";
  if (al && to < ao + al && ao < to + TAG_LEN) return "tag overlaps AAD";
  if (al && dl && ao < dof + dl && dof < ao + al) return "AAD overlaps data";
  return NULL;
}

typedef struct {
  aead_ctx *a;
  uint8_t *slab, *nonces, *results;
  uint32_t *desc;
  size_t slab_len, nonces_len, desc_len, results_len;
  uint32_t n;
} batch;

/* Unpacks (ctx, slab, nonces, desc, n[, results]) and checks the batch shape. */
static int get_batch(napi_env env, napi_callback_info info, int with_results, batch *b) {
  napi_value argv[6];
  if (get_args(env, info, 6, argv) < 0 || !(b->a = unwrap(env, argv[0])) ||
      get_u8(env, argv[1], "slab", &b->slab, &b->slab_len) < 0 ||
      get_u8(env, argv[2], "nonces", &b->nonces, &b->nonces_len) < 0 ||
      get_u32arr(env, argv[3], "desc", &b->desc, &b->desc_len) < 0 ||
      get_u32(env, argv[4], "n", &b->n) < 0)
    return -1;
  if (with_results && get_u8(env, argv[5], "results", &b->results, &b->results_len) < 0) return -1;
  if (b->a->encrypt == with_results) {
    throw_arg(env, ERR_DIRECTION, "ctx: created with encrypt=%s, cannot %s",
              b->a->encrypt ? "true" : "false", with_results ? "open" : "seal");
    return -1;
  }
  if ((uint64_t)b->n * DESC_WORDS > b->desc_len || (uint64_t)b->n * NONCE_LEN > b->nonces_len ||
      (with_results && b->n > b->results_len)) {
    throw_arg(env, ERR_ARG, "n: %u packets need desc >= %llu words, nonces >= %llu bytes%s",
              b->n, (unsigned long long)b->n * DESC_WORDS, (unsigned long long)b->n * NONCE_LEN,
              with_results ? " and results >= n" : "");
    return -1;
  }
  return 0;
}

/* One packet through the reused context. Returns 1 on success (open: tag verified). */
static int crypt_one(EVP_CIPHER_CTX *ctx, uint8_t *slab, const uint32_t *d, const uint8_t *nonce,
                     int enc) {
  int outl = 0, fin = 0;
  uint8_t *tag = slab + d[4];
  if (!EVP_CipherInit_ex(ctx, NULL, NULL, NULL, nonce, enc)) return 0;
  if (!enc && !EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_SET_TAG, TAG_LEN, tag)) return 0;
  if (d[1] && !EVP_CipherUpdate(ctx, NULL, &outl, slab + d[0], (int)d[1])) return 0;
  if (d[3] && !EVP_CipherUpdate(ctx, slab + d[2], &outl, slab + d[2], (int)d[3])) return 0;
  /* GCM and ChaCha20-Poly1305 are stream modes: Final emits no bytes, it only checks/makes the tag. */
  if (EVP_CipherFinal_ex(ctx, slab + d[2] + outl, &fin) <= 0) return 0;
  if (enc && !EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_GET_TAG, TAG_LEN, tag)) return 0;
  return 1;
}

/* sealBatch(ctx, slab, nonces, desc, n): encrypts in place and writes each tag. */
static napi_value aead_seal(napi_env env, napi_callback_info info) {
  batch b;
  if (get_batch(env, info, 0, &b) < 0) return NULL;
  for (uint32_t i = 0; i < b.n; i++) {
    const char *why = desc_problem(b.desc + (size_t)i * DESC_WORDS, b.slab_len);
    if (why) {
      throw_arg(env, ERR_DESC, "desc[%u]: %s (slab is %zu bytes); nothing was sealed", i, why,
                b.slab_len);
      return NULL;
    }
  }
  for (uint32_t i = 0; i < b.n; i++) {
    if (!crypt_one(b.a->ctx, b.slab, b.desc + (size_t)i * DESC_WORDS, b.nonces + i * NONCE_LEN, 1)) {
      throw_arg(env, ERR_ARG, "sealBatch: OpenSSL failed on packet %u", i);
      return NULL;
    }
  }
  return NULL;
}

/* openBatch(ctx, slab, nonces, desc, n, results) -> number verified. A bad descriptor is result 0. */
static napi_value aead_open(napi_env env, napi_callback_info info) {
  batch b;
  if (get_batch(env, info, 1, &b) < 0) return NULL;
  uint32_t ok = 0;
  for (uint32_t i = 0; i < b.n; i++) {
    const uint32_t *d = b.desc + (size_t)i * DESC_WORDS;
    int r = !desc_problem(d, b.slab_len) && crypt_one(b.a->ctx, b.slab, d, b.nonces + i * NONCE_LEN, 0);
    b.results[i] = (uint8_t)r;
    ok += (uint32_t)r;
  }
  return make_u32(env, ok);
}

int init_aead(napi_env env, napi_value obj) {
  napi_value v;
  if (set_fn(env, obj, "create", aead_create, NULL) < 0 || set_fn(env, obj, "free", aead_free, NULL) < 0 ||
      set_fn(env, obj, "sealBatch", aead_seal, NULL) < 0 || set_fn(env, obj, "openBatch", aead_open, NULL) < 0)
    return -1;
  napi_create_string_utf8(env, OpenSSL_version(OPENSSL_VERSION), NAPI_AUTO_LENGTH, &v);
  return napi_set_named_property(env, obj, "opensslVersion", v) == napi_ok ? 0 : -1;
}
