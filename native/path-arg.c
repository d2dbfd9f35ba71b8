/*
 * A path (or a path component, or an extended attribute's name) handed to the addon: a string,
 * or the exact bytes in a Buffer or Uint8Array. A name that is not valid UTF-8 cannot travel as
 * a JavaScript string (Node would turn its bytes into U+FFFD and name another file), so the
 * engine passes such names as bytes (src-main/core/backup/engine/fs-names.ts).
 */
#ifndef _WIN32
#define NAPI_VERSION 8
#include <node_api.h>
#include <errno.h>
#include <string.h>
#include "path-arg.h"

/*
 * Copy `value` into buf[0..size) as a NUL-terminated C string; its length in *length. Returns 0;
 * ENAMETOOLONG when it does not fit (never a shortened path); EINVAL when it holds a NUL byte
 * (which would end the path early, naming another file); PATH_ARG_NOT_A_PATH when it is neither
 * a string nor bytes.
 */
int path_arg(napi_env env, napi_value value, char *buf, size_t size, size_t *length) {
  napi_valuetype type;
  if (napi_typeof(env, value, &type) != napi_ok) return PATH_ARG_NOT_A_PATH;
  if (type == napi_string) {
    size_t n;
    if (napi_get_value_string_utf8(env, value, buf, size, &n) != napi_ok) return PATH_ARG_NOT_A_PATH;
    /* A string that filled the room may have been cut short. */
    if (n + 1 >= size) return ENAMETOOLONG;
    if (memchr(buf, 0, n) != NULL) return EINVAL;
    *length = n;
    return 0;
  }
  bool is_typed;
  if (napi_is_typedarray(env, value, &is_typed) != napi_ok || !is_typed) return PATH_ARG_NOT_A_PATH;
  napi_typedarray_type kind;
  size_t n;
  void *data;
  if (napi_get_typedarray_info(env, value, &kind, &n, &data, NULL, NULL) != napi_ok || (kind != napi_uint8_array && kind != napi_uint8_clamped_array)) return PATH_ARG_NOT_A_PATH;
  if (n + 1 > size) return ENAMETOOLONG;
  if (n > 0 && memchr(data, 0, n) != NULL) return EINVAL;
  if (n > 0) memcpy(buf, data, n);
  buf[n] = 0;
  *length = n;
  return 0;
}
#endif
