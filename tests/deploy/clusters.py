#!/usr/bin/env python3
"""Checks of the CfnCluster INI and the ParallelCluster 3 YAML for
tests/deploy/cfncluster.sh: they parse, carry the keys their tools require,
hold sensible values, and every file they reference exists in SRCDIR.

    clusters.py ini SRCDIR FILE
    clusters.py yaml SRCDIR FILE

Exits 1 with a message on the first failed check.
"""
import configparser
import os
import re
import sys

# Instance types with EFA (a few families; see the EC2 documentation).
EFA_TYPES = re.compile(r"^(c5n\.(18xlarge|9xlarge|metal)|c6in\.32xlarge|c7gn\.16xlarge|"
                       r"hpc6a\.48xlarge|hpc6id\.32xlarge|hpc7a\.\d+xlarge|hpc7g\.\d+xlarge|"
                       r"m5n\.24xlarge|r5n\.24xlarge|p4d\.24xlarge|p5\.48xlarge)$")
NAME = re.compile(r"^[a-z][a-z0-9-]{0,24}$")


def die(msg):
    sys.exit("clusters.py: " + msg)


def need(cond, msg):
    if not cond:
        die(msg)


def script_exists(srcdir, url):
    """An s3:// or https:// script URL names a file of the cfncluster folder."""
    need(re.match(r"^(s3|https)://[^/]+/.+", url), "not an s3:// or https:// URL: %s" % url)
    name = url.rsplit("/", 1)[1]
    need(os.path.isfile(os.path.join(srcdir, "cfncluster", name)),
         "%s names cfncluster/%s, which does not exist" % (url, name))


def check_ini(srcdir, path):
    c = configparser.ConfigParser(interpolation=None)
    need(c.read(path) == [path], "%s: unreadable" % path)
    need(c.has_option("aws", "aws_region_name"), "[aws] aws_region_name missing")
    need(c.has_option("global", "cluster_template"), "[global] cluster_template missing")
    sec = "cluster " + c["global"]["cluster_template"]
    need(c.has_section(sec), "[%s] missing (cluster_template)" % sec)
    cl = c[sec]
    for key in ("key_name", "vpc_settings", "scheduler", "base_os", "compute_instance_type",
                "master_instance_type", "initial_queue_size", "max_queue_size",
                "maintain_initial_size", "post_install"):
        need(key in cl, "[%s] %s missing" % (sec, key))
    need(cl["scheduler"] == "slurm", "scheduler is %s, not slurm" % cl["scheduler"])
    need(re.match(r"^ubuntu(1804|2004)$", cl["base_os"]),
         "base_os %s: bootstrap.sh needs apt and libcjson-dev (ubuntu2004)" % cl["base_os"])
    initial, most = cl.getint("initial_queue_size"), cl.getint("max_queue_size")
    need(1 <= initial <= most, "initial_queue_size %d, max_queue_size %d" % (initial, most))
    need(cl.getboolean("maintain_initial_size") in (True, False), "maintain_initial_size")
    need(re.match(r"^[a-z]\w*\.\w+$", cl["compute_instance_type"]), "compute_instance_type")
    script_exists(srcdir, cl["post_install"])
    if "post_install_args" in cl:
        need(cl["post_install_args"].strip('"').endswith(".tar.gz"), "post_install_args: a tarball")
    vpc = "vpc " + cl["vpc_settings"]
    need(c.has_section(vpc), "[%s] missing (vpc_settings)" % vpc)
    for key in ("vpc_id", "master_subnet_id"):
        need(key in c[vpc], "[%s] %s missing" % (vpc, key))
    need(re.match(r"^vpc-[0-9a-f]+$", c[vpc]["vpc_id"]), "vpc_id")
    need(re.match(r"^subnet-[0-9a-f]+$", c[vpc]["master_subnet_id"]), "master_subnet_id")
    print("%s: [%s], %d x %s, scheduler slurm" % (path, sec, initial, cl["compute_instance_type"]))


def actions(srcdir, where, ca, buckets):
    """A CustomActions block: OnNodeConfigured runs bootstrap.sh from a bucket
    the node may read."""
    need(isinstance(ca, dict) and "OnNodeConfigured" in ca, "%s: no CustomActions/OnNodeConfigured" % where)
    act = ca["OnNodeConfigured"]
    need("Script" in act, "%s: OnNodeConfigured has no Script" % where)
    script_exists(srcdir, act["Script"])
    for url in [act["Script"]] + list(act.get("Args", [])):
        if url.startswith("s3://"):
            need(url.split("/")[2] in buckets, "%s: %s is in no S3Access bucket" % (where, url))


def check_yaml(srcdir, path):
    try:
        import yaml
    except ImportError:
        print("NOTE: python3-yaml missing: %s not checked" % path)
        return
    with open(path) as f:
        c = yaml.safe_load(f)
    need(isinstance(c, dict), "not a mapping")
    known = {"Region", "Image", "HeadNode", "Scheduling", "SharedStorage", "Tags", "Monitoring",
             "AdditionalPackages", "Iam", "DirectoryService", "CustomS3Bucket", "Imds",
             "DeploymentSettings", "LoginNodes", "AdditionalResources", "DevSettings"}
    need(set(c) <= known, "unknown top-level keys %s" % sorted(set(c) - known))
    for key in ("Image", "HeadNode", "Scheduling"):
        need(key in c, "%s missing" % key)
    need(c["Image"].get("Os") in ("ubuntu2004", "ubuntu2204", "ubuntu2404"),
         "Image/Os %s: bootstrap.sh needs an Ubuntu" % c["Image"].get("Os"))
    head = c["HeadNode"]
    need("InstanceType" in head, "HeadNode/InstanceType missing")
    need(re.match(r"^subnet-[0-9a-f]+$", head.get("Networking", {}).get("SubnetId", "")),
         "HeadNode/Networking/SubnetId missing")
    bucket_list = head.get("Iam", {}).get("S3Access", [])
    actions(srcdir, "HeadNode", head.get("CustomActions"), {b["BucketName"] for b in bucket_list})
    s = c["Scheduling"]
    need(s.get("Scheduler") == "slurm", "Scheduling/Scheduler is not slurm")
    queues = s.get("SlurmQueues")
    need(isinstance(queues, list) and queues, "Scheduling/SlurmQueues missing")
    names = [q.get("Name") for q in queues]
    need(len(set(names)) == len(names), "queue names repeat")
    efa = 0
    for q in queues:
        where = "queue %s" % q.get("Name")
        need(NAME.match(q.get("Name", "")), "%s: bad name" % where)
        need(q.get("CapacityType", "ONDEMAND") in ("ONDEMAND", "SPOT", "CAPACITY_BLOCK"), where)
        subnets = q.get("Networking", {}).get("SubnetIds")
        need(isinstance(subnets, list) and len(subnets) >= 1, "%s: Networking/SubnetIds missing" % where)
        crs = q.get("ComputeResources")
        need(isinstance(crs, list) and crs, "%s: ComputeResources missing" % where)
        for cr in crs:
            cw = "%s/%s" % (where, cr.get("Name"))
            need(NAME.match(cr.get("Name", "")), "%s: bad name" % cw)
            need("InstanceType" in cr or "Instances" in cr, "%s: InstanceType missing" % cw)
            need(0 <= cr.get("MinCount", 0) <= cr.get("MaxCount", 10), "%s: MinCount > MaxCount" % cw)
            if cr.get("Efa", {}).get("Enabled"):
                efa += 1
                need(EFA_TYPES.match(cr.get("InstanceType", "")), "%s: %s has no EFA" % (cw, cr.get("InstanceType")))
                need(q.get("Networking", {}).get("PlacementGroup", {}).get("Enabled"),
                     "%s: EFA without a placement group" % cw)
        buckets = {b["BucketName"] for b in q.get("Iam", {}).get("S3Access", [])}
        actions(srcdir, where, q.get("CustomActions"), buckets)
    need(efa >= 1, "no compute resource with EFA")
    storage = c.get("SharedStorage", [])
    need(storage and all({"MountDir", "Name", "StorageType"} <= set(x) for x in storage),
         "SharedStorage needs MountDir, Name and StorageType")
    print("%s: %d queues (%s), %d with EFA, shared %s" % (path, len(queues), ", ".join(names), efa,
                                                         ", ".join(x["MountDir"] for x in storage)))


def main(argv):
    if len(argv) == 3 and argv[0] == "ini":
        check_ini(argv[1], argv[2])
    elif len(argv) == 3 and argv[0] == "yaml":
        check_yaml(argv[1], argv[2])
    else:
        die("usage: clusters.py ini|yaml SRCDIR FILE")


if __name__ == "__main__":
    main(sys.argv[1:])
