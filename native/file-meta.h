#ifndef TWOFOLD_FILE_META_H
#define TWOFOLD_FILE_META_H
#ifndef _WIN32
#include <node_api.h>
napi_value set_times(napi_env env, napi_callback_info info);
napi_value make_node(napi_env env, napi_callback_info info);
napi_value rename_no_replace(napi_env env, napi_callback_info info);
#endif
#endif
