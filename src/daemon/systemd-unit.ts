// The systemd unit for `sipwarden run`, rendered for the paths of this installation.

export interface UnitPaths {
  /** Absolute path of the node binary. */
  readonly node: string;
  /** Absolute path of dist/cli/main.js. */
  readonly main: string;
  readonly config: string;
}

/**
 * Hardened: the daemon runs as root (the kernel firewall wants CAP_NET_ADMIN) but keeps only the
 * capabilities it uses — NET_ADMIN for nftables/iptables/ipset/conntrack, NET_RAW for raw netlink users,
 * DAC_READ_SEARCH to read PBX logs owned by the asterisk/freeswitch users — sees the file system read-only
 * except its state and runtime directories, and cannot gain privileges.
 */
export function renderDaemonUnit(p: UnitPaths): string {
  return `[Unit]
Description=sipwarden: VoIP PBX intrusion prevention
Documentation=https://github.com/sipwarden/sipwarden
After=network-online.target sipwarden-firewall.service
Wants=network-online.target

[Service]
Type=simple
ExecStart=${p.node} ${p.main} run --config ${p.config}
ExecReload=/bin/kill -HUP $MAINPID
Restart=on-failure
RestartSec=2
StateDirectory=sipwarden
StateDirectoryMode=0700
RuntimeDirectory=sipwarden
RuntimeDirectoryMode=0700
RuntimeDirectoryPreserve=yes
UMask=0077
CapabilityBoundingSet=CAP_NET_ADMIN CAP_NET_RAW CAP_DAC_READ_SEARCH
NoNewPrivileges=yes
ProtectSystem=strict
ProtectHome=yes
PrivateTmp=yes
PrivateDevices=yes
ProtectKernelTunables=yes
ProtectControlGroups=yes
ProtectClock=yes
ProtectHostname=yes
RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6 AF_NETLINK
RestrictNamespaces=yes
RestrictRealtime=yes
RestrictSUIDSGID=yes
LockPersonality=yes
SystemCallArchitectures=native
SystemCallFilter=@system-service
SystemCallErrorNumber=EPERM

[Install]
WantedBy=multi-user.target
`;
}
