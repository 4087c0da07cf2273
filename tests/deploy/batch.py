#!/usr/bin/env python3
"""Checks of the Azure Batch templates for tests/deploy/azure.sh.

    batch.py validate SRCDIR DIR     DIR/{pool,job,task}.json against the
                                     REST API schemas and each other
    batch.py run DIR WORK [HOSTS [MASTER]]
                                     run the job preparation, coordination and
                                     MPI command lines here as a Batch node
                                     would, with AZ_BATCH_* set (host list
                                     HOSTS, default 127.0.0.1; primary node
                                     MASTER, default the first host), the
                                     task's resource files taken from
                                     WORK/resources; prints the task working
                                     directory

Exits 1 with a message on the first failed check.
"""
import glob
import json
import os
import re
import shlex
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
RDMA_SIZE = re.compile(r"^Standard_(H|HB|HC|HX|ND)\d+[a-z]*r[a-z]*(_v\d+)?$")


def die(msg):
    sys.exit("batch.py: " + msg)


def load(path):
    try:
        with open(path) as f:
            return json.load(f)
    except (OSError, ValueError) as e:
        die("%s: %s" % (path, e))


def schema_check(pool, job, task):
    try:
        import jsonschema
    except ImportError:
        print("NOTE: python3-jsonschema missing: REST schema checks skipped")
        return
    schema = load(os.path.join(HERE, "batch-schema.json"))
    for name, body in (("pool", pool), ("job", job), ("task", task)):
        sub = dict(schema, **{"$ref": "#/definitions/" + name})
        errors = sorted(jsonschema.Draft7Validator(sub).iter_errors(body), key=str)
        if errors:
            e = errors[0]
            die("%s.json: %s at %s" % (name, e.message, "/".join(map(str, e.absolute_path))))


def validate(srcdir, d):
    pool, job, task = (load(os.path.join(d, n + ".json")) for n in ("pool", "job", "task"))
    schema_check(pool, job, task)
    if job["poolInfo"].get("poolId") != pool["id"]:
        die("job.poolInfo.poolId %r is not the pool's id %r" % (job["poolInfo"].get("poolId"), pool["id"]))
    nodes = pool.get("targetDedicatedNodes", 0) + pool.get("targetLowPriorityNodes", 0)
    if not 1 <= task["multiInstanceSettings"]["numberOfInstances"] <= nodes:
        die("numberOfInstances %d does not fit the pool's %d nodes"
            % (task["multiInstanceSettings"]["numberOfInstances"], nodes))
    if not RDMA_SIZE.match(pool["vmSize"]):
        die("vmSize %s is not an RDMA-capable HPC size" % pool["vmSize"])
    # mpirun reaches the other nodes over SSH as a pool user whose key Batch
    # installs (only named users with sshPrivateKey get one).
    keyed = {u["name"] for u in pool.get("userAccounts", [])
             if u.get("linuxUserConfiguration", {}).get("sshPrivateKey")}
    for name, t in (("task", task), ("jobPreparationTask", job["jobPreparationTask"])):
        user = t.get("userIdentity", {}).get("username")
        if user not in keyed:
            die("%s runs as %r, not a pool user with an SSH key" % (name, user))
    start = pool["startTask"]
    if start.get("userIdentity", {}).get("autoUser", {}).get("elevationLevel") != "admin":
        die("the start task installs packages: it must run as admin")
    if not start.get("waitForSuccess"):
        die("the start task must finish before tasks run (waitForSuccess)")
    # Every resource file is used by its command line, and every script the
    # command lines name exists in the source tree.
    for where, cmd, files in (("startTask", start["commandLine"], start.get("resourceFiles", [])),
                              ("task", task["commandLine"], task.get("resourceFiles", []))):
        for rf in files:
            if rf["filePath"] not in cmd:
                die("%s: resource file %s is not used by its command line" % (where, rf["filePath"]))
    for cmd in (start["commandLine"], job["jobPreparationTask"]["commandLine"],
                task["commandLine"], task["multiInstanceSettings"]["coordinationCommandLine"]):
        argv = shlex.split(cmd)
        if argv[:2] != ["/bin/bash", "-c"] or len(argv) != 3:
            die("command line is not /bin/bash -c '...': %s" % cmd)
        for script in re.findall(r"src/([\w/.-]+\.sh)", argv[2]):
            if not os.path.isfile(os.path.join(srcdir, script)):
                die("%s named by a command line does not exist" % script)
    if "mpirun" not in task["commandLine"] or "$AZ_BATCH_HOST_LIST" not in task["commandLine"]:
        die("the MPI task does not run mpirun over $AZ_BATCH_HOST_LIST")
    conditions = {o["filePattern"]: o["uploadOptions"]["uploadCondition"] for o in task["outputFiles"]}
    if not any(c in ("tasksuccess", "taskcompletion") for c in conditions.values()):
        die("no output file is uploaded when the task succeeds")
    print("%s: pool, job and task are valid (%d nodes of %s)" % (d, nodes, pool["vmSize"]))


def batch_env(work, job, task_id, task_dir, hosts, master):
    """The environment Batch gives a task on the primary node."""
    root = os.path.join(work, "batch")
    env = dict(os.environ)
    env.update({
        "AZ_BATCH_ACCOUNT_NAME": "testaccount",
        "AZ_BATCH_POOL_ID": "mpibatch-pool",
        "AZ_BATCH_NODE_ID": "tvmps_0000000000000000000000000000000000000000000000000000000000000000_d",
        "AZ_BATCH_NODE_IS_DEDICATED": "true",
        "AZ_BATCH_NODE_ROOT_DIR": root,
        "AZ_BATCH_NODE_SHARED_DIR": os.path.join(root, "shared"),
        "AZ_BATCH_NODE_STARTUP_DIR": os.path.join(root, "startup"),
        "AZ_BATCH_JOB_ID": job["id"],
        "AZ_BATCH_JOB_PREP_DIR": os.path.join(root, "workitems", job["id"], "job-1", "jobpreparation"),
        "AZ_BATCH_JOB_PREP_WORKING_DIR": os.path.join(root, "workitems", job["id"], "job-1",
                                                      "jobpreparation", "wd"),
        "AZ_BATCH_TASK_ID": task_id,
        "AZ_BATCH_TASK_DIR": task_dir,
        "AZ_BATCH_TASK_WORKING_DIR": os.path.join(task_dir, "wd"),
        "AZ_BATCH_TASK_SHARED_DIR": task_dir,
        "AZ_BATCH_HOST_LIST": hosts,
        "AZ_BATCH_NODE_LIST": hosts.replace(",", ";"),
        "AZ_BATCH_MASTER_NODE": master + ":6000",
        "AZ_BATCH_IS_CURRENT_NODE_MASTER": "true",
    })
    for key in ("AZ_BATCH_NODE_SHARED_DIR", "AZ_BATCH_NODE_STARTUP_DIR", "AZ_BATCH_TASK_WORKING_DIR"):
        os.makedirs(env[key], exist_ok=True)
    return env


def run_one(name, cmd, env, task_dir):
    """Run CMD as Batch does (no shell: split into words, then exec) in the
    task's working directory, stdout.txt and stderr.txt in its task dir."""
    with open(os.path.join(task_dir, "stdout.txt"), "ab") as out, \
            open(os.path.join(task_dir, "stderr.txt"), "ab") as err:
        rc = subprocess.run(shlex.split(cmd), cwd=env["AZ_BATCH_TASK_WORKING_DIR"], env=env,
                            stdout=out, stderr=err, timeout=120).returncode
    if rc != 0:
        with open(os.path.join(task_dir, "stderr.txt")) as f:
            die("%s exited %d: %s" % (name, rc, f.read()[-800:]))


def run(d, work, hosts, master):
    job, task = load(os.path.join(d, "job.json")), load(os.path.join(d, "task.json"))
    prep = job["jobPreparationTask"]
    prep_dir = os.path.join(work, "batch", "workitems", job["id"], "job-1", "jobpreparation")
    env = batch_env(work, job, prep["id"], prep_dir, hosts, master)
    run_one("jobPreparationTask", prep["commandLine"], env, env["AZ_BATCH_TASK_DIR"])
    task_dir = os.path.join(work, "batch", "workitems", job["id"], "job-1", task["id"])
    env = batch_env(work, job, task["id"], task_dir, hosts, master)
    # The resource files Batch would have downloaded: the caller put them in WORK/resources.
    for rf in task.get("resourceFiles", []):
        src = os.path.join(work, "resources", os.path.basename(rf["filePath"]))
        with open(src, "rb") as f, open(os.path.join(env["AZ_BATCH_TASK_WORKING_DIR"],
                                                     rf["filePath"]), "wb") as g:
            g.write(f.read())
    run_one("coordinationCommandLine", task["multiInstanceSettings"]["coordinationCommandLine"],
            env, task_dir)
    run_one("commandLine", task["commandLine"], env, task_dir)
    wd = env["AZ_BATCH_TASK_WORKING_DIR"]
    # What the outputFiles would upload on success.
    for o in task["outputFiles"]:
        if o["uploadOptions"]["uploadCondition"] == "taskfailure":
            continue
        found = glob.glob(os.path.join(wd, o["filePattern"]))
        if not found:
            die("outputFiles pattern %s matches nothing in %s" % (o["filePattern"], wd))
        for f in found:
            print("upload %s -> %s/%s" % (os.path.relpath(f, wd), o["destination"]["container"].get("path", ""),
                                          os.path.basename(f)), file=sys.stderr)
    print(wd)


def main(argv):
    if len(argv) == 3 and argv[0] == "validate":
        validate(argv[1], argv[2])
    elif len(argv) in (3, 4, 5) and argv[0] == "run":
        hosts = argv[3] if len(argv) >= 4 else "127.0.0.1"
        run(argv[1], argv[2], hosts, argv[4] if len(argv) == 5 else hosts.split(",")[0])
    else:
        die("usage: batch.py validate SRCDIR DIR | run DIR WORK [HOSTS [MASTER]]")


if __name__ == "__main__":
    main(sys.argv[1:])
