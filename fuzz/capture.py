#!/usr/bin/env python3
"""Captures the request frames REAL Kafka clients send, for the fuzzers' seed corpus.

Three uses:

  capture.py proxy --listen 127.0.0.1:P --upstream 127.0.0.1:Q --out DIR
      A TCP proxy: every client->broker request frame is written to DIR/frames/ (one file per
      distinct frame, named `<api key>-v<version>-<sha1 prefix>`, holding the frame WITHOUT
      its 4-byte size: what the `request` fuzz target takes).

  CAPTURE_OUT=DIR CAPTURE_WEIR_BIN=target/release/weir capture.py --listeners 127.0.0.1:P ...
      A stand-in for the weir binary (point WEIR_BIN at this file and run a compat suite
      unchanged): starts the real weir on a free port with `--advertised-listeners
      127.0.0.1:P` (so clients come back through the proxy after Metadata) and proxies P to
      it. SIGTERM is passed on to weir; when weir has stopped, the small segment files of its
      data dir are copied to DIR/segments/. weir dies with this process (PR_SET_PDEATHSIG),
      so a test's kill -9 reaches the real broker too.

  capture.py seeds --out DIR --corpus fuzz/corpus [--max-len N]
      Turns a capture into seed corpora: request/ (the frames), frame/ (the frames with their
      size prefix), record_batch/ (every record batch of the captured Produce requests, one
      per file, and of the captured segments), segment_recovery/ (the small captured `.log`
      files, behind the target's mode byte), index/ (the captured `.index`/`.timeindex` pairs
      with their `.log`, in the target's container format).

Only 127.0.0.1 is ever bound or dialled.
"""
import argparse
import ctypes
import hashlib
import os
import shutil
import signal
import socket
import struct
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                                "compat-tests"))
import weir_compat as wc  # noqa: E402  (its free_port; it imports no Kafka client)

MAX_FRAME = 100 * 1024 * 1024


# ---------------------------------------------------------------- proxy
def recv_exact(sock, n):
    buf = bytearray()
    while len(buf) < n:
        chunk = sock.recv(n - len(buf))
        if not chunk:
            return None
        buf += chunk
    return bytes(buf)


def save_frame(out_dir, frame):
    if len(frame) < 4:
        return
    key, version = struct.unpack(">hh", frame[:4])
    digest = hashlib.sha1(frame).hexdigest()[:16]
    path = os.path.join(out_dir, "frames", f"{key:02d}-v{version}-{digest}")
    if not os.path.exists(path):
        tmp = f"{path}.{os.getpid()}.{threading.get_ident()}.tmp"
        with open(tmp, "wb") as f:
            f.write(frame)
        os.replace(tmp, path)


def pump_requests(client, upstream, out_dir):
    """client -> broker, frame by frame, saving each."""
    try:
        while True:
            head = recv_exact(client, 4)
            if head is None:
                break
            (size,) = struct.unpack(">i", head)
            if size <= 0 or size > MAX_FRAME:
                upstream.sendall(head)  # let the broker refuse it; stop parsing
                shutil.copyfileobj(client.makefile("rb"), upstream.makefile("wb"))
                break
            body = recv_exact(client, size)
            if body is None:
                break
            save_frame(out_dir, body)
            upstream.sendall(head + body)
    except OSError:
        pass
    finally:
        shut_both(upstream, client)


def shut_both(*socks):
    """Shuts both directions of every socket, so the other pump ends too."""
    for s in socks:
        try:
            s.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass


def pump_responses(upstream, client):
    try:
        while True:
            data = upstream.recv(65536)
            if not data:
                break
            client.sendall(data)
    except OSError:
        pass
    finally:
        shut_both(upstream, client)


def serve(listener, upstream_addr, out_dir):
    os.makedirs(os.path.join(out_dir, "frames"), exist_ok=True)
    while True:
        try:
            client, _ = listener.accept()
        except OSError:
            return
        try:
            upstream = socket.create_connection(upstream_addr, timeout=10)
            upstream.settimeout(None)
        except OSError:
            client.close()
            continue
        for s in (client, upstream):
            s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        threading.Thread(target=pump_requests, args=(client, upstream, out_dir), daemon=True).start()
        threading.Thread(target=pump_responses, args=(upstream, client), daemon=True).start()


def loopback(addr):
    host, port = addr.rsplit(":", 1)
    if host not in ("127.0.0.1", "localhost"):
        raise SystemExit(f"only 127.0.0.1 is allowed, not {host}")
    return ("127.0.0.1", int(port))


def listen(addr):
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(addr)
    s.listen(512)
    return s


def cmd_proxy(args):
    serve(listen(loopback(args.listen)), loopback(args.upstream), args.out)


# ---------------------------------------------------------------- weir stand-in
def die_with_parent():
    """In the child: SIGKILL when the parent (this stand-in) dies."""
    libc = ctypes.CDLL("libc.so.6", use_errno=True)
    libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG


def copy_segments(data_dir, out_dir, limit=256 * 1024):
    """Copies every small, non-empty segment (.log with its indexes) of a stopped broker."""
    dest = os.path.join(out_dir, "segments")
    for root, _, files in os.walk(data_dir):
        for name in files:
            if not name.endswith(".log") or len(name) != 24:
                continue
            path = os.path.join(root, name)
            size = os.path.getsize(path)
            if size == 0 or size > limit:
                continue
            with open(path, "rb") as f:
                digest = hashlib.sha1(f.read()).hexdigest()[:16]
            target = os.path.join(dest, digest)
            if os.path.exists(target):
                continue
            os.makedirs(target, exist_ok=True)
            base = name[:-4]
            for suffix in (".log", ".index", ".timeindex"):
                src = os.path.join(root, base + suffix)
                if os.path.exists(src):
                    shutil.copyfile(src, os.path.join(target, base + suffix))


def cmd_weir(argv, out_dir, weir_bin):
    args = list(argv)
    try:
        i = args.index("--listeners")
    except ValueError:
        raise SystemExit("capture stand-in: --listeners is required")
    public = loopback(args[i + 1])
    data_dir = args[args.index("--data-dir") + 1] if "--data-dir" in args else None
    inner = wc.free_port()
    args[i + 1] = f"127.0.0.1:{inner}"
    args += ["--advertised-listeners", f"127.0.0.1:{public[1]}"]
    child = subprocess.Popen([weir_bin] + args, preexec_fn=die_with_parent)

    def forward(signum, _frame):
        if child.poll() is None:
            child.send_signal(signum)

    signal.signal(signal.SIGTERM, forward)
    signal.signal(signal.SIGINT, forward)
    # Bind the public port only once weir accepts, as a real broker would.
    deadline = time.monotonic() + 60
    while child.poll() is None and time.monotonic() < deadline:
        with socket.socket() as s:
            s.settimeout(0.2)
            if s.connect_ex(("127.0.0.1", inner)) == 0:
                break
        time.sleep(0.05)
    if child.poll() is None:
        listener = listen(public)
        threading.Thread(target=serve, args=(listener, ("127.0.0.1", inner), out_dir), daemon=True).start()
    while True:
        try:
            rc = child.wait()
            break
        except InterruptedError:
            continue
    if data_dir:
        try:
            copy_segments(data_dir, out_dir)
        except OSError:
            pass
    sys.exit(rc if rc >= 0 else 128 - rc)


# ---------------------------------------------------------------- seeds
class Reader:
    def __init__(self, data):
        self.d = data
        self.p = 0

    def take(self, n):
        if n < 0 or self.p + n > len(self.d):
            raise ValueError("truncated")
        b = self.d[self.p:self.p + n]
        self.p += n
        return b

    def i16(self):
        return struct.unpack(">h", self.take(2))[0]

    def i32(self):
        return struct.unpack(">i", self.take(4))[0]

    def uvarint(self):
        v, shift = 0, 0
        while True:
            b = self.take(1)[0]
            v |= (b & 0x7F) << shift
            if not b & 0x80:
                return v
            shift += 7

    def string(self, flexible):
        n = self.uvarint() - 1 if flexible else self.i16()
        return None if n < 0 else self.take(n)

    def bytes_(self, flexible):
        n = self.uvarint() - 1 if flexible else self.i32()
        return None if n < 0 else self.take(n)

    def array_len(self, flexible):
        return self.uvarint() - 1 if flexible else self.i32()

    def tags(self):
        for _ in range(self.uvarint()):
            self.uvarint()
            self.take(self.uvarint())


def produce_record_sets(frame):
    """The records field of every partition of a Produce request frame (no size prefix)."""
    r = Reader(frame)
    key, version = r.i16(), r.i16()
    if key != 0:
        return []
    r.i32()  # correlation id
    flexible = version >= 9
    r.string(False)  # client id: always a classic nullable string
    if flexible:
        r.tags()
    if version >= 3:
        r.string(flexible)  # transactional id
    r.i16()
    r.i32()
    out = []
    for _ in range(r.array_len(flexible)):
        r.string(flexible)
        for _ in range(r.array_len(flexible)):
            r.i32()
            records = r.bytes_(flexible)
            if records:
                out.append(records)
            if flexible:
                r.tags()
        if flexible:
            r.tags()
    return out


def split_batches(data):
    """Whole magic-2 batches of a records field or a .log file."""
    out, p = [], 0
    while p + 61 <= len(data):
        (length,) = struct.unpack(">i", data[p + 8:p + 12])
        end = p + 12 + length
        if length < 49 or end > len(data) or data[p + 16] != 2:
            break
        out.append(data[p:end])
        p = end
    return out


def write_seed(directory, data):
    os.makedirs(directory, exist_ok=True)
    path = os.path.join(directory, hashlib.sha1(data).hexdigest())
    if not os.path.exists(path):
        with open(path, "wb") as f:
            f.write(data)


def cmd_seeds(args):
    frames_dir = os.path.join(args.out, "frames")
    seg_dir = os.path.join(args.out, "segments")
    corpus = args.corpus
    codecs = {}
    for name in sorted(os.listdir(frames_dir)) if os.path.isdir(frames_dir) else []:
        with open(os.path.join(frames_dir, name), "rb") as f:
            frame = f.read()
        if len(frame) > args.max_len:
            continue
        write_seed(os.path.join(corpus, "request"), frame)
        write_seed(os.path.join(corpus, "frame"), struct.pack(">i", len(frame)) + frame)
        try:
            sets = produce_record_sets(frame)
        except (ValueError, struct.error):
            continue
        for records in sets:
            for b in split_batches(records):
                codec = struct.unpack(">h", b[21:23])[0] & 7
                codecs[codec] = codecs.get(codec, 0) + 1
                write_seed(os.path.join(corpus, "record_batch"), b)
    for name in sorted(os.listdir(seg_dir)) if os.path.isdir(seg_dir) else []:
        d = os.path.join(seg_dir, name)
        files = os.listdir(d)
        log = next(f for f in files if f.endswith(".log"))
        base = log[:-4]
        with open(os.path.join(d, log), "rb") as f:
            data = f.read()
        if len(data) > args.max_len:
            continue
        for b in split_batches(data):
            write_seed(os.path.join(corpus, "record_batch"), b)
        # segment_recovery: mode byte 0 (the active segment, verified) and 1 (a sealed one).
        write_seed(os.path.join(corpus, "segment_recovery"), b"\x00" + data)
        write_seed(os.path.join(corpus, "segment_recovery"), b"\x01" + data)
        # index: u32 BE length of each of .index and .timeindex, both files, then the .log.
        def read(suffix):
            p = os.path.join(d, base + suffix)
            return open(p, "rb").read() if os.path.exists(p) else b""
        index, timeindex = read(".index"), read(".timeindex")
        blob = struct.pack(">II", len(index), len(timeindex)) + index + timeindex + data
        write_seed(os.path.join(corpus, "index"), blob)
    print("record batches by codec:", dict(sorted(codecs.items())))


def main():
    out = os.environ.get("CAPTURE_OUT")
    weir_bin = os.environ.get("CAPTURE_WEIR_BIN")
    if out and weir_bin and (len(sys.argv) < 2 or sys.argv[1] not in ("proxy", "seeds")):
        cmd_weir(sys.argv[1:], out, weir_bin)
        return
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="cmd", required=True)
    px = sub.add_parser("proxy")
    px.add_argument("--listen", required=True)
    px.add_argument("--upstream", required=True)
    px.add_argument("--out", required=True)
    sd = sub.add_parser("seeds")
    sd.add_argument("--out", required=True)
    sd.add_argument("--corpus", required=True)
    sd.add_argument("--max-len", type=int, default=64 * 1024)
    args = p.parse_args()
    if args.cmd == "proxy":
        cmd_proxy(args)
    else:
        cmd_seeds(args)


if __name__ == "__main__":
    main()
