#!/bin/sh
# capanode installer: installs, upgrades or removes the capanode agent as a
# systemd service on Linux.
#
#   sudo ./install.sh --coordinator wss://coord.example:7400 --coordinator-key HEX
#   sudo ./install.sh                      # upgrade in place (keeps key, journal, config)
#   sudo ./install.sh --uninstall          # remove the service and program, keep key and journal
#   sudo ./install.sh --uninstall --purge  # also remove key, journal, config and the user
#   ./install.sh --dry-run                 # print every action, change nothing
#   ./install.sh --root /tmp/stage         # install into a staging root (tests, packagers)
#
# Environment (all optional):
#   CAPANODE_INSTALL_SOURCE   directory of a capanode checkout to install from
#                             (default: the directory of this script if it is one,
#                             else the `capanode` package from the npm registry)
#   CAPANODE_INSTALL_VERSION  npm version to install when not from a checkout (default: latest)
#   CAPANODE_INSTALL_PREFIX   program directory (default: /opt/capanode)
#   CAPANODE_INSTALL_USER     service user (default: capanode)
#   CAPANODE_INSTALL_NODE     node binary (default: the first `node` on PATH)
#
# Everything runs from main() at the very end, so a truncated download runs nothing.

set -eu

info() { printf '[capanode] %s\n' "$*"; }
warn() { printf '[capanode] warning: %s\n' "$*" >&2; }
fatal() {
	printf '[capanode] error: %s\n' "$*" >&2
	exit 1
}
step() {
	STEP=$((STEP + 1))
	printf '\n[capanode] step %d: %s\n' "$STEP" "$*"
}

# run CMD...: runs a command that changes the system, or only prints it with --dry-run.
run() {
	if [ "$DRY_RUN" = 1 ]; then
		printf '  would run: %s\n' "$*"
	else
		printf '  + %s\n' "$*"
		"$@"
	fi
}

# write_file PATH MODE: writes stdin to PATH (under the staging root) with MODE.
write_file() {
	if [ "$DRY_RUN" = 1 ]; then
		printf '  would write %s (mode %s):\n' "$1" "$2"
		sed 's/^/    | /'
		return 0
	fi
	printf '  + write %s (mode %s)\n' "$1" "$2"
	mkdir -p "$(dirname "$1")"
	tmp_file="$1.tmp.$$"
	cat >"$tmp_file"
	chmod "$2" "$tmp_file"
	mv -f "$tmp_file" "$1"
}

usage() {
	sed -n '2,20p' "$0" | sed 's/^# \{0,1\}//'
}

parse_args() {
	while [ $# -gt 0 ]; do
		case "$1" in
		--coordinator)
			[ $# -ge 2 ] || fatal "--coordinator needs a URL"
			COORDINATOR_URL=$2
			shift 2
			;;
		--coordinator-key)
			[ $# -ge 2 ] || fatal "--coordinator-key needs a 64-hex key"
			COORDINATOR_KEY=$2
			shift 2
			;;
		--root)
			[ $# -ge 2 ] || fatal "--root needs a directory"
			ROOT=$2
			shift 2
			;;
		--uninstall) ACTION=uninstall; shift ;;
		--purge) PURGE=1; shift ;;
		--dry-run) DRY_RUN=1; shift ;;
		--no-start) NO_START=1; shift ;;
		-h | --help)
			usage
			exit 0
			;;
		*) fatal "unknown option: $1 (see --help)" ;;
		esac
	done
	if [ "$PURGE" = 1 ] && [ "$ACTION" != uninstall ]; then
		fatal "--purge only goes with --uninstall"
	fi
	if [ -n "$ROOT" ]; then
		case "$ROOT" in
		/*) ;;
		*) ROOT="$(pwd)/$ROOT" ;;
		esac
		ROOT=${ROOT%/}
	fi
}

# version_ge A B: true when dotted version A >= B.
version_ge() {
	[ "$(printf '%s\n%s\n' "$2" "$1" | sort -t. -k1,1n -k2,2n -k3,3n | head -n 1)" = "$2" ]
}

check_system() {
	step "checking the system"
	[ "$(uname -s)" = Linux ] || fatal "capanode's service runs on Linux (this is $(uname -s))"
	if [ -z "$ROOT" ]; then
		[ -d /run/systemd/system ] || fatal "systemd is not running on this machine; run 'capanode start' under your own supervisor instead"
		if [ "$DRY_RUN" = 0 ] && [ "$(id -u)" != 0 ]; then
			fatal "run as root (sudo $0 ...), or use --dry-run to see what would be done"
		fi
	fi
	NODE=${CAPANODE_INSTALL_NODE:-$(command -v node || true)}
	[ -n "$NODE" ] || fatal "Node.js is not installed: install Node.js >= 20.19 (for example from your distribution or nodesource), then re-run"
	node_version=$("$NODE" -p 'process.versions.node' 2>/dev/null) || fatal "$NODE does not run"
	version_ge "$node_version" 20.19.0 || fatal "Node.js $node_version is too old: capanode needs >= 20.19"
	info "node $node_version at $NODE"
	if [ "$ACTION" = install ]; then
		command -v npm >/dev/null 2>&1 || fatal "npm is not installed (it ships with Node.js; on Debian/Ubuntu: apt-get install npm)"
		if ! command -v c++ >/dev/null 2>&1 && ! command -v g++ >/dev/null 2>&1; then
			fatal "no C++ compiler: the native addon and SQLite are built at install (on Debian/Ubuntu: apt-get install build-essential python3)"
		fi
		command -v make >/dev/null 2>&1 || fatal "make is missing (on Debian/Ubuntu: apt-get install build-essential)"
		if ! command -v nvidia-smi >/dev/null 2>&1; then
			warn "nvidia-smi was not found: the agent will run and report that no GPU driver is installed"
		fi
	fi
}

# The groups that own the NVIDIA device files (often video or render), so the
# service user can open them.
gpu_groups() {
	groups=""
	for dev in /dev/nvidia*; do
		[ -e "$dev" ] || continue
		g=$(stat -c %G "$dev" 2>/dev/null || true)
		case "$g" in
		"" | root | UNKNOWN) ;;
		*) case " $groups " in *" $g "*) ;; *) groups="$groups $g" ;; esac ;;
		esac
	done
	for g in video render; do
		if getent group "$g" >/dev/null 2>&1; then
			case " $groups " in *" $g "*) ;; *) groups="$groups $g" ;; esac
		fi
	done
	printf '%s' "${groups# }"
}

create_user() {
	step "creating the service user '$SERVICE_USER'"
	if [ -n "$ROOT" ]; then
		info "staging root: not creating users"
		return 0
	fi
	if id "$SERVICE_USER" >/dev/null 2>&1; then
		info "user $SERVICE_USER exists"
	else
		run useradd --system --home-dir "$STATE_DIR" --no-create-home --shell /usr/sbin/nologin --user-group "$SERVICE_USER"
	fi
	GPU_GROUPS=$(gpu_groups)
	for g in $GPU_GROUPS; do
		run usermod -a -G "$g" "$SERVICE_USER"
	done
}

install_program() {
	step "installing the program into $ROOT$PREFIX"
	src=${CAPANODE_INSTALL_SOURCE:-}
	if [ -z "$src" ] && [ -f "$SCRIPT_DIR/package.json" ] && grep -q '"name": "capanode"' "$SCRIPT_DIR/package.json"; then
		src=$SCRIPT_DIR
	fi
	new="$ROOT$PREFIX/app.new"
	run rm -rf "$new"
	run mkdir -p "$new"
	if [ -n "$src" ]; then
		info "from the checkout at $src"
		# Copy the sources (not node_modules, dist or build output), then build there.
		run tar -C "$src" --exclude=./node_modules --exclude=./dist --exclude=./native/build --exclude=./.git --exclude=./.devnet -cf "$ROOT$PREFIX/src.tar" .
		run tar -C "$new" -xf "$ROOT$PREFIX/src.tar"
		run rm -f "$ROOT$PREFIX/src.tar"
		run sh -c "cd '$new' && npm ci --no-audit --no-fund && npm prune --omit=dev --no-audit --no-fund"
	else
		version=${CAPANODE_INSTALL_VERSION:-latest}
		info "from the npm registry: capanode@$version"
		run sh -c "cd '$new' && npm install --no-audit --no-fund --omit=dev --install-links 'capanode@$version' && ln -s node_modules/capanode/dist dist && ln -s node_modules/capanode/package.json package.json"
	fi
	if [ -d "$ROOT$PREFIX/app" ]; then
		info "upgrading in place (the previous version is kept as app.old until the next upgrade)"
		run rm -rf "$ROOT$PREFIX/app.old"
		run mv "$ROOT$PREFIX/app" "$ROOT$PREFIX/app.old"
	fi
	run mv "$new" "$ROOT$PREFIX/app"
	write_file "$ROOT$PREFIX/bin/capanode" 0755 <<EOF
#!/bin/sh
exec "$NODE" "$PREFIX/app/dist/agent/cli.js" "\$@"
EOF
	if [ -z "$ROOT" ]; then
		run ln -sf "$PREFIX/bin/capanode" /usr/local/bin/capanode
	fi
}

make_dirs() {
	step "creating config, state and runtime directories"
	run mkdir -p "$ROOT$CONFIG_DIR" "$ROOT$STATE_DIR"
	run chmod 0755 "$ROOT$CONFIG_DIR"
	run chmod 0700 "$ROOT$STATE_DIR"
	if [ -z "$ROOT" ]; then
		run chown "$SERVICE_USER:$SERVICE_USER" "$ROOT$STATE_DIR"
	fi
	# /run/capanode is created by systemd at each start (RuntimeDirectory=).
}

init_node() {
	step "creating the node key"
	if [ -f "$ROOT$STATE_DIR/node.key" ]; then
		info "a key exists at $ROOT$STATE_DIR/node.key: keeping this node's identity"
		if [ -n "$COORDINATOR_URL$COORDINATOR_KEY" ]; then
			warn "--coordinator/--coordinator-key are ignored on upgrade: edit $CONFIG_DIR/config.json to change them"
		fi
		return 0
	fi
	set -- "$NODE" "$ROOT$PREFIX/app/dist/agent/cli.js" init --data-dir "$ROOT$STATE_DIR" --config "$ROOT$CONFIG_DIR/config.json"
	if [ -n "$COORDINATOR_URL" ]; then set -- "$@" --coordinator "$COORDINATOR_URL"; fi
	if [ -n "$COORDINATOR_KEY" ]; then set -- "$@" --coordinator-key "$COORDINATOR_KEY"; fi
	if [ -z "$ROOT" ]; then
		# As the service user, so the key is its own from the first byte.
		run runuser -u "$SERVICE_USER" -- "$@"
		run chown "root:$SERVICE_USER" "$CONFIG_DIR/config.json"
		run chmod 0640 "$CONFIG_DIR/config.json"
	else
		run "$@"
	fi
	if [ -z "$COORDINATOR_URL" ]; then
		warn "no --coordinator given: set coordinatorUrl and coordinatorKey in $CONFIG_DIR/config.json, then: systemctl restart capanode"
	fi
}

write_unit() {
	step "writing the systemd unit $UNIT_FILE"
	supplementary=""
	if [ -n "${GPU_GROUPS:-}" ]; then
		supplementary="SupplementaryGroups=$GPU_GROUPS"
	fi
	write_file "$ROOT$UNIT_FILE" 0644 <<EOF
# Written by capanode's install.sh; re-running the installer rewrites it.
# Local changes belong in: systemctl edit capanode
[Unit]
Description=capanode GPU node agent
Documentation=file://$PREFIX/app/README.md
After=network-online.target nvidia-persistenced.service
Wants=network-online.target

[Service]
Type=notify
NotifyAccess=main
ExecStart=$NODE $PREFIX/app/dist/agent/cli.js start
EnvironmentFile=-$CONFIG_DIR/capanode.env
User=$SERVICE_USER
Group=$SERVICE_USER
$supplementary
Restart=always
RestartSec=5
WatchdogSec=60
TimeoutStopSec=90
KillMode=mixed
StateDirectory=capanode
StateDirectoryMode=0700
RuntimeDirectory=capanode
RuntimeDirectoryMode=0750
ConfigurationDirectory=capanode
NoNewPrivileges=yes
ProtectSystem=strict
ProtectHome=yes
PrivateTmp=yes
ReadWritePaths=$STATE_DIR
ProtectKernelTunables=yes
ProtectKernelModules=yes
ProtectControlGroups=yes
RestrictSUIDSGID=yes
LockPersonality=yes
DevicePolicy=closed
DeviceAllow=/dev/nvidiactl rw
DeviceAllow=/dev/nvidia-uvm rw
DeviceAllow=/dev/nvidia-uvm-tools rw
DeviceAllow=/dev/nvidia-modeset rw
DeviceAllow=char-nvidia-frontend rw
DeviceAllow=char-nvidia-caps rw
DeviceAllow=char-nvidia-uvm rw

[Install]
WantedBy=multi-user.target
EOF
}

start_service() {
	step "enabling and starting the service"
	if [ -n "$ROOT" ]; then
		info "staging root: not starting anything"
		return 0
	fi
	run systemctl daemon-reload
	if [ "$NO_START" = 1 ]; then
		run systemctl enable capanode.service
		return 0
	fi
	run systemctl enable capanode.service
	run systemctl restart capanode.service
	info "capanode is running: 'capanode status' shows what it is doing; 'journalctl -u capanode -f' its logs"
}

uninstall() {
	step "stopping and disabling the service"
	if [ -z "$ROOT" ] && command -v systemctl >/dev/null 2>&1; then
		run systemctl disable --now capanode.service || warn "the service was not running"
	fi
	step "removing the program and the unit"
	run rm -f "$ROOT$UNIT_FILE"
	run rm -rf "$ROOT$PREFIX"
	if [ -z "$ROOT" ]; then
		run rm -f /usr/local/bin/capanode
		if command -v systemctl >/dev/null 2>&1; then run systemctl daemon-reload; fi
	fi
	if [ "$PURGE" = 1 ]; then
		step "purging key, journal, config and the service user"
		warn "the node key is this node's identity: without a backup its unclaimed credits are lost"
		run rm -rf "$ROOT$STATE_DIR" "$ROOT$CONFIG_DIR"
		if [ -z "$ROOT" ] && id "$SERVICE_USER" >/dev/null 2>&1; then
			run userdel "$SERVICE_USER"
		fi
	else
		info "kept the key and journal in $ROOT$STATE_DIR and the config in $ROOT$CONFIG_DIR (--purge removes them)"
	fi
}

main() {
	STEP=0
	ACTION=install
	PURGE=0
	DRY_RUN=0
	NO_START=0
	ROOT=""
	COORDINATOR_URL=""
	COORDINATOR_KEY=""
	GPU_GROUPS=""
	SCRIPT_DIR=$(cd "$(dirname "$0")" && pwd)
	PREFIX=${CAPANODE_INSTALL_PREFIX:-/opt/capanode}
	SERVICE_USER=${CAPANODE_INSTALL_USER:-capanode}
	CONFIG_DIR=/etc/capanode
	STATE_DIR=/var/lib/capanode
	UNIT_FILE=/etc/systemd/system/capanode.service
	parse_args "$@"
	if [ "$DRY_RUN" = 1 ]; then info "dry run: printing every action, changing nothing"; fi
	if [ -n "$ROOT" ]; then info "installing into the staging root $ROOT"; fi
	check_system
	if [ "$ACTION" = uninstall ]; then
		uninstall
	else
		create_user
		install_program
		make_dirs
		init_node
		write_unit
		start_service
	fi
	info "done"
}

main "$@"
