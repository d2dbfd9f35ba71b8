/*
 * The engine's native addon (binding.gyp): the few loops where C on libuv's pool, or plain C,
 * does what JavaScript on the engine's one thread cannot do fast enough. Each part says why.
 */
#define NAPI_VERSION 8
#include <node_api.h>
#include "chunker.h"
#include "zstd-async.h"

NAPI_MODULE_INIT() {
  zstd_async_init();
  napi_property_descriptor props[] = {
      {"compress", NULL, zstd_compress, NULL, NULL, NULL, napi_enumerable, NULL},
      {"nextCut", NULL, chunker_next_cut, NULL, NULL, NULL, napi_enumerable, NULL},
  };
  napi_define_properties(env, exports, sizeof(props) / sizeof(props[0]), props);
  return exports;
}
