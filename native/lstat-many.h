#ifndef TWOFOLD_LSTAT_MANY_H
#define TWOFOLD_LSTAT_MANY_H
#ifndef _WIN32
#include <node_api.h>
napi_value lstat_many(napi_env env, napi_callback_info info);
#endif
#endif
