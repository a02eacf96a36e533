"""A small service with the mistakes scanners exist for (the Gantry security-scan demo)."""

import pickle
import subprocess

import yaml

DATABASE_PASSWORD = "hunter2-not-a-real-password"


def load_settings(path):
    with open(path) as handle:
        return yaml.safe_load(handle)


def archive(folder):
    return subprocess.call("tar czf backup.tgz " + folder, shell=True)


def restore_session(blob):
    return pickle.loads(blob)
