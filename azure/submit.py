#!/usr/bin/env python3
"""Fill in the Azure Batch templates (pool.json, job.json, task.json) from a
few parameters and submit them with the `az batch` CLI when it is present.

    python3 azure/submit.py --source-url URL --job-spec-url URL \\
        --output-url URL [--nodes 2] [--vm-size Standard_HB120rs_v3] \\
        [--low-priority] [--pool-id ID] [--job-id ID] [--task-id ID] \\
        [--ssh-key FILE] [--out DIR] [--dry-run]

The URLs are blob URLs with SAS tokens: the source tarball (`make dist`),
the JSON job spec, and the container that receives the HDF5 output, the
report and the task's logs. The MPI task runs as the pool's user `mpi`,
whose SSH key Batch installs on every node for mpirun: FILE (a private key
without a passphrase), or a new one from ssh-keygen in DIR; its password is
random. The filled-in files go to DIR (default
./azure-batch); without `az` on PATH, or with --dry-run, the script prints the
az commands instead of running them. Log in first: `az login` and
`az batch account login -g GROUP -n ACCOUNT`.
"""
import argparse
import json
import os
import secrets
import shutil
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))


def load(name):
    with open(os.path.join(HERE, name)) as f:
        return json.load(f)


def ssh_key(args):
    """The MPI user's private key: --ssh-key, or a new RSA key in --out."""
    path = args.ssh_key
    if path is None:
        path = os.path.join(args.out, "mpi_key")
        if not os.path.exists(path):
            if shutil.which("ssh-keygen") is None:
                sys.exit("submit.py: no ssh-keygen: pass --ssh-key FILE")
            subprocess.run(["ssh-keygen", "-q", "-t", "rsa", "-b", "4096", "-m", "PEM", "-N", "",
                            "-C", "mpibatch-batch-mpi", "-f", path], check=True)
    with open(path) as f:
        return f.read()


def fill(args):
    """The three request bodies, filled in from ARGS."""
    pool, job, task = load("pool.json"), load("job.json"), load("task.json")
    for user in pool["userAccounts"]:
        user["password"] = secrets.token_urlsafe(24)
        user["linuxUserConfiguration"]["sshPrivateKey"] = ssh_key(args)
    pool["id"] = args.pool_id
    pool["vmSize"] = args.vm_size
    pool["targetDedicatedNodes"] = 0 if args.low_priority else args.nodes
    pool["targetLowPriorityNodes"] = args.nodes if args.low_priority else 0
    pool["startTask"]["resourceFiles"][0]["httpUrl"] = args.source_url
    job["id"] = args.job_id
    job["poolInfo"]["poolId"] = args.pool_id
    task["id"] = args.task_id
    task["multiInstanceSettings"]["numberOfInstances"] = args.nodes
    task["resourceFiles"][0]["httpUrl"] = args.job_spec_url
    for out in task["outputFiles"]:
        container = out["destination"]["container"]
        container["containerUrl"] = args.output_url
        tail = container["path"].split("/", 2)[2:]  # "logs" for the logs
        container["path"] = "/".join([args.job_id, args.task_id] + tail)
    return pool, job, task


def main(argv):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--source-url", required=True, help="SAS URL of the source tarball")
    p.add_argument("--job-spec-url", required=True, help="SAS URL of the JSON job spec")
    p.add_argument("--output-url", required=True, help="SAS URL of the output container")
    p.add_argument("--nodes", type=int, default=2, help="nodes in the pool and the MPI task")
    p.add_argument("--vm-size", default="Standard_HB120rs_v3")
    p.add_argument("--low-priority", action="store_true",
                   help="low-priority (spot) nodes instead of dedicated ones")
    p.add_argument("--pool-id", default="mpibatch-pool")
    p.add_argument("--job-id", default="mpibatch-job")
    p.add_argument("--task-id", default="mpibatch-task")
    p.add_argument("--ssh-key", help="private key of the MPI user (default: a new one)")
    p.add_argument("--out", default="azure-batch", help="where the filled-in files go")
    p.add_argument("--dry-run", action="store_true", help="print the az commands, run nothing")
    args = p.parse_args(argv)
    if args.nodes < 1:
        p.error("--nodes must be at least 1")

    os.makedirs(args.out, exist_ok=True)
    paths = []
    for name, body in zip(("pool", "job", "task"), fill(args)):
        path = os.path.join(args.out, name + ".json")
        with open(path, "w") as f:
            json.dump(body, f, indent=2)
            f.write("\n")
        paths.append(path)
    commands = [
        ["az", "batch", "pool", "create", "--json-file", paths[0]],
        ["az", "batch", "job", "create", "--json-file", paths[1]],
        ["az", "batch", "task", "create", "--job-id", args.job_id, "--json-file", paths[2]],
    ]
    if args.dry_run or shutil.which("az") is None:
        if not args.dry_run:
            print("submit.py: az not found; the commands to run:")
        for c in commands:
            print(" ".join(c))
        return 0
    for c in commands:
        print("+ " + " ".join(c), flush=True)
        subprocess.run(c, check=True)
    print("submitted; follow it with: az batch task show --job-id %s --task-id %s"
          % (args.job_id, args.task_id))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
