# Shared by the scripts in this directory: the tools granule needs, installed
# from Debian packages when they are missing.

# install_missing PACKAGE... : apt-get install what is not installed yet.
install_missing() {
  local missing=()
  local package
  for package in "$@"; do
    dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q 'install ok installed' \
      || missing+=("$package")
  done
  ((${#missing[@]})) || return 0
  echo "Installing missing Debian packages: ${missing[*]}" >&2
  local sudo=()
  [ "$(id -u)" -eq 0 ] || sudo=(sudo)
  "${sudo[@]}" apt-get update -qq \
    && DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq "${missing[@]}" >&2
}

# ensure_cargo: a Rust toolchain, from rustup when the machine has none.
ensure_cargo() {
  command -v cargo >/dev/null && return 0
  [ -x "$HOME/.cargo/bin/cargo" ] || {
    install_missing curl ca-certificates build-essential
    echo "Installing Rust with rustup (https://rustup.rs)" >&2
    curl --proto '=https' --tlsv1.2 -sSf https://sh.rustup.rs | sh -s -- -y --profile minimal >&2
  }
  export PATH="$HOME/.cargo/bin:$PATH"
}

# The packages behind the tests' references: Puppet's parser and `puppet
# apply`, puppet-lint, graphviz's `dot`, sshd for the SSH transport, headless
# Chromium and its WebDriver for the HTML graph, the real Puppet corpus, and
# pip, with which the SARIF test installs the SARIF schema and a validator
# from PyPI under target/, PyYAML for scripts/compare-split, and the
# `ssh_authorized_key` type (no longer in Puppet's core), which the catalog
# of oci::controller declares.
TEST_PACKAGES=(puppet-agent puppet-lint graphviz openssh-server openssh-client
  chromium chromium-driver openstack-puppet-modules puppet-module-oci python3-pip
  python3-yaml puppet-module-puppetlabs-sshkeys-core)
