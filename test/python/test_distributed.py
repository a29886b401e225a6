"""The sharded convolution's algorithm on the CPU, over torch.distributed's
gloo backend (no GPU here): P processes each compile their rank's program
(fftconv-to-ptx{ranks rank}) and run its manifest's schedule, its exchanges
as real all-to-alls between the processes (fftconv.distributed.all_to_all)
and its kernels as float64 numpy stand-ins of what each kernel computes on
the layouts docs/gpu-manifest.md gives (a rank's columns of every row; a
workspace's chunks, one a rank). The result, gathered, is checked against
float64 numpy; the backward program the same way (K, v's and g's outer
passes, the cross spectrum and the products of the correlation and the
postgate's convolution, the sums' inverse, the outer inverse passes). The
kernels themselves are checked on GPUs (test/GPU/test_distributed_gpu.py,
bench/bench_distributed.py)."""

import os
import re
import socket
import sys

import numpy as np
import pytest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "python"))

torch = pytest.importorskip("torch")
dist = pytest.importorskip("torch.distributed")
if not dist.is_available() or not dist.is_gloo_available():
    pytest.skip("torch.distributed without gloo", allow_module_level=True)


def test_shard_and_unshard_are_inverse():
    from fftconv import distributed

    layout = distributed.Layout(ranks=4, row_length=16, length=64)
    x = torch.arange(2 * 64).reshape(2, 64)
    parts = [distributed.shard(x, layout, r) for r in range(4)]
    # Rank 1 holds columns 4..7 of each of the 4 rows of 16.
    assert parts[1][0].tolist() == [4, 5, 6, 7, 20, 21, 22, 23, 36, 37, 38, 39, 52, 53, 54, 55]
    assert torch.equal(distributed.unshard(parts, layout), x)
    with pytest.raises(ValueError, match="expected sequences of 64 samples"):
        distributed.shard(x[:, :32], layout, 0)


def test_choose_ranks_is_the_sharding_model():
    # The C API's fftconvChooseRanks: docs/cost-table-sharded.md's row of
    # 2^25 points (4 pairs of 2 channels) chooses 4 GPUs at 2.90 ms against
    # 8.25 on one; a bad chip is refused.
    from fftconv import MLIRError, distributed

    ranks, ms, one = distributed.choose_ranks(1 << 25, 8, 2, available=4)
    assert ranks == 4 and round(ms, 2) == 2.90 and round(one, 2) == 8.25
    assert distributed.choose_ranks(1 << 25, 8, 2, available=2)[0] == 2
    assert distributed.choose_ranks(1 << 25, 8, 2, available=1)[0] == 1
    with pytest.raises(MLIRError, match="unknown GPU chip 'cpu'"):
        distributed.choose_ranks(1 << 25, 8, 2, available=4, chip="cpu")


def _buffer_bytes(compiled):
    """The bytes of every buffer a program's manifest names (what the
    runtime allocates or is given: inputs, outputs, workspaces)."""
    from fftconv import dtypes, runtime

    arguments = runtime.parse_manifest(compiled.manifest).arguments
    return sum(int(np.prod(a.shape)) * dtypes.element_bytes(a.dtype) for a in arguments)


def test_four_ranks_hold_four_times_the_length():
    # A rank of 4 at 4 L needs no more memory than one GPU at L (K exchanged
    # in place; the workspace sets within one GPU's workspace of the rank's
    # share) where one GPU's workspace is what bounds the rank's: it holds
    # six chunks of 128 MiB (kShardedMinChunkBytes; here 1 GiB). Where it
    # does not, the chunks keep that size, K two buffers (faster) and the
    # sets are four (a lead for the pipeline), and the rank needs more.
    # Rank 1's program; every rank's buffers have the same shapes.
    from fftconv import distributed, gpu

    def one_and_rank(b, h, length):
        one = _buffer_bytes(gpu.compile(distributed.sharded_graph(b, h, length, length, True, "f16")))
        longer = distributed.sharded_graph(b, h, 4 * length, 4 * length, True, "f16")
        return one, _buffer_bytes(distributed.compile_rank(longer, 1, 4))

    assert one_and_rank(8, 64, 1 << 20) == (4352 << 20, 4096 << 20)
    assert one_and_rank(8, 32, 1 << 20) == (2176 << 20, 3200 << 20)


def test_run_checks_its_streams():
    # One stream of kernels or two; anything else refused before a launch.
    from fftconv import distributed

    with pytest.raises(ValueError, match="compute_streams must be 1 or 2, got 3"):
        distributed.run(None, [], None, compute_streams=3)


@pytest.fixture(scope="module")
def sharded_manifest():
    # A sharded program: rank 1 of 2, four chunks through four workspace sets.
    from fftconv import distributed, runtime

    graph = distributed.sharded_graph(3, 2, 8192, 8192, True, "f16")
    return runtime.parse_manifest(distributed.compile_rank(graph, 1, 2).manifest)


@pytest.fixture(scope="module")
def reusing_manifest():
    # Rank 1 of 2 of 2^24 points, 8 x 32: sixteen chunks through three
    # workspace sets, whose buffers each receive several exchanges a call.
    from fftconv import distributed, runtime

    graph = distributed.sharded_graph(8, 32, 2**23, 2**23, True, "f16")
    return runtime.parse_manifest(distributed.compile_rank(graph, 1, 2).manifest)


def test_mapped_producers_are_the_kernels_that_write_each_send_buffer(sharded_manifest):
    # MappedExchange's producers: K's exchange is the spectrum's outer
    # kernel's stores, each chunk's exchange its outer forward kernel's and
    # each exchange back its inner kernel's (the operand it writes, not the
    # one it reads); the outer inverse kernels write none.
    from fftconv import distributed

    manifest = sharded_manifest
    producers = distributed.mapped_producers(manifest)
    assert sorted(producers) == list(range(len(manifest.exchanges)))
    names = []
    for e, launches in sorted(producers.items()):
        exchange = manifest.exchanges[e]
        assert len(launches) == 1
        kernel, position = launches[0]
        info = manifest.kernels[kernel]
        assert kernel < exchange.after and info.arguments[position] == exchange.send
        assert position in info.writes
        names.append(re.sub(r"(_c?\d+)+$", "", re.sub(r"^.*_conv\d+_", "", info.name)))
    assert names[0] == "spectrum_outer"
    assert names.count("outer_forward") == names.count("inner") == (len(names) - 1) // 2
    inner = next(k for k in manifest.kernels if re.search(r"_conv\d+_inner(_c\d+)?$", k.name))
    assert inner.writes == (1,) and inner.arguments[0] == inner.arguments[1]
    assert all(not k.writes for k in manifest.kernels if "outer_inverse" in k.name)


@pytest.mark.parametrize("program", ["sharded_manifest", "reusing_manifest"])
@pytest.mark.parametrize("mapped", [False, True], ids=["exchanged", "mapped"])
@pytest.mark.parametrize("compute_streams", [1, 2])
def test_step_plan_orders_every_shared_buffer(program, compute_streams, mapped, request):
    # run's plan: every kernel once, in order; the exchanges on their own
    # stream, the kernels taking turns on `compute_streams`; and every step
    # ordered after each earlier step that used one of its buffers, on its
    # stream or through its waits (transitively). Mapped (MappedExchange),
    # a producer stores into the receive buffer, not the send buffer: it is
    # ordered after that buffer's release (or, the buffer's first use in
    # the call, its "freed", the wait for the peers' "free" of the previous
    # call, which comes after the buffer's last use), and its exchange's
    # arrival after it.
    from fftconv import distributed

    manifest = request.getfixturevalue(program)
    producers = distributed.mapped_producers(manifest) if mapped else None
    steps = distributed.step_plan(manifest, compute_streams, producers)
    kernels = [k for kind, payload, _, _ in steps if kind == "kernels" for k in payload]
    assert kernels == list(range(len(manifest.kernels)))
    slots = [slot for kind, _, slot, _ in steps if kind == "kernels"]
    assert slots == [i % compute_streams for i in range(len(slots))]
    assert all(slot == compute_streams for kind, _, slot, _ in steps if kind in ("exchange", "arrive"))
    assert all(slot == compute_streams + 1 for kind, _, slot, _ in steps if kind in ("release", "freed", "free"))
    kinds = {kind for kind, _, _, _ in steps}
    # Four chunks through four sets: no receive buffer is used twice, and
    # every producer's buffer is freed in the call before; through three
    # sets, a buffer's later exchanges are released by barriers.
    reused = program == "reusing_manifest"
    assert kinds == ({"kernels", "freed", "free", "arrive"} | ({"release"} if reused else set())
                     if mapped else {"kernels", "exchange"})
    receiver = {k: manifest.exchanges[e].recv for e, launches in (producers or {}).items() for k, _ in launches}
    through_view = {(k, p) for launches in (producers or {}).values() for k, p in launches}

    def used(kind, payload):
        if kind == "exchange":
            return {payload.send, payload.recv}
        if kind in ("arrive", "release", "freed", "free"):
            return {manifest.exchanges[payload].recv}
        return {a for k in payload for p, a in enumerate(manifest.kernels[k].arguments)
                if (k, p) not in through_view} | ({receiver.get(k) for k in payload} - {None})

    if mapped:  # a release or freed, on a stream of its own, right before each producer's own step
        for index, (kind, payload, _, _) in enumerate(steps):
            if kind == "kernels" and payload[0] in receiver:
                assert payload == [payload[0]]
                assert steps[index - 1][0] in ("release", "freed")
        # A freed buffer is first used by its producer; its free is the
        # plan's last use of it, once an exchange.
        frees = [payload for kind, payload, _, _ in steps if kind == "free"]
        assert sorted(frees) == sorted(payload for kind, payload, _, _ in steps if kind == "freed")
        for index, (kind, payload, _, _) in enumerate(steps):
            buffer = manifest.exchanges[payload].recv if kind in ("freed", "free") else None
            if kind == "freed":
                assert not any(buffer in used(*steps[i][:2]) for i in range(index))
            if kind == "release":
                assert any(manifest.exchanges[payload].recv in used(*steps[i][:2]) for i in range(index))
            if kind == "free":
                assert not any(buffer in used(*steps[i][:2]) for i in range(index + 1, len(steps)))

    after, last_on = [], {}
    for index, (kind, payload, slot, waits) in enumerate(steps):
        assert all(w < index and steps[w][2] != slot for w in waits)
        earlier = set(waits) | ({last_on[slot]} if slot in last_on else set())
        after.append(set().union(earlier, *(after[e] for e in earlier)))
        last_on[slot] = index
        for other in range(index):
            if used(kind, payload) & used(*steps[other][:2]):
                assert other in after[index], f"step {index} is not ordered after step {other}"
    assert any(waits for _, _, _, waits in steps)


def test_module_checks_its_arguments():
    # In a process group of one (gloo): seqlen read as FlashFFTConv reads it,
    # k the rank's part of the sequence's taps, u of the module's dtype;
    # each refused with a message before anything is compiled.
    from fftconv import distributed

    dist.init_process_group("gloo", init_method=f"tcp://127.0.0.1:{_free_port()}", rank=0, world_size=1)
    try:
        conv = distributed.FFTConv(seqlen=4096, dtype=torch.float16)
        assert (conv.ranks, conv.rank) == (1, 0)
        assert conv._key(2, 4, 2048, True, False, "cpu")[3] is True  # causal: 4096 >= 2L - 1
        assert conv._key(2, 4, 4096, False, False, "cpu")[3] is False  # circular: seqlen == L
        with pytest.raises(ValueError, match="seqlen 4096 is neither >= 2L - 1 .causal. nor L .circular., L = 3000"):
            conv._key(2, 4, 3000, False, False, "cpu")
        u = torch.zeros(2, 4, 2048, dtype=torch.float16)
        with pytest.raises(ValueError, match="k must be this rank's part of 2048 taps"):
            conv(u, torch.zeros(4, 1000))
        with pytest.raises(ValueError, match="u is torch.float32, the module was made for torch.float16"):
            conv(u.float(), torch.zeros(4, 2048))
        with pytest.raises(ValueError, match="transport must be one of auto, nccl, copy-engine, mapped, got 'shm'"):
            distributed.FFTConv(seqlen=4096, transport="shm")
        # The default, "auto", decides at its first bind, collectively: a
        # gloo group cannot map (no CUDA tensors), so its exchanges go over
        # the group's all-to-all and no program is mapped.
        from fftconv.peer_memory import can_map_peers

        assert can_map_peers() is False
        exchange = conv._exchange
        assert isinstance(exchange, distributed.AutoExchange) and exchange.maps is None
        exchange.bind(object())
        assert exchange.maps is False and exchange.mapping(object()) is None
        send, recv = torch.arange(6.0), torch.zeros(6)
        exchange(send, recv)
        assert torch.equal(recv, send)
        # A copy-engine exchange of buffers it has not mapped goes over the
        # group's own all-to-all (here gloo's): chunk j to rank j.
        exchange = distributed.FFTConv(seqlen=4096, transport="copy-engine")._exchange
        assert isinstance(exchange, distributed.CopyEngineExchange)
        assert distributed.CopyEngineExchange.mapped(object()) == {}  # nothing bound yet
        send, recv = torch.arange(6.0), torch.zeros(6)
        exchange(send, recv)
        assert torch.equal(recv, send)
    finally:
        dist.destroy_process_group()


def _complex(buffer):
    """A workspace (complex values interleaved in its last dimension) as complex128."""
    return buffer[..., 0::2].astype(np.float64) + 1j * buffer[..., 1::2]


def _store(buffer, values):
    buffer[..., 0::2] = values.real
    buffer[..., 1::2] = values.imag


class StandIns:
    """What each kernel of a sharded program computes, in float64 numpy, on
    the rank's buffers (numpy views of the torch tensors the exchanges
    use)."""

    def __init__(self, manifest, buffers, config):
        self.manifest, self.buffers, self.config = manifest, buffers, config
        shard = manifest.shard
        self.rank, self.ranks, self.n2 = shard.rank, shard.ranks, shard.row_length
        self.n = manifest.convolutions[0].fft_size
        self.n1 = self.n // self.n2
        self.rows = self.n1 // self.ranks  # an inner pass's rows
        self.columns = self.n2 // self.ranks  # an outer pass's columns
        self.by_name = {a.name: a.index for a in manifest.arguments}

    def arg(self, name):
        return self.buffers[self.by_name[name]]

    def workspace_of(self, kernel):
        roles = [a for a in kernel.arguments if self.manifest.arguments[a].role == "workspace"]
        return self.buffers[roles[-1]]

    def chunk_of(self, name, workspace):
        """Chunk c of a kernel's name: its pairs' chunk c / C and its
        channels' chunk c mod C, C the chunks of the channels (a workspace
        holds one); (first pair, first channel, channels)."""
        chunk = int(name.rsplit("_", 1)[1]) if name[-1].isdigit() else 0
        held = workspace.shape[2]
        chunks = self.arg("k").shape[0] // held
        return chunk // chunks * workspace.shape[1], chunk % chunks * held, held

    def run(self, kernel):
        name = kernel.name.split("_conv0_")[1]
        workspace = self.workspace_of(kernel)
        if name == "spectrum_outer":
            k = _squashed(self.arg("k")[:, None, :].astype(np.float64), self.config)  # one "pair": k
            self.outer_forward(k.astype(np.complex128), workspace)
        elif name.startswith("outer_forward"):
            first_pair, first, held = self.chunk_of(name, workspace)
            pairs = self.pairs(first_pair, workspace.shape[1])[first : first + held]
            self.outer_forward(pairs, workspace)
        elif name == "spectrum_inner":
            self.inner(kernel, spectrum=True)
        elif name.startswith("inner"):
            # inner, or inner_c<j> of channel chunk j
            chunk = int(name.split("_c")[1]) if "_c" in name else 0
            self.inner(kernel, spectrum=False, first_channel=chunk * self.buffers[kernel.arguments[0]].shape[2])
        elif name.startswith("outer_inverse"):
            first_pair, first, held = self.chunk_of(name, workspace)
            self.outer_inverse(workspace, first_pair, first)
        else:
            raise AssertionError(f"no stand-in for kernel {kernel.name}")

    def pairs(self, first_pair, count):
        """v[2p] + i v[2p+1] of `count` pairs from `first_pair`, [H, pairs, L / R]."""
        v = self.arg("u").astype(np.float64)
        if self.config["gated"]:
            v = v * self.arg("pregate")
        return self.pairs_of(v, first_pair, count)

    def pairs_of(self, v, first_pair, count):
        out = np.zeros((v.shape[1], count, v.shape[2]), np.complex128)
        for slot in range(count):
            first = 2 * (first_pair + slot)
            if first < v.shape[0]:
                out[:, slot] = v[first]
            if first + 1 < v.shape[0]:
                out[:, slot] += 1j * v[first + 1]
        return out

    def outer_forward(self, z, workspace):
        # z [H, pairs, rows in x columns]: the DFT down the N1 rows of the
        # rank's columns, the twiddle at the global column, row k1 to the
        # chunk of the rank that owns it.
        channels, count, local = z.shape
        grid = np.zeros((channels, count, self.n1, self.columns), np.complex128)
        grid[:, :, : local // self.columns] = z.reshape(channels, count, -1, self.columns)
        spectrum = np.fft.fft(grid, axis=2)
        k1 = np.arange(self.n1)[:, None]
        n2 = self.rank * self.columns + np.arange(self.columns)[None, :]
        spectrum *= np.exp(-2j * np.pi * k1 * n2 / self.n)
        values = _complex(workspace)
        for row in range(self.n1):
            owner, at = divmod(row, self.rows)
            values[owner, :count, :, at * self.columns : (at + 1) * self.columns] = np.moveaxis(
                spectrum[:, :, row], 0, 1
            )
        _store(workspace, values)

    def row_view(self, values):
        """[chunks, pairs, H, rows x columns] -> [pairs, H, rows, N2]."""
        chunks, count, channels, _ = values.shape
        rows = values.reshape(chunks, count, channels, self.rows, self.columns)
        return np.moveaxis(rows, 0, 3).reshape(count, channels, self.rows, self.n2)

    def from_row_view(self, rows):
        count, channels = rows.shape[:2]
        chunks = rows.reshape(count, channels, self.rows, self.ranks, self.columns)
        return np.moveaxis(chunks, 3, 0).reshape(self.ranks, count, channels, self.rows * self.columns)

    def inner(self, kernel, spectrum, first_channel=0):
        buffers = [self.buffers[a] for a in kernel.arguments]
        rows = self.row_view(_complex(buffers[0]))
        if spectrum:
            spectrum = np.fft.fft(rows, axis=3)
            band = self.config.get("band")
            if band is not None:
                # Row k1 (the rank's first row on), position k2: frequency
                # k1 + N1 k2; zero outside the band (and its mirror).
                k1 = self.rank * self.rows + np.arange(self.rows)[:, None]
                f = k1 + self.n1 * np.arange(self.n2)[None, :]
                spectrum = spectrum * ((f < band) | (self.n - f < band))
            _store(buffers[0], self.from_row_view(spectrum))
            return
        # (rows, rows out, K): the rows stored to the operand it only writes.
        held = rows.shape[1]
        k = self.row_view(_complex(buffers[-1]))[:, first_channel : first_channel + held]
        (written,) = kernel.writes
        _store(buffers[written], self.from_row_view(np.fft.ifft(np.fft.fft(rows, axis=3) * k, axis=3)))

    def outer_inverse(self, workspace, first_pair, first_channel):
        z = self.columns_inverse(workspace)
        count, channels_held = z.shape[:2]
        y = self.arg("result0")
        z = z[:, :, : y.shape[2]]
        post = self.arg("postgate") if self.config["gated"] else None
        channels = slice(first_channel, first_channel + channels_held)
        for slot in range(count):
            for part, index in ((z[slot].real, 2 * (first_pair + slot)), (z[slot].imag, 2 * (first_pair + slot) + 1)):
                if index < y.shape[0]:
                    y[index, channels] = part * (post[index, channels] if post is not None else 1.0)

    def columns_inverse(self, workspace):
        """[slots, H, rank's columns of every row]: the conjugate twiddle and
        the inverse DFT down the N1 rows of a workspace's chunks."""
        values = _complex(workspace)
        count = values.shape[1]
        grid = np.zeros((count, values.shape[2], self.n1, self.columns), np.complex128)
        for row in range(self.n1):
            owner, at = divmod(row, self.rows)
            grid[:, :, row] = values[owner, :, :, at * self.columns : (at + 1) * self.columns]
        k1 = np.arange(self.n1)[:, None]
        n2 = self.rank * self.columns + np.arange(self.columns)[None, :]
        z = np.fft.ifft(grid * np.exp(2j * np.pi * k1 * n2 / self.n), axis=2)
        return z.reshape(count, values.shape[2], -1)


class BackwardStandIns(StandIns):
    """The backward program's kernels (docs/architecture.md, "Training"):
    K, the outer passes of v's and g's pairs, the cross spectrum summed over
    the pairs (and the correlation's and the postgate's convolution's
    products), the sums' inverse, and the outer inverse passes writing du,
    dpregate, dpostgate and dk. Inputs u, k, [pregate, postgate], dy."""

    def __init__(self, manifest, buffers, config):
        super().__init__(manifest, buffers, config)
        names = ["u", "k"] + (["pregate", "postgate"] if config["gated"] else [])
        names += (["d"] if config.get("skip") else []) + ["dy"]
        self.by_name.update({name: i for i, name in enumerate(names)})

    def sequences(self, side):
        if side == "v":
            u = self.arg("u").astype(np.float64)
            return u * self.arg("pregate") if self.config["gated"] else u
        dy = self.arg("dy").astype(np.float64)
        return dy * self.arg("postgate") if self.config["gated"] else dy

    def run(self, kernel):
        name = kernel.name[len(self.manifest.entry) + 1 :]
        args = [self.buffers[a] for a in kernel.arguments]
        if name in ("conv0_spectrum_outer", "conv0_spectrum_inner"):
            return StandIns.run(self, kernel)
        if name.startswith("kernel_gradient0_outer_forward_"):
            side, chunk = name.rsplit("_", 2)[1:]
            workspace = self.workspace_of(kernel)
            count = workspace.shape[1]
            self.outer_forward(self.pairs_of(self.sequences(side), int(chunk) * count, count), workspace)
        elif name.startswith("kernel_gradient0_cross_spectrum"):
            z, w = self.row_view(_complex(args[0])), self.row_view(_complex(args[1]))
            z, w = np.fft.fft(z, axis=3), np.fft.fft(w, axis=3)
            total = (np.conj(z) * w).sum(axis=0)
            sums = self.row_view(_complex(args[2]))
            if name.endswith("_add"):
                sums[0] += total
            else:
                sums[:] = 0
                sums[0] = total
            _store(args[2], self.from_row_view(sums))
            if len(args) > 3:
                k = self.row_view(_complex(args[3]))
                _store(args[1], self.from_row_view(np.fft.ifft(w * np.conj(k), axis=3)))
                _store(args[0], self.from_row_view(np.fft.ifft(z * k, axis=3)))
        elif name == "kernel_gradient0_inner_inverse":
            sums = self.row_view(_complex(args[0]))
            total = sums.sum(axis=0)
            sums[:] = 0
            sums[0] = np.fft.ifft(total, axis=2)
            _store(args[0], self.from_row_view(sums))
        elif name == "kernel_gradient0_outer_inverse":
            lags = args[1]
            z = self.columns_inverse(args[0])[0]  # group 0: [H, N1 * C]
            lags[:] = z.real[:, : lags.shape[1]]
        elif name == "kernel_gradient0_lags":
            args[1][:] = args[0]  # dk: the lags
            if self.config.get("squash") is not None:  # Squash's subgradient, at k's own taps
                args[1][:] *= np.abs(args[2]) > self.config["squash"]
        elif name == "kernel_gradient0_skip_send":
            args[1][:] = args[0][:, 0]  # this rank's first lag, to every rank
        elif name == "kernel_gradient0_skip_gradient":
            for out in args[1:]:
                out[:] = args[0][0]  # rank 0's: lag 0
        elif "_outer_inverse_" in name:
            chunk = int(name.rsplit("_", 1)[1])
            workspace = self.workspace_of(kernel)
            count = workspace.shape[1]
            z = self.columns_inverse(workspace)
            outputs = [a for a in kernel.arguments if self.manifest.arguments[a].role == "output"]
            u = self.arg("u").astype(np.float64)
            dy = self.arg("dy").astype(np.float64)
            gated = self.config["gated"]
            for slot in range(count):
                for part, index in ((z[slot].real, 2 * (chunk * count + slot)), (z[slot].imag, 2 * (chunk * count + slot) + 1)):
                    if index >= u.shape[0]:
                        continue
                    part = part[:, : u.shape[2]]
                    for out in outputs:
                        which = self.manifest.arguments[out].name
                        if which == "result0":  # du = pregate * dv
                            value = part * self.arg("pregate")[index] if gated else part
                            if self.config.get("skip"):  # + D dy (not gated)
                                value = value + self.arg("d")[:, None] * dy[index]
                        elif which == "result2":  # dpregate = u * dv
                            value = part * u[index]
                        elif which == "result3":  # dpostgate = dy * z
                            value = part * dy[index]
                        else:
                            raise AssertionError(f"{kernel.name} writes {which}")
                        self.buffers[out][index] = value
        else:
            raise AssertionError(f"no stand-in for kernel {kernel.name}")


def _graph(config, causal):
    """The graph every rank compiles: fftconv.distributed's, or with k
    squashed (config "squash": lambda) or a skip term (config "skip"), whose
    inputs come in the order u, k, pregate, postgate, d; or frequency-sparse
    (config "band": circular, FFT form)."""
    from fftconv import distributed
    from fftconv.graph import Graph

    b, h, length, gated = config["B"], config["H"], config["L"], config["gated"]
    squash, skip, band = config.get("squash"), config.get("skip", False), config.get("band")
    if band is not None:
        g = Graph("fftconv_sharded")
        u, k = g.input("u", (b, h, length), "f32"), g.input("k", (h, length), "f32")
        g.output(g.irfft(g.channel_mul(g.rfft(u, length), g.rfft(k, length), band=band), length))
        return g
    if squash is None and not skip:
        return distributed.sharded_graph(b, h, length, length, causal, "f32", gated, gated)
    g = Graph("fftconv_sharded")
    u, k = g.input("u", (b, h, length), "f32"), g.input("k", (h, length), "f32")
    pre = g.input("pregate", (b, h, length), "f32") if gated else None
    post = g.input("postgate", (b, h, length), "f32") if gated else None
    d = g.input("d", (h,), "f32") if skip else None
    if squash is not None:
        k = g.squash(k, squash)
    g.output(g.conv(u, k, causal=causal, pregate=pre, postgate=post, skip=d))
    return g


def _squashed(k, config):
    """k through Squash where the configuration has it: sign(k) max(|k| - lambda, 0)."""
    squash = config.get("squash")
    return k if squash is None else np.sign(k) * np.maximum(np.abs(k) - squash, 0)


def _random_inputs(rng, b, h, length, gated):
    """u, k (scaled by its length) and, gated, both gates, float64; the same
    on every rank for the same generator."""
    full = {"u": rng.standard_normal((b, h, length)), "k": rng.standard_normal((h, length)) / np.sqrt(length)}
    if gated:
        full["pregate"] = rng.standard_normal((b, h, length))
        full["postgate"] = rng.standard_normal((b, h, length))
    return full


def _gathered(local, layout, ranks):
    """Every rank's shard of a buffer, gathered and unsharded, float64."""
    from fftconv import distributed

    parts = [torch.empty_like(local) for _ in range(ranks)]
    dist.all_gather(parts, local)
    return distributed.unshard(parts, layout).double().numpy()


def _backward_main(rank, ranks, port, config, failures):
    os.environ["MASTER_ADDR"], os.environ["MASTER_PORT"] = "127.0.0.1", str(port)
    dist.init_process_group("gloo", rank=rank, world_size=ranks)
    try:
        from fftconv import distributed, runtime

        b, h, length, gated = config["B"], config["H"], config["L"], config["gated"]
        skip = config.get("skip", False)
        graph = _graph(config, causal=True)
        manifest = runtime.parse_manifest(distributed.compile_rank(graph, rank, ranks, training=True).backward.manifest)
        layout = distributed.Layout(ranks, manifest.shard.row_length, length)
        rng = np.random.default_rng(12)
        full = _random_inputs(rng, b, h, length, gated)
        full["d"] = rng.standard_normal(h)
        full["dy"] = rng.standard_normal((b, h, length))
        names = ["u", "k"] + (["pregate", "postgate"] if gated else []) + (["d"] if skip else []) + ["dy"]
        tensors = {}
        for argument in manifest.arguments:
            if argument.role == "input":
                name = names[argument.index]
                value = torch.from_numpy(full[name]).float()
                # D is every rank's whole; the sequences are sharded.
                tensors[argument.index] = value if name == "d" else distributed.shard(value, layout, rank)
            else:
                tensors[argument.index] = torch.full(tuple(argument.shape), float("nan"))
        stand_ins = BackwardStandIns(manifest, {i: t.numpy() for i, t in tensors.items()}, config)
        _run_schedule(manifest, tensors, stand_ins)

        n = 2 * length
        u, k, dy = full["u"], full["k"], full["dy"]
        v = u * full["pregate"] if gated else u
        g = dy * full["postgate"] if gated else dy
        K, V, G = np.fft.rfft(_squashed(k, config), n), np.fft.rfft(v, n), np.fft.rfft(g, n)
        dv = np.fft.irfft(np.conj(K) * G, n)[..., :length]
        if skip:
            dv = dv + full["d"][:, None] * g
        expected = {"result0": dv * full["pregate"] if gated else dv,
                    "result1": np.fft.irfft((np.conj(V) * G).sum(axis=0), n)[..., :length]}
        if config.get("squash") is not None:  # Squash's subgradient
            expected["result1"] = expected["result1"] * (np.abs(k) > config["squash"])
        if gated:
            expected["result2"] = dv * u
            expected["result3"] = dy * np.fft.irfft(K * V, n)[..., :length]
        if skip:
            expected["result2"] = (v * g).sum(axis=(0, 2))  # dD: lag 0, whole on every rank
        for argument in manifest.outputs:
            local = tensors[argument.index]
            got = local.double().numpy() if local.dim() == 1 else _gathered(local, layout, ranks)
            want = expected[argument.name]
            error = np.linalg.norm(got - want) / np.linalg.norm(want)
            assert error < 1e-5, f"rank {rank}: {argument.name} relative error {error:.2e}"
    except BaseException as error:  # reported by the parent
        failures.put(f"rank {rank}: {type(error).__name__}: {error}")
        raise
    finally:
        dist.destroy_process_group()


def _rank_main(rank, ranks, port, config, failures):
    os.environ["MASTER_ADDR"], os.environ["MASTER_PORT"] = "127.0.0.1", str(port)
    dist.init_process_group("gloo", rank=rank, world_size=ranks)
    try:
        from fftconv import distributed, runtime

        b, h, length, causal = config["B"], config["H"], config["L"], config["causal"]
        graph = _graph(config, causal)
        compiled = distributed.compile_rank(graph, rank, ranks)
        manifest = runtime.parse_manifest(compiled.manifest)
        assert manifest.shard.rank == rank and manifest.shard.ranks == ranks
        layout = distributed.Layout(ranks, manifest.shard.row_length, length)

        rng = np.random.default_rng(11)  # the same inputs on every rank
        full = _random_inputs(rng, b, h, length, config["gated"])
        tensors = {}
        for argument in manifest.arguments:
            shape = tuple(argument.shape)
            if argument.name in full:
                tensors[argument.index] = distributed.shard(torch.from_numpy(full[argument.name]).float(), layout, rank)
            else:
                tensors[argument.index] = torch.full(shape, float("nan"))
            assert tuple(tensors[argument.index].shape) == shape, (argument.name, shape)
        buffers = {index: t.numpy() for index, t in tensors.items()}
        stand_ins = StandIns(manifest, buffers, config)
        _run_schedule(manifest, tensors, stand_ins)

        y = _gathered(tensors[stand_ins.by_name["result0"]], layout, ranks)
        v = full["u"] * full["pregate"] if config["gated"] else full["u"]
        n = 2 * length if causal else length
        kf = np.fft.rfft(_squashed(full["k"], config), n)
        if config.get("band") is not None:
            kf[..., config["band"]:] = 0
        ref = np.fft.irfft(np.fft.rfft(v, n) * kf, n)[..., :length]
        if config["gated"]:
            ref = ref * full["postgate"]
        error = np.linalg.norm(y - ref) / np.linalg.norm(ref)
        assert error < 1e-5, f"rank {rank}: relative error {error:.2e}"
    except BaseException as error:  # reported by the parent
        failures.put(f"rank {rank}: {type(error).__name__}: {error}")
        raise
    finally:
        dist.destroy_process_group()


def _spawn(main, ranks, config):
    """main(rank, ranks, port, config, failures) in `ranks` processes; a
    failure names each rank's error."""
    import torch.multiprocessing as mp

    context = mp.get_context("spawn")
    failures = context.SimpleQueue()
    try:
        mp.spawn(main, args=(ranks, _free_port(), config, failures), nprocs=ranks)
    except Exception:
        messages = []
        while not failures.empty():
            messages.append(failures.get())
        pytest.fail("; ".join(messages) or "a rank failed")


def _run_schedule(manifest, tensors, stand_ins):
    """The manifest's schedule: its kernels by their stand-ins, its
    exchanges as gloo all-to-alls of the tensors."""
    from fftconv import distributed

    exchange = distributed.all_to_all()
    for kind, step in distributed.schedule(manifest):
        if kind == "exchange":
            exchange(tensors[step.send], tensors[step.recv])
        else:
            for k in step:
                stand_ins.run(manifest.kernels[k])


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# The library's sharded_graph at two ranks; four through the squash and band
# cases.
CASES = [
    (2, dict(B=3, H=2, L=8192, causal=True, gated=False)),
    (2, dict(B=5, H=1, L=16384, causal=False, gated=True)),
    (4, dict(B=3, H=2, L=8192, causal=True, gated=False, squash=0.005)),
    (4, dict(B=3, H=2, L=32768, causal=False, gated=False, band=4096)),
]


@pytest.mark.parametrize("ranks,config", CASES, ids=[f"{r}ranks-{'causal' if c['causal'] else 'circular'}"
                                                     f"{'-gated' if c['gated'] else ''}"
                                                     f"{'-squash' if 'squash' in c else ''}"
                                                     f"{'-band' if 'band' in c else ''}" for r, c in CASES])
def test_sharded_schedule_over_gloo(ranks, config):
    _spawn(_rank_main, ranks, config)


# One four-rank case (one channel, with a skip term); the others at two.
BACKWARD_CASES = [(2, dict(B=3, H=2, L=8192, gated=True)),
                  (4, dict(B=3, H=1, L=8192, gated=False, skip=True)),
                  (2, dict(B=3, H=2, L=8192, gated=False, squash=0.005))]


@pytest.mark.parametrize("ranks,config", BACKWARD_CASES,
                         ids=[f"{r}ranks-{'gated' if c['gated'] else 'skip' if c.get('skip') else 'squash' if 'squash' in c else 'plain'}"
                              for r, c in BACKWARD_CASES])
def test_sharded_backward_schedule_over_gloo(ranks, config):
    """The sharded backward (du, dk, dpregate, dpostgate, dD): its schedule,
    exchanges over gloo, numpy stand-ins of its kernels, against float64."""
    _spawn(_backward_main, ranks, config)


def _in_place_main(rank, ranks, port, config, failures):
    os.environ["MASTER_ADDR"], os.environ["MASTER_PORT"] = "127.0.0.1", str(port)
    dist.init_process_group("gloo", rank=rank, world_size=ranks)
    try:
        from fftconv import distributed

        shape = (ranks, 5, 7)
        buffer = torch.arange(np.prod(shape), dtype=torch.float32).reshape(shape) + 1000 * rank
        expected = torch.empty_like(buffer)
        dist.all_to_all_single(expected, buffer.clone())
        # Pieces of a few values a chunk (6 at 2 ranks, 4 at 3), the last
        # shorter.
        distributed.exchange_in_place(buffer, piece_bytes=3 * ranks * 4)
        assert torch.equal(buffer, expected), f"rank {rank}: in pieces"
        # One piece (the default), through the exchange a schedule runs.
        again = buffer.clone()
        dist.all_to_all_single(expected, again.clone())
        distributed.all_to_all()(again, again)
        assert torch.equal(again, expected), f"rank {rank}: in one piece"
        # Within a group of the last two ranks (their group ranks are not
        # their global ones).
        pair = dist.new_group([ranks - 2, ranks - 1])
        if rank >= ranks - 2:
            mine = torch.arange(8.0).reshape(2, 4) + 100 * rank
            theirs = torch.arange(8.0).reshape(2, 4) + 100 * (2 * ranks - 3 - rank)
            distributed.exchange_in_place(mine, group=pair, piece_bytes=4)
            me = rank - (ranks - 2)
            want = torch.empty_like(mine)
            want[me] = torch.arange(8.0).reshape(2, 4)[me] + 100 * rank
            want[1 - me] = theirs[me]
            assert torch.equal(mine, want), f"rank {rank}: in a group"
    except BaseException as error:  # reported by the parent
        failures.put(f"rank {rank}: {type(error).__name__}: {error}")
        raise
    finally:
        dist.destroy_process_group()


@pytest.mark.parametrize("ranks", [2, 3])
def test_exchange_in_place_is_the_all_to_all(ranks):
    """An exchange in place (K's) moves the chunks as all_to_all_single
    does between two buffers, in pieces of any size."""
    _spawn(_in_place_main, ranks, {})


class _Event:
    """A recorded timing event at a known time (ms), as
    torch.cuda.Event.elapsed_time reads it."""

    def __init__(self, ms):
        self.ms = ms

    def elapsed_time(self, other):
        return other.ms - self.ms


def test_timeline_counts_the_time_no_kernel_ran():
    from fftconv import distributed

    # Kernels on two streams overlapping (0-2 and 1-3), an exchange 3-5,
    # then a kernel 5-6: kernels cover 0-3 and 5-6, so 2 of the 6 ms ran
    # none (the overlap counted once).
    origin = _Event(0.0)
    trace = [("start", "", "", origin, origin),
             ("kernels", "outer_forward_0", 0, _Event(0.0), _Event(2.0)),
             ("kernels", "spectrum_outer", 1, _Event(1.0), _Event(3.0)),
             ("exchange", "workspace4", "exchange", _Event(3.0), _Event(5.0)),
             ("kernels", "inner", 0, _Event(5.0), _Event(6.0))]
    rows, idle = distributed.timeline(trace)
    assert [r["name"] for r in rows] == ["outer_forward_0", "spectrum_outer", "workspace4", "inner"]
    assert rows[2] == dict(kind="exchange", name="workspace4", stream="exchange", begin_ms=3.0, end_ms=5.0)
    assert idle == 2.0
