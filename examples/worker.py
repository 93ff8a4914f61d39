#!/usr/bin/env python3
"""A persistent worker for `headroom run --worker` (docs/worker-protocol.md).

It loads its "model" once (sleeps HEADROOM_EXAMPLE_LOAD_MS), then answers
requests from stdin until EOF: for each input it sleeps
HEADROOM_EXAMPLE_MS_PER_INPUT and copies the input to its output. An input
whose name contains "oom" is answered as out of memory; one containing
"crash" makes the worker exit 3 mid-request (both for tests).

    headroom run --worker --output-dir out --input-dir in -- python3 worker.py
"""
import json
import os
import shutil
import sys
import time


def sleep_ms(variable):
    time.sleep(int(os.environ.get(variable, "0")) / 1000)


def serve(request):
    for path, out in zip(request["inputs"], request["outputs"]):
        if "crash" in path:
            sys.exit(3)
        if "oom" in path:
            return {"ok": False, "oom": True, "error": f"out of memory on {path}"}
        sleep_ms("HEADROOM_EXAMPLE_MS_PER_INPUT")
        if out is not None:
            # Names that are not UTF-8 arrive surrogate-escaped: fsencode
            # gives their bytes back.
            shutil.copyfile(os.fsencode(path), os.fsencode(out))
    return {"ok": True}


def main():
    sleep_ms("HEADROOM_EXAMPLE_LOAD_MS")  # load the model, once
    gpu = os.environ.get("CUDA_VISIBLE_DEVICES", "-")
    print(f"worker {os.getpid()} ready, slot {os.environ.get('HEADROOM_SLOT')}, gpu {gpu}",
          file=sys.stderr, flush=True)
    for line in sys.stdin:  # EOF: headroom says exit now
        request = json.loads(line)
        try:
            reply = serve(request)
        except OSError as error:
            reply = {"ok": False, "error": str(error)}
        reply["id"] = request["id"]
        print(json.dumps(reply), flush=True)


if __name__ == "__main__":
    main()
