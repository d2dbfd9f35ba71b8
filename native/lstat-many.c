/*
 * lstatMany(folder, names, numbers, bigints, errnos[, xattrs]): lstat every entry of one folder
 * listing (src-main/core/backup/engine/walk.ts, `listFolder`) in one call, writing straight into the
 * listing's typed arrays. Node's `lstatSync(path, { bigint: true })` builds a BigIntStats object
 * with a dozen BigInts and four Dates per entry, which cost more than the system call itself: in
 * an incremental backup of ~53,000 files the walker thread spent ~0.5 s in that JavaScript
 * against ~0.2 s in lstat (docs/benchmarks.md). The same paths are asked for
 * (`${folder}/${name}`), so what the kernel answers is what Node would have answered.
 *
 * Per entry i: numbers[5i..5i+4] = mode, uid, gid, size, link count; bigints[5i..5i+4] = inode,
 * mtime and ctime in nanoseconds (as Node's `ino`, `mtimeNs`, `ctimeNs`), device and, for a
 * device node, the device it stands for (`dev`, `rdev`); errnos[i] = 0, or the errno of a failed
 * lstat (that entry's numbers are then left as they were). The folder and each name are strings
 * or, for a name that is not valid UTF-8, its bytes (path-arg.c). With `xattrs` (an array), a
 * first backup's listing also reads each entry's extended attributes in the same pass: element
 * i is set to [name, value, ...] when entry i has any, or to the errno of a failed read
 * (xattr.c), and left alone otherwise. Synchronous, like the lstatSync it replaces: it runs on
 * the thread that walks. POSIX only; the addon does not offer it on Windows, where walk.ts uses
 * Node's lstat.
 */
#ifndef _WIN32
#define NAPI_VERSION 8
#include <node_api.h>
#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <sys/stat.h>
#include "lstat-many.h"
#include "path-arg.h"
#include "xattr.h"

static napi_value throw_type(napi_env env, const char *message) {
  napi_throw_type_error(env, "LSTAT_BAD_ARGUMENT", message);
  return NULL;
}

/* Whether `value` is a typed array of `want` type with at least `count` elements; its data in *data. */
static int typed(napi_env env, napi_value value, napi_typedarray_type want, size_t count, void **data) {
  bool is_typed;
  if (napi_is_typedarray(env, value, &is_typed) != napi_ok || !is_typed) return 0;
  napi_typedarray_type type;
  size_t length;
  if (napi_get_typedarray_info(env, value, &type, &length, data, NULL, NULL) != napi_ok) return 0;
  return type == want && length >= count;
}

#ifdef __APPLE__
#define st_mtim st_mtimespec
#define st_ctim st_ctimespec
#endif

static int64_t nanos(struct timespec t) { return (int64_t)t.tv_sec * 1000000000 + (int64_t)t.tv_nsec; }

#define NUMBERS 5
#define BIGINTS 5

static napi_value bad_names(napi_env env) { return throw_type(env, "names must be an array of strings or bytes"); }

napi_value lstat_many(napi_env env, napi_callback_info info) {
  size_t argc = 6;
  napi_value argv[6];
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || (argc != 5 && argc != 6))
    return throw_type(env, "lstatMany(folder, names, numbers, bigints, errnos[, xattrs]) takes five or six arguments");
  bool is_array;
  uint32_t count;
  if (napi_is_array(env, argv[1], &is_array) != napi_ok || !is_array || napi_get_array_length(env, argv[1], &count) != napi_ok) return bad_names(env);
  double *numbers;
  int64_t *bigints;
  int32_t *errnos;
  if (!typed(env, argv[2], napi_float64_array, (size_t)count * NUMBERS, (void **)&numbers) || !typed(env, argv[3], napi_bigint64_array, (size_t)count * BIGINTS, (void **)&bigints) ||
      !typed(env, argv[4], napi_int32_array, count, (void **)&errnos))
    return throw_type(env, "numbers, bigints and errnos must be a Float64Array, BigInt64Array and Int32Array long enough for every name");
  napi_value xattrs = NULL;
  if (argc == 6) {
    napi_valuetype t;
    napi_typeof(env, argv[5], &t);
    if (t != napi_undefined) {
      if (napi_is_array(env, argv[5], &is_array) != napi_ok || !is_array) return throw_type(env, "xattrs must be an array");
      xattrs = argv[5];
    }
  }

  /* path = folder + "/" + name, built in place; a path longer than PATH_MAX fails that entry alone. */
  char path[PATH_MAX + 1];
  size_t folder_length;
  int e = path_arg(env, argv[0], path, sizeof(path), &folder_length);
  if (e == PATH_ARG_NOT_A_PATH) return throw_type(env, "folder must be a string or bytes");
  if (e != 0 || folder_length + 2 >= sizeof(path)) {
    for (uint32_t i = 0; i < count; i++) errnos[i] = e == EINVAL ? EINVAL : ENAMETOOLONG;
    return NULL;
  }
  path[folder_length] = '/';
  char *name = path + folder_length + 1;
  size_t room = sizeof(path) - folder_length - 1;

  for (uint32_t i = 0; i < count; i++) {
    napi_value element;
    size_t name_length;
    if (napi_get_element(env, argv[1], i, &element) != napi_ok) return bad_names(env);
    /* A name that does not fit after the folder fails alone: never stat a shortened path. */
    e = path_arg(env, element, name, room, &name_length);
    if (e == PATH_ARG_NOT_A_PATH) return bad_names(env);
    if (e != 0) {
      errnos[i] = e;
      continue;
    }
    struct stat st;
    if (lstat(path, &st) != 0) {
      errnos[i] = errno;
      continue;
    }
    errnos[i] = 0;
    double *n = numbers + (size_t)i * NUMBERS;
    int64_t *b = bigints + (size_t)i * BIGINTS;
    n[0] = (double)st.st_mode;
    n[1] = (double)st.st_uid;
    n[2] = (double)st.st_gid;
    n[3] = (double)st.st_size;
    n[4] = (double)st.st_nlink;
    b[0] = (int64_t)st.st_ino;
    b[1] = nanos(st.st_mtim);
    b[2] = nanos(st.st_ctim);
    b[3] = (int64_t)st.st_dev;
    b[4] = (int64_t)st.st_rdev;
    if (xattrs) {
      napi_value found;
      int failed = xattrs_of(env, path, &found);
      if (failed) napi_create_int32(env, failed, &found);
      if (found && napi_set_element(env, xattrs, i, found) != napi_ok) return NULL;
    }
  }
  return NULL;
}
#endif
