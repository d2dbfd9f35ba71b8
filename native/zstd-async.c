/*
 * Asynchronous zstd compression for the backup engine: compress(src, dst, level) runs
 * ZSTD_compressCCtx on libuv's thread pool and resolves to the compressed length in dst.
 *
 * Why this exists: Node 20 has no asynchronous zstd, and zstd-napi (which the engine uses for
 * everything else) is synchronous, so compressing on the engine's thread would leave the second
 * core idle unless a whole worker thread (its own heap and buffers, ~20 MiB) did it instead.
 * Here the engine's thread chunks and hashes while the pool compresses (docs/benchmarks.md).
 *
 * The caller owns both buffers and must neither reuse nor free them before the promise settles;
 * references keep them alive meanwhile. Compression contexts are pooled: a job takes a free one
 * (or makes one) and gives it back, so there are only as many as ever ran at the same time.
 * Built from the zstd sources zstd-napi ships (binding.gyp), so nothing is downloaded at install.
 */
#define NAPI_VERSION 8
#include <node_api.h>
#include <uv.h>
#include <zstd.h>
#include <stdlib.h>
#include <string.h>
#include "zstd-async.h"

typedef struct Context {
  ZSTD_CCtx *cctx;
  struct Context *next;
} Context;

static uv_mutex_t pool_lock;
static Context *pool_free = NULL;

static Context *take_context(void) {
  uv_mutex_lock(&pool_lock);
  Context *c = pool_free;
  if (c) pool_free = c->next;
  uv_mutex_unlock(&pool_lock);
  if (c) return c;
  c = malloc(sizeof(Context));
  if (!c) return NULL;
  c->cctx = ZSTD_createCCtx();
  if (!c->cctx) {
    free(c);
    return NULL;
  }
  return c;
}

static void give_context(Context *c) {
  uv_mutex_lock(&pool_lock);
  c->next = pool_free;
  pool_free = c;
  uv_mutex_unlock(&pool_lock);
}

typedef struct {
  napi_async_work work;
  napi_deferred deferred;
  napi_ref src_ref;
  napi_ref dst_ref;
  const void *src;
  size_t src_len;
  void *dst;
  size_t dst_cap;
  int level;
  size_t result;
  int no_memory;
} Job;

static void execute(napi_env env, void *data) {
  (void)env;
  Job *job = data;
  Context *c = take_context();
  if (!c) {
    job->no_memory = 1;
    return;
  }
  job->result = ZSTD_compressCCtx(c->cctx, job->dst, job->dst_cap, job->src, job->src_len, job->level);
  give_context(c);
}

static void reject(napi_env env, napi_deferred deferred, const char *code, const char *message) {
  napi_value code_value, message_value, error;
  napi_create_string_utf8(env, code, NAPI_AUTO_LENGTH, &code_value);
  napi_create_string_utf8(env, message, NAPI_AUTO_LENGTH, &message_value);
  napi_create_error(env, code_value, message_value, &error);
  napi_reject_deferred(env, deferred, error);
}

static void complete(napi_env env, napi_status status, void *data) {
  Job *job = data;
  if (status == napi_cancelled) {
    reject(env, job->deferred, "ZSTD_CANCELLED", "compression was cancelled");
  } else if (job->no_memory) {
    reject(env, job->deferred, "ZSTD_NO_MEMORY", "no memory for a compression context");
  } else if (ZSTD_isError(job->result)) {
    reject(env, job->deferred, "ZSTD_FAILED", ZSTD_getErrorName(job->result));
  } else {
    napi_value length;
    napi_create_double(env, (double)job->result, &length);
    napi_resolve_deferred(env, job->deferred, length);
  }
  napi_delete_reference(env, job->src_ref);
  napi_delete_reference(env, job->dst_ref);
  napi_delete_async_work(env, job->work);
  free(job);
}

static napi_value throw_type(napi_env env, const char *message) {
  napi_throw_type_error(env, "ZSTD_BAD_ARGUMENT", message);
  return NULL;
}

/* A Uint8Array (Buffers included): its bytes and length. */
static int view_bytes(napi_env env, napi_value value, void **bytes, size_t *length) {
  bool is_typed;
  if (napi_is_typedarray(env, value, &is_typed) != napi_ok || !is_typed) return 0;
  napi_typedarray_type type;
  napi_value buffer;
  size_t offset;
  if (napi_get_typedarray_info(env, value, &type, length, bytes, &buffer, &offset) != napi_ok) return 0;
  return type == napi_uint8_array;
}

/* compress(src: Uint8Array, dst: Uint8Array, level: number): Promise<number> */
napi_value zstd_compress(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3];
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc != 3) return throw_type(env, "compress(src, dst, level) takes three arguments");
  Job *job = calloc(1, sizeof(Job));
  if (!job) {
    napi_throw_error(env, "ZSTD_NO_MEMORY", "no memory for a compression job");
    return NULL;
  }
  int32_t level;
  if (!view_bytes(env, argv[0], (void **)&job->src, &job->src_len) || !view_bytes(env, argv[1], &job->dst, &job->dst_cap) ||
      napi_get_value_int32(env, argv[2], &level) != napi_ok) {
    free(job);
    return throw_type(env, "compress(src, dst, level) takes two Uint8Arrays and a number");
  }
  job->level = level;
  napi_value promise, name;
  napi_create_reference(env, argv[0], 1, &job->src_ref);
  napi_create_reference(env, argv[1], 1, &job->dst_ref);
  napi_create_promise(env, &job->deferred, &promise);
  napi_create_string_utf8(env, "twofold:zstd-compress", NAPI_AUTO_LENGTH, &name);
  napi_create_async_work(env, NULL, name, execute, complete, job, &job->work);
  napi_queue_async_work(env, job->work);
  return promise;
}

static uv_once_t init_once = UV_ONCE_INIT;
static void init_lock(void) { uv_mutex_init(&pool_lock); }

void zstd_async_init(void) { uv_once(&init_once, init_lock); }
