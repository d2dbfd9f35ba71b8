#ifndef TWOFOLD_XATTR_H
#define TWOFOLD_XATTR_H
#ifndef _WIN32
#include <node_api.h>
int xattrs_of(napi_env env, const char *path, napi_value *out);
napi_value read_xattrs(napi_env env, napi_callback_info info);
napi_value set_xattr(napi_env env, napi_callback_info info);
#endif
#endif
