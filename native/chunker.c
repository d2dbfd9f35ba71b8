/*
 * The chunker's inner loop (src-main/core/backup/engine/chunker.ts, `nextCut`), in C: the same cut
 * points, byte for byte (the unit tests compare both on random data), at about twice the
 * speed of the JavaScript, which matters as it runs on the thread that feeds the whole backup.
 * Pure: it reads the gear table and the bytes it is given and returns a length.
 */
#define NAPI_VERSION 8
#include <node_api.h>
#include <stdint.h>
#include "chunker.h"

#define MASK_HARD 0xfffff000u
#define MASK_EASY 0xffffe000u

static double next_cut(const int32_t *gear, const uint8_t *data, double start, double end, int final, double min, double avg, double max) {
  size_t s = (size_t)start;
  size_t available = (size_t)end - s;
  if (available <= (size_t)min) return final ? (double)available : -1;
  size_t limit = s + (available < (size_t)max ? available : (size_t)max);
  size_t normal = s + (size_t)avg < limit ? s + (size_t)avg : limit;
  uint32_t h = 0;
  size_t p = s + (size_t)min;
  while (p < normal) {
    h = (h << 1) + (uint32_t)gear[data[p++]];
    if ((h & MASK_HARD) == 0) return (double)(p - s);
  }
  while (p < limit) {
    h = (h << 1) + (uint32_t)gear[data[p++]];
    if ((h & MASK_EASY) == 0) return (double)(p - s);
  }
  if (limit - s == (size_t)max || final) return (double)(limit - s);
  return -1;
}

/* A whole number that can index a buffer (no NaN, no infinity, no fraction). */
static int is_index(double v) { return v >= 0 && v <= 9007199254740991.0 && v == (double)(size_t)v; }

static napi_value throw_type(napi_env env, const char *message) {
  napi_throw_type_error(env, "CHUNKER_BAD_ARGUMENT", message);
  return NULL;
}

/* nextCut(gear: Int32Array(256), data: Uint8Array, start, end, final, min, avg, max): number */
napi_value chunker_next_cut(napi_env env, napi_callback_info info) {
  size_t argc = 8;
  napi_value argv[8];
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc != 8) return throw_type(env, "nextCut takes eight arguments");
  napi_typedarray_type type;
  size_t gear_length, data_length, offset;
  void *gear, *data;
  napi_value ab;
  if (napi_get_typedarray_info(env, argv[0], &type, &gear_length, &gear, &ab, &offset) != napi_ok || type != napi_int32_array || gear_length != 256) {
    return throw_type(env, "the gear table is an Int32Array of 256");
  }
  if (napi_get_typedarray_info(env, argv[1], &type, &data_length, &data, &ab, &offset) != napi_ok || type != napi_uint8_array) {
    return throw_type(env, "the data is a Uint8Array");
  }
  double start, end, min, avg, max;
  bool final;
  if (napi_get_value_double(env, argv[2], &start) != napi_ok || napi_get_value_double(env, argv[3], &end) != napi_ok ||
      napi_get_value_bool(env, argv[4], &final) != napi_ok || napi_get_value_double(env, argv[5], &min) != napi_ok ||
      napi_get_value_double(env, argv[6], &avg) != napi_ok || napi_get_value_double(env, argv[7], &max) != napi_ok) {
    return throw_type(env, "start, end, min, avg and max are numbers, final a boolean");
  }
  if (!(is_index(start) && is_index(end) && is_index(min) && is_index(avg) && is_index(max))) {
    return throw_type(env, "start, end, min, avg and max are whole numbers of bytes");
  }
  if (!(start <= end && end <= (double)data_length && min <= avg && avg <= max && max >= 1)) {
    return throw_type(env, "start <= end <= data.length, and 0 <= min <= avg <= max");
  }
  napi_value result;
  napi_create_double(env, next_cut(gear, data, start, end, final, min, avg, max), &result);
  return result;
}
