"""Stand-in xenpv-win RPMs in a local dnf repository, and throwaway RPM roots to install them into.

The real xenpv-win packages come from RHEL 5's Virtualization channel; the tests need packages with the
same four names that dnf can really install. Each stand-in installs a README and a small ISO 9660 image
(the driver media a Windows guest gets as a CD-ROM) under /usr/share/xenpv-win/.

Run as a script (``python tests/support/rpmrepo.py DIR``) it builds the repository into DIR; the
molecule scenario of roles/xenpv_win does that.
"""
from __future__ import annotations

import atexit
import functools
import os
import shutil
import subprocess
import sys
import tempfile

PACKAGES = ("xenpv-win-32bit", "xenpv-win-32bit-debug", "xenpv-win-64bit", "xenpv-win-64bit-debug")
# A repository's own name for the 32-bit drivers, for the package_names mapping.
RENAMED_32BIT = "acme-xenpv-win-32bit"
VERSION = "1.3.8"
RELEASE = "1.el5"
MEDIA_DIR = "/usr/share/xenpv-win"


def media_path(package):
    """Where the stand-in ``package`` puts its driver media."""
    return "%s/%s.iso" % (MEDIA_DIR, package)


def _iso_image(label):
    """A minimal ISO 9660 image: 16 empty system-area sectors, then a primary volume descriptor."""
    sector = 2048
    descriptor = bytearray(sector)
    descriptor[0] = 1
    descriptor[1:6] = b"CD001"
    descriptor[6] = 1
    descriptor[40:72] = label.upper().encode("ascii")[:32].ljust(32)
    terminator = bytearray(sector)
    terminator[0] = 255
    terminator[1:6] = b"CD001"
    terminator[6] = 1
    return bytes(16 * sector) + bytes(descriptor) + bytes(terminator)


_SPEC = """\
Name: {name}
Version: {version}
Release: {release}
Summary: Stand-in for the {name} para-virtualized Windows drivers (test package)
License: GPL-2.0-or-later
BuildArch: noarch
AutoReqProv: no

%description
Test stand-in for {name}: installs a README and an ISO 9660 image under {media_dir}.

%prep
%build
%install
mkdir -p %{{buildroot}}{media_dir}/{name}
printf 'Stand-in for {name}\\n' > %{{buildroot}}{media_dir}/{name}/README
cp {iso_source} %{{buildroot}}{media}

%files
{media_dir}/{name}
{media}
"""


def build_repository(directory):
    """Build the four stand-in RPMs (and RENAMED_32BIT) and publish them with createrepo_c in
    ``directory``/repo."""
    topdir = os.path.join(directory, "rpmbuild")
    repo = os.path.join(directory, "repo")
    os.makedirs(repo, exist_ok=True)
    for name in PACKAGES + (RENAMED_32BIT,):
        iso_source = os.path.join(directory, "%s.iso" % name)
        with open(iso_source, "wb") as stream:
            stream.write(_iso_image(name))
        spec = os.path.join(directory, "%s.spec" % name)
        with open(spec, "w", encoding="utf-8") as stream:
            stream.write(_SPEC.format(name=name, version=VERSION, release=RELEASE, media_dir=MEDIA_DIR,
                                      media=media_path(name), iso_source=iso_source))
        subprocess.run(["rpmbuild", "-bb", "--quiet", "--define", "_topdir %s" % topdir,
                        "--define", "_rpmdir %s" % repo, "--define", "_build_name_fmt %%{NAME}.rpm", spec],
                       check=True, capture_output=True)
    subprocess.run(["createrepo_c", "--quiet", repo], check=True, capture_output=True)
    return repo


@functools.lru_cache(maxsize=None)
def stand_in_repository():
    """The repository, built once per test process into a temporary directory removed at exit."""
    directory = tempfile.mkdtemp(prefix="xenpv-win-repo-")
    atexit.register(shutil.rmtree, directory, True)
    return build_repository(directory)


def repo_file(repo, name="xenpv-win-standin"):
    """A yum/dnf .repo definition for ``repo`` (unsigned test packages: no GPG check)."""
    return ("[{name}]\nname=Stand-in xenpv-win packages\nbaseurl=file://{repo}\nenabled=1\ngpgcheck=0\n"
            "metadata_expire=0\n").format(name=name, repo=repo)


def make_install_root(parent, repo):
    """A throwaway RPM root whose dnf configuration (``dnf_conf(root)``) knows only the stand-in
    repository. dnf's Python API (and so ansible.builtin.dnf) reads its configuration and repositories
    from the host even with an installroot, so the root carries its own dnf.conf naming its reposdir."""
    root = tempfile.mkdtemp(prefix="root-", dir=parent)
    repos_dir = os.path.join(root, "etc", "yum.repos.d")
    os.makedirs(repos_dir)
    with open(os.path.join(repos_dir, "xenpv-win-standin.repo"), "w", encoding="utf-8") as stream:
        stream.write(repo_file(repo))
    os.makedirs(os.path.join(root, "etc", "dnf"))
    with open(dnf_conf(root), "w", encoding="utf-8") as stream:
        stream.write("[main]\ngpgcheck=0\nreposdir=%s\nskip_if_unavailable=False\n" % repos_dir)
    subprocess.run(["rpm", "--root", root, "--initdb"], check=True, capture_output=True)
    return root


def dnf_conf(root):
    return os.path.join(root, "etc", "dnf", "dnf.conf")


def rpm_install(root, repo, *names):
    """Install stand-ins straight with rpm (for tests that need a package present, not the role)."""
    paths = [os.path.join(repo, "%s.rpm" % name) for name in names]
    subprocess.run(["rpm", "--root", root, "-i", "--nodeps"] + paths, check=True, capture_output=True)


def installed_packages(root):
    """The xenpv-win packages (stand-ins and renamed ones) in the RPM database of ``root``."""
    process = subprocess.run(["rpm", "--root", root, "-qa", "--qf", "%{NAME}\\n"],
                             capture_output=True, text=True, check=True)
    return sorted(line for line in process.stdout.splitlines() if "xenpv-win" in line)


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.stderr.write("usage: %s DIRECTORY\n" % sys.argv[0])
        sys.exit(2)
    os.makedirs(sys.argv[1], exist_ok=True)
    sys.stdout.write(build_repository(os.path.abspath(sys.argv[1])) + "\n")
