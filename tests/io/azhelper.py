#!/usr/bin/env python3
"""azhelper.py - set-up steps for the Azurite test that mpibatch cp does
not do itself, written from Microsoft's REST documentation independently
of src/io/sign.c:

  azhelper.py container ENDPOINT ACCOUNT KEY NAME   create a container (shared key)
  azhelper.py sas ACCOUNT KEY                       print an account SAS (sv=2019-12-12)
"""
import base64
import hashlib
import hmac
import sys
import time
import urllib.request
from email.utils import formatdate


def sign(key, text):
    mac = hmac.new(base64.b64decode(key), text.encode(), hashlib.sha256).digest()
    return base64.b64encode(mac).decode()


def container(endpoint, account, key, name):
    url = "%s/%s?restype=container" % (endpoint.rstrip("/"), name)
    path = urllib.request.urlparse(url).path
    date = formatdate(time.time(), usegmt=True)
    sts = "PUT\n\n\n\n\ntext/plain\n\n\n\n\n\n\nx-ms-date:%s\nx-ms-version:2021-08-06\n/%s%s\nrestype:container" \
        % (date, account, path)
    req = urllib.request.Request(url, method="PUT", data=b"", headers={
        "x-ms-date": date, "x-ms-version": "2021-08-06", "Content-Type": "text/plain",
        "Authorization": "SharedKey %s:%s" % (account, sign(key, sts))})
    urllib.request.urlopen(req, timeout=10).read()


def sas(account, key):
    fields = {"sv": "2019-12-12", "ss": "b", "srt": "sco", "sp": "rwdlac",
              "st": "2020-01-01T00:00:00Z", "se": "2099-01-01T00:00:00Z", "spr": "https,http"}
    sts = "\n".join([account, fields["sp"], fields["ss"], fields["srt"], fields["st"],
                     fields["se"], "", fields["spr"], fields["sv"], ""])
    fields["sig"] = sign(key, sts)
    print("&".join("%s=%s" % (k, urllib.request.quote(v, safe="")) for k, v in fields.items()))


if __name__ == "__main__":
    if sys.argv[1] == "container":
        container(*sys.argv[2:6])
    else:
        sas(*sys.argv[2:4])
