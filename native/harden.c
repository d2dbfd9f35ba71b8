/*
 * hardenProcess(): { coreDumps: boolean, dumpable: boolean }. The process that holds the vault
 * key and the repositories' master keys must not leave them in a core file, nor let another
 * process of the same user read its memory: the core-file limit goes to zero (hard limit too, so
 * nothing later raises it) and, on Linux, the process is marked not dumpable, which also refuses
 * ptrace and /proc/<pid>/mem to other processes of the same user (root excepted). Node's API
 * reaches neither. Returns what holds afterwards, read back from the kernel.
 */
#define NAPI_VERSION 8
#include <node_api.h>
#include <stdbool.h>
#include "harden.h"
#ifndef _WIN32
#include <sys/resource.h>
#endif
#ifdef __linux__
#include <sys/prctl.h>
#endif

static bool core_dumps_off(void) {
#ifndef _WIN32
  struct rlimit none = {0, 0};
  struct rlimit now;
  setrlimit(RLIMIT_CORE, &none);
  return getrlimit(RLIMIT_CORE, &now) == 0 && now.rlim_cur == 0 && now.rlim_max == 0;
#else
  return false;
#endif
}

static bool not_dumpable(void) {
#ifdef __linux__
  prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
  return prctl(PR_GET_DUMPABLE, 0, 0, 0, 0) == 0;
#else
  return false;
#endif
}

napi_value harden_process(napi_env env, napi_callback_info info) {
  (void)info;
  napi_value result, cores, dumpable;
  napi_create_object(env, &result);
  napi_get_boolean(env, !core_dumps_off(), &cores);
  napi_get_boolean(env, !not_dumpable(), &dumpable);
  napi_set_named_property(env, result, "coreDumps", cores);
  napi_set_named_property(env, result, "dumpable", dumpable);
  return result;
}
