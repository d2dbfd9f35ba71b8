#pragma once
#include <node_api.h>

napi_value harden_process(napi_env env, napi_callback_info info);
