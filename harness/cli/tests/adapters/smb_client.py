#!/usr/bin/env python3
"""An onshi-driver/1 adapter for a client that reaches the terminal folder only as a network
share, the way a clinic PC maps \\\\TERMINAL\\OQS: every file operation goes through smbclient.
The request and the reading of the result are the example adapter's; only the transport
differs. For the harness's own tests of `onshi run --smb`.

usage: smb_client.py SHARE_JSON [--in-place]
  SHARE_JSON   the share.json the harness writes (host, port, share, user, password)
  --in-place   write requests under their final name (the defect FS-REQ-ATOMIC catches)
"""
import json
import os
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "..", "..", "examples", "python-adapter"))
import adapter as example  # noqa: E402

info_path = sys.argv[1]
in_place = "--in-place" in sys.argv[2:]


class Share:
    def __init__(self, info):
        self.base = ["smbclient", "//%s/%s" % (info["host"], info["share"]), "-p", str(info["port"]),
                     "-U", "%s%%%s" % (info["user"], info["password"])]

    def run(self, commands):
        r = subprocess.run(self.base + ["-c", commands], capture_output=True, text=True, timeout=30)
        return r.returncode == 0 and "NT_STATUS_" not in r.stdout, r.stdout + r.stderr

    def exists(self, remote):
        return self.run('ls "%s"' % remote)[0]

    def put(self, local, remote):
        ok, out = self.run('put "%s" "%s"' % (local, remote))
        if not ok:
            raise IOError("smbclient put %s: %s" % (remote, out))

    def rename(self, old, new):
        ok, out = self.run('rename "%s" "%s"' % (old, new))
        if not ok:
            raise IOError("smbclient rename %s: %s" % (old, out))

    def get(self, remote, local):
        return self.run('get "%s" "%s"' % (remote, local))[0]

    def rm(self, remote):
        self.run('del "%s"' % remote)


class SmbClient:
    def __init__(self, institution_code):
        with open(info_path) as f:
            self.share = Share(json.load(f))
        self.stage = tempfile.mkdtemp(prefix="smb-client-")
        # the example's request writer, on a local staging folder
        self.local = example.FolderClient({"req": self.stage, "res": self.stage, "face": self.stage},
                                          institution_code, None)

    def confirm(self, card, date, consent, timeout_ms):
        suffix, afi = self.local.write_request(card, date, consent)
        name = "OQSsiquc01req_%s.xml" % suffix
        staged = os.path.join(self.stage, name)
        if in_place:
            self.share.put(staged, "req\\" + name)
        else:
            self.share.put(staged, "req\\.smb-%s.tmp" % suffix)
            self.share.rename("req\\.smb-%s.tmp" % suffix, "req\\" + name)
        os.remove(staged)
        res = "res\\OQSsiquc01res_%s.xml" % suffix
        err = "res\\OQSsiquc01req_%s.err" % suffix
        local = os.path.join(self.stage, "result.xml")
        deadline = time.time() + timeout_ms / 1000.0
        while time.time() < deadline:
            if self.share.exists(err):
                return {"outcome": "error", "message": "the terminal could not read the request"}
            if self.share.exists(res) and self.share.get(res, local):
                root = example.stable_parse(local, deadline)
                os.remove(local)
                if root is not None and example.text(root.find("MessageHeader"), "ArbitraryFileIdentifier") == afi:
                    self.share.rm(res)
                    return example.conclude(root)
            time.sleep(0.1)
        self.share.rm("req\\" + name)
        return {"outcome": "error", "message": "タイムアウト (no result within %d ms)" % timeout_ms}


def main():
    client = None
    for line in sys.stdin:
        if not line.strip():
            continue
        request = json.loads(line)
        rid, method, params = request.get("id"), request.get("method"), request.get("params") or {}
        if method == "initialize":
            client = SmbClient(params["environment"]["institution_code"])
            example.reply(rid, result={"client": {"name": "smb-client", "version": "1.0"},
                                       "capabilities": ["file.qualification"]})
        elif method == "reset":
            example.reply(rid, result={})
        elif method == "confirm_qualification":
            try:
                result = client.confirm(params["card"], params.get("date") or time.strftime("%Y%m%d"),
                                        params["consent_limit_certificate"], params.get("timeout_ms") or 30000)
                example.reply(rid, result=result)
            except Exception as e:  # the adapter must always answer
                example.log("confirm failed:", repr(e))
                example.reply(rid, error={"code": 1000, "message": "confirm failed: %r" % e})
        elif method == "shutdown":
            example.reply(rid, result={})
            return
        else:
            example.reply(rid, error={"code": -32601, "message": "%s is not implemented" % method})


if __name__ == "__main__":
    main()
