# The engine's native addon (native/), built by `npm install` with node-gyp against Node's own
# headers and linked with the zstd sources zstd-napi ships: nothing is downloaded.
{
  'targets': [
    {
      'target_name': 'twofold_native',
      'sources': ['native/addon.c', 'native/chunker.c', 'native/file-meta.c', 'native/harden.c', 'native/lstat-many.c', 'native/path-arg.c', 'native/xattr.c', 'native/zstd-async.c'],
      'dependencies': ['node_modules/zstd-napi/deps/zstd.gyp:libzstd'],
      'cflags': ['-O2', '-fvisibility=hidden', '-Wall', '-Wextra'],
      'ldflags': ['-Wl,-z,noexecstack', '-Wl,-z,relro', '-Wl,-z,now'],
      'xcode_settings': {'GCC_SYMBOLS_PRIVATE_EXTERN': 'YES'},
    },
  ],
}
