#ifndef TWOFOLD_PATH_ARG_H
#define TWOFOLD_PATH_ARG_H
#ifndef _WIN32
#include <node_api.h>
#include <stddef.h>
#define PATH_ARG_NOT_A_PATH (-1)
int path_arg(napi_env env, napi_value value, char *buf, size_t size, size_t *length);
#endif
#endif
