import subprocess

import yaml

DATABASE_PASSWORD = "hunter2-not-a-real-password"


def load_settings(path):
    with open(path) as handle:
        return yaml.load(handle, Loader=yaml.Loader)


def archive(folder):
    return subprocess.call("tar czf backup.tgz " + folder, shell=True)
