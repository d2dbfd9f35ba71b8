/*
 * What a restore needs of the file system that Node does not offer (src-main/core/backup/
 * restore-meta.ts):
 *
 * setTimes(target, atimeNs, mtimeNs) -> 0 | errno: times to the nanosecond, before 1970 too
 *   (Node's utimes takes seconds as a double, which cannot hold today's times to the nanosecond,
 *   and replaces a negative time with the current one). target: a file descriptor (futimens) or
 *   a path, whose symlink itself is changed (utimensat with AT_SYMLINK_NOFOLLOW).
 * makeNode(path, mode, rdev) -> 0 | errno: mknod, for FIFOs, sockets and (as root) devices.
 * renameNoReplace(from, to) -> 0 | errno: rename that fails with EEXIST rather than replace
 *   what is at `to` (renameat2 RENAME_NOREPLACE; renamex_np RENAME_EXCL on macOS); ENOSYS or
 *   EINVAL where the system or the file system lacks it, and the caller falls back.
 */
#ifndef _WIN32
#define _GNU_SOURCE
#define NAPI_VERSION 8
#include <node_api.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>
#ifdef __linux__
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#endif
#include "file-meta.h"
#include "path-arg.h"

static napi_value number(napi_env env, int n) {
  napi_value v;
  napi_create_int32(env, n, &v);
  return v;
}

static napi_value type_error(napi_env env, const char *message) {
  napi_throw_type_error(env, "FILE_META_BAD_ARGUMENT", message);
  return NULL;
}

/* Nanoseconds since the epoch (negative before 1970) as a timespec, whose tv_nsec is never negative. */
static int timespec_of(napi_env env, napi_value value, struct timespec *ts) {
  int64_t ns;
  bool lossless;
  if (napi_get_value_bigint_int64(env, value, &ns, &lossless) != napi_ok || !lossless) return 0;
  int64_t sec = ns / 1000000000;
  int64_t rest = ns % 1000000000;
  if (rest < 0) {
    sec -= 1;
    rest += 1000000000;
  }
  ts->tv_sec = (time_t)sec;
  ts->tv_nsec = (long)rest;
  return 1;
}

napi_value set_times(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3];
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc != 3) return type_error(env, "setTimes(target, atimeNs, mtimeNs) takes three arguments");
  struct timespec times[2];
  if (!timespec_of(env, argv[1], &times[0]) || !timespec_of(env, argv[2], &times[1])) return type_error(env, "times must be BigInts of nanoseconds that fit in 64 bits");
  napi_valuetype type;
  napi_typeof(env, argv[0], &type);
  if (type == napi_number) {
    int32_t fd;
    napi_get_value_int32(env, argv[0], &fd);
    return number(env, futimens(fd, times) == 0 ? 0 : errno);
  }
  char path[PATH_MAX + 1];
  size_t length;
  int e = path_arg(env, argv[0], path, sizeof(path), &length);
  if (e == PATH_ARG_NOT_A_PATH) return type_error(env, "target must be a file descriptor, a string or bytes");
  if (e) return number(env, e);
  return number(env, utimensat(AT_FDCWD, path, times, AT_SYMLINK_NOFOLLOW) == 0 ? 0 : errno);
}

napi_value make_node(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3];
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc != 3) return type_error(env, "makeNode(path, mode, rdev) takes three arguments");
  char path[PATH_MAX + 1];
  size_t length;
  int e = path_arg(env, argv[0], path, sizeof(path), &length);
  if (e == PATH_ARG_NOT_A_PATH) return type_error(env, "path must be a string or bytes");
  if (e) return number(env, e);
  uint32_t mode;
  uint64_t rdev;
  bool lossless;
  if (napi_get_value_uint32(env, argv[1], &mode) != napi_ok) return type_error(env, "mode must be a number");
  if (napi_get_value_bigint_uint64(env, argv[2], &rdev, &lossless) != napi_ok || !lossless) return type_error(env, "rdev must be a BigInt");
  return number(env, mknod(path, (mode_t)mode, (dev_t)rdev) == 0 ? 0 : errno);
}

napi_value rename_no_replace(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc != 2) return type_error(env, "renameNoReplace(from, to) takes two arguments");
  char from[PATH_MAX + 1], to[PATH_MAX + 1];
  size_t length;
  int e = path_arg(env, argv[0], from, sizeof(from), &length);
  if (e == 0) e = path_arg(env, argv[1], to, sizeof(to), &length);
  if (e == PATH_ARG_NOT_A_PATH) return type_error(env, "paths must be strings or bytes");
  if (e) return number(env, e);
#if defined(__linux__) && defined(SYS_renameat2)
  return number(env, syscall(SYS_renameat2, AT_FDCWD, from, AT_FDCWD, to, 1 /* RENAME_NOREPLACE */) == 0 ? 0 : errno);
#elif defined(__APPLE__) && defined(RENAME_EXCL)
  return number(env, renamex_np(from, to, RENAME_EXCL) == 0 ? 0 : errno);
#else
  return number(env, ENOSYS);
#endif
}
#endif
