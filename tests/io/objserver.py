#!/usr/bin/env python3
"""objserver.py - a small object store for mpibatch's URL tests.

Serves GET (with Range), PUT, POST and DELETE of objects kept in memory on
127.0.0.1 (HTTPS with --tls), on a free port written to --port-file.  It can be told to fail
the next N requests, and it can check AWS Signature V4 for one known key,
recomputing the signature from the request as AWS documents it, and serve
the S3 multipart-upload calls.  Control endpoints (never authenticated):

  POST /_faults  {"mode": "503"|"429"|"403"|"drop"|"cut"|"slow",
                  "count": N, "method": "GET"|"PUT"|..., "delay": S}
  GET  /_stats   {"requests": {"GET": n, ...}, "ranges": [...], "log": [...]}
  POST /_reset   forget objects, faults and counts
"""
import argparse
import hashlib
import hmac
import json
import os
import re
import ssl
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

AUTH_RE = re.compile(
    r"AWS4-HMAC-SHA256 Credential=([^/]+)/(\d{8})/([^/]+)/([^/]+)/aws4_request,\s*"
    r"SignedHeaders=([^,]+),\s*Signature=([0-9a-f]{64})$")


def hmac256(key, text):
    return hmac.new(key, text.encode(), hashlib.sha256).digest()


def canonical_query(query):
    """AWS: every parameter as name=value (empty value allowed), sorted."""
    if not query:
        return ""
    params = [p if "=" in p else p + "=" for p in query.split("&")]
    return "&".join(sorted(params, key=lambda p: p.split("=", 1)))


class State:
    def __init__(self):
        self.lock = threading.Lock()
        self.reset()

    def reset(self):
        self.objects, self.uploads = {}, {}
        self.faults = []          # [mode, remaining, method or None, delay]
        self.requests, self.ranges, self.log = {}, [], []


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):
        pass

    # ---- helpers ---------------------------------------------------------
    def body(self):
        n = int(self.headers.get("Content-Length", "0") or 0)
        return self.rfile.read(n) if n else b""

    def reply(self, status, data=b"", headers=()):
        self.send_response(status)
        for k, v in headers:
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    def error(self, status, code, message):
        xml = ("<?xml version=\"1.0\" encoding=\"UTF-8\"?><Error><Code>%s</Code>"
               "<Message>%s</Message></Error>" % (code, message)).encode()
        self.reply(status, xml, [("Content-Type", "application/xml")])

    def take_fault(self):
        st = self.server.state
        with st.lock:
            for f in st.faults:
                if f[1] > 0 and (f[2] is None or f[2] == self.command):
                    f[1] -= 1
                    return f
        return None

    def check_sigv4(self):
        """None if the signature is right, else (status, code, message)."""
        auth = self.headers.get("Authorization", "")
        m = AUTH_RE.match(auth)
        if not m:
            return 403, "AccessDenied", "missing or malformed SigV4 Authorization"
        akid, date, region, service, signed, sig = m.groups()
        if akid != self.server.akid:
            return 403, "InvalidAccessKeyId", "unknown access key id"
        payload = self.headers.get("x-amz-content-sha256")
        if payload is None:
            return 400, "MissingContentSHA256", "x-amz-content-sha256 header is required"
        names = signed.split(";")
        if "host" not in names or "x-amz-content-sha256" not in names:
            return 403, "AccessDenied", "host and x-amz-content-sha256 must be signed"
        path, _, query = self.path.partition("?")
        headers = "".join("%s:%s\n" % (h, " ".join((self.headers.get(h) or "").split()))
                          for h in names)
        creq = "\n".join([self.command, path, canonical_query(query), headers, signed, payload])
        scope = "%s/%s/%s/aws4_request" % (date, region, service)
        sts = "\n".join(["AWS4-HMAC-SHA256", self.headers.get("x-amz-date", ""), scope,
                         hashlib.sha256(creq.encode()).hexdigest()])
        key = ("AWS4" + self.server.secret).encode()
        for part in (date, region, service, "aws4_request"):
            key = hmac256(key, part)
        good = hmac.new(key, sts.encode(), hashlib.sha256).hexdigest()
        if not hmac.compare_digest(good, sig):
            return 403, "SignatureDoesNotMatch", \
                "The request signature we calculated does not match the signature you provided."
        return None

    # ---- dispatch --------------------------------------------------------
    def handle_any(self):
        st = self.server.state
        path, _, query = self.path.partition("?")
        if path.startswith("/_"):
            return self.control(path)
        with st.lock:
            st.requests[self.command] = st.requests.get(self.command, 0) + 1
            st.log.append("%s %s" % (self.command, self.path))
        data = self.body() if self.command in ("PUT", "POST") else b""
        fault = self.take_fault()
        if fault and self.apply_fault(fault, path):
            return
        if self.server.akid:
            bad = self.check_sigv4()
            if bad:
                return self.error(*bad)
        if self.server.bearer and \
                self.headers.get("Authorization") != "Bearer " + self.server.bearer:
            return self.error(401, "AuthenticationRequired", "bad bearer token")
        params = dict(p.split("=", 1) if "=" in p else (p, "") for p in query.split("&") if p)
        getattr(self, "do_" + self.command.lower() + "_object")(path, params, data)

    def apply_fault(self, fault, path):
        """Act out a fault; True when the request is answered (or dropped)."""
        mode, delay = fault[0], fault[3]
        if mode == "drop":
            self.close_connection = True
            self.connection.shutdown(2)
            return True
        if mode == "slow":
            time.sleep(delay)
            return False
        if mode == "cut" and self.command == "GET":
            return self.cut(path)
        codes = {"503": "SlowDown", "429": "TooManyRequests", "500": "InternalError",
                 "403": "AccessDenied"}
        self.close_connection = True
        self.error(int(mode), codes.get(mode, "Fault"), "injected fault")
        return True

    def cut(self, path):
        """Send the headers of the answer and half its body, then hang up."""
        data = self.server.state.objects.get(path)
        if data is None:
            return False
        start, end, status = self.range_of(len(data))
        part = data[start:end]
        self.send_response(status)
        self.send_header("Content-Length", str(len(part)))
        if status == 206:
            self.send_header("Content-Range", "bytes %d-%d/%d" % (start, end - 1, len(data)))
        self.end_headers()
        self.wfile.write(part[: len(part) // 2])
        self.wfile.flush()
        self.close_connection = True
        self.connection.shutdown(2)
        return True

    def range_of(self, size):
        """(start, end, status) of the Range header for an object of size."""
        rng = self.headers.get("Range")
        if not rng or self.server.ignore_range:
            return 0, size, 200
        with self.server.state.lock:
            self.server.state.ranges.append(rng)
        m = re.match(r"bytes=(\d+)-(\d*)$", rng)
        start = int(m.group(1))
        end = min(int(m.group(2)) + 1, size) if m.group(2) else size
        return start, end, 206

    def control(self, path):
        st = self.server.state
        if path == "/_stats":
            with st.lock:
                doc = {"requests": st.requests, "ranges": st.ranges, "log": st.log}
            return self.reply(200, json.dumps(doc).encode(), [("Content-Type", "application/json")])
        if path == "/_faults":
            f = json.loads(self.body() or b"{}")
            with st.lock:
                st.faults.append([str(f["mode"]), int(f.get("count", 1)), f.get("method"),
                                  float(f.get("delay", 0))])
            return self.reply(204)
        if path == "/_reset":
            self.body()
            with st.lock:
                st.reset()
            return self.reply(204)
        return self.reply(404)

    # ---- object operations -----------------------------------------------
    def do_get_object(self, path, params, data):
        obj = self.server.state.objects.get(path)
        if obj is None:
            return self.error(404, "NoSuchKey", "The specified key does not exist.")
        start, end, status = self.range_of(len(obj))
        if start >= len(obj) and status == 206:
            return self.reply(416, b"", [("Content-Range", "bytes */%d" % len(obj))])
        headers = [("ETag", '"%s"' % hashlib.md5(obj).hexdigest())]
        if status == 206:
            headers.append(("Content-Range", "bytes %d-%d/%d" % (start, end - 1, len(obj))))
        self.reply(status, obj[start:end], headers)

    def do_put_object(self, path, params, data):
        st = self.server.state
        if "partNumber" in params:
            up = st.uploads.get(params.get("uploadId"))
            if up is None:
                return self.error(404, "NoSuchUpload", "no such upload")
            up[int(params["partNumber"])] = data
        else:
            st.objects[path] = data
        self.reply(200, b"", [("ETag", '"%s"' % hashlib.md5(data).hexdigest())])

    def do_post_object(self, path, params, data):
        st = self.server.state
        if "uploads" in params:
            uid = uuid.uuid4().hex + ".x~y"  # characters that need no encoding
            st.uploads[uid] = {}
            xml = "<InitiateMultipartUploadResult><UploadId>%s</UploadId>" \
                  "</InitiateMultipartUploadResult>" % uid
            return self.reply(200, xml.encode())
        up = st.uploads.pop(params.get("uploadId"), None)
        if up is None:
            return self.error(404, "NoSuchUpload", "no such upload")
        listed = [int(n) for n in re.findall(rb"<PartNumber>(\d+)</PartNumber>", data)]
        tags = re.findall(rb"<ETag>([^<]*)</ETag>", data)
        for n, tag in zip(listed, tags):
            if n not in up or tag.decode() != '"%s"' % hashlib.md5(up[n]).hexdigest():
                return self.reply(200, b"<Error><Code>InvalidPart</Code>"
                                       b"<Message>part mismatch</Message></Error>")
        st.objects[path] = b"".join(up[n] for n in listed)
        self.reply(200, b"<CompleteMultipartUploadResult/>")

    def do_delete_object(self, path, params, data):
        st = self.server.state
        if "uploadId" in params:
            st.uploads.pop(params["uploadId"], None)
        else:
            st.objects.pop(path, None)
        self.reply(204)

    do_GET = do_PUT = do_POST = do_DELETE = handle_any


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port-file", required=True)
    ap.add_argument("--sigv4", help="ACCESS_KEY_ID:SECRET to require")
    ap.add_argument("--bearer", help="token to require")
    ap.add_argument("--ignore-range", action="store_true")
    ap.add_argument("--tls", nargs=2, metavar=("CERT", "KEY"), help="serve HTTPS")
    args = ap.parse_args()
    srv = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    srv.daemon_threads = True
    srv.state = State()
    srv.akid, srv.secret = (args.sigv4.split(":", 1) if args.sigv4 else (None, None))
    srv.bearer = args.bearer
    srv.ignore_range = args.ignore_range
    if args.tls:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(*args.tls)
        srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
    with open(args.port_file + ".tmp", "w") as f:
        f.write(str(srv.server_address[1]))
    os.rename(args.port_file + ".tmp", args.port_file)
    srv.serve_forever()


if __name__ == "__main__":
    main()
