"""What a weir broker's data dir says about its replicas, for the cluster compat tests: the high
watermark checkpoint and the partitions' .log segments. Imports no Kafka client.

    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    import replicas
"""
import os
import struct


def read_checkpoint(data_dir):
    """{(topic, partition): offset} of <data_dir>/replication-offset-checkpoint (Kafka's format:
    version line 0, a count line, then `topic partition offset` lines)."""
    path = os.path.join(data_dir, "replication-offset-checkpoint")
    with open(path) as f:
        lines = f.read().splitlines()
    assert len(lines) >= 2 and lines[0].strip() == "0", f"{path}: version line {lines[:1]}, expected 0"
    n = int(lines[1])
    entries = [ln.split() for ln in lines[2:] if ln.strip()]
    assert len(entries) == n and all(len(e) == 3 for e in entries), (
        f"{path}: count line {n}, {len(entries)} entries: {lines[2:5]}")
    return {(t, int(p)): int(o) for t, p, o in entries}


def log_bytes(data_dir, topic, p):
    """The partition's .log segments, concatenated in base-offset order, and how many there are."""
    d = os.path.join(data_dir, f"{topic}-{p}")
    names = sorted((f for f in os.listdir(d) if f.endswith(".log")), key=lambda f: int(f[:-4]))
    out = bytearray()
    for name in names:
        with open(os.path.join(d, name), "rb") as f:
            out += f.read()
    return bytes(out), len(names)


def prefix_to(data, hw):
    """The length of the batches of `data` whose offsets are all below `hw` (walked by the
    header: base offset int64 at 0, batch length int32 at 8, last offset delta int32 at 23),
    and the offset reached."""
    pos, reached = 0, 0
    while pos + 27 <= len(data):
        base, length = struct.unpack_from(">qi", data, pos)
        (delta,) = struct.unpack_from(">i", data, pos + 23)
        end = pos + 12 + length
        if length < 49 or end > len(data) or base + delta + 1 > hw:
            break
        pos, reached = end, base + delta + 1
    return pos, reached


def compare(data_dirs, partitions, expected_hw=None):
    """Compares the replicas of every (topic, partition) in `partitions` across `data_dirs`
    ({broker id: data dir}, brokers stopped): each replica's batches must reach the smallest
    high watermark in the brokers' checkpoints, and be byte-identical up to it. expected_hw:
    optionally {(topic, partition): offset} that the high watermark must equal.

    Returns (problems, summary): lists of strings; no problems means every replica agrees."""
    problems, summary, full_match = [], [], []
    checkpoints = {}
    for i, d in sorted(data_dirs.items()):
        try:
            checkpoints[i] = read_checkpoint(d)
        except (OSError, ValueError, AssertionError) as e:
            problems.append(f"broker {i}'s high watermark checkpoint: {e}")
    for topic, p in sorted(partitions):
        where = f"{topic}-{p}"
        hws = {i: cp.get((topic, p)) for i, cp in checkpoints.items()}
        if len(hws) < len(data_dirs) or None in hws.values():
            problems.append(f"{where}: high watermarks in the checkpoints {hws}")
            continue
        hw = min(hws.values())
        if expected_hw is not None and (topic, p) in expected_hw and hw != expected_hw[(topic, p)]:
            problems.append(f"{where}: high watermarks {hws}, expected {expected_hw[(topic, p)]}")
        logs, prefixes = {}, {}
        for i, d in sorted(data_dirs.items()):
            try:
                data, segs = log_bytes(d, topic, p)
            except OSError as e:
                problems.append(f"{where} on broker {i}: {e}")
                break
            length, reached = prefix_to(data, hw)
            if reached != hw:
                problems.append(f"{where} on broker {i}: its batches reach offset {reached}, not the high "
                                f"watermark {hw} ({len(data)} bytes in {segs} segments)")
            logs[i], prefixes[i] = data, data[:length]
        if len(logs) < len(data_dirs):
            continue
        first = min(prefixes)
        ref = prefixes[first]
        for i, pre in prefixes.items():
            if pre != ref:
                at = next((k for k in range(min(len(pre), len(ref))) if pre[k] != ref[k]), min(len(pre), len(ref)))
                problems.append(f"{where}: broker {i}'s log differs from broker {first}'s below the high "
                                f"watermark {hw}: first at byte {at} (prefix lengths {len(pre)} and {len(ref)})")
        whole = len(set(logs.values())) == 1
        full_match.append(whole)
        summary.append(f"{where} hw {hw} ({len(ref)} bytes)"
                       f"{'' if whole else ' whole files differ: sizes ' + str({i: len(d) for i, d in logs.items()})}")
    summary.insert(0, f"whole .log files identical in {sum(full_match)} of {len(full_match)} partitions")
    return problems, summary


def producer_of(data, offset):
    """(producer id, producer epoch) of the batch of `data` (a partition's .log bytes) holding
    `offset`, read from its RecordBatch header (producer id int64 at 43, epoch int16 at 51);
    None if no batch holds it."""
    pos = 0
    while pos + 61 <= len(data):
        base, length = struct.unpack_from(">qi", data, pos)
        (delta,) = struct.unpack_from(">i", data, pos + 23)
        if length < 49:
            return None
        if base <= offset <= base + delta:
            return struct.unpack_from(">qh", data, pos + 43)
        pos += 12 + length
    return None

