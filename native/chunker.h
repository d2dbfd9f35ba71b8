#ifndef TWOFOLD_CHUNKER_H
#define TWOFOLD_CHUNKER_H
#include <node_api.h>
napi_value chunker_next_cut(napi_env env, napi_callback_info info);
#endif
