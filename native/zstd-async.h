#ifndef TWOFOLD_ZSTD_ASYNC_H
#define TWOFOLD_ZSTD_ASYNC_H
#include <node_api.h>
void zstd_async_init(void);
napi_value zstd_compress(napi_env env, napi_callback_info info);
#endif
