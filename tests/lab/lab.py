"""The embedded lab: real Debian hosts with systemd and sshd, as containers on one Docker network.

    python tests/lab/lab.py up       build the base images when missing, start every host of inventories/lab
    lab.py down     remove the hosts, their volumes and the network (images are kept)
    lab.py reset H  recreate hosts H... from scratch (a fresh host, without Docker)
    lab.py status   one line per host
    lab.py images   only build the base images
    lab.py purge    down, then remove the base images too

Hosts and addresses come from inventories/lab/hosts.yml; nothing here names a host. Images are
made offline: debootstrap from the Debian archive, then `docker import`. They carry a recipe
label and are rebuilt only when their recipe changes.
"""

from __future__ import annotations

import argparse
import hashlib
import ipaddress
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import docker
import yaml

ROOT = Path(__file__).resolve().parents[2]
INVENTORY = ROOT / "inventories" / "lab"
STATE = ROOT / ".lab"
SSH_KEY = STATE / "ssh" / "id_ed25519"
MIRROR = os.environ.get("OUTERLOOP_DEBIAN_MIRROR", "http://deb.debian.org/debian")
SUITE = "bookworm"
LABEL = "io.outerloop.lab"

# Application base: what the sample application's images build FROM in the lab.
BASE_IMAGE = f"outerloop-lab/debian:{SUITE}"
BASE_PACKAGES = ["python3", "ca-certificates"]
# Host image: a Debian machine with an init system that Ansible reaches over SSH.
HOST_IMAGE = f"outerloop-lab/host:{SUITE}"
# python3-apt: what the apt module needs to predict changes in check mode (cloud images ship it too).
HOST_PACKAGES = ["systemd", "systemd-sysv", "dbus", "openssh-server", "python3", "python3-apt", "sudo", "iproute2"]
# A 2 MB image (busybox-static) for smoke tests of engines and registries. Both it and the
# application base are also saved under .lab/images/ (busybox.tar, debian.tar): playbooks/smoke.yml
# and tests/lab/seed.yml load them on lab hosts, which cannot pull public images.
BUSYBOX_IMAGE = "outerloop-lab/busybox:1"
# The lab cluster's front proxy (tests/lab/edge), on the application base; saved as .lab/images/edge.tar.
EDGE_IMAGE = "outerloop-lab/edge:1"
EDGE_DIR = Path(__file__).resolve().parent / "edge"
# The Compose hosts' front proxy (roles/front_proxy): HAProxy from Debian's package on the application base
# (tests/lab/haproxy/Dockerfile), as the lab cannot pull the official image; saved as .lab/images/haproxy.tar,
# which the front_proxy role loads (front_proxy_image_archive in the lab's inventories).
HAPROXY_IMAGE = "outerloop-lab/haproxy:2"
HAPROXY_DIR = Path(__file__).resolve().parent / "haproxy"

# `docker run` flags of a host (the Docker SDK has no spelling for systempaths=unconfined).
HOST_RUN = [
    "--cap-add", "ALL", "--cap-drop", "SYS_RESOURCE",  # the machine lacks it: --privileged fails here
    "--security-opt", "seccomp=unconfined", "--security-opt", "apparmor=unconfined",
    "--security-opt", "systempaths=unconfined", "--cgroupns=host",
    "-v", "/sys/fs/cgroup:/sys/fs/cgroup:rw", "--tmpfs", "/run", "--tmpfs", "/run/lock",
    # An anonymous volume: the host's own Docker Engine needs a filesystem that is not overlay.
    "-v", "/var/lib/docker",
    "--stop-signal", "SIGRTMIN+3",
]  # fmt: skip

# Units that have no job in a container, and sshd host keys made per host at first boot. The apt
# lists stay, as on a host that has run `apt-get update` before: check mode can then predict.
HOST_SETUP = r"""
set -e
systemctl mask systemd-udevd.service systemd-udevd-kernel.socket systemd-udevd-control.socket \
  getty@tty1.service console-getty.service systemd-remount-fs.service >/dev/null 2>&1
mkdir -p /etc/systemd/system/ssh.service.d /root/.ssh
printf '[Service]\nExecStartPre=\nExecStartPre=/usr/bin/ssh-keygen -A\nExecStartPre=/usr/sbin/sshd -t\n' \
  > /etc/systemd/system/ssh.service.d/outerloop-lab.conf
rm -f /etc/ssh/ssh_host_*
chmod 700 /root/.ssh
: > /etc/machine-id
apt-get clean
"""


def log(msg: str) -> None:
    print(f"[lab] {msg}", flush=True)


def recipe(*parts: object) -> str:
    return hashlib.sha256(json.dumps(parts, sort_keys=True).encode()).hexdigest()[:16]


def load_inventory() -> tuple[dict[str, str], str, str]:
    """Return {host: address}, the network name and its subnet, read from inventories/lab."""
    hosts: dict[str, str] = {}

    def walk(group: dict) -> None:
        for name, hostvars in (group.get("hosts") or {}).items():
            hosts[name] = (hostvars or {})["ansible_host"]
        for child in (group.get("children") or {}).values():
            walk(child or {})

    walk(yaml.safe_load((INVENTORY / "hosts.yml").read_text())["all"])
    conn = yaml.safe_load((INVENTORY / "group_vars" / "all" / "connection.yml").read_text())
    subnet = ipaddress.ip_network(conn["lab_subnet"])
    for name, addr in hosts.items():
        if ipaddress.ip_address(addr) not in subnet:
            sys.exit(f"lab: {name} has ansible_host {addr}, outside lab_subnet {subnet}")
    return hosts, conn["lab_network"], str(subnet)


def registry_hosts() -> list[str]:
    """The hosts of the lab inventory's registry group."""
    group = yaml.safe_load((INVENTORY / "hosts.yml").read_text())["all"].get("children", {}).get("registry") or {}
    return list((group.get("hosts") or {}).keys())


def run(cmd: list[str], **kw) -> subprocess.CompletedProcess:
    return subprocess.run(cmd, check=True, **kw)


def image_current(client: docker.DockerClient, name: str, want: str) -> bool:
    try:
        return client.images.get(name).labels.get(f"{LABEL}.recipe") == want
    except docker.errors.ImageNotFound:
        return False


def docker_import(rootfs: Path, name: str, changes: list[str]) -> None:
    cmd = ["docker", "import"]
    for change in changes:
        cmd += ["--change", change]
    tar = subprocess.Popen(["tar", "-C", str(rootfs), "--numeric-owner", "-c", "."], stdout=subprocess.PIPE)
    run([*cmd, "-", name], stdin=tar.stdout, stdout=subprocess.DEVNULL)
    if tar.wait() != 0:
        sys.exit(f"lab: tar of {rootfs} failed")


def chroot_sh(rootfs: Path, script: str) -> None:
    proc = rootfs / "proc"
    run(["mount", "-t", "proc", "proc", str(proc)])
    try:
        env = {"DEBIAN_FRONTEND": "noninteractive", "PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "LANG": "C.UTF-8"}
        out = subprocess.run(
            ["chroot", str(rootfs), "/bin/sh", "-c", script], env=env, capture_output=True, text=True, check=False
        )
        if out.returncode != 0:
            sys.exit(f"lab: in chroot {rootfs}: exit {out.returncode}\n{out.stdout[-3000:]}{out.stderr[-3000:]}")
    finally:
        run(["umount", str(proc)])


def build_images(client: docker.DockerClient) -> None:
    base_recipe = recipe(SUITE, MIRROR.rsplit("/", 1)[-1], BASE_PACKAGES, 1)
    host_recipe = recipe(base_recipe, HOST_PACKAGES, HOST_SETUP, 1)
    need_base = not image_current(client, BASE_IMAGE, base_recipe)
    need_host = not image_current(client, HOST_IMAGE, host_recipe)
    if need_base or need_host:
        work = Path(tempfile.mkdtemp(prefix="outerloop-lab-", dir="/var/tmp"))
        try:
            base = work / "base"
            t0 = time.monotonic()
            log(f"debootstrap {SUITE} minbase + {', '.join(BASE_PACKAGES)} (about 45 s)")
            run(
                ["debootstrap", "--variant=minbase", f"--include={','.join(BASE_PACKAGES)}", SUITE, str(base), MIRROR],
                stdout=subprocess.DEVNULL,
            )
            if need_host:
                host = work / "host"
                run(["cp", "-a", str(base), str(host)])
                log(f"host image: apt-get install {' '.join(HOST_PACKAGES)}")
                chroot_sh(
                    host,
                    "apt-get update -qq && apt-get install -y -qq --no-install-recommends "
                    + " ".join(HOST_PACKAGES)
                    + HOST_SETUP,
                )
                docker_import(
                    host,
                    HOST_IMAGE,
                    [
                        f"LABEL {LABEL}.recipe={host_recipe}",
                        'CMD ["/lib/systemd/systemd"]',
                        "ENV container=docker",
                    ],
                )
            if need_base:
                chroot_sh(base, "apt-get clean; rm -rf /var/lib/apt/lists/*")
                docker_import(base, BASE_IMAGE, [f"LABEL {LABEL}.recipe={base_recipe}", 'CMD ["/bin/bash"]'])
            log(f"base images ready in {time.monotonic() - t0:.0f} s")
        finally:
            shutil.rmtree(work, ignore_errors=True)

    busybox_recipe = recipe(Path("/bin/busybox").stat().st_size, 1)
    if not image_current(client, BUSYBOX_IMAGE, busybox_recipe):
        with tempfile.TemporaryDirectory(prefix="outerloop-busybox-") as ctx:
            shutil.copy2("/bin/busybox", Path(ctx) / "busybox")
            (Path(ctx) / "Dockerfile").write_text(
                "FROM scratch\nCOPY busybox /bin/busybox\n"
                'RUN ["/bin/busybox", "--install", "-s", "/bin"]\n'
                f"LABEL {LABEL}.recipe={busybox_recipe}\n"
                'CMD ["/bin/sh"]\n'
            )
            client.images.build(path=ctx, tag=BUSYBOX_IMAGE, rm=True)
        log(f"built {BUSYBOX_IMAGE}")
    edge_recipe = recipe(client.images.get(BASE_IMAGE).id, (EDGE_DIR / "edge.py").read_text(), 3)
    if not image_current(client, EDGE_IMAGE, edge_recipe):
        with tempfile.TemporaryDirectory(prefix="outerloop-edge-") as ctx:
            shutil.copy2(EDGE_DIR / "edge.py", Path(ctx) / "edge.py")
            (Path(ctx) / "Dockerfile").write_text(
                f"FROM {BASE_IMAGE}\nCOPY edge.py /edge.py\nUSER 65534:65534\n"
                # bash, not a Python interpreter per check: it runs every 3 s on every node
                "HEALTHCHECK --interval=3s --timeout=10s --retries=3 CMD bash -c 'exec 3<>/dev/tcp/127.0.0.1/"
                '${EDGE_PORT:-8080} && printf "GET /edge/healthz HTTP/1.0\\r\\n\\r\\n" >&3 && '
                'IFS= read -r -t 8 s <&3 && [[ $s == *" 200 "* ]]\'\n'
                f"LABEL {LABEL}.recipe={edge_recipe}\n"
                'CMD ["python3", "-u", "/edge.py"]\n'
            )
            client.images.build(path=ctx, tag=EDGE_IMAGE, rm=True)
        log(f"built {EDGE_IMAGE}")
    haproxy_recipe = recipe(client.images.get(BASE_IMAGE).id, (HAPROXY_DIR / "Dockerfile").read_text(), 1)
    if not image_current(client, HAPROXY_IMAGE, haproxy_recipe):
        log(f"building {HAPROXY_IMAGE} (apt-get install haproxy)")
        client.images.build(path=str(HAPROXY_DIR), tag=HAPROXY_IMAGE, rm=True,
                            labels={f"{LABEL}.recipe": haproxy_recipe})  # fmt: skip
        log(f"built {HAPROXY_IMAGE}")
    save_archive(client, BUSYBOX_IMAGE, "busybox.tar")
    save_archive(client, BASE_IMAGE, "debian.tar")
    save_archive(client, EDGE_IMAGE, "edge.tar")
    save_archive(client, HAPROXY_IMAGE, "haproxy.tar")


def save_archive(client: docker.DockerClient, image: str, filename: str) -> None:
    """Save an image as .lab/images/FILENAME (refreshed when the image changes), for loading on hosts."""
    archive = STATE / "images" / filename
    stamp = archive.with_suffix(".id")
    image_id = client.images.get(image).id
    if not archive.exists() or not stamp.exists() or stamp.read_text() != image_id:
        archive.parent.mkdir(parents=True, exist_ok=True)
        with open(archive, "wb") as out:
            # Saved by name, so that the archive carries exactly this tag whatever else tags the image.
            for chunk in client.api.get_image(image):
                out.write(chunk)
        stamp.write_text(image_id)


def ensure_ssh_key() -> str:
    if not SSH_KEY.exists():
        SSH_KEY.parent.mkdir(parents=True, exist_ok=True)
        run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "outerloop-lab", "-f", str(SSH_KEY)])
    return str(SSH_KEY) + ".pub"


def ensure_network(client: docker.DockerClient, name: str, subnet: str):
    try:
        net = client.networks.get(name)
        have = [c["Subnet"] for c in net.attrs["IPAM"]["Config"] or []]
        if subnet not in have:
            sys.exit(f"lab: network {name} exists with subnet {have}, inventory says {subnet}; run `lab.py down`")
        return net
    except docker.errors.NotFound:
        ipam = docker.types.IPAMConfig(pool_configs=[docker.types.IPAMPool(subnet=subnet)])
        return client.networks.create(name, driver="bridge", ipam=ipam, labels={LABEL: "network"})


def key_id(pubkey: str) -> str:
    """What identifies the lab's SSH key: a hash of its content (a new clone makes a new key)."""
    return hashlib.sha256(Path(pubkey).read_bytes()).hexdigest()[:16]


def host_current(container, pubkey: str) -> bool:
    """Running, from the current host image, and trusting this checkout's SSH key."""
    container.reload()
    return (
        container.status == "running"
        and container.labels.get(f"{LABEL}.image") == container.image.id
        and container.labels.get(f"{LABEL}.key") == key_id(pubkey)
    )


def start_host(client: docker.DockerClient, name: str, addr: str, network: str, pubkey: str) -> None:
    image_id = client.images.get(HOST_IMAGE).id
    run(
        ["docker", "run", "-d", "--name", name, "--hostname", name, "--network", network, "--ip", addr,
         "--label", f"{LABEL}=host", "--label", f"{LABEL}.image={image_id}", "--label", f"{LABEL}.key={key_id(pubkey)}",
         "-v", f"{pubkey}:/root/.ssh/authorized_keys:ro", *HOST_RUN, HOST_IMAGE],
        stdout=subprocess.DEVNULL,
    )  # fmt: skip


def wait_ssh(hosts: dict[str, str], timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    pending = dict(hosts)
    while pending and time.monotonic() < deadline:
        for name, addr in list(pending.items()):
            try:
                with socket.create_connection((addr, 22), timeout=1):
                    pass
            except OSError:
                continue
            probe = subprocess.run(
                ["ssh", "-i", str(SSH_KEY), "-o", "BatchMode=yes", "-o", "StrictHostKeyChecking=no",
                 "-o", "UserKnownHostsFile=/dev/null", "-o", "LogLevel=ERROR", "-o", "ConnectTimeout=3",
                 f"root@{addr}", "systemctl is-system-running --wait >/dev/null; hostname"],
                capture_output=True, text=True, timeout=60, check=False,
            )  # fmt: skip
            if probe.returncode == 0 and probe.stdout.strip() == name:
                del pending[name]
        if pending:
            time.sleep(0.5)
    if pending:
        sys.exit(f"lab: no SSH answer from {', '.join(sorted(pending))} within {timeout:.0f} s")


def up(client: docker.DockerClient, only: list[str] | None = None, fresh: bool = False) -> None:
    t0 = time.monotonic()
    hosts, network, subnet = load_inventory()
    if only:
        unknown = sorted(set(only) - set(hosts))
        if unknown:
            sys.exit(f"lab: {', '.join(unknown)} not in inventories/lab/hosts.yml (known: {', '.join(hosts)})")
        hosts = {h: hosts[h] for h in only}
    build_images(client)
    pubkey = ensure_ssh_key()
    ensure_network(client, network, subnet)
    started = []
    for name, addr in hosts.items():
        try:
            container = client.containers.get(name)
            if not fresh and host_current(container, pubkey):
                continue
            container.remove(force=True, v=True)
        except docker.errors.NotFound:
            pass
        start_host(client, name, addr, network, pubkey)
        started.append(name)
    if set(started) & set(registry_hosts()):
        # Releases made on the lab describe its registry, which a new registry host no longer has.
        shutil.rmtree(STATE / "releases", ignore_errors=True)
    wait_ssh(hosts)
    log(f"{len(hosts)} hosts up ({', '.join(started) or 'none'} started) in {time.monotonic() - t0:.1f} s")


def down(client: docker.DockerClient) -> None:
    network = load_inventory()[1]
    for container in client.containers.list(all=True, filters={"label": f"{LABEL}=host"}):
        container.remove(force=True, v=True)
        log(f"removed {container.name}")
    try:
        client.networks.get(network).remove()
        log(f"removed network {network}")
    except docker.errors.NotFound:
        pass


def status(client: docker.DockerClient) -> None:
    hosts = load_inventory()[0]
    for name, addr in hosts.items():
        try:
            state = client.containers.get(name).status
        except docker.errors.NotFound:
            state = "absent"
        print(f"{name:10} {addr:15} {state}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("action", choices=["up", "down", "reset", "status", "images", "purge"])
    parser.add_argument("hosts", nargs="*")
    args = parser.parse_args()
    client = docker.from_env(timeout=300)
    if args.action == "up":
        up(client, args.hosts or None)
    elif args.action == "reset":
        up(client, args.hosts or None, fresh=True)
    elif args.action == "down":
        down(client)
    elif args.action == "status":
        status(client)
    elif args.action == "images":
        build_images(client)
    elif args.action == "purge":
        down(client)
        for image in (HOST_IMAGE, BASE_IMAGE, BUSYBOX_IMAGE, EDGE_IMAGE, HAPROXY_IMAGE):
            try:
                client.images.remove(image, force=True)
                log(f"removed image {image}")
            except docker.errors.ImageNotFound:
                pass


if __name__ == "__main__":
    main()
