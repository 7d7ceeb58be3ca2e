"""Stand-in for the get-pip.py that ansible-test's venv bootstrap downloads from ci-files.testing.ansible.com.

That host is unreachable from our CI machines; ansible-test uses a script it finds in its cache
(~/.ansible/test/cache/get_pip_<version>.py) instead of downloading one, and scripts/ansible-test-sanity.sh
places this file there. It does what get-pip.py does: run a bootstrap pip, here from the pip wheel that
script fetched from PyPI into the same directory, to `pip install --upgrade --force-reinstall` the packages
ansible-test asks for (its pinned pip).
"""
import glob
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
# get-pip.py options with no pip equivalent: this bootstrap installs neither setuptools nor wheel anyway.
GET_PIP_ONLY_OPTIONS = ("--no-setuptools", "--no-wheel")


def main():
    wheels = sorted(glob.glob(os.path.join(HERE, "pip-*-py3-none-any.whl")))
    if not wheels:
        sys.exit("no pip wheel in %s: run scripts/ansible-test-sanity.sh to fetch it from PyPI" % HERE)
    sys.path.insert(0, wheels[-1])
    from pip._internal.cli.main import main as pip_main  # pylint: disable=import-outside-toplevel

    arguments = [argument for argument in sys.argv[1:] if argument not in GET_PIP_ONLY_OPTIONS]
    sys.exit(pip_main(["install", "--upgrade", "--force-reinstall", "--find-links", HERE] + arguments))


if __name__ == "__main__":
    main()
