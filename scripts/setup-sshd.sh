#!/usr/bin/env bash
# A real SSH server on 127.0.0.1 for the tests that run the collection over SSH (Ansible's ssh connection,
# and libvirt's qemu+ssh:// and xen+ssh:// URIs). Run as root; idempotent.
#
# It runs its own sshd instance on 127.0.0.1:2222 with its own configuration, so an sshd the machine may
# already run on port 22 is left alone. What it provides (the tests read these paths):
#   key       /root/.ssh/virt_libvirt_test_ed25519 (no passphrase), authorised for root and for the user below
#   user      vltssh: not root, passwordless sudo (Ansible's become)
#   known     root's ~/.ssh/known_hosts holds [127.0.0.1]:2222, so host keys are verified, not skipped
set -euo pipefail

PORT=2222
USER_NAME=vltssh
KEY=/root/.ssh/virt_libvirt_test_ed25519
CONFIG=/etc/ssh/virt_libvirt_test_sshd_config
PIDFILE=/run/virt_libvirt_test_sshd.pid

# shellcheck source=scripts/apt-install-missing.sh
. "$(dirname "$0")/apt-install-missing.sh"
apt_install_missing setup-sshd openssh-server openssh-client sudo

ssh-keygen -A >/dev/null
mkdir -p /run/sshd /root/.ssh
chmod 0700 /root/.ssh
[ -f "$KEY" ] || ssh-keygen -q -t ed25519 -N '' -C virt-libvirt-test -f "$KEY"

id "$USER_NAME" >/dev/null 2>&1 || useradd --create-home --shell /bin/bash "$USER_NAME"
# '*': no password to log in with, but not a locked account (sshd refuses locked accounts for keys too).
usermod -p '*' "$USER_NAME"
echo "$USER_NAME ALL=(ALL) NOPASSWD: ALL" > /etc/sudoers.d/virt-libvirt-test
chmod 0440 /etc/sudoers.d/virt-libvirt-test

authorize() {  # authorize HOME OWNER
    install -d -m 0700 -o "$2" -g "$2" "$1/.ssh"
    touch "$1/.ssh/authorized_keys"
    grep -qF "$(cat "$KEY.pub")" "$1/.ssh/authorized_keys" || cat "$KEY.pub" >> "$1/.ssh/authorized_keys"
    chown "$2:$2" "$1/.ssh/authorized_keys"
    chmod 0600 "$1/.ssh/authorized_keys"
}
authorize /root root
authorize "/home/$USER_NAME" "$USER_NAME"

cat > "$CONFIG" <<EOF
# virt.libvirt's test sshd (scripts/setup-sshd.sh): loopback only, keys only.
Port $PORT
ListenAddress 127.0.0.1
PidFile $PIDFILE
PermitRootLogin prohibit-password
PasswordAuthentication no
KbdInteractiveAuthentication no
PubkeyAuthentication yes
UsePAM no
MaxStartups 30:30:100
MaxSessions 30
Subsystem sftp internal-sftp
EOF

if ! { [ -f "$PIDFILE" ] && kill -0 "$(cat "$PIDFILE")" 2>/dev/null; }; then
    /usr/sbin/sshd -f "$CONFIG"
fi
for _ in $(seq 1 50); do
    ssh-keyscan -p "$PORT" -T 2 127.0.0.1 >/dev/null 2>&1 && break
    sleep 0.2
done

known=/root/.ssh/known_hosts
touch "$known"
if ! ssh-keygen -F "[127.0.0.1]:$PORT" -f "$known" >/dev/null; then
    ssh-keyscan -p "$PORT" -T 5 127.0.0.1 2>/dev/null >> "$known"
fi
ssh -p "$PORT" -i "$KEY" -o BatchMode=yes root@127.0.0.1 true
ssh -p "$PORT" -i "$KEY" -o BatchMode=yes "$USER_NAME@127.0.0.1" sudo -n true
echo "setup-sshd: sshd answers on 127.0.0.1:$PORT (key $KEY; users root and $USER_NAME)"
