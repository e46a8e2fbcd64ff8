#!/usr/bin/env python3
"""An onshi-driver/1 adapter that breaks in one chosen way, for the harness's own tests.

usage: misbehaving.py MODE
  crash-on-init     prints to stderr and exits with status 3 on initialize
  hang-on-confirm   never answers confirm_qualification
  no-face           declares file.face but answers -32601 to import_face
  bad-outcome       answers confirm_qualification with outcome "ok"
  garbage           prints non-JSON lines before every answer; reports "error" for every confirmation
"""
import json
import sys
import time

mode = sys.argv[1]


def send(msg):
    if mode == "garbage":
        print("this is not JSON-RPC", flush=True)
    print(json.dumps(msg), flush=True)


for line in sys.stdin:
    req = json.loads(line)
    rid, method = req["id"], req["method"]
    if method == "initialize":
        if mode == "crash-on-init":
            print("misbehaving adapter: configuration file missing", file=sys.stderr, flush=True)
            sys.exit(3)
        caps = ["file.qualification", "file.face"]
        send({"jsonrpc": "2.0", "id": rid, "result": {"client": {"name": "misbehaving-" + mode, "version": "0"}, "capabilities": caps}})
    elif method in ("reset", "shutdown"):
        send({"jsonrpc": "2.0", "id": rid, "result": {}})
        if method == "shutdown":
            break
    elif method == "confirm_qualification":
        if mode == "hang-on-confirm":
            time.sleep(3600)
        outcome = "ok" if mode == "bad-outcome" else "error"
        send({"jsonrpc": "2.0", "id": rid, "result": {"outcome": outcome, "message": "misbehaving"}})
    elif method == "import_face" and mode == "no-face":
        send({"jsonrpc": "2.0", "id": rid, "error": {"code": -32601, "message": "import_face is not implemented"}})
    else:
        send({"jsonrpc": "2.0", "id": rid, "error": {"code": -32601, "message": method + " is not implemented"}})
