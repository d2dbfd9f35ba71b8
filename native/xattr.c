/*
 * Extended attributes (POSIX ACLs among them: system.posix_acl_access and _default), read and
 * written without following symlinks. Node has no API for them. Reading costs one listxattr per
 * entry when there are none, which is most of them; a backup reads them only for entries it
 * stores anew (src-main/core/backup/engine/backup.ts), so an unchanged tree costs nothing here.
 *
 * readXattrs(path) -> null (none) | [name, value, name, value, ...] as Buffers | errno (number)
 * setXattr(target, name, value) -> 0 | errno; target is a file descriptor (number) or a path
 */
#ifndef _WIN32
#define NAPI_VERSION 8
#include <node_api.h>
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/xattr.h>
#include "path-arg.h"
#include "xattr.h"

#ifdef __APPLE__
#define LIST(path, buf, size) listxattr(path, buf, size, XATTR_NOFOLLOW)
#define GET(path, name, buf, size) getxattr(path, name, buf, size, 0, XATTR_NOFOLLOW)
#define LSET(path, name, value, size) setxattr(path, name, value, size, 0, XATTR_NOFOLLOW)
#define FSET(fd, name, value, size) fsetxattr(fd, name, value, size, 0, 0)
#define GONE ENOATTR
#else
#define LIST(path, buf, size) llistxattr(path, buf, size)
#define GET(path, name, buf, size) lgetxattr(path, name, buf, size)
#define LSET(path, name, value, size) lsetxattr(path, name, value, size, 0)
#define FSET(fd, name, value, size) fsetxattr(fd, name, value, size, 0)
#define GONE ENODATA
#endif

/* Attribute names of one entry fit here almost always; larger lists and values go to the heap. */
#define STACK_BYTES 4096

/*
 * listxattr (name == NULL) or getxattr of `name` into `stack` (STACK_BYTES), or, when that is too
 * small, into a heap block of the size the kernel names (*heap, which the caller frees). An
 * attribute can grow between the two calls: asked again a few times. Returns the byte count and
 * where the bytes are, or -1 with errno set.
 */
static ssize_t sized_read(const char *path, const char *name, char *stack, char **heap, const char **bytes) {
  char *where = stack;
  size_t room = STACK_BYTES;
  for (int tries = 0;; tries++) {
    ssize_t n = name ? GET(path, name, where, room) : LIST(path, where, room);
    if (n >= 0) {
      *bytes = where;
      return n;
    }
    if (errno != ERANGE || tries == 4) return -1;
    ssize_t need = name ? GET(path, name, NULL, 0) : LIST(path, NULL, 0);
    if (need < 0) return -1;
    free(*heap);
    room = (size_t)need + 256;
    *heap = malloc(room);
    if (!*heap) {
      errno = ENOMEM;
      return -1;
    }
    where = *heap;
  }
}

/*
 * Every extended attribute of `path`: *out = [name, value, ...] (Buffers), or NULL when it has
 * none or the file system has no extended attributes. Returns 0 or an errno. An attribute
 * removed between listing and reading is left out.
 */
int xattrs_of(napi_env env, const char *path, napi_value *out) {
  *out = NULL;
  char list_stack[STACK_BYTES];
  char *list_heap = NULL;
  const char *names;
  ssize_t listed = sized_read(path, NULL, list_stack, &list_heap, &names);
  if (listed <= 0) {
    int e = listed < 0 ? errno : 0;
    free(list_heap);
    return e == ENOTSUP || e == ENOSYS ? 0 : e;
  }
  napi_value array;
  int failure = napi_create_array(env, &array) == napi_ok ? 0 : ENOMEM;
  uint32_t at = 0;
  char value_stack[STACK_BYTES];
  char *value_heap = NULL;
  for (const char *name = names; !failure && name < names + listed; name += strlen(name) + 1) {
    if (*name == 0) continue;
    const char *value;
    ssize_t got = sized_read(path, name, value_stack, &value_heap, &value);
    if (got < 0) {
      if (errno != GONE) failure = errno;
      continue;
    }
    napi_value name_buffer, value_buffer;
    if (napi_create_buffer_copy(env, strlen(name), name, NULL, &name_buffer) != napi_ok ||
        napi_create_buffer_copy(env, (size_t)got, got > 0 ? value : "", NULL, &value_buffer) != napi_ok ||
        napi_set_element(env, array, at, name_buffer) != napi_ok || napi_set_element(env, array, at + 1, value_buffer) != napi_ok) {
      failure = ENOMEM;
      continue;
    }
    at += 2;
  }
  free(value_heap);
  free(list_heap);
  if (failure) return failure;
  if (at > 0) *out = array;
  return 0;
}

static napi_value number(napi_env env, int n) {
  napi_value v;
  napi_create_int32(env, n, &v);
  return v;
}

static napi_value type_error(napi_env env, const char *message) {
  napi_throw_type_error(env, "XATTR_BAD_ARGUMENT", message);
  return NULL;
}

napi_value read_xattrs(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc != 1) return type_error(env, "readXattrs(path) takes one argument");
  char path[PATH_MAX + 1];
  size_t length;
  int e = path_arg(env, argv[0], path, sizeof(path), &length);
  if (e == PATH_ARG_NOT_A_PATH) return type_error(env, "path must be a string or bytes");
  if (e) return number(env, e);
  napi_value out;
  e = xattrs_of(env, path, &out);
  if (e) return number(env, e);
  if (out) return out;
  napi_value null;
  napi_get_null(env, &null);
  return null;
}

napi_value set_xattr(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3];
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc != 3) return type_error(env, "setXattr(target, name, value) takes three arguments");
  char name[XATTR_NAME_MAX + 1];
  size_t name_length;
  int e = path_arg(env, argv[1], name, sizeof(name), &name_length);
  if (e == PATH_ARG_NOT_A_PATH) return type_error(env, "name must be a string or bytes");
  if (e) return number(env, e);
  bool is_typed;
  napi_typedarray_type kind;
  size_t size;
  void *value;
  if (napi_is_typedarray(env, argv[2], &is_typed) != napi_ok || !is_typed || napi_get_typedarray_info(env, argv[2], &kind, &size, &value, NULL, NULL) != napi_ok || kind != napi_uint8_array)
    return type_error(env, "value must be bytes");
  if (size == 0) value = "";
  napi_valuetype target_type;
  napi_typeof(env, argv[0], &target_type);
  int rc;
  if (target_type == napi_number) {
    int32_t fd;
    napi_get_value_int32(env, argv[0], &fd);
    rc = FSET(fd, name, value, size);
  } else {
    char path[PATH_MAX + 1];
    size_t length;
    e = path_arg(env, argv[0], path, sizeof(path), &length);
    if (e == PATH_ARG_NOT_A_PATH) return type_error(env, "target must be a file descriptor, a string or bytes");
    if (e) return number(env, e);
    rc = LSET(path, name, value, size);
  }
  return number(env, rc == 0 ? 0 : errno);
}
#endif
