"""One long convolution across several GPUs: the sequence sharded over the
ranks of a torch.distributed process group (NCCL on GPUs, launched with
torchrun).

    import torch.distributed as dist
    from fftconv.distributed import FFTConv, shard, unshard
    dist.init_process_group("nccl")
    conv = FFTConv(seqlen=2 * L, dtype=torch.float16)    # the whole sequence's FFT size
    layout = conv.prepare(B, H, L, gated_pre=True, gated_post=True)  # compiles or loads
    u_r = shard(u, layout)                                 # this rank's part of u: B x H x L / R
    k_r = shard(k, layout)                                 # and of k: H x L / R (f32)
    y_r = conv(u_r, k_r, pregate=shard(x1, ...), postgate=shard(x2, ...))

The compiler (`fftconv-to-ptx{ranks rank}`) builds each rank's program: the
three-pass form with its outer passes over the rank's columns of the N1 x N2
view of the sequence and its inner pass over the rank's rows, and, between
them, the transposes as `butterfly.exchange` ops, listed in the manifest's
"exchanges". This module runs the program's kernels through fftconv.runtime
and each exchange as `torch.distributed.all_to_all_single` on the group (an
exchange in place, K's where memory bounds the program, a piece of every
chunk at a time: `exchange_in_place`), by the copy engines
(`CopyEngineExchange`), or by the stores of the kernels that write it into
the peers' buffers (`MappedExchange`, fftconv.peer_memory).

Layout: a rank holds, row after row, its `row_length / R` columns of every
row of `row_length` samples of the sequence (`Layout`; `shard` and
`unshard` convert). The elementwise parts of the convolution (gates, skip)
do not care; a model's other sequence-mixing layers (a short convolution)
see neighbours across a column block on another rank.

Batch or channel parallelism needs nothing of this module: each rank runs
fftconv.torch.FFTConv on its batch elements, under DDP (docs/runtime.md).
"""

import collections

import torch

from . import runtime
from .torch import _ELEMENT, conv_graph, conv_mode

Layout = collections.namedtuple("Layout", "ranks row_length length")
Layout.__doc__ = (
    "How a sequence of `length` samples is sharded over `ranks` ranks: as rows of `row_length` "
    "samples, rank r holding columns [r, r + 1) x row_length / ranks of every row, row after row."
)


def choose_ranks(seqlen, batch, channels, available=None, chip="sm_90"):
    """How many of `available` GPUs (default: the process group's) the
    cost model's sharding model (docs/passes.md) would shard a causal f16
    convolution of FFT size `seqlen` over `batch` x `channels` sequences
    on: (ranks, estimated ms on them, estimated ms on one GPU); ranks is 1
    where splitting does not beat one GPU, 0 where no split fits in device
    memory. Needs the compiler's bindings, not a GPU."""
    from . import _fftconv

    if available is None:
        available = torch.distributed.get_world_size()
    ranks, seconds, one = _fftconv.choose_ranks(seqlen, batch, channels, available, chip)
    return ranks, seconds * 1e3, one * 1e3


def shard(x, layout, rank=None):
    """Rank `rank`'s part (default: this process's rank) of the full
    sequences `x` (the last dimension, of layout.length samples)."""
    if rank is None:
        rank = torch.distributed.get_rank()
    ranks, row, length = layout
    if x.shape[-1] != length:
        raise ValueError(f"shard: expected sequences of {length} samples, got {x.shape[-1]}")
    lead = x.shape[:-1]
    columns = x.reshape(*lead, length // row, ranks, row // ranks)
    return columns[..., rank, :].reshape(*lead, length // ranks).contiguous()


def shard_input(x, layout, rank=None):
    """A sharded program's input for rank `rank`: `shard` of a sequence (a
    tensor of two or more dimensions, the last of layout.length samples);
    a per-channel parameter (a skip term's D, [H]) whole, as every rank
    holds it (its gradient too comes whole on every rank)."""
    return x if x.dim() == 1 else shard(x, layout, rank)


def unshard(parts, layout):
    """The full sequences from every rank's part, in rank order."""
    ranks, row, length = layout
    if len(parts) != ranks:
        raise ValueError(f"unshard: expected {ranks} parts, got {len(parts)}")
    lead = parts[0].shape[:-1]
    rows = [p.reshape(*lead, length // row, row // ranks) for p in parts]
    return torch.stack(rows, dim=-2).reshape(*lead, length)


# An exchange in place receives the other ranks' chunks in pieces, at most
# this many bytes at once: what it needs beyond the program's workspaces.
IN_PLACE_PIECE_BYTES = 128 << 20


def all_to_all(group=None):
    """The exchange of a sharded program over `group`: chunk j of `send` to
    rank j, chunk i of `recv` from rank i (leading dimension); in place
    where `send` is `recv` (`exchange_in_place`)."""

    def exchange(send, recv):
        if send.data_ptr() == recv.data_ptr():
            exchange_in_place(send, group)
        else:
            torch.distributed.all_to_all_single(recv, send, group=group)

    return exchange


class CopyEngineExchange:
    """The exchange of a sharded program over `group` by the GPUs' copy
    engines instead of NCCL's kernels, which take SMs from the program's
    (FFTConv's transport "copy-engine"). `bind(program)` (`run` calls it)
    allocates the buffers the peers copy into (push, the default) or out of
    (pull) in PyTorch's symmetric memory, mapped into every rank of the
    group: a collective, every rank binding the same program. An exchange
    then copies between two barriers of the group, the first that every
    rank's send buffer is written and its receive buffer free, the second
    that every copy is done: each rank writes its chunks into the peers'
    receive buffers, or reads its chunks out of the peers' send buffers, on
    the exchange's stream. An exchange in place, or of a buffer not bound,
    goes over NCCL (`all_to_all`). PyTorch numbers the rendezvous per
    process, not per group: in one job, the processes that bind must be
    those of the group every time (binding programs of 2 ranks, then of 4,
    in a job of 4 hangs the second).

    Measured (bench/results/distributed-2026-11-28-copy-engine.md): on pairs
    of H200s 6% faster than NCCL on one machine, as fast or slower on two
    others, on 4 H100s slower; beside the kernels the copies slow down as
    NCCL's do."""

    def __init__(self, group=None, push=True):
        self.group = group
        self.push = push
        self._nccl = all_to_all(group)
        self._handles = {}  # a bound buffer's data_ptr -> its symmetric memory handle

    def bind(self, program):
        from torch.distributed import _symmetric_memory as symm_mem

        group_name = (self.group or torch.distributed.group.WORLD).group_name
        bound = getattr(program, "_symmetric", None)
        if bound is None:
            manifest = program.manifest
            workspaces = {a.index: a for a in manifest.workspaces}
            # The buffers the peers copy into (push) or out of (pull).
            ends = {e.recv if self.push else e.send for e in manifest.exchanges if e.send != e.recv}
            ends &= set(workspaces)
            bound = program._symmetric = (group_name, self.push, {})
            for index in sorted(ends):
                argument = workspaces[index]
                tensor = symm_mem.empty(tuple(argument.shape), dtype=program._dtypes[argument.dtype],
                                        device=program.device)
                bound[2][index] = symm_mem.rendezvous(tensor, group_name)
                program._workspaces[index] = tensor
        if bound[:2] != (group_name, self.push):
            raise ValueError(f"CopyEngineExchange: the program's workspaces are mapped for group {bound[0]!r} "
                             f"to {'push' if bound[1] else 'pull'}, not for {group_name!r} to "
                             f"{'push' if self.push else 'pull'}")
        self._handles.update({program._workspaces[i].data_ptr(): h for i, h in bound[2].items()})

    @staticmethod
    def mapped(program):
        """The program's workspaces a bind mapped, by argument index (none
        before one)."""
        bound = getattr(program, "_symmetric", None)
        return {} if bound is None else {i: program._workspaces[i] for i in bound[2]}

    def __call__(self, send, recv):
        handle = self._handles.get((recv if self.push else send).data_ptr())
        if handle is None or send.data_ptr() == recv.data_ptr():
            self._nccl(send, recv)
            return
        rank, ranks = handle.rank, handle.world_size
        sent, arrived = send.view(ranks, -1), recv.view(ranks, -1)
        chunk = sent.shape[1]
        copies = [(arrived[rank], sent[rank])]
        for step in range(1, ranks):
            peer = (rank + step) % ranks
            if self.push:  # chunk `peer` into the peer's receive buffer, at this rank's chunk
                copies.append((handle.get_buffer(peer, (chunk,), send.dtype, rank * chunk), sent[peer]))
            else:  # this rank's chunk of the peer's send buffer into chunk `peer`
                copies.append((arrived[peer], handle.get_buffer(peer, (chunk,), send.dtype, rank * chunk)))
        handle.barrier(channel=0)
        for into, out in copies:
            into.copy_(out)
        handle.barrier(channel=0)


class MappedExchange:
    """The exchange of a sharded program over `group` done by the kernels
    that write its send buffer (FFTConv's transport "mapped"): bound to a
    program (`bind`, a collective), each kernel the manifest states writes
    the send buffer without reading it (`mapped_producers`) stores through
    a view whose chunk j is rank j's receive buffer
    (fftconv.peer_memory.PeerMemory.scattered_view, over NVLink), so that
    no bytes move after it: the exchange is two barriers, one before the
    kernel (every rank done with its receive buffer's previous contents)
    and one after it (every rank's stores arrived). Its own chunk the
    kernel stores in place. An exchange with no such kernel, or whose
    chunks are not a multiple of the mapping's granularity (2 MiB), goes
    over NCCL (`all_to_all`)."""

    def __init__(self, group=None):
        self.group = group
        self._nccl = all_to_all(group)

    def bind(self, program):
        from .peer_memory import PeerMemory

        group_name = (self.group or torch.distributed.group.WORLD).group_name
        bound = getattr(program, "_mapped", None)
        if bound is not None:
            if bound.group_name != group_name:
                raise ValueError(f"MappedExchange: the program is mapped for group {bound.group_name!r}, "
                                 f"not {group_name!r}")
            return
        if getattr(program, "_symmetric", None) is not None:
            raise ValueError("MappedExchange: the program's workspaces are bound to the copy engines")
        manifest = program.manifest
        memory = PeerMemory(self.group, program.device)
        workspaces = {a.index: a for a in manifest.workspaces}
        ranks = manifest.shard.ranks
        producers = {e: launches for e, launches in mapped_producers(manifest).items()
                     if manifest.exchanges[e].recv in workspaces
                     and workspaces[manifest.exchanges[e].recv].nbytes % (ranks * memory.granularity) == 0}
        receivers = [workspaces[i] for i in sorted({manifest.exchanges[e].recv for e in producers})]
        views = {}
        for argument, allocation in zip(receivers, memory.allocate([a.nbytes for a in receivers], pieces=ranks)):
            program._workspaces[argument.index] = memory.tensor(allocation, argument.shape,
                                                                program._dtypes[argument.dtype])
            views[argument.index] = memory.scattered_view(allocation)
        memory.barrier_slots(2 * len(manifest.exchanges))
        program._mapped = _Mapping(group_name, memory, producers, views)

    @staticmethod
    def mapping(program):
        """The program's `_Mapping` (None before a bind)."""
        return getattr(program, "_mapped", None)

    def __call__(self, send, recv):
        self._nccl(send, recv)


class AutoExchange(MappedExchange):
    """FFTConv's transport "auto" (its default): MappedExchange where the
    group's ranks can map each other's memory
    (fftconv.peer_memory.can_map_peers, decided once, collectively, at the
    first bind: `maps`), NCCL's all_to_all otherwise (no program is then
    mapped, so `mapping` finds none). On 2 H200s at 2^24 points f16 causal
    it took the call from NCCL's 1.54x one GPU's to 1.84x
    (docs/benchmarks.md, sixteenth session)."""

    def __init__(self, group=None):
        super().__init__(group)
        self.maps = None  # decided at the first bind

    def bind(self, program):
        if self.maps is None:
            from .peer_memory import can_map_peers

            self.maps = can_map_peers(self.group)
        if self.maps:
            super().bind(program)


class _Mapping:
    """A program bound to MappedExchange: its PeerMemory, the mapped
    exchanges' producers ({exchange index: [(kernel, operand position)]}),
    the view of each mapped receive buffer (by argument index), and the
    calls so far (the barriers' count)."""

    def __init__(self, group_name, memory, producers, views):
        self.group_name, self.memory, self.producers, self.views = group_name, memory, producers, views
        self.calls = 0
        self.operands = {}  # kernel -> {operand position: exchange index}
        for e, launches in producers.items():
            for kernel, position in launches:
                self.operands.setdefault(kernel, {})[position] = e

    def launch(self, program, buffers, kernel, stream):
        """Kernel `kernel` with its mapped operands through their views."""
        manifest = program.manifest
        positions = self.operands[kernel]
        operands = [buffers[a] for a in manifest.kernels[kernel].arguments]
        for position, e in positions.items():
            operands[position] = self.views[manifest.exchanges[e].recv]
        program._launch_operands(kernel, operands, stream)

    def release(self, e, stream):
        self.memory.barrier(2 * e, self.calls, stream)

    def freed(self, e, stream):
        """Exchange `e`'s receive buffer free on every peer: each signalled
        `free` in the previous call (in the first, nothing has used it)."""
        self.memory.wait(2 * e, self.calls - 1, stream)

    def free(self, e, stream):
        """This rank done with exchange `e`'s receive buffer for this call."""
        self.memory.signal(2 * e, self.calls, stream)

    def arrive(self, e, stream):
        self.memory.barrier(2 * e + 1, self.calls, stream)


def mapped_producers(manifest):
    """The exchanges a program's kernels can do by their stores: {index
    into manifest.exchanges: [(kernel, operand position)]}, for each
    exchange whose send buffer the last launches that use it before the
    exchange (since its previous exchange) all write without reading it at
    those operands (the manifest's kernel `writes`). The compiler keeps the
    invariant this rests on: a send buffer's contents for its exchange are
    written by those launches alone."""
    found = {}
    previous = {}  # buffer -> kernel count at its last exchange
    for e, exchange in enumerate(manifest.exchanges):
        send = exchange.send
        launches = []
        for kernel in range(exchange.after - 1, previous.get(send, 0) - 1, -1):
            info = manifest.kernels[kernel]
            if send not in info.arguments:
                continue
            written = [p for p in info.writes if info.arguments[p] == send]
            if not written:
                break
            launches[:0] = [(kernel, p) for p in written]
        if launches:
            found[e] = launches
        previous[send] = previous[exchange.recv] = exchange.after
    return found


# fftconv.distributed.FFTConv's `transport`: what moves an exchange's bytes.
TRANSPORTS = {"auto": AutoExchange, "nccl": all_to_all, "copy-engine": CopyEngineExchange,
              "mapped": MappedExchange}


def exchange_over(group=None, transport="nccl", **options):
    """The exchange of a sharded program over `group` by `transport`, one of
    TRANSPORTS (with its options)."""
    if transport not in TRANSPORTS:
        raise ValueError(f"transport must be one of {', '.join(TRANSPORTS)}, got {transport!r}")
    return TRANSPORTS[transport](group, **options)


def exchange_in_place(buffer, group=None, piece_bytes=IN_PLACE_PIECE_BYTES):
    """The all-to-all of `buffer`'s chunks (its leading dimension, one a
    rank) into `buffer` itself, a piece of every chunk at a time, each
    piece received into a buffer of `piece_bytes` (at most) and copied into
    place: no second `buffer`. Over NCCL the pieces are sent from `buffer`
    itself (torch.distributed.all_to_all of the chunks' pieces); a backend
    without it (gloo) sends a copy (all_to_all_single)."""
    ranks = buffer.shape[0]
    chunks = buffer.view(ranks, -1)
    length = chunks.shape[1]
    step = min(length, max(1, piece_bytes // (ranks * buffer.element_size())))
    received = torch.empty(ranks, step, dtype=buffer.dtype, device=buffer.device)
    listed = torch.distributed.get_backend(group) == "nccl"
    sent = None if listed else torch.empty_like(received)
    for start in range(0, length, step):
        count = min(step, length - start)
        pieces = chunks[:, start : start + count]
        if listed:
            arrived = list(received[:, :count])
            torch.distributed.all_to_all(arrived, list(pieces), group=group)
            pieces.copy_(received[:, :count])
        else:
            out, back = sent.view(-1)[: ranks * count].view(ranks, count), received.view(-1)[: ranks * count].view(ranks, count)
            out.copy_(pieces)
            torch.distributed.all_to_all_single(back, out, group=group)
            pieces.copy_(back)


def schedule(manifest):
    """A sharded manifest's program in order: ("kernels", range of kernel
    indices) and ("exchange", fftconv.runtime.Exchange) steps."""
    exchanges = manifest.exchanges
    if not exchanges:
        raise ValueError("the program is not sharded (its manifest has no exchanges)")
    steps, start = [], 0
    for step in exchanges + [None]:
        end = len(manifest.kernels) if step is None else step.after
        if end > start:
            steps.append(("kernels", range(start, end)))
        start = end
        if step is not None:
            steps.append(("exchange", step))
    return steps


def run(program, inputs, exchange, outputs=None, compute_streams=2, trace=None):
    """Runs a sharded fftconv.runtime.Program: its kernels and its
    manifest's exchanges, `exchange(send, recv)` on the workspace tensors
    (one with a `bind(program)`, CopyEngineExchange or MappedExchange,
    bound first; MappedExchange's exchanges done by the kernels' stores,
    with a barrier before them and one after on the exchanges' stream),
    the exchanges on a stream of their own, each step waiting only for the
    last step of another stream that used one of its buffers: an exchange
    overlaps the kernels the compiler issued after it that do not wait for
    it (butterfly-to-gpu's pipelined order). With `compute_streams` 2 (the
    default) the kernels take turns on the current stream and a second
    one, a kernel a step, so that one waiting for its exchange does not
    hold back the next chunk's: 2^25 points on 2 H200s 9.92-10.00 -> 9.68-
    9.74 ms, 2^24 4.96-5.00 -> 4.88-4.97 (bench/results/distributed-2026-11-27-h200x2-streams.md);
    1, all on the current stream. The waits are worked out once a program
    and number of streams (`step_plan`), so that a call only enqueues.
    Returns the outputs, as Program.launch does; the current stream waits
    for everything.

    With `trace` a list, each step appends (kind, name, stream, begin,
    end): "kernels" with the kernels' names or "exchange" with its send
    buffer's, its stream (0 and 1 the kernels', "exchange"), and timing
    events around it; `timeline(trace)` turns them into milliseconds once
    the call has finished."""
    if compute_streams not in (1, 2):
        raise ValueError(f"run: compute_streams must be 1 or 2, got {compute_streams!r}")
    bind = getattr(exchange, "bind", None)
    if bind is not None:
        bind(program)
    mapping = getattr(exchange, "mapping", lambda _: None)(program)
    plan = _sharded_plan(program, compute_streams, mapping)
    buffers, output_tensors, _, by_index = program._prepare(inputs, outputs, [], False)
    current = torch.cuda.current_stream(program.device)
    streams = [current, program._second_compute_stream][:compute_streams] + [program._exchange_stream,
                                                                            program._release_stream]
    comm = streams[compute_streams]
    if trace is not None:  # before the other streams wait for it: no step begins before it
        origin = torch.cuda.Event(enable_timing=True)
        origin.record(current)
        trace.append(("start", "", "", origin, origin))
    # Every other stream too: a mapped exchange's release lets the peers
    # store into a buffer the previous call may still read.
    for other in streams[1:]:
        other.wait_stream(current)
    if mapping is not None:
        mapping.calls += 1
    events = plan.events
    for index, (kind, step, slot, waits) in enumerate(plan.steps):
        stream = streams[slot]
        for earlier in waits:
            stream.wait_event(events[earlier])
        if trace is not None:
            begin = torch.cuda.Event(enable_timing=True)
            begin.record(stream)
        if kind == "kernels":
            if isinstance(step, int):  # a mapped exchange's producer
                mapping.launch(program, buffers, step, stream.cuda_stream)
            else:
                program._launch(buffers, step, stream.cuda_stream)
        elif kind == "release":
            mapping.release(step, stream.cuda_stream)
        elif kind == "freed":
            mapping.freed(step, stream.cuda_stream)
        elif kind == "free":
            mapping.free(step, stream.cuda_stream)
        elif kind == "arrive":
            mapping.arrive(step, comm.cuda_stream)
        else:
            with torch.cuda.stream(comm):
                exchange(by_index[step.send], by_index[step.recv])
        events[index].record(stream)
        if trace is not None and kind not in ("release", "freed", "free"):
            end = torch.cuda.Event(enable_timing=True)
            end.record(stream)
            if kind == "kernels":
                name = ",".join(program.manifest.kernels[k].name for k in ([step] if isinstance(step, int) else step))
                label = slot
            else:  # an exchange, or a mapped one's arrival
                exchanged = program.manifest.exchanges[step] if kind == "arrive" else step
                name, label = program.manifest.arguments[exchanged.send].name, "exchange"
            trace.append(("exchange" if kind == "arrive" else kind, name, label, begin, end))
    for other in streams[1:]:
        current.wait_stream(other)
    return output_tensors[0] if len(output_tensors) == 1 else tuple(output_tensors)


def step_plan(manifest, compute_streams=2, mapped=None):
    """`run`'s order of a sharded manifest's program on `compute_streams`
    streams of kernels (1 or 2) and one of exchanges: per step (kind, the
    kernel indices it launches or the Exchange, or for "release", "freed",
    "free" and "arrive" the mapped exchange's index, its stream: 0 ..
    compute_streams - 1 the kernels', one step a kernel taking turns with
    two, compute_streams the exchanges'; the earlier steps it waits for: of
    each buffer it uses, the last step on another stream that used it). A
    step is thus ordered after every earlier step that used one of its
    buffers: on its own stream, or through a wait.

    `mapped` ({exchange index: [(kernel, operand position)]}, as
    `mapped_producers` gives) are exchanges done by their producers' stores
    into the receive buffer (MappedExchange): each producer launches in a
    step of its own that uses the receive buffer (not the send buffer it
    would have written), and the exchange is an "arrive" (the barrier after
    the stores). Before the first producer, on a stream of its own
    (compute_streams + 1, which waits for nothing on the exchanges'
    stream), every rank must be done with the receive buffer's previous
    contents: where the call used the buffer before, a "release" (a barrier
    there); where it did not (each buffer of a call whose chunks have sets
    of their own), "freed", a wait for the peers' "free" of the previous
    call, which each rank signals once it has last used the buffer (at the
    end of the plan, on that stream): the waits at the call's start are met
    at once, where a barrier there held the first kernels 0.15 to 0.17 ms
    in a traced call on 2 H200s (2^24 on 4 H200s: 1.48 -> 1.45 ms)."""
    mapped = mapped or {}
    producer = collections.defaultdict(set)  # kernel -> the receive buffers it stores into
    through_view = collections.defaultdict(set)  # kernel -> its operands bound to a view
    for e, launches in mapped.items():
        for kernel, position in launches:
            producer[kernel].add(manifest.exchanges[e].recv)
            through_view[kernel].add(position)
    releases = {}  # the first producer of each mapped exchange -> its index
    for e, launches in mapped.items():
        releases.setdefault(min(kernel for kernel, _ in launches), []).append(e)
    steps, last_use, launched, freed = [], {}, 0, []
    release_stream = compute_streams + 1

    def add(kind, payload, touched, slot):
        waits = {last_use[i][1] for i in touched if i in last_use and last_use[i][0] != slot}
        for i in touched:
            last_use[i] = (slot, len(steps))
        steps.append((kind, payload, slot, tuple(sorted(waits))))

    index_of = {id(x): e for e, x in enumerate(manifest.exchanges)}
    for kind, step in schedule(manifest):
        if kind == "exchange":
            e = index_of[id(step)]
            if e in mapped:  # the barrier after the stores
                add("arrive", e, {step.recv}, compute_streams)
            else:
                add(kind, step, {step.send, step.recv}, compute_streams)
            continue
        groups = []
        for k in step:
            if compute_streams == 2 or not groups or k in producer or groups[-1][-1] in producer:
                groups.append([k])
            else:
                groups[-1].append(k)
        for group in groups:
            for e in releases.get(group[0], ()):
                recv = manifest.exchanges[e].recv
                if recv in last_use:
                    add("release", e, {recv}, release_stream)
                else:
                    add("freed", e, {recv}, release_stream)
                    freed.append(e)
            touched = {a for k in group for p, a in enumerate(manifest.kernels[k].arguments)
                       if p not in through_view[k]}
            touched = touched.union(*(producer.get(k, ()) for k in group))
            add(kind, group, touched, launched % compute_streams)
            launched += 1
    # In the order the buffers' last uses come: each waits for its own.
    for e in sorted(freed, key=lambda e: last_use[manifest.exchanges[e].recv][1]):
        add("free", e, {manifest.exchanges[e].recv}, release_stream)
    return steps


_ShardedPlan = collections.namedtuple("_ShardedPlan", "steps events")


def _sharded_plan(program, compute_streams, mapping=None):
    """`run`'s plan of a program for `compute_streams` streams of kernels
    (and a MappedExchange's `mapping`), made on its first call: `step_plan`
    with each kernels step as the runtime's kernel array (or, a mapped
    exchange's producer, its kernel index), and an event a step, recorded
    after it each call (a step waits only for earlier steps of the same
    call)."""
    plans = getattr(program, "_sharded_plans", None)
    if plans is None:
        plans = program._sharded_plans = {}
        program._exchange_stream = torch.cuda.Stream(program.device)
        program._release_stream = torch.cuda.Stream(program.device)
        program._second_compute_stream = torch.cuda.Stream(program.device)
    key = (compute_streams, mapping is not None)
    if key not in plans:
        mapped = mapping.producers if mapping is not None else None
        operands = mapping.operands if mapping is not None else {}

        def payload_of(kind, payload):
            if kind != "kernels":
                return payload
            if len(payload) == 1 and payload[0] in operands:
                return payload[0]
            return runtime._kernel_array(payload)

        steps = [(kind, payload_of(kind, payload), slot, waits)
                 for kind, payload, slot, waits in step_plan(program.manifest, compute_streams, mapped)]
        plans[key] = _ShardedPlan(steps, [torch.cuda.Event() for _ in steps])
    return plans[key]


def timeline(trace):
    """`run`'s trace, after the call has finished (synchronized), as rows
    {kind, name, stream, begin_ms, end_ms} from the call's start, and the
    milliseconds no kernel ran in (the call's span less the union of its
    kernels' spans: what the exchanges and the waits for them added)."""
    origin = trace[0][3]
    rows = [dict(kind=kind, name=name, stream=stream, begin_ms=origin.elapsed_time(begin),
                 end_ms=origin.elapsed_time(end)) for kind, name, stream, begin, end in trace[1:]]
    spans = sorted((r["begin_ms"], r["end_ms"]) for r in rows if r["kind"] == "kernels")
    busy, reach = 0.0, 0.0
    for begin, end in spans:
        begin = max(begin, reach)
        if end > begin:
            busy += end - begin
            reach = end
    span = max((r["end_ms"] for r in rows), default=0.0)
    return rows, span - busy


def run_lockstep(programs, inputs, outputs=None):
    """Runs the programs of every rank of one sharded convolution (rank
    order) in this process, on their devices, each exchange a copy of the
    chunks (chunk j of rank r's send to chunk r of rank j's recv): the
    sharded program checked, or debugged, on one GPU. `inputs` (and
    `outputs`, else allocated) per rank as for Program.launch; returns the
    outputs per rank."""
    steps = [schedule(p.manifest) for p in programs]
    if len({len(s) for s in steps}) != 1 or len(programs) != programs[0].manifest.shard.ranks:
        raise ValueError("run_lockstep: expected one program per rank of the same sharded convolution")
    outputs = outputs or [None] * len(programs)
    prepared = [p._prepare(i, o, [], False) for p, i, o in zip(programs, inputs, outputs)]
    for index, (kind, step) in enumerate(steps[0]):
        if kind == "kernels":
            for program, (buffers, _, _, _), own in zip(programs, prepared, steps):
                program._launch(buffers, runtime._kernel_array(own[index][1]), program._current_stream(None))
            continue
        # In place (send is recv): every rank's chunks read before any is
        # written.
        sends = [by[step.send].clone() if step.send == step.recv else by[step.send] for _, _, _, by in prepared]
        for r, send in enumerate(sends):
            for j, (_, _, _, other) in enumerate(prepared):
                other[step.recv][r].copy_(send[j])
    return [outs[0] if len(outs) == 1 else tuple(outs) for _, outs, _, _ in prepared]


def sharded_graph(batch, channels, length, taps, causal, element, gated_pre=False, gated_post=False):
    """The graph of the whole convolution every rank compiles its share of."""
    return conv_graph("fftconv_sharded", element, batch, channels, length, taps, causal, gated_pre, gated_post)


def compile_rank(graph, rank, ranks, target="sm_90", training=False, **options):
    """Rank `rank`'s program of `graph` sharded over `ranks`
    (fftconv.gpu.compile with ranks and rank; with `training`, its backward
    too, sharded alike)."""
    from . import gpu

    return gpu.compile(graph, target=target, training=training, ranks=ranks, rank=rank, **options)


def programs_for(graph, rank, ranks, device):
    """Rank `rank`'s runtime programs of `graph` on `device`, (forward,
    backward), from the kernel cache (FFTCONV_KERNEL_CACHE) or compiled
    into it (fftconv.torch.gpu_programs with ranks and rank)."""
    from .torch import gpu_programs

    return gpu_programs(graph, device, ranks=ranks, rank=rank)


class _ShardedConvolution(torch.autograd.Function):
    """The sharded convolution as an autograd function: the forward keeps
    u, k and the gates (no spectra); the backward runs the compiled sharded
    backward (du, dk, dpregate, dpostgate, this rank's parts)."""

    @staticmethod
    def forward(ctx, module, key, u, k, pregate, postgate):
        forward, _ = module._programs[key]
        inputs = [u, k] + [g for g in (pregate, postgate) if g is not None]
        ctx.module, ctx.key, ctx.gated = module, key, (pregate is not None, postgate is not None)
        ctx.save_for_backward(*inputs)
        return run(forward, inputs, module._exchange)

    @staticmethod
    def backward(ctx, dy):
        _, backward = ctx.module._programs[ctx.key]
        if backward is None:
            raise RuntimeError("fftconv.distributed.FFTConv: this configuration's backward is not compiled "
                               "(the compiler does not shard it)")
        inputs = list(ctx.saved_tensors)
        grads = run(backward, inputs + [dy.contiguous()], ctx.module._exchange)
        grads = list(grads) if isinstance(grads, tuple) else [grads]
        du, dk = grads[0], grads[1]
        rest = iter(grads[2:])
        dpre = next(rest) if ctx.gated[0] else None
        dpost = next(rest) if ctx.gated[1] else None
        return None, None, du, dk, dpre, dpost


class FFTConv(torch.nn.Module):
    """fftconv.torch.FFTConv's arguments (`seqlen` the FFT size of the whole
    sequence: 2 L causal, L circular), plus the process group whose ranks
    share the sequence. forward(u, k, pregate=None, postgate=None) takes
    and returns this rank's parts (`shard`), [B, H, L / R] and k [H, K / R]
    (f32, K = L). Differentiable: the backward is compiled sharded alike
    (du, dk, the gates' gradients; this rank's parts). `transport` moves
    the exchanges' bytes: "auto" (the default, AutoExchange: "mapped" where
    the ranks can map each other's memory, else "nccl"), "nccl"
    (all_to_all), "copy-engine" (CopyEngineExchange: the GPUs' copy
    engines over peer-mapped memory) or "mapped" (MappedExchange: the
    kernels that write an exchange's data store it into the peers'
    buffers)."""

    def __init__(self, seqlen, dtype=torch.float16, group=None, transport="auto"):
        super().__init__()
        if dtype not in _ELEMENT:
            raise ValueError(f"FFTConv: dtype must be float32, float16 or bfloat16, got {dtype}")
        self.seqlen = int(seqlen)
        self.dtype = dtype
        self.group = group
        self._exchange = exchange_over(group, transport)
        self.ranks = torch.distributed.get_world_size(group)
        self.rank = torch.distributed.get_rank(group)
        self._programs = {}

    def prepare(self, batch, channels, length, gated_pre=False, gated_post=False, device=None):
        """Compiles (or loads) this rank's program for u of [batch, channels,
        length] (the whole sequence's length; k of `length` taps) and returns
        its `Layout`, for `shard` and `unshard`."""
        key = self._key(batch, channels, length, gated_pre, gated_post, device)
        if key not in self._programs:
            causal = key[3]
            graph = sharded_graph(batch, channels, length, length, causal, _ELEMENT[self.dtype], gated_pre,
                                  gated_post)
            self._programs[key] = programs_for(graph, self.rank, self.ranks, key[-1])
        shard_info = self._programs[key][0].manifest.shard
        return Layout(shard_info.ranks, shard_info.row_length, length)

    def _key(self, batch, channels, length, gated_pre, gated_post, device):
        """A compiled configuration's key: the shapes, causal or circular
        (as FlashFFTConv reads `seqlen`), the gates, the device."""
        if device is None:
            device = torch.device("cuda", torch.cuda.current_device())
        causal = conv_mode(self.seqlen, length, length)
        if causal is None:
            raise ValueError(f"FFTConv: seqlen {self.seqlen} is neither >= 2L - 1 (causal) nor L (circular), "
                             f"L = {length}")
        return (batch, channels, length, causal, bool(gated_pre), bool(gated_post), torch.device(device))

    def forward(self, u, k, pregate=None, postgate=None):
        if u.dtype != self.dtype:
            raise ValueError(f"FFTConv: u is {u.dtype}, the module was made for {self.dtype}")
        batch, channels, local = u.shape
        length = local * self.ranks
        if k.shape[-1] * self.ranks != length:
            raise ValueError(f"FFTConv: k must be this rank's part of {length} taps (the sequence's length), "
                             f"got {k.shape[-1]} of {local}")
        gated = (pregate is not None, postgate is not None)
        self.prepare(batch, channels, length, *gated, u.device)
        key = self._key(batch, channels, length, *gated, u.device)
        gates = [None if g is None else g.contiguous() for g in (pregate, postgate)]
        return _ShardedConvolution.apply(self, key, u.contiguous(), k.float().contiguous(), *gates)
