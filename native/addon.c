/*
 * The engine's native addon (binding.gyp): the few loops where C on libuv's pool, or plain C,
 * does what JavaScript on the engine's one thread cannot do fast enough, and one setting of the
 * C allocator that JavaScript cannot reach. Each part says why.
 */
#define NAPI_VERSION 8
#include <node_api.h>
#include "chunker.h"
#include "file-meta.h"
#include "harden.h"
#include "lstat-many.h"
#include "xattr.h"
#include "zstd-async.h"
#ifdef __GLIBC__
#include <malloc.h>
#endif

/*
 * tuneAllocator(): boolean. glibc raises its mmap threshold each time a large block is freed
 * (up to 32 MiB), so after the first few multi-megabyte buffers (a cipher's output, a chunk) the
 * next ones come from the heap, where freed space mostly stays with the process. Fixed at the
 * default 128 KiB, such blocks are mapped and unmapped on their own (measured: a restore's peak
 * ~15-20 MiB lower; docs/benchmarks.md). Process-wide, so it is called once at start (gc.ts
 * favourMemory, from the composition root); true when it applied (glibc), false elsewhere.
 */
static napi_value tune_allocator(napi_env env, napi_callback_info info) {
  (void)info;
  bool applied = false;
#ifdef __GLIBC__
  applied = mallopt(M_MMAP_THRESHOLD, 128 * 1024) == 1 && mallopt(M_TRIM_THRESHOLD, 256 * 1024) == 1;
#endif
  napi_value result;
  napi_get_boolean(env, applied, &result);
  return result;
}

NAPI_MODULE_INIT() {
  zstd_async_init();
  napi_property_descriptor props[] = {
      {"compress", NULL, zstd_compress, NULL, NULL, NULL, napi_enumerable, NULL},
      {"nextCut", NULL, chunker_next_cut, NULL, NULL, NULL, napi_enumerable, NULL},
      {"tuneAllocator", NULL, tune_allocator, NULL, NULL, NULL, napi_enumerable, NULL},
      {"hardenProcess", NULL, harden_process, NULL, NULL, NULL, napi_enumerable, NULL},
#ifndef _WIN32
      {"lstatMany", NULL, lstat_many, NULL, NULL, NULL, napi_enumerable, NULL},
      {"readXattrs", NULL, read_xattrs, NULL, NULL, NULL, napi_enumerable, NULL},
      {"setXattr", NULL, set_xattr, NULL, NULL, NULL, napi_enumerable, NULL},
      {"setTimes", NULL, set_times, NULL, NULL, NULL, napi_enumerable, NULL},
      {"makeNode", NULL, make_node, NULL, NULL, NULL, napi_enumerable, NULL},
      {"renameNoReplace", NULL, rename_no_replace, NULL, NULL, NULL, napi_enumerable, NULL},
#endif
  };
  napi_define_properties(env, exports, sizeof(props) / sizeof(props[0]), props);
  return exports;
}
