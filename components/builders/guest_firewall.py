"""The guest firewall: an nftables input chain that admits only the VM's external ports.

On Cozystack v1.1 (the ``hikube`` profile) ``externalMethod: PortList`` does not filter:
every external VM gets the whole public IP (P3, ``PlatformProfile.port_list_filters``).
There the guest filters instead, through cloud-init: it writes the ruleset and a systemd
unit that loads it before the network comes up on every boot, and starts it at first boot.
The table is our own (``inet hikube_gpu_guard``); other tables (ufw, Docker) are left alone.
"""

from __future__ import annotations

from typing import Any

TABLE = "hikube_gpu_guard"
RULESET_PATH = "/etc/nftables.d/hikube-gpu.nft"
UNIT = "hikube-gpu-guard.service"
UNIT_PATH = f"/etc/systemd/system/{UNIT}"
NFT = "/usr/sbin/nft"

# RFC 4890 section 4.4.1 (must not be dropped) plus echo; errors of our own flows are
# ``related`` anyway. Neighbour and router discovery keep IPv6 working on the link.
ICMPV6_TYPES = (
    "destination-unreachable",
    "packet-too-big",
    "time-exceeded",
    "parameter-problem",
    "echo-request",
    "nd-router-advert",
    "nd-neighbor-solicit",
    "nd-neighbor-advert",
    "mld-listener-query",
)
ICMP_TYPES = ("destination-unreachable", "time-exceeded", "parameter-problem", "echo-request")


def ruleset(ports: tuple[int, ...]) -> str:
    """The nftables ruleset; loading it again replaces the table in one transaction."""
    if not ports:
        raise ValueError("the guest firewall needs at least one port")
    listed = ", ".join(str(port) for port in sorted(set(ports)))
    return f"""#!{NFT} -f
# Written by hikube-gpu (external.guestFirewall): the platform does not restrict the VM's
# public ports, so the guest admits only TCP {listed}, from any source. Outbound is open.
table inet {TABLE}
delete table inet {TABLE}
table inet {TABLE} {{
    chain input {{
        type filter hook input priority filter; policy drop;
        iif "lo" accept
        ct state established,related accept
        ct state invalid drop
        meta l4proto icmp icmp type {{ {", ".join(ICMP_TYPES)} }} accept
        meta l4proto ipv6-icmp icmpv6 type {{ {", ".join(ICMPV6_TYPES)} }} accept
        udp sport 67 udp dport 68 accept comment "DHCPv4 replies"
        ip6 saddr fe80::/10 udp sport 547 udp dport 546 accept comment "DHCPv6 replies"
        tcp dport {{ {listed} }} accept comment "external.ports"
    }}
}}
"""


def systemd_unit() -> str:
    """Loads the ruleset before the network is up, after anything that flushes the ruleset."""
    return f"""[Unit]
Description=hikube-gpu guest firewall (inet {TABLE}: only the VM's external ports)
Documentation=man:nft(8)
DefaultDependencies=no
Wants=network-pre.target
Before=network-pre.target shutdown.target
After=local-fs.target nftables.service firewalld.service
Conflicts=shutdown.target

[Service]
Type=oneshot
RemainAfterExit=yes
ExecStart={NFT} -f {RULESET_PATH}
ExecReload={NFT} -f {RULESET_PATH}
ExecStop={NFT} delete table inet {TABLE}

[Install]
WantedBy=sysinit.target
"""


def firewall_cloud_config(ports: tuple[int, ...]) -> dict[str, Any]:
    """cloud-config that installs nftables, writes the ruleset and unit, and enables it."""
    return {
        "packages": ["nftables"],
        "write_files": [
            {"path": RULESET_PATH, "permissions": "0644", "content": ruleset(ports)},
            {"path": UNIT_PATH, "permissions": "0644", "content": systemd_unit()},
        ],
        # enable reloads systemd's units; --now loads the rules at first boot.
        "runcmd": [["systemctl", "enable", "--now", UNIT]],
    }
