"""Device memory the ranks of a process group map into each other's address
space, through CUDA's virtual memory management (the driver's cuMem* calls,
by cuda-python): what fftconv.distributed's "mapped" transport is made of.

- `PeerMemory.allocate` (collective) makes the allocations of a buffer of
  each requested size, exports it as a file descriptor, passes the descriptors
  to the peers over Unix sockets and imports theirs: every rank then holds a
  handle to every rank's allocation.
- `PeerMemory.scattered_view` reserves an address range that reads as one
  buffer of R chunks, chunk j mapped onto rank j's allocation of this
  rank's chunk (a buffer is one allocation a chunk: the driver maps only
  whole allocations):
  a kernel that stores chunk j of its send buffer there stores it straight
  into rank j's receive buffer, over NVLink. It holds no memory of its own.
- `PeerMemory.barrier` (stream-ordered): every rank writes a counter into
  each peer's flags and waits until every peer's counter reached it
  (cuStreamWriteValue32 / cuStreamWaitValue32), the writes before it
  visible to the work after it on every rank.

Linux only (file descriptors passed with SCM_RIGHTS), GPUs with peer access
to each other. Every call that says collective must be made by every rank of
the group in the same order.
"""

import math
import os
import socket
import struct
import uuid

import torch


def _driver():
    try:
        from cuda.bindings import driver
    except ImportError:  # cuda-python before 12.6
        from cuda import cuda as driver
    return driver


def _call(driver, name, *args):
    """driver.<name>(*args), raising on an error; the result (or results)
    after the error code."""
    error, *results = getattr(driver, name)(*args)
    if error != driver.CUresult.CUDA_SUCCESS:
        raise RuntimeError(f"fftconv.peer_memory: {name} failed: {error!r}")
    if not results:
        return None
    return results[0] if len(results) == 1 else tuple(results)


def _local_facts():
    """This rank's part of `can_map_peers`: (host, its device's UUID,
    whether the driver maps memory as PeerMemory does), or None where it
    cannot (no CUDA device, no cuda-python)."""
    if not torch.cuda.is_available():
        return None
    try:
        driver = _driver()
    except ImportError:
        return None
    attributes = driver.CUdevice_attribute
    device = torch.cuda.current_device()
    supported = all(
        _call(driver, "cuDeviceGetAttribute", attribute, device) == 1
        for attribute in (attributes.CU_DEVICE_ATTRIBUTE_VIRTUAL_MEMORY_MANAGEMENT_SUPPORTED,
                          attributes.CU_DEVICE_ATTRIBUTE_HANDLE_TYPE_POSIX_FILE_DESCRIPTOR_SUPPORTED))
    return socket.gethostname(), str(torch.cuda.get_device_properties(device).uuid), supported


def can_map_peers(group=None):
    """Collective: whether the ranks of `group` can map each other's memory
    as PeerMemory does: an NCCL group (CUDA tensors), one host (its Unix
    sockets), every device's driver with virtual memory management and
    file-descriptor handles, and peer access from every rank's device to
    every other's. Every rank gathers every rank's facts, so all reach the
    same answer."""
    import torch.distributed as dist

    ranks = dist.get_world_size(group)
    facts = _local_facts() if dist.get_backend(group) == "nccl" else None
    everyone = [None] * ranks
    dist.all_gather_object(everyone, facts, group=group)
    usable = all(f is not None and f[2] for f in everyone) and len({f[0] for f in everyone}) == 1
    reaches = False
    if usable:
        # A peer's device by its UUID among the devices this rank sees.
        local = {str(torch.cuda.get_device_properties(d).uuid): d for d in range(torch.cuda.device_count())}
        own = torch.cuda.current_device()
        peers = [local.get(f[1]) for f in everyone if f[1] != facts[1]]
        reaches = all(d is not None and torch.cuda.can_device_access_peer(own, d) for d in peers)
    answers = [None] * ranks
    dist.all_gather_object(answers, reaches, group=group)
    return all(answers)


class _DeviceBytes:
    """`nbytes` bytes of device memory at `pointer`, for torch.as_tensor
    (the CUDA array interface)."""

    def __init__(self, pointer, nbytes):
        self.__cuda_array_interface__ = {"shape": (nbytes,), "typestr": "|u1", "data": (pointer, False),
                                         "version": 3, "strides": None}


class Shared:
    """One buffer a rank, of `nbytes` each, made of `pieces` allocations of
    equal size (the driver maps an allocation only whole: cuMemMap's offset
    is zero): `handles[j][c]` rank j's piece c (this rank's own included),
    `pointer` where this rank maps its own pieces, one after the other."""

    def __init__(self, nbytes, handles, pointer):
        self.nbytes, self.handles, self.pointer = nbytes, handles, pointer

    @property
    def piece_bytes(self):
        return self.nbytes // len(self.handles[0])


class PeerMemory:
    """The mapped allocations of this rank in `group`, on `device` (the
    current CUDA device of each rank). They live as long as the process: a
    peer may still store into them while this rank's work is done."""

    def __init__(self, group, device):
        import torch.distributed as dist

        self.group = group
        self.device = torch.device(device)
        self.rank = dist.get_rank(group)
        self.ranks = dist.get_world_size(group)
        self._driver = driver = _driver()
        index = self.device.index if self.device.index is not None else torch.cuda.current_device()
        self._prop = prop = driver.CUmemAllocationProp()
        prop.type = driver.CUmemAllocationType.CU_MEM_ALLOCATION_TYPE_PINNED
        prop.location.type = driver.CUmemLocationType.CU_MEM_LOCATION_TYPE_DEVICE
        prop.location.id = index
        prop.requestedHandleTypes = driver.CUmemAllocationHandleType.CU_MEM_HANDLE_TYPE_POSIX_FILE_DESCRIPTOR
        self.granularity = int(_call(driver, "cuMemGetAllocationGranularity", prop,
                                     driver.CUmemAllocationGranularity_flags.CU_MEM_ALLOC_GRANULARITY_MINIMUM))
        self._access = access = driver.CUmemAccessDesc()
        access.location.type = driver.CUmemLocationType.CU_MEM_LOCATION_TYPE_DEVICE
        access.location.id = index
        access.flags = driver.CUmemAccess_flags.CU_MEM_ACCESS_FLAGS_PROT_READWRITE
        self._flags = None
        self.nbytes = 0  # device memory of this rank's own allocations
        torch.cuda.current_stream(self.device)  # the primary context current on this thread

    # -- allocation -----------------------------------------------------------

    def allocate(self, sizes, pieces=1):
        """Collective: one `Shared` buffer of each of `sizes` bytes, of
        `pieces` allocations (each a multiple of `granularity`), zeroed,
        mapped here and known to every peer."""
        driver = self._driver
        for nbytes in sizes:
            if nbytes <= 0 or nbytes % (pieces * self.granularity):
                raise ValueError(f"PeerMemory.allocate: {nbytes} bytes is not a positive multiple of {pieces} "
                                 f"pieces of the granularity ({self.granularity})")
        own, pointers = [], []
        for nbytes in sizes:
            own.append([_call(driver, "cuMemCreate", nbytes // pieces, self._prop, 0) for _ in range(pieces)])
            self.nbytes += nbytes
            pointers.append(self._map([(h, nbytes // pieces) for h in own[-1]]))
            _call(driver, "cuMemsetD8", pointers[-1], 0, nbytes)
        # Zeroed before any peer can reach them (a barrier's flags: a peer's
        # first count, written before the zeros, would be lost).
        _call(driver, "cuCtxSynchronize")
        fds = [int(_call(driver, "cuMemExportToShareableHandle", h,
                         driver.CUmemAllocationHandleType.CU_MEM_HANDLE_TYPE_POSIX_FILE_DESCRIPTOR, 0))
               for handles in own for h in handles]
        try:
            by_rank = self._exchange_descriptors(fds)
        finally:
            for fd in fds:
                os.close(fd)
        imported = {}
        for j, received in by_rank.items():
            imported[j] = []
            for fd in received:
                handle = _call(driver, "cuMemImportFromShareableHandle", fd,
                               driver.CUmemAllocationHandleType.CU_MEM_HANDLE_TYPE_POSIX_FILE_DESCRIPTOR)
                os.close(fd)
                imported[j].append(handle)
        shared = []
        for i, nbytes in enumerate(sizes):
            handles = [own[i] if j == self.rank else imported[j][i * pieces : (i + 1) * pieces]
                       for j in range(self.ranks)]
            shared.append(Shared(nbytes, handles, pointers[i]))
        return shared

    def tensor(self, shared, shape, dtype):
        """This rank's allocation of `shared` as a tensor of `shape` and
        `dtype` (its first bytes)."""
        raw = torch.as_tensor(_DeviceBytes(shared.pointer, shared.nbytes), device=self.device)
        return raw.view(dtype)[: math.prod(shape)].view(tuple(shape))

    def scattered_view(self, shared):
        """An address range of `shared`'s size, of `ranks` chunks (its
        pieces, one a rank), chunk j mapped onto rank j's piece at this
        rank: where chunk j stored lands in rank j's buffer, where an
        exchange would put it. Returns its address."""
        if len(shared.handles[0]) != self.ranks:
            raise ValueError(f"PeerMemory.scattered_view: the buffer has {len(shared.handles[0])} pieces, "
                             f"not one a rank ({self.ranks})")
        return self._map([(shared.handles[j][self.rank], shared.piece_bytes) for j in range(self.ranks)])

    def _map(self, pieces):
        """Reserves a range and maps `pieces` (whole allocations: handle,
        bytes) one after the other into it, readable and writable by this
        device."""
        driver = self._driver
        total = sum(nbytes for _, nbytes in pieces)
        pointer = _call(driver, "cuMemAddressReserve", total, self.granularity, 0, 0)
        at = int(pointer)
        for handle, nbytes in pieces:
            _call(driver, "cuMemMap", at, nbytes, 0, handle, 0)
            at += nbytes
        _call(driver, "cuMemSetAccess", pointer, total, [self._access], 1)
        return int(pointer)

    def _exchange_descriptors(self, fds):
        """Collective: this rank's file descriptors to every peer, theirs
        back (by rank), over abstract Unix sockets named by a token of rank
        0's."""
        import torch.distributed as dist

        token = [uuid.uuid4().hex if self.rank == 0 else None]
        dist.broadcast_object_list(token, src=dist.get_global_rank(self.group, 0) if self.group else 0,
                                   group=self.group)

        def address(rank):
            return f"\0fftconv-peer-memory-{token[0]}-{rank}"

        server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        server.bind(address(self.rank))
        server.listen(self.ranks)
        try:
            dist.barrier(group=self.group)  # every rank listens
            message = struct.pack("ii", self.rank, len(fds))
            for peer in range(self.ranks):
                if peer == self.rank:
                    continue
                with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as out:
                    out.connect(address(peer))
                    socket.send_fds(out, [message], fds)
            by_rank = {}
            for _ in range(self.ranks - 1):
                connection, _ = server.accept()
                with connection:
                    data, received, _, _ = socket.recv_fds(connection, len(message), max(1, len(fds)))
                peer, count = struct.unpack("ii", data)
                if count != len(received):
                    raise RuntimeError(f"PeerMemory: rank {peer} sent {len(received)} descriptors of {count}")
                by_rank[peer] = received
        finally:
            server.close()
        dist.barrier(group=self.group)
        return by_rank

    # -- barriers ---------------------------------------------------------------

    def barrier_slots(self, slots):
        """Collective: room for `slots` barriers (`barrier`'s slot 0 ..
        slots - 1)."""
        nbytes = -(-slots * self.ranks * 4 // self.granularity) * self.granularity
        flags = self.allocate([nbytes])[0]
        peers = [flags.pointer if j == self.rank else self._map([(flags.handles[j][0], nbytes)])
                 for j in range(self.ranks)]
        self._flags = (slots, flags.pointer, peers)

    def barrier(self, slot, count, stream):
        """On `stream`: this rank's `count` into slot `slot` of every peer,
        then a wait until every peer's is at least `count` here. Everything
        `stream` ordered before it on any rank (stores into peers included)
        is visible to what it orders after it. `count` grows by one a use of
        the slot (compared modulo 2^32)."""
        self.signal(slot, count, stream)
        self.wait(slot, count, stream)

    def signal(self, slot, count, stream):
        """On `stream`: this rank's `count` into slot `slot` of every peer,
        once everything `stream` ordered before it is visible to the peers
        (cuStreamWriteValue32's default fence)."""
        driver = self._driver
        handle = driver.CUstream(stream)
        for peer in range(self.ranks):
            if peer != self.rank:
                _call(driver, "cuStreamWriteValue32", handle, self._flag(slot, self.rank, holder=peer),
                      count & 0xFFFFFFFF, driver.CUstreamWriteValue_flags.CU_STREAM_WRITE_VALUE_DEFAULT)

    def wait(self, slot, count, stream):
        """On `stream`: a wait until every peer's `signal` of slot `slot`
        here is at least `count` (modulo 2^32)."""
        driver = self._driver
        handle = driver.CUstream(stream)
        for peer in range(self.ranks):
            if peer != self.rank:
                _call(driver, "cuStreamWaitValue32", handle, self._flag(slot, peer), count & 0xFFFFFFFF,
                      driver.CUstreamWaitValue_flags.CU_STREAM_WAIT_VALUE_GEQ)

    def _flag(self, slot, writer, holder=None):
        """The address of `writer`'s word of slot `slot` in the flags of
        rank `holder` (this rank's where None), as mapped here."""
        slots, own, mapped = self._flags
        if not 0 <= slot < slots:
            raise ValueError(f"PeerMemory: slot {slot} out of range ({slots} slots)")
        return (own if holder is None else mapped[holder]) + 4 * (slot * self.ranks + writer)
